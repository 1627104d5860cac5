"""``seoul-vc vote`` and ``seoul-vc mileage`` as users drive them, through the installed CLI.

One folder per module with the default database: the operator's genesis grants the proposer,
the registrar, the mileage office and the eco programme their record types. Voting: open,
challenge, present (``seoul-vc present``), register, cast, a second registration of the same
person refused, tally with recount, close, a late ballot refused. Mileage: programme,
merchant, accrue, convert, spend (and its retry), transfer, balance, settle and refusals.
Every assertion is on exit codes and ``--json`` fields and error codes.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from seoul_vc import Issuer, PrivateKey, did_key
from seoul_vc.credentials.schemas import example_subject

SCRIPT = Path(sys.executable).with_name("seoul-vc")


def run_json(cwd: Path, *args: str) -> tuple[int, dict[str, Any]]:
    env = {k: v for k, v in os.environ.items() if k != "SEOUL_VC_DEBUG"}
    proc = subprocess.run(
        [str(SCRIPT), *args, "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        env=env,
        check=False,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    result: dict[str, Any] = json.loads(proc.stdout)
    return proc.returncode, result


def ok(cwd: Path, *args: str) -> dict[str, Any]:
    code, result = run_json(cwd, *args)
    assert code == 0, result
    assert result["ok"] is True
    return result


def refused(cwd: Path, *args: str) -> tuple[int, str]:
    code, result = run_json(cwd, *args)
    assert result["ok"] is False, result
    return code, str(result["error"]["code"])


def did(folder: Path, name: str) -> str:
    return did_key(PrivateKey.load(folder / f"{name}.jwk").public_key)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Keys, a trusted ministry, a registrar secret and a ledger with the grants."""
    folder = tmp_path_factory.mktemp("civic")
    names = ("operator", "proposer", "registrar", "office", "eco", "alice", "bob", "voter")
    for name in names:
        PrivateKey.generate().save(folder / f"{name}.jwk")
    ministry = PrivateKey.generate()
    ministry.save(folder / "ministry.jwk")
    (folder / "trust.json").write_text(
        json.dumps({"issuers": [{"id": did_key(ministry.public_key), "types": [
            "ResidencyCredential"]}]})
    )  # fmt: skip
    secret = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")
    (folder / "registrar.secret").write_text(secret + "\n")
    (folder / "rule.json").write_text(
        json.dumps({"all": [{"claim": "address.district", "in": ["마포구"]},
                            {"claim": "ageOver14", "equals": True}]})
    )  # fmt: skip
    ok(
        folder, "ledger", "init", "--origin", "civic.seoul.example/e2e",
        "--operator-key", "operator.jwk",
        "--grant", f"{did(folder, 'proposer')}=voting.open",
        "--grant", f"{did(folder, 'registrar')}=voting.register",
        "--grant", f"{did(folder, 'office')}=mileage.programme,mileage.merchant,mileage.settle",
        "--grant", f"{did(folder, 'eco')}=mileage.accrue",
    )  # fmt: skip
    return folder


def credential(folder: Path, wallet: str) -> Path:
    """A residency credential (the example subject: Mapo-gu, adult) bound to ``wallet``."""
    key = PrivateKey.load(folder / "ministry.jwk")
    holder = PrivateKey.load(folder / f"{wallet}.jwk")
    token = Issuer(key).issue(
        "ResidencyCredential", example_subject("residency"), holder=holder.public_key
    )
    path = folder / f"{wallet}.credential"
    path.write_text(token + "\n")
    return path


def present_for(folder: Path, poll: str, voter: str, wallet: str) -> tuple[str, str]:
    challenge = ok(folder, "vote", "challenge", "--poll", poll, "--voter", voter)
    disclose = [arg for claim in challenge["disclose"] for arg in ("--disclose", claim)]
    ok(
        folder, "present", str(credential(folder, wallet)), "--holder-key", f"{wallet}.jwk",
        "--aud", challenge["aud"], "--nonce", challenge["nonce"], *disclose,
        "--out", f"{wallet}-{poll}.vp",
    )  # fmt: skip
    return f"{wallet}-{poll}.vp", challenge["nonce"]


def register(folder: Path, poll: str, voter: str, wallet: str) -> tuple[int, dict[str, Any]]:
    shown, nonce = present_for(folder, poll, voter, wallet)
    return run_json(
        folder, "vote", "register", shown, "--key", "registrar.jwk",
        "--secret", "registrar.secret", "--trust", "trust.json", "--poll", poll,
        "--voter", voter, "--nonce", nonce,
    )  # fmt: skip


