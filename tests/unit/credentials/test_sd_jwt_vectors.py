"""RFC 9901 and SD-JWT VC examples reproduce: disclosure digests, sd_hash, whole presentations.

Sources (tests/vectors/SOURCES.md): RFC 9901 §4.2, §5, §6 and Appendix A; the SD-JWT VC
draft's §2.3.1 and Appendix A.1. The Appendix A.5 issuer key is RFC 9901's example key.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from seoul_vc._encoding import b64url_decode
from seoul_vc.clock import FixedClock
from seoul_vc.credentials import sd_jwt
from seoul_vc.credentials.verify import MemoryNonceStore, Verifier
from seoul_vc.jose import verify_compact
from seoul_vc.keys import PublicKey

VECTORS = Path(__file__).parents[2] / "vectors"
DISCLOSURES = json.loads((VECTORS / "rfc9901" / "disclosures.json").read_text("utf-8"))
SD_HASHES = json.loads((VECTORS / "rfc9901" / "sd_hash.json").read_text("utf-8"))
VC_EXAMPLES = json.loads((VECTORS / "sd-jwt-vc" / "examples.json").read_text("utf-8"))
# RFC 9901 Appendix A.5: the issuer's P-256 key of every example.
RFC_ISSUER_KEY = {
    "kty": "EC",
    "crv": "P-256",
    "x": "b28d4MwZMjw8-00CG4xfnn9SLMVMM19SlqZpVb_uNtQ",
    "y": "Xv5zWwuoaTgdS6hV43yI6gBwTnjukmFQQnJ_kCxzqk8",
}


def _pairs() -> list[dict[str, Any]]:
    return [*DISCLOSURES, *VC_EXAMPLES["disclosures"]]


@pytest.mark.parametrize("case", _pairs(), ids=lambda c: c["disclosure"][:16])
def test_disclosure_digest_and_contents_match_the_spec(case: dict[str, Any]) -> None:
    """Each spec disclosure decodes to its salt, name and value and hashes to its digest."""
    disclosure = sd_jwt.Disclosure.decode(case["disclosure"])
    assert disclosure.digest == case["digest"]
    assert disclosure.salt == case["salt"]
    assert disclosure.name == case.get("name")
    assert disclosure.value == case["value"]


def test_vectors_cover_array_elements_and_object_values() -> None:
    """The vector set is not trivial: it holds array-element and object-valued disclosures."""
    pairs = _pairs()
    assert len(pairs) >= 100
    assert any(p.get("name") is None for p in pairs)
    assert any(isinstance(p["value"], dict) for p in pairs)


@pytest.mark.parametrize("case", SD_HASHES, ids=lambda c: c["source"][:24])
def test_sd_hash_matches_the_spec(case: dict[str, Any]) -> None:
    """sd_hash over the presentation (through its last ~) is the value the RFC prints."""
    assert sd_jwt.sd_hash(case["presentation_without_kb"]) == case["sd_hash"]
    parts = sd_jwt.split(case["presentation_without_kb"] + case["kb_jwt"])
    assert parts.signed_part == case["presentation_without_kb"]


def _kb_claims(case: dict[str, Any]) -> dict[str, Any]:
    claims: dict[str, Any] = json.loads(b64url_decode(case["kb_jwt"].split(".")[1]))
    return claims


@pytest.mark.parametrize("case", SD_HASHES, ids=lambda c: c["source"][:24])
def test_rfc_presentations_verify_step_by_step(case: dict[str, Any]) -> None:
    """Every RFC 9901 SD-JWT+KB example passes §7.1 and §7.3 with this library's pieces."""
    token = case["presentation_without_kb"] + case["kb_jwt"]
    parts = sd_jwt.split(token)
    jws = verify_compact(parts.issuer_jwt, PublicKey.from_jwk(RFC_ISSUER_KEY))
    payload = json.loads(jws.payload)
    processed = sd_jwt.process(payload, parts.disclosures)
    assert len(processed.disclosed) == len(parts.disclosures)
    holder = sd_jwt.holder_key_of(payload)
    assert holder is not None
    kb = _kb_claims(case)
    binding = sd_jwt.check_key_binding(
        parts, holder, aud=kb["aud"], nonce=kb["nonce"], now=kb["iat"]
    )
    assert binding.nonce == kb["nonce"]


def test_rfc_sd_jwt_vc_example_verifies_through_the_whole_pipeline() -> None:
    """RFC 9901 Appendix A.3 (a dc+sd-jwt SD-JWT VC) verifies through the Verifier."""
    case = next(c for c in SD_HASHES if "A.3" in c["source"])
    kb = _kb_claims(case)
    verifier = Verifier(
        issuer_key=PublicKey.from_jwk(RFC_ISSUER_KEY),
        clock=FixedClock(datetime.fromtimestamp(kb["iat"], UTC)),
        nonces=MemoryNonceStore(require_issued=False),
    )
    token = case["presentation_without_kb"] + case["kb_jwt"]
    report = verifier.verify(token, aud=kb["aud"], nonce=kb["nonce"])
    assert report.format == "dc+sd-jwt"
    assert [c.outcome for c in report.checks if c.name == "holder_binding"] == ["passed"]
    assert report.claims
