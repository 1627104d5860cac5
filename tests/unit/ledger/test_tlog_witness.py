r"""C2SP tlog-witness ``add-checkpoint``: the wire format and the witness's answer.

The request body (https://c2sp.org/tlog-witness) is ``old <size>\n``, 0..63 proof lines of
standard padded base64 SHA-256 hashes, an empty line, then the checkpoint note; a 409 answer
is ``<size>\n`` (``text/x.tlog.size``). Every tree here is real: entries are hashed into a
list-backed ``HashReader`` with ``tlog.stored_hashes_for_record`` (one test uses a real
SQLite ``Ledger``), checkpoints are signed by a ``NoteSigner``, proofs come from
``tlog.prove_consistency`` and every cosignature line is checked with ``open_checkpoint``
or ``open_cosignatures``.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from memory_log import Log, entries

from seoul_vc.clock import FixedClock
from seoul_vc.errors import (
    Code,
    MalformedInputError,
    NotFoundError,
    SeoulVCError,
    StateConflictError,
    VerificationError,
)
from seoul_vc.keys import PrivateKey
from seoul_vc.ledger import tlog
from seoul_vc.ledger.apps.authority import GRANT
from seoul_vc.ledger.checkpoint import (
    Checkpoint,
    CosignerKey,
    WitnessPolicy,
    cosign,
    open_checkpoint,
    open_cosignatures,
    sign_checkpoint,
)
from seoul_vc.ledger.entry import sign_entry, signer_did
from seoul_vc.ledger.log import Ledger
from seoul_vc.ledger.note import (
    MAX_NOTE_BYTES,
    NoteSigner,
    keep_signatures,
    open_note,
    sign_note,
    signature_line,
)
from seoul_vc.ledger.tlog import ConsistencyProof, Hash
from seoul_vc.ledger.tlog_witness import (
    MAX_PROOF_LINES,
    MAX_REQUEST_BYTES,
    SIZE_MEDIA_TYPE,
    AddCheckpoint,
    encode_request,
    encode_size,
    parse_request,
    parse_size,
)
from seoul_vc.ledger.witness import Witness

ORIGIN = "ledger.seoul.example/tlog-witness"
OTHER_ORIGIN = "mileage.seoul.example/v1"
WITNESS_NAME = "witness.nhis.example"
NO_PROOF = ConsistencyProof(hashes=())
SEP = "\u2014 "  # em dash, space: the start of every signature line

# Three 32-byte hashes and their standard base64 spellings, written out by hand: the second
# and third use "+" and "/", the two characters where base64 and base64url differ.
H1, H2, H3 = Hash(bytes(range(32))), Hash(b"\xfb\xef\xbe" * 10 + b"\xfb\xef"), Hash(b"\xff" * 32)
B1 = b"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
B2 = b"++++++++++++++++++++++++++++++++++++++++++8="
B3 = b"//////////////////////////////////////////8="

# A checkpoint note for the parser (which only splits it off; nothing verifies it there).
PARSE_NOTE = sign_checkpoint(
    Checkpoint(origin=ORIGIN, size=8, root_hash=bytes(range(32))),
    NoteSigner(ORIGIN, PrivateKey.generate()),
).encode()


@pytest.fixture
def signer() -> NoteSigner:
    return NoteSigner(ORIGIN, PrivateKey.generate())


@pytest.fixture
def log(signer: NoteSigner) -> Log:
    return Log(signer, entries(32))


@pytest.fixture
def key() -> CosignerKey:
    return CosignerKey(WITNESS_NAME, PrivateKey.generate())


@pytest.fixture
def state_path(tmp_path: Path) -> Path:
    return tmp_path / "witness.json"


@pytest.fixture
def make_witness(
    key: CosignerKey, signer: NoteSigner, state_path: Path, clock: FixedClock
) -> Callable[[], Witness]:
    def make() -> Witness:
        return Witness(key, logs={ORIGIN: signer.verifier}, state_path=state_path, clock=clock)

    return make


@pytest.fixture
def witness(make_witness: Callable[[], Witness]) -> Witness:
    return make_witness()


def now(clock: FixedClock) -> int:
    return int(clock.now().timestamp())


def cosigned_at(note: str, line: str, signer: NoteSigner, key: CosignerKey) -> int:
    """Open ``note`` + ``line`` under a 1-of-1 policy; return the cosignature's time."""
    policy = WitnessPolicy(witnesses=(key.verifier,), threshold=1)
    opened = open_checkpoint(note + line, origin=ORIGIN, log_key=signer.verifier, witnesses=policy)
    (cosignature,) = opened.cosignatures
    return cosignature.timestamp


