"""The ledger: a permissioned, append-only transparency log (RFC 9162 Merkle tree).

Rooms: :mod:`~seoul_vc.ledger.tlog` hashes the tree and builds and checks inclusion and
consistency proofs (pure, no I/O); :mod:`~seoul_vc.ledger.note` signs and opens C2SP signed
notes; :mod:`~seoul_vc.ledger.checkpoint` formats, parses and opens checkpoints cosigned by
witnesses. Entries, applications, the log itself and its stores join them later. Importing
this package imports none of them.

Example:
    >>> from seoul_vc.ledger import tlog
    >>> tlog.leaf_hash(b"").hex()[:16]
    '6e340b9cffb37a98'
"""
