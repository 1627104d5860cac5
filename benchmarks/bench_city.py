"""City-scale scenario (issue 8): status, consented views, a poll and mileage at Seoul's size.

Usage: ``python benchmarks/bench_city.py [--scale 1.0] [--only STAGE ...] [--workers 1]
[--tracemalloc] [--json [PATH]] [--tmp DIR] [--profile DIR]``

Four stages, each in a fresh process (``multiprocessing``, ``spawn``), so that each stage's
peak RSS is its own and no stage's caches flatter the next. Every count is multiplied by
``--scale`` (``--scale 0.01`` is a smoke run of well under a minute). On fresh SQLite files
(WAL, ``synchronous=FULL``) in a temporary folder:

1. **status** — 1,000,000 credentials' status entries allocated (IETF Token Status Lists for
   ``dc+sd-jwt``, the registry's herd-privacy minimum of 131,072 entries a list, so 8 lists)
   in issuance batches of 10,000; 10% revoked at random in one transaction; every list
   signed, published to a folder and anchored on a ledger (``status.publish``, a checkpoint
   and a proof bundle per list); the revoked bits counted back from the published tokens;
   100,000 random status checks from a verifier's warm cache (each compared with the
   registry's truth) and a few cold checks (fetch, JWS verification, inflation; plain and
   anchored).
2. **consent** — 1,000 citizens' wallets, each with a residency credential (with status)
   and two consents (housing, welfare agencies) of 50 views: 100,000 consented views, each
   a real :meth:`WalletService.view` (signed request verified, status checked, ``consent.view``
   appended, presentation built, receipt against a fresh checkpoint, history written), then
   one more attempt per consent (refused ``consent_exhausted``), and 1% more wallets whose
   credential was revoked after the grant (refused ``revoked``). Refusals are appended too.
   One view in a hundred consents is verified by the agency (presentation and receipt).
   Then one more consent's views run under cProfile (not counted): the report lists the
   share of ``WalletService.view`` each part takes, and the functions hottest on their own.
3. **poll** — 100,000 residency credentials issued (setup), 100,000 voters registered
   through the registrar (presentation verified, nullifier appended), 0.1% refused second
   registrations (``nullifier_used``), 100,000 ballots and 1% refused double votes
   (``already_voted``), the live tally, the close, and an independent recount from the log.
4. **mileage** — 100,000 accounts x 10 operations (accrue, convert at 1:1 and 10:1, spend at
   four merchants, transfer), one durable transaction each, in rounds over every account;
   1% of one round's spends retried with the same idempotency key (must be duplicates);
   every merchant settled after rounds 5, 8 and 10; then S-Coin conservation: coins minted
   by conversions == balances of every account + spent at merchants; settled + pending ==
   spent.

Each stage also measures the ledger's raw append floor on its own ledger in the same run
(trivial signed entries, :func:`_civic.raw_append_rates`) for the ratio of its rate to it.

``--workers N`` runs the consent, poll and mileage work in N processes over the same SQLite
files (WAL; the ledger serialises writers, checks run inside the append transaction), each
owning a fixed share of the citizens; the default, 1, measures one process. ``--tracemalloc``
also records Python's peak allocations per step; it slows allocation-heavy code three- to
five-fold, so its timings are marked traced and are not for quoting. Peak RSS is each stage
process's high-water mark (``ru_maxrss``), plus the largest worker's with ``--workers``.

``--profile DIR`` profiles each whole stage process (``DIR/<stage>.prof``, top functions on
stderr); its timings are not for quoting either.

Output: a markdown table (stage, step, count, seconds, rate, peak Python MB, peak RSS MB) on
stdout, or with ``--json`` the JSON report on stdout (``--json PATH`` writes it to PATH and
keeps the table). Exits 1 if a stage fails or an invariant does not hold.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import math
import multiprocessing
import multiprocessing.connection
import pstats
import random
import resource
import secrets
import statistics
import sys
import tempfile
import time
import traceback
import tracemalloc
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from _civic import NoteApp, raw_append_rates
from run_all import machine
from seoul_vc import (
    Issuer,
    Ledger,
    Limits,
    PrivateKey,
    SeoulVCError,
    TrustRegistry,
    Verifier,
    present,
)
from seoul_vc.credentials.issuer import did_of
from seoul_vc.credentials.schemas import example_subject
from seoul_vc.credentials.types import credential_type
from seoul_vc.errors import Code
from seoul_vc.jose import parse_compact
from seoul_vc.ledger.anchor import LedgerAnchor, LedgerAnchorCheck
from seoul_vc.ledger.apps import default_apps
from seoul_vc.ledger.apps.mileage import coins_key
from seoul_vc.ledger.checkpoint import WitnessPolicy
from seoul_vc.ledger.entry import signer_did
from seoul_vc.ledger.note import NoteSigner
from seoul_vc.mileage import MileageAccounts
from seoul_vc.status import DirectorySource, StatusChecker, StatusRegistry, StatusType
from seoul_vc.status.token_list import decode_status_list, status_at
from seoul_vc.voting import Registrar, cast, close, open_poll, recount, tally
from seoul_vc.wallet import (
    CredentialQuery,
    LocalMasterKey,
    ScryptParams,
    WalletService,
    check_consented_presentation,
    create_request,
)
from seoul_vc.wallet.request import CLIENT_ID_PREFIX

STAGES = ("status", "consent", "poll", "mileage")
ORIGIN = "ledger.seoul.example/city"
BASE = "https://status.seoul.example/lists"
PIN = "482913"
SEED = 2026
MB = 1024 * 1024
#: Status entries allocated per transaction: an issuance batch.
ALLOCATE_BATCH = 10_000
#: Cold status checks per mode.
COLD_CHECKS = 5
#: Consents per citizen, and each consent's view budget.
AGENCIES = ("housing", "welfare")
BUDGET = 50
#: One consent in this many has one view verified by its agency.
VERIFY_EVERY = 100
#: Views of one more consent run under cProfile, after the timed ones, to show where a
#: view's time goes (most: one per hundred view attempts, at least 20).
PROFILED_VIEWS = 300
#: Poll: one voter in this many tries a second registration; one in this many votes twice.
DOUBLE_REGISTER_EVERY = 1000
DOUBLE_VOTE_EVERY = 100
#: Mileage: one account in this many retries its round-5 spend with the same key.
RETRY_EVERY = 100
MERCHANTS = {"tmoney": "transit", "gift": "voucher", "unicef": "donation", "etax": "local_tax"}
#: Programme -> (points, coins): the conversion rate.
PROGRAMMES = {"eco": (1, 1), "health": (10, 1), "carfree": (1, 1)}
#: Settle every merchant after these rounds.
SETTLE_AFTER = (5, 8, 10)
DISCLOSE = ["ageOver14", "personPseudonym"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Sizes:
    """Every count of the scenario at one scale."""

    credentials: int
    checks: int
    wallets: int
    voters: int
    accounts: int

    @classmethod
    def at(cls, scale: float) -> Sizes:
        """Scale the full city: 1,000,000 credentials, 1,000 wallets, 100,000 voters..."""

        def n(full: int, low: int) -> int:
            return max(low, round(full * scale))

        return cls(
            credentials=n(1_000_000, 100),
            checks=n(100_000, 100),
            wallets=n(1_000, 1),
            voters=n(100_000, 10),
            accounts=n(100_000, 10),
        )


# -- measuring ------------------------------------------------------------------------------


def _rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    """The RSS high-water mark (Linux reports KiB)."""
    return resource.getrusage(who).ru_maxrss / 1024


class Recorder:
    """Times a stage's steps; records Python's peak (traced) and the RSS high-water mark."""

    def __init__(self, *, trace: bool) -> None:
        self.trace = trace
        self.steps: list[dict[str, Any]] = []
        self.figures: dict[str, float] = {}
        self.invariants: dict[str, dict[str, Any]] = {}
        self.baseline_rss_mb = _rss_mb()
        self.python_peak_mb = 0.0
        self.workers: list[dict[str, float]] = []
        self.profile: dict[str, Any] | None = None
        if trace:
            tracemalloc.start()

    @contextmanager
    def step(self, name: str, count: int = 0) -> Iterator[dict[str, Any]]:
        """Time the block; the block may set ``step["count"]`` once it knows it."""
        if self.trace:
            self.python_peak_mb = max(self.python_peak_mb, tracemalloc.get_traced_memory()[1] / MB)
            tracemalloc.reset_peak()
        record: dict[str, Any] = {"name": name, "count": count}
        started = time.perf_counter()
        yield record
        seconds = time.perf_counter() - started
        record["seconds"] = seconds
        record["rate"] = record["count"] / seconds if record["count"] and seconds > 0 else None
        if self.trace:
            peak = tracemalloc.get_traced_memory()[1] / MB
            record["peak_python_mb"] = peak
            self.python_peak_mb = max(self.python_peak_mb, peak)
        else:
            record["peak_python_mb"] = None
        record["rss_mb"] = _rss_mb()
        self.steps.append(record)
        print(f"  {name}: {record['count']:,} in {seconds:.2f} s", file=sys.stderr, flush=True)

    def check(self, name: str, expected: object, actual: object) -> None:
        """Record an invariant: ``actual`` must equal ``expected``."""
        self.invariants[name] = {"ok": expected == actual, "expected": expected, "actual": actual}

    def result(self, *, unit: str, count: int, seconds: float) -> dict[str, Any]:
        """The stage's JSON: headline figures, steps, figures, invariants, memory."""
        workers_rss = max((w["rss_mb"] for w in self.workers), default=None)
        worker_python = [w["peak_python_mb"] for w in self.workers if w.get("peak_python_mb")]
        return {
            "unit": unit,
            "count": count,
            "seconds": seconds,
            "rate": count / seconds if seconds > 0 else None,
            "peak_python_mb": self.python_peak_mb if self.trace else None,
            "peak_rss_mb": _rss_mb(),
            "baseline_rss_mb": self.baseline_rss_mb,
            "workers": len(self.workers) or 1,
            "worker_peak_rss_mb": workers_rss,
            "worker_peak_python_mb": max(worker_python, default=None),
            "steps": self.steps,
            "figures": self.figures,
            "invariants": self.invariants,
            "profile": self.profile,
            "ok": all(i["ok"] for i in self.invariants.values()),
        }


