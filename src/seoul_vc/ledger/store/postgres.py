"""The PostgreSQL store: several processes and application servers appending to one log.

* **Tables** live in their own schema (``seoul_vc`` unless told), created if missing; every
  statement names them schema-qualified, so neither ``search_path`` nor a connection pooler
  in front of the server can point the ledger at other tables.
* **Writers serialize** on ``pg_advisory_xact_lock(k)``, taken as the first statement of every
  write transaction, with ``k`` a fixed 64-bit key derived from the schema name. Write
  transactions run at READ COMMITTED, so each statement after the lock sees every commit of
  the writers before it (PostgreSQL makes a commit visible before it releases the
  transaction's locks): two appenders, in one process or on two servers, never compute the
  same next index. A REPEATABLE READ writer would be wrong here, its snapshot being taken
  by the lock statement itself, before the wait.
* **Readers** get a ``REPEATABLE READ, READ ONLY`` snapshot: a root, a proof or an audit sees
  one tree size throughout, and never waits for a writer.
* **Durability**: ``synchronous_commit`` is left at the server's setting (``on`` by default):
  a commit returns after its WAL is flushed, so an acknowledged append survives ``kill -9``
  of the client or the server. The store does not weaken it; a server configured with
  ``synchronous_commit = off`` does, and that is the operator's choice.
* **Connections**: one per thread, like the SQLite store, opened on first use, replaced when
  broken, closed when its thread ends or by :meth:`PostgresStore.close`. A store must not be
  shared across ``fork()``.
* **Errors**: no psycopg exception leaves this module. A lost or refused connection, a lock
  wait past ``lock_timeout``, a cancelled statement, a serialization failure or a deadlock
  is ``UnavailableError(unavailable)`` (retry: an identical entry appended again returns its
  earlier receipt, so a retry after an unknown commit outcome is safe); anything else is
  ``StorageError(storage)``. Messages name the error class and SQLSTATE, never the DSN.

psycopg 3 is imported lazily (``pip install 'seoul-vc[postgres]'``), so the library works
without it until a ``postgresql://`` store is opened.
"""

from __future__ import annotations

import functools
import hashlib
import re
import threading
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any, Final, LiteralString

from seoul_vc.errors import Code, ConfigurationError, InternalError, StorageError, UnavailableError
from seoul_vc.ledger.tlog import Hash

if TYPE_CHECKING:
    import psycopg
    from psycopg import sql

__all__ = ["PostgresStore"]

_SCHEMA_RE: Final = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_TABLES: Final = ("checkpoints", "entries", "state", "tree_hashes")
_DDL: Final[tuple[LiteralString, ...]] = (
    "CREATE SCHEMA IF NOT EXISTS {s}",
    """CREATE TABLE IF NOT EXISTS {s}.entries (
        idx BIGINT PRIMARY KEY,
        entry BYTEA NOT NULL,
        digest BYTEA NOT NULL UNIQUE,
        type TEXT NOT NULL
    )""",
    "CREATE TABLE IF NOT EXISTS {s}.tree_hashes (idx BIGINT PRIMARY KEY, hash BYTEA NOT NULL)",
    """CREATE TABLE IF NOT EXISTS {s}.state (
        app TEXT NOT NULL, key TEXT NOT NULL, value BYTEA NOT NULL, PRIMARY KEY (app, key)
    )""",
    "CREATE TABLE IF NOT EXISTS {s}.checkpoints (size BIGINT PRIMARY KEY, note TEXT NOT NULL)",
)
#: Rows fetched per round trip when streaming entries or hashes (keyset pagination).
_PAGE: Final = 512
#: SQLSTATEs that mean "try again later" rather than "the database failed": lock timeout,
#: statement timeout or cancel, serialization failure, deadlock, too many connections,
#: administrator or crash shutdown, server starting up.
_TRANSIENT: Final = frozenset(
    {"55P03", "57014", "40001", "40P01", "53300", "57P01", "57P02", "57P03"}
)
#: Connection defaults the DSN may override: detect a dead peer in about a minute rather
#: than the kernel's two hours, and name ourselves in pg_stat_activity.
_CONNINFO_DEFAULTS: Final = {
    "application_name": "seoul_vc",
    "keepalives": "1",
    "keepalives_idle": "30",
    "keepalives_interval": "10",
    "keepalives_count": "3",
}


