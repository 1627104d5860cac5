"""The wallet service's own tables, on SQLite (default) or PostgreSQL, and the records in them.

The wallet store is separate from the ledger's tables: it is the citizens' private data,
the ledger is public. Pass the ledger's URL to keep both in one database (the tables are
named ``wallet_*``, and on PostgreSQL live in the schema of ``?schema=``, default
``seoul_vc_wallet``), or another URL to keep them apart. Two tables:

* ``wallet_wallets``: one row per wallet — the data key wrapped by the master key (JWE),
  the PIN verifier encrypted under the data key (JWE), the PIN failure counters and the
  head of the history chain (a hash, not a secret);
* ``wallet_records``: ``(wallet_id, kind, record_id) -> body``, every body a JWE under the
  wallet's data key: holder keys, credentials, consents, history events.

The transaction layer (SQLite or PostgreSQL, serialized writers) is
:mod:`seoul_vc._tables`.

:class:`_WalletRecords` is the base of :class:`~seoul_vc.wallet.WalletService` (whose
docstring lists the arguments): it keeps the service's configuration, opens the store,
unwraps each wallet's data key (kept in a bounded cache), reads and writes the records
sealed under it, and appends history events, advancing the chain head in the same
transaction.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any, Final

from seoul_vc import _json
from seoul_vc._json import JSONObject, JSONValue
from seoul_vc._tables import TableStore, Tx, one_row, open_table_store
from seoul_vc.clock import Clock, SystemClock
from seoul_vc.credentials import StatusSource, TrustPolicy
from seoul_vc.did import Resolver
from seoul_vc.keys import PrivateKey
from seoul_vc.ledger.log import Ledger
from seoul_vc.ledger.note import NoteSigner
from seoul_vc.limits import Limits
from seoul_vc.wallet.history import HistoryEvent, chain_next
from seoul_vc.wallet.vault import DataKey, MasterKey, ScryptParams

__all__ = ["Tx", "WalletStore", "open_wallet_store"]

WalletStore = TableStore

_DDL: Final = (
    """CREATE TABLE IF NOT EXISTS {p}wallet_wallets (
        wallet_id TEXT PRIMARY KEY, created_at BIGINT NOT NULL, wrapped_key TEXT NOT NULL,
        pin TEXT NOT NULL, failures INTEGER NOT NULL, failed_at BIGINT NOT NULL,
        history_seq BIGINT NOT NULL, history_head TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS {p}wallet_records (
        wallet_id TEXT NOT NULL, kind TEXT NOT NULL, record_id TEXT NOT NULL,
        body TEXT NOT NULL, PRIMARY KEY (wallet_id, kind, record_id))""",
)


def open_wallet_store(url: str) -> TableStore:
    """Open ``sqlite:PATH`` or ``postgresql://...[?schema=name]`` with the wallet store's tables.

    Raises:
        ConfigurationError: ``bad_argument`` for an unknown scheme, a bad schema name or a
            missing psycopg.
        StorageError, UnavailableError: the database cannot be opened or reached.
    """
    return open_table_store(url, ddl=_DDL, name="wallet store", default_schema="seoul_vc_wallet")


_KEY_CACHE_ENTRIES: Final = 4096


def _json_record(data: bytes) -> JSONObject:
    return _json.loads_object(data, max_bytes=1 << 20, max_depth=16, what="vault record")


class _WalletRecords:
    """The configuration, store and sealed records of a :class:`~seoul_vc.wallet.WalletService`."""

    def __init__(
        self,
        store_url: str,
        *,
        ledger: Ledger,
        master_key: MasterKey,
        trust: TrustPolicy,
        log_signer: NoteSigner,
        witness: Callable[[str], str] | None = None,
        status: StatusSource | None = None,
        resolver: Resolver | None = None,
        clock: Clock | None = None,
        limits: Limits | None = None,
        pin_cost: ScryptParams | None = None,
    ) -> None:
        self._store: WalletStore = open_wallet_store(store_url)
        self.ledger = ledger
        self._master = master_key
        self._trust = trust
        self._log_signer = log_signer
        self._witness = witness
        self._status = status
        self._resolver = resolver
        self._clock = clock or SystemClock()
        self._limits = limits or Limits()
        self._pin_cost = pin_cost or ScryptParams()
        self._key_cache: OrderedDict[tuple[str, str], DataKey] = OrderedDict()
        self._key_lock = threading.Lock()

    def close(self) -> None:
        """Close the wallet store (the ledger is the caller's)."""
        self._store.close()

    def _now(self) -> int:
        return int(self._clock.now().timestamp())

    # -- vault plumbing --------------------------------------------------------------------
    def _data_key(self, tx: Tx, wallet_id: str) -> tuple[DataKey, list[Any]]:
        row = list(
            one_row(
                tx,
                "SELECT wrapped_key, pin, failures, failed_at, history_seq, history_head "
                "FROM {p}wallet_wallets WHERE wallet_id = ?",
                (wallet_id,),
                "no such wallet",
            )
        )
        return self._unwrap(wallet_id, str(row[0])), row

    def _unwrap(self, wallet_id: str, wrapped: str) -> DataKey:
        """The wallet's data key, unwrapped by the master key once and kept (bounded LRU).

        The process holds the master key (or a KMS session) anyway; keeping the unwrapped
        keys of recently used wallets spares a KMS round trip per transaction. Keyed by
        the wrapped text, so a re-wrapped key is unwrapped afresh.
        """
        cache_key = (wallet_id, wrapped)
        with self._key_lock:
            found = self._key_cache.get(cache_key)
            if found is not None:
                self._key_cache.move_to_end(cache_key)
                return found
        key = DataKey(self._master.unwrap(wrapped, context=wallet_id))
        with self._key_lock:
            self._key_cache[cache_key] = key
            while len(self._key_cache) > _KEY_CACHE_ENTRIES:
                self._key_cache.popitem(last=False)
        return key

    @staticmethod
    def _put(
        tx: Tx, key: DataKey, wallet_id: str, kind: str, rid: str, obj: Mapping[str, JSONValue]
    ) -> None:
        body = key.seal(_json.canonical(dict(obj)), context=f"{wallet_id}/{kind}/{rid}")
        tx.execute(
            "DELETE FROM {p}wallet_records WHERE wallet_id = ? AND kind = ? AND record_id = ?",
            (wallet_id, kind, rid),
        )
        tx.execute(
            "INSERT INTO {p}wallet_records (wallet_id, kind, record_id, body) VALUES (?, ?, ?, ?)",
            (wallet_id, kind, rid, body),
        )

    @staticmethod
    def _get(tx: Tx, key: DataKey, wallet_id: str, kind: str, rid: str) -> JSONObject:
        (body,) = one_row(
            tx,
            "SELECT body FROM {p}wallet_records WHERE wallet_id = ? AND kind = ? AND record_id = ?",
            (wallet_id, kind, rid),
            f"no such {kind}",
            id=rid,
        )
        return _json_record(key.open(str(body), context=f"{wallet_id}/{kind}/{rid}"))

    @staticmethod
    def _all(tx: Tx, key: DataKey, wallet_id: str, kind: str) -> list[tuple[str, JSONObject]]:
        rows = tx.execute(
            "SELECT record_id, body FROM {p}wallet_records WHERE wallet_id = ? AND kind = ? "
            "ORDER BY record_id",
            (wallet_id, kind),
        )
        return [
            (str(r[0]), _json_record(key.open(str(r[1]), context=f"{wallet_id}/{kind}/{r[0]}")))
            for r in rows
        ]

    def _event(self, tx: Tx, key: DataKey, wallet_id: str, kind: str, details: JSONObject) -> None:
        rows = tx.execute(
            "SELECT history_seq, history_head FROM {p}wallet_wallets WHERE wallet_id = ?",
            (wallet_id,),
        )
        seq, head = int(rows[0][0]) + 1, str(rows[0][1])
        event = HistoryEvent(seq=seq, kind=kind, at=self._now(), details=details)
        self._put(tx, key, wallet_id, "event", f"{seq:012d}", event.to_json())
        tx.execute(
            "UPDATE {p}wallet_wallets SET history_seq = ?, history_head = ? WHERE wallet_id = ?",
            (seq, chain_next(head, event), wallet_id),
        )

    def _record_event(self, wallet_id: str, kind: str, details: JSONObject) -> None:
        with self._store.write() as tx:
            key, _ = self._data_key(tx, wallet_id)
            self._event(tx, key, wallet_id, kind, details)

    def _holder_key(self, tx: Tx, key: DataKey, wallet_id: str) -> PrivateKey:
        return PrivateKey.from_jwk(self._get(tx, key, wallet_id, "key", "holder"))
