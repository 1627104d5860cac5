"""HTTP benchmark: verified OpenID4VP presentations per second through the service.

Usage: ``python benchmarks/bench_http.py [--requests 600] [--clients 4] [--json]``

The service runs as ``seoul-vc serve`` in its own process (uvicorn, one worker, SQLite, plain
HTTP on loopback: TLS would sit at the proxy in front). A receiving agency's system creates
one OpenID4VP request per presentation (``POST /verifier/v1/requests``, preset
``residency_district``); each presentation is a ResidencyCredential ``dc+sd-jwt`` with two
claims disclosed and a KB-JWT over the request's nonce and client_id, built before the clock
starts. The load generator — ``--clients`` processes, each with one keep-alive connection —
then posts every answer to its ``response_uri`` (``direct_post``, form-encoded ``vp_token``
and ``state``): each post is a full verification (signature, trust, validity, schema,
holder binding, audience, nonce, the answer against the query) and the single-use claim of
the session in the store. Figures: presentations verified per second, latency p50/p99.

Beside it, in the same run, the **in-process** figure: the same verifier sessions class the
route calls (:class:`seoul_vc.presentation.PresentationSessions`), on its own SQLite file,
answering the same kind of presentations with no HTTP in between. ``http_vs_in_process`` is
the share of the library's rate the service keeps.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from seoul_vc import Issuer, PrivateKey, TrustRegistry
from seoul_vc._json import loads_object
from seoul_vc.credentials import present
from seoul_vc.credentials.schemas import example_subject
from seoul_vc.jose import parse_compact
from seoul_vc.presentation import PRESETS, PresentationSessions
from seoul_vc.service import init_config

PRESET = "residency_district"
DISCLOSE = ["address.district", "ageOver19"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answer(request_object: str, credential: str, holder: PrivateKey) -> tuple[str, str]:
    """The form body answering one request (vp_token for its query, and its state)."""
    claims = loads_object(parse_compact(request_object).payload, max_bytes=1 << 20, max_depth=16)
    presentation = present(
        credential,
        holder,
        disclose=DISCLOSE,
        aud=str(claims["client_id"]),
        nonce=str(claims["nonce"]),
        iat=int(time.time()),
    )
    query = PRESETS[PRESET][0].id
    vp_token = json.dumps({query: [presentation]}, separators=(",", ":"))
    return urlencode({"vp_token": vp_token, "state": str(claims["state"])}), str(claims["state"])


def _client(args: tuple[str, list[tuple[str, str]]]) -> list[tuple[float, int]]:
    """One load-generator process: post its answers one after another, keep-alive."""
    base, jobs = args
    out: list[tuple[float, int]] = []
    headers = {"content-type": "application/x-www-form-urlencoded"}
    with httpx.Client(base_url=base, timeout=60) as client:
        for path, body in jobs:
            start = time.perf_counter()
            response = client.post(path, content=body, headers=headers)
            out.append((time.perf_counter() - start, response.status_code))
    return out


def _start_server(folder: Path, port: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "seoul_vc_cli", "serve"]
    command += ["--config", str(folder / "service.json"), "--port", str(port)]
    server = subprocess.Popen(  # noqa: S603 - our own CLI, arguments we built
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.1)
    server.kill()
    raise RuntimeError("the service did not start")


def run(requests: int, clients: int) -> dict[str, Any]:
    """Measure HTTP and in-process verification rates; return the figures."""
    issuer = Issuer(PrivateKey.generate())
    holder = PrivateKey.generate("ES256")
    credential = issuer.issue(
        "ResidencyCredential", example_subject("residency"), holder=holder.public_key
    )
    trust = {"issuers": [{"id": issuer.did, "types": ["ResidencyCredential"]}]}
    with tempfile.TemporaryDirectory() as tmp:
        folder, port = Path(tmp) / "deploy", _free_port()
        base = f"http://127.0.0.1:{port}"
        config_path, tokens = init_config(folder, public_url=f"https://localhost:{port}")
        config = json.loads(config_path.read_text())
        config["trust"] = trust
        config_path.write_text(json.dumps(config))
        server = _start_server(folder, port)
        try:
            agency = {"authorization": f"Bearer {tokens['verifier']}"}
            jobs: list[tuple[str, str]] = []
            rids: list[str] = []
            with httpx.Client(base_url=base, timeout=60, headers=agency) as setup:
                for _ in range(requests):
                    made = setup.post(
                        "/verifier/v1/requests", json={"preset": PRESET, "purpose": "benchmark"}
                    ).json()
                    rid = made["request_id"]
                    token = setup.get(f"/verifier/v1/requests/{rid}/object").text
                    body, _ = _answer(token, credential, holder)
                    jobs.append((f"/verifier/v1/responses/{rid}", body))
                    rids.append(rid)
            shares = [(base, jobs[i::clients]) for i in range(clients)]
            context = multiprocessing.get_context("spawn")
            with context.Pool(clients) as pool:
                pool.map(_client, [(base, jobs[:0])] * clients)  # start the processes first
                start = time.perf_counter()
                results = pool.map(_client, shares)
                elapsed = time.perf_counter() - start
            latencies = sorted(t for share in results for t, _ in share)
            statuses = [s for share in results for _, s in share]
            with httpx.Client(base_url=base, timeout=60, headers=agency) as check:
                sample = [check.get(f"/verifier/v1/requests/{r}/result").json() for r in rids[:20]]
        finally:
            server.terminate()
            server.wait(timeout=30)
        complete = sum(1 for r in sample if r.get("status") == "complete")
        in_process = _in_process(min(requests, 400), credential, holder, trust, Path(tmp))
    ok = statuses.count(200)
    out: dict[str, Any] = {
        "requests": requests,
        "clients": clients,
        "http_ok": ok,
        "http_verified_per_s": ok / elapsed,
        "http_latency_p50_ms": 1000 * statistics.median(latencies),
        "http_latency_p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))],
        "sampled_results_complete": f"{complete}/{len(sample)}",
        "in_process_verified_per_s": in_process,
    }
    out["http_vs_in_process"] = out["http_verified_per_s"] / in_process
    return out


def _in_process(count: int, credential: str, holder: PrivateKey, trust: Any, tmp: Path) -> float:
    """Verified answers per second through PresentationSessions.respond, no HTTP."""
    sessions = PresentationSessions(
        f"sqlite:{tmp / 'in-process.db'}",
        key=PrivateKey.generate(),
        response_uri=lambda rid: f"https://agency.example/responses/{rid}",
        request_uri=lambda rid: f"https://agency.example/requests/{rid}",
        trust=TrustRegistry.from_json(trust),
    )
    try:
        answers = []
        for _ in range(count):
            session = sessions.create(PRESETS[PRESET], purpose="benchmark")
            body, state = _answer(sessions.request_object(session.request_id), credential, holder)
            vp_token = json.loads(dict(_pairs(body))["vp_token"])
            answers.append((session.request_id, json.dumps(vp_token), state))
        start = time.perf_counter()
        for rid, vp_token, state in answers:
            result = sessions.respond(rid, {"vp_token": vp_token, "state": state})
            assert result.status == "complete", result
        return count / (time.perf_counter() - start)
    finally:
        sessions.close()


def _pairs(body: str) -> list[tuple[str, str]]:
    from urllib.parse import parse_qsl

    return parse_qsl(body, strict_parsing=True)


def main() -> None:
    """Parse arguments, run, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    figures = run(args.requests, args.clients)
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(f"HTTP benchmark (OpenID4VP direct_post, {os.cpu_count()} cores, loopback)")
    for name, value in figures.items():
        shown = f"{value:>12.2f}" if isinstance(value, float) else f"{value!s:>12}"
        print(f"  {name:<40} {shown}")


if __name__ == "__main__":
    main()
