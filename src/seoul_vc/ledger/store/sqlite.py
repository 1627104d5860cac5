"""The embedded SQLite store: WAL mode, durable commits, safe across threads and processes.

* ``journal_mode=WAL`` lets readers proceed while one writer appends;
  ``synchronous=FULL`` makes every commit durable (in WAL mode ``NORMAL`` may lose the last
  commits on power loss), so an acknowledged append survives ``kill -9`` and power failure.
* Writers take ``BEGIN IMMEDIATE``: the database write lock is held from the first
  statement, so two appenders never compute the same next index; ``busy_timeout`` queues
  them instead of failing.
* One connection per thread (``threading.local``): sqlite3 connections are not shared.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Final

from seoul_vc.errors import Code, StorageError, UnavailableError
from seoul_vc.ledger.tlog import Hash

__all__ = ["SQLiteStore"]

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS entries (
    idx INTEGER PRIMARY KEY,
    entry BLOB NOT NULL,
    digest BLOB NOT NULL UNIQUE,
    type TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tree_hashes (idx INTEGER PRIMARY KEY, hash BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS state (
    app TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL, PRIMARY KEY (app, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS checkpoints (size INTEGER PRIMARY KEY, note TEXT NOT NULL);
"""


def _storage(exc: sqlite3.Error) -> StorageError | UnavailableError:
    if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
        return UnavailableError(Code.UNAVAILABLE, "the ledger database is busy; retry")
    return StorageError(Code.STORAGE, f"ledger database error: {type(exc).__name__}")


class _SQLiteTransaction:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._c = conn

    def size(self) -> int:
        row = self._c.execute("SELECT COALESCE(MAX(idx) + 1, 0) FROM entries").fetchone()
        return int(row[0])

    def index_of(self, digest: bytes) -> int | None:
        row = self._c.execute("SELECT idx FROM entries WHERE digest = ?", (digest,)).fetchone()
        return None if row is None else int(row[0])

    def indexes_of(self, digests: Sequence[bytes]) -> dict[bytes, int]:
        found: dict[bytes, int] = {}
        for start in range(0, len(digests), 500):  # stay below SQLite's variable limit
            chunk = tuple(digests[start : start + 500])
            marks = ",".join("?" * len(chunk))
            rows = self._c.execute(
                f"SELECT digest, idx FROM entries WHERE digest IN ({marks})",  # noqa: S608
                chunk,
            )
            found.update((bytes(d), int(i)) for d, i in rows)
        return found

    def read_entry(self, index: int) -> bytes | None:
        row = self._c.execute("SELECT entry FROM entries WHERE idx = ?", (index,)).fetchone()
        return None if row is None else bytes(row[0])

    def iter_entries(self, start: int = 0) -> Iterator[tuple[int, bytes]]:
        cursor = self._c.execute(
            "SELECT idx, entry FROM entries WHERE idx >= ? ORDER BY idx", (start,)
        )
        for idx, entry in cursor:
            yield int(idx), bytes(entry)

    def read_hashes(self, indexes: Sequence[int]) -> Sequence[Hash]:
        if not indexes:
            return []
        marks = ",".join("?" * len(indexes))
        rows = self._c.execute(
            f"SELECT idx, hash FROM tree_hashes WHERE idx IN ({marks})",  # noqa: S608 - only "?"
            tuple(indexes),
        ).fetchall()
        found = {int(i): Hash(bytes(h)) for i, h in rows}
        return [found[i] for i in indexes if i in found]

    def iter_hashes(self) -> Iterator[tuple[int, bytes]]:
        for idx, value in self._c.execute("SELECT idx, hash FROM tree_hashes ORDER BY idx"):
            yield int(idx), bytes(value)

    def get_state(self, app: str, key: str) -> bytes | None:
        row = self._c.execute(
            "SELECT value FROM state WHERE app = ? AND key = ?", (app, key)
        ).fetchone()
        return None if row is None else bytes(row[0])

    def append(self, index: int, entry: bytes, digest: bytes, type_: str) -> None:
        self._c.execute(
            "INSERT INTO entries (idx, entry, digest, type) VALUES (?, ?, ?, ?)",
            (index, entry, digest, type_),
        )

    def append_next(self, entry: bytes, digest: bytes, type_: str) -> int | None:
        # Two statements: SQLite evaluates MAX() inside INSERT ... SELECT by a scan.
        index = self.size()
        cursor = self._c.execute(
            "INSERT INTO entries (idx, entry, digest, type) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (digest) DO NOTHING",
            (index, entry, digest, type_),
        )
        return index if cursor.rowcount == 1 else None

    def append_entries(self, rows: Sequence[tuple[int, bytes, bytes, str]]) -> None:
        self._c.executemany(
            "INSERT INTO entries (idx, entry, digest, type) VALUES (?, ?, ?, ?)", rows
        )

    def add_hashes(self, start: int, hashes: Sequence[bytes]) -> None:
        self._c.executemany(
            "INSERT INTO tree_hashes (idx, hash) VALUES (?, ?)",
            [(start + i, h) for i, h in enumerate(hashes)],
        )

    def put_state(self, app: str, key: str, value: bytes | None) -> None:
        if value is None:
            self._c.execute("DELETE FROM state WHERE app = ? AND key = ?", (app, key))
        else:
            self._c.execute(
                "INSERT INTO state (app, key, value) VALUES (?, ?, ?) "
                "ON CONFLICT (app, key) DO UPDATE SET value = excluded.value",
                (app, key, value),
            )

    def clear_state(self) -> None:
        self._c.execute("DELETE FROM state")

    def put_checkpoint(self, size: int, note: str) -> None:
        self._c.execute(
            "INSERT INTO checkpoints (size, note) VALUES (?, ?) "
            "ON CONFLICT (size) DO UPDATE SET note = excluded.note",
            (size, note),
        )

    def latest_checkpoint(self) -> tuple[int, str] | None:
        row = self._c.execute(
            "SELECT size, note FROM checkpoints ORDER BY size DESC LIMIT 1"
        ).fetchone()
        return None if row is None else (int(row[0]), str(row[1]))


