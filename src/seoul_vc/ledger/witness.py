"""A witness: another agency that cosigns the ledger's checkpoints, only ever forward.

Room: this module decides *whether* to cosign; :mod:`~seoul_vc.ledger.checkpoint` holds the
cosignature format and :mod:`~seoul_vc.ledger.tlog` the consistency check it relies on.

Specs: the checks of C2SP tlog-witness ``add-checkpoint`` (https://c2sp.org/tlog-witness),
cosignatures of C2SP tlog-cosignature v1 (Ed25519, type 0x04), checkpoints of C2SP
tlog-checkpoint, and RFC 9162 §2.1.4 consistency proofs.

For every log origin it is configured with, the witness remembers the latest checkpoint it
cosigned (size, root hash, timestamp). It cosigns a new checkpoint only if the log's own key
signed it and it extends that remembered tree:

* first checkpoint for an origin: trusted on first use (a proof, if given, must check from
  the empty tree);
* same size, same root: cosigned again with a fresh timestamp (idempotent);
* same size, another root, or a smaller size: refused as ``log_fork_detected``;
* larger size: a consistency proof from the remembered tree is required
  (``proof_arguments_invalid`` without one, ``consistency_proof_invalid`` if it fails).

Threat model. A log operator could show one history to some verifiers and another to others
(a *split view*), rewrite entries it already published (a *fork*), or drop recent entries
(a *rollback*). A signature alone cannot reveal any of these: each branch is signed. A witness
that never cosigns two inconsistent checkpoints of one origin turns each into a refusal, and
a verifier that demands cosignatures from M of N independent witnesses
(:class:`~seoul_vc.ledger.checkpoint.WitnessPolicy`) cannot be shown a branch unless those
witnesses were shown it too — so a split view needs the collusion of a quorum.

That promise holds only while the witness's memory does. The state is written to
``state_path`` atomically and fsynced *before* a cosignature is returned, and a check and its
write happen under one lock (a thread lock and an exclusive ``flock`` on a sidecar file), so a
crash, a restart or two processes sharing the file never lead to cosigning a fork or a
rollback of something already vouched for. A corrupt state file is an error, never a reset.
A *missing* state file means a new witness (trust on first use again): a witness whose state
is lost must be retired with its key, not restarted. POSIX only (``fcntl``).

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> from seoul_vc.keys import PrivateKey
    >>> from seoul_vc.ledger.checkpoint import Checkpoint, CosignerKey, sign_checkpoint
    >>> from seoul_vc.ledger.note import NoteSigner
    >>> from seoul_vc.ledger.tlog import EMPTY_ROOT
    >>> from seoul_vc.ledger.witness import Witness
    >>> log = NoteSigner("log.seoul.example", PrivateKey.generate())
    >>> key = CosignerKey("nhis.example/witness", PrivateKey.generate())
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     witness = Witness(key, logs={"log.seoul.example": log.verifier},
    ...                       state_path=Path(tmp) / "witness.json")
    ...     cp = Checkpoint(origin="log.seoul.example", size=0, root_hash=EMPTY_ROOT)
    ...     cosigned = witness.cosign(sign_checkpoint(cp, log))
    ...     witness.latest("log.seoul.example") == cp
    True
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import os
import tempfile
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from seoul_vc._encoding import b64_hash_decode, parse_decimal
from seoul_vc._json import JSONObject, JSONValue, canonical, loads_object
from seoul_vc.clock import Clock, SystemClock
from seoul_vc.errors import (
    Code,
    ConfigurationError,
    MalformedInputError,
    NotFoundError,
    StateConflictError,
    StorageError,
    VerificationError,
)
from seoul_vc.ledger.checkpoint import (
    MAX_TIMESTAMP,
    ORIGIN_RE,
    Checkpoint,
    CosignerKey,
    parse_checkpoint,
)
from seoul_vc.ledger.note import MAX_NOTE_BYTES, NoteVerifier, open_note
from seoul_vc.ledger.tlog import (
    EMPTY_ROOT,
    MAX_TREE_SIZE,
    ConsistencyProof,
    Hash,
    check_consistency,
)

__all__ = ["MAX_STATE_BYTES", "Witness"]

#: Bound on the state file; an entry takes about 120 bytes plus its origin.
MAX_STATE_BYTES: Final = 16 * 1024 * 1024
_STATE_VERSION: Final = 1
_STATE_DEPTH: Final = 3


@dataclass(frozen=True, slots=True, kw_only=True)
class _Cosigned:
    """The latest checkpoint cosigned for one origin, and when."""

    size: int
    root: Hash
    timestamp: int


class Witness:
    """Cosigns a log's checkpoints only if each extends the last one it cosigned.

    Args:
        key: the witness's cosigning key (its name and Ed25519 key, type 0x04).
        logs: the trusted log key for each origin this witness serves.
        state_path: the JSON file holding the latest cosigned checkpoint per origin; its
            directory must exist and be writable. A sidecar ``<name>.lock`` is created
            beside it.
        clock: the source of cosignature timestamps; the system clock by default.

    Raises:
        ConfigurationError: ``bad_argument`` for an origin that is not one non-empty line.
        StorageError: ``storage`` if the state file cannot be read or is corrupt.
    """

    def __init__(
        self,
        key: CosignerKey,
        *,
        logs: Mapping[str, NoteVerifier],
        state_path: Path,
        clock: Clock | None = None,
    ) -> None:
        for origin in logs:
            if ORIGIN_RE.fullmatch(origin) is None:
                raise ConfigurationError(Code.BAD_ARGUMENT, "an origin is one non-empty line")
        self._key = key
        self._logs = dict(logs)
        self._path = Path(state_path)
        self._lock_path = self._path.with_name(self._path.name + ".lock")
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._lock = threading.Lock()
        self._read_state()  # fail now, not at the first cosignature, if the state is corrupt

    def cosign(self, note: str, proof: ConsistencyProof | None = None) -> str:
        """Check a log-signed checkpoint against what was cosigned before, and cosign it.

        Args:
            note: the checkpoint as a signed note, signed by the log key for its origin
                (other signatures, cosignatures included, are ignored).
            proof: the RFC 9162 consistency proof from the latest checkpoint this witness
                cosigned for the origin (see :meth:`latest`) to ``note``'s; needed when the
                log grew, optional otherwise.

        Returns:
            ``note`` followed by this witness's cosignature line (C2SP tlog-cosignature v1),
            dated ``max(now, the origin's previous cosignature time)``.

        Durability: the new state is fsynced to ``state_path`` before this returns, so a
        cosignature that was returned survives a crash. Checking and writing run under a
        thread lock and an exclusive ``flock``, so concurrent calls — in threads or in
        processes sharing ``state_path`` — behave as if made one after another.

        Raises:
            NotFoundError: ``not_found`` if the note's origin is not configured.
            MalformedInputError: ``malformed``/``too_large`` for a note or checkpoint that
                does not parse, or a size above ``2**64 - 1``.
            VerificationError: ``invalid_signature`` unless the log key signed the note;
                ``log_fork_detected`` for a smaller size or, at the same size, another root;
                ``proof_arguments_invalid`` for a missing proof when the log grew, or a proof
                of the wrong length; ``consistency_proof_invalid`` if the proof does not link
                the two trees.
            ConfigurationError: ``bad_argument`` if the clock reads before 1970.
            StorageError: ``storage`` if the state cannot be read, is corrupt, or cannot be
                written; nothing is cosigned then.
        """
        return note + self._cosign(note, proof, None)

    def add_checkpoint(self, old_size: int, proof: ConsistencyProof, note: str) -> str:
        """Answer a C2SP tlog-witness ``add-checkpoint`` request: the cosignature line.

        The checks of :meth:`cosign`, and the client's ``old_size`` must be the size this
        witness cosigned last for the origin (0 if none), checked under the same lock that
        persists the new state, so concurrent requests cannot roll the state back.

        Args:
            old_size: the request's old size: at most the checkpoint's size.
            proof: the consistency proof from ``old_size`` (empty when it is 0).
            note: the log-signed checkpoint (other signatures are ignored).

        Returns:
            This witness's cosignature line (the 200 answer's body).

        Raises:
            StateConflictError: ``old_size_mismatch`` (``details.size``: the size cosigned
                last) when ``old_size`` is another.
            MalformedInputError: ``malformed`` for an ``old_size`` past the checkpoint's.
            NotFoundError, VerificationError, StorageError: as :meth:`cosign`.
        """
        return self._cosign(note, proof, old_size)

    def _cosign(self, note: str, proof: ConsistencyProof | None, old_size: int | None) -> str:
        verifier = self._verifier_for(note)
        # Verify the log's signature before parsing what it signed (tlog-witness).
        opened = open_note(note, [verifier])
        checkpoint = parse_checkpoint(opened.text)
        if checkpoint.size > MAX_TREE_SIZE:
            # RFC 9162 sizes are uint64; remembering a larger one would corrupt the state.
            raise MalformedInputError(Code.MALFORMED, "checkpoint size exceeds 2**64 - 1")
        if old_size is not None and not 0 <= old_size <= checkpoint.size:
            raise MalformedInputError(
                Code.MALFORMED, "the old size is past the checkpoint's size", old_size=old_size
            )
        root = Hash(checkpoint.root_hash)
        with self._locked():
            states = self._read_state()
            last = states.get(checkpoint.origin)
            if old_size is not None and old_size != (0 if last is None else last.size):
                raise StateConflictError(
                    Code.OLD_SIZE_MISMATCH,
                    "the old size is not the size this witness cosigned last",
                    size=0 if last is None else last.size,
                )
            now = int(self._clock.now().timestamp())
            if last is None:
                # Trust on first use: nothing to be consistent with but the empty tree.
                if proof is not None:
                    check_consistency(proof, checkpoint.size, root, 0, EMPTY_ROOT)
                timestamp = now
            else:
                _check_extends(last, checkpoint.size, root, proof)
                # A clock that went backwards must not date this before what we vouched for.
                timestamp = max(last.timestamp, now)
            line = self._key.signature_line(opened.text, timestamp)
            cosigned = _Cosigned(size=checkpoint.size, root=root, timestamp=timestamp)
            # The same tree again within the same second changes nothing: no write, so a
            # replayed checkpoint costs at most one fsync per origin and second.
            if cosigned != last:
                states[checkpoint.origin] = cosigned
                self._write_state(states)
        return line

    def latest(self, origin: str) -> Checkpoint | None:
        """Return the latest checkpoint cosigned for ``origin``, or ``None`` if none was.

        The state is read from ``state_path`` on each call, so this sees cosignatures made by
        other processes sharing the file. Extension lines are not kept.

        Raises:
            StorageError: ``storage`` if the state file cannot be read or is corrupt.
        """
        last = self._read_state().get(origin)
        if last is None:
            return None
        return Checkpoint(origin=origin, size=last.size, root_hash=bytes(last.root))

    def log_key(self, origin: str) -> NoteVerifier:
        """Return the log key this witness trusts for ``origin``.

        Raises:
            NotFoundError: ``not_found`` if the origin is not configured.
        """
        verifier = self._logs.get(origin)
        if verifier is None:
            raise NotFoundError(Code.NOT_FOUND, "this witness does not serve that origin")
        return verifier

    # -- internals -----------------------------------------------------------------------------

    def _verifier_for(self, note: str) -> NoteVerifier:
        if len(note) > MAX_NOTE_BYTES:  # each character is at least one UTF-8 byte
            raise MalformedInputError(Code.TOO_LARGE, "note is too large", limit=MAX_NOTE_BYTES)
        # The origin line only picks the key; nothing else is read before it verifies.
        end = note.find("\n")
        if end <= 0:
            raise MalformedInputError(Code.MALFORMED, "checkpoint has no origin line")
        verifier = self._logs.get(note[:end])
        if verifier is None:
            raise NotFoundError(Code.NOT_FOUND, "this witness does not serve that origin")
        return verifier

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the thread lock and an exclusive ``flock`` on the sidecar lock file."""
        with self._lock:
            try:
                fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            except OSError as exc:
                raise StorageError(
                    Code.STORAGE, "cannot open the witness lock file", file=self._lock_path.name
                ) from exc
            try:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX)
                except OSError as exc:
                    raise StorageError(
                        Code.STORAGE, "cannot lock the witness state", file=self._lock_path.name
                    ) from exc
                yield
            finally:
                os.close(fd)  # closing the descriptor releases the flock

    def _read_state(self) -> dict[str, _Cosigned]:
        try:
            data = self._path.read_bytes()
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise StorageError(
                Code.STORAGE, "cannot read the witness state", file=self._path.name
            ) from exc
        try:
            return _decode_state(data)
        except MalformedInputError as exc:
            # Never start over: an empty memory would cosign a fork of what we vouched for.
            raise StorageError(
                Code.STORAGE, "the witness state file is corrupt", file=self._path.name
            ) from exc

    def _write_state(self, states: Mapping[str, _Cosigned]) -> None:
        """Replace the state file atomically: temp file, fsync, rename, fsync directory."""
        data = _encode_state(states)
        directory = self._path.parent
        try:
            fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{self._path.name}.", suffix=".tmp")
        except OSError as exc:
            raise StorageError(
                Code.STORAGE, "cannot write the witness state", file=self._path.name
            ) from exc
        done = False
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self._path)
            done = True
            dir_fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
            try:
                os.fsync(dir_fd)  # make the rename itself durable
            finally:
                os.close(dir_fd)
        except OSError as exc:
            raise StorageError(
                Code.STORAGE, "cannot write the witness state", file=self._path.name
            ) from exc
        finally:
            if not done:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)