def sig_lines(note: str) -> list[str]:
    """The signature lines of a note, each with its newline."""
    return note[note.index("\n\n") + 2 :].splitlines(keepends=True)


def malformed(body: bytes) -> MalformedInputError:
    """parse_request's refusal of ``body``: exactly the library's typed error."""
    with pytest.raises(MalformedInputError) as info:
        parse_request(body)
    assert type(info.value) is MalformedInputError
    return info.value


# -- encode_request / parse_request ---------------------------------------------------------------


def test_request_from_old_size_zero_round_trips(log: Log) -> None:
    """Old size 0, no proof: ``old 0``, the empty line, the note; parsed back unchanged."""
    note = log.note(4)
    body = encode_request(0, NO_PROOF, note)
    assert body == b"old 0\n\n" + note.encode()
    assert parse_request(body) == AddCheckpoint(old_size=0, proof=NO_PROOF, note=note)


def test_request_with_a_real_proof_round_trips(log: Log) -> None:
    """A proof of several hashes comes back hash for hash, and still links the two trees."""
    proof = log.proof(13, 5)
    assert len(proof.hashes) >= 3
    note = log.note(13)
    body = encode_request(5, proof, note)
    assert body.count(b"\n") == 1 + len(proof.hashes) + 1 + note.count("\n")
    parsed = parse_request(body)
    assert parsed == AddCheckpoint(old_size=5, proof=proof, note=note)
    tlog.check_consistency(parsed.proof, 13, log.root(13), 5, log.root(5))


def test_request_layout_is_byte_exact() -> None:
    """The spec's layout, built by hand: standard base64 with ``+``/``/``, a UTF-8 note."""
    origin = "서울.example/log"
    note = sign_checkpoint(
        Checkpoint(origin=origin, size=7, root_hash=bytes(32)),
        NoteSigner(origin, PrivateKey.generate()),
    )
    expected = b"old 3\n" + B1 + b"\n" + B2 + b"\n" + B3 + b"\n" + b"\n" + note.encode("utf-8")
    body = encode_request(3, ConsistencyProof(hashes=(H1, H2, H3)), note)
    assert body == expected
    assert parse_request(expected) == AddCheckpoint(
        old_size=3, proof=ConsistencyProof(hashes=(H1, H2, H3)), note=note
    )


def test_largest_request_parses_and_one_byte_more_is_too_large() -> None:
    """Old size 2**64-1, 63 proof lines and a note filling MAX_NOTE_BYTES is the limit."""
    proof = ConsistencyProof(hashes=(H2,) * MAX_PROOF_LINES)
    head = encode_request(2**64 - 1, proof, "")
    assert len(head) + MAX_NOTE_BYTES == MAX_REQUEST_BYTES
    body = head + b"x" * MAX_NOTE_BYTES
    parsed = parse_request(body)
    assert (parsed.old_size, len(parsed.proof.hashes)) == (2**64 - 1, MAX_PROOF_LINES)
    assert malformed(body + b"x").code is Code.TOO_LARGE


@pytest.mark.parametrize(
    ("old_size", "hashes"),
    [
        (-1, ()),
        (2**64, (H1,)),
        (0, (H1,)),
        (5, (H1,) * (MAX_PROOF_LINES + 1)),
        (5, (Hash(bytes(31)),)),
        (5, (Hash(bytes(33)),)),
    ],
    ids=["negative", "2**64", "proof at old 0", "64 lines", "31-byte hash", "33-byte hash"],
)
def test_encode_request_refuses_what_the_spec_forbids(
    old_size: int, hashes: tuple[Hash, ...]
) -> None:
    """A request the spec forbids is never written: ``malformed``."""
    with pytest.raises(MalformedInputError) as info:
        encode_request(old_size, ConsistencyProof(hashes=hashes), PARSE_NOTE.decode())
    assert info.value.code is Code.MALFORMED


