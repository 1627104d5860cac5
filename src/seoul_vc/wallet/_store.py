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

Writes are serialized: ``BEGIN IMMEDIATE`` on SQLite, a transaction-scoped advisory lock on
PostgreSQL, so threads and processes never interleave a check and its update (PIN counters,
history chain). Statements use ``?`` placeholders and ``{p}`` for the table prefix.
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

__all__ = ["Tx", "WalletStore", "open_wallet_store"]

_SCHEMA_RE: Final = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_DEFAULT_SCHEMA: Final = "seoul_vc_wallet"
_DDL: Final = (
    """CREATE TABLE IF NOT EXISTS {p}wallet_wallets (
        wallet_id TEXT PRIMARY KEY, created_at BIGINT NOT NULL, wrapped_key TEXT NOT NULL,
        pin TEXT NOT NULL, failures INTEGER NOT NULL, failed_at BIGINT NOT NULL,
        history_seq BIGINT NOT NULL, history_head TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS {p}wallet_records (
        wallet_id TEXT NOT NULL, kind TEXT NOT NULL, record_id TEXT NOT NULL,
        body TEXT NOT NULL, PRIMARY KEY (wallet_id, kind, record_id))""",
)


class Tx(Protocol):
    """One transaction: statements with ``?`` placeholders and ``{p}`` table prefixes."""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one statement and return its rows (empty for writes)."""
        ...


class WalletStore(Protocol):
    """A wallet database."""

    def write(self) -> Any:
        """Open a serialized write transaction (a context manager yielding :class:`Tx`)."""
        ...

    def read(self) -> Any:
        """Open a read transaction (a context manager yielding :class:`Tx`)."""
        ...

    def close(self) -> None:
        """Release the connections."""
        ...


def open_wallet_store(url: str) -> WalletStore:
    """Open ``sqlite:PATH`` or ``postgresql://...[?schema=name]``.

    Raises:
        ConfigurationError: ``bad_argument`` for an unknown scheme, a bad schema name or a
            missing psycopg.
        StorageError, UnavailableError: the database cannot be opened or reached.
    """
    if url.startswith(("postgresql://", "postgres://")):
        return _PostgresStore(url)
    path = url.removeprefix("sqlite:")
    if not path or path == url:
        raise ConfigurationError(
            Code.BAD_ARGUMENT, "the wallet store is sqlite:PATH or postgresql://"
        )
    return _SQLiteStore(path)


class _SQLiteTx:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._c = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self._c.execute(sql.format(p=""), tuple(params)).fetchall()


def _sqlite_error(exc: sqlite3.Error) -> StorageError | UnavailableError:
    if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
        return UnavailableError(Code.UNAVAILABLE, "the wallet store is busy; retry")
    return StorageError(Code.STORAGE, f"wallet store error: {type(exc).__name__}")


class _SQLiteStore:
    """One connection per thread, WAL, durable commits, writers queued by BEGIN IMMEDIATE."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        conn = self._conn()
        try:
            for ddl in _DDL:
                conn.execute(ddl.format(p=""))
        except sqlite3.Error as exc:
            raise _sqlite_error(exc) from exc

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
                raise _sqlite_error(exc) from exc
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
            raise _sqlite_error(exc) from exc
        try:
            yield _SQLiteTx(conn)
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            conn.execute("ROLLBACK")
            raise _sqlite_error(exc) from exc
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def write(self) -> Any:
        return self._tx("BEGIN IMMEDIATE")

    def read(self) -> Any:
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

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        cursor = self._c.execute(sql.format(p=self._p).replace("?", "%s"), tuple(params))
        return list(cursor.fetchall()) if cursor.description is not None else []


class _PostgresStore:
    """One psycopg 3 connection per thread; writers serialize on an advisory lock."""

    def __init__(self, url: str) -> None:
        try:
            import psycopg
        except ImportError as exc:
            raise ConfigurationError(
                Code.BAD_ARGUMENT, "a PostgreSQL wallet store needs psycopg: seoul-vc[postgres]"
            ) from exc
        self._dsn, schema = _split_schema(url)
        if _SCHEMA_RE.fullmatch(schema) is None:
            raise ConfigurationError(Code.BAD_ARGUMENT, "bad schema name")
        self._psycopg = psycopg
        self._prefix = f'"{schema}".'
        digest = hashlib.sha256(b"seoul-vc/wallet/" + schema.encode()).digest()
        self._key = int.from_bytes(digest[:8], "big", signed=True)
        self._local = threading.local()
        self._all: list[Any] = []
        self._lock = threading.Lock()
        conn = self._conn()
        try:
            conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (self._key,))
                for ddl in _DDL:
                    conn.execute(ddl.format(p=self._prefix))
        except psycopg.Error as exc:
            raise _pg_error(exc) from exc

    def _conn(self) -> Any:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = self._psycopg.connect(self._dsn, autocommit=True)
            except self._psycopg.Error as exc:
                raise _pg_error(exc) from exc
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
            raise _pg_error(exc) from exc

    def write(self) -> Any:
        return self._tx(True)

    def read(self) -> Any:
        return self._tx(False)

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
        self._local = threading.local()


def _pg_error(exc: Exception) -> StorageError | UnavailableError:
    state = getattr(exc, "sqlstate", None)
    if state is None or str(state).startswith(("08", "53", "57", "40")):
        return UnavailableError(Code.UNAVAILABLE, "the wallet database is unreachable")
    return StorageError(Code.STORAGE, f"wallet store error: {type(exc).__name__}")


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