def _check_extends(last: _Cosigned, size: int, root: Hash, proof: ConsistencyProof | None) -> None:
    """Refuse unless the ``size`` tree with ``root`` extends the ``last`` cosigned one."""
    if size < last.size or (size == last.size and root != last.root):
        # Either the log lost entries or it shows two trees of one size; a stale but honest
        # resubmission looks the same from here, so the caller must send the latest tree.
        raise VerificationError(
            Code.LOG_FORK_DETECTED,
            "the checkpoint contradicts the one this witness cosigned",
            old_size=last.size,
            new_size=size,
            old_root=bytes(last.root).hex(),
            new_root=bytes(root).hex(),
        )
    if size > last.size and proof is None:
        raise VerificationError(
            Code.PROOF_ARGUMENTS_INVALID,
            "a consistency proof from the last cosigned size is required",
            old_size=last.size,
            new_size=size,
        )
    if proof is not None:
        # At the same size an empty proof checks; any other is refused (RFC 9162 §2.1.4.2).
        check_consistency(proof, size, root, last.size, last.root)


# -- the state file ------------------------------------------------------------------------------
#
# {"logs": {"<origin>": {"root": "<base64>", "size": "<decimal>", "timestamp": "<decimal>"}},
#  "version": 1}, in RFC 8785 form. Sizes and times are decimal strings because RFC 8785 numbers
# are IEEE doubles, exact only up to 2**53, and tree sizes are uint64.


