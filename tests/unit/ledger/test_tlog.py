"""RFC 9162 Merkle tree: known answers, stored-hash layout, proofs, refusals and read bounds.

Expected values come from three places: the published vectors in tests/vectors/rfc6962/, the
RFC 6962 §2.1.3 example tree, and ``NaiveTree`` below, a direct transcription of the
RFC 9162 §2.1.1 MTH, §2.1.3.1 PATH and §2.1.4.1 PROOF definitions that shares no code with
``seoul_vc.ledger.tlog`` (the definitional oracle).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seoul_vc.errors import (
    Code,
    ConfigurationError,
    InternalError,
    MalformedInputError,
    SeoulVCError,
    VerificationError,
)
from seoul_vc.ledger import tlog
from seoul_vc.ledger.tlog import ConsistencyProof, Hash, InclusionProof

VECTORS = Path(__file__).parents[2] / "vectors" / "rfc6962"
ROOTS = json.loads((VECTORS / "roots.json").read_text())
PROOFS = json.loads((VECTORS / "proofs.json").read_text())
EXAMPLE = json.loads((VECTORS / "example-7-leaf.json").read_text())

EXHAUSTIVE_SIZE = 300  # every size up to this, and every index / old size below it
SAMPLED_SIZE = 2000  # hypothesis samples sizes up to this
FAST = settings(max_examples=150, deadline=None)


# -- the definitional oracle -------------------------------------------------------------------


class NaiveTree:
    """RFC 9162 §2.1.1 MTH, §2.1.3.1 PATH and §2.1.4.1 PROOF, transcribed; MTH is memoised."""

    def __init__(self, entries: Sequence[bytes]) -> None:
        self.entries = list(entries)
        self._mth: dict[tuple[int, int], bytes] = {}

    @staticmethod
    def k(n: int) -> int:
        """The largest power of two smaller than n (n > 1)."""
        k = 1
        while k * 2 < n:
            k *= 2
        return k

    def mth(self, lo: int, hi: int) -> bytes:
        """MTH(D[lo:hi])."""
        if (lo, hi) not in self._mth:
            n = hi - lo
            if n == 0:
                value = hashlib.sha256(b"").digest()
            elif n == 1:
                value = hashlib.sha256(b"\x00" + self.entries[lo]).digest()
            else:
                k = self.k(n)
                value = hashlib.sha256(
                    b"\x01" + self.mth(lo, lo + k) + self.mth(lo + k, hi)
                ).digest()
            self._mth[lo, hi] = value
        return self._mth[lo, hi]

    def path(self, m: int, lo: int, hi: int) -> list[bytes]:
        """PATH(m, D[lo:hi]), m counted from lo."""
        n = hi - lo
        if n == 1:
            return []
        k = self.k(n)
        if m < k:
            return [*self.path(m, lo, lo + k), self.mth(lo + k, hi)]
        return [*self.path(m - k, lo + k, hi), self.mth(lo, lo + k)]

    def subproof(self, m: int, lo: int, hi: int, b: bool) -> list[bytes]:
        """SUBPROOF(m, D[lo:hi], b), m counted from lo."""
        n = hi - lo
        if m == n:
            return [] if b else [self.mth(lo, hi)]
        k = self.k(n)
        if m <= k:
            return [*self.subproof(m, lo, lo + k, b), self.mth(lo + k, hi)]
        return [*self.subproof(m - k, lo + k, hi, False), self.mth(lo, lo + k)]

    def proof(self, m: int, n: int) -> list[bytes]:
        """PROOF(m, D[n]) for 0 < m < n."""
        return self.subproof(m, 0, n, True)


# -- an in-memory HashReader that holds proofs to their read bounds ------------------------------


class MemoryHashes:
    """The stored-hash sequence in a list; every read must fit the operation's budget."""

    def __init__(self) -> None:
        self.hashes: list[Hash] = []
        self.size = 0
        self._budget: tuple[int, int] | None = None  # (tree size, most hashes allowed)
        self._calls = 0

    @contextmanager
    def budget(self, size: int, max_reads: int) -> Iterator[None]:
        """Allow one read_hashes call of at most max_reads hashes of the size-record tree."""
        self._budget, self._calls = (size, max_reads), 0
        try:
            yield
        finally:
            self._budget = None

    def read_hashes(self, indexes: Sequence[int]) -> Sequence[Hash]:
        if self._budget is None:
            pytest.fail("read_hashes called outside a budgeted operation")
        size, max_reads = self._budget
        self._calls += 1
        if self._calls > 1:
            pytest.fail(f"more than one read_hashes call for a tree of size {size}")
        if len(indexes) > max_reads:
            pytest.fail(f"read {len(indexes)} hashes for size {size}; the bound is {max_reads}")
        if list(indexes) != sorted(set(indexes)):
            pytest.fail("indexes are not distinct and ascending")
        visible = tlog.stored_hash_count(size)
        if not all(0 <= i < visible for i in indexes):
            pytest.fail(f"read a hash that a tree of size {size} has not stored")
        return [self.hashes[i] for i in indexes]

    def append(self, entry: bytes) -> None:
        n = self.size
        trailing_ones = (n ^ (n + 1)).bit_length() - 1
        with self.budget(n, trailing_ones):
            new = tlog.stored_hashes_for_record(n, tlog.leaf_hash(entry), self)
        assert len(new) == 1 + trailing_ones
        self.hashes.extend(new)
        self.size += 1
        assert len(self.hashes) == tlog.stored_hash_count(self.size)

    # The budgets below are the bounds the tlog docstrings promise.

    def tree_hash(self, size: int) -> Hash:
        with self.budget(size, size.bit_count()):
            return tlog.tree_hash(size, self)

    def prove_inclusion(self, size: int, index: int) -> InclusionProof:
        with self.budget(size, 2 * size.bit_length() - 2):
            return tlog.prove_inclusion(size, index, self)

    def prove_consistency(self, size: int, old_size: int) -> ConsistencyProof:
        with self.budget(size, 2 * size.bit_length() - 1 if 0 < old_size < size else 0):
            return tlog.prove_consistency(size, old_size, self)


