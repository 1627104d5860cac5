"""C2SP tlog-witness ``add-checkpoint``: its wire format, and a log pushing to a witness.

Room: the ledger's side of the witness protocol that independent witnesses speak
(https://c2sp.org/tlog-witness). :mod:`~seoul_vc.ledger.witness_client` is the other
direction, a seoul_vc witness pulling from a seoul_vc log; this module lets the city's log
ask any tlog-witness witness for a cosignature, and lets a seoul_vc witness answer any
tlog-witness log (the service's ``witness`` role serves :meth:`Witness.add_checkpoint
<seoul_vc.ledger.witness.Witness.add_checkpoint>` at ``<prefix>/add-checkpoint``).

The request body (``POST <submission prefix>/add-checkpoint``), every line ending in a
newline (U+000A)::

    old <size of the previous checkpoint: ASCII decimal, no leading zeroes>
    <consistency proof hash, standard base64>     (0 to 63 lines; none when old is 0)
    <empty line>
    <the checkpoint, a signed note: C2SP tlog-checkpoint>

The witness answers 200 with its cosignature lines (C2SP tlog-cosignature v1, each starting
with U+2014); 409 with ``text/x.tlog.size`` (the size it cosigned last, a newline) when the
old size is not that size; 404 for an origin it does not serve, 403 when no trusted key
signed the checkpoint, 400 for a bad request, 422 when the proof does not verify, and 409
(as a problem) for another root at the same size.

:func:`push_checkpoint` is the log's round: it sends the ledger's latest checkpoint with
a proof from the size the witness last cosigned (asking with old size 0 first when it
does not know it, as the spec allows), checks what comes back under the witness's key and
stores it with the checkpoint (:meth:`~seoul_vc.ledger.log.Ledger.add_cosignatures`).
Cosignature lines of other keys in the answer are ignored, as the spec requires.
"""

from __future__ import annotations

import base64
import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from seoul_vc import _json
from seoul_vc._encoding import b64_hash_decode, parse_decimal
from seoul_vc.errors import (
    Code,
    ConfigurationError,
    MalformedInputError,
    SeoulVCError,
    StateConflictError,
    UnavailableError,
    VerificationError,
    error_for,
)
from seoul_vc.ledger.checkpoint import Checkpoint, CosignerVerifier, parse_checkpoint
from seoul_vc.ledger.note import MAX_NOTE_BYTES, NoteVerifier, keep_signatures, open_note
from seoul_vc.ledger.tlog import MAX_TREE_SIZE, ConsistencyProof, Hash

if TYPE_CHECKING:
    from seoul_vc._net import GuardedFetcher
    from seoul_vc.ledger.log import Ledger

__all__ = [
    "ADD_CHECKPOINT",
    "MAX_PROOF_LINES",
    "MAX_REQUEST_BYTES",
    "SIZE_MEDIA_TYPE",
    "AddCheckpoint",
    "PushedCheckpoint",
    "encode_request",
    "encode_size",
    "parse_request",
    "parse_size",
    "push_checkpoint",
]

#: The path under a witness's submission prefix.
ADD_CHECKPOINT: Final = "/add-checkpoint"
#: The media type of a 409 answer: the witness's latest cosigned size, then a newline.
SIZE_MEDIA_TYPE: Final = "text/x.tlog.size"
#: "The client MUST NOT send more than 63 consistency proof lines."
MAX_PROOF_LINES: Final = 63
_OLD_PREFIX: Final = "old "
_MAX_SIZE_DIGITS: Final = 20  # 2**64 - 1 has 20 digits
_PROOF_LINE_BYTES: Final = 45  # 44 base64 characters of a 32-byte hash, a newline
#: The largest request: the old size line, 63 proof lines, the empty line and a note.
MAX_REQUEST_BYTES: Final = (
    len(_OLD_PREFIX) + _MAX_SIZE_DIGITS + 1 + MAX_PROOF_LINES * _PROOF_LINE_BYTES + 1
) + MAX_NOTE_BYTES
_MAX_ANSWER_BYTES: Final = 64 * 1024
_MAX_PROBLEM_BYTES: Final = 16 * 1024