REFUSED_REQUESTS: dict[str, bytes] = {
    "empty body": b"",
    "no empty line, no note": b"old 3\n" + B1 + b"\n",
    "no empty line, just the size": b"old 0\n",
    "no empty line before the note": b"old 0\n" + PARSE_NOTE,
    "no old line": b"\n\n" + PARSE_NOTE,
    "no old prefix": b"3\n\n" + PARSE_NOTE,
    "Old capitalised": b"Old 3\n\n" + PARSE_NOTE,
    "old without a space": b"old3\n\n" + PARSE_NOTE,
    "old with a tab": b"old\t3\n\n" + PARSE_NOTE,
    "old with no size": b"old \n\n" + PARSE_NOTE,
    "leading zero": b"old 03\n" + B1 + b"\n\n" + PARSE_NOTE,
    "zero written 00": b"old 00\n\n" + PARSE_NOTE,
    "minus sign": b"old -1\n\n" + PARSE_NOTE,
    "plus sign": b"old +1\n" + B1 + b"\n\n" + PARSE_NOTE,
    "underscore": b"old 1_0\n" + B1 + b"\n\n" + PARSE_NOTE,
    "arabic-indic digits": "old \u0661\u0662\n".encode() + B1 + b"\n\n" + PARSE_NOTE,
    "fullwidth digits": "old \uff11\n".encode() + B1 + b"\n\n" + PARSE_NOTE,
    "two spaces": b"old  1\n" + B1 + b"\n\n" + PARSE_NOTE,
    "trailing space": b"old 1 \n" + B1 + b"\n\n" + PARSE_NOTE,
    "CRLF after the size": b"old 1\r\n" + B1 + b"\r\n\r\n" + PARSE_NOTE,
    "hex size": b"old 0x1\n" + B1 + b"\n\n" + PARSE_NOTE,
    "size 2**64": b"old 18446744073709551616\n" + B1 + b"\n\n" + PARSE_NOTE,
    "21 digits": b"old 100000000000000000000\n" + B1 + b"\n\n" + PARSE_NOTE,
    "64 proof lines": b"old 5\n" + (B1 + b"\n") * 64 + b"\n" + PARSE_NOTE,
    "proof line at old 0": b"old 0\n" + B1 + b"\n\n" + PARSE_NOTE,
    "unpadded base64url line": b"old 5\n" + B1[:-1] + b"\n\n" + PARSE_NOTE,
    "base64url alphabet, padded": b"old 5\n" + B2.replace(b"+", b"-") + b"\n\n" + PARSE_NOTE,
    "base64url alphabet, unpadded": b"old 5\n" + B3.replace(b"/", b"_")[:-1] + b"\n\n" + PARSE_NOTE,
    "31-byte hash": b"old 5\n" + b"A" * 42 + b"==\n\n" + PARSE_NOTE,
    "33-byte hash": b"old 5\n" + b"A" * 44 + b"\n\n" + PARSE_NOTE,
    "non-canonical trailing bits": b"old 5\n" + B1[:-2] + b"9=\n\n" + PARSE_NOTE,
    "proof line with a trailing space": b"old 5\n" + B1 + b" \n\n" + PARSE_NOTE,
    "proof line with CR": b"old 5\n" + B1 + b"\r\n\n" + PARSE_NOTE,
    "proof line not base64": b"old 5\nnot a hash\n\n" + PARSE_NOTE,
    "second proof line bad": b"old 5\n" + B1 + b"\n" + B2[:-1] + b"\n\n" + PARSE_NOTE,
    "invalid UTF-8 in the note": b"old 0\n\n" + PARSE_NOTE[:-1] + b"\xff\n",
    "invalid UTF-8 in the size": b"old \xff\n\n" + PARSE_NOTE,
    "overlong UTF-8": b"old 0\n\n\xc0\xaf" + PARSE_NOTE,
    "UTF-8 surrogate": b"old 0\n\n\xed\xa0\x80" + PARSE_NOTE,
}


@pytest.mark.parametrize("body", list(REFUSED_REQUESTS.values()), ids=list(REFUSED_REQUESTS))
def test_parse_request_refuses_bodies_the_spec_forbids(body: bytes) -> None:
    """Each body is refused as ``malformed`` with the library's typed error (nothing else)."""
    assert malformed(body).code is Code.MALFORMED


def test_parse_request_refuses_a_body_past_the_limit_as_too_large() -> None:
    """A body over MAX_REQUEST_BYTES is ``too_large``, before it is even decoded."""
    body = b"old 0\n\n" + b"\xff" * MAX_REQUEST_BYTES
    assert malformed(body).code is Code.TOO_LARGE


def test_parse_request_never_raises_an_untyped_error(log: Log) -> None:
    """Every one-byte deletion or substitution of a valid body parses or is malformed."""
    body = encode_request(5, log.proof(13, 5), log.note(13))
    parse_request(body)
    outcomes: set[str] = set()
    for i in range(len(body)):
        variants = [body[:i] + body[i + 1 :]]
        variants += [body[:i] + b + body[i + 1 :] for b in (b"\n", b" ", b"0", b"-", b"\xff")]
        for variant in variants:
            try:
                parse_request(variant)
                outcomes.add("ok")
            except MalformedInputError as exc:
                outcomes.add(str(exc.code))
    assert outcomes == {"ok", "malformed"}


