"""A room's own tables on SQLite (default) or PostgreSQL: one small transaction layer.

The status registry and the wallet service keep private bookkeeping apart from the ledger's
tables (the ledger is public; these are not). Both need the same thing: open ``sqlite:PATH``
or ``postgresql://...[?schema=name]``, create their tables, and run serialized write
transactions and plain read transactions from many threads and processes.

* SQLite: one connection per thread, WAL, ``synchronous=FULL`` (a commit survives a crash),
  writers queued by ``BEGIN IMMEDIATE``.
* PostgreSQL (psycopg 3): one connection per thread, tables in the URL's ``schema`` (default
  per room), writers serialized on a transaction-scoped advisory lock of that schema, so a
  check and its update never interleave across servers.

Statements use ``?`` placeholders and ``{p}`` for the table prefix (the schema on
PostgreSQL); DDL may also use ``{blob}`` and ``{without_rowid}`` for the dialect's spelling.

Example:
    >>> import os, tempfile
    >>> from seoul_vc._tables import open_table_store
    >>> ddl = ("CREATE TABLE IF NOT EXISTS {p}t (k TEXT PRIMARY KEY, v {blob})",)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     store = open_table_store("sqlite:" + os.path.join(tmp, "t.db"), ddl=ddl,
    ...                              name="example store", default_schema="example")
    ...     with store.write() as tx:
    ...         _ = tx.execute("INSERT INTO {p}t VALUES (?, ?)", ("a", b"1"))
    ...     with store.read() as tx:
    ...         rows = tx.execute("SELECT v FROM {p}t WHERE k = ?", ("a",))
    ...     store.close()
    >>> rows
    [(b'1',)]
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Final, Protocol

from seoul_vc.errors import (
    Code,
    ConfigurationError,
    NotFoundError,
    StorageError,
    UnavailableError,
)

__all__ = ["TableStore", "Tx", "one_row", "open_table_store"]

_SCHEMA_RE: Final = re.compile(r"[a-z_][a-z0-9_]{0,62}")


class Tx(Protocol):
    """One transaction: statements with ``?`` placeholders and ``{p}`` table prefixes."""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one statement and return its rows (empty for writes)."""
        ...

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run one statement for each row."""
        ...


def one_row(
    tx: Tx, sql: str, params: Sequence[Any], missing: str, **details: str | int
) -> tuple[Any, ...]:
    """The first row ``sql`` selects; ``not_found`` saying ``missing`` when there is none.

    Raises:
        NotFoundError: ``not_found`` with ``missing`` as its message and ``details``.
    """
    rows = tx.execute(sql, params)
    if not rows:
        raise NotFoundError(Code.NOT_FOUND, missing, **details)
    return rows[0]


class TableStore(Protocol):
    """A room's database."""

    def write(self) -> AbstractContextManager[Tx]:
        """Open a serialized write transaction."""
        ...

    def read(self) -> AbstractContextManager[Tx]:
        """Open a read transaction."""
        ...

    def close(self) -> None:
        """Release every thread's connection."""
        ...


def open_table_store(url: str, *, ddl: Sequence[str], name: str, default_schema: str) -> TableStore:
    """Open ``sqlite:PATH`` or ``postgresql://...[?schema=name]`` and create ``ddl``'s tables.

    Args:
        url: where the tables live.
        ddl: ``CREATE TABLE IF NOT EXISTS`` statements (``{p}``, ``{blob}``,
            ``{without_rowid}`` are filled in per dialect).
        name: the store's name in error messages ("wallet store").
        default_schema: the PostgreSQL schema when the URL names none.

    Raises:
        ConfigurationError: ``bad_argument`` for an unknown scheme, a bad schema name or a
            missing psycopg.
        StorageError, UnavailableError: the database cannot be opened or reached.
    """
    if url.startswith(("postgresql://", "postgres://")):
        return _PostgresStore(url, ddl, name, default_schema)
    path = url.removeprefix("sqlite:")
    if not path or path == url:
        raise ConfigurationError(Code.BAD_ARGUMENT, f"the {name} is sqlite:PATH or postgresql://")
    return _SQLiteStore(path, ddl, name)


class _SQLiteTx:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._c = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self._c.execute(sql.format(p=""), tuple(params)).fetchall()

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._c.executemany(sql.format(p=""), rows)


