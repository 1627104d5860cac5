"""Proof bundles: an entry, its inclusion proof and a cosigned checkpoint verify offline.

The log is a real :class:`Ledger` over SQLite (genesis and authority grants, eight entries);
its checkpoint is cosigned by two of three witnesses and the verifier demands two of three.
Every refusal is asserted by its code.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from seoul_vc.clock import FixedClock
from seoul_vc.errors import SeoulVCError
from seoul_vc.keys import PrivateKey
from seoul_vc.ledger import tlog
from seoul_vc.ledger.bundle import (
    MAX_BUNDLE_BYTES,
    ProofBundle,
    format_cosigner_key,
    make_bundle,
    parse_cosigner_key,
    verify_bundle,
)
from seoul_vc.ledger.checkpoint import (
    Checkpoint,
    CosignerKey,
    WitnessPolicy,
    cosign,
    sign_checkpoint,
)
from seoul_vc.ledger.entry import Entry, sign_entry, signer_did
from seoul_vc.ledger.log import Ledger
from seoul_vc.ledger.note import NoteSigner, format_verifier_key

ORIGIN = "ledger.seoul.example/bundle-test"
NOW = 1767225600
SIZE = 8


class Fixture:
    """A ledger of ``SIZE`` entries, a log note key, three witnesses and a 2-of-3 policy."""

    def __init__(self, path: Path) -> None:
        self.operator = PrivateKey.generate()
        self.log = NoteSigner(ORIGIN, PrivateKey.generate())
        self.witnesses = [
            CosignerKey(f"witness-{n}.seoul.example", PrivateKey.generate()) for n in range(3)
        ]
        self.policy = WitnessPolicy(
            witnesses=tuple(w.verifier for w in self.witnesses), threshold=2
        )
        clock = FixedClock(datetime.fromtimestamp(NOW, UTC))
        self.ledger = Ledger.open(f"sqlite:{path}", clock=clock)
        self.ledger.genesis(origin=ORIGIN, operator=self.operator)
        while self.ledger.size < SIZE:
            self.grant()
        self.note = self.cosigned(self.ledger.checkpoint(self.log), self.witnesses[:2])

    def grant(self) -> None:
        subject = signer_did(PrivateKey.generate().public_key)
        body = {"subject": subject, "record_types": ["credential.ResidencyCredential"]}
        self.ledger.append(sign_entry("authority.grant", body, self.operator, time=NOW))

    def cosigned(self, note: str, witnesses: Sequence[CosignerKey]) -> str:
        for witness in witnesses:
            note = cosign(note, self.log.verifier, witness, timestamp=NOW)
        return note

    def bundle(self, index: int = 3) -> ProofBundle:
        return make_bundle(self.ledger, index, self.note)

    def verify(self, bundle: ProofBundle, **overrides: Any) -> Entry:
        args: dict[str, Any] = {
            "origin": ORIGIN,
            "log_key": self.log.verifier,
            "witnesses": self.policy,
        }
        return verify_bundle(bundle, **{**args, **overrides})


@pytest.fixture
def fx(tmp_path: Path) -> Iterator[Fixture]:
    fixture = Fixture(tmp_path / "ledger.db")
    yield fixture
    fixture.ledger.close()


def code_of(fn: Callable[[], object]) -> str:
    with pytest.raises(SeoulVCError) as info:
        fn()
    return str(info.value.code)


def flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


def other_hash(value: bytes) -> tlog.Hash:
    return tlog.Hash(flip(value, 0))


# -- happy path --------------------------------------------------------------------------------


def test_every_entry_verifies_with_two_of_three_cosignatures(fx: Fixture) -> None:
    """Each entry's bundle verifies offline and returns the entry the ledger holds."""
    for index in range(SIZE):
        assert fx.verify(fx.bundle(index)) == fx.ledger.entry(index)


def test_bundle_verifies_after_the_log_grew(fx: Fixture) -> None:
    """A bundle is proved against its checkpoint's size, not the log's current size."""
    fx.grant()
    fx.grant()
    assert fx.ledger.size == SIZE + 2
    assert fx.verify(fx.bundle(5)) == fx.ledger.entry(5)


