"""The Ledger on every store: genesis, authority, apps, receipts, proofs, checkpoints, audit.

Each test runs once per store of the ``store`` fixture (conftest.py): SQLite and PostgreSQL.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, ClassVar

import pytest

from seoul_vc._json import JSONValue
from seoul_vc.errors import Code, MalformedInputError, SeoulVCError, StateConflictError
from seoul_vc.keys import PrivateKey
from seoul_vc.ledger import tlog
from seoul_vc.ledger.app import StateReader, StateWrites
from seoul_vc.ledger.apps import default_apps
from seoul_vc.ledger.checkpoint import WitnessPolicy, open_checkpoint
from seoul_vc.ledger.entry import Entry, sign_entry, signer_did
from seoul_vc.ledger.log import Ledger
from seoul_vc.ledger.note import NoteSigner

if TYPE_CHECKING:
    from conftest import StoreUnderTest  # this folder's conftest.py

ORIGIN = "ledger.seoul.example/test"
NOW = 1767225600


class CounterApp:
    """A test application: ``counter.add`` adds n to a total that may never exceed 100."""

    name = "counter"
    record_types: ClassVar[frozenset[str]] = frozenset({"counter.add"})
    open_record_types: ClassVar[frozenset[str]] = frozenset()

    def validate(self, entry: Entry) -> None:
        n = entry.body.get("n")
        if set(entry.body) != {"n"} or not isinstance(n, int) or not 0 < n <= 100:
            raise MalformedInputError(Code.MALFORMED, "counter.add is {n: 1..100}", field="n")

    def apply(self, state: StateReader, entry: Entry, index: int) -> StateWrites:
        total = state.get(self.name, "total") or 0
        assert isinstance(total, int)
        n = entry.body["n"]
        assert isinstance(n, int)
        if total + n > 100:
            raise StateConflictError(Code.CONFLICT, "the total may not exceed 100")
        writes: dict[str, JSONValue | None] = {"total": total + n, "last": index}
        return writes


class Fixture:
    def __init__(self, store: StoreUnderTest) -> None:
        self.store = store
        self.operator = PrivateKey.generate()
        self.agency = PrivateKey.generate("ES256")
        self.log_signer = NoteSigner(ORIGIN, PrivateKey.generate())
        self.ledger = self.open()
        self.ledger.genesis(
            origin=ORIGIN,
            operator=self.operator,
            grants={signer_did(self.agency.public_key): ["counter.add"]},
        )
        self.time = NOW

    def open(self) -> Ledger:
        from datetime import UTC, datetime

        from seoul_vc.clock import FixedClock

        clock = FixedClock(datetime.fromtimestamp(NOW, UTC))
        return Ledger.open(self.store.url, apps=[*default_apps(), CounterApp()], clock=clock)

    def add(self, n: int, key: PrivateKey | None = None) -> Entry:
        self.time += 1
        return sign_entry("counter.add", {"n": n}, key or self.agency, time=self.time - 100)


@pytest.fixture
def fx(store: StoreUnderTest) -> Iterator[Fixture]:
    fixture = Fixture(store)
    yield fixture
    fixture.ledger.close()


def code_of(fn, *args) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(SeoulVCError) as info:
        fn(*args)
    return str(info.value.code)


def test_genesis_names_origin_and_grants(fx: Fixture) -> None:
    """After genesis the origin and the agency's grant are derived state."""
    assert fx.ledger.origin == ORIGIN
    assert fx.ledger.state("authority", f"grants/{signer_did(fx.agency.public_key)}") == [
        "counter.add"
    ]


def test_append_returns_receipt_whose_inclusion_proof_checks(fx: Fixture) -> None:
    """A receipt's leaf is provably in the tree at the receipt's size and root."""
    receipt = fx.ledger.append(fx.add(5))
    assert receipt.index == 1
    proof = fx.ledger.prove_inclusion(receipt.index, receipt.size)
    tlog.check_inclusion(proof, receipt.size, receipt.root_hash, receipt.index, receipt.leaf_hash)


def test_application_state_follows_appends(fx: Fixture) -> None:
    """The counter app's total is the sum of appended entries."""
    for n in (10, 20, 30):
        fx.ledger.append(fx.add(n))
    assert fx.ledger.state("counter", "total") == 60


def test_application_invariant_refuses_entry(fx: Fixture) -> None:
    """An entry that would break the app's invariant is refused and not appended."""
    fx.ledger.append(fx.add(90))
    size = fx.ledger.size
    assert code_of(fx.ledger.append, fx.add(20)) == "conflict"
    assert fx.ledger.size == size


def test_signer_without_grant_is_refused(fx: Fixture) -> None:
    """A valid signature by a key without authority for the type is untrusted_signer."""
    stranger = PrivateKey.generate()
    assert code_of(fx.ledger.append, fx.add(1, stranger)) == "untrusted_signer"


def test_identical_entry_returns_earlier_receipt(fx: Fixture) -> None:
    """A retried append returns the first receipt, marked duplicate, and appends nothing."""
    entry = fx.add(7)
    first = fx.ledger.append(entry)
    again = fx.ledger.append(entry)
    assert again.duplicate
    assert again.index == first.index
    assert fx.ledger.state("counter", "total") == 7


