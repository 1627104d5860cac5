"""Status list anchoring: status.publish entries, receipts with proofs, anchored-mode checks.

Every test runs on SQLite and on PostgreSQL (the ``store`` fixture).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from seoul_vc.clock import FixedClock
from seoul_vc.errors import Code, SeoulVCError
from seoul_vc.keys import PrivateKey
from seoul_vc.ledger import tlog
from seoul_vc.ledger.anchor import LedgerAnchor, LedgerAnchorCheck
from seoul_vc.ledger.apps.status import PUBLISH, StatusApp
from seoul_vc.ledger.bundle import ProofBundle, verify_bundle
from seoul_vc.ledger.checkpoint import CosignerKey, WitnessPolicy
from seoul_vc.ledger.entry import sign_entry, signer_did
from seoul_vc.ledger.log import Ledger
from seoul_vc.ledger.note import NoteSigner
from seoul_vc.ledger.witness import Witness

if TYPE_CHECKING:
    from conftest import StoreUnderTest  # this folder's conftest.py

ORIGIN = "ledger.seoul.example/anchor-test"
NOW = datetime(2026, 1, 1, tzinfo=UTC)
URI = "https://status.seoul.example/lists/3f2a/status"


def _sha(n: int) -> bytes:
    return hashlib.sha256(b"list version %d" % n).digest()


class Setup:
    def __init__(self, store: StoreUnderTest, tmp: Path) -> None:
        self.clock = FixedClock(NOW)
        self.ledger = Ledger.open(store.url, clock=self.clock)
        self.operator, self.agency, self.other = (PrivateKey.generate() for _ in range(3))
        self.log = NoteSigner(ORIGIN, PrivateKey.generate())
        keys = [CosignerKey(f"w{n}.seoul.example", PrivateKey.generate()) for n in range(2)]
        self.witnesses = [
            Witness(k, logs={ORIGIN: self.log.verifier}, state_path=tmp / f"w{n}.json",
                    clock=self.clock)
            for n, k in enumerate(keys)
        ]  # fmt: skip
        self.policy = WitnessPolicy(witnesses=tuple(k.verifier for k in keys), threshold=2)
        grants = {signer_did(k.public_key): ["status.publish"] for k in (self.agency, self.other)}
        self.ledger.genesis(origin=ORIGIN, operator=self.operator, grants=grants)
        self.anchor = LedgerAnchor(
            self.ledger, self.agency, log=self.log, witnesses=self.witnesses, clock=self.clock
        )

    def check(self, policy: WitnessPolicy | None = None) -> LedgerAnchorCheck:
        return LedgerAnchorCheck(
            self.ledger,
            origin=ORIGIN,
            log_key=self.log.verifier,
            witnesses=policy or self.policy,
            checkpoint=lambda: self.anchor.latest_checkpoint,
        )

    def publish(self, version: int, key: PrivateKey | None = None, content: int = 0) -> None:
        LedgerAnchor(self.ledger, key or self.agency, clock=self.clock).anchor(
            uri=URI, version=version, sha256=_sha(content or version), size=131072, bits=2
        )


@pytest.fixture
def setup(store: StoreUnderTest, tmp_path: Path) -> Iterator[Setup]:
    s = Setup(store, tmp_path)
    yield s
    s.ledger.close()


def _code(fn: object, *args: object, **kwargs: object) -> Code:
    with pytest.raises(SeoulVCError) as caught:
        fn(*args, **kwargs)  # type: ignore[operator]
    return caught.value.code


def test_receipt_carries_an_inclusion_proof_to_a_witnessed_checkpoint(setup: Setup) -> None:
    """The receipt's proof leads to its root; its bundle verifies offline under 2-of-2."""
    receipt = setup.anchor.anchor(uri=URI, version=1, sha256=_sha(1), size=131072, bits=2)
    entry = setup.ledger.entry(receipt.index)
    tlog.check_inclusion(
        tlog.InclusionProof(hashes=tuple(tlog.Hash(h) for h in receipt.inclusion_proof)),
        receipt.size,
        tlog.Hash(receipt.root_hash),
        receipt.index,
        tlog.leaf_hash(entry.to_bytes()),
    )
    assert receipt.bundle is not None
    verified = verify_bundle(
        ProofBundle.from_json(receipt.bundle),
        origin=ORIGIN,
        log_key=setup.log.verifier,
        witnesses=setup.policy,
    )
    assert verified.type == PUBLISH
    assert verified.body == {
        "uri": URI, "version": 1, "sha256": _sha(1).hex(), "size": 131072, "bits": 2
    }  # fmt: skip


