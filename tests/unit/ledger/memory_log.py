"""A real Merkle log in memory for witness tests: checkpoints and proofs of any size reached.

Shared by ``test_witness.py`` and ``test_tlog_witness.py`` (imported by module name: pytest
puts this folder on ``sys.path`` for the tests in it).
"""

from __future__ import annotations

from collections.abc import Sequence

from seoul_vc.ledger import tlog
from seoul_vc.ledger.checkpoint import Checkpoint, sign_checkpoint
from seoul_vc.ledger.note import NoteSigner
from seoul_vc.ledger.tlog import ConsistencyProof, Hash


class MemoryHashes:
    """A list-backed HashReader."""

    def __init__(self) -> None:
        self.hashes: list[Hash] = []

    def read_hashes(self, indexes: Sequence[int]) -> Sequence[Hash]:
        return [self.hashes[i] for i in indexes]


class Log:
    """A real Merkle log that signs checkpoints of any size it has reached."""

    def __init__(self, signer: NoteSigner, entries: Sequence[bytes]) -> None:
        self.signer = signer
        self.store = MemoryHashes()
        for n, entry in enumerate(entries):
            self.store.hashes += tlog.stored_hashes_for_record(n, tlog.leaf_hash(entry), self.store)

    def root(self, size: int) -> Hash:
        return tlog.tree_hash(size, self.store)

    def checkpoint(self, size: int) -> Checkpoint:
        return Checkpoint(origin=self.signer.name, size=size, root_hash=self.root(size))

    def note(self, size: int) -> str:
        return sign_checkpoint(self.checkpoint(size), self.signer)

    def proof(self, size: int, old_size: int) -> ConsistencyProof:
        return tlog.prove_consistency(size, old_size, self.store)


def entries(n: int, tag: str = "entry") -> list[bytes]:
    return [f"{tag} {i}".encode() for i in range(n)]