# -- worker processes -----------------------------------------------------------------------

#: Tasks a worker can run: ``task(state, args) -> result``; ``state`` persists per worker.
TASKS: dict[str, Callable[[dict[str, Any], Any], Any]] = {}


def task(fn: Callable[[dict[str, Any], Any], Any]) -> Callable[[dict[str, Any], Any], Any]:
    """Register a worker task under its function name."""
    TASKS[fn.__name__] = fn
    return fn


def _serve(conn: multiprocessing.connection.Connection, state: dict[str, Any]) -> None:
    """A worker's loop: run tasks until told to stop, then report its memory."""
    if state["trace"]:
        tracemalloc.start()
    while True:
        message = conn.recv()
        if message is None:
            break
        name, args = message
        try:
            conn.send(("ok", TASKS[name](state, args)))
        except BaseException:  # noqa: BLE001 - reported to the stage process, which fails
            conn.send(("error", traceback.format_exc()))
    closer = state.pop("close", None)
    if closer is not None:
        closer()
    traced = tracemalloc.get_traced_memory()[1] / MB if state["trace"] else None
    conn.send({"rss_mb": _rss_mb(), "peak_python_mb": traced})
    conn.close()


class Fleet:
    """N worker processes (spawn) each owning share ``index`` of ``count``; N = 1 runs inline.

    A worker keeps its state (open ledger, keys) between tasks, so each citizen's keys and
    stores are built once, in the process that uses them.
    """

    def __init__(self, workers: int, config: dict[str, Any], recorder: Recorder) -> None:
        self._recorder = recorder
        self._states: list[dict[str, Any]] = []
        self._conns: list[multiprocessing.connection.Connection] = []
        self._procs: list[Any] = []
        shares = [{**config, "index": i, "count": workers} for i in range(workers)]
        if workers == 1:
            self._states = shares
            return
        context = multiprocessing.get_context("spawn")
        for share in shares:
            mine, theirs = context.Pipe()
            proc = context.Process(target=_serve, args=(theirs, share), daemon=False)
            proc.start()
            theirs.close()
            self._conns.append(mine)
            self._procs.append(proc)

    def run(self, name: str, args: list[Any] | None = None) -> list[Any]:
        """Run task ``name`` on every worker (``args[i]`` for worker i); return the results."""
        count = len(self._states) or len(self._conns)
        per = args if args is not None else [None] * count
        if self._states:
            return [TASKS[name](state, a) for state, a in zip(self._states, per, strict=True)]
        for conn, a in zip(self._conns, per, strict=True):
            conn.send((name, a))
        results = [conn.recv() for conn in self._conns]
        errors = [r[1] for r in results if r[0] == "error"]
        if errors:
            raise RuntimeError("a worker failed:\n" + errors[0])
        return [r[1] for r in results]

    def close(self) -> None:
        """Stop the workers and record their memory."""
        for state in self._states:
            closer = state.pop("close", None)
            if closer is not None:
                closer()
        for conn in self._conns:
            conn.send(None)
        for conn, proc in zip(self._conns, self._procs, strict=True):
            self._recorder.workers.append(conn.recv())
            proc.join()


def _share(state: dict[str, Any], n: int) -> bool:
    """Whether item ``n`` belongs to this worker."""
    return bool(n % state["count"] == state["index"])