class SQLiteStore:
    """A ledger in one SQLite file. See the module docstring for the durability contract.

    Args:
        path: the database file (created if missing).
        busy_timeout: seconds a writer waits for the lock before ``unavailable``.
    """

    def __init__(self, path: str | Path, *, busy_timeout: float = 60.0) -> None:
        self._path = str(path)
        self._busy_ms = int(busy_timeout * 1000)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        with self.write():
            pass  # create the schema once, under the write lock

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            try:
                # Each connection is used by its own thread only; check_same_thread=False just
                # lets close() release the connections of threads that have finished.
                conn = sqlite3.connect(
                    self._path,
                    isolation_level=None,
                    timeout=self._busy_ms / 1000,
                    check_same_thread=False,
                )
                conn.execute(f"PRAGMA busy_timeout = {self._busy_ms}")
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = FULL")
                conn.execute("PRAGMA foreign_keys = ON")
                conn.executescript(_SCHEMA)
            except sqlite3.Error as exc:
                raise _storage(exc) from exc
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    @contextmanager
    def write(self) -> Iterator[_SQLiteTransaction]:
        """Open a ``BEGIN IMMEDIATE`` transaction; commit on success, roll back on error."""
        conn = self._conn()
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise _storage(exc) from exc
        try:
            yield _SQLiteTransaction(conn)
        except sqlite3.Error as exc:
            conn.execute("ROLLBACK")
            raise _storage(exc) from exc
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        try:
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            conn.execute("ROLLBACK")
            raise _storage(exc) from exc

    @contextmanager
    def read(self) -> Iterator[_SQLiteTransaction]:
        """Open a snapshot (deferred) transaction."""
        conn = self._conn()
        try:
            conn.execute("BEGIN")
        except sqlite3.Error as exc:
            raise _storage(exc) from exc
        try:
            yield _SQLiteTransaction(conn)
        except sqlite3.Error as exc:
            raise _storage(exc) from exc
        finally:
            conn.execute("ROLLBACK")

    def close(self) -> None:
        """Close every connection this store opened."""
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
        self._local = threading.local()
