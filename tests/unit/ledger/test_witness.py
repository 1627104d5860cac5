"""The witness: cosigns a log's checkpoints only forward (C2SP tlog-witness semantics).

Every tree here is real: entries are hashed into a list-backed ``HashReader`` with
``tlog.stored_hashes_for_record``, checkpoints are signed by a ``NoteSigner`` and proofs come
from ``tlog.prove_consistency``. Every cosignature is checked with ``open_checkpoint``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from memory_log import Log, entries

from seoul_vc._json import canonical
from seoul_vc.clock import FixedClock
from seoul_vc.errors import Code, SeoulVCError, VerificationError
from seoul_vc.keys import PrivateKey
from seoul_vc.ledger.checkpoint import (
    Checkpoint,
    CosignerKey,
    WitnessPolicy,
    open_checkpoint,
    sign_checkpoint,
)
from seoul_vc.ledger.note import NoteSigner
from seoul_vc.ledger.tlog import ConsistencyProof, Hash
from seoul_vc.ledger.witness import Witness

ORIGIN = "ledger.seoul.example/v1"
OTHER_ORIGIN = "mileage.seoul.example/v1"


@pytest.fixture
def signer() -> NoteSigner:
    return NoteSigner(ORIGIN, PrivateKey.generate())


@pytest.fixture
def log(signer: NoteSigner) -> Log:
    return Log(signer, entries(64))


@pytest.fixture
def key() -> CosignerKey:
    return CosignerKey("witness.nhis.example", PrivateKey.generate())


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


def code_of(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> str:
    with pytest.raises(SeoulVCError) as info:
        fn(*args, **kwargs)
    return str(info.value.code)


def cosigned_at(note: str, signer: NoteSigner, key: CosignerKey) -> int:
    """Open a cosigned note with a 1-of-1 policy and return the cosignature's time."""
    policy = WitnessPolicy(witnesses=(key.verifier,), threshold=1)
    opened = open_checkpoint(note, origin=ORIGIN, log_key=signer.verifier, witnesses=policy)
    (cosignature,) = opened.cosignatures
    return cosignature.timestamp


def now(clock: FixedClock) -> int:
    return int(clock.now().timestamp())


# -- accepting ---------------------------------------------------------------------------------


def test_the_same_tree_within_a_second_is_cosigned_without_a_write(
    witness: Witness, log: Log, state_path: Path, clock: FixedClock
) -> None:
    """A replayed checkpoint costs no fsync until the second (the timestamp) moves on."""
    note = log.note(3)
    witness.cosign(note)
    written = state_path.stat().st_ino  # each write replaces the file (a new inode)
    for _ in range(3):
        assert witness.cosign(note).startswith(note)
    assert state_path.stat().st_ino == written
    clock.advance(timedelta(seconds=1))
    witness.cosign(note)
    assert state_path.stat().st_ino != written


def test_first_checkpoint_is_trusted_on_first_use(
    witness: Witness, log: Log, signer: NoteSigner, key: CosignerKey, clock: FixedClock
) -> None:
    """The first checkpoint for an origin is cosigned without a proof and remembered."""
    assert witness.latest(ORIGIN) is None
    note = log.note(3)
    cosigned = witness.cosign(note)
    assert cosigned.startswith(note)
    assert cosigned_at(cosigned, signer, key) == now(clock)
    assert witness.latest(ORIGIN) == log.checkpoint(3)


def test_first_checkpoint_with_a_proof_from_the_empty_tree_is_accepted(
    witness: Witness, log: Log
) -> None:
    """An empty proof checks from the empty tree, so the first checkpoint is cosigned."""
    witness.cosign(log.note(3), log.proof(3, 0))
    assert witness.latest(ORIGIN) == log.checkpoint(3)