# -- encode_size / parse_size ---------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 1, 10, 409, 2**53 + 1, 2**64 - 1])
def test_size_round_trips(size: int) -> None:
    """A 409 body is the size in ASCII decimal and one newline, and parses back."""
    body = encode_size(size)
    assert body == str(size).encode("ascii") + b"\n"
    assert parse_size(body) == size


def test_size_body_is_byte_exact() -> None:
    r"""``5`` is ``b"5\n"``, zero is ``b"0\n"``; the media type is text/x.tlog.size."""
    assert (encode_size(5), encode_size(0)) == (b"5\n", b"0\n")
    assert SIZE_MEDIA_TYPE == "text/x.tlog.size"


REFUSED_SIZES: dict[str, bytes] = {
    "empty": b"",
    "only a newline": b"\n",
    "no newline": b"5",
    "leading zero": b"05\n",
    "CRLF": b"5\r\n",
    "two newlines": b"5\n\n",
    "21 digits": b"1" * 21 + b"\n",
    "2**64": b"18446744073709551616\n",
    "arabic-indic digits": "\u0661\u0662\n".encode(),
    "fullwidth digit": "\uff15\n".encode(),
    "minus": b"-1\n",
    "plus": b"+5\n",
    "leading space": b" 5\n",
    "trailing space": b"5 \n",
    "underscore": b"1_0\n",
    "not UTF-8": b"\xff\n",
}


@pytest.mark.parametrize("body", list(REFUSED_SIZES.values()), ids=list(REFUSED_SIZES))
def test_parse_size_refuses_anything_but_a_canonical_decimal_line(body: bytes) -> None:
    """Each body is refused as ``malformed``, with the library's typed error only."""
    with pytest.raises(MalformedInputError) as info:
        parse_size(body)
    assert type(info.value) is MalformedInputError
    assert info.value.code is Code.MALFORMED


# -- Witness.add_checkpoint: accepting -----------------------------------------------------------


def test_first_checkpoint_from_old_size_zero_gets_one_cosignature_line(
    witness: Witness, log: Log, signer: NoteSigner, key: CosignerKey, clock: FixedClock
) -> None:
    """Old 0, no proof, never cosigned: one line by this witness that verifies, remembered."""
    note = log.note(3)
    line = witness.add_checkpoint(0, NO_PROOF, note)
    assert line.startswith(SEP + WITNESS_NAME + " ")
    assert line.endswith("\n")
    assert line.count("\n") == 1
    assert cosigned_at(note, line, signer, key) == now(clock)
    opened = open_cosignatures(note + line, log_key=signer.verifier, witnesses=[key.verifier])
    assert [c.witness for c in opened.cosignatures] == [key.verifier]
    assert opened.checkpoint == log.checkpoint(3)
    assert witness.latest(ORIGIN) == log.checkpoint(3)


def test_answer_holds_only_the_witness_line_whatever_the_note_carries(
    witness: Witness, log: Log, signer: NoteSigner, key: CosignerKey
) -> None:
    """Other cosignatures on the request note are ignored; the answer is just our line."""
    stranger = CosignerKey("stranger.example", PrivateKey.generate())
    note = cosign(log.note(6), signer.verifier, stranger, timestamp=1)
    line = witness.add_checkpoint(0, NO_PROOF, note)
    assert line.count("\n") == 1
    assert line.startswith(SEP + WITNESS_NAME + " ")
    assert cosigned_at(log.note(6), line, signer, key) > 0


def test_growth_from_the_remembered_size_is_cosigned_and_remembered(
    witness: Witness, log: Log, signer: NoteSigner, key: CosignerKey, clock: FixedClock
) -> None:
    """5 -> 13 -> 32 with real proofs sent over the wire: each line verifies, size moves."""
    witness.add_checkpoint(0, NO_PROOF, log.note(5))
    for old, new in [(5, 13), (13, 32)]:
        clock.advance(timedelta(seconds=7))
        request = parse_request(encode_request(old, log.proof(new, old), log.note(new)))
        line = witness.add_checkpoint(request.old_size, request.proof, request.note)
        assert cosigned_at(log.note(new), line, signer, key) == now(clock)
        latest = witness.latest(ORIGIN)
        assert latest is not None
        assert latest.size == new
        assert latest == log.checkpoint(new)


