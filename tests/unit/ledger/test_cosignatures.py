"""A log collecting witness cosignatures: open_cosignatures, merge_cosignatures, the Ledger side.

The log-side counterpart of :func:`open_checkpoint`: every signature line of a submission
must be the log's or a configured witness's, one line per witness is kept (the newest), and
only the latest stored checkpoint takes cosignatures. Store-backed tests run on SQLite and
PostgreSQL (``store`` fixture).
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from seoul_vc.clock import FixedClock
from seoul_vc.errors import SeoulVCError
from seoul_vc.keys import PrivateKey
from seoul_vc.ledger.apps.authority import GRANT
from seoul_vc.ledger.checkpoint import (
    Checkpoint,
    CosignerKey,
    WitnessPolicy,
    cosign,
    merge_cosignatures,
    open_checkpoint,
    open_cosignatures,
    sign_checkpoint,
)
from seoul_vc.ledger.entry import sign_entry, signer_did
from seoul_vc.ledger.log import Ledger
from seoul_vc.ledger.note import NoteSigner, open_note
from seoul_vc.ledger.witness import Witness

if TYPE_CHECKING:
    from conftest import StoreUnderTest  # this folder's conftest.py

ORIGIN = "ledger.seoul.example/cosignatures"
NOW = 1767225600


def code_of(fn, *args, **kwargs) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(SeoulVCError) as info:
        fn(*args, **kwargs)
    return str(info.value.code)


class Log:
    """A log key, two configured witnesses and a stranger."""

    def __init__(self) -> None:
        self.signer = NoteSigner(ORIGIN, PrivateKey.generate())
        self.witnesses = [
            CosignerKey(f"witness-{n}.seoul.example", PrivateKey.generate()) for n in (1, 2)
        ]
        self.verifiers = [w.verifier for w in self.witnesses]
        self.stranger = CosignerKey("stranger.example", PrivateKey.generate())
        self.note = sign_checkpoint(
            Checkpoint(origin=ORIGIN, size=3, root_hash=bytes(range(32))), self.signer
        )

    def cosigned(self, note: str, witness: CosignerKey, timestamp: int = NOW) -> str:
        return cosign(note, self.signer.verifier, witness, timestamp=timestamp)

    def open(self, note: str, **kwargs: int) -> object:
        return open_cosignatures(
            note, log_key=self.signer.verifier, witnesses=self.verifiers, **kwargs
        )


@pytest.fixture
def log() -> Log:
    return Log()


def _lines(note: str) -> list[str]:
    return note[note.index("\n\n") + 2 :].splitlines()


# -- open_cosignatures --------------------------------------------------------------------------


def test_open_cosignatures_returns_each_witness_once_with_its_newest_time(log: Log) -> None:
    """Two lines of one witness count once, at the later timestamp."""
    note = log.cosigned(log.cosigned(log.note, log.witnesses[0], NOW), log.witnesses[0], NOW + 9)
    note = log.cosigned(note, log.witnesses[1], NOW + 1)
    opened = open_cosignatures(note, log_key=log.signer.verifier, witnesses=log.verifiers)
    assert {(c.witness.name, c.timestamp) for c in opened.cosignatures} == {
        ("witness-1.seoul.example", NOW + 9),
        ("witness-2.seoul.example", NOW + 1),
    }
    assert opened.checkpoint.size == 3


def test_open_cosignatures_refuses_a_line_from_an_unknown_key(log: Log) -> None:
    """A verifier may ignore unknown keys; a log accepting cosignatures may not."""
    note = log.cosigned(log.cosigned(log.note, log.witnesses[0]), log.stranger)
    assert code_of(log.open, note) == "untrusted_signer"


def test_open_cosignatures_needs_a_cosignature(log: Log) -> None:
    """The log's own note, sent back unchanged, is not a submission."""
    assert code_of(log.open, log.note) == "malformed"


def test_open_cosignatures_needs_the_log_signature(log: Log) -> None:
    """A checkpoint the log key did not sign is refused before anything else."""
    impostor = NoteSigner(ORIGIN, PrivateKey.generate())
    fake = sign_checkpoint(Checkpoint(origin=ORIGIN, size=3, root_hash=bytes(32)), impostor)
    note = cosign(fake, impostor.verifier, log.witnesses[0], timestamp=NOW)
    assert code_of(log.open, note) == "invalid_signature"