def test_tampered_signature_is_refused(fx: Fixture) -> None:
    """An entry whose body changed after signing fails its signature."""
    entry = fx.add(3)
    forged = Entry(
        type=entry.type, body={"n": 4}, signer=entry.signer, time=entry.time, sig=entry.sig
    )
    assert code_of(fx.ledger.append, forged) == "invalid_signature"


def test_future_entry_time_is_refused(fx: Fixture) -> None:
    """Entry times beyond the clock skew in the future are refused."""
    entry = sign_entry("counter.add", {"n": 1}, fx.agency, time=NOW + 3600)
    assert code_of(fx.ledger.append, entry) == "not_yet_valid"


def test_unknown_record_type_is_refused(fx: Fixture) -> None:
    """No application owns the type: malformed."""
    entry = sign_entry("nobody.home", {}, fx.agency, time=NOW)
    assert code_of(fx.ledger.append, entry) == "malformed"


def test_entry_nested_beyond_audit_bound_is_refused_at_append(fx: Fixture) -> None:
    """An entry that Entry.from_bytes could not read back is never appended (too_deep)."""
    body: dict[str, JSONValue] = {"n": 1}
    for _ in range(12):
        body = {"n": body}
    entry = sign_entry("counter.add", body, fx.agency, time=NOW)
    assert code_of(fx.ledger.append, entry) == "too_deep"
    assert fx.ledger.audit().size == fx.ledger.size


def test_second_genesis_is_refused(fx: Fixture) -> None:
    """Genesis happens once, at index 0."""
    code = code_of(lambda: fx.ledger.genesis(origin="x", operator=fx.operator))
    assert code == "conflict"


def test_grant_by_non_operator_is_refused(fx: Fixture) -> None:
    """Only the operator grants authority."""
    body = {"subject": signer_did(fx.agency.public_key), "record_types": ["counter.add"]}
    entry = sign_entry("authority.grant", body, fx.agency, time=NOW)
    assert code_of(fx.ledger.append, entry) == "untrusted_signer"


def test_revoked_grant_stops_signer(fx: Fixture) -> None:
    """After the operator revokes a grant, the signer's entries are refused."""
    body = {"subject": signer_did(fx.agency.public_key), "record_types": ["counter.add"]}
    fx.ledger.append(sign_entry("authority.revoke", body, fx.operator, time=NOW))
    assert code_of(fx.ledger.append, fx.add(1)) == "untrusted_signer"


def test_retry_is_a_duplicate_even_when_the_application_would_now_refuse(fx: Fixture) -> None:
    """A retried entry is recognised before its transition would refuse it.

    The counter is full, yet the retry of the entry that filled it still gets its receipt.
    """
    entry = fx.add(100)
    first = fx.ledger.append(entry)
    again = fx.ledger.append(entry)
    assert again.duplicate
    assert again.index == first.index
    assert [r.duplicate for r in fx.ledger.append_many([entry])] == [True]


def test_two_ledgers_on_one_store_follow_each_other(fx: Fixture) -> None:
    """A ledger's cached tree edge is checked against the size.

    Appends through another handle are seen, and receipts from both agree with the tree.
    """
    other = fx.open()
    try:
        for i in range(12):
            writer = fx.ledger if i % 3 else other
            receipt = writer.append(fx.add(1))
            assert receipt.root_hash == fx.ledger.root(receipt.size)
            batch = writer.append_many([fx.add(1), fx.add(1)])
            assert batch[-1].root_hash == other.root(batch[-1].size)
        assert fx.ledger.audit().size == other.size == 37
    finally:
        other.close()


def test_refused_append_leaves_no_trace_in_the_next_receipt(fx: Fixture) -> None:
    """After a refused append rolls back, the next receipt's root is the stored tree's."""
    fx.ledger.append(fx.add(90))
    assert code_of(fx.ledger.append, fx.add(20)) == "conflict"
    assert code_of(fx.ledger.append_many, [fx.add(5), fx.add(20)]) == "conflict"
    receipt = fx.ledger.append(fx.add(1))
    assert (receipt.index, receipt.size) == (2, 3)
    assert receipt.root_hash == fx.ledger.root() == fx.ledger.audit().root_hash


def test_append_many_is_all_or_nothing(fx: Fixture) -> None:
    """A batch with one refused entry appends none of them."""
    size = fx.ledger.size
    assert code_of(fx.ledger.append_many, [fx.add(50), fx.add(40), fx.add(20)]) == "conflict"
    assert fx.ledger.size == size
    receipts = fx.ledger.append_many([fx.add(50), fx.add(40)])
    assert [r.index for r in receipts] == [size, size + 1]


def test_consistency_proof_between_sizes_checks(fx: Fixture) -> None:
    """Old tree heads are provably prefixes of newer ones."""
    for n in range(1, 12):
        fx.ledger.append(fx.add(1))
        del n
    old_size, old_root = 5, fx.ledger.root(5)
    proof = fx.ledger.prove_consistency(old_size)
    tlog.check_consistency(proof, fx.ledger.size, fx.ledger.root(), old_size, old_root)


