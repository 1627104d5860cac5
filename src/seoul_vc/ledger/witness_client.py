"""A witness agency's round against a log's HTTP API: fetch, check, cosign, submit.

Room: the witness's network side. :class:`~seoul_vc.ledger.witness.Witness` decides whether
to cosign (and remembers what it cosigned); this module fetches what it needs from a
seoul_vc service's ledger API (``/ledger/v1/``, see ``docs/service-ledger.md``) over a
:class:`~seoul_vc._net.GuardedFetcher` and hands the cosignature back.

One round, :func:`cosign_remote_log`:

1. ``GET <log>/ledger/v1/checkpoint``: the latest checkpoint note (C2SP tlog-checkpoint). Its
   log signature and origin are verified before anything in it is read.
2. If the witness cosigned a smaller tree of this origin before, ``GET
   <log>/ledger/v1/proofs/consistency?first=<that size>&second=<new size>``: the RFC 9162
   §2.1.4 consistency proof, the same proof a log sends with C2SP tlog-witness
   ``add-checkpoint``.
3. :meth:`Witness.cosign` checks the checkpoint against the witness's memory and the proof
   (a smaller tree, or another root at the same size, is refused as ``log_fork_detected``:
   a rollback or a fork) and persists the new state before it cosigns.
4. ``POST <log>/ledger/v1/cosignatures``: the checkpoint with the log's signature and this
   witness's cosignature line only (C2SP tlog-cosignature v1); the log verifies and stores
   it, and answers with the checkpoint as it now serves it.

This is a pull model: the witness agency runs this on a timer with outbound HTTPS only; the
log never needs to reach the agency. Refusals by the log come back as the library error of
the problem's ``code``.

Example::

    witness = Witness(CosignerKey("nhis.example/witness", key),
                      logs={"ledger.seoul.example": log_vkey}, state_path=state)
    with GuardedFetcher(timeout=timedelta(seconds=10), max_redirects=0) as fetcher:
        done = cosign_remote_log(witness, "https://vc.seoul.example",
                                 origin="ledger.seoul.example", fetcher=fetcher)
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Final

from seoul_vc import _json
from seoul_vc._encoding import b64_hash_decode
from seoul_vc._net import GuardedFetcher
from seoul_vc.errors import (
    Code,
    MalformedInputError,
    SeoulVCError,
    UnavailableError,
    error_for,
)
from seoul_vc.ledger.checkpoint import Checkpoint, WitnessPolicy, open_checkpoint
from seoul_vc.ledger.note import MAX_NOTE_BYTES, keep_signatures
from seoul_vc.ledger.tlog import ConsistencyProof, Hash
from seoul_vc.ledger.witness import Witness

__all__ = ["CHECKPOINT_PATH", "COSIGNATURES_PATH", "CosignedRound", "cosign_remote_log"]

CHECKPOINT_PATH: Final = "/ledger/v1/checkpoint"
CONSISTENCY_PATH: Final = "/ledger/v1/proofs/consistency"
COSIGNATURES_PATH: Final = "/ledger/v1/cosignatures"
#: A consistency proof in a uint64 tree has at most 2 * 64 hashes; its JSON stays far below.
_MAX_PROOF_BYTES: Final = 16 * 1024
_MAX_PROOF_HASHES: Final = 128
_MAX_PROBLEM_BYTES: Final = 16 * 1024


@dataclass(frozen=True, slots=True, kw_only=True)
class CosignedRound:
    """What one round did.

    Attributes:
        checkpoint: the tree head this witness cosigned.
        previous_size: the size it had cosigned before for the origin (None: first use).
        note: the checkpoint as the log serves it after storing the cosignature.
    """

    checkpoint: Checkpoint
    previous_size: int | None
    note: str


def cosign_remote_log(
    witness: Witness, log_url: str, *, origin: str, fetcher: GuardedFetcher
) -> CosignedRound:
    """Run one witness round against the log at ``log_url`` (see the module docstring).

    Args:
        witness: the witness, configured with the log key of ``origin``.
        log_url: the service's base URL (``https://...``, no trailing slash needed).
        origin: the log's origin, as the witness is configured for it.
        fetcher: the guarded HTTPS client (its deadline bounds each request).

    Returns:
        The checkpoint cosigned and the note the log now serves.

    Raises:
        NotFoundError: ``not_found`` if the witness does not serve ``origin``.
        VerificationError: ``invalid_signature``/``origin_mismatch`` for a checkpoint the
            log key did not sign for ``origin``; ``log_fork_detected`` for a smaller tree
            or another root at the cosigned size; ``consistency_proof_invalid`` or
            ``proof_arguments_invalid`` for a proof that does not link the trees.
        MalformedInputError: for a checkpoint or proof that does not parse.
        SeoulVCError: the log's refusal of the submission, as the error of its problem's
            ``code`` (``conflict`` if the log signed a newer checkpoint meanwhile: run
            another round).
        UnavailableError, PolicyError: transport failures, as :class:`GuardedFetcher`.
        StorageError: the witness state could not be read or written; nothing was sent.
    """
    base = log_url.rstrip("/")
    # (1) The checkpoint: the log's signature and origin first (C2SP tlog-checkpoint).
    fetched = fetcher.get(
        base + CHECKPOINT_PATH, accept="text/plain", max_bytes=MAX_NOTE_BYTES, what="checkpoint"
    )
    if fetched.media_type != "text/plain":
        raise MalformedInputError(Code.MALFORMED, "the checkpoint is not text/plain")
    note = _utf8(fetched.body, "checkpoint")
    log_key = witness.log_key(origin)
    opened = open_checkpoint(
        note, origin=origin, log_key=log_key, witnesses=WitnessPolicy.unwitnessed()
    )
    checkpoint = opened.checkpoint
    # (2) A consistency proof from what this witness cosigned last, if the tree grew.
    last = witness.latest(origin)
    proof = None
    if last is not None and last.size < checkpoint.size:
        proof = _fetch_consistency(fetcher, base, last.size, checkpoint.size)
    # (3) The witness decides, persists its state and cosigns (refusing forks, rollbacks).
    cosigned = witness.cosign(note, proof)
    own_line = cosigned[len(note) :]
    # (4) Send back the log's own signature and this witness's line, nothing else: other
    # witnesses' lines are theirs to submit.
    submission = keep_signatures(note, {(log_key.name, log_key.key_id)}) + own_line
    answer = fetcher.post(
        base + COSIGNATURES_PATH,
        body=submission.encode(),
        content_type="text/plain; charset=utf-8",
        accept="text/plain, application/problem+json",
        max_bytes=MAX_NOTE_BYTES,
        what="cosignature submission",
    )
    if answer.status != 200:
        raise _refusal(answer.status, answer.body)
    return CosignedRound(
        checkpoint=checkpoint,
        previous_size=None if last is None else last.size,
        note=_utf8(answer.body, "stored checkpoint"),
    )


def _utf8(data: bytes, what: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedInputError(Code.MALFORMED, f"the {what} is not UTF-8") from exc


def _fetch_consistency(
    fetcher: GuardedFetcher, base: str, first: int, second: int
) -> ConsistencyProof:
    """GET the consistency proof ``first`` -> ``second`` and parse it strictly."""
    fetched = fetcher.get(
        f"{base}{CONSISTENCY_PATH}?first={first}&second={second}",
        accept="application/json",
        max_bytes=_MAX_PROOF_BYTES,
        what="consistency proof",
    )
    document = _json.loads_object(
        fetched.body, max_bytes=_MAX_PROOF_BYTES, max_depth=2, what="consistency proof"
    )
    hashes = document.get("consistency_proof")
    if (
        set(document) != {"first", "second", "consistency_proof"}
        or type(document["first"]) is not int
        or type(document["second"]) is not int
        or (document["first"], document["second"]) != (first, second)
        or not isinstance(hashes, list)
        or len(hashes) > _MAX_PROOF_HASHES
    ):
        raise MalformedInputError(Code.MALFORMED, "the consistency proof has the wrong shape")
    return ConsistencyProof(
        hashes=tuple(Hash(b64_hash_decode(h, what="consistency proof")) for h in hashes)
    )


def _refusal(status: int, body: bytes) -> SeoulVCError:
    """The library error a log's RFC 9457 problem names (only its code is trusted)."""
    code = None
    with contextlib.suppress(SeoulVCError):
        problem = _json.loads_object(
            body, max_bytes=_MAX_PROBLEM_BYTES, max_depth=8, what="problem"
        )
        with contextlib.suppress(ValueError):
            code = Code(str(problem.get("code")))
    if code is None:
        return UnavailableError(
            Code.UNAVAILABLE, "the log answered with an unexpected status", status=status
        )
    return error_for(code, "the log refused the cosignature", status=status)