def build(entries: Sequence[bytes]) -> MemoryHashes:
    store = MemoryHashes()
    for entry in entries:
        store.append(entry)
    return store


REF_LEAVES = [bytes.fromhex(h) for h in ROOTS["leaves"]]
REF = build(REF_LEAVES)
ENTRIES = [b"entry %d" % i for i in range(SAMPLED_SIZE)]
BIG = build(ENTRIES)
ORACLE = NaiveTree(ENTRIES)


def hashes(hexes: Sequence[str]) -> tuple[Hash, ...]:
    return tuple(Hash(bytes.fromhex(h)) for h in hexes)


def incl(path: Sequence[Hash]) -> InclusionProof:
    return InclusionProof(hashes=tuple(path))


def cons(path: Sequence[Hash]) -> ConsistencyProof:
    return ConsistencyProof(hashes=tuple(path))


def flip(data: bytes, bit: int) -> Hash:
    """Return data with one bit flipped (bit counted over the whole value)."""
    out = bytearray(data)
    out[bit // 8 % len(out)] ^= 1 << (bit % 8)
    return Hash(bytes(out))


def expect(code: Code, fn: Callable[..., object], *args: Any) -> SeoulVCError:
    with pytest.raises(SeoulVCError) as info:
        fn(*args)
    assert info.value.code == code
    return info.value


# -- hashing and known answers -------------------------------------------------------------------


def test_empty_root_is_sha256_of_nothing() -> None:
    """MTH({}) is SHA-256 of the empty string (RFC 9162 §2.1.1)."""
    assert tlog.EMPTY_ROOT.hex() == ROOTS["roots"][0]
    assert REF.tree_hash(0) == tlog.EMPTY_ROOT


def test_leaf_and_node_hashes_use_the_domain_prefixes() -> None:
    """Leaves hash 0x00 || entry and nodes hash 0x01 || left || right."""
    left, right = tlog.leaf_hash(b"a"), tlog.leaf_hash(b"b")
    assert left == hashlib.sha256(b"\x00a").digest()
    assert tlog.node_hash(left, right) == hashlib.sha256(b"\x01" + left + right).digest()


@pytest.mark.parametrize("size", range(len(ROOTS["roots"])))
def test_reference_roots(size: int) -> None:
    """The stored-hash tree_hash reproduces the CT reference root of each size 0..8."""
    assert REF.tree_hash(size).hex() == ROOTS["roots"][size]


def test_reference_roots_match_the_oracle() -> None:
    """The naive MTH agrees with the published roots, so it can judge larger trees."""
    oracle = NaiveTree(REF_LEAVES)
    assert [oracle.mth(0, n).hex() for n in range(9)] == ROOTS["roots"]


def test_stored_sequence_is_the_reference_subtrees_in_append_order() -> None:
    """Each reference complete-subtree hash sits at stored_hash_index(level, n)."""
    for level, row in enumerate(ROOTS["node_hashes_by_level"]):
        for n, expected in enumerate(row):
            assert REF.hashes[tlog.stored_hash_index(level, n)].hex() == expected
    assert len(REF.hashes) == sum(len(row) for row in ROOTS["node_hashes_by_level"])


@pytest.mark.parametrize("vector", PROOFS["inclusion"], ids=lambda v: f"{v['index']}of{v['size']}")
def test_reference_inclusion_proofs(vector: dict[str, Any]) -> None:
    """prove_inclusion reproduces the CT reference proof and check_inclusion accepts it."""
    size, index = vector["size"], vector["index"]
    proof = REF.prove_inclusion(size, index)
    assert proof == InclusionProof(hashes=hashes(vector["path"]))
    root = Hash(bytes.fromhex(ROOTS["roots"][size]))
    tlog.check_inclusion(proof, size, root, index, tlog.leaf_hash(REF_LEAVES[index]))


@pytest.mark.parametrize(
    "vector", PROOFS["consistency"], ids=lambda v: f"{v['old_size']}to{v['size']}"
)
def test_reference_consistency_proofs(vector: dict[str, Any]) -> None:
    """prove_consistency reproduces the CT reference proof and check_consistency accepts it."""
    size, old_size = vector["size"], vector["old_size"]
    proof = REF.prove_consistency(size, old_size)
    assert proof == ConsistencyProof(hashes=hashes(vector["path"]))
    root, old_root = (Hash(bytes.fromhex(ROOTS["roots"][n])) for n in (size, old_size))
    tlog.check_consistency(proof, size, root, old_size, old_root)


def example_nodes() -> dict[str, bytes]:
    """The named nodes of the RFC 6962 §2.1.3 figure over the first seven reference leaves."""
    names: dict[str, bytes] = {}
    for name, (kind, *args) in EXAMPLE["nodes"].items():
        if kind == "leaf":
            names[name] = hashlib.sha256(b"\x00" + REF_LEAVES[args[0]]).digest()
        else:
            names[name] = hashlib.sha256(b"\x01" + names[args[0]] + names[args[1]]).digest()
    return names


def test_rfc6962_example_roots() -> None:
    """The 7-leaf example's hash0, hash1 = k, hash2 and hash are the roots of sizes 3, 4, 6, 7."""
    names = example_nodes()
    for size, name in EXAMPLE["roots"].items():
        assert REF.tree_hash(int(size)) == names[name]


@pytest.mark.parametrize("vector", EXAMPLE["inclusion"], ids=lambda v: f"d{v['index']}")
def test_rfc6962_example_audit_paths(vector: dict[str, Any]) -> None:
    """The audit paths of d0, d3, d4, d6 are [b, h, l], [c, g, l], [f, j, k], [i, k]."""
    names = example_nodes()
    proof = REF.prove_inclusion(vector["size"], vector["index"])
    assert list(proof.hashes) == [names[n] for n in vector["path"]]


@pytest.mark.parametrize("vector", EXAMPLE["consistency"], ids=lambda v: f"from{v['old_size']}")
def test_rfc6962_example_consistency_proofs(vector: dict[str, Any]) -> None:
    """PROOF(3, D[7]) = [c, d, g, l], PROOF(4, D[7]) = [l], PROOF(6, D[7]) = [i, j, k]."""
    names = example_nodes()
    proof = REF.prove_consistency(vector["size"], vector["old_size"])
    assert list(proof.hashes) == [names[n] for n in vector["path"]]


# -- the stored-hash layout --------------------------------------------------------------------


def test_stored_hash_index_follows_append_order() -> None:
    """The first positions hold L0:0 L0:1 L1:0 L0:2 L0:3 L1:1 L2:0 L0:4, as documented."""
    layout = [(0, 0), (0, 1), (1, 0), (0, 2), (0, 3), (1, 1), (2, 0), (0, 4), (0, 5), (1, 2)]
    assert [tlog.stored_hash_index(level, n) for level, n in layout] == list(range(10))


def test_stored_hash_count_is_two_n_minus_popcount() -> None:
    """A tree of n records stores 2n - popcount(n) hashes: one per complete subtree."""
    assert [tlog.stored_hash_count(n) for n in range(9)] == [0, 1, 3, 4, 7, 8, 10, 11, 15]
    assert tlog.stored_hash_count(2**64 - 1) == 2**65 - 2 - 64


def test_stored_hash_index_is_dense() -> None:
    """Every position below stored_hash_count(n) belongs to exactly one subtree."""
    n = SAMPLED_SIZE
    positions = sorted(
        tlog.stored_hash_index(level, j)
        for level in range(n.bit_length())
        for j in range(n >> level)
    )
    assert positions == list(range(tlog.stored_hash_count(n)))


def test_stored_subtrees_are_the_oracle_subtrees() -> None:
    """The hash at stored_hash_index(level, j) is MTH of leaves [j * 2**level, (j+1) * 2**level)."""
    for level in range(SAMPLED_SIZE.bit_length()):
        width = 1 << level
        for j in range(SAMPLED_SIZE >> level):
            expected = ORACLE.mth(j * width, (j + 1) * width)
            assert BIG.hashes[tlog.stored_hash_index(level, j)] == expected


def test_appending_an_even_record_reads_nothing() -> None:
    """Record n with no trailing one-bits needs no stored hash: it starts a new subtree."""
    store = build([b"x", b"y"])
    with store.budget(2, 0):
        assert tlog.stored_hashes_for_record(2, tlog.leaf_hash(b"z"), store) == [
            tlog.leaf_hash(b"z")
        ]


def test_appending_reads_one_hash_per_trailing_one_bit() -> None:
    """Appending record 2**k - 1 reads exactly k left siblings, in one call."""
    store = build(ENTRIES[:1023])
    with store.budget(1023, 10):
        new = tlog.stored_hashes_for_record(1023, tlog.leaf_hash(ENTRIES[1023]), store)
    assert new[-1] == ORACLE.mth(0, 1024)
    with store.budget(1023, 9), pytest.raises(pytest.fail.Exception):
        tlog.stored_hashes_for_record(1023, tlog.leaf_hash(ENTRIES[1023]), store)


def test_every_tree_hash_up_to_2000_is_the_naive_mth() -> None:
    """tree_hash over stored hashes equals MTH(D[0:size]) for every size up to 2,000."""
    for size in range(SAMPLED_SIZE + 1):
        assert BIG.tree_hash(size) == ORACLE.mth(0, size), size


def test_frontier_appends_store_what_stored_hashes_for_record_stores() -> None:
    """Growing a Frontier yields the stored-hash sequence and every root, with no reads."""
    frontier = tlog.Frontier.empty()
    produced: list[Hash] = []
    for n, entry in enumerate(ENTRIES[:SAMPLED_SIZE]):
        frontier, stored = frontier.append(tlog.leaf_hash(entry))
        produced.extend(stored)
        assert frontier.size == n + 1
        assert frontier.root() == ORACLE.mth(0, n + 1), n
    assert produced == BIG.hashes[: tlog.stored_hash_count(SAMPLED_SIZE)]
    assert tlog.Frontier.empty().root() == tlog.EMPTY_ROOT


@pytest.mark.parametrize("size", [0, 1, 2, 3, 7, 8, 1023, 1024, 1365, SAMPLED_SIZE])
def test_frontier_loads_popcount_hashes_in_one_read(size: int) -> None:
    """Frontier.load reads one hash per one-bit of the size, then continues the tree."""
    with BIG.budget(size, size.bit_count()):
        frontier = tlog.Frontier.load(size, BIG)
    assert frontier.root() == ORACLE.mth(0, size)
    if size < SAMPLED_SIZE:
        grown, _ = frontier.append(tlog.leaf_hash(ENTRIES[size]))
        assert grown.root() == ORACLE.mth(0, size + 1)


def test_frontier_refuses_bad_leaves_and_sizes() -> None:
    """A leaf that is not 32 bytes, a negative size or a full tree is refused with a code."""
    with pytest.raises(MalformedInputError):
        tlog.Frontier.empty().append(Hash(b"short"))
    with pytest.raises(ConfigurationError):
        tlog.Frontier.load(-1, BIG)
    full = tlog.Frontier(tlog.MAX_TREE_SIZE, ())
    with pytest.raises(ConfigurationError):
        full.append(tlog.leaf_hash(b"x"))


# -- proofs: exhaustive for small trees, sampled for larger ones ---------------------------------


def test_every_inclusion_proof_up_to_300_is_rfc_path_and_verifies() -> None:
    """For each size <= 300 and index below it the proof is PATH(index, D[size]) and checks."""
    for size in range(1, EXHAUSTIVE_SIZE + 1):
        root = ORACLE.mth(0, size)
        for index in range(size):
            proof = BIG.prove_inclusion(size, index)
            assert list(proof.hashes) == ORACLE.path(index, 0, size), (size, index)
            tlog.check_inclusion(proof, size, Hash(root), index, tlog.leaf_hash(ENTRIES[index]))


def test_every_consistency_proof_up_to_300_is_rfc_proof_and_verifies() -> None:
    """For each size <= 300 and old_size <= size the proof is PROOF(old, D[size]) and checks."""
    for size in range(EXHAUSTIVE_SIZE + 1):
        root = Hash(ORACLE.mth(0, size))
        for old_size in range(size + 1):
            proof = BIG.prove_consistency(size, old_size)
            expected = ORACLE.proof(old_size, size) if 0 < old_size < size else []
            assert list(proof.hashes) == expected, (size, old_size)
            old_root = Hash(ORACLE.mth(0, old_size))
            tlog.check_consistency(proof, size, root, old_size, old_root)


@st.composite
def size_and_index(draw: st.DrawFn, min_size: int = 1) -> tuple[int, int]:
    size = draw(st.integers(min_size, SAMPLED_SIZE))
    return size, draw(st.integers(0, size - 1))


@st.composite
def size_and_old_size(draw: st.DrawFn) -> tuple[int, int]:
    """Sizes 0 < old_size < size, where the consistency proof is not empty."""
    size = draw(st.integers(2, SAMPLED_SIZE))
    return size, draw(st.integers(1, size - 1))


@FAST
@given(size_and_index())
def test_sampled_inclusion_proofs_up_to_2000_verify(case: tuple[int, int]) -> None:
    """Inclusion proofs in trees of up to 2,000 entries are PATH and check."""
    size, index = case
    proof = BIG.prove_inclusion(size, index)
    assert list(proof.hashes) == ORACLE.path(index, 0, size)
    tlog.check_inclusion(
        proof, size, Hash(ORACLE.mth(0, size)), index, BIG.hashes[tlog.stored_hash_index(0, index)]
    )


@FAST
@given(size_and_old_size())
def test_sampled_consistency_proofs_up_to_2000_verify(case: tuple[int, int]) -> None:
    """Consistency proofs between trees of up to 2,000 entries are PROOF and check."""
    size, old_size = case
    proof = BIG.prove_consistency(size, old_size)
    assert list(proof.hashes) == ORACLE.proof(old_size, size)
    root, old_root = Hash(ORACLE.mth(0, size)), Hash(ORACLE.mth(0, old_size))
    tlog.check_consistency(proof, size, root, old_size, old_root)


@FAST
@given(size_and_index(min_size=2), st.data())
def test_flipped_bit_in_inclusion_proof_is_refused(
    case: tuple[int, int], data: st.DataObject
) -> None:
    """Any single flipped bit in any proof hash fails with inclusion_proof_invalid."""
    size, index = case
    proof = BIG.prove_inclusion(size, index)
    at = data.draw(st.integers(0, len(proof.hashes) - 1))
    bit = data.draw(st.integers(0, 255))
    tampered = list(proof.hashes)
    tampered[at] = flip(tampered[at], bit)
    expect(
        Code.INCLUSION_PROOF_INVALID,
        tlog.check_inclusion,
        InclusionProof(hashes=tuple(tampered)),
        size,
        ORACLE.mth(0, size),
        index,
        tlog.leaf_hash(ENTRIES[index]),
    )


@FAST
@given(size_and_index(), st.integers(0, 255), st.booleans())
def test_flipped_bit_in_leaf_or_root_is_refused(
    case: tuple[int, int], bit: int, in_leaf: bool
) -> None:
    """Any single flipped bit in the leaf hash or the root fails with inclusion_proof_invalid."""
    size, index = case
    proof = BIG.prove_inclusion(size, index)
    leaf, root = tlog.leaf_hash(ENTRIES[index]), Hash(ORACLE.mth(0, size))
    if in_leaf:
        leaf = flip(leaf, bit)
    else:
        root = flip(root, bit)
    expect(Code.INCLUSION_PROOF_INVALID, tlog.check_inclusion, proof, size, root, index, leaf)


@FAST
@given(size_and_old_size(), st.data())
def test_flipped_bit_in_consistency_proof_is_refused(
    case: tuple[int, int], data: st.DataObject
) -> None:
    """Any single flipped bit in any proof hash fails with consistency_proof_invalid."""
    size, old_size = case
    proof = BIG.prove_consistency(size, old_size)
    at = data.draw(st.integers(0, len(proof.hashes) - 1))
    tampered = list(proof.hashes)
    tampered[at] = flip(tampered[at], data.draw(st.integers(0, 255)))
    expect(
        Code.CONSISTENCY_PROOF_INVALID,
        tlog.check_consistency,
        ConsistencyProof(hashes=tuple(tampered)),
        size,
        ORACLE.mth(0, size),
        old_size,
        ORACLE.mth(0, old_size),
    )


@FAST
@given(size_and_old_size(), st.integers(0, 255), st.booleans())
def test_flipped_bit_in_either_root_fails_consistency(
    case: tuple[int, int], bit: int, in_old: bool
) -> None:
    """Any single flipped bit in the old or new root fails with consistency_proof_invalid."""
    size, old_size = case
    proof = BIG.prove_consistency(size, old_size)
    root, old_root = Hash(ORACLE.mth(0, size)), Hash(ORACLE.mth(0, old_size))
    if in_old:
        old_root = flip(old_root, bit)
    else:
        root = flip(root, bit)
    expect(
        Code.CONSISTENCY_PROOF_INVALID,
        tlog.check_consistency,
        proof,
        size,
        root,
        old_size,
        old_root,
    )


@FAST
@given(size_and_index(min_size=2), st.integers(-2, 2).filter(bool))
def test_proof_for_another_index_is_refused(case: tuple[int, int], shift: int) -> None:
    """A valid proof presented for a neighbouring index is refused, whatever the reason."""
    size, index = case
    proof = BIG.prove_inclusion(size, index)
    with pytest.raises(VerificationError) as info:
        tlog.check_inclusion(
            proof, size, Hash(ORACLE.mth(0, size)), index + shift, tlog.leaf_hash(ENTRIES[index])
        )
    assert info.value.code in {Code.INCLUSION_PROOF_INVALID, Code.PROOF_ARGUMENTS_INVALID}


SOME_HASH = Hash(bytes.fromhex("abacaba0" + "00" * 23 + "60061e00123456"))


def inclusion_probes(vector: dict[str, Any]) -> Iterator[tuple[str, tuple[Any, ...]]]:
    """Corruptions of a good (proof, size, root, index, leaf) in the manner of the CT tests."""
    size, index = vector["size"], vector["index"]
    path = list(hashes(vector["path"]))
    root = Hash(bytes.fromhex(ROOTS["roots"][size]))
    leaf = tlog.leaf_hash(REF_LEAVES[index])
    yield "index - 1", (incl(path), size, root, index - 1, leaf)
    yield "index + 1", (incl(path), size, root, index + 1, leaf)
    yield "index ^ 2", (incl(path), size, root, index ^ 2, leaf)
    yield "size * 2", (incl(path), size * 2, root, index, leaf)
    yield "size // 2", (incl(path), size // 2, root, index, leaf)
    yield "wrong leaf", (incl(path), size, root, index, Hash(b"WrongLeaf"))
    yield "empty root", (incl(path), size, tlog.EMPTY_ROOT, index, leaf)
    yield "random root", (incl(path), size, SOME_HASH, index, leaf)
    yield "trailing garbage", (incl([*path, Hash(b"")]), size, root, index, leaf)
    yield "trailing root", (incl([*path, root]), size, root, index, leaf)
    yield "preceding garbage", (incl([Hash(b""), *path]), size, root, index, leaf)
    yield "preceding root", (incl([root, *path]), size, root, index, leaf)
    if path:
        yield "removed hash", (incl(path[:-1]), size, root, index, leaf)
    if len(path) > 1:
        yield "inserted hash", (incl([path[0], SOME_HASH, *path[1:]]), size, root, index, leaf)


def consistency_probes(vector: dict[str, Any]) -> Iterator[tuple[str, tuple[Any, ...]]]:
    """Corruptions of a good (proof, size, root, old_size, old_root) as in the CT tests."""
    size, old = vector["size"], vector["old_size"]
    path = list(hashes(vector["path"]))
    root, old_root = (Hash(bytes.fromhex(ROOTS["roots"][n])) for n in (size, old))
    yield "old_size - 1", (cons(path), size, root, old - 1, old_root)
    yield "old_size + 1", (cons(path), size, root, old + 1, old_root)
    yield "old_size ^ 2", (cons(path), size, root, old ^ 2, old_root)
    yield "size * 2", (cons(path), size * 2, root, old, old_root)
    yield "size // 2", (cons(path), size // 2, root, old, old_root)
    yield "wrong old root", (cons(path), size, root, old, Hash(b"WrongRoot"))
    yield "wrong root", (cons(path), size, Hash(b"WrongRoot"), old, old_root)
    yield "swapped roots", (cons(path), size, old_root, old, root)
    yield "empty proof", (cons([]), size, root, old, old_root)
    yield "trailing garbage", (cons([*path, Hash(b"")]), size, root, old, old_root)
    yield "trailing old root", (cons([*path, old_root]), size, root, old, old_root)
    yield "trailing root", (cons([*path, root]), size, root, old, old_root)
    yield "preceding garbage", (cons([Hash(b""), *path]), size, root, old, old_root)
    yield "preceding old root", (cons([old_root, *path]), size, root, old, old_root)
    yield "preceding root", (cons([root, *path]), size, root, old, old_root)
    yield "preceding proof[0]", (cons([path[0], *path]), size, root, old, old_root)
    yield "truncated proof", (cons(path[:-1]), size, root, old, old_root)
    for i in range(len(path)):
        tampered = list(path)
        tampered[i] = flip(tampered[i], 4)
        yield f"proof[{i}] bit 4", (cons(tampered), size, root, old, old_root)


INCLUSION_PROBES = [
    pytest.param(args, id=f"{v['index']}of{v['size']}:{desc}")
    for v in PROOFS["inclusion"]
    for desc, args in inclusion_probes(v)
]
CONSISTENCY_PROBES = [
    pytest.param(args, id=f"{v['old_size']}to{v['size']}:{desc}")
    for v in PROOFS["consistency"]
    if v["path"]  # as in the CT tests: only non-trivial proofs are corrupted
    for desc, args in consistency_probes(v)
]


@pytest.mark.parametrize("args", INCLUSION_PROBES)
def test_corrupted_reference_inclusion_proof_is_refused(args: tuple[Any, ...]) -> None:
    """Each corruption of a reference inclusion proof is refused with a proof code."""
    with pytest.raises(VerificationError) as info:
        tlog.check_inclusion(*args)
    assert info.value.code in {Code.INCLUSION_PROOF_INVALID, Code.PROOF_ARGUMENTS_INVALID}


@pytest.mark.parametrize("args", CONSISTENCY_PROBES)
def test_corrupted_reference_consistency_proof_is_refused(args: tuple[Any, ...]) -> None:
    """Each corruption of a reference consistency proof is refused with a proof code."""
    with pytest.raises(VerificationError) as info:
        tlog.check_consistency(*args)
    assert info.value.code in {Code.CONSISTENCY_PROOF_INVALID, Code.PROOF_ARGUMENTS_INVALID}


# -- refusals ------------------------------------------------------------------------------------

ROOT5 = Hash(bytes.fromhex(ROOTS["roots"][5]))
ROOT2 = Hash(bytes.fromhex(ROOTS["roots"][2]))
LEAF1 = tlog.leaf_hash(REF_LEAVES[1])
INCL_1_OF_5 = REF.prove_inclusion(5, 1)
CONS_2_TO_5 = REF.prove_consistency(5, 2)
SHORT = Hash(bytes(31))
LONG = Hash(bytes(33))
ARGS = Code.PROOF_ARGUMENTS_INVALID


# (case, callable, expected code, basis)
REFUSALS: list[tuple[str, Callable[[], object], Code, str]] = [
    (
        "index equal to size",
        lambda: tlog.check_inclusion(incl([]), 1, ROOT5, 1, LEAF1),
        ARGS,
        "RFC 9162 §2.1.3.2 step 1",
    ),
    (
        "index above size",
        lambda: tlog.check_inclusion(INCL_1_OF_5, 5, ROOT5, 9, LEAF1),
        ARGS,
        "RFC 9162 §2.1.3.2 step 1",
    ),
    (
        "negative index",
        lambda: tlog.check_inclusion(INCL_1_OF_5, 5, ROOT5, -1, LEAF1),
        ARGS,
        "sizes and indexes are uint64 in RFC 9162",
    ),
    (
        "empty tree",
        lambda: tlog.check_inclusion(incl([]), 0, tlog.EMPTY_ROOT, 0, LEAF1),
        ARGS,
        "RFC 9162 §2.1.3.2 step 1",
    ),
    (
        "size past uint64",
        lambda: tlog.check_inclusion(incl([]), 2**64, ROOT5, 0, LEAF1),
        ARGS,
        "sizes and indexes are uint64 in RFC 9162",
    ),
    (
        "inclusion proof one hash short",
        lambda: tlog.check_inclusion(incl(INCL_1_OF_5.hashes[:-1]), 5, ROOT5, 1, LEAF1),
        ARGS,
        "RFC 9162 §2.1.3.2 step 5 (sn must reach 0)",
    ),
    (
        "inclusion proof one hash long",
        lambda: tlog.check_inclusion(incl([*INCL_1_OF_5.hashes, ROOT5]), 5, ROOT5, 1, LEAF1),
        ARGS,
        "RFC 9162 §2.1.3.2 step 4a",
    ),
    (
        "31-byte proof hash",
        lambda: tlog.check_inclusion(incl([*INCL_1_OF_5.hashes[:-1], SHORT]), 5, ROOT5, 1, LEAF1),
        ARGS,
        "RFC 9162 §2.1.1 (SHA-256)",
    ),
    (
        "33-byte proof hash",
        lambda: tlog.check_inclusion(incl([*INCL_1_OF_5.hashes[:-1], LONG]), 5, ROOT5, 1, LEAF1),
        ARGS,
        "RFC 9162 §2.1.1 (SHA-256)",
    ),
    (
        "31-byte root",
        lambda: tlog.check_inclusion(INCL_1_OF_5, 5, SHORT, 1, LEAF1),
        ARGS,
        "RFC 9162 §2.1.1 (SHA-256)",
    ),
    (
        "31-byte leaf",
        lambda: tlog.check_inclusion(INCL_1_OF_5, 5, ROOT5, 1, SHORT),
        ARGS,
        "RFC 9162 §2.1.1 (SHA-256)",
    ),
    (
        "leaf that is not bytes",
        lambda: tlog.check_inclusion(INCL_1_OF_5, 5, ROOT5, 1, "x" * 32),  # type: ignore[arg-type]
        ARGS,
        "RFC 9162 §2.1.1 (SHA-256)",
    ),
    (
        "wrong leaf",
        lambda: tlog.check_inclusion(INCL_1_OF_5, 5, ROOT5, 1, ROOT5),
        Code.INCLUSION_PROOF_INVALID,
        "RFC 9162 §2.1.3.2 step 5",
    ),
    (
        "old size above size",
        lambda: tlog.check_consistency(cons([]), 2, ROOT2, 5, ROOT5),
        ARGS,
        "RFC 9162 §2.1.4 (first <= second)",
    ),
    (
        "negative old size",
        lambda: tlog.check_consistency(cons([]), 2, ROOT2, -1, ROOT5),
        ARGS,
        "sizes and indexes are uint64 in RFC 9162",
    ),
    (
        "empty proof between different sizes",
        lambda: tlog.check_consistency(cons([]), 5, ROOT5, 2, ROOT2),
        ARGS,
        "RFC 9162 §2.1.4.2 step 1",
    ),
    (
        "consistency proof one hash short",
        lambda: tlog.check_consistency(cons(CONS_2_TO_5.hashes[:-1]), 5, ROOT5, 2, ROOT2),
        ARGS,
        "RFC 9162 §2.1.4.2 step 7 (sn must reach 0)",
    ),
    (
        "consistency proof one hash long",
        lambda: tlog.check_consistency(cons([*CONS_2_TO_5.hashes, ROOT5]), 5, ROOT5, 2, ROOT2),
        ARGS,
        "RFC 9162 §2.1.4.2 step 6a",
    ),
    (
        "31-byte consistency proof hash",
        lambda: tlog.check_consistency(cons([SHORT, CONS_2_TO_5.hashes[1]]), 5, ROOT5, 2, ROOT2),
        ARGS,
        "RFC 9162 §2.1.1 (SHA-256)",
    ),
    (
        "31-byte old root",
        lambda: tlog.check_consistency(CONS_2_TO_5, 5, ROOT5, 2, SHORT),
        ARGS,
        "RFC 9162 §2.1.1 (SHA-256)",
    ),
    (
        "non-empty proof between equal sizes",
        lambda: tlog.check_consistency(cons([ROOT5]), 5, ROOT5, 5, ROOT5),
        ARGS,
        "equal tree heads need no proof",
    ),
    (
        "non-empty proof from the empty tree",
        lambda: tlog.check_consistency(cons([ROOT5]), 5, ROOT5, 0, tlog.EMPTY_ROOT),
        ARGS,
        "the empty tree is a prefix of every tree",
    ),
    (
        "equal sizes, different roots",
        lambda: tlog.check_consistency(cons([]), 5, ROOT5, 5, ROOT2),
        Code.CONSISTENCY_PROOF_INVALID,
        "a tree has one root (RFC 9162 §2.1.1)",
    ),
    (
        "empty old tree with a non-empty root",
        lambda: tlog.check_consistency(cons([]), 5, ROOT5, 0, ROOT2),
        Code.CONSISTENCY_PROOF_INVALID,
        "MTH({}) = SHA-256() (RFC 9162 §2.1.1)",
    ),
    (
        "swapped roots",
        lambda: tlog.check_consistency(CONS_2_TO_5, 5, ROOT2, 2, ROOT5),
        Code.CONSISTENCY_PROOF_INVALID,
        "RFC 9162 §2.1.4.2 step 7",
    ),
    (
        "prove index equal to size",
        lambda: REF.prove_inclusion(5, 5),
        Code.BAD_ARGUMENT,
        "caller error",
    ),
    (
        "prove old size above size",
        lambda: REF.prove_consistency(5, 6),
        Code.BAD_ARGUMENT,
        "caller error",
    ),
    ("tree hash of a negative size", lambda: REF.tree_hash(-1), Code.BAD_ARGUMENT, "caller error"),
    (
        "stored index of a negative level",
        lambda: tlog.stored_hash_index(-1, 0),
        Code.BAD_ARGUMENT,
        "caller error",
    ),
    (
        "stored index past uint64",
        lambda: tlog.stored_hash_index(64, 0),
        Code.BAD_ARGUMENT,
        "caller error",
    ),
    (
        "stored count past uint64",
        lambda: tlog.stored_hash_count(2**64),
        Code.BAD_ARGUMENT,
        "caller error",
    ),
    (
        "append a negative record",
        lambda: tlog.stored_hashes_for_record(-1, LEAF1, REF),
        Code.BAD_ARGUMENT,
        "caller error",
    ),
    (
        "append a 31-byte leaf hash",
        lambda: tlog.stored_hashes_for_record(8, SHORT, REF),
        Code.MALFORMED,
        "RFC 9162 §2.1.1 (SHA-256)",
    ),
    (
        "node of a 31-byte child",
        lambda: tlog.node_hash(SHORT, LEAF1),
        Code.MALFORMED,
        "RFC 9162 §2.1.1 (SHA-256)",
    ),
]


@pytest.mark.parametrize(
    ("call", "code"), [(c[1], c[2]) for c in REFUSALS], ids=[c[0] for c in REFUSALS]
)
def test_refusals_carry_their_code(call: Callable[[], object], code: Code) -> None:
    """Each impossible argument or bad proof is refused with its stable code."""
    expect(code, call)


@pytest.mark.parametrize(
    ("code", "family"),
    [
        (Code.PROOF_ARGUMENTS_INVALID, VerificationError),
        (Code.INCLUSION_PROOF_INVALID, VerificationError),
        (Code.CONSISTENCY_PROOF_INVALID, VerificationError),
        (Code.BAD_ARGUMENT, ConfigurationError),
        (Code.MALFORMED, MalformedInputError),
    ],
)
def test_refusal_families(code: Code, family: type[SeoulVCError]) -> None:
    """Proof refusals are verification errors; caller mistakes are configuration errors."""
    for _, call, expected, _ in REFUSALS:
        if expected == code:
            assert isinstance(expect(code, call), family)


class BrokenReader:
    """A HashReader that breaks its contract in one chosen way."""

    def __init__(self, mode: str) -> None:
        self.mode = mode

    def read_hashes(self, indexes: Sequence[int]) -> Sequence[Hash]:
        values = [REF.hashes[i] for i in indexes]
        if self.mode == "short":
            return values[:-1]
        return [Hash(h[:31]) for h in values]


@pytest.mark.parametrize("mode", ["short", "truncated"])
def test_broken_hash_reader_is_an_internal_error(mode: str) -> None:
    """A reader returning too few hashes or non-32-byte values raises InternalError."""
    with pytest.raises(InternalError) as info:
        tlog.prove_inclusion(8, 3, BrokenReader(mode))
    assert info.value.code == Code.INTERNAL


def test_proofs_for_trivial_sizes_read_nothing() -> None:
    """The empty tree's root and empty consistency proofs need no stored hash."""
    with BIG.budget(0, 0):
        assert tlog.tree_hash(0, BIG) == tlog.EMPTY_ROOT
    with BIG.budget(SAMPLED_SIZE, 0):
        assert tlog.prove_consistency(SAMPLED_SIZE, 0, BIG).hashes == ()
        assert tlog.prove_consistency(SAMPLED_SIZE, SAMPLED_SIZE, BIG).hashes == ()


def test_consistency_from_empty_and_to_itself_verifies() -> None:
    """old_size 0 with the empty root, and equal sizes with equal roots, need an empty proof."""
    tlog.check_consistency(cons([]), 5, ROOT5, 0, tlog.EMPTY_ROOT)
    tlog.check_consistency(cons([]), 5, ROOT5, 5, ROOT5)
    tlog.check_consistency(cons([]), 0, tlog.EMPTY_ROOT, 0, tlog.EMPTY_ROOT)


def test_huge_tree_sizes_stay_within_the_read_bound() -> None:
    """Near 2**64 - 1 a proof still reads at most 2 * 64 - 2 stored hashes, in one call."""

    class Indexes:
        def __init__(self) -> None:
            self.asked: list[int] = []

        def read_hashes(self, indexes: Sequence[int]) -> Sequence[Hash]:
            assert not self.asked, "one call per operation"
            self.asked = list(indexes)
            return [Hash(hashlib.sha256(str(i).encode()).digest()) for i in indexes]

    size = 2**64 - 1
    reader = Indexes()
    tlog.prove_inclusion(size, size - 2, reader)
    assert 0 < len(reader.asked) <= 2 * 64 - 2
    assert max(reader.asked) < tlog.stored_hash_count(size)
    reader = Indexes()
    tlog.prove_consistency(size, 2**63 + 12345, reader)
    assert 0 < len(reader.asked) <= 2 * 64 - 1
