"""The storage protocol of the ledger: one transaction interface, several backends.

The ledger is four tables — entries, tree hashes (the dense stored-hash sequence of
:mod:`seoul_vc.ledger.tlog`), derived application state, and signed checkpoints. A backend
provides serializable write transactions (one appender at a time, across threads, processes
and servers) and consistent read snapshots; :class:`~seoul_vc.ledger.log.Ledger` holds all
the logic.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Protocol

from seoul_vc.ledger.tlog import Hash

__all__ = ["Store", "Transaction"]


class Transaction(Protocol):
    """Reads and writes inside one transaction."""

    def size(self) -> int:
        """Return the number of entries."""
        ...

    def index_of(self, digest: bytes) -> int | None:
        """Return the index of the entry whose SHA-256 is ``digest``, if any."""
        ...

    def indexes_of(self, digests: Sequence[bytes]) -> dict[bytes, int]:
        """Return ``{digest: index}`` for those of ``digests`` already in the log (one query)."""
        ...

    def read_entry(self, index: int) -> bytes | None:
        """Return the canonical bytes of entry ``index``, or ``None``."""
        ...

    def iter_entries(self, start: int = 0) -> Iterator[tuple[int, bytes]]:
        """Yield ``(index, bytes)`` in index order from ``start``, streaming."""
        ...

    def read_hashes(self, indexes: Sequence[int]) -> Sequence[Hash]:
        """Return the stored tree hashes at ``indexes`` (a tlog.HashReader)."""
        ...

    def iter_hashes(self) -> Iterator[tuple[int, bytes]]:
        """Yield every stored ``(index, hash)`` in index order, streaming."""
        ...

    def get_state(self, app: str, key: str) -> bytes | None:
        """Return the canonical JSON of a state value, or ``None``."""
        ...

    def append(self, index: int, entry: bytes, digest: bytes, type_: str) -> None:
        """Insert entry ``index`` (which must equal the current size)."""
        ...

    def append_next(self, entry: bytes, digest: bytes, type_: str) -> int | None:
        """Insert an entry at index ``size()`` unless ``digest`` is already in the log.

        One statement: returns the new index, or ``None`` for a duplicate (nothing written).
        """
        ...

    def append_entries(self, rows: Sequence[tuple[int, bytes, bytes, str]]) -> None:
        """Insert ``(index, entry, digest, type)`` rows in index order (one batched statement)."""
        ...

    def add_hashes(self, start: int, hashes: Sequence[bytes]) -> None:
        """Insert stored tree hashes at ``start``, ``start + 1``, ..."""
        ...

    def put_state(self, app: str, key: str, value: bytes | None) -> None:
        """Set (or with ``None`` delete) a state value."""
        ...

    def clear_state(self) -> None:
        """Delete all derived state (before a rebuild)."""
        ...

    def put_checkpoint(self, size: int, note: str) -> None:
        """Store a signed checkpoint note for ``size`` (replacing an earlier one)."""
        ...

    def latest_checkpoint(self) -> tuple[int, str] | None:
        """Return the largest stored ``(size, note)``, if any."""
        ...


class Store(Protocol):
    """A ledger database."""

    def write(self) -> AbstractContextManager[Transaction]:
        """Open a write transaction that excludes every other writer until it ends.

        It commits durably when the block exits normally and rolls back on an exception.

        Raises:
            UnavailableError: ``unavailable`` if the lock cannot be had in time.
            StorageError: ``storage`` on database failure.
        """
        ...

    def read(self) -> AbstractContextManager[Transaction]:
        """Open a read-only snapshot transaction."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...