def test_anchored_check_accepts_the_latest_version(setup: Setup) -> None:
    """The latest anchored hash, under a checkpoint the policy accepts, passes."""
    setup.anchor.anchor(uri=URI, version=1, sha256=_sha(1), size=131072, bits=2)
    setup.anchor.anchor(uri=URI, version=2, sha256=_sha(2), size=131072, bits=2)
    setup.check().check_anchored(uri=URI, sha256=_sha(2))


def test_anchored_check_refuses_hashes_the_ledger_does_not_hold_as_latest(setup: Setup) -> None:
    """An unknown list, a superseded version, or an unanchored URI: status_list_not_anchored."""
    setup.anchor.anchor(uri=URI, version=1, sha256=_sha(1), size=131072, bits=2)
    setup.anchor.anchor(uri=URI, version=2, sha256=_sha(2), size=131072, bits=2)
    check = setup.check()
    for uri, digest in ((URI, _sha(9)), (URI, _sha(1)), (URI + "x", _sha(2))):
        assert _code(check.check_anchored, uri=uri, sha256=digest) is Code.STATUS_LIST_NOT_ANCHORED


def test_anchored_check_needs_the_witness_quorum(setup: Setup) -> None:
    """A checkpoint cosigned by fewer witnesses than the policy asks is refused."""
    setup.anchor = LedgerAnchor(
        setup.ledger, setup.agency, log=setup.log, witnesses=setup.witnesses[:1], clock=setup.clock
    )
    setup.anchor.anchor(uri=URI, version=1, sha256=_sha(1), size=131072, bits=2)
    code = _code(setup.check().check_anchored, uri=URI, sha256=_sha(1))
    assert code is Code.WITNESS_QUORUM_NOT_MET


def test_anchored_check_refuses_an_anchor_past_the_checkpoint(setup: Setup) -> None:
    """An anchor appended after the latest accepted checkpoint is not yet provable."""
    setup.anchor.anchor(uri=URI, version=1, sha256=_sha(1), size=131072, bits=2)
    setup.publish(2)  # no checkpoint signed for this one
    code = _code(setup.check().check_anchored, uri=URI, sha256=_sha(2))
    assert code is Code.STATUS_LIST_NOT_ANCHORED


def test_versions_of_a_uri_must_increase(setup: Setup) -> None:
    """Two lists under one version, or a rollback, are conflicts; a retry is a duplicate."""
    setup.publish(3)
    setup.publish(3)  # the identical entry again: the ledger returns the earlier receipt
    assert _code(setup.publish, 3, None, 99) is Code.CONFLICT
    assert _code(setup.publish, 2) is Code.CONFLICT
    setup.publish(4)


def test_a_uri_belongs_to_its_first_publisher(setup: Setup) -> None:
    """Another granted agency cannot publish over someone else's list."""
    setup.publish(1)
    assert _code(setup.publish, 2, setup.other) is Code.UNTRUSTED_SIGNER


def test_a_signer_without_the_grant_cannot_anchor(setup: Setup) -> None:
    """status.publish needs an authority grant."""
    assert _code(setup.publish, 1, PrivateKey.generate()) is Code.UNTRUSTED_SIGNER


def test_rebuild_replays_the_status_state(setup: Setup) -> None:
    """Derived state is a replay of the log."""
    setup.publish(1)
    setup.publish(2)
    before = setup.ledger.state("status", f"list/{URI}")
    setup.ledger.rebuild()
    assert setup.ledger.state("status", f"list/{URI}") == before


@pytest.mark.parametrize(
    "change",
    [
        {"version": 0},
        {"version": "1"},
        {"sha256": "AB" * 32},
        {"sha256": "00" * 31},
        {"bits": 3},
        {"size": 0},
        {"uri": ""},
        {"uri": "https://a.example/ b"},
        {"name": "Kim"},
    ],
    ids=repr,
)
def test_malformed_publish_bodies_are_refused(change: dict[str, object]) -> None:
    """The body is exactly uri/version/sha256 (lowercase hex)/size/bits, no personal data."""
    body: dict[str, object] = {
        "uri": URI, "version": 1, "sha256": "00" * 32, "size": 131072, "bits": 1, **change
    }  # fmt: skip
    entry = sign_entry(PUBLISH, body, PrivateKey.generate(), time=0)  # type: ignore[arg-type]
    assert _code(StatusApp().validate, entry) is Code.MALFORMED