@dataclass(frozen=True, slots=True)
class AddCheckpoint:
    """A parsed ``add-checkpoint`` request (nothing in it verified yet)."""

    old_size: int
    proof: ConsistencyProof
    note: str


def encode_request(old_size: int, proof: ConsistencyProof, note: str) -> bytes:
    """The ``add-checkpoint`` body: old size line, proof lines, empty line, checkpoint.

    Raises:
        MalformedInputError: ``malformed`` for a size outside 0..2**64-1, more than
            :data:`MAX_PROOF_LINES` hashes, a proof with an old size of 0, or a hash that is
            not 32 bytes.
    """
    if not 0 <= old_size <= MAX_TREE_SIZE:
        raise MalformedInputError(Code.MALFORMED, "the old size is outside 0..2**64-1")
    if len(proof.hashes) > MAX_PROOF_LINES or (old_size == 0 and proof.hashes):
        raise MalformedInputError(Code.MALFORMED, "the proof has too many lines for its sizes")
    if any(len(h) != 32 for h in proof.hashes):
        raise MalformedInputError(Code.MALFORMED, "a proof hash is not 32 bytes")
    lines = "".join(base64.b64encode(h).decode("ascii") + "\n" for h in proof.hashes)
    return f"{_OLD_PREFIX}{old_size}\n{lines}\n{note}".encode()


def parse_request(body: bytes) -> AddCheckpoint:
    """Read an ``add-checkpoint`` body strictly (see the module docstring).

    The checkpoint note is only split off here; :meth:`Witness.add_checkpoint
    <seoul_vc.ledger.witness.Witness.add_checkpoint>` verifies it before reading it.

    Raises:
        MalformedInputError: ``too_large`` past :data:`MAX_REQUEST_BYTES`; ``malformed``
            for anything else the spec does not allow (no old size line, a size with a
            sign, spaces or leading zeroes, a proof line that is not one canonical base64
            32-byte hash, more than 63 of them, a proof with an old size of 0, no empty
            line, text that is not UTF-8).
    """
    if len(body) > MAX_REQUEST_BYTES:
        raise MalformedInputError(
            Code.TOO_LARGE, "the request is too large", limit=MAX_REQUEST_BYTES
        )
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedInputError(Code.MALFORMED, "the request is not UTF-8") from None
    end = text.find("\n\n")
    if end < 0:
        raise MalformedInputError(Code.MALFORMED, "the request has no empty line")
    head, note = text[:end].split("\n"), text[end + 2 :]
    if not head[0].startswith(_OLD_PREFIX):
        raise MalformedInputError(Code.MALFORMED, "the request starts with no old size line")
    old_size = _size(head[0][len(_OLD_PREFIX) :], "old size")
    if len(head) - 1 > MAX_PROOF_LINES or (old_size == 0 and len(head) > 1):
        raise MalformedInputError(Code.MALFORMED, "the request has too many proof lines")
    try:
        hashes = tuple(Hash(b64_hash_decode(line, what="proof line")) for line in head[1:])
    except MalformedInputError:
        raise MalformedInputError(
            Code.MALFORMED, "a proof line is not a base64 SHA-256 hash"
        ) from None
    return AddCheckpoint(old_size=old_size, proof=ConsistencyProof(hashes=hashes), note=note)


def encode_size(size: int) -> bytes:
    """The body of a 409 answer (``text/x.tlog.size``): ``size`` in decimal, a newline."""
    return f"{size}\n".encode("ascii")