def test_checkpoint_opens_with_log_key(fx: Fixture) -> None:
    """The signed checkpoint carries the current size and root."""
    fx.ledger.append(fx.add(2))
    note = fx.ledger.checkpoint(fx.log_signer)
    opened = open_checkpoint(
        note, origin=ORIGIN, log_key=fx.log_signer.verifier, witnesses=WitnessPolicy.unwitnessed()
    )
    assert opened.checkpoint.size == fx.ledger.size
    assert opened.checkpoint.root_hash == fx.ledger.root()


def test_state_survives_reopen_and_rebuild_reproduces_it(fx: Fixture) -> None:
    """Rebuilding derived state from the log gives the same state."""
    for n in (5, 6, 7):
        fx.ledger.append(fx.add(n))
    fx.ledger.close()
    fx.ledger = fx.open()
    assert fx.ledger.state("counter", "total") == 18
    fx.store.tamper("DELETE FROM state WHERE app = 'counter'")
    assert fx.ledger.state("counter", "total") is None
    assert fx.ledger.rebuild() == fx.ledger.size
    assert fx.ledger.state("counter", "total") == 18


def test_audit_passes_on_untouched_log(fx: Fixture) -> None:
    """A clean log audits, with the checkpoint checked."""
    for _ in range(9):
        fx.ledger.append(fx.add(1))
    fx.ledger.checkpoint(fx.log_signer)
    report = fx.ledger.audit()
    assert report.size == 10
    assert report.checkpoint_size == 10


def _grow(fx: Fixture, count: int = 9) -> None:
    for _ in range(count):
        fx.ledger.append(fx.add(1))
    fx.ledger.checkpoint(fx.log_signer)


def _tamper(fx: Fixture, sql: str, *params: object) -> None:
    fx.store.tamper(sql, *params)


def audit_index(fx: Fixture) -> int:
    with pytest.raises(SeoulVCError) as info:
        fx.ledger.audit()
    assert info.value.code == "ledger_tampered"
    return int(info.value.details["index"])


def test_audit_names_edited_entry(fx: Fixture) -> None:
    """An edited entry row fails at its index."""
    _grow(fx)
    forged = fx.add(99).to_bytes()
    _tamper(fx, "UPDATE entries SET entry = ? WHERE idx = 4", forged)
    assert audit_index(fx) == 4


def test_audit_names_deleted_entry(fx: Fixture) -> None:
    """A deleted entry row is found at its index."""
    _grow(fx)
    _tamper(fx, "DELETE FROM entries WHERE idx = 6")
    assert audit_index(fx) == 6


def test_audit_names_swapped_entries(fx: Fixture) -> None:
    """Two swapped rows fail at the first of them."""
    _grow(fx)
    _tamper(fx, "UPDATE entries SET idx = -1 WHERE idx = 3")
    _tamper(fx, "UPDATE entries SET idx = 3 WHERE idx = 5")
    _tamper(fx, "UPDATE entries SET idx = 5 WHERE idx = -1")
    assert audit_index(fx) == 3


def test_audit_names_edited_tree_hash(fx: Fixture) -> None:
    """A changed stored hash is caught at the entry that produced it."""
    _grow(fx)
    _tamper(fx, "UPDATE tree_hashes SET hash = ? WHERE idx = ?", b"\x00" * 32, 7)
    index = audit_index(fx)
    assert tlog.stored_hash_count(index) <= 7 < tlog.stored_hash_count(index + 1)


def test_audit_catches_appended_row_beyond_checkpoint_history(fx: Fixture) -> None:
    """An inserted row at the end without hashes is caught."""
    _grow(fx)
    extra = fx.add(1)
    _tamper(
        fx,
        "INSERT INTO entries (idx, entry, digest, type) VALUES (?, ?, ?, ?)",
        fx.ledger.size,
        extra.to_bytes(),
        extra.digest(),
        extra.type,
    )
    assert audit_index(fx) == 10


def test_audit_catches_truncation_below_checkpoint(fx: Fixture) -> None:
    """Removing the last entries and their hashes is caught by the signed checkpoint."""
    _grow(fx)
    _tamper(fx, "DELETE FROM entries WHERE idx >= 8")
    _tamper(fx, "DELETE FROM tree_hashes WHERE idx >= ?", tlog.stored_hash_count(8))
    assert audit_index(fx) == 8


def test_threads_append_contiguously(fx: Fixture) -> None:
    """Eight threads appending at once give contiguous indexes and a passing audit."""
    entries = [fx.add(1) for _ in range(80)]
    # The counter app caps the total at 100: 80 fit, all must land exactly once.
    errors: list[BaseException] = []

    def worker(chunk: list[Entry]) -> None:
        try:
            for entry in chunk:
                fx.ledger.append(entry)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(entries[i::8],)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert fx.ledger.size == 81
    assert fx.ledger.state("counter", "total") == 80
    assert fx.ledger.audit().size == 81
