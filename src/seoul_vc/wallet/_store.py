"""The wallet service's own tables, on SQLite (default) or PostgreSQL.

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
"""

from __future__ import annotations

from typing import Final

from seoul_vc._tables import TableStore, Tx, open_table_store

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
