"""The Ledger: append, prove, checkpoint, audit and rebuild, over a :class:`Store`.

Contract of :meth:`Ledger.append`: one write transaction — verify the signature (before the
lock, it is the costly part), check the signer's authority for the record type, run the
application's ``validate`` and pure ``apply`` against current state, insert the entry, its
1 + (trailing one-bits of n) stored tree hashes (RFC 9162, :mod:`seoul_vc.ledger.tlog`) and
the state writes, commit. It returns only after the commit, so a receipt survives
``kill -9``. Appending an identical entry again returns the earlier receipt with
``duplicate=True`` (retries are safe).

State is derived: :meth:`Ledger.rebuild` replays the log through the same applications;
:meth:`Ledger.audit` recomputes every leaf and stored hash, checks every signature, and names
the first index where the database disagrees with itself or with its latest checkpoint.

Example:
    >>> import tempfile, os
    >>> from seoul_vc.keys import PrivateKey
    >>> from seoul_vc.ledger.log import Ledger
    >>> operator = PrivateKey.generate()
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     ledger = Ledger.open("sqlite:" + os.path.join(tmp, "ledger.db"))
    ...     receipt = ledger.genesis(origin="ledger.seoul.example", operator=operator)
    ...     (receipt.index, ledger.size, ledger.audit().size)
    (0, 1, 1)
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from seoul_vc._json import JSONValue
from seoul_vc.clock import Clock, SystemClock
from seoul_vc.errors import (
    Code,
    ConfigurationError,
    MalformedInputError,
    PolicyError,
    SeoulVCError,
    StateConflictError,
    StorageError,
    VerificationError,
)
from seoul_vc.keys import PrivateKey
from seoul_vc.ledger import tlog
from seoul_vc.ledger._log_read import _LedgerReads
from seoul_vc.ledger._log_state import _BatchState, _put_state, _TxState
from seoul_vc.ledger.app import Application, StateReader
from seoul_vc.ledger.apps import default_apps
from seoul_vc.ledger.apps.authority import GENESIS, granted_types
from seoul_vc.ledger.checkpoint import parse_checkpoint
from seoul_vc.ledger.entry import ENTRY_MAX_DEPTH, MAX_ENTRY_BYTES, Entry, sign_entry
from seoul_vc.ledger.note import _parse
from seoul_vc.ledger.store import open_store
from seoul_vc.limits import Limits

if TYPE_CHECKING:
    from seoul_vc.ledger.store.base import Store, Transaction

__all__ = ["AuditReport", "Ledger", "Receipt"]


class Receipt:
    """Proof of an append: where the entry is and the tree head right after it.

    Attributes:
        index: the entry's position in the log.
        leaf_hash: RFC 9162 leaf hash of the entry's canonical bytes.
        size: the tree size the receipt's root is for (at least ``index + 1``).
        root_hash: the root at ``size`` (folded from the tree's right edge on first access).
        duplicate: the entry was already in the log; nothing was appended.
    """

    __slots__ = ("_frontier", "_root", "duplicate", "index", "leaf_hash", "size")

    def __init__(
        self, *, index: int, leaf_hash: bytes, frontier: tlog.Frontier, duplicate: bool = False
    ) -> None:
        self.index = index
        self.leaf_hash = leaf_hash
        self.size = frontier.size
        self.duplicate = duplicate
        self._frontier = frontier
        self._root: bytes | None = None

    @property
    def root_hash(self) -> bytes:
        """The RFC 9162 root of the tree of ``size`` entries."""
        if self._root is None:
            self._root = self._frontier.root()
        return self._root

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Receipt):
            return NotImplemented
        return (self.index, self.leaf_hash, self.size, self.root_hash, self.duplicate) == (
            other.index,
            other.leaf_hash,
            other.size,
            other.root_hash,
            other.duplicate,
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"Receipt(index={self.index}, size={self.size}, "
            f"root_hash={self.root_hash.hex()}, duplicate={self.duplicate})"
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditReport:
    """A passed audit: the size audited, its recomputed root, and the checkpoint checked."""

    size: int
    root_hash: bytes
    checkpoint_size: int | None


class Ledger(_LedgerReads):
    """A permissioned, append-only Merkle log with derived application state.

    Args:
        store: the database (see :func:`seoul_vc.ledger.store.open_store`).
        apps: the applications whose record types may be appended.
        clock: the time source for entry-time checks.
        limits: ``clock_skew`` bounds how far in the future an entry's time may be.
    """

    def __init__(
        self,
        store: Store,
        *,
        apps: Sequence[Application] | None = None,
        clock: Clock | None = None,
        limits: Limits | None = None,
    ) -> None:
        self._store = store
        self._clock = clock or SystemClock()
        self._limits = limits or Limits()
        self._apps: dict[str, Application] = {}
        self._frontier: tlog.Frontier | None = None
        for app in apps if apps is not None else default_apps():
            for record_type in app.record_types:
                if record_type in self._apps:
                    raise ConfigurationError(
                        Code.BAD_ARGUMENT, "two applications claim one record type"
                    )
                self._apps[record_type] = app

    @classmethod
    def open(
        cls,
        url: str,
        *,
        apps: Sequence[Application] | None = None,
        clock: Clock | None = None,
        limits: Limits | None = None,
    ) -> Ledger:
        """Open the ledger a URL names (``sqlite:PATH`` or ``postgresql://...``)."""
        return cls(open_store(url), apps=apps, clock=clock, limits=limits)

    def close(self) -> None:
        """Close the store."""
        self._store.close()

    # Reading, proving and checkpoints: inherited from _LedgerReads (seoul_vc.ledger._log_read).
    # -- appending ---------------------------------------------------------------------------
    def genesis(
        self,
        *,
        origin: str,
        operator: PrivateKey,
        grants: Mapping[str, Sequence[str]] | None = None,
    ) -> Receipt:
        """Append the genesis entry: the log's origin, its operator and first grants.

        Raises:
            StateConflictError: ``conflict`` if the log is not empty.
        """
        from seoul_vc.ledger.entry import signer_did

        body: dict[str, JSONValue] = {
            "origin": origin,
            "operator": signer_did(operator.public_key),
            "grants": {did: list(types) for did, types in (grants or {}).items()},
        }
        entry = sign_entry(GENESIS, body, operator, time=self._now())
        return self.append(entry)

    def _check(self, entry: Entry) -> tuple[Application, bytes]:
        app = self._apps.get(entry.type)
        if app is None:
            raise MalformedInputError(
                Code.MALFORMED, "no application owns this record type", type=entry.type
            )
        data = entry.to_bytes()
        # Appended entries must read back within Entry.from_bytes' bounds, or audit would
        # later report them as tampered.
        if len(data) > MAX_ENTRY_BYTES:
            raise MalformedInputError(Code.TOO_LARGE, "entry is too large", limit=MAX_ENTRY_BYTES)
        if _nesting(entry.body, ENTRY_MAX_DEPTH - 1) > ENTRY_MAX_DEPTH - 1:
            raise MalformedInputError(Code.TOO_DEEP, "entry nests too deep")
        entry.verify_signature()
        if entry.time > self._now() + int(self._limits.clock_skew.total_seconds()):
            raise VerificationError(Code.NOT_YET_VALID, "entry time is in the future")
        app.validate(entry)
        return app, data

    def append(self, entry: Entry) -> Receipt:
        """Append one entry; see the module docstring for the transaction contract.

        Raises:
            MalformedInputError: unknown record type, bad body, bad signer DID.
            VerificationError: ``invalid_signature``; ``not_yet_valid`` for a future time.
            PolicyError: ``untrusted_signer`` without authority for the record type.
            StateConflictError: the application refused the transition.
            StorageError, UnavailableError: the store failed or stayed busy.
        """
        app, data = self._check(entry)
        digest = hashlib.sha256(data).digest()
        leaf = tlog.leaf_hash(data)
        with self._store.write() as tx:
            # Insert first (one statement: next index, duplicate check and insert), so a
            # retried entry is recognised before its application could refuse it again.
            index = tx.append_next(data, digest, entry.type)
            duplicate = index is None
            if index is None:
                index = tx.index_of(digest)
                if index is None:
                    raise StorageError(Code.STORAGE, "a duplicate entry could not be found")
                frontier = self._frontier_for(tx, tx.size())
            else:
                frontier = self._frontier_for(tx, index)
                state = _TxState(tx)
                self._check_authority(state, entry, app, index)
                writes = app.apply(state, entry, index)
                frontier, stored = frontier.append(leaf)
                tx.add_hashes(tlog.stored_hash_count(index), stored)
                for key, value in writes.items():
                    _put_state(tx, app.name, key, value)
        self._frontier = frontier
        return Receipt(
            index=index,
            leaf_hash=leaf,
            frontier=frontier,
            duplicate=duplicate,
        )

    def append_many(self, entries: Sequence[Entry]) -> list[Receipt]:
        """Append entries in one transaction (group commit): all are appended, or none.

        Signatures are checked before the write lock. Inside it, the batch costs one query
        for duplicates, reads each state key and stored hash at most once (later entries of
        the batch see earlier ones through an in-memory overlay), and writes entries, tree
        hashes and state with one batched statement each.

        Raises:
            as :meth:`append`; the first refused entry aborts the whole batch.
        """
        checked = [(entry, *self._check(entry)) for entry in entries]
        with self._store.write() as tx:
            state = _BatchState(tx)
            size = start_size = tx.size()
            frontier = self._frontier_for(tx, size)
            digests = [hashlib.sha256(data).digest() for _, _, data in checked]
            known = tx.indexes_of(digests)
            placed: list[tuple[int, bytes, bool]] = []
            rows: list[tuple[int, bytes, bytes, str]] = []
            new_hashes: list[bytes] = []
            for (entry, app, data), digest in zip(checked, digests, strict=True):
                leaf = tlog.leaf_hash(data)
                earlier = known.get(digest)
                if earlier is not None:
                    placed.append((earlier, leaf, True))
                    continue
                self._check_authority(state, entry, app, size)
                for key, value in app.apply(state, entry, size).items():
                    state.put(app.name, key, value)
                frontier, stored = frontier.append(leaf)
                new_hashes.extend(stored)
                rows.append((size, data, digest, entry.type))
                known[digest] = size
                placed.append((size, leaf, False))
                size += 1
            if rows:
                tx.append_entries(rows)
                tx.add_hashes(tlog.stored_hash_count(start_size), new_hashes)
            for (app_name, key), value in state.writes.items():
                _put_state(tx, app_name, key, value)
        # Only a committed frontier is cached; the next writer checks it against the size.
        self._frontier = frontier
        return [
            # One tree head for the whole batch: every receipt is for the size after it.
            Receipt(index=i, leaf_hash=leaf, frontier=frontier, duplicate=dup)
            for i, leaf, dup in placed
        ]

    def _frontier_for(self, tx: Transaction, size: int) -> tlog.Frontier:
        """The tree's right edge at ``size``: cached from this ledger's last commit, or read.

        The log is append-only, so a cached frontier of the same size is the current one;
        if another writer (thread, process or server) appended since, the sizes differ and
        the ``popcount(size)`` edge hashes are read again in one query.
        """
        cached = self._frontier
        if cached is not None and cached.size == size:
            return cached
        return tlog.Frontier.load(size, tx)

    def _check_authority(
        self, state: StateReader, entry: Entry, app: Application, size: int
    ) -> None:
        if size == 0 and entry.type != GENESIS:
            raise StateConflictError(Code.CONFLICT, "the first entry must be the genesis")
        if entry.type in app.open_record_types:
            return
        if entry.type not in granted_types(state, entry.signer):
            raise PolicyError(
                Code.UNTRUSTED_SIGNER,
                "the signer holds no authority for this record type",
                type=entry.type,
            )

    # -- audit and rebuild -------------------------------------------------------------------
    def audit(self, *, verify_signatures: bool = True) -> AuditReport:
        """Recompute every hash (and signature) and compare with what the store holds.

        Streams the log with O(log n) memory. Finds edited, deleted, inserted and reordered
        rows of entries and tree hashes, naming the first bad index, and checks the latest
        stored checkpoint's root against the recomputed tree.

        Raises:
            StorageError: ``ledger_tampered`` with ``details["index"]`` the first bad entry.
        """
        frontier = tlog.Frontier.empty()
        with self._store.read() as tx:
            size = tx.size()
            stored = tx.iter_hashes()
            for expected_index, (index, data) in enumerate(tx.iter_entries()):
                if index != expected_index:
                    raise _tampered(expected_index, "an entry is missing")
                self._audit_entry(index, data, verify_signatures)
                frontier, hashes = frontier.append(tlog.leaf_hash(data))
                start = tlog.stored_hash_count(index)
                for offset, value in enumerate(hashes):
                    row = next(stored, None)
                    if row is None or row != (start + offset, value):
                        raise _tampered(index, "a stored tree hash disagrees with the entries")
            if next(stored, None) is not None:
                raise _tampered(size, "tree hashes exist beyond the last entry")
            if frontier.size != size:
                raise _tampered(frontier.size, "an entry is missing")
            root = frontier.root()
            latest = tx.latest_checkpoint()
            checkpoint_size = None
            if latest is not None:
                checkpoint_size = self._audit_checkpoint(tx, size, *latest)
        return AuditReport(size=size, root_hash=root, checkpoint_size=checkpoint_size)

    @staticmethod
    def _audit_entry(index: int, data: bytes, verify_signatures: bool) -> None:
        try:
            entry = Entry.from_bytes(data)
            if verify_signatures:
                entry.verify_signature()
        except SeoulVCError as exc:
            raise _tampered(index, f"entry does not verify ({exc.code})") from exc

    @staticmethod
    def _audit_checkpoint(tx: Transaction, size: int, cp_size: int, note: str) -> int:
        try:
            text, _ = _parse(note)
            checkpoint = parse_checkpoint(text)
        except SeoulVCError as exc:
            raise _tampered(cp_size, "the stored checkpoint does not parse") from exc
        if checkpoint.size != cp_size or cp_size > size:
            raise _tampered(min(cp_size, size), "the log is shorter than its checkpoint")
        if tlog.tree_hash(cp_size, tx) != checkpoint.root_hash:
            raise _tampered(cp_size, "the log's root differs from its signed checkpoint")
        return cp_size

    def rebuild(self) -> int:
        """Clear derived state and replay every entry through its application.

        Returns:
            The number of entries replayed.

        Raises:
            StorageError: ``ledger_tampered`` if an entry no longer applies.
        """
        count = 0
        with self._store.write() as tx:
            tx.clear_state()
            state = _TxState(tx)
            for index, data in list(tx.iter_entries()):
                entry = Entry.from_bytes(data)
                app = self._apps.get(entry.type)
                if app is None:
                    raise _tampered(index, "entry of an unknown record type")
                try:
                    self._check_authority(state, entry, app, index)
                    writes = app.apply(state, entry, index)
                except SeoulVCError as exc:
                    raise _tampered(index, f"entry no longer applies ({exc.code})") from exc
                for key, value in writes.items():
                    _put_state(tx, app.name, key, value)
                count += 1
        return count


def _nesting(value: object, limit: int) -> int:
    """Return the nesting depth of a JSON value (an object or array counts 1), up to limit+1."""
    if isinstance(value, dict):
        children: object = value.values()
    elif isinstance(value, list):
        children = value
    else:
        return 0
    deepest = 0
    for child in children:  # type: ignore[attr-defined]
        if limit <= 0:
            return 1
        deepest = max(deepest, _nesting(child, limit - 1))
        if deepest >= limit:
            break
    return 1 + deepest


def _tampered(index: int, message: str) -> StorageError:
    return StorageError(Code.LEDGER_TAMPERED, message, index=index)
