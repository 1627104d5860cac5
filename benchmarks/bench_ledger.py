"""Ledger benchmarks beside the raw SQLite floor of the same run.

Usage: ``python benchmarks/bench_ledger.py [--appends 2000] [--batch 100] [--proof-size 1000000]``

Measures, on a fresh SQLite file in a temporary folder (WAL, synchronous=FULL):
- durable appends per second, one entry per transaction and ``--batch`` per transaction,
  against raw SQLite inserts of the same entry bytes and tree-hash rows with the same
  durability (the floor), signature verification excluded (pre-verified entries) and
  reported separately;
- inclusion proof generation and verification at ``--proof-size`` entries (the tree hashes
  are written directly, as appends would, to build the large tree quickly);
- audit throughput (entries per second, signatures included and excluded).
"""

from __future__ import annotations

import argparse
import json
import platform
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from seoul_vc.clock import FixedClock
from seoul_vc.errors import Code, MalformedInputError
from seoul_vc.keys import PrivateKey
from seoul_vc.ledger import tlog
from seoul_vc.ledger.app import StateReader, StateWrites
from seoul_vc.ledger.apps import default_apps
from seoul_vc.ledger.entry import Entry, sign_entry, signer_did
from seoul_vc.ledger.log import Ledger
from seoul_vc.ledger.store.sqlite import SQLiteStore

NOW = 1767225600


class NoteApp:
    """A benchmark application with one record type and one state write per entry."""

    name = "bench"
    record_types = frozenset({"bench.note"})
    open_record_types: frozenset[str] = frozenset()

    def validate(self, entry: Entry) -> None:
        """Accept ``{"n": int}`` bodies."""
        if not isinstance(entry.body.get("n"), int):
            raise MalformedInputError(Code.MALFORMED, "n")

    def apply(self, state: StateReader, entry: Entry, index: int) -> StateWrites:
        """Record the last index."""
        return {"last": index}


class _PreVerified(Entry):
    """Entries whose signature was checked beforehand, to time the append path alone."""

    def verify_signature(self):  # type: ignore[no-untyped-def]
        return None


def _entries(key: PrivateKey, count: int, start: int = 0) -> list[Entry]:
    return [sign_entry("bench.note", {"n": start + i}, key, time=NOW) for i in range(count)]


def _pre_verified(entries: list[Entry]) -> list[Entry]:
    # As they arrive over the wire: parsed from their bytes, which the entry keeps.
    return [_PreVerified.from_bytes(e.to_bytes()) for e in entries]


def _new_ledger(folder: Path, name: str, key: PrivateKey) -> Ledger:
    ledger = Ledger(
        SQLiteStore(folder / name),
        apps=[*default_apps(), NoteApp()],
        clock=FixedClock(datetime.fromtimestamp(NOW + 10, UTC)),
    )
    ledger.genesis(
        origin="bench.seoul.example",
        operator=key,
        grants={signer_did(key.public_key): ["bench.note"]},
    )
    return ledger


