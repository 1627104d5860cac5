"""Wallet benchmark: consented views per second end to end, beside the raw presentation cost.

Usage: ``python benchmarks/bench_wallet.py [--views 200] [--db sqlite|URL] [--json]``

One citizen's wallet (ES256 holder key) holds a ResidencyCredential from an Ed25519 issuer;
a housing agency (Ed25519) holds a consent over two of its claims with a budget as large as
the run. Each round, measured in the same run and interleaved:

* **view**: the whole consented view — the agency signs a request; the wallet verifies it,
  decrypts the consent and credential, appends ``consent.view`` on the ledger (a durable
  commit), builds the SD-JWT presentation of exactly the consented claims, signs a
  checkpoint and builds the two-bundle receipt; the agency verifies the presentation in the
  full pipeline and the receipt offline, and appends nothing else;
* **raw**: the same credential presented (same disclosures, KB-JWT) and verified in the
  same pipeline, without request, vault, ledger or receipt.

``view_over_raw`` is the ratio of their costs: what the view budget adds.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from seoul_vc import Issuer, Ledger, PrivateKey, TrustRegistry, Verifier, present
from seoul_vc.clock import SystemClock
from seoul_vc.credentials.issuer import did_of
from seoul_vc.credentials.schemas import example_subject
from seoul_vc.credentials.types import credential_type
from seoul_vc.ledger.checkpoint import WitnessPolicy
from seoul_vc.ledger.note import NoteSigner
from seoul_vc.wallet import (
    CredentialQuery,
    LocalMasterKey,
    ScryptParams,
    WalletService,
    check_consented_presentation,
    create_request,
)
from seoul_vc.wallet.request import CLIENT_ID_PREFIX

ORIGIN = "ledger.seoul.example/bench-wallet"
PIN = "482913"
CLAIMS = (("address", "district"), ("ageOver19",))


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--views", type=int, default=200)
    parser.add_argument("--db", default="sqlite", help="sqlite, or a postgresql:// URL")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.db == "sqlite":
            ledger_url = f"sqlite:{Path(tmp) / 'ledger.db'}"
            wallet_url = f"sqlite:{Path(tmp) / 'wallet.db'}"
        else:
            ledger_url = wallet_url = args.db
        result = run(ledger_url, wallet_url, args.views)
    result["python"] = platform.python_version()
    result["machine"] = platform.machine()
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"wallet benchmark: {args.views} views on {args.db}")
    print(f"  consented view end to end : {result['views_per_second']:8.1f} /s")
    print(f"  raw present + verify      : {result['raw_per_second']:8.1f} /s")
    print(f"  view cost over raw cost   : {result['view_over_raw']:8.2f} x")
    print(
        f"  median view, raw (ms)     : {result['median_view_ms']:.2f}, "
        f"{result['median_raw_ms']:.2f}"
    )


def run(ledger_url: str, wallet_url: str, views: int) -> dict[str, object]:
    """Set up one citizen and one agency; time ``views`` views and as many raw rounds."""
    clock = SystemClock()
    ledger = Ledger.open(ledger_url, clock=clock)
    ledger.genesis(origin=ORIGIN, operator=PrivateKey.generate())
    log = NoteSigner(ORIGIN, PrivateKey.generate())
    ministry = Issuer(PrivateKey.generate())
    trust = TrustRegistry.from_json(
        {"issuers": [{"id": ministry.did, "types": ["ResidencyCredential"]}]}
    )
    service = WalletService(
        wallet_url,
        ledger=ledger,
        master_key=LocalMasterKey.generate(),
        trust=trust,
        log_signer=log,
        pin_cost=ScryptParams(n=2**14),
    )
    agency_key = PrivateKey.generate()
    agency_did = did_of(agency_key.public_key)
    agency = Verifier(trust=trust)
    vct = credential_type("ResidencyCredential").vct
    query = CredentialQuery(id="residency", vct_values=(vct,), claims=CLAIMS)
    wallet = service.create(PIN)
    token = ministry.issue(
        "ResidencyCredential", example_subject("residency"), holder=wallet.holder_public_key
    )
    wallet.receive(token)

    def request() -> tuple[str, str]:
        nonce = agency.new_nonce()
        return (
            create_request(
                agency_key,
                nonce=nonce,
                purpose="Youth housing",
                credentials=(query,),
                iat=int(time.time()),
            ),
            nonce,
        )

    grant = wallet.grant(
        PIN,
        request()[0],
        max_views=views,
        expires_at=datetime.now(UTC) + timedelta(days=1),
    )
    # The raw rounds need a holder key the credential is bound to: a second, plain one.
    raw_holder = PrivateKey.generate("ES256")
    raw_token = ministry.issue(
        "ResidencyCredential", example_subject("residency"), holder=raw_holder.public_key
    )
    view_times: list[float] = []
    raw_times: list[float] = []
    for _ in range(views):
        started = time.perf_counter()
        req, nonce = request()
        shown = wallet.view(grant.consent_id, req)
        check_consented_presentation(
            shown.vp_token,
            shown.receipt,
            verifier=agency,
            verifier_did=agency_did,
            client_id=CLIENT_ID_PREFIX + agency_did,
            nonce=nonce,
            origin=ORIGIN,
            log_key=log.verifier,
            witnesses=WitnessPolicy.unwitnessed(),
        )
        view_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        nonce = agency.new_nonce()
        raw = present(raw_token, raw_holder, disclose=list(CLAIMS), aud="housing", nonce=nonce)
        agency.verify(raw, aud="housing", nonce=nonce)
        raw_times.append(time.perf_counter() - started)
    service.close()
    ledger.close()
    view_rate = len(view_times) / sum(view_times)
    raw_rate = len(raw_times) / sum(raw_times)
    return {
        "views": views,
        "views_per_second": view_rate,
        "raw_per_second": raw_rate,
        "view_over_raw": raw_rate / view_rate,
        "median_view_ms": statistics.median(view_times) * 1000,
        "median_raw_ms": statistics.median(raw_times) * 1000,
    }


if __name__ == "__main__":
    main()
