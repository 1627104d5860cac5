"""C2SP checkpoints and Ed25519 cosignatures: format, parse, M-of-N witness policy."""

from __future__ import annotations

import base64
import hashlib

import pytest

from seoul_vc.errors import SeoulVCError
from seoul_vc.keys import PrivateKey
from seoul_vc.ledger.checkpoint import (
    Checkpoint,
    CosignerKey,
    WitnessPolicy,
    cosign,
    format_checkpoint,
    open_checkpoint,
    parse_checkpoint,
    sign_checkpoint,
)
from seoul_vc.ledger.note import NoteSigner

ORIGIN = "ledger.seoul.example/v1"
ROOT = hashlib.sha256(b"root").digest()
URLSAFE_ROOT = base64.urlsafe_b64encode(b"\xff" * 32).decode()
CP = Checkpoint(origin=ORIGIN, size=20852163, root_hash=ROOT)


@pytest.fixture
def log() -> NoteSigner:
    return NoteSigner(ORIGIN, PrivateKey.generate())


@pytest.fixture
def witnesses() -> list[CosignerKey]:
    return [CosignerKey(f"witness{i}.seoul.example", PrivateKey.generate()) for i in range(3)]


def policy(witnesses: list[CosignerKey], threshold: int) -> WitnessPolicy:
    return WitnessPolicy(witnesses=tuple(w.verifier for w in witnesses), threshold=threshold)


def code_of(fn, *args, **kwargs) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(SeoulVCError) as info:
        fn(*args, **kwargs)
    return str(info.value.code)


def test_format_matches_spec_layout() -> None:
    """Origin, decimal size and base64 root, one per line (C2SP tlog-checkpoint)."""
    text = format_checkpoint(CP)
    assert text == f"{ORIGIN}\n20852163\n{base64.b64encode(ROOT).decode()}\n"


def test_spec_example_checkpoint_text_parses() -> None:
    """The body of the example checkpoint in C2SP tlog-checkpoint parses to its parts."""
    text = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    cp = parse_checkpoint(text)
    assert cp.origin == "example.com/behind-the-sofa"
    assert cp.size == 20852163
    assert format_checkpoint(cp) == text


def test_parse_format_round_trip_with_extensions() -> None:
    """Extension lines survive a round trip."""
    cp = Checkpoint(origin=ORIGIN, size=0, root_hash=bytes(32), extensions=("ext one",))
    assert parse_checkpoint(format_checkpoint(cp)) == cp


@pytest.mark.parametrize(
    "text",
    [
        f"{ORIGIN}\n5\n",
        f"{ORIGIN}\n05\n{base64.b64encode(ROOT).decode()}\n",
        f"{ORIGIN}\n-5\n{base64.b64encode(ROOT).decode()}\n",
        f"{ORIGIN}\n5\n{base64.b64encode(ROOT[:31]).decode()}\n",
        f"{ORIGIN}\n5\n{URLSAFE_ROOT}\n",
        f"{ORIGIN}\n5\n{base64.b64encode(ROOT).decode()}\n\n",
        f"\n5\n{base64.b64encode(ROOT).decode()}\n",
    ],
)
def test_malformed_checkpoint_text_is_refused(text: str) -> None:
    """Missing lines, non-canonical sizes and bad roots are malformed."""
    assert code_of(parse_checkpoint, text) in {"malformed", "invalid_encoding"}


def test_two_of_three_witnesses_meets_quorum(log: NoteSigner, witnesses: list[CosignerKey]) -> None:
    """A checkpoint cosigned by 2 of 3 trusted witnesses opens under a 2-of-3 policy."""
    note = sign_checkpoint(CP, log)
    for w in witnesses[:2]:
        note = cosign(note, log.verifier, w, timestamp=1767225600)
    opened = open_checkpoint(
        note, origin=ORIGIN, log_key=log.verifier, witnesses=policy(witnesses, 2)
    )
    assert opened.checkpoint == CP
    assert {c.witness for c in opened.cosignatures} == {w.verifier for w in witnesses[:2]}


def test_one_of_three_witnesses_misses_quorum(
    log: NoteSigner, witnesses: list[CosignerKey]
) -> None:
    """One cosignature does not meet a 2-of-3 policy: witness_quorum_not_met."""
    note = cosign(sign_checkpoint(CP, log), log.verifier, witnesses[0], timestamp=1)
    code = code_of(
        open_checkpoint, note, origin=ORIGIN, log_key=log.verifier, witnesses=policy(witnesses, 2)
    )
    assert code == "witness_quorum_not_met"