def test_growth_from_a_cosigned_empty_tree_needs_no_proof(
    witness: Witness, log: Log, signer: NoteSigner, key: CosignerKey
) -> None:
    """After cosigning size 0 the remembered size is 0: old 0 and no proof grow it."""
    witness.add_checkpoint(0, NO_PROOF, log.note(0))
    assert witness.latest(ORIGIN) == log.checkpoint(0)
    line = witness.add_checkpoint(0, NO_PROOF, log.note(4))
    cosigned_at(log.note(4), line, signer, key)
    assert witness.latest(ORIGIN) == log.checkpoint(4)


def test_same_size_same_root_is_cosigned_again(
    make_witness: Callable[[], Witness],
    log: Log,
    signer: NoteSigner,
    key: CosignerKey,
    clock: FixedClock,
) -> None:
    """The remembered tree again (even after a restart) gets a fresh line, size unchanged."""
    witness = make_witness()
    first = witness.add_checkpoint(0, NO_PROOF, log.note(5))
    clock.advance(timedelta(minutes=1))
    again = make_witness().add_checkpoint(5, NO_PROOF, log.note(5))
    assert again != first
    note = log.note(5)
    assert cosigned_at(note, again, signer, key) == cosigned_at(note, first, signer, key) + 60
    assert witness.latest(ORIGIN) == log.checkpoint(5)


def test_a_real_ledger_is_cosigned_through_the_wire_format(
    tmp_path: Path, key: CosignerKey, clock: FixedClock
) -> None:
    """A SQLite Ledger's checkpoints and proofs, encoded and parsed, are cosigned in turn."""
    time = now(clock)
    operator = PrivateKey.generate()
    log_key = NoteSigner(ORIGIN, PrivateKey.generate())
    ledger = Ledger.open(f"sqlite:{tmp_path / 'ledger.db'}", clock=clock)
    witness = Witness(
        key, logs={ORIGIN: log_key.verifier}, state_path=tmp_path / "w.json", clock=clock
    )
    policy = WitnessPolicy(witnesses=(key.verifier,), threshold=1)

    def grow(n: int) -> None:
        for _ in range(n):
            subject = signer_did(PrivateKey.generate().public_key)
            body = {"subject": subject, "record_types": ["status.publish"]}
            ledger.append(sign_entry(GRANT, body, operator, time=time))

    try:
        ledger.genesis(origin=ORIGIN, operator=operator)
        grow(2)
        old = 0
        for more in (0, 3, 5):
            grow(more)
            note = ledger.checkpoint(log_key)
            size = ledger.size
            proof = ledger.prove_consistency(old, size) if old else NO_PROOF
            request = parse_request(encode_request(old, proof, note))
            line = witness.add_checkpoint(request.old_size, request.proof, request.note)
            opened = open_checkpoint(
                note + line, origin=ORIGIN, log_key=log_key.verifier, witnesses=policy
            )
            assert opened.checkpoint.size == size
            assert witness.latest(ORIGIN) == Checkpoint(
                origin=ORIGIN, size=size, root_hash=ledger.root()
            )
            old = size
        assert old == 1 + 2 + 3 + 5
    finally:
        ledger.close()


# -- Witness.add_checkpoint: refusing -------------------------------------------------------------


def mismatch(witness: Witness, old_size: int, proof: ConsistencyProof, note: str) -> int:
    """The size in the ``old_size_mismatch`` refusal of this request."""
    with pytest.raises(StateConflictError) as info:
        witness.add_checkpoint(old_size, proof, note)
    assert info.value.code is Code.OLD_SIZE_MISMATCH
    return int(info.value.details["size"])


def test_old_size_other_than_the_cosigned_one_is_a_mismatch(
    witness: Witness, log: Log, state_path: Path
) -> None:
    """Old 3 or 0 when 5 was cosigned last: ``old_size_mismatch`` with size 5, no change."""
    witness.add_checkpoint(0, NO_PROOF, log.note(5))
    state = state_path.read_bytes()
    assert mismatch(witness, 3, log.proof(9, 3), log.note(9)) == 5
    assert mismatch(witness, 0, NO_PROOF, log.note(9)) == 5
    assert mismatch(witness, 9, NO_PROOF, log.note(9)) == 5
    assert encode_size(mismatch(witness, 6, log.proof(9, 6), log.note(9))) == b"5\n"
    assert witness.latest(ORIGIN) == log.checkpoint(5)
    assert state_path.read_bytes() == state


def test_old_size_when_never_cosigned_is_a_mismatch_with_size_zero(
    witness: Witness, log: Log, state_path: Path
) -> None:
    """A client that believes the witness cosigned size 5 is told 0: it never cosigned."""
    assert mismatch(witness, 5, log.proof(9, 5), log.note(9)) == 0
    assert witness.latest(ORIGIN) is None
    assert not state_path.exists()