def _ledger(url: str) -> Ledger:
    return Ledger.open(url, apps=[*default_apps(), NoteApp()])


def _add_closer(state: dict[str, Any], fn: Callable[[], None]) -> None:
    previous = state.get("close")

    def both() -> None:
        fn()
        if previous is not None:
            previous()

    state["close"] = both


def _raw_floor(rec: Recorder, ledger: Ledger, headline: str, rate: float) -> None:
    """The ledger's raw append rate on the stage's own ledger, and the stage's ratio to it."""
    with rec.step("raw append floor (trivial entries, 1 and 100 per tx)", 1000):
        raw = raw_append_rates(ledger, 500, 100, int(time.time()))
    rec.figures.update(raw)
    rec.figures[f"{headline}_over_raw_single"] = rate / raw["raw_append_single_per_s"]


# -- stage 1: status ------------------------------------------------------------------------


def stage_status(rec: Recorder, sizes: Sizes, tmp: Path, workers: int) -> dict[str, Any]:
    """Allocate, revoke 10%, publish and anchor, check warm and cold; see the docstring."""
    started = time.perf_counter()
    total, revoke = sizes.credentials, sizes.credentials // 10
    agency = PrivateKey.generate()
    issuer = Issuer(agency)
    ledger = _ledger(f"sqlite:{tmp / 'ledger.db'}")
    ledger.genesis(
        origin=ORIGIN,
        operator=PrivateKey.generate(),
        grants={signer_did(agency.public_key): ["status.publish"]},
    )
    log = NoteSigner(ORIGIN, PrivateKey.generate())
    anchor = LedgerAnchor(ledger, agency, log=log)
    registry = StatusRegistry(
        f"sqlite:{tmp / 'status.db'}", issuer=issuer, base_url=BASE, anchor=anchor
    )
    www = tmp / "www"
    minimum = Limits().min_status_list_entries

    with rec.step(f"allocate (batches of {ALLOCATE_BATCH:,})", total):
        slots = []
        for start in range(0, total, ALLOCATE_BATCH):
            slots.extend(registry.allocate_many("dc+sd-jwt", min(ALLOCATE_BATCH, total - start)))
    by_list: dict[str, list[int]] = {}
    for slot in slots:
        by_list.setdefault(slot.list_id, []).append(slot.index)
    lists = len(by_list)
    rec.check("lists_opened", math.ceil(total / minimum), lists)
    rec.check("allocations_distinct", total, sum(len(set(i)) for i in by_list.values()))
    del by_list

    rng = random.Random(SEED)
    chosen = rng.sample(slots, revoke)
    with rec.step("revoke 10% (one transaction)", revoke):
        changed = registry.change_many(chosen, StatusType.INVALID)
    rec.check("revoked_changed", revoke, changed)

    with rec.step("publish: sign + anchor every list", lists):
        published = registry.publish()
        registry.write_to(www, published)
    rec.check("lists_published_and_anchored", lists, sum(p.receipt is not None for p in published))
    rec.figures["ledger_size_after_publish"] = ledger.size
    rec.figures["token_bytes_max"] = max(len(p.token) for p in published)

    with rec.step("count revoked bits in the published lists", lists * minimum):
        counted = 0
        for item in published:
            payload = json.loads(parse_compact(item.token).payload)
            status_list = decode_status_list(payload["status_list"])
            data, bits = status_list.data, status_list.bits
            counted += sum(
                status_at(data, bits, i) == StatusType.INVALID for i in range(status_list.size)
            )
    rec.figures["revoked_fraction"] = counted / total
    rec.check("revoked_in_published_lists", revoke, counted)

    revoked = set(chosen)
    sample = [slots[rng.randrange(total)] for _ in range(sizes.checks)]
    claims = [s.status_claim() for s in sample]
    expect = [s in revoked for s in sample]
    del slots, chosen
    did = issuer.did
    checker = StatusChecker(source=DirectorySource(www, base_url=BASE))
    for item in published:  # warm the cache: one cold fetch per list
        checker.results(
            {"status_list": {"idx": 0, "uri": item.uri}},
            issuer=did,
        )
    mismatches = seen_revoked = 0
    with rec.step("status checks, warm cache", sizes.checks) as step:
        for claim, is_revoked in zip(claims, expect, strict=True):
            try:
                checker.check(claim, issuer=did)
                got = False
            except SeoulVCError as exc:
                if exc.code is not Code.REVOKED:
                    raise
                got = True
            seen_revoked += got
            mismatches += got != is_revoked
    rec.figures["check_warm_us"] = step["seconds"] / sizes.checks * 1e6
    rec.figures["checks_seen_revoked"] = seen_revoked
    rec.check("warm_check_mismatches", 0, mismatches)

    anchored = LedgerAnchorCheck(
        ledger,
        origin=ORIGIN,
        log_key=log.verifier,
        witnesses=WitnessPolicy.unwitnessed(),
        checkpoint=lambda: anchor.latest_checkpoint,
    )
    source = DirectorySource(www, base_url=BASE)
    makers: tuple[tuple[str, Callable[[], StatusChecker]], ...] = (
        ("plain", lambda: StatusChecker(source=source)),
        ("anchored", lambda: StatusChecker(source=source, anchor=anchored)),
    )
    for label, make in makers:
        times = []
        with rec.step(f"status checks, cold ({label}: read, verify JWS, inflate)", COLD_CHECKS):
            for n in range(COLD_CHECKS):
                fresh = make()
                t0 = time.perf_counter()
                try:
                    fresh.check(claims[n], issuer=did)
                except SeoulVCError as exc:
                    if exc.code is not Code.REVOKED:
                        raise
                times.append(time.perf_counter() - t0)
        rec.figures[f"check_cold_{label}_ms"] = statistics.median(times) * 1000
    registry.close()
    ledger.close()
    return rec.result(unit="credentials", count=total, seconds=time.perf_counter() - started)


# -- stage 2: consented views ---------------------------------------------------------------


def _query(agency: str) -> CredentialQuery:
    claims = (("address", "district"), ("ageOver19",)) if agency == "housing" else (("ageOver19",),)
    vct = credential_type("ResidencyCredential").vct
    return CredentialQuery(id="residency", vct_values=(vct,), claims=claims)


def _request(key: PrivateKey, agency: str, nonce: str) -> str:
    return create_request(
        key,
        nonce=nonce,
        purpose=f"City {agency} programme",
        credentials=(_query(agency),),
        iat=int(time.time()),
    )