def test_open_cosignatures_refuses_a_bad_or_future_cosignature(log: Log) -> None:
    """A flipped bit, or a time past now plus the allowed skew, is invalid_signature."""
    note = log.cosigned(log.note, log.witnesses[0])
    head, _, line = note[:-1].rpartition("\n")
    prefix, _, b64 = line.rpartition(" ")
    blob = bytearray(base64.b64decode(b64))
    blob[20] ^= 0x40
    flipped = f"{head}\n{prefix} {base64.b64encode(bytes(blob)).decode()}\n"
    assert code_of(log.open, flipped) == "invalid_signature"
    assert code_of(log.open, note, now_timestamp=NOW - 301) == "invalid_signature"
    log.open(note, now_timestamp=NOW - 300)


# -- merge_cosignatures -------------------------------------------------------------------------


def _merge(log: Log, stored: str, submitted: str) -> str:
    opened = open_cosignatures(submitted, log_key=log.signer.verifier, witnesses=log.verifiers)
    return merge_cosignatures(stored, opened)


def test_merge_adds_witnesses_after_the_log_line(log: Log) -> None:
    """Each submission adds its witness; the result opens under a 2-of-2 policy."""
    once = _merge(log, log.note, log.cosigned(log.note, log.witnesses[0]))
    twice = _merge(log, once, log.cosigned(log.note, log.witnesses[1]))
    assert twice.startswith(log.note)
    assert len(_lines(twice)) == 3
    policy = WitnessPolicy(witnesses=tuple(log.verifiers), threshold=2)
    opened = open_checkpoint(twice, origin=ORIGIN, log_key=log.signer.verifier, witnesses=policy)
    assert len(opened.cosignatures) == 2


def test_merge_keeps_the_newest_line_per_witness_and_is_idempotent(log: Log) -> None:
    """A newer cosignature replaces the stored one; an older or equal one changes nothing."""
    stored = _merge(log, log.note, log.cosigned(log.note, log.witnesses[0], NOW + 5))
    assert _merge(log, stored, log.cosigned(log.note, log.witnesses[0], NOW + 5)) == stored
    assert _merge(log, stored, log.cosigned(log.note, log.witnesses[0], NOW)) == stored
    newer = _merge(log, stored, log.cosigned(log.note, log.witnesses[0], NOW + 60))
    assert newer != stored
    assert len(_lines(newer)) == 2
    assert newer == log.cosigned(log.note, log.witnesses[0], NOW + 60)


def test_merge_refuses_another_checkpoint(log: Log) -> None:
    """Cosignatures of another tree never join the stored note."""
    other = sign_checkpoint(Checkpoint(origin=ORIGIN, size=3, root_hash=bytes(32)), log.signer)
    assert code_of(_merge, log, log.note, log.cosigned(other, log.witnesses[0])) == (
        "log_fork_detected"
    )


def test_merge_refuses_a_stored_note_signed_by_another_log_key(log: Log) -> None:
    """The same text under another log key takes no cosignature checked under this one."""
    other = NoteSigner(ORIGIN, PrivateKey.generate())
    stored = sign_checkpoint(Checkpoint(origin=ORIGIN, size=3, root_hash=bytes(range(32))), other)
    assert code_of(_merge, log, stored, log.cosigned(log.note, log.witnesses[0])) == "conflict"


# -- the Ledger -----------------------------------------------------------------------------------


class Fixture:
    """A ledger at a fixed time with a genesis, and a log key with two witnesses."""

    def __init__(self, store: StoreUnderTest) -> None:
        self.clock = FixedClock(datetime.fromtimestamp(NOW, UTC))
        self.operator = PrivateKey.generate()
        self.ledger = Ledger.open(store.url, clock=self.clock)
        self.ledger.genesis(origin=ORIGIN, operator=self.operator)
        self.log = Log()

    def grow(self) -> None:
        subject = signer_did(PrivateKey.generate().public_key)
        body = {"subject": subject, "record_types": ["status.publish"]}
        self.ledger.append(sign_entry(GRANT, body, self.operator, time=NOW))

    def add(self, note: str) -> str:
        return self.ledger.add_cosignatures(
            note, log_key=self.log.signer.verifier, witnesses=self.log.verifiers
        )


