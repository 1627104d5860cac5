"""A child process for the voting and mileage concurrency tests.

Run as a script (the tests start several at once with ``subprocess``)::

    python civic_worker.py spend URL ACCOUNT_KEY WORKER SHARED OWN
    python civic_worker.py register URL REGISTRAR_KEY SECRET_FILE TRUST_FILE WALLET_KEY \
        CREDENTIAL_FILE POLL
    python civic_worker.py cast URL VOTER_KEY POLL CHOICE

Each opens the ledger, prints ``ready``, waits for one line on stdin (so all start
together), then works and prints one line per attempt, flushed::

    ok <index> <duplicate 0|1> <detail>
    refused <code> <detail>

``spend`` spends 1 S-Coin at merchant ``gift`` once for each of ``SHARED`` keys that every
worker shares (``shared-<n>``) and ``OWN`` keys of its own (``own-<WORKER>-<n>``), each
attempt sent twice (the second a re-signed retry with the same key). ``register`` runs a
registrar's whole registration of the wallet's credential with a fresh voter key, disclosing
``ageOver14`` and ``personPseudonym`` (the slow tests' poll asks for age only).
``cast`` casts one ballot.
"""

from __future__ import annotations

import base64
import random
import sys
from pathlib import Path

from seoul_vc import Ledger, PrivateKey, SeoulVCError, TrustRegistry, Verifier, present
from seoul_vc.ledger.entry import signer_did
from seoul_vc.mileage import MileageAccounts
from seoul_vc.voting import Registrar, cast


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _wait(ledger: Ledger) -> None:
    ledger.size  # noqa: B018 - connect and read once before the start signal
    _say("ready")
    sys.stdin.readline()


def spend(ledger: Ledger, key: PrivateKey, worker: int, shared: int, own: int) -> None:
    accounts = MileageAccounts(ledger)
    keys = [f"shared-{n}" for n in range(shared)] + [f"own-{worker}-{n}" for n in range(own)]
    random.Random(worker).shuffle(keys)  # noqa: S311 - an ordering, not a secret
    _wait(ledger)
    for idempotency_key in keys:
        for _ in range(2):
            try:
                receipt = accounts.spend(
                    key, merchant="gift", amount=1, idempotency_key=idempotency_key
                )
            except SeoulVCError as exc:
                _say(f"refused {exc.code} {idempotency_key}")
            else:
                _say(f"ok {receipt.index} {int(receipt.duplicate)} {idempotency_key}")


def register(ledger: Ledger, args: list[str]) -> None:
    registrar_key, secret_file, trust_file, wallet_file, credential_file, poll = args
    registrar = Registrar(
        PrivateKey.load(registrar_key),
        nullifier_secret=base64.urlsafe_b64decode(Path(secret_file).read_text().strip() + "=="),
        verifier=Verifier(trust=TrustRegistry.from_file(Path(trust_file))),
    )
    wallet = PrivateKey.load(wallet_file)
    credential = Path(credential_file).read_text().strip()
    voter = signer_did(PrivateKey.generate().public_key)
    _wait(ledger)
    challenge = registrar.challenge(poll, voter)
    shown = present(
        credential,
        wallet,
        disclose=["ageOver14", "personPseudonym"],
        aud=challenge.aud,
        nonce=challenge.nonce,
    )
    try:
        done = registrar.register(ledger, poll, shown, voter=voter, nonce=challenge.nonce)
    except SeoulVCError as exc:
        _say(f"refused {exc.code} {voter}")
    else:
        _say(f"ok {done.index} {int(done.duplicate)} {done.nullifier}")


def main(argv: list[str]) -> int:
    mode, url = argv[0], argv[1]
    ledger = Ledger.open(url)
    try:
        if mode == "spend":
            spend(ledger, PrivateKey.load(argv[2]), int(argv[3]), int(argv[4]), int(argv[5]))
        elif mode == "register":
            register(ledger, argv[2:])
        else:
            voter_key, poll, choice = PrivateKey.load(argv[2]), argv[3], int(argv[4])
            _wait(ledger)
            try:
                receipt = cast(ledger, voter_key, poll, choice)
            except SeoulVCError as exc:
                _say(f"refused {exc.code} {choice}")
            else:
                _say(f"ok {receipt.index} 0 {choice}")
    finally:
        ledger.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
