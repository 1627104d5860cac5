"""``seoul-vc ledger`` as a user drives it: init, append, checkpoint, cosign, prove, verify.

One scenario is built once per module in a temporary folder, with the default database
(``seoul-vc-ledger.db`` in the current folder): genesis and three grants, a checkpoint cosigned
by two of three witnesses, and a proof bundle of entry 2. Tests that change anything work on a
copy of that folder. Every assertion is on exit codes and ``--json`` error codes.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from seoul_vc import PrivateKey, did_key

SCRIPT = Path(sys.executable).with_name("seoul-vc")
ORIGIN = "ledger.seoul.example/e2e"
SIZE = 4  # genesis and three grants
COMMANDS = [
    "init",
    "append",
    "show",
    "checkpoint",
    "cosign",
    "prove",
    "verify-proof",
    "audit",
    "rebuild",
]


def run(cwd: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "SEOUL_VC_DEBUG"}
    return subprocess.run(
        [str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        env=env,
        input=stdin,
        check=False,
    )


def run_json(cwd: Path, *args: str, stdin: str | None = None) -> tuple[int, dict[str, Any]]:
    proc = run(cwd, *args, "--json", stdin=stdin)
    assert "Traceback" not in proc.stderr, proc.stderr
    result: dict[str, Any] = json.loads(proc.stdout)
    return proc.returncode, result


def ok(cwd: Path, *args: str, stdin: str | None = None) -> dict[str, Any]:
    code, result = run_json(cwd, *args, stdin=stdin)
    assert code == 0, result
    assert result["ok"] is True
    return result


def grant_body(did: str, record_type: str = "credential.ResidencyCredential") -> str:
    return json.dumps({"subject": did, "record_types": [record_type]})


@dataclass
class Scenario:
    folder: Path
    log_vkey: str
    witness_vkeys: list[str]

    def copy(self, target: Path) -> Scenario:
        shutil.copytree(self.folder, target)
        return Scenario(target, self.log_vkey, self.witness_vkeys)

    def verify(self, bundle: str, *extra: str) -> tuple[int, dict[str, Any]]:
        witnesses = [arg for vkey in self.witness_vkeys for arg in ("--witness", vkey)]
        return run_json(
            self.folder,
            "ledger",
            "verify-proof",
            bundle,
            "--origin",
            ORIGIN,
            "--log-vkey",
            self.log_vkey,
            *witnesses,
            *extra,
        )


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    folder = tmp_path_factory.mktemp("ledger")
    for name in ("operator", "log", "agency", "w1", "w2", "w3"):
        PrivateKey.generate().save(folder / f"{name}.jwk")
    agency = did_key(PrivateKey.load(folder / "agency.jwk").public_key)
    grant = f"{agency}=credential.ResidencyCredential"
    ok(
        folder,
        "ledger",
        "init",
        "--origin",
        ORIGIN,
        "--operator-key",
        "operator.jwk",
        "--grant",
        grant,
    )
    for n in range(SIZE - 1):
        subject = did_key(PrivateKey.generate().public_key)
        (folder / f"grant{n}.json").write_text(grant_body(subject))
        receipt = ok(
            folder, "ledger", "append", "--key", "operator.jwk", "--type", "authority.grant",
            "--body", f"grant{n}.json",
        )  # fmt: skip
        assert receipt["index"] == n + 1
    log_vkey = ok(folder, "ledger", "checkpoint", "--log-key", "log.jwk", "--out", "cp.note")[
        "log_vkey"
    ]
    vkeys = []
    note = "cp.note"
    for name in ("w1", "w2", "w3"):
        cosigned = ok(
            folder, "ledger", "cosign", "--witness-key", f"{name}.jwk", "--name",
            f"{name}.seoul.example", "--log-vkey", log_vkey, "--state", f"{name}.state",
            "--checkpoint", note, "--out", f"cp-{name}.note",
        )  # fmt: skip
        vkeys.append(cosigned["witness_vkey"])
        if name == "w1":
            note = "cp-w1.note"
    # cp-w2.note carries the cosignatures of w1 and w2; w3 cosigned only the bare note.
    ok(folder, "ledger", "prove", "2", "--checkpoint", "cp-w2.note", "--out", "entry2.bundle")
    return Scenario(folder, log_vkey, vkeys)


# -- the happy path ------------------------------------------------------------------------------


def test_bundle_verifies_offline_with_two_of_three_witnesses(
    scenario: Scenario, tmp_path: Path
) -> None:
    """The bundle alone, in an empty folder, verifies: exit 0, the entry and its cosigners."""
    shutil.copy(scenario.folder / "entry2.bundle", tmp_path / "entry2.bundle")
    isolated = Scenario(tmp_path, scenario.log_vkey, scenario.witness_vkeys)
    code, result = isolated.verify("entry2.bundle", "--threshold", "2")
    assert code == 0, result
    assert result["index"] == 2
    assert result["type"] == "authority.grant"
    assert result["size"] == SIZE
    assert sorted(result["cosigned_by"]) == ["w1.seoul.example", "w2.seoul.example"]
    # No database, no state: nothing but the bundle is in the folder.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["entry2.bundle"]


def test_prove_to_stdout_verifies_from_stdin(scenario: Scenario) -> None:
    """`prove` without --out prints the bundle; `verify-proof -` reads it from stdin."""
    text = run(scenario.folder, "ledger", "prove", "3", "--checkpoint", "cp-w2.note").stdout
    witnesses = [arg for vkey in scenario.witness_vkeys[:2] for arg in ("--witness", vkey)]
    result = ok(
        scenario.folder, "ledger", "verify-proof", "-", "--origin", ORIGIN,
        "--log-vkey", scenario.log_vkey, *witnesses, stdin=text,
    )  # fmt: skip
    assert result["index"] == 3


def test_show_prints_tree_head_and_entries(scenario: Scenario) -> None:
    """`show` gives origin, size and root; `show 0` the genesis entry."""
    head = ok(scenario.folder, "ledger", "show")
    assert (head["origin"], head["size"]) == (ORIGIN, SIZE)
    assert len(bytes.fromhex(head["root_hash"])) == 32
    assert ok(scenario.folder, "ledger", "show", "0")["entry"]["type"] == "authority.genesis"


def test_audit_of_intact_ledger_exits_zero(scenario: Scenario) -> None:
    """`audit` recomputes the tree and finds the stored checkpoint consistent."""
    result = ok(scenario.folder, "ledger", "audit")
    assert (result["size"], result["checkpoint_size"]) == (SIZE, SIZE)


# -- refusals ------------------------------------------------------------------------------------


def test_tampered_bundle_exits_one(scenario: Scenario, tmp_path: Path) -> None:
    """One changed entry byte in the bundle: inclusion_proof_invalid, exit 1."""
    document = json.loads((scenario.folder / "entry2.bundle").read_text())
    entry = document["entry"]
    document["entry"] = ("B" if entry[10] == "A" else "A").join([entry[:10], entry[11:]])
    (tmp_path / "bad.bundle").write_text(json.dumps(document))
    code, result = scenario.verify(str(tmp_path / "bad.bundle"), "--threshold", "2")
    assert code == 1
    assert result["error"]["code"] == "inclusion_proof_invalid"


def test_all_three_witnesses_required_is_quorum_not_met(scenario: Scenario) -> None:
    """By default every --witness must have cosigned; w3 did not cosign this note."""
    code, result = scenario.verify("entry2.bundle")
    assert code == 1
    assert result["error"]["code"] == "witness_quorum_not_met"


def test_wrong_origin_is_refused(scenario: Scenario) -> None:
    """A verifier expecting another log refuses the bundle."""
    code, result = run_json(
        scenario.folder, "ledger", "verify-proof", "entry2.bundle", "--origin", "other.example",
        "--log-vkey", scenario.log_vkey, "--unwitnessed",
    )  # fmt: skip
    assert code == 1
    assert result["error"]["code"] == "origin_mismatch"


def test_verify_proof_without_witness_policy_is_usage_error(scenario: Scenario) -> None:
    """Neither --witness nor --unwitnessed: the weaker check must be asked for, exit 2."""
    code, result = run_json(
        scenario.folder, "ledger", "verify-proof", "entry2.bundle", "--origin", ORIGIN,
        "--log-vkey", scenario.log_vkey,
    )  # fmt: skip
    assert code == 2
    assert result["error"]["code"] == "bad_argument"


def test_append_without_authority_is_refused(scenario: Scenario) -> None:
    """Only the operator grants: another key's grant is untrusted_signer, exit 1."""
    code, result = run_json(
        scenario.folder, "ledger", "append", "--key", "agency.jwk", "--type", "authority.grant",
        "--body", "-", stdin=grant_body(did_key(PrivateKey.generate().public_key)),
    )  # fmt: skip
    assert code == 1
    assert result["error"]["code"] == "untrusted_signer"


