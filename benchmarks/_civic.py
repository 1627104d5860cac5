"""Shared pieces of the voting and mileage benchmarks: a note app for the raw append rate."""

from __future__ import annotations

import time

from seoul_vc.errors import Code, MalformedInputError
from seoul_vc.keys import PrivateKey
from seoul_vc.ledger.app import StateReader, StateWrites
from seoul_vc.ledger.entry import Entry, sign_entry
from seoul_vc.ledger.log import Ledger

NOTE = "bench.note"


class NoteApp:
    """One record type, one state write per entry: the ledger's own cost per append."""

    name = "bench"
    record_types = frozenset({NOTE})
    open_record_types: frozenset[str] = frozenset({NOTE})

    def validate(self, entry: Entry) -> None:
        """Accept ``{"n": int}`` bodies."""
        if not isinstance(entry.body.get("n"), int):
            raise MalformedInputError(Code.MALFORMED, "n")

    def apply(self, state: StateReader, entry: Entry, index: int) -> StateWrites:
        """Record the last index."""
        return {"last": index}


def raw_append_rates(ledger: Ledger, count: int, batch: int, now: int) -> dict[str, float]:
    """Appends per second of trivial signed entries on the same ledger: single and batched."""
    key = PrivateKey.generate()
    entries = [sign_entry(NOTE, {"n": n}, key, time=now) for n in range(2 * count)]
    t0 = time.perf_counter()
    for entry in entries[:count]:
        ledger.append(entry)
    single = count / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    rest = entries[count:]
    for start in range(0, count, batch):
        ledger.append_many(rest[start : start + batch])
    batched = count / (time.perf_counter() - t0)
    return {"raw_append_single_per_s": single, f"raw_append_batch{batch}_per_s": batched}