def _driver_missing() -> ConfigurationError:
    return ConfigurationError(
        Code.BAD_ARGUMENT,
        "the PostgreSQL store needs psycopg 3: pip install 'seoul-vc[postgres]'",
    )


def _translate(exc: psycopg.Error) -> StorageError | UnavailableError:
    """Map a psycopg error to our families, naming its class and SQLSTATE only."""
    import psycopg

    state = exc.sqlstate
    details: dict[str, str | int] = {"sqlstate": state} if state else {}
    if (
        state in _TRANSIENT
        or (state is not None and state.startswith("08"))  # connection exception class
        or (state is None and isinstance(exc, psycopg.OperationalError))  # lost, refused
    ):
        return UnavailableError(
            Code.UNAVAILABLE, "the ledger database is unreachable or busy; retry", **details
        )
    return StorageError(Code.STORAGE, f"ledger database error: {type(exc).__name__}", **details)


@contextmanager
def _errors() -> Iterator[None]:
    """Turn every psycopg error raised inside the block into ours (``raise ... from``)."""
    import psycopg

    try:
        yield
    except psycopg.Error as exc:
        raise _translate(exc) from exc


@functools.lru_cache(maxsize=256)
def _query(template: LiteralString, schema: str) -> sql.Composed:
    """Return ``template`` with ``{s}`` replaced by the quoted schema name (cached)."""
    from psycopg import sql

    return sql.SQL(template).format(s=sql.Identifier(schema))


