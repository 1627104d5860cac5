"""``seoul-vc status create | revoke | suspend | reinstate | publish | check`` end to end.

The installed console script runs in a temporary folder: the agency allocates a status entry,
the credential is issued with it (``seoul-vc issue --status``), lists are published to a
folder and anchored on a ledger, and ``check`` reads them back from the folder — in anchored
mode too — and exits 1 with ``revoked``/``suspended``.
"""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from test_cli import run  # this folder's CLI runner

from seoul_vc.credentials.schemas import example_subject

BASE = "https://status.seoul.example/lists"
ORIGIN = "ledger.seoul.example/status-cli"


def run_json(*args: str, cwd: Path) -> tuple[int, dict[str, Any]]:
    proc = run(*args, "--json", cwd=cwd)
    assert proc.stdout, proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def ok(cwd: Path, *args: str) -> dict[str, Any]:
    code, out = run_json(*args, cwd=cwd)
    assert code == 0, out
    return out


class Agency:
    def __init__(self, folder: Path, did: str) -> None:
        self.folder = folder
        self.did = did
        self.key = ["--key", "agency.jwk", "--base-url", BASE]

    @classmethod
    def found(cls, folder: Path) -> Agency:
        """Keys and a ledger granting the agency ``status.publish``, made with the CLI."""
        for name in ("agency", "operator", "log"):
            assert run("key", "new", "--out", f"{name}.jwk", cwd=folder).returncode == 0
        did = ok(folder, "key", "public", "agency.jwk")["did_key"]
        ok(folder, "ledger", "init", "--origin", ORIGIN, "--operator-key", "operator.jwk",
           "--grant", f"{did}=status.publish", "--db", "sqlite:ledger.db")  # fmt: skip
        return cls(folder, did)

    def copy(self, target: Path) -> Agency:
        """The same agency in ``target``: its keys and ledger copied, nothing shared."""
        shutil.copytree(self.folder, target)
        return Agency(target, self.did)

    def credential(self, fmt: str) -> Path:
        entry = f"status-{fmt}.json"
        ok(self.folder, "status", "create", *self.key, "--format", fmt, "--out", entry)
        (self.folder / "subject.json").write_text(json.dumps(example_subject("income")))
        path = self.folder / f"credential-{fmt}.txt"
        ok(self.folder, "issue", "--key", "agency.jwk", "--type", "IncomeCredential",
           "--subject", "subject.json", "--format", fmt, "--status", entry,
           "--out", path.name)  # fmt: skip
        return path

    def publish(self) -> dict[str, Any]:
        return ok(
            self.folder, "status", "publish", *self.key, "--out-dir", "www",
            "--ledger", "sqlite:ledger.db", "--log-key", "log.jwk",
        )  # fmt: skip

    def check(self, credential: Path, *extra: str) -> tuple[int, dict[str, Any]]:
        return run_json(
            "status", "check", str(credential), "--dir", "www", "--base-url", BASE, *extra,
            cwd=self.folder,
        )  # fmt: skip


@pytest.fixture(scope="module")
def founded(tmp_path_factory: pytest.TempPathFactory) -> Agency:
    """One founding per module (five CLI runs); each test works on its own copy."""
    return Agency.found(tmp_path_factory.mktemp("agency"))


@pytest.fixture
def agency(founded: Agency, tmp_path: Path) -> Agency:
    return founded.copy(tmp_path / "agency")


@pytest.mark.parametrize("fmt", ["vc+jwt", "dc+sd-jwt"])
def test_revoke_publish_check(agency: Agency, fmt: str) -> None:
    """Valid -> revoke -> publish -> check exits 1 with revoked."""
    credential = agency.credential(fmt)
    published = agency.publish()["published"]
    assert all(p["receipt"]["bundle"] for p in published)
    code, out = agency.check(credential)
    assert code == 0
    assert {r["state"] for r in out["status"]} == {"valid"}
    assert ok(agency.folder, "status", "revoke", str(credential), *agency.key)["state"] == "revoked"
    agency.publish()
    code, out = agency.check(credential)
    assert code == 1
    assert out["error"]["code"] == "revoked"