def test_append_of_duplicate_member_body_is_refused(scenario: Scenario) -> None:
    """A body that repeats a member name is refused before signing."""
    code, result = run_json(
        scenario.folder, "ledger", "append", "--key", "operator.jwk", "--type",
        "authority.grant", "--body", "-", stdin='{"subject": "a", "subject": "b"}',
    )  # fmt: skip
    assert code == 1
    assert result["error"]["code"] == "duplicate_key"


def test_init_of_existing_ledger_is_conflict(scenario: Scenario) -> None:
    """A second genesis is refused by the ledger state."""
    code, result = run_json(
        scenario.folder, "ledger", "init", "--origin", ORIGIN, "--operator-key", "operator.jwk"
    )
    assert code == 1
    assert result["error"]["code"] == "conflict"


def test_missing_database_is_not_found(tmp_path: Path) -> None:
    """Commands other than init do not create a database: not_found, exit 3."""
    code, result = run_json(tmp_path, "ledger", "show")
    assert code == 3
    assert result["error"]["code"] == "not_found"
    assert not (tmp_path / "seoul-vc-ledger.db").exists()


# -- changing a copy ---------------------------------------------------------------------------


def test_tampered_row_makes_audit_exit_four(scenario: Scenario, tmp_path: Path) -> None:
    """An entry edited in SQLite: audit exits 4 with ledger_tampered and its index."""
    copy = scenario.copy(tmp_path / "copy")
    with sqlite3.connect(copy.folder / "seoul-vc-ledger.db") as conn:
        (entry,) = conn.execute("SELECT entry FROM entries WHERE idx = 3").fetchone()
        edited = bytes(entry).replace(b"Residency", b"Residencz")
        conn.execute("UPDATE entries SET entry = ? WHERE idx = 3", (edited,))
    conn.close()
    code, result = run_json(copy.folder, "ledger", "audit")
    assert code == 4
    assert result["error"]["code"] == "ledger_tampered"
    assert result["error"]["details"]["index"] == 3


