"""Voting benchmark: registrations and ballots per second for one poll, beside raw appends.

Usage: ``python benchmarks/bench_voting.py [--voters 100000] [--batch 100] [--raw 2000]
[--db URL]``

On a fresh SQLite file in a temporary folder (WAL, synchronous=FULL), or the store ``--db``
names (an empty PostgreSQL schema, e.g. ``postgresql://.../test?schema=bench_vote``):

1. setup, untimed: genesis, a poll (``ageOver14`` required), one residency credential
   (SD-JWT VC, Ed25519 holder key) per voter;
2. registrations: per voter, a fresh voter key, the registrar's challenge, the wallet's
   presentation (3 disclosures and a KB-JWT) and :meth:`Registrar.register` — presentation
   verification, nullifier, one durable append. Reported end to end and registrar-only;
3. ballots: one :func:`cast` (one durable append) per voter; and with ``--batch``, the same
   number of ballots of a second poll appended ``--batch`` per transaction;
4. the live tally (state) against the recount from the whole log;
5. the ledger's raw append rate, on the same ledger in the same run: trivial signed entries,
   one per transaction and ``--batch`` per transaction.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta

from _civic import NoteApp, raw_append_rates
from seoul_vc import Issuer, Ledger, Limits, PrivateKey, TrustRegistry, Verifier, present
from seoul_vc.credentials.schemas import example_subject
from seoul_vc.ledger.apps import default_apps
from seoul_vc.ledger.entry import sign_entry, signer_did
from seoul_vc.voting import (
    Registrar,
    cast,
    open_poll,
    recount,
    sign_ballot,
    tally,
)

DISCLOSE = ["ageOver14", "personPseudonym"]


def run(url: str, voters: int, batch: int, raw: int) -> dict[str, float]:
    operator, proposer, registrar_key = (PrivateKey.generate() for _ in range(3))
    ministry = Issuer(PrivateKey.generate())
    ledger = Ledger.open(url, apps=[*default_apps(), NoteApp()])
    ledger.genesis(
        origin="bench.vote.seoul.example",
        operator=operator,
        grants={
            signer_did(proposer.public_key): ["voting.open"],
            signer_did(registrar_key.public_key): ["voting.register"],
        },
    )
    now = datetime.now(UTC)
    for poll_id in ("main", "batched"):
        open_poll(
            ledger, proposer, poll_id=poll_id, question="Bench?", options=["a", "b", "c"],
            opens_at=now - timedelta(minutes=1), closes_at=now + timedelta(days=1),
            rule={"claim": "ageOver14", "equals": True},
            registrar=signer_did(registrar_key.public_key),
        )  # fmt: skip
    trust = TrustRegistry.from_json({"issuers": [{"id": ministry.did, "types": [
        "ResidencyCredential"]}]})  # fmt: skip
    verifier = Verifier(trust=trust, limits=Limits(max_nonces=max(100_000, voters + 10)))
    registrar = Registrar(registrar_key, nullifier_secret=os.urandom(32), verifier=verifier)
    out: dict[str, float] = {"voters": float(voters)}

    t0 = time.perf_counter()
    subject = example_subject("residency")
    wallets = [PrivateKey.generate() for _ in range(voters)]
    credentials = []
    for n, wallet in enumerate(wallets):
        subject["personPseudonym"] = f"{n:042d}A"
        credentials.append(ministry.issue("ResidencyCredential", subject, holder=wallet.public_key))
    out["setup_credentials_s"] = time.perf_counter() - t0

    voter_keys: list[PrivateKey] = []
    registrar_s = 0.0
    t0 = time.perf_counter()
    for wallet, token in zip(wallets, credentials, strict=True):
        voter = PrivateKey.generate()
        voter_did = signer_did(voter.public_key)
        challenge = registrar.challenge("main", voter_did)
        shown = present(token, wallet, disclose=DISCLOSE, aud=challenge.aud, nonce=challenge.nonce)
        r0 = time.perf_counter()
        registrar.register(ledger, "main", shown, voter=voter_did, nonce=challenge.nonce)
        registrar_s += time.perf_counter() - r0
        voter_keys.append(voter)
    total = time.perf_counter() - t0
    out["registrations_end_to_end_per_s"] = voters / total
    out["registrations_registrar_per_s"] = voters / registrar_s

    rng = random.Random(7)
    t0 = time.perf_counter()
    for voter in voter_keys:
        cast(ledger, voter, "main", rng.randrange(3))
    out["ballots_single_per_s"] = voters / (time.perf_counter() - t0)

    if batch > 1:
        # The same voter keys on a second poll's roll, registered directly in batches (the
        # registrar's verification was timed above), then ballots batched.
        stamp = int(time.time())
        rows = [
            sign_entry("voting.register", {"poll": "batched", "nullifier": f"{n:064x}",
                       "voter": signer_did(k.public_key)}, registrar_key, time=stamp)
            for n, k in enumerate(voter_keys)
        ]  # fmt: skip
        t0 = time.perf_counter()
        for start in range(0, voters, batch):
            ledger.append_many(rows[start : start + batch])
        out[f"registrations_append_batch{batch}_per_s"] = voters / (time.perf_counter() - t0)
        ballots = [sign_ballot(k, "batched", rng.randrange(3), time=stamp) for k in voter_keys]
        t0 = time.perf_counter()
        for start in range(0, voters, batch):
            ledger.append_many(ballots[start : start + batch])
        out[f"ballots_batch{batch}_per_s"] = voters / (time.perf_counter() - t0)

    t0 = time.perf_counter()
    live = tally(ledger, "main")
    out["tally_live_ms"] = (time.perf_counter() - t0) * 1000
    t0 = time.perf_counter()
    counted = recount(ledger, "main")
    out["recount_s"] = time.perf_counter() - t0
    out["log_size"] = float(ledger.size)
    assert counted == live, (counted, live)
    assert live.ballots == voters
    out.update(raw_append_rates(ledger, raw, max(batch, 2), int(time.time())))
    ledger.close()
    return out


def main() -> None:
    """Run the benchmark and print its figures (or JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voters", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--raw", type=int, default=2000, help="raw appends to time")
    parser.add_argument("--db", help="a ledger URL (default: a temporary SQLite file)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="seoul-vc-bench-") as tmp:
        url = args.db or "sqlite:" + os.path.join(tmp, "vote.db")
        result = run(url, args.voters, args.batch, args.raw)
    if args.json:
        print(json.dumps({"python": platform.python_version(), "results": result}, indent=2))
        return
    store = "PostgreSQL" if args.db and args.db.startswith("postgres") else "SQLite WAL FULL"
    print(f"Voting benchmark, Python {platform.python_version()}, {store}")
    for name, value in result.items():
        print(f"  {name:<40} {value:>14.2f}")


if __name__ == "__main__":
    main()
