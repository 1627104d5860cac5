"""C2SP signed notes: Go sumdb/note interop vector, opening rules, refusals."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from seoul_vc.errors import SeoulVCError
from seoul_vc.keys import PrivateKey, PublicKey
from seoul_vc.ledger.note import (
    MAX_SIGNATURES,
    NoteSigner,
    NoteVerifier,
    format_verifier_key,
    open_note,
    parse_verifier_key,
    sign_note,
)

VECTOR = json.loads(
    (Path(__file__).parents[2] / "vectors" / "c2sp-note" / "go-sumdb-note.json").read_text()
)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def go_signer() -> NoteSigner:
    """Rebuild the Go test signer from its private key string (PRIVATE+KEY+name+id+key)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    seed = base64.b64decode(VECTOR["signer_key"].split("+", 4)[4])[1:]
    pub = (
        ed25519.Ed25519PrivateKey.from_private_bytes(seed)
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )
    key = PrivateKey.from_jwk({"kty": "OKP", "crv": "Ed25519", "x": b64url(pub), "d": b64url(seed)})
    return NoteSigner("PeterNeumann", key)


def expect_code(code: str, fn, *args) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SeoulVCError) as info:
        fn(*args)
    assert info.value.code == code


def test_go_note_opens_with_go_verifier_key() -> None:
    """The Go reference note opens under the Go verifier key and yields its text."""
    verifier = parse_verifier_key(VECTOR["verifier_key"])
    assert open_note(VECTOR["signed_note"], [verifier]).text == VECTOR["text"]


def test_signing_reproduces_go_note_byte_for_byte() -> None:
    """Ed25519 is deterministic, so our signer reproduces the Go note exactly."""
    assert sign_note(VECTOR["text"], [go_signer()]) == VECTOR["signed_note"]


def test_verifier_key_round_trips_to_go_format() -> None:
    """format_verifier_key of the Go key gives back the Go verifier key string."""
    assert format_verifier_key(go_signer().verifier) == VECTOR["verifier_key"]


def test_unknown_keys_are_ignored_when_a_known_key_signed() -> None:
    """Signatures from keys we do not know are skipped, not errors."""
    ours = NoteSigner("log.seoul.example", PrivateKey.generate())
    stranger = NoteSigner("other.example", PrivateKey.generate())
    note = sign_note("tree\n", [stranger, ours])
    opened = open_note(note, [ours.verifier])
    assert opened.verified_by == (ours.verifier,)
    assert len(opened.signatures) == 2


def test_note_without_known_signature_is_refused() -> None:
    """A note that no trusted key signed is refused."""
    stranger = NoteSigner("other.example", PrivateKey.generate())
    ours = NoteSigner("log.seoul.example", PrivateKey.generate())
    expect_code("invalid_signature", open_note, sign_note("tree\n", [stranger]), [ours.verifier])


def test_same_name_other_key_is_ignored_not_trusted() -> None:
    """A key sharing our name but not our key ID is unknown: it cannot stand in for ours."""
    ours = NoteSigner("log.seoul.example", PrivateKey.generate())
    impostor = NoteSigner("log.seoul.example", PrivateKey.generate())
    expect_code("invalid_signature", open_note, sign_note("tree\n", [impostor]), [ours.verifier])


def test_tampered_text_is_refused() -> None:
    """Changing one character of the signed text fails the known key's signature."""
    ours = NoteSigner("log.seoul.example", PrivateKey.generate())
    note = sign_note("size 10\n", [ours]).replace("10", "11", 1)
    expect_code("invalid_signature", open_note, note, [ours.verifier])


def test_bad_known_signature_refuses_whole_note_even_with_a_good_one() -> None:
    """One failing signature from a known key rejects the note (spec: SHOULD reject)."""
    a = NoteSigner("a.example", PrivateKey.generate())
    b = NoteSigner("b.example", PrivateKey.generate())
    note = sign_note("tree\n", [a])
    forged = note + b.signature_line("other text\n")
    expect_code("invalid_signature", open_note, forged, [a.verifier, b.verifier])


@pytest.mark.parametrize(
    "note",
    [
        "no signature block\n",
        "text\n\n",
        "text\n\n\u2014 name\n",
        "text\n\n- name AAAAAAA=\n",
        "text\n\n\u2014 na me AAAAAAA=\n",
        "text\n\n\u2014 name AAAA\n",
        "text\n\n\u2014 name not base64!\n",
        "text\n\n\u2014 name QUJDREVGRw==\n\u0007",
        "text\x01\n\n\u2014 name QUJDREVGRw==\n",
    ],
)
def test_malformed_notes_are_refused(note: str) -> None:
    """Notes that break the format are refused as malformed before any verification."""
    signer = NoteSigner("name", PrivateKey.generate())
    expect_code("malformed", open_note, note, [signer.verifier])


def test_too_many_signature_lines_is_refused() -> None:
    """More than MAX_SIGNATURES signature lines is refused as too large."""
    signers = [NoteSigner(f"k{i}", PrivateKey.generate()) for i in range(MAX_SIGNATURES + 1)]
    expect_code("too_large", open_note, sign_note("t\n", signers), [signers[0].verifier])


def test_non_utf8_bytes_are_refused() -> None:
    """A note that is not UTF-8 is malformed."""
    signer = NoteSigner("name", PrivateKey.generate())
    expect_code("malformed", open_note, b"\xff\n\n", [signer.verifier])


def test_verifier_key_with_wrong_id_is_refused() -> None:
    """A verifier key whose hex ID does not match its key is malformed."""
    name, _, blob = VECTOR["verifier_key"].split("+")
    expect_code("malformed", parse_verifier_key, f"{name}+00000000+{blob}")


def test_verifier_key_with_small_order_key_is_weak() -> None:
    """The identity point as a note key is refused like everywhere else."""
    blob = base64.b64encode(b"\x01" + b"\x01" + b"\x00" * 31).decode()
    expect_code("weak_key", parse_verifier_key, f"bad+00000000+{blob}")


def test_note_key_must_be_ed25519() -> None:
    """Notes of type 0x01 are Ed25519; a P-256 key is a configuration error."""
    expect_code(
        "bad_argument", NoteVerifier.for_key, "log", PrivateKey.generate("ES256").public_key
    )


def test_sign_refuses_text_without_final_newline() -> None:
    """Note text ends with a newline (C2SP signed-note, Format)."""
    signer = NoteSigner("name", PrivateKey.generate())
    expect_code("malformed", sign_note, "no newline", [signer])


def test_verifier_key_whose_base64_contains_plus_parses() -> None:
    """The key part is split off after the second '+' only (transparency-dev/formats plusKey)."""
    key = "TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6"
    assert format_verifier_key(parse_verifier_key(key)) == key


def test_a_repeated_signature_line_is_verified_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """A note with its line sent 32 times costs one verification (a public endpoint reads it)."""
    signer = NoteSigner("log.seoul.example", PrivateKey.generate())
    note = sign_note("hello\n", [signer])
    line = note[len("hello\n\n") :]
    calls: list[bytes] = []
    real = PublicKey.verify

    def counting(self: PublicKey, message: bytes, signature: bytes) -> None:
        calls.append(signature)
        real(self, message, signature)

    monkeypatch.setattr(PublicKey, "verify", counting)
    opened = open_note("hello\n\n" + line * 32, [signer.verifier])
    assert opened.verified_by == (signer.verifier,)
    assert len(opened.signatures) == 32
    assert len(calls) == 1