def test_suspend_and_reinstate(agency: Agency) -> None:
    """Suspend -> publish -> check exits 1 suspended; reinstate -> publish -> valid."""
    credential = agency.credential("vc+sd-jwt")
    ok(agency.folder, "status", "suspend", str(credential), *agency.key)
    agency.publish()
    code, out = agency.check(credential)
    assert (code, out["error"]["code"]) == (1, "suspended")
    ok(agency.folder, "status", "reinstate", str(credential), *agency.key)
    agency.publish()
    assert agency.check(credential)[0] == 0


def test_reinstating_a_revoked_credential_is_a_conflict(agency: Agency) -> None:
    """Revocation is final: exit 1 with conflict."""
    credential = agency.credential("dc+sd-jwt")
    ok(agency.folder, "status", "revoke", str(credential), *agency.key)
    code, out = run_json("status", "reinstate", str(credential), *agency.key, cwd=agency.folder)
    assert (code, out["error"]["code"]) == (1, "conflict")


def test_anchored_check_refuses_a_superseded_list(agency: Agency) -> None:
    """With --ledger, the folder's list must be the latest anchored version."""
    credential = agency.credential("dc+sd-jwt")
    agency.publish()
    cp = ok(agency.folder, "ledger", "checkpoint", "--log-key", "log.jwk", "--db",
            "sqlite:ledger.db")  # fmt: skip
    anchored = ["--ledger", "sqlite:ledger.db", "--origin", ORIGIN, "--log-vkey", cp["log_vkey"]]
    assert agency.check(credential, *anchored)[0] == 0
    www = agency.folder / "www"
    shutil.copytree(www, agency.folder / "old")
    ok(agency.folder, "status", "revoke", str(credential), *agency.key)
    agency.publish()
    shutil.rmtree(www)
    shutil.copytree(agency.folder / "old", www)
    code, out = agency.check(credential, *anchored)
    assert (code, out["error"]["code"]) == (1, "status_list_not_anchored")


def test_check_of_garbage_exits_1_without_traceback(agency: Agency) -> None:
    """Input that is neither a credential nor a status entry: exit 1, a code, no traceback."""
    proc = run("status", "check", "-", "--json", cwd=agency.folder, stdin="not a credential")
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert json.loads(proc.stdout)["error"]["code"] == "malformed"


def test_malformed_index_in_an_entry_file_is_refused(agency: Agency) -> None:
    """A status entry file with a non-canonical index: status_index_invalid, exit 1."""
    entry = {"type": "BitstringStatusListEntry", "statusPurpose": "revocation",
             "statusListIndex": "01", "statusListCredential": f"{BASE}/x/revocation"}  # fmt: skip
    (agency.folder / "entry.json").write_text(json.dumps(entry))
    code, out = run_json(
        "status", "check", "entry.json", "--issuer", agency.did, "--dir", "www", "--base-url",
        BASE, cwd=agency.folder,
    )  # fmt: skip
    assert (code, out["error"]["code"]) == (1, "status_index_invalid")


def test_issue_takes_the_json_output_of_status_create(agency: Agency) -> None:
    created = ok(agency.folder, "status", "create", *agency.key, "--format", "dc+sd-jwt")
    (agency.folder / "created.json").write_text(json.dumps(created))
    (agency.folder / "subject.json").write_text(json.dumps(example_subject("income")))
    issued = ok(agency.folder, "issue", "--key", "agency.jwk", "--type", "IncomeCredential",
                "--subject", "subject.json", "--status", "created.json")  # fmt: skip
    payload = issued["credential"].split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["status"] == created["status"]


@pytest.mark.parametrize(
    ("entry_for", "issue_as"), [("dc+sd-jwt", "vc+jwt"), ("vc+jwt", "dc+sd-jwt")]
)
def test_issue_refuses_a_status_entry_of_the_other_kind(
    agency: Agency, entry_for: str, issue_as: str
) -> None:
    ok(agency.folder, "status", "create", *agency.key, "--format", entry_for, "--out", "s.json")
    (agency.folder / "subject.json").write_text(json.dumps(example_subject("income")))
    code, out = run_json("issue", "--key", "agency.jwk", "--type", "IncomeCredential",
                         "--subject", "subject.json", "--format", issue_as, "--status", "s.json",
                         cwd=agency.folder)  # fmt: skip
    assert code == 1
    assert out["error"]["code"] == "malformed"