def _encode_state(states: Mapping[str, _Cosigned]) -> bytes:
    logs: dict[str, JSONValue] = {
        origin: {
            "root": base64.b64encode(state.root).decode(),
            "size": str(state.size),
            "timestamp": str(state.timestamp),
        }
        for origin, state in states.items()
    }
    document: JSONObject = {"logs": logs, "version": _STATE_VERSION}
    return canonical(document)


def _decode_state(data: bytes) -> dict[str, _Cosigned]:
    """Parse the state file strictly.

    Raises:
        MalformedInputError: for anything but a state file this module wrote.
    """
    document = loads_object(
        data, max_bytes=MAX_STATE_BYTES, max_depth=_STATE_DEPTH, what="witness state"
    )
    version = document.get("version")
    logs = document.get("logs")
    if (
        set(document) != {"logs", "version"}
        or type(version) is not int
        or not isinstance(logs, dict)
    ):
        raise MalformedInputError(Code.MALFORMED, "witness state has the wrong layout")
    if version != _STATE_VERSION:
        raise MalformedInputError(Code.MALFORMED, "unknown witness state version")
    states: dict[str, _Cosigned] = {}
    for origin, entry in logs.items():
        if ORIGIN_RE.fullmatch(origin) is None or not isinstance(entry, dict):
            raise MalformedInputError(Code.MALFORMED, "witness state has a bad entry")
        if set(entry) != {"root", "size", "timestamp"}:
            raise MalformedInputError(Code.MALFORMED, "witness state has a bad entry")
        root_text, size_text, time_text = entry["root"], entry["size"], entry["timestamp"]
        if not (isinstance(root_text, str) and isinstance(size_text, str)):
            raise MalformedInputError(Code.MALFORMED, "witness state has a bad entry")
        if not isinstance(time_text, str):
            raise MalformedInputError(Code.MALFORMED, "witness state has a bad entry")
        size = parse_decimal(size_text, what="witness state size")
        timestamp = parse_decimal(time_text, what="witness state timestamp")
        if size > MAX_TREE_SIZE or timestamp > MAX_TIMESTAMP:
            raise MalformedInputError(Code.MALFORMED, "witness state value out of range")
        states[origin] = _Cosigned(size=size, root=_decode_root(root_text), timestamp=timestamp)
    return states


def _decode_root(text: str) -> Hash:
    return Hash(b64_hash_decode(text, what="witness state root"))