@pytest.fixture
def fx(store: StoreUnderTest) -> Iterator[Fixture]:
    fixture = Fixture(store)
    yield fixture
    fixture.ledger.close()


def test_add_cosignatures_stores_them_with_the_latest_checkpoint(fx: Fixture) -> None:
    """Cosignatures land in the stored note; the ledger's audit still passes."""
    note = fx.ledger.checkpoint(fx.log.signer)
    stored = fx.add(fx.log.cosigned(note, fx.log.witnesses[0]))
    assert fx.ledger.latest_checkpoint() == stored
    both = fx.add(fx.log.cosigned(note, fx.log.witnesses[1]))
    policy = WitnessPolicy(witnesses=tuple(fx.log.verifiers), threshold=2)
    open_checkpoint(both, origin=ORIGIN, log_key=fx.log.signer.verifier, witnesses=policy)
    assert fx.ledger.audit().checkpoint_size == 1


def test_signing_the_same_tree_head_again_keeps_its_cosignatures(fx: Fixture) -> None:
    """Ledger.checkpoint returns the cosigned note rather than replacing it."""
    note = fx.ledger.checkpoint(fx.log.signer)
    stored = fx.add(fx.log.cosigned(note, fx.log.witnesses[0]))
    assert fx.ledger.checkpoint(fx.log.signer) == stored
    other_key = NoteSigner(ORIGIN, PrivateKey.generate())
    resigned = fx.ledger.checkpoint(other_key)
    assert (
        open_note(resigned, [other_key.verifier]).text
        == open_note(stored, [fx.log.signer.verifier]).text
    )
    assert fx.ledger.latest_checkpoint() == resigned
    fx.grow()
    assert fx.ledger.checkpoint(fx.log.signer).count("\n\u2014 ") == 1


def test_only_the_latest_checkpoint_takes_cosignatures(fx: Fixture) -> None:
    """Before any checkpoint, or once a newer one is stored: conflict."""
    note = sign_checkpoint(
        Checkpoint(origin=ORIGIN, size=1, root_hash=fx.ledger.root()), fx.log.signer
    )
    late = fx.log.cosigned(note, fx.log.witnesses[0])
    assert code_of(fx.add, late) == "conflict"
    fx.ledger.checkpoint(fx.log.signer)
    fx.grow()
    fx.ledger.checkpoint(fx.log.signer)
    with pytest.raises(SeoulVCError) as info:
        fx.add(late)
    assert info.value.details == {"size": 1, "latest_size": 2}


def test_cosignatures_dated_past_the_clock_skew_are_refused(fx: Fixture) -> None:
    """The ledger's clock and Limits.clock_skew bound cosignature times."""
    note = fx.ledger.checkpoint(fx.log.signer)
    ahead = NOW + int(timedelta(hours=1).total_seconds())
    assert code_of(fx.add, fx.log.cosigned(note, fx.log.witnesses[0], ahead)) == (
        "invalid_signature"
    )
    assert fx.ledger.latest_checkpoint() == note


def test_entries_reads_a_range_from_one_snapshot(fx: Fixture) -> None:
    """entries(start, end) returns end - start entries, fewer past the log's end."""
    for _ in range(4):
        fx.grow()
    assert [e.to_bytes() for e in fx.ledger.entries(1, 3)] == [
        fx.ledger.entry(i).to_bytes() for i in (1, 2)
    ]
    assert len(fx.ledger.entries(3, 100)) == 2
    assert fx.ledger.entries(9, 12) == []
    assert code_of(fx.ledger.entries, 3, 2) == "bad_argument"


def test_witness_names_its_log_key(tmp_path: Path) -> None:
    """Witness.log_key returns the configured key, not_found for other origins."""
    log = Log()
    witness = Witness(
        log.witnesses[0], logs={ORIGIN: log.signer.verifier}, state_path=tmp_path / "w.json"
    )
    assert witness.log_key(ORIGIN) == log.signer.verifier
    assert code_of(witness.log_key, "other.example") == "not_found"