def test_bundle_of_one_entry_log_verifies(tmp_path: Path) -> None:
    """In a one-entry tree the proof is empty and the root is the leaf hash."""
    log = NoteSigner(ORIGIN, PrivateKey.generate())
    ledger = Ledger.open(f"sqlite:{tmp_path / 'one.db'}")
    try:
        ledger.genesis(origin=ORIGIN, operator=PrivateKey.generate())
        bundle = make_bundle(ledger, 0, ledger.checkpoint(log))
    finally:
        ledger.close()
    assert bundle.proof.hashes == ()
    entry = verify_bundle(
        bundle, origin=ORIGIN, log_key=log.verifier, witnesses=WitnessPolicy.unwitnessed()
    )
    assert entry.type == "authority.genesis"


def test_all_three_cosignatures_also_satisfy_two_of_three(fx: Fixture) -> None:
    """More cosignatures than the threshold are fine."""
    fx.note = fx.cosigned(fx.note, fx.witnesses[2:])
    assert fx.verify(fx.bundle()).type == "authority.grant"


# -- each single tampering, refused with its code ----------------------------------------------


def test_flipped_entry_byte_is_inclusion_proof_invalid(fx: Fixture) -> None:
    """Changing one byte of the entry changes its leaf hash."""
    bundle = fx.bundle()
    tampered = replace(bundle, entry=flip(bundle.entry, 40))
    assert code_of(lambda: fx.verify(tampered)) == "inclusion_proof_invalid"


def test_other_index_is_inclusion_proof_invalid(fx: Fixture) -> None:
    """The same proof and entry at a neighbouring index (same proof length) fail."""
    tampered = replace(fx.bundle(3), index=4)
    assert code_of(lambda: fx.verify(tampered)) == "inclusion_proof_invalid"


def test_index_beyond_the_tree_is_proof_arguments_invalid(fx: Fixture) -> None:
    """An index at or past the checkpoint's size is impossible."""
    tampered = replace(fx.bundle(), index=SIZE)
    assert code_of(lambda: fx.verify(tampered)) == "proof_arguments_invalid"


@pytest.mark.parametrize("position", [0, 1, 2])
def test_changed_proof_hash_is_inclusion_proof_invalid(fx: Fixture, position: int) -> None:
    """Changing any one hash of the proof breaks the path to the root."""
    bundle = fx.bundle()
    hashes = list(bundle.proof.hashes)
    hashes[position] = other_hash(hashes[position])
    tampered = replace(bundle, proof=tlog.InclusionProof(hashes=tuple(hashes)))
    assert code_of(lambda: fx.verify(tampered)) == "inclusion_proof_invalid"


def test_shortened_proof_is_proof_arguments_invalid(fx: Fixture) -> None:
    """A proof of the wrong length is refused before hashing."""
    bundle = fx.bundle()
    tampered = replace(bundle, proof=tlog.InclusionProof(hashes=bundle.proof.hashes[:-1]))
    assert code_of(lambda: fx.verify(tampered)) == "proof_arguments_invalid"


def test_changed_checkpoint_root_is_invalid_signature(fx: Fixture) -> None:
    """The root is signed by the log: editing it breaks the log's signature."""
    root = fx.ledger.root(SIZE)
    forged_root = base64.b64encode(other_hash(root)).decode()
    note = fx.note.replace(base64.b64encode(root).decode(), forged_root)
    assert note != fx.note
    tampered = replace(fx.bundle(), checkpoint=note)
    assert code_of(lambda: fx.verify(tampered)) == "invalid_signature"


def test_missing_cosignature_is_witness_quorum_not_met(fx: Fixture) -> None:
    """Dropping one of the two cosignatures leaves one of the two required."""
    lines = fx.note.splitlines(keepends=True)
    tampered = replace(fx.bundle(), checkpoint="".join(lines[:-1]))
    assert code_of(lambda: fx.verify(tampered)) == "witness_quorum_not_met"


def test_cosignature_by_untrusted_witness_does_not_count(fx: Fixture) -> None:
    """A cosignature by a key outside the policy is ignored, so the quorum is not met."""
    stranger = CosignerKey("witness-0.seoul.example", PrivateKey.generate())
    fx.note = fx.cosigned(fx.ledger.checkpoint(fx.log), [fx.witnesses[1], stranger])
    assert code_of(lambda: fx.verify(fx.bundle())) == "witness_quorum_not_met"


