"""Part of :mod:`seoul_vc.ledger.tlog`: the hashes of RFC 9162 §2.1.1 and the tree's bounds.

A leaf hash is ``SHA-256(0x00 || entry)``, an interior node is ``SHA-256(0x01 || left ||
right)`` and the empty tree's hash is ``SHA-256("")``. Tree sizes and indexes are ``uint64``.
Public as :data:`seoul_vc.ledger.tlog.Hash`, :func:`~seoul_vc.ledger.tlog.leaf_hash`,
:func:`~seoul_vc.ledger.tlog.node_hash` and the constants of :mod:`seoul_vc.ledger.tlog`.
"""

from __future__ import annotations

import hashlib
from typing import Final, NewType

from seoul_vc.errors import Code, MalformedInputError

Hash = NewType("Hash", bytes)
"""A SHA-256 Merkle tree hash: always exactly :data:`HASH_SIZE` bytes."""

#: Width of every hash in the tree (SHA-256, RFC 9162 §2.1.1).
HASH_SIZE: Final = 32
#: Tree sizes and indexes are ``uint64`` in RFC 9162's structures; larger ones are refused.
MAX_TREE_SIZE: Final = 2**64 - 1
#: MTH({}) = SHA-256() — the hash of the empty tree (RFC 9162 §2.1.1).
EMPTY_ROOT: Final = Hash(hashlib.sha256(b"").digest())

_LEAF_PREFIX: Final = b"\x00"
_NODE_PREFIX: Final = b"\x01"


def leaf_hash(entry: bytes) -> Hash:
    """Return the leaf hash ``SHA-256(0x00 || entry)`` of RFC 9162 §2.1.1."""
    return Hash(hashlib.sha256(_LEAF_PREFIX + entry).digest())


def node_hash(left: Hash, right: Hash) -> Hash:
    """Return the interior node hash ``SHA-256(0x01 || left || right)`` of RFC 9162 §2.1.1.

    Raises:
        MalformedInputError: ``malformed`` if either child is not a 32-byte hash.
    """
    if not (_is_hash(left) and _is_hash(right)):
        raise MalformedInputError(Code.MALFORMED, "a Merkle child hash is not 32 bytes")
    return _node(left, right)


def _node(left: bytes, right: bytes) -> Hash:
    # Unchecked node hash for the inner loops, whose inputs are already known to be hashes.
    return Hash(hashlib.sha256(_NODE_PREFIX + left + right).digest())


def _is_hash(value: object) -> bool:
    return isinstance(value, bytes) and len(value) == HASH_SIZE
