"""Child process of the wallet concurrency test: serve views from many threads at once.

Usage: ``wallet_viewer.py LEDGER_URL WALLET_URL JOB_FILE``. The JSON job file names the
master key, the log's private note key, the wallet, the consent and the signed requests
this process serves; all its threads wait at one barrier, then each asks for one view.
Prints one JSON line per attempt: ``{"ok": true, "view": k, "presentation": {...}}`` or
``{"ok": false, "code": "..."}``.
"""

from __future__ import annotations

import json
import sys
import threading

from seoul_vc import Ledger, PrivateKey, SeoulVCError, TrustRegistry
from seoul_vc.ledger.note import NoteSigner
from seoul_vc.wallet import LocalMasterKey, WalletService


def main() -> None:
    """Serve the job's views concurrently and report each outcome."""
    ledger_url, wallet_url, job_file = sys.argv[1:4]
    with open(job_file, encoding="utf-8") as handle:
        job = json.load(handle)
    ledger = Ledger.open(ledger_url)
    service = WalletService(
        wallet_url,
        ledger=ledger,
        master_key=LocalMasterKey.from_text(job["master_key"]),
        trust=TrustRegistry.from_json(job["trust"]),
        log_signer=NoteSigner(job["origin"], PrivateKey.from_jwk(job["log_key"])),
    )
    requests: list[str] = job["requests"]
    barrier = threading.Barrier(len(requests))
    lock = threading.Lock()

    def attempt(request: str) -> None:
        barrier.wait()
        try:
            shown = service.view(job["wallet"], job["consent"], request)
            line = {"ok": True, "view": shown.view, "presentation": shown.to_json()}
        except SeoulVCError as exc:
            line = {"ok": False, "code": str(exc.code)}
        with lock:
            sys.stdout.write(json.dumps(line) + "\n")
            sys.stdout.flush()

    threads = [threading.Thread(target=attempt, args=(r,)) for r in requests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    service.close()
    ledger.close()


if __name__ == "__main__":
    main()