def test_wrong_origin_is_origin_mismatch(fx: Fixture) -> None:
    """A verifier expecting another log refuses this log's checkpoint."""
    bundle = fx.bundle()
    assert code_of(lambda: fx.verify(bundle, origin="mileage.seoul.example")) == "origin_mismatch"


def test_wrong_log_key_is_invalid_signature(fx: Fixture) -> None:
    """A checkpoint not signed by the trusted log key is refused."""
    impostor = NoteSigner(ORIGIN, PrivateKey.generate())
    bundle = fx.bundle()
    assert code_of(lambda: fx.verify(bundle, log_key=impostor.verifier)) == "invalid_signature"


def test_checkpoint_signed_by_another_key_is_invalid_signature(fx: Fixture) -> None:
    """A checkpoint re-signed by an impostor under the log's name is refused."""
    impostor = NoteSigner(ORIGIN, PrivateKey.generate())
    cp = Checkpoint(origin=ORIGIN, size=SIZE, root_hash=fx.ledger.root(SIZE))
    tampered = replace(fx.bundle(), checkpoint=sign_checkpoint(cp, impostor))
    assert code_of(lambda: fx.verify(tampered)) == "invalid_signature"


class MemoryHashes:
    """A list-backed HashReader for hand-built logs."""

    def __init__(self) -> None:
        self.hashes: list[tlog.Hash] = []

    def read_hashes(self, indexes: Sequence[int]) -> Sequence[tlog.Hash]:
        return [self.hashes[i] for i in indexes]


def bundle_of_hand_built_log(leaves: Sequence[bytes], index: int, log: NoteSigner) -> ProofBundle:
    """Build a bundle over a log that holds exactly ``leaves``, whatever they are."""
    store = MemoryHashes()
    for n, leaf in enumerate(leaves):
        store.hashes += tlog.stored_hashes_for_record(n, tlog.leaf_hash(leaf), store)
    size = len(leaves)
    cp = Checkpoint(origin=ORIGIN, size=size, root_hash=tlog.tree_hash(size, store))
    return ProofBundle(
        entry=leaves[index],
        index=index,
        proof=tlog.prove_inclusion(size, index, store),
        checkpoint=sign_checkpoint(cp, log),
    )


def test_included_entry_with_bad_signature_is_invalid_signature() -> None:
    """A log that vouches for a badly signed entry does not make it valid (step 5)."""
    key = PrivateKey.generate()
    good = sign_entry("demo.note", {"n": 1}, key, time=NOW)
    forged = replace(good, body={"n": 2})
    log = NoteSigner(ORIGIN, PrivateKey.generate())
    bundle = bundle_of_hand_built_log([good.to_bytes(), forged.to_bytes()], 1, log)
    unwitnessed = WitnessPolicy.unwitnessed()
    assert (
        code_of(
            lambda: verify_bundle(
                bundle, origin=ORIGIN, log_key=log.verifier, witnesses=unwitnessed
            )
        )
        == "invalid_signature"
    )


def test_included_leaf_that_is_not_an_entry_is_malformed() -> None:
    """A leaf that is not a canonical entry is refused after its inclusion checks (step 4)."""
    log = NoteSigner(ORIGIN, PrivateKey.generate())
    bundle = bundle_of_hand_built_log([b"alpha", b'{"type": "demo.note"}'], 1, log)
    unwitnessed = WitnessPolicy.unwitnessed()
    assert (
        code_of(
            lambda: verify_bundle(
                bundle, origin=ORIGIN, log_key=log.verifier, witnesses=unwitnessed
            )
        )
        == "malformed"
    )


# -- building --------------------------------------------------------------------------------


def test_make_bundle_refuses_another_logs_checkpoint(fx: Fixture) -> None:
    """A checkpoint with another origin cannot describe this ledger."""
    other = NoteSigner("mileage.seoul.example", PrivateKey.generate())
    cp = Checkpoint(origin=other.name, size=SIZE, root_hash=fx.ledger.root(SIZE))
    note = sign_checkpoint(cp, other)
    assert code_of(lambda: make_bundle(fx.ledger, 1, note)) == "origin_mismatch"


def test_make_bundle_refuses_checkpoint_with_another_root(fx: Fixture) -> None:
    """A checkpoint whose root the ledger does not have is a fork."""
    cp = Checkpoint(origin=ORIGIN, size=SIZE, root_hash=other_hash(fx.ledger.root(SIZE)))
    note = sign_checkpoint(cp, fx.log)
    assert code_of(lambda: make_bundle(fx.ledger, 1, note)) == "log_fork_detected"