def test_first_checkpoint_with_a_proof_not_from_the_empty_tree_is_refused(
    witness: Witness, log: Log
) -> None:
    """A first checkpoint whose proof does not check from the empty tree is refused."""
    assert code_of(witness.cosign, log.note(5), log.proof(5, 2)) == "proof_arguments_invalid"
    assert witness.latest(ORIGIN) is None


def test_growing_log_is_cosigned_with_real_consistency_proofs(
    witness: Witness, log: Log, signer: NoteSigner, key: CosignerKey, clock: FixedClock
) -> None:
    """1 -> 5 -> 9 with consistency proofs: each cosignature verifies 1-of-1."""
    witness.cosign(log.note(1))
    for old, new in [(1, 5), (5, 9)]:
        clock.advance(timedelta(seconds=10))
        cosigned = witness.cosign(log.note(new), log.proof(new, old))
        assert cosigned_at(cosigned, signer, key) == now(clock)
        assert witness.latest(ORIGIN) == log.checkpoint(new)


def test_same_checkpoint_is_cosigned_again_with_a_new_timestamp(
    witness: Witness, log: Log, signer: NoteSigner, key: CosignerKey, clock: FixedClock
) -> None:
    """Resubmitting the latest checkpoint is idempotent and gets a fresh time."""
    first = witness.cosign(log.note(4))
    clock.advance(timedelta(minutes=1))
    again = witness.cosign(log.note(4))
    assert cosigned_at(again, signer, key) == cosigned_at(first, signer, key) + 60
    assert witness.latest(ORIGIN) == log.checkpoint(4)


def test_logs_are_tracked_per_origin(
    key: CosignerKey, signer: NoteSigner, log: Log, state_path: Path, clock: FixedClock
) -> None:
    """Each origin has its own latest checkpoint; a second log starts by TOFU."""
    other = Log(NoteSigner(OTHER_ORIGIN, PrivateKey.generate()), entries(8, "mileage"))
    logs = {ORIGIN: signer.verifier, OTHER_ORIGIN: other.signer.verifier}
    witness = Witness(key, logs=logs, state_path=state_path, clock=clock)
    witness.cosign(log.note(9))
    witness.cosign(other.note(2))
    assert witness.latest(ORIGIN) == log.checkpoint(9)
    assert witness.latest(OTHER_ORIGIN) == other.checkpoint(2)


# -- refusing ----------------------------------------------------------------------------------


def test_fork_at_the_same_size_is_refused(witness: Witness, log: Log, signer: NoteSigner) -> None:
    """Two trees of one size from one log: the second is a fork."""
    witness.cosign(log.note(5))
    fork = Log(signer, entries(5, "forged"))
    with pytest.raises(VerificationError) as info:
        witness.cosign(fork.note(5))
    assert info.value.code is Code.LOG_FORK_DETECTED
    assert (info.value.details["old_size"], info.value.details["new_size"]) == (5, 5)
    assert witness.latest(ORIGIN) == log.checkpoint(5)


def test_truncated_log_is_refused(witness: Witness, log: Log) -> None:
    """A smaller tree after a larger one is a rollback, even if it is a prefix."""
    witness.cosign(log.note(5))
    with pytest.raises(VerificationError) as info:
        witness.cosign(log.note(3))
    assert info.value.code is Code.LOG_FORK_DETECTED
    assert (info.value.details["old_size"], info.value.details["new_size"]) == (5, 3)
    assert witness.latest(ORIGIN) == log.checkpoint(5)


def test_fork_at_a_larger_size_is_refused(witness: Witness, log: Log, signer: NoteSigner) -> None:
    """A fork's own valid proof from size 5 does not reach the root the witness remembers."""
    witness.cosign(log.note(5))
    fork = Log(signer, entries(3) + entries(6, "forged"))
    assert fork.root(3) == log.root(3)
    assert fork.root(5) != log.root(5)
    code = code_of(witness.cosign, fork.note(9), fork.proof(9, 5))
    assert code == "consistency_proof_invalid"
    assert witness.latest(ORIGIN) == log.checkpoint(5)