def parse_size(body: bytes) -> int:
    """Read a 409 answer's ``text/x.tlog.size`` body strictly.

    Raises:
        MalformedInputError: ``malformed`` unless it is a canonical decimal and a newline.
    """
    if len(body) > _MAX_SIZE_DIGITS + 1 or not body.endswith(b"\n"):
        raise MalformedInputError(Code.MALFORMED, "the witness's size is not a decimal line")
    return _size(body[:-1].decode("ascii", "replace"), "witness size")


def _size(text: str, what: str) -> int:
    try:
        size = parse_decimal(text, what=what, max_digits=_MAX_SIZE_DIGITS)
    except MalformedInputError:
        raise MalformedInputError(Code.MALFORMED, f"the {what} is not a decimal") from None
    if size > MAX_TREE_SIZE:
        raise MalformedInputError(Code.MALFORMED, f"the {what} exceeds 2**64 - 1")
    return size


@dataclass(frozen=True, slots=True, kw_only=True)
class PushedCheckpoint:
    """What one push did.

    Attributes:
        checkpoint: the tree head the witness cosigned.
        old_size: the size the witness had cosigned before (0: none, or the empty tree).
        note: the checkpoint as the ledger now stores it, the new cosignature merged in.
    """

    checkpoint: Checkpoint
    old_size: int
    note: str


def push_checkpoint(
    ledger: Ledger,
    prefix: str,
    *,
    log_key: NoteVerifier,
    witness: CosignerVerifier,
    fetcher: GuardedFetcher,
    old_size: int = 0,
) -> PushedCheckpoint:
    """Ask the witness at ``prefix`` to cosign the ledger's latest checkpoint; store it.

    Args:
        ledger: the log; its latest stored checkpoint is sent.
        prefix: the witness's submission prefix (``https://...``), without the path.
        log_key: the ledger's checkpoint key (its name is the origin).
        witness: the witness's cosignature key: only its lines are kept.
        fetcher: the guarded HTTPS client (its deadline bounds each request).
        old_size: the size the caller believes the witness cosigned last. When the witness
            answers 409 with another size, the request is sent once more from that size.

    Returns:
        The checkpoint cosigned, the witness's previous size and the stored note.

    Raises:
        ConfigurationError: ``bad_argument`` for an ``old_size`` past the checkpoint's.
        StateConflictError: ``conflict`` when the ledger has no checkpoint yet, or signed a
            newer one meanwhile (push again); ``old_size_mismatch`` if the witness moved
            again between the two requests.
        VerificationError: ``log_fork_detected`` when the witness cosigned a larger tree of
            this origin than the ledger holds, or another root at this size; the witness's
            refusals as their codes (``invalid_signature``, ``consistency_proof_invalid``;
            a problem naming any other code is read by its status).
        MalformedInputError: an answer that does not parse, or carries no cosignature of
            ``witness``'s key.
        UnavailableError, PolicyError: transport failures, as :class:`GuardedFetcher`.
    """
    note = ledger.latest_checkpoint()
    if note is None:
        raise StateConflictError(Code.CONFLICT, "the ledger has no checkpoint to push")
    text = open_note(note, [log_key]).text
    checkpoint = parse_checkpoint(text)
    if old_size > checkpoint.size:
        raise ConfigurationError(
            Code.BAD_ARGUMENT, "old_size is past the ledger's checkpoint", old_size=old_size
        )
    url = prefix.rstrip("/") + ADD_CHECKPOINT
    try:
        answer = _post(ledger, url, old_size, checkpoint, note, fetcher)
    except StateConflictError as exc:
        # Only the spec's text/x.tlog.size answer carries the size to retry from.
        size = exc.details.get("size")
        if exc.code is not Code.OLD_SIZE_MISMATCH or type(size) is not int:
            raise
        if size > checkpoint.size:
            raise _ahead(ledger, log_key, size, checkpoint.size) from exc
        old_size = size
        answer = _post(ledger, url, old_size, checkpoint, note, fetcher)
    # The answer alone, after the checkpoint text, must hold a line of the witness's key (the
    # stored note may hold an older one); other keys' lines are not ours to vouch for.
    try:
        fresh = keep_signatures(text + "\n" + answer, {(witness.name, witness.key_id)})
    except MalformedInputError as exc:
        raise MalformedInputError(
            Code.MALFORMED, "the witness answered no cosignature of its key"
        ) from exc
    submission = keep_signatures(note, {(log_key.name, log_key.key_id)}) + fresh[len(text) + 1 :]
    stored = ledger.add_cosignatures(submission, log_key=log_key, witnesses=[witness])
    return PushedCheckpoint(checkpoint=checkpoint, old_size=old_size, note=stored)