def _consent_context(state: dict[str, Any]) -> dict[str, Any]:
    """Open this worker's ledger, wallet service (fresh status cache) and agencies."""
    if "service" not in state:
        trust = TrustRegistry.from_json(state["trust"])
        ledger = _ledger(state["ledger"])
        log = NoteSigner(ORIGIN, PrivateKey.from_jwk(state["log_key"]))
        service = WalletService(
            state["wallet"],
            ledger=ledger,
            master_key=LocalMasterKey.from_text(state["master"]),
            trust=trust,
            log_signer=log,
            status=StatusChecker(source=DirectorySource(state["www"], base_url=BASE)),
        )
        state.update(service=service, ledger_obj=ledger, log=log, agencies={})
        for name, jwk in state["agency_keys"].items():
            key = PrivateKey.from_jwk(jwk)
            agency = Verifier(
                trust=trust,
                status=StatusChecker(source=DirectorySource(state["www"], base_url=BASE)),
            )
            state["agencies"][name] = (key, did_of(key.public_key), agency)

        def shut() -> None:
            service.close()
            ledger.close()

        _add_closer(state, shut)
    return state


@task
def consent_views(state: dict[str, Any], consents: list[list[Any]]) -> dict[str, Any]:
    """Serve every attempt on this worker's consents, round-robin; verify a sample."""
    ctx = _consent_context(state)
    service: WalletService = ctx["service"]
    mine = [c for c in consents if _share(state, c[4])]  # by wallet: a citizen, one worker
    refused: Counter[str] = Counter()
    served = verified = sampled = 0
    durations: list[float] = []
    verify_s = 0.0
    for attempt in range(max((c[3] for c in mine), default=0)):
        for wallet_id, consent_id, agency, attempts, _wallet, number in mine:
            if attempt >= attempts:
                continue
            key, did, verifier = ctx["agencies"][agency]
            check = attempt == 0 and number % VERIFY_EVERY == 0
            nonce = verifier.new_nonce() if check else secrets.token_urlsafe(16)
            request = _request(key, agency, nonce)
            t0 = time.perf_counter()
            try:
                shown = service.view(wallet_id, consent_id, request)
            except SeoulVCError as exc:
                durations.append(time.perf_counter() - t0)
                refused[str(exc.code)] += 1
                continue
            durations.append(time.perf_counter() - t0)
            served += 1
            if check:
                sampled += 1
                t0 = time.perf_counter()
                check_consented_presentation(
                    shown.vp_token,
                    shown.receipt,
                    verifier=verifier,
                    verifier_did=did,
                    client_id=CLIENT_ID_PREFIX + did,
                    nonce=nonce,
                    origin=ORIGIN,
                    log_key=ctx["log"].verifier,
                    witnesses=WitnessPolicy.unwitnessed(),
                )
                verified += 1
                verify_s += time.perf_counter() - t0
    return {
        "served": served,
        "refused": dict(refused),
        "durations": durations,
        "sampled": sampled,
        "verified": verified,
        "verify_seconds": verify_s,
    }


def _label(func: tuple[str, int, str]) -> str:
    """A readable name for a pstats function key."""
    filename, _line, name = func
    if filename == "~":
        return name
    return f"{Path(filename).parent.name}/{Path(filename).name}:{name}"


def _via(table: dict[tuple[str, int, str], Any], func: tuple[str, int, str]) -> str:
    """``func``'s name and its main caller from another file (who makes it hot)."""
    outside = [(v[3], c) for c, v in table[func][4].items() if c[0] != func[0]]
    return _label(func) + (f" (via {_label(max(outside)[1])})" if outside else "")


def _profile_views(
    config: dict[str, Any], wallet_id: str, consent_id: str, count: int
) -> dict[str, Any]:
    """Run ``count`` views under cProfile; return the shares of ``WalletService.view``'s time.

    ``callees``: the cumulative time of each function ``view`` calls directly (a
    comprehension is named after the function it spends most in); ``hottest``: the
    functions with the most time of their own. The profiler's overhead inflates code that
    makes many small calls, so shares are indicative.
    """
    state = {**config, "index": 0, "count": 1}
    ctx = _consent_context(state)
    key = ctx["agencies"]["housing"][0]
    profiler = cProfile.Profile()
    for _ in range(count):
        request = _request(key, "housing", secrets.token_urlsafe(16))
        profiler.runcall(ctx["service"].view, wallet_id, consent_id, request)
    state.pop("close")()
    table: dict[tuple[str, int, str], Any] = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    code = WalletService.view.__code__  # wherever in the wallet package it is defined
    view = (code.co_filename, code.co_firstlineno, code.co_name)
    total = table[view][3]
    callees: Counter[str] = Counter()
    for func, (_cc, _nc, _tt, _ct, callers) in table.items():
        if view not in callers:
            continue
        name = func[2]
        if name.startswith("<"):
            inner = [(v[4][func][3], k) for k, v in table.items() if func in v[4]]
            name = f"{name} -> {max(inner)[1][2]}" if inner else name
        callees[name] += callers[view][3]
    own = sorted(((v[2], k) for k, v in table.items()), reverse=True)[:8]
    return {
        "views": count,
        "view_ms": total / count * 1000,
        "callees": [{"name": n, "share": t / total} for n, t in callees.most_common()],
        "hottest": [{"name": _via(table, k), "share": t / total} for t, k in own],
    }