def test_growth_without_a_proof_is_refused(witness: Witness, log: Log) -> None:
    """A larger tree needs a consistency proof from the last cosigned size."""
    witness.cosign(log.note(5))
    assert code_of(witness.cosign, log.note(9)) == "proof_arguments_invalid"
    assert witness.latest(ORIGIN) == log.checkpoint(5)


def test_tampered_proof_is_refused(witness: Witness, log: Log) -> None:
    """A proof with one hash changed does not link the trees."""
    witness.cosign(log.note(5))
    proof = log.proof(9, 5)
    bad = ConsistencyProof(hashes=(Hash(bytes(32)), *proof.hashes[1:]))
    assert code_of(witness.cosign, log.note(9), bad) == "consistency_proof_invalid"


def test_same_size_with_a_nonempty_proof_is_refused(witness: Witness, log: Log) -> None:
    """At the remembered size only an empty proof (or none) is acceptable."""
    witness.cosign(log.note(5))
    assert code_of(witness.cosign, log.note(5), log.proof(5, 3)) == "proof_arguments_invalid"


def test_note_not_signed_by_the_log_is_refused(witness: Witness, log: Log) -> None:
    """A checkpoint signed by another key under the log's name is refused."""
    impostor = Log(NoteSigner(ORIGIN, PrivateKey.generate()), entries(5))
    assert code_of(witness.cosign, impostor.note(5)) == "invalid_signature"
    assert witness.latest(ORIGIN) is None


def test_unknown_origin_is_not_found(witness: Witness) -> None:
    """A checkpoint of a log the witness does not serve is not found."""
    other = Log(NoteSigner(OTHER_ORIGIN, PrivateKey.generate()), entries(2))
    assert code_of(witness.cosign, other.note(2)) == "not_found"


def test_size_beyond_uint64_is_refused(witness: Witness, signer: NoteSigner) -> None:
    """Tree sizes are uint64; a larger one is malformed rather than remembered."""
    huge = Checkpoint(origin=ORIGIN, size=2**64, root_hash=bytes(32))
    assert code_of(witness.cosign, sign_checkpoint(huge, signer)) == "malformed"


# -- timestamps --------------------------------------------------------------------------------


def test_timestamps_never_go_backwards(
    witness: Witness, log: Log, signer: NoteSigner, key: CosignerKey, clock: FixedClock
) -> None:
    """With the clock moved back, cosignatures keep the last time rather than an earlier one."""
    start = now(clock)
    witness.cosign(log.note(2))
    clock.advance(timedelta(hours=-1))
    assert cosigned_at(witness.cosign(log.note(2)), signer, key) == start
    assert cosigned_at(witness.cosign(log.note(6), log.proof(6, 2)), signer, key) == start
    clock.advance(timedelta(hours=2))
    assert cosigned_at(witness.cosign(log.note(6)), signer, key) == start + 3600


# -- the state file ----------------------------------------------------------------------------


def test_state_survives_a_restart(
    make_witness: Callable[[], Witness], log: Log, signer: NoteSigner
) -> None:
    """A new Witness on the same state file remembers, refuses a fork and keeps growing."""
    make_witness().cosign(log.note(5))
    restarted = make_witness()
    assert restarted.latest(ORIGIN) == log.checkpoint(5)
    fork = Log(signer, entries(5, "forged"))
    assert code_of(restarted.cosign, fork.note(5)) == "log_fork_detected"
    restarted.cosign(log.note(9), log.proof(9, 5))
    assert make_witness().latest(ORIGIN) == log.checkpoint(9)


def test_two_instances_on_one_state_file_see_each_other(
    make_witness: Callable[[], Witness], log: Log
) -> None:
    """State is re-read under the file lock, as for two processes sharing the file."""
    first, second = make_witness(), make_witness()
    first.cosign(log.note(5))
    assert code_of(second.cosign, log.note(3)) == "log_fork_detected"
    second.cosign(log.note(9), log.proof(9, 5))
    assert first.latest(ORIGIN) == log.checkpoint(9)


