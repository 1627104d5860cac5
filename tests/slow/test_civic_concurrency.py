"""Concurrency of voting and mileage: eight processes at once, on SQLite and PostgreSQL.

Each test starts eight ``civic_worker.py`` children on one ledger store, waits until every
one has opened it, starts them together and reads what each acknowledged:

* eight processes spending 1 S-Coin each from one account of 100, with keys shared by all
  of them and keys of their own, every attempt retried: exactly 100 keys apply, each once,
  retries come back as duplicates of the first application, the balance ends at 0 and was
  never overdrawn, the merchant's unsettled total is 100, and the log audits and replays;
* eight processes registering the same person at once (re-issued credentials in eight
  wallets): exactly one registration, seven ``nullifier_used``;
* eight processes casting ballots with one voter key at once: exactly one ballot.
"""

from __future__ import annotations

import base64
import json
import secrets
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from seoul_vc import Issuer, Ledger, PrivateKey, TrustRegistry, Verifier, present
from seoul_vc.credentials.schemas import example_subject
from seoul_vc.ledger.entry import signer_did
from seoul_vc.mileage import MileageAccounts
from seoul_vc.voting import Registrar, open_poll, recount, tally

pytestmark = pytest.mark.slow

WORKER = Path(__file__).with_name("civic_worker.py")
PROCESSES = 8


class Workers:
    """Children started together; ``lines()`` returns what each printed after ``ready``."""

    def __init__(self, argvs: list[list[str]], tmp_path: Path) -> None:
        self.errors = [(tmp_path / f"worker-{n}.err").open("w") for n in range(len(argvs))]
        self.procs = [
            subprocess.Popen(
                [sys.executable, str(WORKER), *argv],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
            )
            for argv, stderr in zip(argvs, self.errors, strict=True)
        ]
        self.tmp_path = tmp_path

    def run(self, timeout: float = 240) -> list[list[str]]:
        for n, proc in enumerate(self.procs):
            assert proc.stdout is not None
            ready = proc.stdout.readline()
            assert ready == "ready\n", (self.tmp_path / f"worker-{n}.err").read_text()
        for proc in self.procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        outputs = []
        for n, proc in enumerate(self.procs):
            out, _ = proc.communicate(timeout=timeout)
            assert proc.returncode == 0, (self.tmp_path / f"worker-{n}.err").read_text()
            outputs.append(out.splitlines())
        return outputs

    def kill(self) -> None:
        """Kill children still running; close every pipe and stderr file."""
        for proc in self.procs:
            if proc.returncode is None:
                proc.kill()
                proc.wait()
            for stream in (proc.stdin, proc.stdout):
                if stream is not None:
                    stream.close()
        for stderr in self.errors:
            stderr.close()


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[list[Workers]]:
    started: list[Workers] = []
    yield started
    for group in started:
        group.kill()


def test_eight_processes_never_overdraw_one_account(
    store_url: str, tmp_path: Path, workers: list[Workers]
) -> None:
    """100 S-Coin, 8 x (20 shared + 20 own keys) x 2 tries: exactly 100 spends apply."""
    office, eco, citizen = (PrivateKey.generate() for _ in range(3))
    ledger = Ledger.open(store_url)
    try:
        ledger.genesis(
            origin="mileage.seoul.example/slow",
            operator=office,
            grants={
                signer_did(office.public_key): ["mileage.programme", "mileage.merchant"],
                signer_did(eco.public_key): ["mileage.accrue"],
            },
        )
        accounts = MileageAccounts(ledger)
        account = signer_did(citizen.public_key)
        accounts.register_programme(office, "eco", authority=signer_did(eco.public_key))
        accounts.register_merchant(office, "gift", kind="voucher")
        accounts.accrue(eco, programme="eco", account=account, amount=100, idempotency_key="a")
        accounts.convert(citizen, programme="eco", points=100, idempotency_key="c")
    finally:
        ledger.close()
    key_file = tmp_path / "citizen.jwk"
    citizen.save(key_file)
    group = Workers(
        [["spend", store_url, str(key_file), str(n), "20", "20"] for n in range(PROCESSES)],
        tmp_path,
    )
    workers.append(group)
    outputs = group.run()

    applied: dict[str, int] = {}
    duplicates: list[tuple[str, int]] = []
    refusals: Counter[str] = Counter()
    for lines in outputs:
        assert len(lines) == 2 * 40
        for line in lines:
            word, *rest = line.split()
            if word == "refused":
                refusals[rest[0]] += 1
            elif rest[1] == "0":
                assert rest[2] not in applied, f"{rest[2]} applied twice"
                applied[rest[2]] = int(rest[0])
            else:
                duplicates.append((rest[2], int(rest[0])))
    assert len(applied) == 100
    assert set(refusals) == {"insufficient_balance"}
    # Every duplicate names the index where its key was applied.
    assert all(applied[key] == index for key, index in duplicates)

    ledger = Ledger.open(store_url)
    try:
        accounts = MileageAccounts(ledger)
        assert accounts.balance(account).coins == 0
        gift = accounts.merchant("gift")
        assert (gift.pending, gift.pending_spends, gift.spent) == (100, 100, 100)
        ledger.audit()
        ledger.rebuild()
        assert accounts.balance(account).coins == 0
        assert accounts.merchant("gift") == gift
    finally:
        ledger.close()