def test_mismatch_is_checked_against_another_process_state(
    make_witness: Callable[[], Witness], log: Log
) -> None:
    """Two witnesses on one state file: the second sees the size the first cosigned."""
    first, second = make_witness(), make_witness()
    first.add_checkpoint(0, NO_PROOF, log.note(5))
    first.add_checkpoint(5, log.proof(9, 5), log.note(9))
    assert mismatch(second, 5, log.proof(13, 5), log.note(13)) == 9
    second.add_checkpoint(9, log.proof(13, 9), log.note(13))
    assert first.latest(ORIGIN) == log.checkpoint(13)


@pytest.mark.parametrize("remembered", [None, 2])
def test_old_size_past_the_checkpoint_size_is_malformed(
    witness: Witness, log: Log, remembered: int | None
) -> None:
    """Old size 6 for a size-4 checkpoint is a bad request (400), never or once cosigned."""
    if remembered is not None:
        witness.add_checkpoint(0, NO_PROOF, log.note(remembered))
    for old in (5, 6, 2**64 - 1):
        with pytest.raises(MalformedInputError) as info:
            witness.add_checkpoint(old, NO_PROOF, log.note(4))
        assert info.value.code is Code.MALFORMED
    expected = None if remembered is None else log.checkpoint(remembered)
    assert witness.latest(ORIGIN) == expected


def test_negative_old_size_is_malformed(witness: Witness, log: Log) -> None:
    """An old size below zero (a caller bypassing parse_request) is malformed too."""
    with pytest.raises(MalformedInputError) as info:
        witness.add_checkpoint(-1, NO_PROOF, log.note(4))
    assert info.value.code is Code.MALFORMED
    assert witness.latest(ORIGIN) is None


def bad_proofs(log: Log, new: int, old: int) -> dict[str, tuple[ConsistencyProof, set[Code]]]:
    """Wrong proofs from ``old`` to ``new`` and the codes each may be refused with."""
    proof = log.proof(new, old)
    either = {Code.CONSISTENCY_PROOF_INVALID, Code.PROOF_ARGUMENTS_INVALID}
    return {
        "tampered first hash": (
            ConsistencyProof(hashes=(Hash(bytes(32)), *proof.hashes[1:])),
            {Code.CONSISTENCY_PROOF_INVALID},
        ),
        "tampered last hash": (
            ConsistencyProof(hashes=(*proof.hashes[:-1], Hash(hashlib.sha256(b"x").digest()))),
            {Code.CONSISTENCY_PROOF_INVALID},
        ),
        "hashes reversed": (
            ConsistencyProof(hashes=tuple(reversed(proof.hashes))),
            {Code.CONSISTENCY_PROOF_INVALID},
        ),
        "one hash short": (
            ConsistencyProof(hashes=proof.hashes[:-1]),
            {Code.PROOF_ARGUMENTS_INVALID},
        ),
        "one hash too many": (
            ConsistencyProof(hashes=(*proof.hashes, proof.hashes[0])),
            {Code.PROOF_ARGUMENTS_INVALID},
        ),
        "empty": (NO_PROOF, {Code.PROOF_ARGUMENTS_INVALID}),
        "proof from another size": (log.proof(new, old - 1), either),
        "proof to another size": (log.proof(new + 1, old), either),
    }


@pytest.mark.parametrize(
    "case",
    [
        "tampered first hash",
        "tampered last hash",
        "hashes reversed",
        "one hash short",
        "one hash too many",
        "empty",
        "proof from another size",
        "proof to another size",
    ],
)
def test_growth_with_a_wrong_proof_is_refused_and_changes_nothing(
    witness: Witness, log: Log, state_path: Path, case: str
) -> None:
    """A proof that does not link the remembered tree to the new one: refused, state kept."""
    witness.add_checkpoint(0, NO_PROOF, log.note(5))
    state = state_path.read_bytes()
    proof, codes = bad_proofs(log, 13, 5)[case]
    assert proof != log.proof(13, 5)
    with pytest.raises(VerificationError) as info:
        witness.add_checkpoint(5, proof, log.note(13))
    assert info.value.code in codes
    assert witness.latest(ORIGIN) == log.checkpoint(5)
    assert state_path.read_bytes() == state
    witness.add_checkpoint(5, log.proof(13, 5), log.note(13))  # the right proof still works
    assert witness.latest(ORIGIN) == log.checkpoint(13)


