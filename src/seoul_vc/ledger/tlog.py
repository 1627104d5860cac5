"""Merkle trees of RFC 9162 §2.1 (Certificate Transparency v2): hashes, storage layout, proofs.

This is the ledger's hazmat layer: pure functions over 32-byte SHA-256 hashes, with no I/O,
no clock and no imports but :mod:`seoul_vc.errors`. Storage is reached only through a
:class:`HashReader`.

Hashing (RFC 9162 §2.1.1): a leaf hash is ``SHA-256(0x00 || entry)``, an interior node is
``SHA-256(0x01 || left || right)`` and the empty tree's hash is ``SHA-256("")``. The tree
over ``n`` entries splits at the largest power of two below ``n``.

Storage: the tree is kept as *one dense, append-only sequence* of the hashes of its complete
subtrees, in the order appending creates them (the layout of Go's
``golang.org/x/mod/sumdb/tlog``). Appending record ``n`` stores its leaf hash and then one
parent for each trailing one-bit of ``n``, so the first records give::

    index:  0     1     2     3     4     5     6     7     8     9     10
    node:   L0:0  L0:1  L1:0  L0:2  L0:3  L1:1  L2:0  L0:4  L0:5  L1:2  L0:6

where ``Lk:j`` is the ``j``-th complete subtree of ``2**k`` leaves. A store is then a single
table ``(idx, hash)``: an append writes ``1 + trailing_ones(n)`` rows, and a root or proof is
one batched read of ``O(log size)`` rows.

Proofs: :func:`prove_inclusion` and :func:`prove_consistency` build the ``PATH`` and
``PROOF`` lists of RFC 9162 §2.1.3.1 and §2.1.4.1; :func:`check_inclusion` and
:func:`check_consistency` run the verification algorithms of §2.1.3.2 and §2.1.4.2 and
return ``None`` or raise :class:`~seoul_vc.errors.VerificationError`.

The hashing and the tree's bounds live in :mod:`._tlog_hash`, the proofs and their
verification in :mod:`._tlog_check`; this module re-exports their public names.

Example:
    >>> from seoul_vc.ledger import tlog
    >>> class MemoryHashes:
    ...     def __init__(self): self.hashes = []
    ...     def read_hashes(self, indexes): return [self.hashes[i] for i in indexes]
    >>> store = MemoryHashes()
    >>> for n, entry in enumerate([b"alpha", b"beta", b"gamma"]):
    ...     store.hashes += tlog.stored_hashes_for_record(n, tlog.leaf_hash(entry), store)
    >>> root, old_root = tlog.tree_hash(3, store), tlog.tree_hash(2, store)
    >>> proof = tlog.prove_inclusion(3, 1, store)
    >>> tlog.check_inclusion(proof, 3, root, 1, tlog.leaf_hash(b"beta"))
    >>> tlog.check_consistency(tlog.prove_consistency(3, 2, store), 3, root, 2, old_root)
    >>> from seoul_vc.errors import VerificationError
    >>> try:
    ...     tlog.check_inclusion(proof, 3, root, 1, tlog.leaf_hash(b"BETA"))
    ... except VerificationError as err:
    ...     print(err.code)
    inclusion_proof_invalid
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from seoul_vc.errors import Code, ConfigurationError, InternalError, MalformedInputError
from seoul_vc.ledger._tlog_check import (
    ConsistencyProof,
    InclusionProof,
    _consistency_proof_length,
    _inclusion_steps,
    check_consistency,
    check_inclusion,
)
from seoul_vc.ledger._tlog_hash import (
    EMPTY_ROOT,
    HASH_SIZE,
    MAX_TREE_SIZE,
    Hash,
    _is_hash,
    _node,
    leaf_hash,
    node_hash,
)

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "MAX_TREE_SIZE",
    "ConsistencyProof",
    "Frontier",
    "Hash",
    "HashReader",
    "InclusionProof",
    "check_consistency",
    "check_inclusion",
    "leaf_hash",
    "node_hash",
    "prove_consistency",
    "prove_inclusion",
    "stored_hash_count",
    "stored_hash_index",
    "stored_hashes_for_record",
    "tree_hash",
]


class HashReader(Protocol):
    """Where the stored hashes live: the only way this module reaches storage."""

    def read_hashes(self, indexes: Sequence[int]) -> Sequence[Hash]:
        """Return the stored hashes at ``indexes`` (see :func:`stored_hash_index`), in order.

        The functions here pass distinct indexes in ascending order, all below
        ``stored_hash_count(size)`` for the tree size they were given, and call this once
        per operation.
        """
        ...


# -- the stored-hash layout ---------------------------------------------------------------------


def stored_hash_count(n: int) -> int:
    """Return how many hashes a tree of ``n`` records stores: ``2*n - popcount(n)``.

    Each level ``k`` holds ``n >> k`` complete subtrees, and the sum of ``n >> k`` over all
    levels is ``2*n - popcount(n)``.

    Raises:
        ConfigurationError: ``bad_argument`` if ``n`` is negative or above ``MAX_TREE_SIZE``.
    """
    _require_size(n, "n")
    return 2 * n - n.bit_count()


def stored_hash_index(level: int, n: int) -> int:
    """Return the position of the ``n``-th complete subtree of ``2**level`` leaves.

    That subtree is completed by appending record ``r = (n + 1) * 2**level - 1``: the append
    first writes the leaf hash at ``stored_hash_count(r)`` and then one parent per level, so
    the subtree's hash lands ``level`` places later.

    Raises:
        ConfigurationError: ``bad_argument`` if ``level`` or ``n`` is negative or the subtree
            would end past ``MAX_TREE_SIZE`` records.
    """
    if not (0 <= level < 64 and n >= 0 and (n + 1) << level <= MAX_TREE_SIZE):
        raise ConfigurationError(Code.BAD_ARGUMENT, "no such stored subtree", level=level, n=n)
    return _stored_index(level, n)


def _stored_index(level: int, n: int) -> int:
    last_record = ((n + 1) << level) - 1
    return 2 * last_record - last_record.bit_count() + level


def stored_hashes_for_record(n: int, leaf: Hash, read: HashReader) -> list[Hash]:
    """Return the hashes that appending record ``n`` adds to the stored sequence.

    The result is the leaf hash followed by one parent per trailing one-bit of ``n``; the
    caller stores it at positions ``stored_hash_count(n)`` onwards, which is where
    ``stored_hash_count(n + 1)`` ends.

    Args:
        n: the new record's index, which is the tree size before the append.
        leaf: the record's :func:`leaf_hash`.
        read: the stored hashes of the tree of ``n`` records.

    Returns:
        ``1 + trailing_ones(n)`` hashes, lowest level first.

    Cost: reads ``trailing_ones(n) <= log2(n + 1)`` hashes (the left siblings on the way
    up) in at most one ``read_hashes`` call, and none when ``n`` is even.

    Raises:
        ConfigurationError: ``bad_argument`` if ``n`` is out of range.
        MalformedInputError: ``malformed`` if ``leaf`` is not a 32-byte hash.
        InternalError: ``internal`` if ``read`` breaks the :class:`HashReader` contract.
    """
    if not 0 <= n < MAX_TREE_SIZE:
        raise ConfigurationError(Code.BAD_ARGUMENT, "record index out of range", n=n)
    if not _is_hash(leaf):
        raise MalformedInputError(Code.MALFORMED, "a leaf hash is not 32 bytes")
    ones = (~n & (n + 1)).bit_length() - 1  # trailing one-bits of n
    # Level k's new parent joins the left sibling j = (n >> k) - 1 with what was just built.
    siblings = [_stored_index(level, (n >> level) - 1) for level in range(ones)]
    got = _read(read, siblings)
    new = [leaf]
    for index in siblings:
        new.append(_node(got[index], new[-1]))
    return new


class Frontier:
    """The right edge of a tree: one complete-subtree hash per one-bit of its size.

    The tree of ``size`` records is the complete subtrees of ``size``'s binary expansion,
    largest (leftmost) first, and RFC 9162's split rule makes its root the right fold of
    their hashes. Those hashes are all an appender needs: appending record ``n`` joins its
    leaf with the subtrees of ``n``'s trailing one-bits (its left siblings), which yields the
    same stored hashes as :func:`stored_hashes_for_record` with no reads, and the new root
    is a fold over at most 64 hashes. A frontier is immutable; :meth:`append` returns a new one.

    Example:
        >>> f = Frontier.empty()
        >>> for entry in [b"alpha", b"beta", b"gamma"]:
        ...     f, stored = f.append(leaf_hash(entry))
        >>> f.size, len(stored)
        (3, 1)
    """

    __slots__ = ("_edge", "size")

    def __init__(self, size: int, edge: tuple[Hash, ...]) -> None:
        # edge[i] is the subtree of the i-th one-bit of size, lowest bit first.
        self.size = size
        self._edge = edge

    @classmethod
    def empty(cls) -> Frontier:
        """Return the frontier of the empty tree."""
        return cls(0, ())

    @classmethod
    def load(cls, size: int, read: HashReader) -> Frontier:
        """Read the frontier of the ``size``-record tree: ``popcount(size)`` hashes, one call.

        Raises:
            ConfigurationError: ``bad_argument`` if ``size`` is out of range.
            InternalError: ``internal`` if ``read`` breaks the :class:`HashReader` contract.
        """
        _require_size(size, "size")
        levels = [level for level in range(size.bit_length()) if size >> level & 1]
        indexes = [_stored_index(level, (size >> level) - 1) for level in levels]
        got = _read(read, indexes)
        return cls(size, tuple(got[i] for i in indexes))

    def append(self, leaf: Hash) -> tuple[Frontier, list[Hash]]:
        """Append record ``self.size``; return the new frontier and the hashes to store.

        The stored hashes are the leaf and one parent per trailing one-bit of the old size,
        lowest level first, exactly :func:`stored_hashes_for_record`'s result.

        Raises:
            ConfigurationError: ``bad_argument`` if the tree is full.
            MalformedInputError: ``malformed`` if ``leaf`` is not a 32-byte hash.
        """
        n = self.size
        if n >= MAX_TREE_SIZE:
            raise ConfigurationError(Code.BAD_ARGUMENT, "the tree is full", n=n)
        if not _is_hash(leaf):
            raise MalformedInputError(Code.MALFORMED, "a leaf hash is not 32 bytes")
        ones = (~n & (n + 1)).bit_length() - 1  # trailing one-bits: the lowest edge entries
        edge = self._edge
        stored = [leaf]
        current = leaf
        for i in range(ones):  # edge[i] is the level-i left sibling
            current = _node(edge[i], current)
            stored.append(current)
        return Frontier(n + 1, (current, *edge[ones:])), stored

    def root(self) -> Hash:
        """Return MTH(D[0:size]) (RFC 9162 §2.1.1): the right fold of the edge."""
        edge = self._edge
        if not edge:
            return EMPTY_ROOT
        current = edge[0]
        for left in edge[1:]:
            current = _node(left, current)
        return current


# -- roots and proofs ---------------------------------------------------------------------------


def tree_hash(size: int, read: HashReader) -> Hash:
    """Return the root MTH(D[0:size]) of the tree of the first ``size`` records (RFC 9162 §2.1.1).

    Cost: reads ``popcount(size) <= bit_length(size)`` hashes (one per complete subtree of
    the size's binary expansion) in one ``read_hashes`` call; none for the empty tree.

    Raises:
        ConfigurationError: ``bad_argument`` if ``size`` is negative or above ``MAX_TREE_SIZE``.
        InternalError: ``internal`` if ``read`` breaks the :class:`HashReader` contract.
    """
    _require_size(size, "size")
    if size == 0:
        return EMPTY_ROOT
    return _range_hashes([(0, size)], read)[0]


def prove_inclusion(size: int, index: int, read: HashReader) -> InclusionProof:
    """Return the inclusion proof of record ``index`` in the ``size``-record tree.

    This is ``PATH(index, D[0:size])`` of RFC 9162 §2.1.3.1, sibling nearest the leaf first.

    Cost: the proof has at most ``bit_length(size - 1)`` hashes. Every sibling is a stored
    subtree except at most one, which covers the tree's right edge and is rebuilt from the
    stored subtrees of its size's binary expansion; in all, at most
    ``2 * bit_length(size) - 2`` hashes are read (under 128 for any ``uint64`` size), in one
    ``read_hashes`` call.

    Raises:
        ConfigurationError: ``bad_argument`` unless ``0 <= index < size <= MAX_TREE_SIZE``.
        InternalError: ``internal`` if ``read`` breaks the :class:`HashReader` contract or the
            proof's length disagrees with the verifier's (a bug).
    """
    _require_size(size, "size")
    if not 0 <= index < size:
        raise ConfigurationError(
            Code.BAD_ARGUMENT, "index must be below the tree size", index=index, size=size
        )
    # Walk down from the root, recording the sibling range of each subtree holding `index`.
    ranges: list[tuple[int, int]] = []
    lo, hi = 0, size
    while hi - lo > 1:
        mid = lo + _split(hi - lo)
        if index < mid:
            ranges.append((mid, hi))
            hi = mid
        else:
            ranges.append((lo, mid))
            lo = mid
    ranges.reverse()  # RFC order: the sibling nearest the leaf first.
    proof = InclusionProof(hashes=tuple(_range_hashes(ranges, read)))
    if len(proof.hashes) != len(_inclusion_steps(index, size)):
        raise InternalError(Code.INTERNAL, "inclusion proof length disagrees with RFC 9162")
    return proof


def prove_consistency(size: int, old_size: int, read: HashReader) -> ConsistencyProof:
    """Return the proof that the ``old_size`` tree is a prefix of the ``size`` tree.

    This is ``PROOF(old_size, D[0:size])`` of RFC 9162 §2.1.4.1. RFC 9162 defines it for
    ``0 < old_size < size``; for ``old_size == 0`` or ``old_size == size`` the proof is
    empty, as :func:`check_consistency` expects.

    Cost: the proof has at most ``bit_length(size - 1) + 1`` hashes, all stored subtrees
    except at most one on the tree's right edge, rebuilt like :func:`prove_inclusion`'s; in
    all, at most ``2 * bit_length(size) - 1`` hashes are read, in one ``read_hashes`` call,
    and none when the proof is empty.

    Raises:
        ConfigurationError: ``bad_argument`` unless ``0 <= old_size <= size <= MAX_TREE_SIZE``.
        InternalError: ``internal`` if ``read`` breaks the :class:`HashReader` contract or the
            proof's length disagrees with the verifier's (a bug).
    """
    _require_size(size, "size")
    if not 0 <= old_size <= size:
        raise ConfigurationError(
            Code.BAD_ARGUMENT, "old_size must be at most size", old_size=old_size, size=size
        )
    if old_size in (0, size):
        return ConsistencyProof(hashes=())
    # SUBPROOF(m, D[lo:hi], b) of RFC 9162 §2.1.4.1, unrolled; m counts from lo.
    ranges: list[tuple[int, int]] = []
    lo, hi, m, whole_old_tree = 0, size, old_size, True
    while m != hi - lo:
        mid = lo + _split(hi - lo)
        if lo + m <= mid:
            ranges.append((mid, hi))
            hi = mid
        else:
            ranges.append((lo, mid))
            m -= mid - lo
            lo = mid
            whole_old_tree = False
    if not whole_old_tree:
        # The old tree's last subtree; when it is the whole old tree the verifier has it.
        ranges.append((lo, hi))
    ranges.reverse()
    proof = ConsistencyProof(hashes=tuple(_range_hashes(ranges, read)))
    if len(proof.hashes) != _consistency_proof_length(old_size, size):
        raise InternalError(Code.INTERNAL, "consistency proof length disagrees with RFC 9162")
    return proof


def _split(n: int) -> int:
    # The k of RFC 9162 §2.1.1: the largest power of two strictly below n (n >= 2).
    return 1 << ((n - 1).bit_length() - 1)


def _range_nodes(lo: int, hi: int, out: list[int]) -> None:
    """Append the stored indexes of the subtrees whose hashes make MTH(D[lo:hi])."""
    width = hi - lo
    if width & (width - 1) == 0 and lo % width == 0:
        level = width.bit_length() - 1
        out.append(_stored_index(level, lo >> level))
        return
    mid = lo + _split(width)
    _range_nodes(lo, mid, out)
    _range_nodes(mid, hi, out)


def _range_hash(lo: int, hi: int, got: Mapping[int, Hash]) -> Hash:
    """Return MTH(D[lo:hi]) from the stored subtrees that :func:`_range_nodes` named."""
    width = hi - lo
    if width & (width - 1) == 0 and lo % width == 0:
        level = width.bit_length() - 1
        return got[_stored_index(level, lo >> level)]
    mid = lo + _split(width)
    return _node(_range_hash(lo, mid, got), _range_hash(mid, hi, got))


def _range_hashes(ranges: Sequence[tuple[int, int]], read: HashReader) -> list[Hash]:
    """Return MTH of each ``(lo, hi)`` range, reading all stored subtrees in one call."""
    indexes: list[int] = []
    for lo, hi in ranges:
        _range_nodes(lo, hi, indexes)
    got = _read(read, indexes)
    return [_range_hash(lo, hi, got) for lo, hi in ranges]


def _read(read: HashReader, indexes: Sequence[int]) -> dict[int, Hash]:
    wanted = sorted(set(indexes))
    if not wanted:
        return {}
    got = read.read_hashes(wanted)
    if len(got) != len(wanted):
        raise InternalError(
            Code.INTERNAL,
            "hash reader returned the wrong number of hashes",
            asked=len(wanted),
            got=len(got),
        )
    if not all(_is_hash(h) for h in got):
        raise InternalError(Code.INTERNAL, "hash reader returned a value that is not 32 bytes")
    return dict(zip(wanted, got, strict=True))


def _require_size(size: int, name: str) -> None:
    if not 0 <= size <= MAX_TREE_SIZE:
        raise ConfigurationError(
            Code.BAD_ARGUMENT, f"{name} must be between 0 and 2**64 - 1", value=size
        )