def _civic(store_url: str, tmp_path: Path) -> tuple[Issuer, PrivateKey, Path, Path, Path]:
    """A ledger with poll ``park``; the registrar's key, secret and trust files."""
    operator, proposer, registrar_key = (PrivateKey.generate() for _ in range(3))
    ministry = Issuer(PrivateKey.generate())
    secret = secrets.token_bytes(32)
    ledger = Ledger.open(store_url)
    try:
        ledger.genesis(
            origin="vote.seoul.example/slow",
            operator=operator,
            grants={
                signer_did(proposer.public_key): ["voting.open"],
                signer_did(registrar_key.public_key): ["voting.register"],
            },
        )
        now = datetime.now(UTC)
        open_poll(
            ledger,
            proposer,
            poll_id="park",
            question="Build the park?",
            options=["yes", "no"],
            opens_at=now - timedelta(minutes=1),
            closes_at=now + timedelta(days=1),
            rule={"claim": "ageOver14", "equals": True},
            registrar=signer_did(registrar_key.public_key),
        )
    finally:
        ledger.close()
    registrar_file, secret_file, trust_file = (
        tmp_path / "registrar.jwk",
        tmp_path / "registrar.secret",
        tmp_path / "trust.json",
    )
    registrar_key.save(registrar_file)
    secret_file.write_text(base64.urlsafe_b64encode(secret).decode().rstrip("="))
    trust_file.write_text(
        json.dumps({"issuers": [{"id": ministry.did, "types": ["ResidencyCredential"]}]})
    )
    return ministry, registrar_key, registrar_file, secret_file, trust_file


def test_eight_processes_registering_one_person_register_once(
    store_url: str, tmp_path: Path, workers: list[Workers]
) -> None:
    """Eight wallets with re-issued credentials of one person, at once: one registration."""
    ministry, _, registrar_file, secret_file, trust_file = _civic(store_url, tmp_path)
    subject = example_subject("residency")
    argvs = []
    for n in range(PROCESSES):
        wallet = PrivateKey.generate("ES256")
        wallet.save(tmp_path / f"wallet-{n}.jwk")
        token = ministry.issue("ResidencyCredential", subject, holder=wallet.public_key)
        (tmp_path / f"credential-{n}.txt").write_text(token)
        argvs.append(
            ["register", store_url, str(registrar_file), str(secret_file), str(trust_file),
             str(tmp_path / f"wallet-{n}.jwk"), str(tmp_path / f"credential-{n}.txt"), "park"]
        )  # fmt: skip
    group = Workers(argvs, tmp_path)
    workers.append(group)
    lines = [line for out in group.run() for line in out]
    outcomes = sorted(" ".join(line.split()[:2]) for line in lines if line.startswith("refused"))
    assert outcomes == ["refused nullifier_used"] * 7
    assert len([line for line in lines if line.startswith("ok ")]) == 1
    ledger = Ledger.open(store_url)
    try:
        assert tally(ledger, "park").registered == 1
        assert recount(ledger, "park") == tally(ledger, "park")
    finally:
        ledger.close()


def test_eight_processes_casting_with_one_voter_key_cast_once(
    store_url: str, tmp_path: Path, workers: list[Workers]
) -> None:
    """One registered voter key, eight ballots at once: one is counted."""
    ministry, registrar_key, _, secret_file, trust_file = _civic(store_url, tmp_path)
    wallet, voter = PrivateKey.generate("ES256"), PrivateKey.generate()

    registrar = Registrar(
        registrar_key,
        nullifier_secret=base64.urlsafe_b64decode(secret_file.read_text() + "=="),
        verifier=Verifier(trust=TrustRegistry.from_file(trust_file)),
    )
    token = ministry.issue(
        "ResidencyCredential", example_subject("residency"), holder=wallet.public_key
    )
    challenge = registrar.challenge("park", signer_did(voter.public_key))
    shown = present(
        token, wallet, disclose=["ageOver14", "personPseudonym"], aud=challenge.aud,
        nonce=challenge.nonce,
    )  # fmt: skip
    ledger = Ledger.open(store_url)
    try:
        registrar.register(
            ledger, "park", shown, voter=signer_did(voter.public_key), nonce=challenge.nonce
        )
    finally:
        ledger.close()
    voter.save(tmp_path / "voter.jwk")
    group = Workers(
        [["cast", store_url, str(tmp_path / "voter.jwk"), "park", str(n % 2)]
         for n in range(PROCESSES)],
        tmp_path,
    )  # fmt: skip
    workers.append(group)
    lines = [line for out in group.run() for line in out]
    accepted = {line.split()[1] for line in lines if line.startswith("ok")}
    refused = [line.split()[1] for line in lines if line.startswith("refused")]
    # Identical entries (same choice, same second) come back as one duplicate receipt.
    assert len(accepted) == 1
    assert set(refused) <= {"already_voted"}
    ledger = Ledger.open(store_url)
    try:
        assert tally(ledger, "park").ballots == 1
        assert recount(ledger, "park") == tally(ledger, "park")
    finally:
        ledger.close()