class _SQLiteStore:
    """One connection per thread, WAL, durable commits, writers queued by BEGIN IMMEDIATE."""

    def __init__(self, path: str, ddl: Sequence[str], name: str) -> None:
        self._path, self._name = path, name
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        conn = self._conn()
        try:
            for statement in ddl:
                conn.execute(statement.format(p="", blob="BLOB", without_rowid=" WITHOUT ROWID"))
        except sqlite3.Error as exc:
            raise self._error(exc) from exc

    def _error(self, exc: sqlite3.Error) -> StorageError | UnavailableError:
        if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
            return UnavailableError(Code.UNAVAILABLE, f"the {self._name} is busy; retry")
        return StorageError(Code.STORAGE, f"{self._name} error: {type(exc).__name__}")

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = sqlite3.connect(
                    self._path, isolation_level=None, timeout=60.0, check_same_thread=False
                )
                conn.execute("PRAGMA busy_timeout = 60000")
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = FULL")
            except sqlite3.Error as exc:
                raise self._error(exc) from exc
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    @contextmanager
    def _tx(self, begin: str) -> Iterator[Tx]:
        conn = self._conn()
        try:
            conn.execute(begin)
        except sqlite3.Error as exc:
            raise self._error(exc) from exc
        try:
            yield _SQLiteTx(conn)
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            conn.execute("ROLLBACK")
            raise self._error(exc) from exc
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def write(self) -> AbstractContextManager[Tx]:
        return self._tx("BEGIN IMMEDIATE")

    def read(self) -> AbstractContextManager[Tx]:
        return self._tx("BEGIN")

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
        self._local = threading.local()


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
    """One psycopg 3 connection per thread; writers serialize on an advisory lock."""

    def __init__(self, url: str, ddl: Sequence[str], name: str, default_schema: str) -> None:
        try:
            import psycopg
        except ImportError as exc:
            raise ConfigurationError(
                Code.BAD_ARGUMENT, f"a PostgreSQL {name} needs psycopg: seoul-vc[postgres]"
            ) from exc
        self._name = name
        self._dsn, schema = _split_schema(url, default_schema)
        if _SCHEMA_RE.fullmatch(schema) is None:
            raise ConfigurationError(Code.BAD_ARGUMENT, "bad schema name")
        self._psycopg = psycopg
        self._prefix = f'"{schema}".'
        digest = hashlib.sha256(f"seoul-vc/{name}/".encode() + schema.encode()).digest()
        self._key = int.from_bytes(digest[:8], "big", signed=True)
        self._local = threading.local()
        self._all: list[Any] = []
        self._lock = threading.Lock()
        conn = self._conn()
        try:
            conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (self._key,))
                for statement in ddl:
                    conn.execute(statement.format(p=self._prefix, blob="BYTEA", without_rowid=""))
        except psycopg.Error as exc:
            raise self._error(exc) from exc

    def _error(self, exc: Exception) -> StorageError | UnavailableError:
        state = getattr(exc, "sqlstate", None)
        if state is None or str(state).startswith(("08", "53", "57", "40")):
            return UnavailableError(Code.UNAVAILABLE, f"the {self._name} database is unreachable")
        return StorageError(Code.STORAGE, f"{self._name} error: {type(exc).__name__}")

    def _conn(self) -> Any:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = self._psycopg.connect(self._dsn, autocommit=True)
            except self._psycopg.Error as exc:
                raise self._error(exc) from exc
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    @contextmanager
    def _tx(self, lock: bool) -> Iterator[Tx]:
        conn = self._conn()
        try:
            with conn.transaction():
                if lock:
                    conn.execute("SELECT pg_advisory_xact_lock(%s)", (self._key,))
                yield _PostgresTx(conn, self._prefix)
        except self._psycopg.Error as exc:
            raise self._error(exc) from exc

    def write(self) -> AbstractContextManager[Tx]:
        return self._tx(True)

    def read(self) -> AbstractContextManager[Tx]:
        return self._tx(False)

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
        self._local = threading.local()


def _split_schema(url: str, default: str) -> tuple[str, str]:
    """Take ``schema=`` out of the URL's query: ``(dsn, schema)``."""
    base, sep, rest = url.partition("?")
    if not sep:
        return url, default
    kept = [part for part in rest.split("&") if not part.startswith("schema=")]
    schemas = [part[len("schema=") :] for part in rest.split("&") if part.startswith("schema=")]
    if len(schemas) > 1:
        raise ConfigurationError(Code.BAD_ARGUMENT, "the URL names more than one schema")
    query = "&".join(kept)
    return (f"{base}?{query}" if query else base), (schemas[0] if schemas else default)
