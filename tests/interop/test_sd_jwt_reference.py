"""Interop with an independent SD-JWT implementation: the OpenWallet Foundation reference.

PyPI ``sd-jwt`` 0.10.4 (openwallet-foundation-labs/sd-jwt-python), installed by the ``test``
extra only. Both directions, with Ed25519 and P-256 holders:

* it verifies what we issue and present (``dc+sd-jwt`` with object, nested and array-element
  disclosures, decoys, ``cnf`` and a KB-JWT), and reports exactly the claims we disclosed;
* we verify what it issues and presents, through our whole pipeline.

Its verifier checks KB-JWTs with ``alg`` fixed to ES256, so an EdDSA KB-JWT cannot verify
there as shipped; ``_KeyTypeAlgVerifier`` passes the alg that fits the ``cnf`` key, which is
what RFC 9901 §7.3 asks. Its verifier also skips the KB-JWT ``iat`` check and accepts
unreferenced disclosures; ours does not, which the attack tests cover.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from jwcrypto.jwk import JWK
from sd_jwt.common import SDObj
from sd_jwt.holder import SDJWTHolder
from sd_jwt.issuer import SDJWTIssuer
from sd_jwt.verifier import SDJWTVerifier

from seoul_vc.clock import FixedClock
from seoul_vc.credentials import sd_jwt
from seoul_vc.credentials.verify import MemoryNonceStore, Verifier
from seoul_vc.keys import PrivateKey

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
AUD = "https://housing.seoul.example"
VCT = "https://example.org/vct/interop-test"  # not a Seoul type: no schema applies


def _jwk(key: PrivateKey) -> JWK:
    return JWK(**key.private_jwk())


def _alg(key: PrivateKey) -> str:
    return str(key.alg.value)


class _KeyTypeAlgVerifier(SDJWTVerifier):  # type: ignore[misc]
    """The reference verifier, with the KB-JWT alg taken from the cnf key's type."""

    def _verify_key_binding_jwt(  # type: ignore[no-untyped-def]
        self, expected_aud=None, expected_nonce=None, sign_alg=None
    ):
        cnf = (self._holder_public_key_payload or {}).get("jwk", {})
        if sign_alg is None:
            sign_alg = "EdDSA" if cnf.get("kty") == "OKP" else "ES256"
        return super()._verify_key_binding_jwt(expected_aud, expected_nonce, sign_alg=sign_alg)


def _claims() -> dict[str, Any]:
    return {
        "iss": "did:example:mois",
        "iat": int(NOW.timestamp()) - 60,
        "vct": VCT,
        "given_name": "서연",
        "family_name": "김",
        "address": {"city": "서울특별시", "district": "마포구", "postalCode": "04039"},
        "nationalities": ["KR", "US"],
        "ageOver19": True,
    }


def _ours(holder: PrivateKey) -> tuple[PrivateKey, str]:
    issuer = PrivateKey.generate()
    token = sd_jwt.issue(
        _claims(),
        issuer,
        disclosable=[
            ("given_name",),
            ("family_name",),
            ("address",),
            ("address", "district"),
            ("address", "postalCode"),
            ("nationalities", None),
            ("ageOver19",),
        ],
        typ="dc+sd-jwt",
        holder_key=holder.public_key,
        decoys=2,
    )
    return issuer, token


HOLDERS = ["EdDSA", "ES256"]


@pytest.mark.parametrize("holder_alg", HOLDERS)
def test_reference_verifies_what_we_issue_and_present(holder_alg: str) -> None:
    """The reference verifier accepts our presentation and sees only what we disclosed."""
    holder = PrivateKey.generate(holder_alg)
    issuer, token = _ours(holder)
    shown = sd_jwt.present(
        token,
        disclose=[("address", "district"), ("nationalities", 1), ("ageOver19",)],
        holder_key=holder,
        aud=AUD,
        nonce="n-42",
        iat=int(datetime.now(UTC).timestamp()),
    )
    verifier = _KeyTypeAlgVerifier(
        shown,
        lambda iss, header: JWK(**issuer.public_key.to_jwk()),
        expected_aud=AUD,
        expected_nonce="n-42",
    )
    payload = verifier.get_verified_payload()
    assert payload["address"] == {"city": "서울특별시", "district": "마포구"}
    assert payload["nationalities"] == ["US"]
    assert payload["ageOver19"] is True
    assert "given_name" not in payload
    assert "family_name" not in payload