def test_fork_at_the_same_size_is_detected(
    witness: Witness, log: Log, signer: NoteSigner, state_path: Path
) -> None:
    """The log key signing another root at the cosigned size is ``log_fork_detected``."""
    witness.add_checkpoint(0, NO_PROOF, log.note(5))
    state = state_path.read_bytes()
    fake = sign_checkpoint(Checkpoint(origin=ORIGIN, size=5, root_hash=bytes(32)), signer)
    fork = Log(signer, entries(5, "forged")).note(5)
    for note in (fake, fork):
        with pytest.raises(VerificationError) as info:
            witness.add_checkpoint(5, NO_PROOF, note)
        assert info.value.code is Code.LOG_FORK_DETECTED
    assert witness.latest(ORIGIN) == log.checkpoint(5)
    assert state_path.read_bytes() == state


def test_fork_at_a_larger_size_with_its_own_proof_is_refused(
    witness: Witness, log: Log, signer: NoteSigner
) -> None:
    """A fork sharing the first 3 entries: its valid proof from 5 misses our size-5 root."""
    witness.add_checkpoint(0, NO_PROOF, log.note(5))
    fork = Log(signer, entries(3) + entries(10, "forged"))
    with pytest.raises(VerificationError) as info:
        witness.add_checkpoint(5, fork.proof(13, 5), fork.note(13))
    assert info.value.code is Code.CONSISTENCY_PROOF_INVALID
    assert witness.latest(ORIGIN) == log.checkpoint(5)


def test_unknown_origin_is_not_found(witness: Witness) -> None:
    """A checkpoint of a log the witness does not serve: ``not_found`` (404)."""
    other = Log(NoteSigner(OTHER_ORIGIN, PrivateKey.generate()), entries(2))
    with pytest.raises(NotFoundError) as info:
        witness.add_checkpoint(0, NO_PROOF, other.note(2))
    assert info.value.code is Code.NOT_FOUND
    assert witness.latest(OTHER_ORIGIN) is None


def test_checkpoint_not_signed_by_the_trusted_log_key_is_refused(
    witness: Witness, log: Log, state_path: Path
) -> None:
    """Another key under the log's name: ``invalid_signature`` (403), nothing remembered."""
    impostor = Log(NoteSigner(ORIGIN, PrivateKey.generate()), entries(5))
    with pytest.raises(VerificationError) as info:
        witness.add_checkpoint(0, NO_PROOF, impostor.note(5))
    assert info.value.code is Code.INVALID_SIGNATURE
    assert witness.latest(ORIGIN) is None
    assert not state_path.exists()


def test_signature_is_checked_before_the_old_size(witness: Witness, log: Log) -> None:
    """An impostor's checkpoint learns nothing of the witness's size: 403, not 409 or 400."""
    witness.add_checkpoint(0, NO_PROOF, log.note(5))
    impostor = Log(NoteSigner(ORIGIN, PrivateKey.generate()), entries(9))
    for old in (3, 12):
        with pytest.raises(VerificationError) as info:
            witness.add_checkpoint(old, NO_PROOF, impostor.note(9))
        assert info.value.code is Code.INVALID_SIGNATURE


def test_old_size_zero_with_a_proof_when_never_cosigned_is_refused(
    witness: Witness, log: Log
) -> None:
    """Nothing is consistent with the empty tree through a non-empty proof."""
    with pytest.raises(VerificationError) as info:
        witness.add_checkpoint(0, log.proof(9, 4), log.note(9))
    assert info.value.code is Code.PROOF_ARGUMENTS_INVALID
    assert witness.latest(ORIGIN) is None


def test_concurrent_requests_from_one_old_size_cosign_exactly_one(
    witness: Witness, log: Log
) -> None:
    """Two threads from the same old size: one is cosigned, the other told the new size."""
    witness.add_checkpoint(0, NO_PROOF, log.note(1))
    last = 1
    for round_ in range(8):
        sizes = (last + 1 + round_ % 2, last + 3)
        barrier = threading.Barrier(len(sizes))
        outcomes: list[object] = [None] * len(sizes)

        def submit(i: int, old: int = last, sizes: tuple[int, int] = sizes) -> None:
            barrier.wait()  # noqa: B023 - each round waits on its own barrier
            try:
                witness.add_checkpoint(old, log.proof(sizes[i], old), log.note(sizes[i]))
                outcomes[i] = "ok"  # noqa: B023
            except SeoulVCError as exc:
                outcomes[i] = (exc.code, exc.details.get("size"))  # noqa: B023

        threads = [threading.Thread(target=submit, args=(i,)) for i in range(len(sizes))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=10)
        assert outcomes.count("ok") == 1, outcomes
        winner = sizes[outcomes.index("ok")]
        loser = outcomes[1 - outcomes.index("ok")]
        assert loser == (Code.OLD_SIZE_MISMATCH, winner)
        assert witness.latest(ORIGIN) == log.checkpoint(winner)
        last = winner