def test_make_bundle_refuses_entry_newer_than_checkpoint(fx: Fixture) -> None:
    """An entry appended after the checkpoint is not in its tree."""
    fx.grant()
    assert code_of(lambda: make_bundle(fx.ledger, SIZE, fx.note)) == "bad_argument"


def test_make_bundle_refuses_index_past_the_log(fx: Fixture) -> None:
    """An index past the log is not found."""
    assert code_of(lambda: make_bundle(fx.ledger, SIZE + 5, fx.note)) == "not_found"


def test_make_bundle_refuses_text_that_is_not_a_note(fx: Fixture) -> None:
    """A checkpoint file without a signature block is malformed."""
    assert code_of(lambda: make_bundle(fx.ledger, 1, f"{ORIGIN}\n8\n")) == "malformed"


# -- JSON ----------------------------------------------------------------------------------------


def test_json_round_trip(fx: Fixture) -> None:
    """from_json(to_json(b)) == b, and the text is stable."""
    bundle = fx.bundle()
    text = bundle.to_json()
    assert ProofBundle.from_json(text) == bundle
    assert ProofBundle.from_json(text.encode()).to_json() == text


def test_json_has_the_documented_members(fx: Fixture) -> None:
    """Version 1: base64url entry, standard base64 proof hashes, index, note text."""
    bundle = fx.bundle()
    document = json.loads(bundle.to_json())
    assert document == {
        "version": 1,
        "entry": base64.urlsafe_b64encode(bundle.entry).decode().rstrip("="),
        "index": 3,
        "inclusion_proof": [base64.b64encode(h).decode() for h in bundle.proof.hashes],
        "checkpoint": fx.note,
    }


def test_bundle_read_back_from_json_verifies(fx: Fixture) -> None:
    """The JSON form carries everything the verifier needs."""
    bundle = ProofBundle.from_json(fx.bundle(6).to_json())
    assert fx.verify(bundle) == fx.ledger.entry(6)


def test_to_json_refuses_an_index_past_two_to_the_53(fx: Fixture) -> None:
    """Indexes past I-JSON's exact integers are not written as JSON numbers."""
    bundle = replace(fx.bundle(), index=2**53)
    assert code_of(bundle.to_json) == "bad_argument"


def _document(fx: Fixture) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(fx.bundle().to_json())
    return result


HASH = base64.b64encode(bytes(32)).decode()
MUTATIONS: list[tuple[str, Callable[[dict[str, Any]], object], str]] = [
    ("extra member", lambda d: d.update(extra=1), "malformed"),
    ("missing member", lambda d: d.pop("checkpoint"), "malformed"),
    ("version 2", lambda d: d.update(version=2), "malformed"),
    ("version true", lambda d: d.update(version=True), "malformed"),
    ("version text", lambda d: d.update(version="1"), "malformed"),
    ("negative index", lambda d: d.update(index=-1), "malformed"),
    ("float index", lambda d: d.update(index=3.0), "malformed"),
    ("text index", lambda d: d.update(index="3"), "malformed"),
    ("boolean index", lambda d: d.update(index=True), "malformed"),
    ("index past 2**53", lambda d: d.update(index=2**53), "malformed"),
    ("entry not text", lambda d: d.update(entry=[1]), "malformed"),
    ("padded entry", lambda d: d.update(entry=d["entry"] + "=="), "invalid_encoding"),
    ("entry in std base64", lambda d: d.update(entry="ab+/"), "invalid_encoding"),
    ("entry too large", lambda d: d.update(entry="A" * 22_000), "too_large"),
    ("proof not a list", lambda d: d.update(inclusion_proof=HASH), "malformed"),
    ("proof item not text", lambda d: d.update(inclusion_proof=[1]), "malformed"),
    ("proof item unpadded", lambda d: d.update(inclusion_proof=[HASH[:-1]]), "invalid_encoding"),
    (
        "proof item base64url",
        lambda d: d.update(inclusion_proof=["-" + HASH[1:]]),
        "invalid_encoding",
    ),
    (
        "proof item with spare bits",
        lambda d: d.update(inclusion_proof=[HASH[:-2] + "B="]),
        "invalid_encoding",
    ),
    (
        "proof item of 31 bytes",
        lambda d: d.update(inclusion_proof=[base64.b64encode(bytes(31)).decode()]),
        "invalid_encoding",
    ),
    ("proof of 65 hashes", lambda d: d.update(inclusion_proof=[HASH] * 65), "too_large"),
    ("checkpoint not text", lambda d: d.update(checkpoint=None), "malformed"),
    ("checkpoint too large", lambda d: d.update(checkpoint="a" * 70_000), "too_large"),
]