def test_witness_cosigns_grown_log_with_proof_from_db(scenario: Scenario, tmp_path: Path) -> None:
    """After an append, a witness cosigns the new checkpoint using the local consistency proof."""
    copy = scenario.copy(tmp_path / "copy")
    body = grant_body(did_key(PrivateKey.generate().public_key))
    ok(copy.folder, "ledger", "append", "--key", "operator.jwk", "--type", "authority.grant",
       "--body", "-", stdin=body)  # fmt: skip
    ok(copy.folder, "ledger", "checkpoint", "--log-key", "log.jwk", "--out", "cp2.note")
    result = ok(
        copy.folder, "ledger", "cosign", "--witness-key", "w1.jwk", "--name", "w1.seoul.example",
        "--log-vkey", copy.log_vkey, "--state", "w1.state", "--checkpoint", "cp2.note",
    )  # fmt: skip
    assert (result["old_size"], result["size"]) == (SIZE, SIZE + 1)
    # The old, smaller checkpoint is now a rollback for this witness.
    code, refused = run_json(
        copy.folder, "ledger", "cosign", "--witness-key", "w1.jwk", "--name", "w1.seoul.example",
        "--log-vkey", copy.log_vkey, "--state", "w1.state", "--checkpoint", "cp.note",
    )  # fmt: skip
    assert code == 1
    assert refused["error"]["code"] == "log_fork_detected"
    assert ok(copy.folder, "ledger", "rebuild")["replayed"] == SIZE + 1


# -- help ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", [[], *([c] for c in COMMANDS)], ids=["ledger", *COMMANDS])
def test_help_exits_zero(command: list[str], tmp_path: Path) -> None:
    """`seoul-vc ledger [COMMAND] --help` exits 0 and touches nothing."""
    proc = run(tmp_path, "ledger", *command, "--help")
    assert proc.returncode == 0, proc.stderr
    assert "Usage" in proc.stdout
    assert not list(tmp_path.iterdir())
