"""``seoul-vc wallet``, ``request create`` and ``verify --receipt``, as agencies and citizens."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from test_cli import run  # this folder's CLI runner
from test_cli_credentials import Agency

ORIGIN = "ledger.seoul.example/e2e-wallet"
PIN = "482913"
VCT = "https://schemas.seoul-vc.example/credentials/residency/v1"


def _json(*args: str) -> tuple[int, dict[str, Any]]:
    proc = run(*args, "--json")
    assert proc.stdout, proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def test_grant_present_verify_and_refuse_past_the_budget(tmp_path: Path) -> None:
    """Create, receive, consent to 1 view of 2 of 4 asked claims, present, verify, refuse."""
    agency = Agency(tmp_path)
    f = tmp_path
    for name in ("operator", "log", "housing"):
        assert run("key", "new", "--out", str(f / f"{name}.jwk")).returncode == 0
    db = f"sqlite:{f / 'ledger.db'}"
    assert (
        run(
            "ledger",
            "init",
            "--origin",
            ORIGIN,
            "--operator-key",
            str(f / "operator.jwk"),
            "--db",
            db,
        ).returncode
        == 0
    )
    code, cp = _json(
        "ledger",
        "checkpoint",
        "--log-key",
        str(f / "log.jwk"),
        "--db",
        db,
        "--out",
        str(f / "cp.note"),
    )
    assert code == 0
    group = [
        "wallet",
        "--store",
        f"sqlite:{f / 'wallets.db'}",
        "--ledger",
        db,
        "--master-key",
        str(f / "master.key"),
        "--log-key",
        str(f / "log.jwk"),
        "--trust",
        str(agency.trust),
    ]
    assert run(*group, "master-key", "--out", str(f / "master.key")).returncode == 0
    code, created = _json(*group, "create", "--pin", PIN)
    assert code == 0
    wallet, holder = created["wallet"], created["holder"]
    credential = f / "residency.sdjwt"
    assert (
        run(
            "issue",
            "--key",
            str(agency.issuer_key),
            "--type",
            "ResidencyCredential",
            "--subject",
            str(agency.subject),
            "--holder",
            holder,
            "--out",
            str(credential),
        ).returncode
        == 0
    )
    code, held = _json(*group, "receive", wallet, str(credential))
    assert (code, held["type"]) == (0, "ResidencyCredential")
    code, listed = _json(*group, "list", wallet, "--pin", PIN)
    assert [c["id"] for c in listed["credentials"]] == [held["id"]]

    def request(name: str) -> tuple[Path, str]:
        out = f / f"{name}.jwt"
        code, made = _json(
            "request",
            "create",
            "--key",
            str(f / "housing.jwk"),
            "--vct",
            VCT,
            "--claim",
            "address.district",
            "--claim",
            "ageOver19",
            "--claim",
            "name",
            "--claim",
            "birthDate",
            "--purpose",
            "Youth housing",
            "--out",
            str(out),
        )
        assert code == 0
        return out, made["nonce"]

    first, _ = request("first")
    code, grant = _json(
        *group,
        "consent",
        "grant",
        wallet,
        str(first),
        "--pin",
        PIN,
        "--views",
        "1",
        "--claim",
        "address.district",
        "--claim",
        "ageOver19",
    )
    assert code == 0, grant
    consent = grant["consent_id"]
    view_req, _ = request("view")
    shown, receipt = f / "shown.txt", f / "receipt.json"
    code, served = _json(
        *group,
        "present",
        wallet,
        consent,
        str(view_req),
        "--out",
        str(shown),
        "--receipt-out",
        str(receipt),
    )
    assert code == 0, served
    assert (served["view"], served["max_views"]) == (1, 1)
    code, checked = _json(
        "verify",
        str(shown),
        "--trust",
        str(agency.trust),
        "--request",
        str(view_req),
        "--receipt",
        str(receipt),
        "--origin",
        ORIGIN,
        "--log-vkey",
        cp["log_vkey"],
        "--unwitnessed",
    )
    assert code == 0, checked
    assert checked["claims"] == {
        "credential": {"address": {"district": "마포구"}, "ageOver19": True}
    }
    assert (checked["view"], checked["max_views"]) == (1, 1)

    again, _ = request("again")
    code, refused = _json(*group, "present", wallet, consent, str(again))
    assert (code, refused["error"]["code"]) == (1, "consent_exhausted")
    code, history = _json(*group, "history", wallet, "--pin", PIN)
    kinds = [e["kind"] for e in history["events"]]
    assert kinds == ["credential_received", "consent_granted", "view", "refusal"]
    code, _ = _json(*group, "consent", "withdraw", wallet, consent, "--pin", PIN)
    assert code == 0
    code, listed = _json(*group, "consent", "list", wallet, "--pin", PIN)
    assert listed["consents"][0]["withdrawn"] is True


def test_wrong_pin_and_missing_master_key_fail_cleanly(tmp_path: Path) -> None:
    """Bad PIN: exit 1 unlock_failed; no master key: exit 2; never a traceback."""
    f = tmp_path
    assert run("key", "new", "--out", str(f / "operator.jwk")).returncode == 0
    db = f"sqlite:{f / 'ledger.db'}"
    assert (
        run(
            "ledger",
            "init",
            "--origin",
            ORIGIN,
            "--operator-key",
            str(f / "operator.jwk"),
            "--db",
            db,
        ).returncode
        == 0
    )
    group = ["wallet", "--store", f"sqlite:{f / 'wallets.db'}", "--ledger", db]
    code, result = _json(*group, "create", "--pin", PIN)
    assert (code, result["error"]["code"]) == (2, "bad_argument")
    assert run(*group, "master-key", "--out", str(f / "m.key")).returncode == 0
    keyed = ["wallet", "--master-key", str(f / "m.key"), *group[1:]]
    code, created = _json(*keyed, "create", "--pin", PIN)
    assert code == 0
    code, result = _json(*keyed, "list", created["wallet"], "--pin", "000000")
    assert (code, result["error"]["code"]) == (1, "unlock_failed")
