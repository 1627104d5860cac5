"""Crash safety: a writer SIGKILLed at random moments loses no acknowledged append.

DESIGN.md: "An acknowledged append survives a crash (``kill -9``)". A child process
(``ledger_writer.py crash``) appends in a loop and prints each receipt after ``append``
returns. The test kills it with SIGKILL at a random moment, again and again on one store, and
after each kill reopens the store as a restarted server would and checks that

* every index the child printed holds exactly the bytes it printed;
* at most one append committed without an acknowledgement (the kill fell between the
  commit and the print), and if so it is the child's next entry;
* derived state moved with the entries (the note count equals the notes), and the log
  passes ``audit()``;
* the next child resumes right after the last entry, with contiguous indexes.

SIGKILL ends the process, not the machine: what the operating system had accepted still
reaches the disk, so this shows that a receipt is only given after the commit, and that a
writer dying at any point (mid-transaction, mid-commit) leaves a store that opens, audits
and accepts appends. Power-loss durability rests on the stores' settings (SQLite
``synchronous=FULL``, PostgreSQL ``synchronous_commit``), not on this test.
"""

from __future__ import annotations

import base64
import random
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from seoul_vc.ledger.log import Ledger
from seoul_vc.ledger.store import open_store

pytestmark = pytest.mark.slow

KILLS = 24
#: Upper bound of the random time a child appends (after its first receipt) before the kill.
MAX_RUN_SECONDS = 0.4


def test_sigkilled_writer_loses_no_acknowledged_append(
    store_url: str, writers: Callable[..., Any], agency_key_file: Path
) -> None:
    """Twenty-odd SIGKILLs at random moments: every receipt's entry stays, the log audits."""
    key_file = agency_key_file
    seed = secrets.randbits(32)
    rng = random.Random(seed)  # noqa: S311 - picks kill moments, not secrets
    acknowledged: dict[int, bytes] = {}
    size = 1
    unacknowledged_commits = 0
    for run in range(KILLS):
        where = f"run {run} (seed {seed})"
        writer = writers("crash", store_url, str(key_file), str(run))
        writer.wait_for_lines(1)
        time.sleep(rng.uniform(0.0, MAX_RUN_SECONDS))
        writer.kill()
        acks = writer.acks()
        indexes = [index for index, _ in acks]
        assert indexes == list(range(size, size + len(acks))), where
        store = open_store(store_url)
        ledger = Ledger(store)
        try:
            # Wait out the dead writer's transaction: a PostgreSQL server may still be
            # finishing a COMMIT the child sent just before it died (a SQLite lock dies with
            # its process). Taking the writer lock once orders this check after it.
            with store.write():
                pass
            new_size = ledger.size
            last = indexes[-1]
            assert last + 1 <= new_size <= last + 2, where
            for index, encoded in acks:
                assert ledger.entry(index).to_bytes() == base64.b64decode(encoded), where
            if new_size == last + 2:
                unacknowledged_commits += 1
                body = ledger.entry(last + 1).body
                assert body == {"writer": run, "seq": len(acks)}, where
            assert ledger.state("note", "count") == new_size - 1, where
            assert ledger.audit().size == new_size, where
        finally:
            ledger.close()
        acknowledged.update((index, base64.b64decode(encoded)) for index, encoded in acks)
        size = new_size
    ledger = Ledger.open(store_url)
    try:
        for index, data in acknowledged.items():
            assert ledger.entry(index).to_bytes() == data, f"index {index} (seed {seed})"
    finally:
        ledger.close()
    assert len(acknowledged) + unacknowledged_commits == size - 1
