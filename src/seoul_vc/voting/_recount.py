"""The independent recount: a poll's tally from the log alone.

Part of :mod:`seoul_vc.voting`, which re-exports every public name here:
:func:`tally_from_log` re-implements the poll's rules over ``(index, entry)`` pairs, without
the voting application's state; :func:`log_entries` reads them from a ledger and
:func:`recount` does both.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from seoul_vc.errors import Code, StateConflictError, StorageError
from seoul_vc.ledger.apps.voting import CLOSE, OPEN, REGISTER
from seoul_vc.ledger.entry import Entry
from seoul_vc.voting._values import Poll, Tally

if TYPE_CHECKING:
    from seoul_vc.ledger.log import Ledger


def _tampered(index: int, message: str) -> StorageError:
    return StorageError(Code.LEDGER_TAMPERED, f"recount: {message}", index=index)


def tally_from_log(
    entries: Iterable[tuple[int, Entry]], poll_id: str, *, verify_signatures: bool = True
) -> Tally:
    """Recount a poll from the log alone, independently of the voting application's state.

    Re-implements the poll's rules over ``(index, entry)`` pairs in log order: the first
    ``voting.open`` of the poll; registrations by its registrar, each nullifier and voter
    key once, before the close and the window's end; one ballot per registered key inside
    the window; the close by the proposer or registrar. An accepted entry that breaks a
    rule means the log or the application is wrong, so it is an error, not skipped.
    Authority grants are not re-checked (``Ledger.audit`` and ``Ledger.rebuild`` cover them).

    Raises:
        StateConflictError: ``unknown_poll`` if the poll was never opened.
        StorageError: ``ledger_tampered`` naming the first entry that breaks a rule.
        VerificationError: ``invalid_signature`` with ``verify_signatures``.
    """
    poll: Poll | None = None
    nullifiers: set[str] = set()
    voted: dict[str, bool] = {}
    counts: list[int] = []
    closed = False
    for index, entry in entries:
        if not entry.type.startswith("voting.") or entry.body.get("poll") != poll_id:
            continue
        if verify_signatures:
            entry.verify_signature()
        if entry.type == OPEN:
            if poll is not None:
                raise _tampered(index, "the poll is opened twice")
            poll = Poll.from_entry(entry)
            counts = [0] * len(poll.options)
            continue
        if poll is None:
            raise _tampered(index, "an entry before the poll was opened")
        if closed:
            raise _tampered(index, "an entry after the close")
        if entry.type == CLOSE:
            if entry.signer not in (poll.proposer, poll.registrar):
                raise _tampered(index, "closed by neither proposer nor registrar")
            closed = True
            continue
        if entry.time >= int(poll.closes_at.timestamp()):
            raise _tampered(index, "an entry after the window")
        if entry.type == REGISTER:
            nullifier, voter = str(entry.body["nullifier"]), str(entry.body["voter"])
            if entry.signer != poll.registrar or nullifier in nullifiers or voter in voted:
                raise _tampered(index, "a registration breaks the roll's rules")
            nullifiers.add(nullifier)
            voted[voter] = False
            continue
        choice = entry.body.get("choice")
        if (
            entry.signer not in voted
            or voted[entry.signer]
            or entry.time < int(poll.opens_at.timestamp())
            or isinstance(choice, bool)
            or not isinstance(choice, int)
            or not 0 <= choice < len(counts)
        ):
            raise _tampered(index, "a ballot breaks the poll's rules")
        voted[entry.signer] = True
        counts[choice] += 1
    if poll is None:
        raise StateConflictError(Code.UNKNOWN_POLL, "the poll is not in the log", poll=poll_id)
    return Tally(
        poll_id=poll_id,
        options=poll.options,
        counts=tuple(counts),
        registered=len(voted),
        ballots=sum(counts),
        closed=closed,
    )


def log_entries(ledger: Ledger, *, size: int | None = None) -> Iterator[tuple[int, Entry]]:
    """Yield ``(index, entry)`` for the first ``size`` entries (default: the current size)."""
    end = ledger.size if size is None else size
    for index in range(end):
        yield index, ledger.entry(index)


def recount(ledger: Ledger, poll_id: str, *, verify_signatures: bool = True) -> Tally:
    """Recount ``poll_id`` from every entry of ``ledger`` (:func:`tally_from_log`).

    Cost: one read and parse per entry of the whole log (and a signature check per entry
    of the poll with ``verify_signatures``).

    Raises:
        as :func:`tally_from_log`.
    """
    return tally_from_log(log_entries(ledger), poll_id, verify_signatures=verify_signatures)