class _RawFloor:
    """Raw inserts of the same bytes and hash rows, same durability, no ledger logic."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode = WAL")
        self.conn.execute("PRAGMA synchronous = FULL")
        self.conn.execute(
            "CREATE TABLE e (idx INTEGER PRIMARY KEY, entry BLOB, digest BLOB UNIQUE, t TEXT)"
        )
        self.conn.execute("CREATE TABLE h (idx INTEGER PRIMARY KEY, hash BLOB)")
        self.conn.execute("CREATE TABLE s (app TEXT, key TEXT, value BLOB, PRIMARY KEY (app, key))")
        self.size = 0
        self.hash_rows = 0

    def append(self, rows: list[tuple[bytes, bytes]]) -> None:
        """Insert ``(entry bytes, digest)`` rows in one durable transaction."""
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        for data, digest in rows:
            i = self.size
            conn.execute("INSERT INTO e VALUES (?, ?, ?, ?)", (i, data, digest, "bench.note"))
            # 1 + trailing ones of i hash rows, as the ledger writes.
            for _ in range(1 + ((i ^ (i + 1)).bit_length() - 1)):
                conn.execute("INSERT INTO h VALUES (?, ?)", (self.hash_rows, digest))
                self.hash_rows += 1
            conn.execute(
                "INSERT INTO s VALUES ('bench', 'last', ?) "
                "ON CONFLICT (app, key) DO UPDATE SET value = excluded.value",
                (str(i).encode(),),
            )
            self.size += 1
        conn.execute("COMMIT")


def bench_appends(
    folder: Path, key: PrivateKey, count: int, batch: int, rounds: int = 10
) -> dict[str, float]:
    """Durable appends per second, single and batched, beside the raw floor.

    The ledger and the raw floor take turns over ``rounds`` slices of the same entries, so
    both see the same disk: fsync latency on a shared machine drifts over seconds.
    """
    entries = _entries(key, count)
    out: dict[str, float] = {}
    for label, size in (("single", 1), ("batched", batch)):
        ledger = _new_ledger(folder, f"{label}.db", key)
        raw = _RawFloor(folder / f"raw-{label}.db")
        todo = _pre_verified(entries)
        rows = [(e.to_bytes(), e.digest()) for e in entries]
        ledger_s = raw_s = 0.0
        step = max(size, count // rounds // size * size)
        for lo in range(0, count, step):
            hi = min(count, lo + step)
            t0 = time.perf_counter()
            for start in range(lo, hi, size):
                if size == 1:
                    ledger.append(todo[start])
                else:
                    ledger.append_many(todo[start : min(hi, start + size)])
            t1 = time.perf_counter()
            for start in range(lo, hi, size):
                raw.append(rows[start : min(hi, start + size)])
            t2 = time.perf_counter()
            ledger_s += t1 - t0
            raw_s += t2 - t1
        ledger.close()
        raw.conn.close()
        out[f"append_{label}_per_s"] = count / ledger_s
        out[f"raw_{label}_per_s"] = count / raw_s
        out[f"ratio_{label}"] = raw_s / ledger_s
    sample = entries[: min(500, count)]
    t0 = time.perf_counter()
    for e in sample:
        e.verify_signature()
    out["signature_verify_per_s"] = len(sample) / (time.perf_counter() - t0)
    return out


def bench_proofs(folder: Path, size: int) -> dict[str, float]:
    """Inclusion proof generation and verification at ``size`` entries."""
    store = SQLiteStore(folder / "proofs.db")
    t0 = time.perf_counter()
    memory: list[tlog.Hash] = []

    class Reader:
        def read_hashes(self, indexes):  # type: ignore[no-untyped-def]
            return [memory[i] for i in indexes]

    reader = Reader()
    for n in range(size):
        memory.extend(tlog.stored_hashes_for_record(n, tlog.leaf_hash(n.to_bytes(8)), reader))
    with store.write() as tx:
        tx.add_hashes(0, memory)
    build = time.perf_counter() - t0
    del memory[:]
    with store.read() as tx:
        root = tlog.tree_hash(size, tx)
    gen_times, check_times = [], []
    step = max(1, size // 997)
    for index in range(0, size, step):
        t0 = time.perf_counter()
        with store.read() as tx:
            proof = tlog.prove_inclusion(size, index, tx)
        gen_times.append(time.perf_counter() - t0)
        leaf = tlog.leaf_hash(index.to_bytes(8))
        t0 = time.perf_counter()
        tlog.check_inclusion(proof, size, root, index, leaf)
        check_times.append(time.perf_counter() - t0)
    store.close()
    return {
        "proof_tree_size": float(size),
        "proof_tree_build_s": build,
        "prove_inclusion_median_us": statistics.median(gen_times) * 1e6,
        "check_inclusion_median_us": statistics.median(check_times) * 1e6,
    }


def bench_audit(folder: Path, key: PrivateKey, count: int) -> dict[str, float]:
    """Audit throughput over a ledger of ``count`` entries."""
    ledger = _new_ledger(folder, "audit.db", key)
    entries = _pre_verified(_entries(key, count))
    for start in range(0, count, 500):
        ledger.append_many(entries[start : start + 500])
    out = {}
    for label, verify in (("with_signatures", True), ("hashes_only", False)):
        t0 = time.perf_counter()
        report = ledger.audit(verify_signatures=verify)
        out[f"audit_{label}_entries_per_s"] = report.size / (time.perf_counter() - t0)
    ledger.close()
    return out


def main() -> None:
    """Run all ledger benchmarks and print a table (or JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--appends", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--proof-size", type=int, default=1_000_000)
    parser.add_argument("--audit-size", type=int, default=20_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    key = PrivateKey.generate()
    with tempfile.TemporaryDirectory(prefix="seoul-vc-bench-") as tmp:
        folder = Path(tmp)
        result = {
            **bench_appends(folder, key, args.appends, args.batch),
            **bench_proofs(folder, args.proof_size),
            **bench_audit(folder, key, args.audit_size),
        }
    report = {
        "machine": f"{platform.machine()} {platform.node()}",
        "python": platform.python_version(),
        "results": result,
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"Ledger benchmark, Python {report['python']}, SQLite WAL synchronous=FULL")
    for name, value in result.items():
        print(f"  {name:<40} {value:>14.2f}")


if __name__ == "__main__":
    main()