@pytest.mark.parametrize(
    ("mutate", "expect_code"),
    [(m, c) for _, m, c in MUTATIONS],
    ids=[name for name, _, _ in MUTATIONS],
)
def test_malformed_bundle_member_is_refused(
    fx: Fixture, mutate: Callable[[dict[str, Any]], object], expect_code: str
) -> None:
    """Each member is checked for type, range and canonical encoding."""
    document = _document(fx)
    mutate(document)
    text = json.dumps(document)
    assert code_of(lambda: ProofBundle.from_json(text)) == expect_code


@pytest.mark.parametrize(
    ("text", "expect_code"),
    [
        ("", "malformed"),
        ("{not json", "malformed"),
        ("[]", "malformed"),
        ('{"version": 1, "version": 1}', "duplicate_key"),
        ('{"version": NaN}', "malformed"),
        ('{"a": [[[]]]}', "too_deep"),
        (" " * (MAX_BUNDLE_BYTES + 1), "too_large"),
    ],
    ids=["empty", "syntax", "array", "duplicate", "nan", "deep", "oversized"],
)
def test_malformed_bundle_document_is_refused(text: str, expect_code: str) -> None:
    """Bounded, strict JSON parsing comes first."""
    assert code_of(lambda: ProofBundle.from_json(text)) == expect_code


def test_bad_utf8_is_malformed() -> None:
    """A bundle is UTF-8 JSON."""
    assert code_of(lambda: ProofBundle.from_json(b'{"a": "\xff"}')) == "malformed"


# -- witness keys ------------------------------------------------------------------------------


def test_cosigner_key_round_trip(fx: Fixture) -> None:
    """format_cosigner_key and parse_cosigner_key are a round-trip pair (C2SP vkey, 0x04)."""
    verifier = fx.witnesses[0].verifier
    text = format_cosigner_key(verifier)
    name, key_id, blob = text.split("+", 2)
    assert name == verifier.name
    assert int(key_id, 16) == verifier.key_id
    assert base64.b64decode(blob)[0] == 0x04
    assert parse_cosigner_key(text) == verifier


def test_note_key_is_not_a_cosigner_key(fx: Fixture) -> None:
    """A plain note key (type 0x01) is refused where a witness key is expected."""
    assert code_of(lambda: parse_cosigner_key(format_verifier_key(fx.log.verifier))) == "malformed"


def test_cosigner_key_with_wrong_id_is_refused(fx: Fixture) -> None:
    """The key ID must be the one the name and key give."""
    name, key_id, blob = format_cosigner_key(fx.witnesses[0].verifier).split("+", 2)
    wrong = f"{int(key_id, 16) ^ 1:08x}"
    assert code_of(lambda: parse_cosigner_key(f"{name}+{wrong}+{blob}")) == "malformed"


@pytest.mark.parametrize(
    "text",
    ["", "name", "name+0000000+AA==", "na me+00000000+" + "B" * 44, "name+ABCDEF01+" + "B" * 44],
)
def test_malformed_cosigner_key_is_refused(text: str) -> None:
    """Layout, name, hex ID and base64 length are checked before the key."""
    assert code_of(lambda: parse_cosigner_key(text)) == "malformed"


def test_cosigner_key_with_small_order_point_is_weak() -> None:
    """The Ed25519 identity point is refused as a witness key."""
    blob = base64.b64encode(bytes([4, 1]) + bytes(31)).decode()
    assert code_of(lambda: parse_cosigner_key(f"w+00000000+{blob}")) == "weak_key"


def test_verify_with_parsed_keys(fx: Fixture) -> None:
    """Keys exchanged as vkey text verify the same bundle (what the CLI does)."""
    policy = WitnessPolicy(
        witnesses=tuple(parse_cosigner_key(format_cosigner_key(w.verifier)) for w in fx.witnesses),
        threshold=2,
    )
    assert fx.verify(fx.bundle(), witnesses=policy) == fx.ledger.entry(3)