def stage_consent(rec: Recorder, sizes: Sizes, tmp: Path, workers: int) -> dict[str, Any]:
    """1,000 wallets x 2 consents x 50 views, refusals, 1% revoked; see the docstring."""
    started = time.perf_counter()
    wallets_n = sizes.wallets
    revoked_n = max(1, wallets_n // 100)
    www = tmp / "www"
    ministry = Issuer(PrivateKey.generate())
    trust_json: dict[str, Any] = {
        "issuers": [{"id": ministry.did, "types": ["ResidencyCredential"]}]
    }
    trust = TrustRegistry.from_json(trust_json)
    ledger_url = f"sqlite:{tmp / 'ledger.db'}"
    ledger = _ledger(ledger_url)
    ledger.genesis(origin=ORIGIN, operator=PrivateKey.generate())
    log_key = PrivateKey.generate()
    master = LocalMasterKey.generate()
    registry = StatusRegistry(f"sqlite:{tmp / 'status.db'}", issuer=ministry, base_url=BASE)
    agency_keys = {name: PrivateKey.generate() for name in AGENCIES}
    service = WalletService(
        f"sqlite:{tmp / 'wallet.db'}",
        ledger=ledger,
        master_key=master,
        trust=trust,
        log_signer=NoteSigner(ORIGIN, log_key),
        status=StatusChecker(source=DirectorySource(www, base_url=BASE)),
        # The PIN authorises grants, not views: a cheap scrypt keeps the setup short.
        pin_cost=ScryptParams(n=2**10),
    )
    # consents: [wallet_id, consent_id, agency, attempts, wallet number, consent number]
    consents: list[list[Any]] = []
    revoked_slots = []
    total_wallets = wallets_n + revoked_n
    with rec.step("setup: wallets, credentials with status, consents", total_wallets) as step:
        slots = registry.allocate_many("dc+sd-jwt", total_wallets + 1)
        registry.write_to(www, registry.publish())
        expires = datetime.now(UTC) + timedelta(days=1)
        for n in range(total_wallets):
            wallet = service.create(PIN)
            subject = example_subject("residency")
            subject["personPseudonym"] = f"{n:042d}A"
            wallet.receive(
                ministry.issue(
                    "ResidencyCredential",
                    subject,
                    holder=wallet.holder_public_key,
                    status=slots[n].status_claim(),
                )
            )
            extra = n >= wallets_n
            for agency in AGENCIES[:1] if extra else AGENCIES:
                nonce = secrets.token_urlsafe(16)
                grant = wallet.grant(
                    PIN,
                    _request(agency_keys[agency], agency, nonce),
                    max_views=BUDGET,
                    expires_at=expires,
                )
                attempts = 1 if extra else BUDGET + 1
                consents.append([wallet.id, grant.consent_id, agency, attempts, n, len(consents)])
            if extra:
                revoked_slots.append(slots[n])
        profiled = min(PROFILED_VIEWS, max(20, len(consents) * BUDGET // 100))
        spare = service.create(PIN)
        spare.receive(
            ministry.issue(
                "ResidencyCredential",
                example_subject("residency"),
                holder=spare.holder_public_key,
                status=slots[total_wallets].status_claim(),
            )
        )
        request = _request(agency_keys["housing"], "housing", secrets.token_urlsafe(16))
        spare_grant = spare.grant(PIN, request, max_views=profiled, expires_at=expires)
        registry.change_many(revoked_slots, StatusType.INVALID)
        registry.write_to(www, registry.publish())
        step["count"] = len(consents)
    service.close()
    registry.close()
    rec.figures["wallets"] = total_wallets
    rec.figures["consents"] = len(consents)

    config = {
        "trace": rec.trace,
        "trust": trust_json,
        "ledger": ledger_url,
        "wallet": f"sqlite:{tmp / 'wallet.db'}",
        "master": master.to_text(),
        "log_key": log_key.private_jwk(),
        "www": str(www),
        "agency_keys": {k: v.private_jwk() for k, v in agency_keys.items()},
    }
    attempts = sum(c[3] for c in consents)
    fleet = Fleet(workers, config, rec)
    try:
        with rec.step("view attempts (request + WalletService.view)", attempts) as step:
            results = fleet.run("consent_views", [consents] * workers)
    finally:
        fleet.close()
    served = sum(r["served"] for r in results)
    refused: Counter[str] = Counter()
    for r in results:
        refused.update(r["refused"])
    durations = sorted(d for r in results for d in r["durations"])
    rec.figures["views_served"] = served
    rec.figures["views_refused"] = sum(refused.values())
    rec.figures["view_attempts_per_s"] = attempts / step["seconds"]
    rec.figures["view_median_ms"] = statistics.median(durations) * 1000
    rec.figures["view_p99_ms"] = durations[int(len(durations) * 0.99)] * 1000
    rec.figures["agency_verify_mean_ms"] = (
        sum(r["verify_seconds"] for r in results) / max(1, sum(r["verified"] for r in results))
    ) * 1000
    normal = wallets_n * len(AGENCIES)
    rec.check("views_served", normal * BUDGET, served)
    rec.check("refused_consent_exhausted", normal, refused[Code.CONSENT_EXHAUSTED])
    rec.check("refused_revoked", revoked_n, refused[Code.REVOKED])
    rec.check("refused_other", 0, sum(refused.values()) - normal - revoked_n)
    rec.check(
        "agency_verified_sample",
        sum(r["sampled"] for r in results),
        sum(r["verified"] for r in results),
    )
    with rec.step("ledger state of every consent", len(consents)):
        wrong = 0
        for _wallet_id, consent_id, _agency, tries, _wallet, _number in consents:
            record = ledger.state("consent", f"c/{consent_id}")
            assert isinstance(record, dict)
            views = BUDGET if tries > 1 else 0
            wrong += record.get("views") != views or record.get("refusals") != 1
    rec.check("consent_records_wrong", 0, wrong)
    with rec.step("views of one more consent under cProfile (not counted above)", profiled):
        rec.profile = _profile_views(config, spare.id, spare_grant.consent_id, profiled)
    rec.figures["ledger_size"] = ledger.size
    _raw_floor(rec, ledger, "view_attempts", rec.figures["view_attempts_per_s"])
    ledger.close()
    return rec.result(unit="view attempts", count=attempts, seconds=time.perf_counter() - started)


# -- stage 3: the poll ----------------------------------------------------------------------

POLL = "city-2026"


@task
def poll_issue(state: dict[str, Any], _: object) -> int:
    """Issue a residency credential to each of this worker's voters (holder keys too)."""
    ministry = Issuer(PrivateKey.from_jwk(state["ministry"]))
    voters = []
    for n in range(state["voters"]):
        if not _share(state, n):
            continue
        holder = PrivateKey.generate()
        subject = example_subject("residency")
        subject["personPseudonym"] = f"{n:042d}A"
        token = ministry.issue("ResidencyCredential", subject, holder=holder.public_key)
        voters.append((n, holder, token))
    state["voter_list"] = voters
    return len(voters)


def _poll_ledger(state: dict[str, Any]) -> Ledger:
    if "ledger_obj" not in state:
        state["ledger_obj"] = ledger = _ledger(state["ledger"])
        _add_closer(state, ledger.close)
    ledger_obj: Ledger = state["ledger_obj"]
    return ledger_obj


@task
def poll_register(state: dict[str, Any], _: object) -> dict[str, Any]:
    """Register each voter through the registrar; some try a second registration."""
    ledger = _poll_ledger(state)
    verifier = Verifier(
        trust=TrustRegistry.from_json(state["trust"]),
        # Every challenge is remembered until its ttl: up to two per voter (double tries).
        limits=Limits(max_nonces=max(100_000, 2 * state["voters"] + 1_000)),
    )
    registrar = Registrar(
        PrivateKey.from_jwk(state["registrar"]),
        nullifier_secret=bytes.fromhex(state["secret"]),
        verifier=verifier,
    )
    refused: Counter[str] = Counter()
    registrar_s = 0.0
    keys: list[tuple[int, PrivateKey]] = []
    registered = 0
    for n, holder, token in state["voter_list"]:
        tries = 2 if n % DOUBLE_REGISTER_EVERY == 0 else 1
        for attempt in range(tries):
            voter = PrivateKey.generate()
            voter_did = signer_did(voter.public_key)
            challenge = registrar.challenge(POLL, voter_did)
            shown = present(
                token, holder, disclose=DISCLOSE, aud=challenge.aud, nonce=challenge.nonce
            )
            t0 = time.perf_counter()
            try:
                registrar.register(ledger, POLL, shown, voter=voter_did, nonce=challenge.nonce)
            except SeoulVCError as exc:
                registrar_s += time.perf_counter() - t0
                refused[str(exc.code)] += 1
                continue
            registrar_s += time.perf_counter() - t0
            registered += 1
            if attempt == 0:
                keys.append((n, voter))
    state["voter_keys"] = keys
    del state["voter_list"]
    return {"registered": registered, "refused": dict(refused), "registrar_seconds": registrar_s}


@task
def poll_ballots(state: dict[str, Any], _: object) -> dict[str, Any]:
    """Cast each registered voter's ballot; some vote a second time."""
    ledger = _poll_ledger(state)
    rng = random.Random(SEED + state["index"])
    counts = [0, 0, 0]
    refused: Counter[str] = Counter()
    for n, voter in state["voter_keys"]:
        choice = rng.randrange(3)
        cast(ledger, voter, POLL, choice)
        counts[choice] += 1
        if n % DOUBLE_VOTE_EVERY == 0:
            try:
                cast(ledger, voter, POLL, (choice + 1) % 3)
            except SeoulVCError as exc:
                refused[str(exc.code)] += 1
    return {"counts": counts, "refused": dict(refused)}


def stage_poll(rec: Recorder, sizes: Sizes, tmp: Path, workers: int) -> dict[str, Any]:
    """100,000 voters: issue, register, vote, tally, recount; see the docstring."""
    started = time.perf_counter()
    voters = sizes.voters
    operator, proposer, registrar = (PrivateKey.generate() for _ in range(3))
    ministry = PrivateKey.generate()
    ledger_url = f"sqlite:{tmp / 'ledger.db'}"
    ledger = _ledger(ledger_url)
    ledger.genesis(
        origin=ORIGIN,
        operator=operator,
        grants={
            signer_did(proposer.public_key): ["voting.open"],
            signer_did(registrar.public_key): ["voting.register"],
        },
    )
    now = datetime.now(UTC)
    open_poll(
        ledger,
        proposer,
        poll_id=POLL,
        question="Which riverside park plan?",
        options=["north", "south", "both"],
        opens_at=now - timedelta(minutes=1),
        closes_at=now + timedelta(days=1),
        rule={"claim": "ageOver14", "equals": True},
        registrar=signer_did(registrar.public_key),
    )
    config = {
        "trace": rec.trace,
        "ledger": ledger_url,
        "voters": voters,
        "ministry": ministry.private_jwk(),
        "registrar": registrar.private_jwk(),
        "secret": secrets.token_hex(32),
        "trust": {"issuers": [{"id": did_of(ministry.public_key), "types": [
            "ResidencyCredential"]}]},
    }  # fmt: skip
    doubles_register = len(range(0, voters, DOUBLE_REGISTER_EVERY))
    doubles_vote = len(range(0, voters, DOUBLE_VOTE_EVERY))
    fleet = Fleet(workers, config, rec)
    try:
        with rec.step("setup: issue residency credentials (holder keys)", voters):
            fleet.run("poll_issue")
        with rec.step("register voters (present + registrar)", voters + doubles_register) as s:
            registered = fleet.run("poll_register")
        rec.figures["registrations_per_s"] = s["count"] / s["seconds"]
        registrar_s = sum(r["registrar_seconds"] for r in registered)
        rec.figures["registrar_only_ms"] = registrar_s / s["count"] * 1000
        with rec.step("ballots (one durable append each)", voters + doubles_vote) as s:
            ballots = fleet.run("poll_ballots")
        rec.figures["ballots_per_s"] = s["count"] / s["seconds"]
    finally:
        fleet.close()
    refused: Counter[str] = Counter()
    for r in [*registered, *ballots]:
        refused.update(r["refused"])
    counts = [sum(r["counts"][i] for r in ballots) for i in range(3)]
    rec.check("registered", voters, sum(r["registered"] for r in registered))
    rec.check("refused_second_registration", doubles_register, refused[Code.NULLIFIER_USED])
    rec.check("refused_double_vote", doubles_vote, refused[Code.ALREADY_VOTED])
    rec.check(
        "refused_other",
        0,
        sum(refused.values()) - refused[Code.NULLIFIER_USED] - refused[Code.ALREADY_VOTED],
    )
    with rec.step("live tally", 1) as s:
        live = tally(ledger, POLL)
    rec.figures["tally_live_ms"] = s["seconds"] * 1000
    rec.check("tally_equals_ballots", voters, live.ballots)
    rec.check("tally_counts_equal_cast", counts, list(live.counts))
    with rec.step("close the poll", 1):
        final = close(ledger, proposer, POLL)
    with rec.step("independent recount from the log (signatures checked)", ledger.size) as s:
        counted = recount(ledger, POLL)
    rec.figures["recount_entries_per_s"] = s["count"] / s["seconds"]
    rec.check("recount_equals_tally", final.to_json(), counted.to_json())
    rec.check("registered_on_roll", voters, final.registered)
    rec.figures["ledger_size"] = ledger.size
    _raw_floor(rec, ledger, "ballots", rec.figures["ballots_per_s"])
    ledger.close()
    return rec.result(unit="voters", count=voters, seconds=time.perf_counter() - started)


# -- stage 4: mileage -----------------------------------------------------------------------

#: The ten rounds: (label, kind, programme or merchant choice, amount range).
ROUNDS: tuple[tuple[str, str, str, tuple[int, int]], ...] = (
    ("accrue eco", "accrue", "eco", (1000, 1000)),
    ("accrue health", "accrue", "health", (500, 500)),
    ("convert eco 1:1", "convert", "eco", (600, 600)),
    ("convert health 10:1", "convert", "health", (300, 300)),
    ("spend (1% retried)", "spend", "*", (1, 100)),
    ("transfer", "transfer", "", (1, 50)),
    ("accrue carfree", "accrue", "carfree", (1, 200)),
    ("spend", "spend", "*", (1, 100)),
    ("transfer", "transfer", "", (1, 50)),
    ("spend, some beyond the balance", "spend", "*", (1, 600)),
)


@task
def mileage_keys(state: dict[str, Any], _: object) -> dict[int, str]:
    """Generate this worker's account keys; return their DIDs."""
    state["keys"] = keys = {
        n: PrivateKey.generate() for n in range(state["accounts"]) if _share(state, n)
    }
    return {n: signer_did(k.public_key) for n, k in keys.items()}


@task
def mileage_round(state: dict[str, Any], ops: list[tuple[Any, ...]]) -> dict[str, Any]:
    """Run this worker's operations of one round, one durable transaction each."""
    if "book" not in state:
        state["ledger_obj"] = ledger = _ledger(state["ledger"])
        _add_closer(state, ledger.close)
        state["book"] = MileageAccounts(ledger)
        state["authorities"] = {k: PrivateKey.from_jwk(v) for k, v in state["authority"].items()}
    book: MileageAccounts = state["book"]
    keys: dict[int, PrivateKey] = state["keys"]
    refused: Counter[str] = Counter()
    applied = minted = spent = duplicates = 0
    for kind, n, target, amount, key, retry in ops:
        try:
            if kind == "accrue":
                book.accrue(
                    state["authorities"][target],
                    programme=target,
                    account=state["dids"][n],
                    amount=amount,
                    idempotency_key=key,
                )
            elif kind == "convert":
                book.convert(keys[n], programme=target, points=amount, idempotency_key=key)
                points, coins = PROGRAMMES[target]
                minted += amount * coins // points
            elif kind == "spend":
                book.spend(keys[n], merchant=target, amount=amount, idempotency_key=key)
                spent += amount
                if retry:
                    again = book.spend(keys[n], merchant=target, amount=amount, idempotency_key=key)
                    duplicates += again.duplicate
            else:
                book.transfer(keys[n], to=target, amount=amount, idempotency_key=key)
        except SeoulVCError as exc:
            refused[str(exc.code)] += 1
            continue
        applied += 1
    return {
        "applied": applied,
        "refused": dict(refused),
        "minted": minted,
        "spent": spent,
        "duplicates": duplicates,
    }


def stage_mileage(rec: Recorder, sizes: Sizes, tmp: Path, workers: int) -> dict[str, Any]:
    """100,000 accounts x 10 operations, settlements, S-Coin conservation; see the docstring."""
    started = time.perf_counter()
    accounts = sizes.accounts
    office = PrivateKey.generate()
    authorities = {name: PrivateKey.generate() for name in PROGRAMMES}
    ledger_url = f"sqlite:{tmp / 'ledger.db'}"
    ledger = _ledger(ledger_url)
    ledger.genesis(
        origin=ORIGIN,
        operator=office,
        grants={
            signer_did(office.public_key): ["mileage.programme", "mileage.merchant",
                                            "mileage.settle"],
            **{signer_did(k.public_key): ["mileage.accrue"] for k in authorities.values()},
        },
    )  # fmt: skip
    book = MileageAccounts(ledger)
    for name, key in authorities.items():
        points, coins = PROGRAMMES[name]
        book.register_programme(
            office, name, authority=signer_did(key.public_key), points=points, coins=coins
        )
    for merchant, kind in MERCHANTS.items():
        book.register_merchant(office, merchant, kind=kind)
    config = {
        "trace": rec.trace,
        "ledger": ledger_url,
        "accounts": accounts,
        "authority": {k: v.private_jwk() for k, v in authorities.items()},
    }
    rng = random.Random(SEED)
    totals: Counter[str] = Counter()
    refused: Counter[str] = Counter()
    settled_sum = 0
    fleet = Fleet(workers, config, rec)
    try:
        with rec.step("setup: account keys", accounts):
            dids: dict[int, str] = {}
            for part in fleet.run("mileage_keys"):
                dids.update(part)
        names = [dids[n] for n in range(accounts)]
        # Accruals name the account, transfers the recipient: every worker has every DID.
        fleet.run("mileage_dids", [names] * workers)
        merchants = list(MERCHANTS)
        for number, (label, kind, what, (low, high)) in enumerate(ROUNDS, start=1):
            shares: list[list[tuple[Any, ...]]] = [[] for _ in range(workers)]
            order = list(range(accounts))
            rng.shuffle(order)
            for n in order:
                amount = rng.randint(low, high)
                if kind == "spend":
                    target = rng.choice(merchants)
                elif kind == "transfer":
                    target = names[(n + 1 + rng.randrange(accounts - 1)) % accounts]
                else:
                    target = what
                retry = number == 5 and n % RETRY_EVERY == 0
                shares[n % workers].append((kind, n, target, amount, f"r{number}-{n}", retry))
            with rec.step(f"round {number}: {label}", accounts):
                results = fleet.run("mileage_round", shares)
            for r in results:
                totals.update({k: r[k] for k in ("applied", "minted", "spent", "duplicates")})
                refused.update(r["refused"])
            if number in SETTLE_AFTER:
                with rec.step(f"settle every merchant (period {number})", len(MERCHANTS)):
                    for merchant in MERCHANTS:
                        settled_sum += book.settle(
                            office,
                            merchant=merchant,
                            period=f"p{number}",
                            idempotency_key=f"settle-{merchant}-{number}",
                        ).amount
    finally:
        fleet.close()
    ops = accounts * len(ROUNDS)
    op_seconds = sum(s["seconds"] for s in rec.steps if s["name"].startswith("round "))
    rec.figures["ops_per_s"] = ops / op_seconds
    rec.figures["applied"] = totals["applied"]
    rec.figures["refused_insufficient_balance"] = refused[Code.INSUFFICIENT_BALANCE]
    rec.figures["retried_duplicates"] = totals["duplicates"]
    rec.check("ops_accounted", ops, totals["applied"] + sum(refused.values()))
    rec.check("refused_other", 0, sum(refused.values()) - refused[Code.INSUFFICIENT_BALANCE])
    rec.check("retries_were_duplicates", len(range(0, accounts, RETRY_EVERY)), totals["duplicates"])
    with rec.step("sum every balance and merchant", accounts + len(MERCHANTS)):
        balances = 0
        for did in names:
            value = ledger.state("mileage", coins_key(did))
            balances += value if isinstance(value, int) else 0
        shops = [book.merchant(m) for m in MERCHANTS]
    spent = sum(m.spent for m in shops)
    rec.figures["s_coin_minted"] = totals["minted"]
    rec.figures["s_coin_in_accounts"] = balances
    rec.figures["s_coin_spent"] = spent
    rec.check("s_coin_conserved", totals["minted"], balances + spent)
    rec.check("spent_equals_spends_applied", totals["spent"], spent)
    rec.check("settled_plus_pending_equals_spent", spent, sum(m.settled + m.pending for m in shops))
    rec.check("settled_equals_settlements", settled_sum, sum(m.settled for m in shops))
    rec.figures["ledger_size"] = ledger.size
    _raw_floor(rec, ledger, "ops", rec.figures["ops_per_s"])
    ledger.close()
    return rec.result(unit="operations", count=ops, seconds=time.perf_counter() - started)


@task
def mileage_dids(state: dict[str, Any], names: list[str]) -> int:
    """Hand a worker every account's DID."""
    state["dids"] = names
    return len(names)


STAGE_FUNCTIONS: dict[str, Callable[[Recorder, Sizes, Path, int], dict[str, Any]]] = {
    "status": stage_status,
    "consent": stage_consent,
    "poll": stage_poll,
    "mileage": stage_mileage,
}


# -- running and reporting ------------------------------------------------------------------


def _stage_process(
    conn: multiprocessing.connection.Connection,
    stage: str,
    scale: float,
    workers: int,
    trace: bool,
    folder: str,
    profile: str | None,
) -> None:
    """Run one stage in this fresh process and send its result (or the traceback) back."""
    try:
        rec = Recorder(trace=trace)
        run = STAGE_FUNCTIONS[stage]
        sizes = Sizes.at(scale)
        if profile:
            profiler = cProfile.Profile()
            result = profiler.runcall(run, rec, sizes, Path(folder), workers)
            Path(profile).mkdir(parents=True, exist_ok=True)
            profiler.dump_stats(Path(profile) / f"{stage}.prof")
            text = io.StringIO()
            pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(40)
            print(text.getvalue(), file=sys.stderr)
        else:
            result = run(rec, sizes, Path(folder), workers)
        conn.send(("ok", result))
    except BaseException:  # noqa: BLE001 - the parent reports it and fails
        conn.send(("error", traceback.format_exc()))
    finally:
        conn.close()


def run_stage(
    stage: str, scale: float, workers: int, trace: bool, tmp: str | None, profile: str | None
) -> dict[str, Any]:
    """Run ``stage`` in a fresh spawned process over a fresh temporary folder."""
    context = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory(prefix=f"seoul-vc-city-{stage}-", dir=tmp) as folder:
        mine, theirs = context.Pipe()
        proc = context.Process(
            target=_stage_process, args=(theirs, stage, scale, workers, trace, folder, profile)
        )
        proc.start()
        theirs.close()
        try:
            status, payload = mine.recv()
        except EOFError:
            status, payload = "error", "the stage process died without a report"
        proc.join()
    if status != "ok":
        return {"ok": False, "error": payload, "exit": proc.exitcode}
    result: dict[str, Any] = payload
    return result


def _num(value: object, digits: int = 0) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def markdown_table(report: dict[str, Any]) -> str:
    """Render the stages as one markdown table, their invariants and figures below."""
    lines = [
        "| stage | step | count | seconds | rate /s | peak Python MB | peak RSS MB |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    notes = []
    for stage, entry in report["stages"].items():
        if not entry.get("ok") and "steps" not in entry:
            lines.append(f"| **{stage}** | failed | | | | | |")
            continue
        rss = _num(entry["peak_rss_mb"])
        python = _num(entry["peak_python_mb"], 1)
        if entry.get("worker_peak_rss_mb"):
            rss += f" (+{entry['workers']} workers, each ≤ {_num(entry['worker_peak_rss_mb'])})"
        if entry.get("worker_peak_python_mb"):
            python += f" (workers ≤ {_num(entry['worker_peak_python_mb'], 1)})"
        lines.append(
            f"| **{stage}** | **whole stage, {entry['unit']}** | **{_num(entry['count'])}** | "
            f"**{_num(entry['seconds'], 1)}** | **{_num(entry['rate'])}** | "
            f"**{python}** | **{rss}** |"
        )
        for step in entry["steps"]:
            lines.append(
                f"| {stage} | {step['name']} | {_num(step['count'])} | "
                f"{_num(step['seconds'], 2)} | {_num(step['rate'])} | "
                f"{_num(step['peak_python_mb'], 1)} | {_num(step['rss_mb'])} |"
            )
        broken = [k for k, v in entry["invariants"].items() if not v["ok"]]
        held = ", ".join(entry["invariants"])
        notes.append(
            f"- **{stage}**: invariants {'held' if not broken else 'BROKEN: ' + ', '.join(broken)}"
            f" ({held}); " + "; ".join(f"{k} {_num(v, 2)}" for k, v in entry["figures"].items())
        )
        profile = entry.get("profile")
        if profile:
            notes.append(
                f"- **{stage}**: where a view's time goes (cProfile of {profile['views']} views, "
                f"{profile['view_ms']:.1f} ms each under the profiler), share of "
                "`WalletService.view` by direct callee: "
                + ", ".join(
                    f"{c['name']} {c['share']:.0%}"
                    for c in profile["callees"]
                    if c["share"] >= 0.01
                )
                + "; most time of their own: "
                + ", ".join(f"{c['name']} {c['share']:.0%}" for c in profile["hottest"])
            )
    return "\n".join([*lines, "", *notes]) + "\n"


def markdown(report: dict[str, Any]) -> str:
    """The whole report: the machine, the table, the notes."""
    m = report["machine"]
    traced = (
        " Timings under tracemalloc (slower): not for quoting."
        if report["tracemalloc"]
        else (" Peak Python MB needs --tracemalloc.")
    )
    return (
        f"# City-scale scenario, scale {report['scale']}\n\n"
        f"Measured {report['date']} on {m['cpu']} ({m['cores']} logical cores, {m['memory']}), "
        f"{m['os']}, Python {m['python']}, SQLite {m.get('sqlite', '?')}; "
        f"{report['workers']} worker process(es) a stage; total {report['seconds']:.1f} s."
        f"{traced}\n\n" + markdown_table(report)
    )


def main() -> None:
    """Run the stages and print the table (or the JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies every count")
    parser.add_argument("--only", nargs="+", choices=STAGES, help="run only these stages")
    parser.add_argument("--workers", type=int, default=1, help="processes for stages 2-4")
    parser.add_argument("--tracemalloc", action="store_true", help="trace Python's peak (slow)")
    parser.add_argument("--json", nargs="?", const="-", metavar="PATH", help="JSON (- = stdout)")
    parser.add_argument("--tmp", help="folder for the stages' databases (default: the system's)")
    parser.add_argument("--profile", metavar="DIR", help="cProfile each stage process into DIR")
    args = parser.parse_args()
    if args.scale <= 0 or args.workers < 1:
        parser.error("--scale must be positive and --workers at least 1")
    report: dict[str, Any] = {
        "scenario": "city",
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "scale": args.scale,
        "sizes": asdict(Sizes.at(args.scale)),
        "workers": args.workers,
        "tracemalloc": args.tracemalloc,
        "stages": {},
    }
    started = time.perf_counter()
    for stage in args.only or STAGES:
        print(f"stage {stage} (scale {args.scale}) ...", file=sys.stderr, flush=True)
        report["stages"][stage] = run_stage(
            stage, args.scale, args.workers, args.tracemalloc, args.tmp, args.profile
        )
        if "error" in report["stages"][stage]:
            print(report["stages"][stage]["error"], file=sys.stderr)
    report["seconds"] = time.perf_counter() - started
    report["ok"] = all(entry.get("ok") for entry in report["stages"].values())
    text = json.dumps(report, indent=2) + "\n"
    if args.json == "-":
        sys.stdout.write(text)
    else:
        if args.json:
            Path(args.json).write_text(text, encoding="utf-8")
        sys.stdout.write(markdown(report))
    sys.exit(0 if report["ok"] else 1)


if __name__ == "__main__":
    main()
