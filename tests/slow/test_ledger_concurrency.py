"""Concurrency: eight processes appending to one log at once give one contiguous log.

DESIGN.md: "Concurrent writers (threads, processes, several servers on one PostgreSQL) never
break an invariant." Eight ``ledger_writer.py burst`` children open the same store, wait for
a common start signal, and each append 500 entries, one ``Ledger.append`` (one transaction,
one durable commit) per entry, signed by an agency key granted ``note.add`` at genesis. The
log must then hold exactly the genesis plus the 4,000 acknowledged entries, at indexes
0..4000 with no gap or repeat, each where its receipt said, each child's entries in the
order it appended them, with derived state in step and a passing audit.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from seoul_vc.ledger.entry import Entry
from seoul_vc.ledger.log import Ledger
from seoul_vc.ledger.store import open_store

pytestmark = pytest.mark.slow

PROCESSES = 8
APPENDS = 500


def test_eight_processes_append_one_contiguous_log(
    store_url: str, writers: Callable[..., Any], agency_key_file: Path
) -> None:
    """8 processes x 500 appends: 4,001 entries, contiguous, as receipted, audited."""
    key_file = agency_key_file
    children = [
        writers("burst", store_url, str(key_file), str(n), str(APPENDS), stdin=True)
        for n in range(PROCESSES)
    ]
    for child in children:
        child.wait_for_lines(1)  # "ready": the ledger is open
    for child in children:
        child.send("go\n")
    for child in children:
        assert child.finish(timeout=240) == 0, child.stderr()

    receipted: dict[int, bytes] = {}
    for n, child in enumerate(children):
        acks = child.acks()
        assert len(acks) == APPENDS, f"writer {n}"
        indexes = [index for index, _ in acks]
        assert indexes == sorted(indexes), f"writer {n}: its appends kept their order"
        for index, encoded in acks:
            assert index not in receipted, f"index {index} receipted twice"
            receipted[index] = base64.b64decode(encoded)
    total = PROCESSES * APPENDS
    assert sorted(receipted) == list(range(1, total + 1))

    store = open_store(store_url)
    ledger = Ledger(store)
    try:
        with store.read() as tx:
            rows = list(tx.iter_entries())
        assert [index for index, _ in rows] == list(range(total + 1))
        seqs: dict[int, list[int]] = {n: [] for n in range(PROCESSES)}
        for index, data in rows[1:]:
            assert data == receipted[index], f"index {index}"
            body = Entry.from_bytes(data).body
            seqs[int(str(body["writer"]))].append(int(str(body["seq"])))
        assert all(seq == list(range(APPENDS)) for seq in seqs.values())
        assert ledger.state("note", "count") == total
        assert ledger.audit().size == total + 1
    finally:
        ledger.close()
