"""Part of :mod:`seoul_vc.ledger.tlog`: the proofs of RFC 9162 §2.1.3-2.1.4 and their checks.

An inclusion proof is the ``PATH`` of RFC 9162 §2.1.3.1 and a consistency proof the
``PROOF`` of §2.1.4.1; :func:`check_inclusion` and :func:`check_consistency` run the
verification algorithms of §2.1.3.2 and §2.1.4.2 and return ``None`` or raise
:class:`~seoul_vc.errors.VerificationError`. A proof's length is fixed by the index and
tree sizes (:func:`_walk`); the prover in :mod:`seoul_vc.ledger.tlog` checks its own proofs
against the same shapes. Public as :class:`seoul_vc.ledger.tlog.InclusionProof`,
:class:`~seoul_vc.ledger.tlog.ConsistencyProof`, :func:`~seoul_vc.ledger.tlog.check_inclusion`
and :func:`~seoul_vc.ledger.tlog.check_consistency`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from seoul_vc.errors import Code, VerificationError
from seoul_vc.ledger._tlog_hash import (
    _NODE_PREFIX,
    EMPTY_ROOT,
    HASH_SIZE,
    MAX_TREE_SIZE,
    Hash,
    _node,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class InclusionProof:
    """The inclusion proof (RFC 9162 §2.1.3.1 ``PATH``): sibling hashes, leaf level first.

    Attributes:
        hashes: the proof's node hashes in RFC order. Its length is fixed by the index and
            tree size; :func:`check_inclusion` checks it, the constructor does not.
    """

    hashes: tuple[Hash, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsistencyProof:
    """The consistency proof (RFC 9162 §2.1.4.1 ``PROOF``): subtree hashes, lowest first.

    Attributes:
        hashes: the proof's node hashes in RFC order. Its length is fixed by the two tree
            sizes; :func:`check_consistency` checks it, the constructor does not.
    """

    hashes: tuple[Hash, ...]


# -- verification (RFC 9162 §2.1.3.2, §2.1.4.2) --------------------------------------------------


def check_inclusion(proof: InclusionProof, size: int, root: Hash, index: int, leaf: Hash) -> None:
    """Check that ``leaf`` is entry ``index`` of the ``size``-entry tree with ``root``.

    Runs the verification algorithm of RFC 9162 §2.1.3.2. The proof's length is fixed by
    ``index`` and ``size``; hashing stops at the first hash past it, so an oversized proof
    costs at most ``bit_length(size - 1)`` hashes.

    Args:
        proof: the inclusion proof, as from :func:`prove_inclusion`.
        size: the tree size of the tree head ``root`` belongs to.
        root: the tree head's root hash.
        index: the entry's position, from 0.
        leaf: the entry's :func:`leaf_hash`.

    Cost: ``len(proof.hashes) <= bit_length(size - 1)`` SHA-256 computations.

    Raises:
        VerificationError: ``inclusion_proof_invalid`` if the proof does not reach ``root``;
            ``proof_arguments_invalid`` if not ``0 <= index < size <= MAX_TREE_SIZE``, if the
            proof has the wrong length, or if ``root``, ``leaf`` or a proof hash is not
            32 bytes.
    """
    _check_sizes(index=index, size=size)
    if index >= size:
        raise VerificationError(
            Code.PROOF_ARGUMENTS_INVALID,
            "index must be below the tree size",
            index=index,
            size=size,
        )
    hashes = proof.hashes
    _check_hashes(hashes, root, leaf)
    # The hot loop of every proof check, RFC 9162 §2.1.3.2 steps 3-4 fused with hashing:
    # fn is the node's index and sn the last index at its level. A proof longer than the
    # walk fails as soon as sn reaches 0, so an oversized proof costs nothing extra.
    sha256, prefix = hashlib.sha256, _NODE_PREFIX
    fn, sn = index, size - 1
    running = bytes(leaf)
    for sibling in hashes:
        if sn == 0:
            raise _wrong_length()
        if fn & 1 or fn == sn:
            running = sha256(prefix + sibling + running).digest()
            # Skip levels where the node is its own parent (the right edge of the tree).
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            running = sha256(prefix + running + sibling).digest()
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise _wrong_length()
    if running != root:
        raise VerificationError(
            Code.INCLUSION_PROOF_INVALID,
            "the inclusion proof does not lead to the root",
            index=index,
            size=size,
        )


def _wrong_length() -> VerificationError:
    return VerificationError(
        Code.PROOF_ARGUMENTS_INVALID, "the inclusion proof has the wrong length"
    )


def check_consistency(
    proof: ConsistencyProof, size: int, root: Hash, old_size: int, old_root: Hash
) -> None:
    """Check that the ``old_size`` tree with ``old_root`` is a prefix of the ``size`` tree.

    Runs the verification algorithm of RFC 9162 §2.1.4.2 for ``0 < old_size < size``. The
    RFC leaves the other sizes to the caller; here they need an empty proof, and then
    ``old_size == size`` needs ``old_root == root`` and ``old_size == 0`` needs ``old_root``
    to be :data:`EMPTY_ROOT` (the tree head of an empty log is MTH({}), RFC 9162 §2.1.1).

    Args:
        proof: the consistency proof, as from :func:`prove_consistency`.
        size: the newer tree head's size.
        root: the newer tree head's root hash.
        old_size: the older tree head's size.
        old_root: the older tree head's root hash.

    Cost: at most ``2 * len(proof.hashes)`` SHA-256 computations.

    Raises:
        VerificationError: ``consistency_proof_invalid`` if the proof does not lead to both
            roots; ``proof_arguments_invalid`` if not ``0 <= old_size <= size <=
            MAX_TREE_SIZE``, if the proof has the wrong length, or if a root or proof hash is
            not 32 bytes.
    """
    _check_sizes(old_size=old_size, size=size)
    if old_size > size:
        raise VerificationError(
            Code.PROOF_ARGUMENTS_INVALID,
            "old_size must be at most size",
            old_size=old_size,
            size=size,
        )
    expected = _consistency_proof_length(old_size, size)
    if len(proof.hashes) != expected:
        raise VerificationError(
            Code.PROOF_ARGUMENTS_INVALID,
            "the consistency proof has the wrong length",
            expected=expected,
            got=len(proof.hashes),
        )
    _check_hashes(proof.hashes, root, old_root)
    if old_size in (0, size):
        if (old_size == 0 and old_root != EMPTY_ROOT) or (old_size == size and old_root != root):
            raise VerificationError(
                Code.CONSISTENCY_PROOF_INVALID,
                "the tree heads are not consistent",
                old_size=old_size,
                size=size,
            )
        return
    steps = _consistency_steps(old_size, size)
    path = list(proof.hashes)
    # Step 2: when old_size is a power of two the old root is itself the first subtree.
    seed = bytes(old_root) if _is_power_of_two(old_size) else path.pop(0)
    old_running = new_running = seed
    for sibling_is_left, sibling in zip(steps, path, strict=True):
        if sibling_is_left:
            old_running = _node(sibling, old_running)
            new_running = _node(sibling, new_running)
        else:
            new_running = _node(new_running, sibling)
    if old_running != old_root or new_running != root:
        raise VerificationError(
            Code.CONSISTENCY_PROOF_INVALID,
            "the consistency proof does not lead to both roots",
            old_size=old_size,
            size=size,
        )


def _check_sizes(**sizes: int) -> None:
    for name, value in sizes.items():
        if not 0 <= value <= MAX_TREE_SIZE:
            raise VerificationError(
                Code.PROOF_ARGUMENTS_INVALID,
                f"{name} must be between 0 and 2**64 - 1",
                value=value,
            )


def _check_hashes(path: Sequence[Hash], *hashes: Hash) -> None:
    values: tuple[object, ...] = (*hashes, *path)  # typed as Hash, but may come from anywhere
    for value in values:
        if not isinstance(value, bytes) or len(value) != HASH_SIZE:
            raise VerificationError(Code.PROOF_ARGUMENTS_INVALID, "a hash is not 32 bytes")


def _is_power_of_two(n: int) -> bool:
    return n > 0 and n & (n - 1) == 0


def _walk(fn: int, sn: int) -> list[bool]:
    """Return, per proof hash, whether it is a left sibling: the loop of RFC 9162 §2.1.3.2.

    ``fn`` is the node's index and ``sn`` the last index at the current level; the shape
    depends only on them, so the proof's length is known before hashing. The loop ends when
    ``sn`` reaches 0, which is the length the RFC's "if sn is 0, fail" and final "sn is 0"
    checks enforce. Each pass halves ``sn``, so it runs at most 64 times.
    """
    steps: list[bool] = []
    while sn != 0:
        if fn & 1 or fn == sn:
            steps.append(True)
            # Skip levels where the node is its own parent (the right edge of the tree).
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            steps.append(False)
        fn >>= 1
        sn >>= 1
    return steps


def _inclusion_steps(index: int, size: int) -> list[bool]:
    return _walk(index, size - 1)


def _consistency_steps(old_size: int, size: int) -> list[bool]:
    """Return the shape of the consistency loop (RFC 9162 §2.1.4.2 steps 3, 4 and 6)."""
    fn, sn = old_size - 1, size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    return _walk(fn, sn)


def _consistency_proof_length(old_size: int, size: int) -> int:
    if old_size in (0, size):
        return 0
    steps = len(_consistency_steps(old_size, size))
    return steps if _is_power_of_two(old_size) else steps + 1
