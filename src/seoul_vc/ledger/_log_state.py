"""Part of :mod:`seoul_vc.ledger.log`: the state applications read, and how it is written.

:class:`_TxState` is the :class:`~seoul_vc.ledger.app.StateReader` over one transaction
(:meth:`~seoul_vc.ledger.log.Ledger.append`, :meth:`~seoul_vc.ledger.log.Ledger.rebuild`,
:meth:`~seoul_vc.ledger.log.Ledger.state`); :class:`_BatchState` adds a batch's own writes
in memory (:meth:`~seoul_vc.ledger.log.Ledger.append_many`); :func:`_put_state` stores one
value as canonical JSON.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from seoul_vc import _json
from seoul_vc._json import JSONValue

if TYPE_CHECKING:
    from seoul_vc.ledger.store.base import Transaction


class _BatchState:
    """The StateReader of a batch: the transaction's state plus the batch's own writes.

    Each key is read from the store at most once per batch; writes stay in memory until the
    batch is written out in one pass.
    """

    def __init__(self, tx: Transaction) -> None:
        self._reader = _TxState(tx)
        self._cache: dict[tuple[str, str], JSONValue | None] = {}
        self.writes: dict[tuple[str, str], JSONValue | None] = {}

    def get(self, app: str, key: str) -> JSONValue | None:
        slot = (app, key)
        if slot not in self._cache:
            self._cache[slot] = self._reader.get(app, key)
        return self._cache[slot]

    def put(self, app: str, key: str, value: JSONValue | None) -> None:
        self._cache[(app, key)] = value
        self.writes[(app, key)] = value


class _TxState:
    """The StateReader applications see: JSON values over a transaction."""

    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    def get(self, app: str, key: str) -> JSONValue | None:
        raw = self._tx.get_state(app, key)
        if raw is None:
            return None
        return _json.loads(raw, max_bytes=len(raw), max_depth=64, what="ledger state")


def _put_state(tx: Transaction, app: str, key: str, value: JSONValue | None) -> None:
    """Store a state value as canonical JSON (``None`` deletes it)."""
    tx.put_state(app, key, None if value is None else _json.canonical(value))
