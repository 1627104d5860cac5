"""Mileage benchmark: operations per second over many accounts, beside raw appends.

Usage: ``python benchmarks/bench_mileage.py [--accounts 100000] [--ops 20000] [--batch 500]
[--raw 2000] [--db URL]``

On a fresh SQLite file in a temporary folder (WAL, synchronous=FULL), or the store ``--db``
names:

1. setup: the five programmes (eco 1:1, car-free 1:1, etax 1:1, health 10:1, homepage 1:1),
   four merchants (transit, voucher, donation, local tax), ``--accounts`` account keys;
2. seeding: one accrual to every account, ``--batch`` per transaction (group commit);
3. ``--ops`` operations over random accounts through :class:`MileageAccounts`, one durable
   transaction each: 25% accruals, 25% conversions, 30% spends, 20% transfers (spends and
   transfers from accounts that converted; refusals for a low balance still count), with
   per-kind rates, then 10% of them retried with the same idempotency key (each must come
   back a duplicate);
4. settlement of every merchant, and balance reads;
5. the ledger's raw append rate, on the same ledger in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import tempfile
import time
from collections import Counter
from collections.abc import Callable

from _civic import NoteApp, raw_append_rates
from seoul_vc import Ledger, PrivateKey, SeoulVCError
from seoul_vc.ledger.apps import default_apps
from seoul_vc.ledger.entry import sign_entry, signer_did
from seoul_vc.mileage import PROGRAMMES, MileageAccounts, MileageReceipt

MERCHANTS = {"tmoney": "transit", "gift": "voucher", "unicef": "donation", "etax": "local_tax"}


def run(url: str, accounts_n: int, ops: int, batch: int, raw: int) -> dict[str, float]:
    rng = random.Random(11)
    office = PrivateKey.generate()
    authorities = {name: PrivateKey.generate() for name in PROGRAMMES}
    ledger = Ledger.open(url, apps=[*default_apps(), NoteApp()])
    ledger.genesis(
        origin="bench.mileage.seoul.example",
        operator=office,
        grants={
            signer_did(office.public_key): ["mileage.programme", "mileage.merchant",
                                            "mileage.settle"],
            **{signer_did(k.public_key): ["mileage.accrue"] for k in authorities.values()},
        },
    )  # fmt: skip
    book = MileageAccounts(ledger)
    for name, key in authorities.items():
        points = 10 if name == "health" else 1
        book.register_programme(office, name, authority=signer_did(key.public_key), points=points)
    for merchant, kind in MERCHANTS.items():
        book.register_merchant(office, merchant, kind=kind)
    out: dict[str, float] = {"accounts": float(accounts_n), "ops": float(ops)}

    t0 = time.perf_counter()
    keys = [PrivateKey.generate() for _ in range(accounts_n)]
    dids = [signer_did(k.public_key) for k in keys]
    stamp = int(time.time())
    eco = authorities["eco"]
    seeds = [
        sign_entry("mileage.accrue", {"programme": "eco", "account": did, "amount": 1000,
                   "key": f"seed-{n}"}, eco, time=stamp)
        for n, did in enumerate(dids)
    ]  # fmt: skip
    out["setup_keys_and_entries_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    for start in range(0, accounts_n, batch):
        ledger.append_many(seeds[start : start + batch])
    out[f"seed_accrue_batch{batch}_per_s"] = accounts_n / (time.perf_counter() - t0)

    kinds: Counter[str] = Counter()
    seconds: Counter[str] = Counter()
    refused: Counter[str] = Counter()
    done: list[tuple[str, Callable[[], MileageReceipt]]] = []
    funded: list[int] = []
    t_all = time.perf_counter()
    for n in range(ops):
        a = rng.randrange(accounts_n)
        roll = rng.random()
        key = f"op-{n}"
        if roll < 0.25:
            kind, args = "accrue", (eco, "eco", dids[a], rng.randint(1, 100), key)
            call = lambda args=args: book.accrue(  # noqa: E731
                args[0], programme=args[1], account=args[2], amount=args[3],
                idempotency_key=args[4],
            )  # fmt: skip
        elif roll < 0.5:
            kind, args = "convert", (keys[a], rng.randint(1, 300), key)
            call = lambda args=args: book.convert(  # noqa: E731
                args[0], programme="eco", points=args[1], idempotency_key=args[2]
            )
        elif roll < 0.8:
            # Spends and transfers come from accounts that converted points (as in life:
            # people spend S-Coin they have), so refusals stay rare.
            a = rng.choice(funded) if funded else a
            merchant = rng.choice(list(MERCHANTS))
            kind, args = "spend", (keys[a], merchant, rng.randint(1, 50), key)
            call = lambda args=args: book.spend(  # noqa: E731
                args[0], merchant=args[1], amount=args[2], idempotency_key=args[3]
            )
        else:
            a = rng.choice(funded) if funded else a
            b = (a + 1 + rng.randrange(accounts_n - 1)) % accounts_n
            kind, args = "transfer", (keys[a], dids[b], rng.randint(1, 50), key)
            call = lambda args=args: book.transfer(  # noqa: E731
                args[0], to=args[1], amount=args[2], idempotency_key=args[3]
            )
        t0 = time.perf_counter()
        try:
            call()
            done.append((kind, call))
            if kind == "convert":
                funded.append(a)
        except SeoulVCError as exc:
            refused[str(exc.code)] += 1
        seconds[kind] += time.perf_counter() - t0
        kinds[kind] += 1
    out["mixed_ops_per_s"] = ops / (time.perf_counter() - t_all)
    for kind in ("accrue", "convert", "spend", "transfer"):
        if kinds[kind]:
            out[f"{kind}_per_s"] = kinds[kind] / seconds[kind]
    out["refused_insufficient_balance"] = float(refused["insufficient_balance"])

    # Every tenth applied operation again, re-signed with the same idempotency key.
    retries = done[:: max(1, len(done) // max(1, ops // 10))][: ops // 10]
    t0 = time.perf_counter()
    for kind, again in retries:
        assert again().duplicate, kind
    if retries:
        out["retries_per_s"] = len(retries) / (time.perf_counter() - t0)

    t0 = time.perf_counter()
    settled = sum(
        book.settle(office, merchant=m, period="p1", idempotency_key=f"settle-{m}").amount
        for m in MERCHANTS
    )
    out["settle_all_merchants_ms"] = (time.perf_counter() - t0) * 1000
    assert settled == sum(book.merchant(m).spent for m in MERCHANTS)
    sample = [dids[rng.randrange(accounts_n)] for _ in range(min(2000, accounts_n))]
    t0 = time.perf_counter()
    for did in sample:
        assert book.balance(did).coins >= 0
    out["balance_reads_per_s"] = len(sample) / (time.perf_counter() - t0)
    out["log_size"] = float(ledger.size)
    out.update(raw_append_rates(ledger, raw, batch, int(time.time())))
    ledger.close()
    return out


def main() -> None:
    """Run the benchmark and print its figures (or JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--ops", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--raw", type=int, default=2000, help="raw appends to time")
    parser.add_argument("--db", help="a ledger URL (default: a temporary SQLite file)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="seoul-vc-bench-") as tmp:
        url = args.db or "sqlite:" + os.path.join(tmp, "mileage.db")
        result = run(url, args.accounts, args.ops, args.batch, args.raw)
    if args.json:
        print(json.dumps({"python": platform.python_version(), "results": result}, indent=2))
        return
    store = "PostgreSQL" if args.db and args.db.startswith("postgres") else "SQLite WAL FULL"
    print(f"Mileage benchmark, Python {platform.python_version()}, {store}")
    for name, value in result.items():
        print(f"  {name:<40} {value:>14.2f}")


if __name__ == "__main__":
    main()
