"""The status registry's own tables, on SQLite (default) or PostgreSQL.

Four tables, apart from the ledger's (the registry is the issuer's private bookkeeping; the
ledger only ever sees hashes of what was published):

* ``status_lists``: one row per list — its kind (``bitstring`` or ``token``), base URL, size,
  the allocation cursor, the last published version and whether it changed since;
* ``status_shuffle``: the sparse swap table of each list's Fisher-Yates shuffle (positions at
  or past the cursor whose value is not their own position);
* ``status_entries``: one row per allocated index and its status (0 valid, 1 revoked,
  2 suspended: the Token Status List values);
* ``status_published``: every published token, its SHA-256 and its anchor receipt.

The transaction layer (SQLite or PostgreSQL, serialized writers) is
:mod:`seoul_vc._tables`.
"""

from __future__ import annotations

from typing import Final

from seoul_vc._tables import TableStore, Tx, open_table_store

__all__ = ["RegistryStore", "Tx", "open_registry_store"]

RegistryStore = TableStore

_DDL: Final = (
    """CREATE TABLE IF NOT EXISTS {p}status_lists (
        list_id TEXT PRIMARY KEY, kind TEXT NOT NULL, base_url TEXT NOT NULL,
        size BIGINT NOT NULL, next_pos BIGINT NOT NULL, version BIGINT NOT NULL,
        dirty INTEGER NOT NULL, created_at BIGINT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS {p}status_shuffle (
        list_id TEXT NOT NULL, pos BIGINT NOT NULL, value BIGINT NOT NULL,
        PRIMARY KEY (list_id, pos)){without_rowid}""",
    """CREATE TABLE IF NOT EXISTS {p}status_entries (
        list_id TEXT NOT NULL, idx BIGINT NOT NULL, status INTEGER NOT NULL,
        PRIMARY KEY (list_id, idx)){without_rowid}""",
    """CREATE TABLE IF NOT EXISTS {p}status_published (
        uri TEXT NOT NULL, version BIGINT NOT NULL, sha256 {blob} NOT NULL, token TEXT NOT NULL,
        receipt TEXT, published_at BIGINT NOT NULL, PRIMARY KEY (uri, version))""",
)


def open_registry_store(url: str) -> TableStore:
    """Open ``sqlite:PATH`` or ``postgresql://...[?schema=name]`` with the status registry's tables.

    Raises:
        ConfigurationError: ``bad_argument`` for an unknown scheme, a bad schema name or a
            missing psycopg.
        StorageError, UnavailableError: the database cannot be opened or reached.
    """
    return open_table_store(url, ddl=_DDL, name="status registry", default_schema="seoul_vc_status")
