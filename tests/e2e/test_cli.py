"""The installed ``seoul-vc`` console script, driven as a user would: exit codes and --json."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

SCRIPT = Path(sys.executable).with_name("seoul-vc")


def run(
    *args: str, cwd: Path | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the installed console script (also used by the other tests/e2e files)."""
    env = {k: v for k, v in os.environ.items() if k != "SEOUL_VC_DEBUG"}
    return subprocess.run(
        [str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env=env,
        input=stdin,
        check=False,
    )


def run_json(*args: str) -> tuple[int, dict[str, Any]]:
    proc = run(*args, "--json")
    return proc.returncode, json.loads(proc.stdout)


def test_console_script_is_installed() -> None:
    """The console script exists beside the interpreter running the tests."""
    assert SCRIPT.exists()


def test_help_exits_zero() -> None:
    """`seoul-vc --help` lists the command groups."""
    proc = run("--help")
    assert proc.returncode == 0
    assert "key" in proc.stdout
    assert "did" in proc.stdout


def test_unknown_command_is_usage_error() -> None:
    """An unknown command exits 2, typer's usage error."""
    assert run("no-such-command").returncode == 2


def test_key_new_writes_private_file_with_mode_0600(tmp_path: Path) -> None:
    """`key new --out` writes the key with mode 0600 and prints only public facts."""
    out = tmp_path / "agency.jwk"
    code, result = run_json("key", "new", "--alg", "ES256", "--out", str(out))
    assert code == 0
    assert result["ok"] is True
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert result["did_key"].startswith("did:key:zDn")
    assert "private_jwk" not in result
    assert '"d"' not in json.dumps(result)


def test_key_new_without_destination_is_refused() -> None:
    """A new key with neither --out nor --show-private would be lost: bad_argument, exit 2."""
    code, result = run_json("key", "new")
    assert code == 2
    assert result["error"]["code"] == "bad_argument"


def test_key_new_show_private_prints_private_jwk() -> None:
    """`--show-private` is the explicit request to print the private key."""
    code, result = run_json("key", "new", "--show-private")
    assert code == 0
    assert set(result["private_jwk"]) == {"kty", "crv", "x", "d"}


def test_key_new_refuses_to_overwrite(tmp_path: Path) -> None:
    """An existing key file is never overwritten: already_exists, exit 1."""
    out = tmp_path / "k.jwk"
    assert run("key", "new", "--out", str(out)).returncode == 0
    before = out.read_bytes()
    code, result = run_json("key", "new", "--out", str(out))
    assert code == 1
    assert result["error"]["code"] == "already_exists"
    assert out.read_bytes() == before


def test_key_public_shows_public_key_of_private_file(tmp_path: Path) -> None:
    """`key public` on a private key file prints the public JWK and never `d`."""
    out = tmp_path / "k.jwk"
    _, created = run_json("key", "new", "--out", str(out))
    code, result = run_json("key", "public", str(out))
    assert code == 0
    assert result["public_jwk"] == created["public_jwk"]
    assert "d" not in result["public_jwk"]
    assert result["thumbprint"] == created["thumbprint"]


def test_key_public_missing_file_is_not_found(tmp_path: Path) -> None:
    """A missing key file exits 3 with not_found."""
    code, result = run_json("key", "public", str(tmp_path / "absent.jwk"))
    assert code == 3
    assert result["error"]["code"] == "not_found"


def test_key_public_garbage_file_is_malformed(tmp_path: Path) -> None:
    """A file that is not a JWK exits 1 with malformed."""
    bad = tmp_path / "bad.jwk"
    bad.write_text("{not json")
    code, result = run_json("key", "public", str(bad))
    assert code == 1
    assert result["error"]["code"] == "malformed"


def test_key_public_small_order_key_is_weak(tmp_path: Path) -> None:
    """A JWK file holding the small-order Ed25519 key 01 00..00 exits 1 with weak_key."""
    bad = tmp_path / "weak.jwk"
    bad.write_text(json.dumps({"kty": "OKP", "crv": "Ed25519", "x": "AQ" + "A" * 41}))
    code, result = run_json("key", "public", str(bad))
    assert code == 1
    assert result["error"]["code"] == "weak_key"


def test_human_error_goes_to_stderr_with_code(tmp_path: Path) -> None:
    """Without --json an error is one line on stderr naming the code; no traceback."""
    proc = run("key", "public", str(tmp_path / "absent.jwk"))
    assert proc.returncode == 3
    assert "not_found" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


def test_did_create_jwk_from_key_file_resolves_to_same_key(tmp_path: Path) -> None:
    """`did create --method jwk --key F` then `did resolve` gives back the file's key."""
    out = tmp_path / "holder.jwk"
    _, created = run_json("key", "new", "--alg", "ES256", "--out", str(out))
    code, result = run_json("did", "create", "--method", "jwk", "--key", str(out))
    assert code == 0
    assert result["did"].startswith("did:jwk:")
    code, resolved = run_json("did", "resolve", result["did"])
    assert code == 0
    method = resolved["document"]["verificationMethod"][0]
    assert method["publicKeyJwk"]["x"] == created["public_jwk"]["x"]


def test_did_create_key_with_new_key_saves_it(tmp_path: Path) -> None:
    """`did create` without --key generates a key and stores it where --out says."""
    out = tmp_path / "new.jwk"
    code, result = run_json("did", "create", "--method", "key", "--out", str(out))
    assert code == 0
    assert out.exists()
    assert result["did"].startswith("did:key:z6Mk")


def test_did_resolve_did_key_document() -> None:
    """`did resolve` of a did:key prints its Multikey document."""
    did = "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"
    code, result = run_json("did", "resolve", did)
    assert code == 0
    assert result["document"]["id"] == did
    assert result["document"]["verificationMethod"][0]["type"] == "Multikey"


@pytest.mark.parametrize(
    ("did", "expect_code"),
    [
        ("did:key:z6MkBAD0", "invalid_encoding"),
        ("did:example:123", "invalid_did"),
        ("not-a-did", "invalid_did"),
        ("did:web:127.0.0.1", "invalid_did"),
        ("did:web:host%40127.0.0.1", "invalid_did"),
    ],
)
def test_did_resolve_refusals_exit_one(did: str, expect_code: str) -> None:
    """Bad DIDs are refused with their code and exit 1, before any network request."""
    code, result = run_json("did", "resolve", did)
    assert code == 1
    assert result["error"]["code"] == expect_code


DEMO_ACTS = [
    "Agencies and witnesses set up",
    "Credentials issued",
    "Wallet receives them",
    "Housing office asks, citizen consents",
    "Two views succeed, the third is refused",
    "Citizen reads her history",
    "Certificate revoked",
    "District poll",
    "Mileage",
    "Ledger audit and offline proof",
]


def test_demo_json_records_every_act() -> None:
    """`seoul-vc demo --json` records every act as ok, with the expected refusals."""
    code, result = run_json("demo")
    assert code == 0
    assert result["ok"] is True
    acts = {act["title"]: act for act in result["acts"]}
    assert list(acts) == DEMO_ACTS
    assert all(act["ok"] is True and act["outcome"] for act in acts.values())
    views = acts["Two views succeed, the third is refused"]["details"]["views"]
    assert [v["outcome"] for v in views] == ["ok", "ok", "refused"]
    assert views[2]["code"] == "consent_exhausted"
    assert views[0]["claims"]["income"] == {"incomeBracketPercent": 85}
    history = acts["Citizen reads her history"]["details"]["events"]
    assert history.count("view") == 2
    assert "refusal" in history
    revoked = acts["Certificate revoked"]["details"]
    assert (revoked["outcome"], revoked["code"]) == ("refused", "revoked")
    poll = acts["District poll"]["details"]
    assert poll["tally"] == {"yes": 1, "no": 0}
    assert poll["double_vote"] == {"outcome": "refused", "code": "already_voted"}
    assert poll["second_registration"] == {"outcome": "refused", "code": "nullifier_used"}
    mileage = acts["Mileage"]["details"]
    assert (mileage["coins"], mileage["points"], mileage["settled"]) == (180, {"eco": 200}, 120)
    audit = acts["Ledger audit and offline proof"]["details"]
    assert audit["offline_proof"] == "voting.cast"
    assert audit["entries"] > 10


def test_demo_human_output_ends_with_summary() -> None:
    """The narrated demo exits 0 and ends with its summary table."""
    proc = run("demo")
    assert proc.returncode == 0, proc.stderr
    assert "Summary" in proc.stdout
    assert f"All {len(DEMO_ACTS)} acts passed" in proc.stdout
    assert "view 3: refused, consent_exhausted" in proc.stdout
    assert "Traceback" not in proc.stderr


def test_demo_act_with_unexpected_outcome_exits_with_its_code(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An act whose expectation fails makes the demo exit non-zero with a code, no traceback."""
    from seoul_vc_cli import demo
    from seoul_vc_cli.app import main

    def act_not_refused(story: demo.Story) -> demo.Outcome:
        return demo.act_setup(story)[0], {"refused": demo._refused(lambda: None, demo.Code.REVOKED)}

    monkeypatch.setattr(demo, "ACTS", [("An attack that is not refused", act_not_refused)])
    code = main(["demo", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code != 0
    assert out["ok"] is False
    assert out["error"]["code"] == "internal"
    assert "not refused" in out["error"]["message"]


def test_a_command_loads_only_what_it_drives(tmp_path: Path) -> None:
    """``key new`` imports neither the HTTP client nor the ledger, wallet or credentials."""
    script = (
        "import sys; from seoul_vc_cli.app import main; "
        f"code = main(['key', 'new', '--out', {str(tmp_path / 'k.jwk')!r}]); "
        "heavy = ['httpx', 'seoul_vc.ledger', 'seoul_vc.wallet', 'seoul_vc.credentials']; "
        "print(code, sorted(m for m in heavy if m in sys.modules))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == "0 []"
    assert (tmp_path / "k.jwk").exists()


def test_a_top_level_command_parses_as_in_the_whole_app(tmp_path: Path) -> None:
    """Built alone, ``issue`` still reads its name first: usage errors name the option."""
    proc = run("issue", "--type", "ResidencyCredential", cwd=tmp_path)
    assert proc.returncode == 2
    assert "Missing option '--key'" in proc.stderr
    assert "Traceback" not in proc.stderr