def test_state_file_is_canonical_json_with_no_temporary_files_left(
    witness: Witness, log: Log, state_path: Path
) -> None:
    """The state is RFC 8785 JSON, sizes as decimal strings; only it and its lock remain."""
    witness.cosign(log.note(7))
    data = state_path.read_bytes()
    document = json.loads(data)
    assert canonical(document) == data
    assert document["logs"][ORIGIN]["size"] == "7"
    names = sorted(p.name for p in state_path.parent.iterdir())
    assert names == [state_path.name, state_path.name + ".lock"]


CORRUPTIONS = {
    "empty": b"",
    "not json": b"{not json",
    "truncated": b'{"logs":{"ledger.seoul.example/v1":{"root":"',
    "wrong layout": b'{"logs":[],"version":1}',
    "unknown version": b'{"logs":{},"version":2}',
    "extra member": b'{"logs":{},"version":1,"x":0}',
    "bad root": b'{"logs":{"o":{"root":"AAAA","size":"1","timestamp":"1"}},"version":1}',
    "non-canonical size": (
        b'{"logs":{"o":{"root":"' + b"A" * 43 + b'=","size":"01","timestamp":"1"}},"version":1}'
    ),
    "numeric size": (
        b'{"logs":{"o":{"root":"' + b"A" * 43 + b'=","size":1,"timestamp":"1"}},"version":1}'
    ),
}


@pytest.mark.parametrize("data", list(CORRUPTIONS.values()), ids=list(CORRUPTIONS))
def test_corrupted_state_file_is_a_storage_error(
    make_witness: Callable[[], Witness], state_path: Path, data: bytes
) -> None:
    """A state file the witness did not write is refused at start, never reset."""
    state_path.write_bytes(data)
    assert code_of(make_witness) == "storage"
    assert state_path.read_bytes() == data


def test_state_corrupted_while_running_stops_cosigning(
    witness: Witness, log: Log, state_path: Path
) -> None:
    """Corruption found at cosigning time refuses the cosignature and keeps the file."""
    witness.cosign(log.note(5))
    state_path.write_bytes(b"\x00garbage")
    assert code_of(witness.cosign, log.note(5)) == "storage"
    assert code_of(witness.latest, ORIGIN) == "storage"
    assert state_path.read_bytes() == b"\x00garbage"


# -- concurrency -------------------------------------------------------------------------------


def race(witness: Witness, requests: Sequence[tuple[str, ConsistencyProof]]) -> list[str]:
    """Submit the requests from one thread each, released together; return each outcome."""
    barrier = threading.Barrier(len(requests))
    outcomes = [""] * len(requests)

    def submit(i: int) -> None:
        barrier.wait()
        try:
            witness.cosign(*requests[i])
            outcomes[i] = "ok"
        except VerificationError as err:
            outcomes[i] = str(err.code)

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    return outcomes


REFUSALS = {"log_fork_detected", "proof_arguments_invalid", "consistency_proof_invalid"}


def test_concurrent_cosignatures_never_roll_back(
    make_witness: Callable[[], Witness], log: Log
) -> None:
    """Two threads racing from one old size: exactly one wins and the state is its tree."""
    witness = make_witness()
    witness.cosign(log.note(1))
    last = 1
    for round_ in range(12):
        sizes = (last + 1 + round_ % 3, last + 4 + round_ % 2)
        outcomes = race(witness, [(log.note(size), log.proof(size, last)) for size in sizes])
        assert outcomes.count("ok") == 1, outcomes
        assert set(outcomes) - {"ok"} <= REFUSALS
        last = sizes[outcomes.index("ok")]
        assert witness.latest(ORIGIN) == log.checkpoint(last)
    assert make_witness().latest(ORIGIN) == log.checkpoint(last)
