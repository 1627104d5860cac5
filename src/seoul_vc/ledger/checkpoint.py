"""Checkpoints (C2SP tlog-checkpoint) and witness cosignatures (C2SP tlog-cosignature v1).

A checkpoint is a signed note whose text is the log's origin, its tree size and its RFC 9162
root hash (base64), one per line. The log operator signs it as a plain Ed25519 note
(type 0x01). Witnesses — other agencies — add Ed25519 *cosignatures* (type 0x04): a
``timestamped_signature`` (u64 big-endian POSIX time || 64-byte Ed25519 signature) over

    cosignature/v1
    time <timestamp>
    <the checkpoint's note text>

A cosignature states that, at that time, this was the largest consistent tree the witness had
seen for the origin; :class:`seoul_vc.ledger.witness.Witness` signs only after checking a
consistency proof from the last checkpoint it cosigned.

:func:`open_checkpoint` verifies the log's signature first, parses only then, checks the
origin, then counts cosignatures by the witnesses of a :class:`WitnessPolicy` (M of N).
A log collecting cosignatures uses :func:`open_cosignatures` instead (every signature line
must be its own or a configured witness's) and :func:`merge_cosignatures` to add them to
the checkpoint it stored (:meth:`seoul_vc.ledger.log.Ledger.add_cosignatures`).

Example:
    >>> from seoul_vc.keys import PrivateKey
    >>> from seoul_vc.ledger.checkpoint import (
    ...     Checkpoint, CosignerKey, WitnessPolicy, cosign, open_checkpoint, sign_checkpoint)
    >>> from seoul_vc.ledger.note import NoteSigner
    >>> log = NoteSigner("log.seoul.example", PrivateKey.generate())
    >>> cp = Checkpoint(origin="log.seoul.example", size=0, root_hash=bytes(32))
    >>> witness = CosignerKey("nhis.example/witness", PrivateKey.generate())
    >>> note = sign_checkpoint(cp, log)
    >>> note = cosign(note, log.verifier, witness, timestamp=1767225600)
    >>> policy = WitnessPolicy(witnesses=(witness.verifier,), threshold=1)
    >>> opened = open_checkpoint(note, origin="log.seoul.example", log_key=log.verifier,
    ...                          witnesses=policy)
    >>> opened.checkpoint == cp
    True
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

from seoul_vc._encoding import b64_hash_decode, parse_decimal
from seoul_vc.errors import (
    Code,
    ConfigurationError,
    MalformedInputError,
    PolicyError,
    StateConflictError,
    VerificationError,
)
from seoul_vc.keys import KeyAlgorithm, PrivateKey, PublicKey
from seoul_vc.ledger.note import (
    Note,
    NoteSignature,
    NoteSigner,
    NoteVerifier,
    _parse,
    open_note,
    sign_note,
    signature_line,
)

__all__ = [
    "COSIGNATURE_TYPE",
    "MAX_TIMESTAMP",
    "ORIGIN_RE",
    "Checkpoint",
    "Cosignature",
    "CosignedCheckpoint",
    "CosignerKey",
    "CosignerVerifier",
    "WitnessPolicy",
    "cosign",
    "format_checkpoint",
    "merge_cosignatures",
    "open_checkpoint",
    "open_cosignatures",
    "parse_checkpoint",
    "sign_checkpoint",
]

#: Signature type of timestamped Ed25519 cosignatures (C2SP signed-note, tlog-cosignature).
COSIGNATURE_TYPE: Final = 0x04
#: Largest cosignature timestamp (a u64 that must not exceed 2^63 - 1, tlog-cosignature).
MAX_TIMESTAMP: Final = 2**63 - 1
#: An origin or extension line: non-empty, one line.
ORIGIN_RE: Final = re.compile(r"[^\n]+")


@dataclass(frozen=True, slots=True, kw_only=True)
class Checkpoint:
    """A log's tree head: origin, size and RFC 9162 root hash (plus opaque extensions)."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()


def format_checkpoint(checkpoint: Checkpoint) -> str:
    """Return the checkpoint's note text (tlog-checkpoint, "Note text").

    Raises:
        ConfigurationError: ``bad_argument`` for an empty origin, a negative size, a root
            hash that is not 32 bytes, or empty/multi-line extension lines.
    """
    if ORIGIN_RE.fullmatch(checkpoint.origin) is None:
        raise ConfigurationError(Code.BAD_ARGUMENT, "origin must be one non-empty line")
    if checkpoint.size < 0 or len(checkpoint.root_hash) != 32:
        raise ConfigurationError(Code.BAD_ARGUMENT, "size must be >= 0 and the root 32 bytes")
    if any(ORIGIN_RE.fullmatch(line) is None for line in checkpoint.extensions):
        raise ConfigurationError(Code.BAD_ARGUMENT, "extension lines must be non-empty lines")
    lines = [
        checkpoint.origin,
        str(checkpoint.size),
        base64.b64encode(checkpoint.root_hash).decode(),
        *checkpoint.extensions,
    ]
    return "\n".join(lines) + "\n"


