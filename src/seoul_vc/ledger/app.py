"""Applications on the ledger: record types, a validator and a pure state transition.

Status registries, consent, voting and mileage are applications. Each one names the record
types it owns, validates an entry's body without state, and applies it to the current state
as a pure function: state in (read through :class:`StateReader`), writes out — or a
:class:`~seoul_vc.errors.StateConflictError` that refuses the entry. The ledger runs
``validate`` and ``apply`` inside the append transaction, so an invariant such as "no view
past the budget" holds under any number of concurrent writers, and ``rebuild`` replays the
same functions over the log to derive every state table again.

Example:
    >>> from seoul_vc.ledger.apps import default_apps
    >>> sorted(app.name for app in default_apps())
    ['authority', 'consent', 'mileage', 'status', 'voting']
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol, TypeAlias

from seoul_vc._json import JSONValue
from seoul_vc.ledger.entry import Entry

__all__ = ["Application", "StateReader", "StateWrites"]

#: Writes of one transition: state key -> new JSON value, or ``None`` to delete the key.
StateWrites: TypeAlias = "Mapping[str, JSONValue | None]"


class StateReader(Protocol):
    """Read access to derived state inside the current transaction."""

    def get(self, app: str, key: str) -> JSONValue | None:
        """Return the value of ``key`` in ``app``'s namespace, or ``None``."""
        ...


class Application(Protocol):
    """A ledger application.

    Attributes:
        name: the namespace of its state keys and the prefix of its record types.
        record_types: the ``type`` values it owns (``<name>.<verb>``).
        open_record_types: types any signer may submit (the application itself checks who
            signed, e.g. "a consent grant is signed by its holder"); every other type needs
            an authority grant for its signer.
    """

    name: str
    record_types: frozenset[str]
    open_record_types: frozenset[str]

    def validate(self, entry: Entry) -> None:
        """Check the body's shape, statelessly.

        Raises:
            MalformedInputError: ``malformed`` with the offending field in ``details``.
        """
        ...

    def apply(self, state: StateReader, entry: Entry, index: int) -> StateWrites:
        """Return the state writes of appending ``entry`` at ``index``; pure.

        Raises:
            StateConflictError: the entry breaks an invariant of the current state.
            PolicyError: the signer may not do this (checked against state).
        """
        ...