def test_vote_from_open_to_close(folder: Path) -> None:
    """Open, register, cast, tally (= recount), close; doubles and late ballots refused."""
    closes = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    opened = ok(
        folder, "vote", "open", "--key", "proposer.jwk", "--poll", "park",
        "--question", "Build the park?", "--option", "yes", "--option", "no",
        "--closes-at", closes, "--rule", "rule.json", "--registrar", did(folder, "registrar"),
    )  # fmt: skip
    assert opened["claims"] == ["address.district", "ageOver14"]
    voter = did(folder, "voter")
    code, registered = register(folder, "park", voter, "alice")
    assert code == 0, registered
    assert len(registered["nullifier"]) == 64
    # The same person from a second wallet, with a fresh voter key: nullifier_used.
    other_voter = did_key(PrivateKey.generate().public_key)
    code, again = register(folder, "park", other_voter, "bob")
    assert (code, again["error"]["code"]) == (1, "nullifier_used")
    ballot = ok(folder, "vote", "cast", "--voter-key", "voter.jwk", "--poll", "park",
                "--choice", "yes", "--receipt", "receipt.json")  # fmt: skip
    assert json.loads((folder / "receipt.json").read_text())["index"] == ballot["index"]
    assert refused(
        folder, "vote", "cast", "--voter-key", "voter.jwk", "--poll", "park", "--choice", "1"
    ) == (1, "already_voted")
    tally = ok(folder, "vote", "tally", "--poll", "park", "--recount")
    assert (tally["counts"], tally["ballots"], tally["registered"]) == ([1, 0], 1, 1)
    assert tally["recount_matches"] is True
    assert refused(folder, "vote", "close", "--key", "alice.jwk", "--poll", "park") == (
        1,
        "untrusted_signer",
    )
    closed = ok(folder, "vote", "close", "--key", "proposer.jwk", "--poll", "park")
    assert closed["closed"] is True
    assert refused(
        folder, "vote", "cast", "--voter-key", "voter.jwk", "--poll", "park", "--choice", "no"
    ) == (1, "poll_closed")


def test_vote_refusals_have_codes(folder: Path) -> None:
    """Unknown poll, a bad rule file, a bad secret: codes and exit statuses."""
    assert refused(folder, "vote", "tally", "--poll", "nowhere") == (1, "unknown_poll")
    (folder / "bad-rule.json").write_text('{"claim": "x", "regex": ".*"}')
    assert refused(
        folder, "vote", "open", "--key", "proposer.jwk", "--poll", "bad", "--question", "q?",
        "--option", "a", "--option", "b", "--closes-at", "2099-01-01T00:00:00Z",
        "--rule", "bad-rule.json", "--registrar", did(folder, "registrar"),
    ) == (1, "malformed")  # fmt: skip
    (folder / "short.secret").write_text("c2hvcnQ\n")
    code, error = refused(
        folder, "vote", "register", "rule.json", "--key", "registrar.jwk",
        "--secret", "short.secret", "--trust", "trust.json", "--poll", "park",
        "--voter", did(folder, "voter"), "--nonce", "n",
    )  # fmt: skip
    assert (code, error) == (2, "bad_argument")


def test_mileage_from_accrual_to_settlement(folder: Path) -> None:
    """Accrue, convert, spend (retried once), transfer, balance, settle."""
    alice, bob = did(folder, "alice"), did(folder, "bob")
    ok(folder, "mileage", "programme", "--key", "office.jwk", "--name", "eco",
       "--authority", did(folder, "eco"))  # fmt: skip
    ok(folder, "mileage", "merchant", "--key", "office.jwk", "--id", "tmoney", "--kind", "transit")
    ok(folder, "mileage", "accrue", "--key", "eco.jwk", "--programme", "eco", "--account", alice,
       "--amount", "500", "--idempotency-key", "eco-1")  # fmt: skip
    ok(folder, "mileage", "convert", "--key", "alice.jwk", "--programme", "eco",
       "--points", "300")  # fmt: skip
    spend = ("mileage", "spend", "--key", "alice.jwk", "--merchant", "tmoney", "--amount", "120",
             "--idempotency-key", "ride-1")  # fmt: skip
    first, retry = ok(folder, *spend), ok(folder, *spend)
    assert (first["duplicate"], retry["duplicate"], retry["index"]) == (
        False,
        True,
        first["index"],
    )
    ok(folder, "mileage", "transfer", "--key", "alice.jwk", "--to", bob, "--amount", "80")
    balance = ok(folder, "mileage", "balance", alice)
    assert (balance["coins"], balance["points"]) == (100, {"eco": 200})
    assert ok(folder, "mileage", "balance", "--key", "bob.jwk")["coins"] == 80
    settled = ok(folder, "mileage", "settle", "--key", "office.jwk", "--merchant", "tmoney",
                 "--period", "2026-01")  # fmt: skip
    assert (settled["amount"], settled["spends"]) == (120, 1)


def test_mileage_refusals_have_codes(folder: Path) -> None:
    """Overdraft, unknown merchant, accrual by a citizen, bad arguments."""
    assert refused(
        folder, "mileage", "spend", "--key", "bob.jwk", "--merchant", "tmoney",
        "--amount", "1000000",
    ) == (1, "insufficient_balance")  # fmt: skip
    assert refused(
        folder, "mileage", "spend", "--key", "bob.jwk", "--merchant", "casino", "--amount", "1"
    ) == (1, "unknown_merchant")
    assert refused(
        folder, "mileage", "accrue", "--key", "bob.jwk", "--programme", "eco",
        "--account", did(folder, "bob"), "--amount", "5",
    ) == (1, "untrusted_signer")  # fmt: skip
    assert refused(folder, "mileage", "balance", did(folder, "bob"), "--key", "bob.jwk") == (
        2,
        "bad_argument",
    )
    proc = subprocess.run(
        [str(SCRIPT), "mileage", "spend", "--key", "bob.jwk", "--merchant", "m", "--amount", "0"],
        capture_output=True, text=True, timeout=60, cwd=folder, check=False,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
