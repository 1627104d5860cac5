"""``seoul-vc issue | present | verify`` as an agency and a citizen would run them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from test_cli import run  # this folder's CLI runner


def run_json(*args: str) -> tuple[int, dict[str, Any]]:
    proc = run(*args, "--json")
    assert proc.stdout, proc.stderr
    return proc.returncode, json.loads(proc.stdout)


class Agency:
    """Keys, a subject file and a trust registry in a temporary folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.issuer_key = folder / "mois.jwk"
        self.holder_key = folder / "citizen.jwk"
        assert run("key", "new", "--out", str(self.issuer_key)).returncode == 0
        assert run("key", "new", "--alg", "ES256", "--out", str(self.holder_key)).returncode == 0
        self.issuer_did = run_json("key", "public", str(self.issuer_key))[1]["did_key"]
        self.holder_did = run_json("key", "public", str(self.holder_key))[1]["did_jwk"]
        self.subject = folder / "subject.json"
        self.subject.write_text(
            json.dumps(
                {
                    "name": {"family": "김", "given": "서연"},
                    "birthDate": "1996-03-14",
                    "address": {
                        "city": "서울특별시",
                        "district": "마포구",
                        "dong": "서교동",
                        "postalCode": "04039",
                    },
                    "residentSince": "2021-09-01",
                    "personPseudonym": "yVWP531UrqnfX23gbkylI8bzoFfI7RUthTGOZ3IiPKI",
                },
                ensure_ascii=False,
            ),
            encoding="utf-8",
        )
        self.trust = folder / "trust.json"
        self.trust.write_text(
            json.dumps({"issuers": [{"id": self.issuer_did, "types": ["ResidencyCredential"]}]}),
            encoding="utf-8",
        )

    def issue(self, fmt: str) -> Path:
        out = self.folder / f"credential-{fmt}.txt"
        proc = run(
            "issue", "--key", str(self.issuer_key), "--type", "ResidencyCredential",
            "--subject", str(self.subject), "--format", fmt, "--holder", self.holder_did,
            "--out", str(out),
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        return out

    def present(self, credential: Path, *disclose: str, nonce: str = "n-1") -> Path:
        out = self.folder / "presentation.txt"
        flags = [x for path in disclose for x in ("--disclose", path)]
        proc = run(
            "present", str(credential), "--holder-key", str(self.holder_key), *flags,
            "--aud", "https://housing.seoul.example", "--nonce", nonce, "--out", str(out),
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        return out


@pytest.fixture(scope="module")
def agency(tmp_path_factory: pytest.TempPathFactory) -> Agency:
    return Agency(tmp_path_factory.mktemp("agency"))


@pytest.mark.parametrize("fmt", ["dc+sd-jwt", "vc+sd-jwt"])
def test_verify_prints_only_the_disclosed_claims(agency: Agency, fmt: str) -> None:
    """A valid presentation exits 0 and prints exactly the claims the citizen disclosed."""
    shown = agency.present(agency.issue(fmt), "address.district", "ageOver19")
    proc = run(
        "verify", str(shown), "--trust", str(agency.trust),
        "--aud", "https://housing.seoul.example", "--nonce", "n-1",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    claims = json.loads(proc.stdout)
    claims.pop("id", None)  # vc+sd-jwt keeps the holder DID in credentialSubject.id
    assert claims == {"address": {"district": "마포구"}, "ageOver19": True}


def test_vc_jwt_presentation_verifies_with_every_claim(agency: Agency) -> None:
    """vc+jwt cannot hide claims: the vp+jwt presentation verifies and shows them all."""
    shown = agency.present(agency.issue("vc+jwt"))
    code, report = run_json(
        "verify", str(shown), "--trust", str(agency.trust),
        "--aud", "https://housing.seoul.example", "--nonce", "n-1",
    )  # fmt: skip
    assert code == 0
    assert report["format"] == "vp+jwt"
    assert report["claims"]["id"] == agency.holder_did
    assert report["claims"]["ageOver19"] is True
    assert {c["name"] for c in report["checks"]} >= {"signature", "schema", "holder_binding"}


@pytest.mark.parametrize(
    ("flags", "code"),
    [
        (["--aud", "https://jobs.seoul.example", "--nonce", "n-1"], "audience_mismatch"),
        (["--aud", "https://housing.seoul.example", "--nonce", "n-2"], "nonce_mismatch"),
        (["--now", "2099-01-01T00:00:00Z"], "expired"),
    ],
)
def test_verify_refusals_exit_1_with_the_code(agency: Agency, flags: list[str], code: str) -> None:
    """A refused presentation exits 1 and names the first failing check's code."""
    shown = agency.present(agency.issue("dc+sd-jwt"), "ageOver19")
    status, report = run_json("verify", str(shown), "--trust", str(agency.trust), *flags)
    assert status == 1
    assert report["ok"] is False
    assert report["error"]["code"] == code


def test_untrusted_issuer_is_refused(agency: Agency, tmp_path: Path) -> None:
    """An issuer the registry lists for another type only is untrusted_issuer, exit 1."""
    registry = tmp_path / "trust.json"
    registry.write_text(
        json.dumps({"issuers": [{"id": agency.issuer_did, "types": ["IncomeCredential"]}]}),
        encoding="utf-8",
    )
    shown = agency.present(agency.issue("dc+sd-jwt"), "ageOver19")
    status, report = run_json("verify", str(shown), "--trust", str(registry))
    assert status == 1
    assert report["error"]["code"] == "untrusted_issuer"


def test_issue_names_the_bad_field(agency: Agency, tmp_path: Path) -> None:
    """A subject failing its schema is refused before signing, naming the field."""
    subject = json.loads(agency.subject.read_text(encoding="utf-8"))
    subject["address"]["postalCode"] = "4039"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(subject), encoding="utf-8")
    status, result = run_json(
        "issue", "--key", str(agency.issuer_key), "--type", "ResidencyCredential",
        "--subject", str(bad),
    )  # fmt: skip
    assert status == 1
    assert result["error"]["code"] == "schema_violation"
    assert result["error"]["details"]["field"] == "/address/postalCode"


def test_verify_reads_stdin_and_refuses_garbage(agency: Agency) -> None:
    """Garbage on stdin is a clean malformed refusal, never a traceback."""
    proc = run("verify", "-", "--trust", str(agency.trust), "--json", stdin="not~a~token")
    assert proc.returncode == 1
    assert json.loads(proc.stdout)["ok"] is False
    assert "Traceback" not in proc.stderr


def test_verify_without_trust_or_key_is_a_usage_error(agency: Agency) -> None:
    """Verifying with no trust registry and no pinned key is refused with exit 2."""
    shown = agency.present(agency.issue("dc+sd-jwt"), "ageOver19")
    assert run("verify", str(shown)).returncode == 2
