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

Writes are serialized: ``BEGIN IMMEDIATE`` on SQLite, a transaction-scoped advisory lock on
PostgreSQL, so two processes never hand out the same index. Statements use ``?``
placeholders and ``{p}`` for the table prefix (the schema on PostgreSQL).
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Final, Protocol

from seoul_vc.errors import Code, ConfigurationError, StorageError, UnavailableError

__all__ = ["RegistryStore", "Tx", "open_registry_store"]

_SCHEMA_RE: Final = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_DEFAULT_SCHEMA: Final = "seoul_vc_status"
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


class Tx(Protocol):
    """One transaction: statements with ``?`` placeholders and ``{p}`` table prefixes."""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one statement and return its rows (empty for writes)."""
        ...

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run one statement for each row."""
        ...


class RegistryStore(Protocol):
    """A registry database."""

    def write(self) -> Any:
        """Open a serialized write transaction (a context manager yielding :class:`Tx`)."""
        ...

    def read(self) -> Any:
        """Open a read transaction (a context manager yielding :class:`Tx`)."""
        ...

    def close(self) -> None:
        """Release the connection."""
        ...


def open_registry_store(url: str) -> RegistryStore:
    """Open ``sqlite:PATH`` or ``postgresql://...[?schema=name]``.

    Raises:
        ConfigurationError: ``bad_argument`` for an unknown scheme, bad schema name or a
            missing psycopg.
        StorageError, UnavailableError: the database cannot be opened or reached.
    """
    if url.startswith(("postgresql://", "postgres://")):
        return _PostgresStore(url)
    path = url.removeprefix("sqlite:")
    if not path or (path == url and "://" in url):
        raise ConfigurationError(Code.BAD_ARGUMENT, "the registry is sqlite:PATH or postgresql://")
    return _SQLiteStore(path)


class _SQLiteTx:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._c = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self._c.execute(sql.format(p=""), tuple(params)).fetchall()

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._c.executemany(sql.format(p=""), rows)


def _sqlite_error(exc: sqlite3.Error) -> StorageError | UnavailableError:
    if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
        return UnavailableError(Code.UNAVAILABLE, "the status registry is busy; retry")
    return StorageError(Code.STORAGE, f"status registry error: {type(exc).__name__}")


class _SQLiteStore:
    """One connection, WAL, durable commits, writers queued by ``BEGIN IMMEDIATE``."""

    def __init__(self, path: str) -> None:
        self._lock = threading.RLock()
        try:
            self._conn = sqlite3.connect(
                path, isolation_level=None, timeout=60.0, check_same_thread=False
            )
            self._conn.execute("PRAGMA busy_timeout = 60000")
            self._conn.execute("PRAGMA journal_mode = WAL")
            self._conn.execute("PRAGMA synchronous = FULL")
            for ddl in _DDL:
                self._conn.execute(ddl.format(p="", without_rowid=" WITHOUT ROWID", blob="BLOB"))
        except sqlite3.Error as exc:
            raise _sqlite_error(exc) from exc

    @contextmanager
    def _tx(self, begin: str) -> Iterator[Tx]:
        with self._lock:
            try:
                self._conn.execute(begin)
            except sqlite3.Error as exc:
                raise _sqlite_error(exc) from exc
            try:
                yield _SQLiteTx(self._conn)
                self._conn.execute("COMMIT")
            except sqlite3.Error as exc:
                self._conn.execute("ROLLBACK")
                raise _sqlite_error(exc) from exc
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise

    def write(self) -> Any:
        return self._tx("BEGIN IMMEDIATE")

    def read(self) -> Any:
        return self._tx("BEGIN")

    def close(self) -> None:
        with self._lock:
            self._conn.close()


class _PostgresTx:
    def __init__(self, conn: Any, prefix: str) -> None:
        self._c = conn
        self._p = prefix

    def _sql(self, sql: str) -> str:
        return sql.format(p=self._p).replace("?", "%s")

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        cursor = self._c.execute(self._sql(sql), tuple(params))
        return list(cursor.fetchall()) if cursor.description is not None else []

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with self._c.cursor() as cursor:
            cursor.executemany(self._sql(sql), rows)


class _PostgresStore:
    """One psycopg 3 connection; writers serialize on an advisory lock of the schema."""

    def __init__(self, url: str) -> None:
        try:
            import psycopg
        except ImportError as exc:
            raise ConfigurationError(
                Code.BAD_ARGUMENT, "a PostgreSQL registry needs psycopg: seoul-vc[postgres]"
            ) from exc
        dsn, schema = _split_schema(url)
        if _SCHEMA_RE.fullmatch(schema) is None:
            raise ConfigurationError(Code.BAD_ARGUMENT, "bad schema name")
        self._psycopg = psycopg
        self._prefix = f'"{schema}".'
        digest = hashlib.sha256(b"seoul-vc/status-registry/" + schema.encode()).digest()
        self._key = int.from_bytes(digest[:8], "big", signed=True)
        self._lock = threading.RLock()
        try:
            self._conn = psycopg.connect(dsn, autocommit=True)
            self._conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            with self._conn.transaction():
                self._conn.execute("SELECT pg_advisory_xact_lock(%s)", (self._key,))
                for ddl in _DDL:
                    sql = ddl.format(p=self._prefix, without_rowid="", blob="BYTEA")
                    self._conn.execute(sql)
        except psycopg.Error as exc:
            raise _pg_error(exc) from exc

    @contextmanager
    def _tx(self, lock: bool) -> Iterator[Tx]:
        psycopg = self._psycopg
        with self._lock:
            try:
                with self._conn.transaction():
                    if lock:
                        self._conn.execute("SELECT pg_advisory_xact_lock(%s)", (self._key,))
                    yield _PostgresTx(self._conn, self._prefix)
            except psycopg.Error as exc:
                raise _pg_error(exc) from exc

    def write(self) -> Any:
        return self._tx(True)

    def read(self) -> Any:
        return self._tx(False)

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def _pg_error(exc: Exception) -> StorageError | UnavailableError:
    state = getattr(exc, "sqlstate", None)
    if state is None or str(state).startswith(("08", "53", "57", "40")):
        return UnavailableError(Code.UNAVAILABLE, "the status registry database is unreachable")
    return StorageError(Code.STORAGE, f"status registry error: {type(exc).__name__}")


def _split_schema(url: str) -> tuple[str, str]:
    base, sep, rest = url.partition("?")
    if not sep:
        return url, _DEFAULT_SCHEMA
    kept = [part for part in rest.split("&") if not part.startswith("schema=")]
    schemas = [part[len("schema=") :] for part in rest.split("&") if part.startswith("schema=")]
    if len(schemas) > 1:
        raise ConfigurationError(Code.BAD_ARGUMENT, "the URL names more than one schema")
    query = "&".join(kept)
    return (f"{base}?{query}" if query else base), (schemas[0] if schemas else _DEFAULT_SCHEMA)
