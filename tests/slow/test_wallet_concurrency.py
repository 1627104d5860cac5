"""A 3-view consent under 50 concurrent view attempts, from threads and processes at once.

Acceptance of the wallet issue: exactly 3 presentations (views 1, 2 and 3, each verified by
the agency with its receipt) and 47 refusals with ``consent_exhausted``, on SQLite and on
PostgreSQL. Five child processes of ten threads each and the parent's own ten threads all
wait for the same moment, then ask for a view of the same consent.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from seoul_vc import SeoulVCError, SystemClock
from seoul_vc.wallet import ConsentedPresentation, ViewReceipt

sys.path.insert(0, str(Path(__file__).parents[1] / "unit" / "wallet"))
from wallet_world import ORIGIN, World

pytestmark = pytest.mark.slow

VIEWER = Path(__file__).with_name("wallet_viewer.py")
PROCESSES, THREADS_EACH, PARENT_THREADS = 4, 10, 10
ATTEMPTS = PROCESSES * THREADS_EACH + PARENT_THREADS


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def urls(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """(ledger URL, wallet URL): SQLite files, or one fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:{tmp_path / 'ledger.db'}", f"sqlite:{tmp_path / 'wallet.db'}"
        return
    url = request.getfixturevalue("pg_schema_url")
    yield url, url


def test_fifty_concurrent_views_of_a_three_view_consent(
    urls: tuple[str, str], tmp_path: Path
) -> None:
    """Threads and processes together: exactly 3 presentations and 47 consent_exhausted."""
    assert ATTEMPTS == 50
    # A real clock: the children run on theirs, and entry times must agree.
    world = World(*urls, SystemClock())  # type: ignore[arg-type]
    try:
        wallet, _ = world.citizen()
        consent = world.grant(wallet, max_views=3)
        requests = [world.request() for _ in range(ATTEMPTS)]
        nonces = {token: nonce for token, nonce in requests}
        children = []
        for p in range(PROCESSES):
            job = tmp_path / f"job{p}.json"
            mine = requests[p * THREADS_EACH : (p + 1) * THREADS_EACH]
            job.write_text(
                json.dumps(
                    {
                        "master_key": world.master_key.to_text(),
                        "origin": ORIGIN,
                        "trust": {
                            "issuers": [
                                {"id": world.ministry.did, "types": ["ResidencyCredential"]}
                            ]
                        },
                        "log_key": world.log_key.private_jwk(),
                        "wallet": wallet.id,
                        "consent": consent,
                        "requests": [token for token, _ in mine],
                    }
                )
            )
            children.append(
                subprocess.Popen(
                    [sys.executable, str(VIEWER), *urls, str(job)],
                    stdout=subprocess.PIPE,
                    text=True,
                )
            )
        ours = requests[PROCESSES * THREADS_EACH :]
        outcomes: list[dict[str, object]] = []
        lock = threading.Lock()
        barrier = threading.Barrier(len(ours))

        def attempt(token: str) -> None:
            barrier.wait()
            try:
                shown = wallet.view(consent, token)
                line: dict[str, object] = {"ok": True, "view": shown.view, "shown": shown}
            except SeoulVCError as exc:
                line = {"ok": False, "code": str(exc.code)}
            line["token"] = token
            with lock:
                outcomes.append(line)

        threads = [threading.Thread(target=attempt, args=(t,)) for t, _ in ours]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for p, child in enumerate(children):
            out, _ = child.communicate(timeout=240)
            assert child.returncode == 0
            mine = requests[p * THREADS_EACH : (p + 1) * THREADS_EACH]
            lines = [json.loads(line) for line in out.splitlines()]
            assert len(lines) == THREADS_EACH
            outcomes.extend(lines)

        served = [o for o in outcomes if o["ok"]]
        refused = [o for o in outcomes if not o["ok"]]
        assert len(outcomes) == ATTEMPTS
        assert sorted(int(o["view"]) for o in served) == [1, 2, 3]  # type: ignore[call-overload]
        assert len(refused) == 47
        assert {o["code"] for o in refused} == {"consent_exhausted"}
        # Every presentation verifies with its receipt, as the view it claims to be.
        for o in served:
            if "shown" in o:
                shown = o["shown"]
                assert isinstance(shown, ConsentedPresentation)
                nonce = nonces[str(o["token"])]
            else:
                body = o["presentation"]
                assert isinstance(body, dict)
                receipt = ViewReceipt.from_json(json.dumps(body["receipt"]))
                shown = ConsentedPresentation(
                    vp_token=body["vp_token"], receipt=receipt, view=0, max_views=3
                )
                nonce = _nonce_of(shown, nonces)
            view = world.check(shown, nonce)
            assert view.view.view == o["view"]
        state = world.ledger.state("consent", f"c/{consent}")
        assert isinstance(state, dict)
        assert state["views"] == 3
        assert state["refusals"] == 47
    finally:
        world.close()


def _nonce_of(shown: ConsentedPresentation, nonces: dict[str, str]) -> str:
    """Find the request nonce a child's presentation was bound to (via its receipt)."""
    from seoul_vc.ledger.entry import Entry
    from seoul_vc.wallet.consent import nonce_hash

    hashed = Entry.from_bytes(shown.receipt.view.entry).body["nonce_hash"]
    return next(n for n in nonces.values() if nonce_hash(n) == hashed)