# -- note.keep_signatures / signature_line -------------------------------------------------------


def test_keep_signatures_keeps_only_the_listed_keys_in_note_order(
    log: Log, signer: NoteSigner
) -> None:
    """Log line, w2 and w1 kept in the note's order; the stranger's line is dropped."""
    w1, w2, stranger = (
        CosignerKey(f"{n}.example", PrivateKey.generate()) for n in ("w1", "w2", "stranger")
    )
    note = log.note(7)
    for witness_key in (w2, stranger, w1):
        note = cosign(note, signer.verifier, witness_key, timestamp=100)
    log_line, w2_line, _, w1_line = sig_lines(note)
    wanted = [
        (w1.verifier.name, w1.verifier.key_id),
        (signer.verifier.name, signer.verifier.key_id),
        (w2.verifier.name, w2.verifier.key_id),
    ]
    kept = keep_signatures(note, wanted)
    assert kept == log.note(7) + w2_line + w1_line
    assert sig_lines(kept) == [log_line, w2_line, w1_line]
    assert open_note(kept, [signer.verifier]).text == open_note(note, [signer.verifier]).text
    opened = open_cosignatures(kept, log_key=signer.verifier, witnesses=[w1.verifier, w2.verifier])
    assert {c.witness for c in opened.cosignatures} == {w1.verifier, w2.verifier}
    assert keep_signatures(note.encode(), wanted) == kept


def test_keep_signatures_matches_name_and_key_id_together(log: Log, signer: NoteSigner) -> None:
    """Only the witness line is kept; the log line re-parses alone when it is the one kept."""
    w1 = CosignerKey("w1.example", PrivateKey.generate())
    note = cosign(log.note(7), signer.verifier, w1, timestamp=100)
    only_witness = keep_signatures(note, {(w1.verifier.name, w1.verifier.key_id)})
    assert sig_lines(only_witness) == sig_lines(note)[1:]
    only_log = keep_signatures(note, {(signer.verifier.name, signer.verifier.key_id)})
    assert only_log == log.note(7)
    open_note(only_log, [signer.verifier])


@pytest.mark.parametrize(
    "keys",
    [
        set(),
        {("w1.example", 0)},
        {(ORIGIN, 0)},
        {("nobody.example", 1)},
    ],
    ids=["no keys", "right name, wrong id", "log name, wrong id", "unknown"],
)
def test_keep_signatures_refuses_when_no_listed_key_signed(
    log: Log, signer: NoteSigner, keys: set[tuple[str, int]]
) -> None:
    """Nothing to keep is ``malformed``, never a note without signatures."""
    w1 = CosignerKey("w1.example", PrivateKey.generate())
    note = cosign(log.note(7), signer.verifier, w1, timestamp=100)
    assert all(k not in {(w1.verifier.name, w1.verifier.key_id)} for k in keys)
    with pytest.raises(MalformedInputError) as info:
        keep_signatures(note, keys)
    assert info.value.code is Code.MALFORMED


@pytest.mark.parametrize(
    "data",
    ["no signature block\n", "text\n\nnot a signature line\n", "text\n\n\u2014 k AAAA\n"],
    ids=["no block", "bad line", "short signature"],
)
def test_keep_signatures_refuses_a_note_that_does_not_parse(data: str) -> None:
    """The note is parsed as strictly as open_note parses it."""
    with pytest.raises(MalformedInputError) as info:
        keep_signatures(data, {("k", 0)})
    assert info.value.code is Code.MALFORMED


def test_signature_line_writes_each_parsed_signature_back_exactly(
    log: Log, signer: NoteSigner
) -> None:
    """Parsing then signature_line reproduces every line of a note byte for byte."""
    other = NoteSigner("other.example", PrivateKey.generate())
    text = open_note(log.note(3), [signer.verifier]).text
    note = cosign(
        sign_note(text, [signer, other]),
        signer.verifier,
        CosignerKey("w1.example", PrivateKey.generate()),
        timestamp=2**40,
    )
    opened = open_note(note, [signer.verifier])
    assert len(opened.signatures) == 3
    assert [signature_line(s) for s in opened.signatures] == sig_lines(note)