def _lock_key(schema: str) -> int:
    """Return the advisory-lock key of a schema's writers: a stable signed 64-bit integer."""
    digest = hashlib.sha256(b"seoul-vc/ledger-writers/" + schema.encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class _PostgresTransaction:
    def __init__(self, conn: psycopg.Connection[tuple[Any, ...]], schema: str) -> None:
        self._c = conn
        self._schema = schema
        self.live = True

    def _run(self, template: LiteralString, params: Sequence[object] = ()) -> psycopg.Cursor[Any]:
        if not self.live:
            raise InternalError(Code.INTERNAL, "a ledger transaction was used after it ended")
        with _errors():
            return self._c.execute(_query(template, self._schema), params)

    def _one(
        self, template: LiteralString, params: Sequence[object] = ()
    ) -> tuple[Any, ...] | None:
        cursor = self._run(template, params)
        with _errors():
            row: tuple[Any, ...] | None = cursor.fetchone()
        return row

    def _page(self, template: LiteralString, start: int) -> list[tuple[Any, ...]]:
        cursor = self._run(template, (start, _PAGE))
        with _errors():
            return cursor.fetchall()

    def size(self) -> int:
        row = self._one("SELECT COALESCE(MAX(idx) + 1, 0) FROM {s}.entries")
        return 0 if row is None else int(row[0])

    def index_of(self, digest: bytes) -> int | None:
        row = self._one("SELECT idx FROM {s}.entries WHERE digest = %s", (digest,))
        return None if row is None else int(row[0])

    def indexes_of(self, digests: Sequence[bytes]) -> dict[bytes, int]:
        if not digests:
            return {}
        if not self.live:
            raise InternalError(Code.INTERNAL, "a ledger transaction was used after it ended")
        with _errors(), self._c.cursor() as cursor:
            cursor.execute(
                _query("SELECT digest, idx FROM {s}.entries WHERE digest = ANY(%s)", self._schema),
                (list(digests),),
            )
            return {bytes(d): int(i) for d, i in cursor.fetchall()}

    def read_entry(self, index: int) -> bytes | None:
        row = self._one("SELECT entry FROM {s}.entries WHERE idx = %s", (index,))
        return None if row is None else bytes(row[0])

    def iter_entries(self, start: int = 0) -> Iterator[tuple[int, bytes]]:
        # Keyset pages rather than a server-side cursor: nothing stays open on the server
        # when a caller stops early, and several iterators can interleave in one snapshot.
        while True:
            rows = self._page(
                "SELECT idx, entry FROM {s}.entries WHERE idx >= %s ORDER BY idx LIMIT %s", start
            )
            for idx, entry in rows:
                yield int(idx), bytes(entry)
            if len(rows) < _PAGE:
                return
            start = int(rows[-1][0]) + 1

    def read_hashes(self, indexes: Sequence[int]) -> Sequence[Hash]:
        if not indexes:
            return []
        cursor = self._run(
            "SELECT idx, hash FROM {s}.tree_hashes WHERE idx = ANY(%s::bigint[])", (list(indexes),)
        )
        with _errors():
            found = {int(i): Hash(bytes(h)) for i, h in cursor.fetchall()}
        return [found[i] for i in indexes if i in found]

    def iter_hashes(self) -> Iterator[tuple[int, bytes]]:
        start = -(2**63)
        while True:
            rows = self._page(
                "SELECT idx, hash FROM {s}.tree_hashes WHERE idx >= %s ORDER BY idx LIMIT %s",
                start,
            )
            for idx, value in rows:
                yield int(idx), bytes(value)
            if len(rows) < _PAGE:
                return
            start = int(rows[-1][0]) + 1

    def get_state(self, app: str, key: str) -> bytes | None:
        row = self._one("SELECT value FROM {s}.state WHERE app = %s AND key = %s", (app, key))
        return None if row is None else bytes(row[0])

    def append(self, index: int, entry: bytes, digest: bytes, type_: str) -> None:
        self._run(
            "INSERT INTO {s}.entries (idx, entry, digest, type) VALUES (%s, %s, %s, %s)",
            (index, entry, digest, type_),
        )

    def append_next(self, entry: bytes, digest: bytes, type_: str) -> int | None:
        row = self._one(
            "INSERT INTO {s}.entries (idx, entry, digest, type) "
            "SELECT COALESCE(MAX(idx) + 1, 0), %s, %s, %s FROM {s}.entries "
            "ON CONFLICT (digest) DO NOTHING RETURNING idx",
            (entry, digest, type_),
        )
        return None if row is None else int(row[0])

    def append_entries(self, rows: Sequence[tuple[int, bytes, bytes, str]]) -> None:
        if not rows:
            return
        if not self.live:
            raise InternalError(Code.INTERNAL, "a ledger transaction was used after it ended")
        with _errors(), self._c.cursor() as cursor:
            cursor.executemany(
                _query(
                    "INSERT INTO {s}.entries (idx, entry, digest, type) VALUES (%s, %s, %s, %s)",
                    self._schema,
                ),
                rows,
            )

    def add_hashes(self, start: int, hashes: Sequence[bytes]) -> None:
        if not self.live:
            raise InternalError(Code.INTERNAL, "a ledger transaction was used after it ended")
        with _errors(), self._c.cursor() as cursor:
            cursor.executemany(
                _query("INSERT INTO {s}.tree_hashes (idx, hash) VALUES (%s, %s)", self._schema),
                [(start + i, h) for i, h in enumerate(hashes)],
            )

    def put_state(self, app: str, key: str, value: bytes | None) -> None:
        if value is None:
            self._run("DELETE FROM {s}.state WHERE app = %s AND key = %s", (app, key))
        else:
            self._run(
                "INSERT INTO {s}.state (app, key, value) VALUES (%s, %s, %s) "
                "ON CONFLICT (app, key) DO UPDATE SET value = EXCLUDED.value",
                (app, key, value),
            )

    def clear_state(self) -> None:
        self._run("DELETE FROM {s}.state")

    def put_checkpoint(self, size: int, note: str) -> None:
        self._run(
            "INSERT INTO {s}.checkpoints (size, note) VALUES (%s, %s) "
            "ON CONFLICT (size) DO UPDATE SET note = EXCLUDED.note",
            (size, note),
        )

    def latest_checkpoint(self) -> tuple[int, str] | None:
        row = self._one("SELECT size, note FROM {s}.checkpoints ORDER BY size DESC LIMIT 1")
        return None if row is None else (int(row[0]), str(row[1]))


class _ThreadConnection:
    """The thread-local holder of a connection; when its thread ends, the connection closes."""

    def __init__(self, conn: psycopg.Connection[tuple[Any, ...]]) -> None:
        self.conn = conn


class PostgresStore:
    """A ledger in one schema of a PostgreSQL database. See the module docstring.

    Args:
        dsn: a libpq connection string or ``postgresql://`` URI (without ``schema=``).
        schema: the schema holding the ledger's tables: lowercase letters, digits and ``_``,
            at most 63 characters. One schema is one log.
        lock_timeout: seconds a writer waits for the writer lock before ``unavailable``.
        connect_timeout: seconds to wait for a connection before ``unavailable`` (unless
            the DSN sets ``connect_timeout`` itself).

    Raises:
        ConfigurationError: ``bad_argument`` for a bad schema name or without psycopg.
        UnavailableError: ``unavailable`` if the server cannot be reached.
        StorageError: ``storage`` if the tables cannot be created.
    """

    def __init__(
        self,
        dsn: str,
        *,
        schema: str = "seoul_vc",
        lock_timeout: float = 60.0,
        connect_timeout: float = 10.0,
    ) -> None:
        try:
            import psycopg.conninfo
        except ImportError as exc:
            raise _driver_missing() from exc
        if _SCHEMA_RE.fullmatch(schema) is None:
            raise ConfigurationError(
                Code.BAD_ARGUMENT, "schema: lowercase letters, digits and _, at most 63"
            )
        if not lock_timeout > 0 or not connect_timeout > 0:
            raise ConfigurationError(Code.BAD_ARGUMENT, "timeouts are positive seconds")
        try:
            params = psycopg.conninfo.conninfo_to_dict(dsn)
        except psycopg.Error:
            # libpq's message may quote the DSN, password included: do not chain it.
            raise ConfigurationError(
                Code.BAD_ARGUMENT, "the PostgreSQL DSN does not parse"
            ) from None
        for name, value in (
            *_CONNINFO_DEFAULTS.items(),
            ("connect_timeout", str(max(2, round(connect_timeout)))),
        ):
            params.setdefault(name, value)
        self._conninfo = psycopg.conninfo.make_conninfo("", **params)
        self._schema = schema
        self._lock_key = _lock_key(schema)
        self._lock_timeout_ms = max(1, round(lock_timeout * 1000))
        self._local = threading.local()
        self._all: set[psycopg.Connection[tuple[Any, ...]]] = set()
        # Reentrant: a thread-end finalizer may run (garbage collection) while it is held.
        self._guard = threading.RLock()
        try:
            self._create_tables()
        except BaseException:
            self.close()
            raise

    @property
    def schema(self) -> str:
        """The schema holding this log's tables."""
        return self._schema

    # -- connections -------------------------------------------------------------------------
    def _connect(self) -> psycopg.Connection[tuple[Any, ...]]:
        import psycopg

        with _errors():
            conn = psycopg.connect(self._conninfo, autocommit=True)
        try:
            with _errors():
                conn.execute(
                    "SELECT set_config('lock_timeout', %s, false)", (f"{self._lock_timeout_ms}ms",)
                )
        except BaseException:
            conn.close()
            raise
        return conn

    def _conn(self) -> psycopg.Connection[tuple[Any, ...]]:
        holder: _ThreadConnection | None = getattr(self._local, "holder", None)
        if holder is not None and not holder.conn.closed:
            return holder.conn
        conn = self._connect()
        holder = _ThreadConnection(conn)
        self._local.holder = holder
        with self._guard:
            self._all.add(conn)
        # When the thread ends its locals are freed: close its connection then, so a server
        # that recycles worker threads does not collect idle connections.
        weakref.finalize(holder, self._forget, conn)
        return conn

    def _forget(self, conn: psycopg.Connection[tuple[Any, ...]]) -> None:
        with self._guard:
            self._all.discard(conn)
        with suppress(Exception):
            conn.close()

    def _begin(self, statement: LiteralString) -> psycopg.Connection[tuple[Any, ...]]:
        """Begin a transaction on this thread's connection, reconnecting once if it broke.

        Nothing has been sent in the transaction yet, so a connection the server or network
        dropped while idle (a restart, a firewall) is replaced without failing the caller.
        """
        import psycopg

        conn = self._conn()
        try:
            conn.execute(statement)
        except psycopg.Error as exc:
            if not conn.closed:
                raise _translate(exc) from exc
            self._local.holder = None
            self._forget(conn)
            conn = self._conn()
            with _errors():
                conn.execute(statement)
        return conn

    def _abandon(self, conn: psycopg.Connection[tuple[Any, ...]]) -> None:
        """Roll back; a connection that cannot even do that is dropped."""
        import psycopg

        try:
            conn.execute("ROLLBACK")
        except psycopg.Error:
            self._local.holder = None
            self._forget(conn)

    def _create_tables(self) -> None:
        """Create the schema and tables if missing, under the writer lock.

        Concurrent ``CREATE ... IF NOT EXISTS`` can still fail on a catalog unique index, so
        first-time creation is serialized; an existing schema needs no CREATE privilege.
        """
        with self.write() as tx:
            row = tx._one(
                "SELECT count(*) FROM pg_catalog.pg_tables "
                "WHERE schemaname = %s AND tablename = ANY(%s)",
                (self._schema, list(_TABLES)),
            )
            if row is not None and int(row[0]) == len(_TABLES):
                return
            for statement in _DDL:
                tx._run(statement)

    # -- transactions ------------------------------------------------------------------------
    @contextmanager
    def write(self) -> Iterator[_PostgresTransaction]:
        """Open a READ COMMITTED transaction holding the writer lock; commit on success.

        Raises:
            UnavailableError: ``unavailable`` if the lock is not had within ``lock_timeout``
                or the server is unreachable (also at commit: the outcome is then unknown).
            StorageError: ``storage`` on any other database failure.
        """
        conn = self._begin("BEGIN ISOLATION LEVEL READ COMMITTED, READ WRITE")
        tx = _PostgresTransaction(conn, self._schema)
        try:
            with _errors():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (self._lock_key,))
            yield tx
            tx.live = False
            with _errors():
                conn.execute("COMMIT")
        except BaseException:
            tx.live = False
            self._abandon(conn)
            raise

    @contextmanager
    def read(self) -> Iterator[_PostgresTransaction]:
        """Open a ``REPEATABLE READ, READ ONLY`` snapshot.

        Raises:
            UnavailableError: ``unavailable`` if the server is unreachable.
            StorageError: ``storage`` on any other database failure.
        """
        conn = self._begin("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        tx = _PostgresTransaction(conn, self._schema)
        try:
            yield tx
        finally:
            # What was read came from one snapshot whatever happens now; a connection that
            # cannot end the snapshot is dropped, not reported.
            tx.live = False
            self._abandon(conn)

    def close(self) -> None:
        """Close every connection this store opened (it reconnects if used again)."""
        with self._guard:
            conns = list(self._all)
            self._all.clear()
        for conn in conns:
            with suppress(Exception):
                conn.close()
        self._local = threading.local()