@pytest.mark.parametrize("holder_alg", HOLDERS)
def test_reference_refuses_our_presentation_for_another_nonce(holder_alg: str) -> None:
    """A control: the reference really checks our KB-JWT (a wrong nonce is refused)."""
    holder = PrivateKey.generate(holder_alg)
    issuer, token = _ours(holder)
    shown = sd_jwt.present(
        token, disclose=[("ageOver19",)], holder_key=holder, aud=AUD, nonce="n-1", iat=1
    )
    with pytest.raises(Exception, match="nonce"):
        _KeyTypeAlgVerifier(
            shown,
            lambda iss, header: JWK(**issuer.public_key.to_jwk()),
            expected_aud=AUD,
            expected_nonce="n-2",
        ).get_verified_payload()


@pytest.mark.parametrize("holder_alg", HOLDERS)
def test_reference_holder_presents_what_we_issued(holder_alg: str) -> None:
    """The reference holder presents our credential; our pipeline verifies it."""
    holder = PrivateKey.generate(holder_alg)
    issuer, token = _ours(holder)
    reference = SDJWTHolder(token)
    reference.create_presentation(
        {"address": {"district": True}, "given_name": True},
        nonce="n-7",
        aud=AUD,
        holder_key=_jwk(holder),
        sign_alg=_alg(holder),
    )
    verifier = Verifier(
        issuer_key=issuer.public_key,
        clock=FixedClock(datetime.now(UTC)),
        nonces=MemoryNonceStore(require_issued=False),
    )
    report = verifier.verify(reference.sd_jwt_presentation, aud=AUD, nonce="n-7")
    assert report.claims["address"] == {"city": "서울특별시", "district": "마포구"}
    assert report.claims["given_name"] == "서연"
    assert "family_name" not in report.claims


@pytest.mark.parametrize("holder_alg", HOLDERS)
def test_we_verify_what_the_reference_issues_and_presents(holder_alg: str) -> None:
    """The reference issues (EdDSA issuer) and presents; we verify and read its claims."""
    issuer, holder = PrivateKey.generate(), PrivateKey.generate(holder_alg)
    claims: dict[Any, Any] = {
        "iss": "did:example:nhis",
        "iat": int(NOW.timestamp()) - 60,
        "vct": "https://example.org/vct/unknown-to-us",
        SDObj("eligibilityType"): "employee",
        SDObj("incomeBracketPercent"): 85,
        "period": {SDObj("from"): "2024-01-01", SDObj("to"): "2024-12-31"},
        "programmes": [SDObj("youth-housing"), "welfare"],
    }
    issuance = SDJWTIssuer(
        claims,
        _jwk(issuer),
        holder_key=_jwk(holder),
        sign_alg="EdDSA",
        add_decoy_claims=True,
        extra_header_parameters={"typ": "dc+sd-jwt"},
    ).sd_jwt_issuance
    reference = SDJWTHolder(issuance)
    reference.create_presentation(
        {"incomeBracketPercent": True, "period": {"to": True}, "programmes": [True, False]},
        nonce="n-9",
        aud=AUD,
        holder_key=_jwk(holder),
        sign_alg=_alg(holder),
    )
    verifier = Verifier(
        issuer_key=issuer.public_key,
        clock=FixedClock(datetime.now(UTC)),
        nonces=MemoryNonceStore(require_issued=False),
    )
    report = verifier.verify(reference.sd_jwt_presentation, aud=AUD, nonce="n-9")
    assert report.credential_type == "https://example.org/vct/unknown-to-us"
    assert report.claims == {
        "incomeBracketPercent": 85,
        "period": {"to": "2024-12-31"},
        "programmes": ["youth-housing", "welfare"],
    }
    schema = next(c for c in report.checks if c.name == "schema")
    assert schema.outcome == "skipped"


def test_reference_presentation_with_tampered_disclosure_is_refused_by_us() -> None:
    """A control for the direction above: one changed character breaks the presentation."""
    issuer, holder = PrivateKey.generate(), PrivateKey.generate("ES256")
    issuance = SDJWTIssuer(
        {"iss": "did:example:x", "vct": "urn:x", SDObj("a"): 1},
        _jwk(issuer),
        holder_key=_jwk(holder),
        sign_alg="EdDSA",
        extra_header_parameters={"typ": "dc+sd-jwt"},
    ).sd_jwt_issuance
    reference = SDJWTHolder(issuance)
    reference.create_presentation(
        {"a": True}, nonce="n", aud=AUD, holder_key=_jwk(holder), sign_alg="ES256"
    )
    jwt, disclosure, kb = reference.sd_jwt_presentation.split("~")
    flipped = disclosure[:-2] + ("A" if disclosure[-2] != "A" else "B") + disclosure[-1]
    verifier = Verifier(issuer_key=issuer.public_key, nonces=MemoryNonceStore(require_issued=False))
    report = verifier.check(f"{jwt}~{flipped}~{kb}", aud=AUD, nonce="n")
    assert report.error is not None
    assert json.dumps(report.to_json())  # the failure report is plain JSON
