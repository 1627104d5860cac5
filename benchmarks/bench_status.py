"""Status list benchmarks: a city-scale registry, and status checks warm and cold.

Usage: ``python benchmarks/bench_status.py [--entries 1048576] [--format dc+sd-jwt]
[--revoke 0.10] [--warm 200000] [--cold 50]``

Measures, on fresh SQLite files in a temporary folder:
- allocating ``--entries`` random indexes (lists of 131,072 entries, so 8 lists by default),
  in one batch;
- revoking ``--revoke`` of them at random (one transaction);
- publishing every list: signing, recording, and anchoring each version on a ledger (one
  ``status.publish`` entry, a checkpoint and a proof bundle per list);
- checking one credential's status from a warm cache (the decoded list is cached: a dict
  lookup, an expiry test and a bit read), goal under 20 us;
- cold checks: fetch over loopback HTTPS (the test suite's throwaway CA) + JWS verification
  + bounded inflation, plain and in anchored mode (plus the ledger proof), and from a folder.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import platform
import secrets
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from seoul_vc._net import GuardedFetcher
from seoul_vc.clock import FixedClock
from seoul_vc.credentials import Issuer
from seoul_vc.keys import PrivateKey
from seoul_vc.ledger.anchor import LedgerAnchor, LedgerAnchorCheck
from seoul_vc.ledger.checkpoint import WitnessPolicy
from seoul_vc.ledger.entry import signer_did
from seoul_vc.ledger.log import Ledger
from seoul_vc.ledger.note import NoteSigner
from seoul_vc.status import (
    DirectorySource,
    HTTPSSource,
    StatusChecker,
    StatusRegistry,
    StatusType,
)

ORIGIN = "ledger.seoul.example/bench"


def _loopback_server(tmp: Path):  # type: ignore[no-untyped-def]
    """The test suite's HTTPS server and CA (tests/https_server.py), reused here."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    import https_server

    ca = https_server._make_ca(tmp)
    runner = https_server._run(ca.server_context())
    return ca, runner, next(runner)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_048_576)
    parser.add_argument("--format", default="dc+sd-jwt", choices=["dc+sd-jwt", "vc+jwt"])
    parser.add_argument("--revoke", type=float, default=0.10)
    parser.add_argument("--warm", type=int, default=200_000)
    parser.add_argument("--cold", type=int, default=50)
    parser.add_argument("--json", action="store_true", help="print one JSON object to stdout")
    args = parser.parse_args()
    out: dict[str, object] = {"entries": args.entries, "format": args.format}
    # With --json the human lines go to stderr and stdout carries only the figures.
    stream = sys.stderr if args.json else sys.stdout

    def say(line: str) -> None:
        print(line, file=stream)

    say(f"python {platform.python_version()} on {platform.machine()}, format {args.format}")

    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        clock = FixedClock(datetime.now(UTC).replace(microsecond=0))
        agency = PrivateKey.generate()
        issuer = Issuer(agency, clock=clock)
        ledger = Ledger.open(f"sqlite:{tmp / 'ledger.db'}", clock=clock)
        ledger.genesis(
            origin=ORIGIN,
            operator=PrivateKey.generate(),
            grants={signer_did(agency.public_key): ["status.publish"]},
        )
        log = NoteSigner(ORIGIN, PrivateKey.generate())
        anchor = LedgerAnchor(ledger, agency, log=log, clock=clock)
        ca, runner, server = _loopback_server(tmp)
        base = f"https://localhost:{server.port}/lists"
        registry = StatusRegistry(
            f"sqlite:{tmp / 'status.db'}", issuer=issuer, base_url=base, anchor=anchor
        )

        start = time.perf_counter()
        slots = registry.allocate_many(args.format, args.entries)
        took = time.perf_counter() - start
        lists = len({s.list_id for s in slots})
        out["allocate_per_s"] = args.entries / took
        out["lists"] = lists
        say(
            f"allocate   {args.entries:>9,} random indexes in {lists} lists: {took:7.2f} s "
            f"({args.entries / took:,.0f}/s)"
        )

        count = int(args.entries * args.revoke)
        chosen = secrets.SystemRandom().sample(slots, count)
        start = time.perf_counter()
        registry.change_many(chosen, StatusType.INVALID)
        took = time.perf_counter() - start
        out["revoke_seconds"] = took
        say(f"revoke     {count:>9,} at random (one transaction):   {took:7.2f} s")

        start = time.perf_counter()
        published = registry.publish()
        took = time.perf_counter() - start
        sizes = [len(p.token) for p in published]
        out["publish_seconds"] = took
        out["list_token_bytes_max"] = max(sizes)
        say(
            f"publish    {len(published)} signed + anchored lists:          {took:7.2f} s "
            f"(token {min(sizes):,}-{max(sizes):,} bytes, ledger size {ledger.size})"
        )
        registry.write_to(tmp / "www", published)
        for item in published:
            path = item.uri.split(f":{server.port}", 1)[1]
            server.serve(path, 200, item.token.encode(), Content_Type=item.media_type)

        revoked = set(chosen)
        probe = next(s for s in slots if s not in revoked)
        claim = probe.status_claim()
        did = issuer.did

        checker = StatusChecker(source=DirectorySource(tmp / "www", base_url=base), clock=clock)
        checker.check(claim, issuer=did)
        start = time.perf_counter()
        for _ in range(args.warm):
            checker.check(claim, issuer=did)
        warm = (time.perf_counter() - start) / args.warm * 1e6
        out["check_warm_us"] = warm
        say(f"check warm (cached decoded list):   {warm:8.2f} us/check  (goal < 20 us)")

        def cold(make: object, label: str) -> None:
            times = []
            for _ in range(args.cold):
                fresh = make()  # type: ignore[operator]
                t0 = time.perf_counter()
                fresh.check(claim, issuer=did)
                times.append(time.perf_counter() - t0)
            med = statistics.median(times) * 1e3
            out[f"check_cold_{label.strip('():').replace(' ', '_').replace(',', '')}_ms"] = med
            say(f"check cold {label:<24} {med:8.2f} ms/check (median of {args.cold})")

        fetcher = GuardedFetcher(
            timeout=timedelta(seconds=5),
            max_redirects=1,
            ssl_context=ca.client_context(),
            unsafe_allow_private_addresses=True,
        )
        policy = WitnessPolicy.unwitnessed()
        anchored = LedgerAnchorCheck(
            ledger,
            origin=ORIGIN,
            log_key=log.verifier,
            witnesses=policy,
            checkpoint=lambda: anchor.latest_checkpoint,
        )
        source = DirectorySource(tmp / "www", base_url=base)
        cold(lambda: StatusChecker(source=source, clock=clock), "(folder):")
        https = HTTPSSource(fetcher)
        cold(lambda: StatusChecker(source=https, clock=clock), "(loopback HTTPS):")
        cold(
            lambda: StatusChecker(source=https, anchor=anchored, clock=clock),
            "(HTTPS, anchored):",
        )
        fetcher.close()
        registry.close()
        ledger.close()
        with contextlib.suppress(StopIteration):
            next(runner)
    if args.json:
        print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