def _ahead(ledger: Ledger, log_key: NoteVerifier, size: int, sent: int) -> SeoulVCError:
    """The witness cosigned ``size`` > ``sent``: a newer checkpoint of ours, or a fork."""
    latest = ledger.latest_checkpoint()
    if latest is not None and parse_checkpoint(open_note(latest, [log_key]).text).size >= size:
        return StateConflictError(
            Code.CONFLICT, "the ledger signed a newer checkpoint meanwhile: push again"
        )
    return VerificationError(
        Code.LOG_FORK_DETECTED,
        "the witness cosigned a larger tree of this log than the ledger holds",
        old_size=size,
        new_size=sent,
    )


def _post(
    ledger: Ledger,
    url: str,
    old_size: int,
    checkpoint: Checkpoint,
    note: str,
    fetcher: GuardedFetcher,
) -> str:
    """One ``add-checkpoint`` request from ``old_size``: the 200 answer's text."""
    proof = (
        ledger.prove_consistency(old_size, checkpoint.size)
        if 0 < old_size < checkpoint.size
        else ConsistencyProof(hashes=())
    )
    answer = fetcher.post(
        url,
        body=encode_request(old_size, proof, note),
        content_type="text/plain; charset=utf-8",
        accept="text/plain, text/x.tlog.size, application/problem+json",
        max_bytes=_MAX_ANSWER_BYTES,
        what="add-checkpoint answer",
    )
    if answer.status == 409 and answer.media_type == SIZE_MEDIA_TYPE:
        raise StateConflictError(
            Code.OLD_SIZE_MISMATCH,
            "the witness cosigned another size last",
            size=parse_size(answer.body),
        )
    if answer.status != 200:
        raise _refusal(answer.status, answer.media_type, answer.body)
    try:
        return answer.body.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedInputError(Code.MALFORMED, "the witness's answer is not UTF-8") from None


#: What a witness's status means when it sends no problem document (the spec's statuses).
_STATUS_CODES: Final = {
    400: Code.MALFORMED,
    403: Code.INVALID_SIGNATURE,
    404: Code.NOT_FOUND,
    409: Code.LOG_FORK_DETECTED,
    422: Code.CONSISTENCY_PROOF_INVALID,
}
#: Codes a witness's problem may name besides those: a proof of the wrong length.
_ALSO_NAMED: Final = frozenset({Code.PROOF_ARGUMENTS_INVALID, Code.TOO_LARGE})


def _refusal(status: int, media_type: str | None, body: bytes) -> SeoulVCError:
    """The error of a witness's refusal: its problem's code, else what its status means."""
    code = None
    if media_type == "application/problem+json":
        with contextlib.suppress(SeoulVCError, ValueError):
            problem = _json.loads_object(
                body, max_bytes=_MAX_PROBLEM_BYTES, max_depth=8, what="problem"
            )
            code = Code(str(problem.get("code")))
    if code not in _STATUS_CODES.values() and code not in _ALSO_NAMED:
        code = None  # a witness names only the spec's refusals: not ours to invent others
    code = code or _STATUS_CODES.get(status)
    if code is None:
        return UnavailableError(
            Code.UNAVAILABLE, "the witness answered with an unexpected status", status=status
        )
    return error_for(code, "the witness refused the checkpoint", status=status)