def test_same_witness_twice_counts_once(log: NoteSigner, witnesses: list[CosignerKey]) -> None:
    """Two cosignatures by one witness are one vote."""
    note = sign_checkpoint(CP, log)
    note = cosign(note, log.verifier, witnesses[0], timestamp=1)
    note = cosign(note, log.verifier, witnesses[0], timestamp=2)
    code = code_of(
        open_checkpoint, note, origin=ORIGIN, log_key=log.verifier, witnesses=policy(witnesses, 2)
    )
    assert code == "witness_quorum_not_met"


def test_untrusted_witness_does_not_count(log: NoteSigner, witnesses: list[CosignerKey]) -> None:
    """A cosignature by a witness outside the policy is ignored."""
    outsider = CosignerKey("outsider.example", PrivateKey.generate())
    note = cosign(sign_checkpoint(CP, log), log.verifier, outsider, timestamp=1)
    code = code_of(
        open_checkpoint, note, origin=ORIGIN, log_key=log.verifier, witnesses=policy(witnesses, 1)
    )
    assert code == "witness_quorum_not_met"


def test_cosignature_over_other_checkpoint_is_refused(
    log: NoteSigner, witnesses: list[CosignerKey]
) -> None:
    """A witness line copied from another checkpoint fails verification."""
    other = Checkpoint(origin=ORIGIN, size=CP.size + 1, root_hash=ROOT)
    other_note = cosign(sign_checkpoint(other, log), log.verifier, witnesses[0], timestamp=1)
    stolen_line = other_note.splitlines(keepends=True)[-1]
    note = sign_checkpoint(CP, log) + stolen_line
    code = code_of(
        open_checkpoint, note, origin=ORIGIN, log_key=log.verifier, witnesses=policy(witnesses, 1)
    )
    assert code == "invalid_signature"


def test_wrong_origin_is_refused(log: NoteSigner, witnesses: list[CosignerKey]) -> None:
    """A checkpoint of another log is refused even if its signature verifies."""
    note = sign_checkpoint(CP, log)
    code = code_of(
        open_checkpoint,
        note,
        origin="other.example/log",
        log_key=log.verifier,
        witnesses=WitnessPolicy.unwitnessed(),
    )
    assert code == "origin_mismatch"


def test_checkpoint_not_signed_by_log_is_refused(witnesses: list[CosignerKey]) -> None:
    """A checkpoint signed by another key under the log's name is refused."""
    impostor = NoteSigner(ORIGIN, PrivateKey.generate())
    real = NoteSigner(ORIGIN, PrivateKey.generate())
    code = code_of(
        open_checkpoint,
        sign_checkpoint(CP, impostor),
        origin=ORIGIN,
        log_key=real.verifier,
        witnesses=WitnessPolicy.unwitnessed(),
    )
    assert code == "invalid_signature"


def test_future_cosignature_is_refused_when_clock_given(
    log: NoteSigner, witnesses: list[CosignerKey]
) -> None:
    """Cosignatures dated beyond the allowed skew are refused if the caller gives a clock."""
    note = cosign(sign_checkpoint(CP, log), log.verifier, witnesses[0], timestamp=10_000)
    code = code_of(
        open_checkpoint,
        note,
        origin=ORIGIN,
        log_key=log.verifier,
        witnesses=policy(witnesses, 1),
        now_timestamp=1_000,
    )
    assert code == "invalid_signature"


def test_cosign_refuses_note_not_signed_by_log(witnesses: list[CosignerKey]) -> None:
    """A witness never cosigns a note the log did not sign."""
    log = NoteSigner(ORIGIN, PrivateKey.generate())
    other = NoteSigner(ORIGIN, PrivateKey.generate())
    code = code_of(cosign, sign_checkpoint(CP, other), log.verifier, witnesses[0], timestamp=1)
    assert code == "invalid_signature"


def test_empty_policy_is_refused() -> None:
    """An empty witness policy is a configuration error; unwitnessed() must be explicit."""
    assert code_of(WitnessPolicy, witnesses=(), threshold=0) == "bad_argument"


def test_threshold_above_witness_count_is_refused(witnesses: list[CosignerKey]) -> None:
    """M must not exceed N."""
    assert code_of(policy, witnesses, 4) == "bad_argument"


def test_cosignature_key_id_uses_type_0x04(witnesses: list[CosignerKey]) -> None:
    """The cosigner key ID is SHA-256(name || 0x0A || 0x04 || key)[:4] (tlog-cosignature)."""
    w = witnesses[0]
    raw = base64.urlsafe_b64decode(w.verifier.public_key.to_jwk()["x"] + "=")
    digest = hashlib.sha256(w.verifier.name.encode() + b"\n\x04" + raw).digest()
    assert w.verifier.key_id == int.from_bytes(digest[:4], "big")
