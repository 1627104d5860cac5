"""Part of :mod:`seoul_vc.ledger.log`: reading, proving and checkpointing the log.

:class:`_LedgerReads` is the base of :class:`~seoul_vc.ledger.log.Ledger` (whose docstring
lists the arguments): entries and derived state from one read snapshot, RFC 9162 roots and
proofs (:mod:`seoul_vc.ledger.tlog`), and the C2SP checkpoints the log signs and its
witnesses cosign (:mod:`seoul_vc.ledger.checkpoint`). Appending, audit and rebuild stay in
:mod:`seoul_vc.ledger.log`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from seoul_vc._json import JSONValue
from seoul_vc.errors import (
    Code,
    ConfigurationError,
    NotFoundError,
    StateConflictError,
    VerificationError,
)
from seoul_vc.ledger import tlog
from seoul_vc.ledger._log_state import _TxState
from seoul_vc.ledger.checkpoint import (
    Checkpoint,
    CosignerVerifier,
    merge_cosignatures,
    open_cosignatures,
    sign_checkpoint,
)
from seoul_vc.ledger.entry import Entry
from seoul_vc.ledger.note import NoteSigner, NoteVerifier

if TYPE_CHECKING:
    from seoul_vc.clock import Clock
    from seoul_vc.ledger.store.base import Store, Transaction
    from seoul_vc.limits import Limits


class _LedgerReads:
    """The reads, proofs and checkpoints of a :class:`~seoul_vc.ledger.log.Ledger`."""

    _store: Store
    _clock: Clock
    _limits: Limits

    def _now(self) -> int:
        return int(self._clock.now().timestamp())

    # -- reading and proving -----------------------------------------------------------------
    @property
    def size(self) -> int:
        """The number of entries."""
        with self._store.read() as tx:
            return tx.size()

    def entry(self, index: int) -> Entry:
        """Return entry ``index``.

        Raises:
            NotFoundError: ``not_found`` past the end.
        """
        with self._store.read() as tx:
            data = tx.read_entry(index)
        if data is None:
            raise NotFoundError(Code.NOT_FOUND, "no entry at that index", index=index)
        return Entry.from_bytes(data)

    def entries(self, start: int, end: int) -> list[Entry]:
        """Return entries ``start`` to ``end - 1`` from one snapshot (fewer past the end).

        Cost: one read transaction streaming ``end - start`` rows; callers bound the range.

        Raises:
            ConfigurationError: ``bad_argument`` unless ``0 <= start <= end``.
        """
        if not 0 <= start <= end:
            raise ConfigurationError(Code.BAD_ARGUMENT, "need 0 <= start <= end")
        found: list[Entry] = []
        with self._store.read() as tx:
            for index, data in tx.iter_entries(start):
                if index >= end:
                    break
                found.append(Entry.from_bytes(data))
        return found

    def state(self, app: str, key: str) -> JSONValue | None:
        """Return a derived state value (``None`` if unset)."""
        with self._store.read() as tx:
            return _TxState(tx).get(app, key)

    def root(self, size: int | None = None) -> bytes:
        """Return the RFC 9162 root of the first ``size`` entries (default: all)."""
        with self._store.read() as tx:
            return tlog.tree_hash(self._size_arg(tx, size), tx)

    def prove_inclusion(self, index: int, size: int | None = None) -> tlog.InclusionProof:
        """Prove entry ``index`` is in the tree of ``size`` entries: O(log size) reads."""
        with self._store.read() as tx:
            return tlog.prove_inclusion(self._size_arg(tx, size), index, tx)

    def prove_consistency(self, old_size: int, size: int | None = None) -> tlog.ConsistencyProof:
        """Prove the tree of ``old_size`` entries is a prefix of the one of ``size``."""
        with self._store.read() as tx:
            return tlog.prove_consistency(self._size_arg(tx, size), old_size, tx)

    @staticmethod
    def _size_arg(tx: Transaction, size: int | None) -> int:
        current = tx.size()
        if size is None:
            return current
        if not 0 <= size <= current:
            raise ConfigurationError(Code.BAD_ARGUMENT, "size is beyond the log", size=size)
        return size

    @property
    def origin(self) -> str:
        """The log's origin, from its genesis entry.

        Raises:
            NotFoundError: ``not_found`` before the genesis.
        """
        origin = self.state("authority", "origin")
        if not isinstance(origin, str):
            raise NotFoundError(Code.NOT_FOUND, "the log has no genesis yet")
        return origin

    def checkpoint(self, signer: NoteSigner, *, store: bool = True) -> str:
        """Sign the current tree head as a C2SP checkpoint, store it and return the note.

        If the latest stored checkpoint is this very note (same tree head, same key: Ed25519
        signatures are deterministic), it is kept and returned with the witness
        cosignatures it has gathered (:meth:`add_cosignatures`), never replaced by a bare one.

        With ``store=False`` the note is only signed and returned: a proof for one reader
        (a view receipt) needs a checkpoint covering its entry, but storing one per view
        would keep replacing the checkpoint witnesses are cosigning.
        """
        origin = self.origin
        if not store:
            with self._store.read() as tx:
                size = tx.size()
                head = Checkpoint(origin=origin, size=size, root_hash=tlog.tree_hash(size, tx))
            return sign_checkpoint(head, signer)
        with self._store.write() as tx:
            size = tx.size()
            note = sign_checkpoint(
                Checkpoint(origin=origin, size=size, root_hash=tlog.tree_hash(size, tx)), signer
            )
            latest = tx.latest_checkpoint()
            if latest is not None and latest[0] == size and latest[1].startswith(note):
                return latest[1]
            tx.put_checkpoint(size, note)
        return note

    def add_cosignatures(
        self, note: str, *, log_key: NoteVerifier, witnesses: Sequence[CosignerVerifier]
    ) -> str:
        """Store witness cosignatures of the latest checkpoint with it, verifying them first.

        ``note`` is the latest stored checkpoint as a witness returns it: the log's signed
        note plus cosignature lines (C2SP tlog-cosignature v1). Every line must verify under
        ``log_key`` or one of ``witnesses``
        (:func:`~seoul_vc.ledger.checkpoint.open_cosignatures`; cosignatures dated past this
        ledger's clock plus ``Limits.clock_skew`` are refused) before the store is touched;
        then, in one write transaction, the cosignatures are merged into the stored note
        (:func:`~seoul_vc.ledger.checkpoint.merge_cosignatures`, one line per witness, the
        newest) and :meth:`latest_checkpoint` returns the result.

        Returns:
            The stored note after the merge.

        Raises:
            MalformedInputError, VerificationError, PolicyError: as
                :func:`~seoul_vc.ledger.checkpoint.open_cosignatures`; ``origin_mismatch``
                for another log's checkpoint.
            StateConflictError: ``conflict`` unless the note's checkpoint is the latest one
                stored (details ``size`` and ``latest_size``, -1 when none is stored), or
                if the stored note carries another log key's signature.
            VerificationError: ``log_fork_detected`` if the log key signed another tree of
                the latest checkpoint's size.
            StorageError, UnavailableError: the store failed or stayed busy.
        """
        submitted = open_cosignatures(
            note,
            log_key=log_key,
            witnesses=witnesses,
            now_timestamp=self._now(),
            max_future_seconds=int(self._limits.clock_skew.total_seconds()),
        )
        if submitted.checkpoint.origin != self.origin:
            raise VerificationError(Code.ORIGIN_MISMATCH, "the checkpoint is for another log")
        size = submitted.checkpoint.size
        with self._store.write() as tx:
            latest = tx.latest_checkpoint()
            if latest is None or latest[0] != size:
                raise StateConflictError(
                    Code.CONFLICT,
                    "only the latest checkpoint is collecting cosignatures",
                    size=size,
                    latest_size=-1 if latest is None else latest[0],
                )
            merged = merge_cosignatures(latest[1], submitted)
            if merged != latest[1]:
                tx.put_checkpoint(size, merged)
        return merged

    def latest_checkpoint(self) -> str | None:
        """Return the latest stored checkpoint note, if any."""
        with self._store.read() as tx:
            latest = tx.latest_checkpoint()
        return None if latest is None else latest[1]