def parse_checkpoint(text: str) -> Checkpoint:
    """Parse checkpoint note text strictly (call only on text whose signature verified).

    Raises:
        MalformedInputError: ``malformed`` for missing or empty lines, a size that is not a
            canonical ASCII decimal, or a root hash that is not canonical base64 of 32 bytes.
    """
    if not text.endswith("\n"):
        raise MalformedInputError(Code.MALFORMED, "checkpoint text ends with a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3 or any(not line for line in lines):
        raise MalformedInputError(Code.MALFORMED, "checkpoint needs origin, size and root lines")
    origin, size_text, root_text, *extensions = lines
    size = parse_decimal(size_text, what="checkpoint size")
    root = b64_hash_decode(root_text, what="checkpoint root")
    return Checkpoint(origin=origin, size=size, root_hash=root, extensions=tuple(extensions))


def sign_checkpoint(checkpoint: Checkpoint, log: NoteSigner) -> str:
    """Return the checkpoint signed by the log operator as a C2SP note."""
    return sign_note(format_checkpoint(checkpoint), [log])


def _cosigner_key_id(name: str, key: PublicKey) -> int:
    if key.alg is not KeyAlgorithm.EDDSA:
        raise ConfigurationError(Code.BAD_ARGUMENT, "cosigner keys are Ed25519")
    raw = base64.urlsafe_b64decode(key.to_jwk()["x"] + "=")
    digest = hashlib.sha256(name.encode() + b"\n" + bytes([COSIGNATURE_TYPE]) + raw).digest()
    return int.from_bytes(digest[:4], "big")


def _cosigned_message(text: str, timestamp: int) -> bytes:
    return f"cosignature/v1\ntime {timestamp}\n{text}".encode()


@dataclass(frozen=True, slots=True)
class CosignerVerifier:
    """A trusted witness: its name, cosignature key ID (type 0x04) and Ed25519 key."""

    name: str
    key_id: int
    public_key: PublicKey

    @classmethod
    def for_key(cls, name: str, public_key: PublicKey) -> CosignerVerifier:
        """Build the verifier for a witness key under ``name``.

        Raises:
            ConfigurationError: ``bad_argument`` for a non-Ed25519 key or a bad name.
        """
        NoteVerifier.for_key(name, public_key)  # same name rules as note keys
        return cls(name, _cosigner_key_id(name, public_key), public_key)


class CosignerKey:
    """A witness's signing key for timestamped Ed25519 cosignatures."""

    def __init__(self, name: str, key: PrivateKey) -> None:
        self._key = key
        self.verifier = CosignerVerifier.for_key(name, key.public_key)

    def signature_line(self, text: str, timestamp: int) -> str:
        """Return the cosignature line over checkpoint ``text`` at ``timestamp``.

        Raises:
            ConfigurationError: ``bad_argument`` for a timestamp outside 0..2^63-1.
        """
        if not 0 <= timestamp <= MAX_TIMESTAMP:
            raise ConfigurationError(Code.BAD_ARGUMENT, "timestamp must fit in 63 bits")
        sig = self._key.sign(_cosigned_message(text, timestamp))
        blob = self.verifier.key_id.to_bytes(4, "big") + timestamp.to_bytes(8, "big") + sig
        return f"\u2014 {self.verifier.name} {base64.b64encode(blob).decode()}\n"


def cosign(note: str, log_key: NoteVerifier, witness: CosignerKey, *, timestamp: int) -> str:
    """Add ``witness``'s cosignature to a log-signed checkpoint note.

    This only signs; the decision to sign (consistency with what the witness saw before)
    belongs to :class:`seoul_vc.ledger.witness.Witness`.

    Raises:
        VerificationError: ``invalid_signature`` if the log did not sign ``note``.
        MalformedInputError: if the note or checkpoint does not parse.
    """
    opened = open_note(note, [log_key])
    parse_checkpoint(opened.text)
    return note + witness.signature_line(opened.text, timestamp)


@dataclass(frozen=True, slots=True)
class Cosignature:
    """A verified cosignature: who and when."""

    witness: CosignerVerifier
    timestamp: int


@dataclass(frozen=True, slots=True, kw_only=True)
class WitnessPolicy:
    """Which witnesses a verifier trusts and how many must cosign (M of N).

    An empty policy is refused; a verifier that accepts unwitnessed checkpoints says so
    with :meth:`unwitnessed`.
    """

    witnesses: tuple[CosignerVerifier, ...]
    threshold: int
    _unwitnessed: bool = field(default=False, repr=False)

    def __post_init__(self) -> None:
        if self._unwitnessed:
            return
        names = {(w.name, w.key_id) for w in self.witnesses}
        if not self.witnesses or len(names) != len(self.witnesses):
            raise ConfigurationError(Code.BAD_ARGUMENT, "a witness policy needs distinct witnesses")
        if not 1 <= self.threshold <= len(self.witnesses):
            raise ConfigurationError(Code.BAD_ARGUMENT, "threshold must be 1..number of witnesses")

    @classmethod
    def unwitnessed(cls) -> WitnessPolicy:
        """A policy that requires no cosignature: trust the log's signature alone."""
        return cls(witnesses=(), threshold=0, _unwitnessed=True)


@dataclass(frozen=True, slots=True, kw_only=True)
class CosignedCheckpoint:
    """An opened checkpoint: the tree head, its note, and the cosignatures that verified."""

    checkpoint: Checkpoint
    note: Note
    cosignatures: tuple[Cosignature, ...]


def open_checkpoint(
    data: str | bytes,
    *,
    origin: str,
    log_key: NoteVerifier,
    witnesses: WitnessPolicy,
    now_timestamp: int | None = None,
    max_future_seconds: int = 300,
) -> CosignedCheckpoint:
    """Verify a checkpoint note: log signature, origin, then M-of-N witness cosignatures.

    Args:
        data: the signed checkpoint note.
        origin: the origin the verifier expects.
        log_key: the log operator's note key.
        witnesses: the witness policy to satisfy.
        now_timestamp: if given, cosignatures dated more than ``max_future_seconds`` after it
            are refused (the spec allows rejecting future timestamps).
        max_future_seconds: tolerated clock skew for cosignature timestamps.

    Raises:
        VerificationError: ``invalid_signature`` (log signature missing or bad, or a bad
            cosignature from a trusted witness), ``origin_mismatch``.
        MalformedInputError: ``malformed``/``too_large`` for a bad note or checkpoint text.
        PolicyError: ``witness_quorum_not_met`` when fewer than M trusted witnesses cosigned.
    """
    note = open_note(data, [log_key])
    checkpoint = parse_checkpoint(note.text)
    if checkpoint.origin != origin:
        raise VerificationError(Code.ORIGIN_MISMATCH, "checkpoint is for another log")
    trusted = {(w.name, w.key_id): w for w in witnesses.witnesses}
    seen: dict[CosignerVerifier, Cosignature] = {}
    for sig in note.signatures:
        witness = trusted.get((sig.name, sig.key_id))
        if witness is None:
            continue
        cosignature = _check_cosignature(witness, note.text, sig, now_timestamp, max_future_seconds)
        seen.setdefault(witness, cosignature)
    if len(seen) < witnesses.threshold:
        raise PolicyError(
            Code.WITNESS_QUORUM_NOT_MET,
            "too few trusted witnesses cosigned the checkpoint",
            needed=witnesses.threshold,
            got=len(seen),
        )
    return CosignedCheckpoint(checkpoint=checkpoint, note=note, cosignatures=tuple(seen.values()))


def _check_cosignature(
    witness: CosignerVerifier,
    text: str,
    sig: NoteSignature,
    now_timestamp: int | None,
    max_future_seconds: int,
) -> Cosignature:
    """Verify one cosignature line of ``witness`` over checkpoint ``text`` (tlog-cosignature)."""
    if len(sig.signature) != 72:
        raise VerificationError(Code.INVALID_SIGNATURE, "cosignature has the wrong length")
    timestamp = int.from_bytes(sig.signature[:8], "big")
    if timestamp > MAX_TIMESTAMP:
        raise VerificationError(Code.INVALID_SIGNATURE, "cosignature timestamp out of range")
    if now_timestamp is not None and timestamp > now_timestamp + max_future_seconds:
        raise VerificationError(Code.INVALID_SIGNATURE, "cosignature dated in the future")
    witness.public_key.verify(_cosigned_message(text, timestamp), sig.signature[8:])
    return Cosignature(witness, timestamp)


def open_cosignatures(
    data: str | bytes,
    *,
    log_key: NoteVerifier,
    witnesses: Sequence[CosignerVerifier],
    now_timestamp: int | None = None,
    max_future_seconds: int = 300,
) -> CosignedCheckpoint:
    """Verify a checkpoint that witnesses send back to its log, cosignatures and all.

    This is the log's side of collecting cosignatures, stricter than a verifier's
    :func:`open_checkpoint`: every signature line must come from the log key or from one of
    ``witnesses`` and must verify (C2SP signed-note lets a *verifier* ignore unknown keys; a
    log only stores what it can vouch for), and at least one witness must have cosigned.
    The log's signature is verified before the text is parsed.

    Returns:
        The opened checkpoint; ``cosignatures`` holds, per witness, its newest cosignature.

    Raises:
        MalformedInputError: ``malformed``/``too_large`` for a note or checkpoint that does
            not parse; ``malformed`` if no listed witness cosigned.
        VerificationError: ``invalid_signature`` if the log key did not sign the note or a
            cosignature fails (bad signature, wrong length, timestamp out of range or more
            than ``max_future_seconds`` after ``now_timestamp``).
        PolicyError: ``untrusted_signer`` for a line from neither the log nor a witness.
    """
    note = open_note(data, [log_key])
    checkpoint = parse_checkpoint(note.text)
    known = {(w.name, w.key_id): w for w in witnesses}
    newest: dict[CosignerVerifier, Cosignature] = {}
    for sig in note.signatures:
        if (sig.name, sig.key_id) == (log_key.name, log_key.key_id):
            continue  # verified by open_note
        witness = known.get((sig.name, sig.key_id))
        if witness is None:
            raise PolicyError(
                Code.UNTRUSTED_SIGNER,
                "a signature is from neither the log nor a configured witness",
                key_name=sig.name[:128],
                key_id=f"{sig.key_id:08x}",
            )
        cosignature = _check_cosignature(witness, note.text, sig, now_timestamp, max_future_seconds)
        if witness not in newest or newest[witness].timestamp < cosignature.timestamp:
            newest[witness] = cosignature
    if not newest:
        raise MalformedInputError(Code.MALFORMED, "the checkpoint carries no cosignature")
    return CosignedCheckpoint(checkpoint=checkpoint, note=note, cosignatures=tuple(newest.values()))


def _timestamp_of(cosignature: NoteSignature) -> int:
    return int.from_bytes(cosignature.signature[:8], "big")


def merge_cosignatures(stored: str, submitted: CosignedCheckpoint) -> str:
    """Add ``submitted``'s cosignatures to ``stored``, the same checkpoint as the log keeps it.

    ``stored`` is a note the log signed and stored itself (its lines were verified before
    they were stored, so they are not verified again). Each witness keeps one line: a
    submitted cosignature replaces that witness's stored one only if it is newer, so the
    result shows how recently each witness vouched for the tree. Stored lines keep their
    order; new witnesses follow. Merging the same submission twice changes nothing.

    Raises:
        MalformedInputError: ``malformed``/``too_large`` if ``stored`` does not parse, or
            the merged note would carry more than
            :data:`~seoul_vc.ledger.note.MAX_SIGNATURES` signatures.
        VerificationError: ``log_fork_detected`` if the two notes sign different text: the
            log signed two checkpoints that the caller expected to be one.
        StateConflictError: ``conflict`` if ``stored`` lacks the log signature the
            submission was verified by.
    """
    text, lines = _parse(stored)
    if text != submitted.note.text:
        raise VerificationError(
            Code.LOG_FORK_DETECTED, "the submitted checkpoint is not the stored one"
        )
    log_keys = {(v.name, v.key_id) for v in submitted.note.verified_by}
    signed = {s for s in submitted.note.signatures if (s.name, s.key_id) in log_keys}
    if not signed & set(lines):
        # Same text, another log key (a checkpoint signed elsewhere): cosignatures go only
        # to a note whose log signature the submitter verified.
        raise StateConflictError(
            Code.CONFLICT, "the stored checkpoint carries another log signature"
        )
    newest = {(c.witness.name, c.witness.key_id): c.timestamp for c in submitted.cosignatures}
    fresh: dict[tuple[str, int], NoteSignature] = {}
    for sig in submitted.note.signatures:
        slot = (sig.name, sig.key_id)
        if slot in newest and _timestamp_of(sig) == newest[slot]:
            fresh[slot] = sig
    merged: list[NoteSignature] = []
    for sig in lines:
        slot = (sig.name, sig.key_id)
        newer = fresh.pop(slot, None)
        if newer is not None and _timestamp_of(newer) > _timestamp_of(sig):
            merged.append(newer)
        else:
            merged.append(sig)
    merged.extend(fresh.values())
    note = text + "\n" + "".join(signature_line(sig) for sig in merged)
    _parse(note)  # the signature count bound holds for what we store
    return note
