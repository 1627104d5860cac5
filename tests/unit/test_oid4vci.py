"""OpenID4VCI protocol pieces without storage: key proofs, offers, metadata, error names."""

from __future__ import annotations

import json
from typing import Any

import pytest

from seoul_vc._encoding import b64url_encode
from seoul_vc.credentials.oid4vci import (
    PRE_AUTHORIZED_GRANT,
    PROOF_TYP,
    AuthorizationServerMetadata,
    CredentialConfiguration,
    CredentialIssuerMetadata,
    CredentialOffer,
    TxCode,
    authorization_server_metadata_url,
    check_key_proof,
    code_of_oauth_error,
    credential_issuer_metadata_url,
    format_key_proof,
    oauth_error,
    offer_reference,
    parse_credential_offer,
    seoul_configurations,
)
from seoul_vc.errors import (
    Code,
    MalformedInputError,
    PolicyError,
    SeoulVCError,
    VerificationError,
)
from seoul_vc.jose import encode_jwt, sign_compact
from seoul_vc.keys import PrivateKey
from seoul_vc.wallet.oid4vci import did_web_of_issuer

ISSUER = "https://vc.seoul.example"
NOW = 1_800_000_000


# -- key proofs -----------------------------------------------------------------------------------


@pytest.mark.parametrize("alg", ["ES256", "EdDSA"])
def test_key_proof_round_trip(alg: str) -> None:
    """A proof made by format_key_proof checks, and yields the holder key and c_nonce."""
    holder = PrivateKey.generate(alg)
    proof = format_key_proof(holder, audience=ISSUER, nonce="c-1", iat=NOW)
    checked = check_key_proof(proof, audience=ISSUER, now=NOW + 30)
    assert (checked.key, checked.nonce, checked.iat) == (holder.public_key, "c-1", NOW)


def _proof(
    holder: PrivateKey,
    *,
    claims: dict[str, Any] | None = None,
    header: dict[str, Any] | None = None,
    typ: str = PROOF_TYP,
    signer: PrivateKey | None = None,
) -> str:
    body: dict[str, Any] = {"aud": ISSUER, "iat": NOW, "nonce": "c-1"}
    for name, value in (claims or {}).items():
        if value is None:
            body.pop(name, None)
        else:
            body[name] = value
    head: dict[str, Any] = {"jwk": holder.public_key.to_jwk()}
    for name, value in (header or {}).items():
        if value is None:
            head.pop(name, None)
        else:
            head[name] = value
    return encode_jwt(body, signer or holder, typ=typ, header=head)


def _unsigned(alg: str) -> str:
    holder = PrivateKey.generate("EdDSA")
    header = {"alg": alg, "typ": PROOF_TYP, "jwk": holder.public_key.to_jwk()}
    parts = [b64url_encode(json.dumps(p).encode()) for p in (header, {"aud": ISSUER, "iat": NOW})]
    return ".".join([*parts, b64url_encode(b"\x00" * 32)])


_SMALL_ORDER = {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(b"\x01" + b"\x00" * 31)}
_KEY = PrivateKey.generate("ES256")

# Negative cases as data: (proof, reason), basis OpenID4VCI 1.0 Appendix F.1/F.4.
_BAD_PROOFS: list[tuple[str, object, str]] = [
    ("aud", _proof(_KEY, claims={"aud": "https://other.example"}), "audience_mismatch"),
    ("aud-array", _proof(_KEY, claims={"aud": [ISSUER]}), "audience_mismatch"),
    ("typ", _proof(_KEY, typ="JWT"), "wrong_type"),
    ("alg-none", _unsigned("none"), "unsupported_algorithm"),
    ("alg-hs256", _unsigned("HS256"), "unsupported_algorithm"),
    ("private-jwk", _proof(_KEY, header={"jwk": _KEY.private_jwk()}), "private_key_material"),
    ("small-order", _proof(_KEY, header={"jwk": _SMALL_ORDER}), "weak_key"),
    ("no-jwk", _proof(_KEY, header={"jwk": None}), "jwk_missing"),
    ("kid", _proof(_KEY, header={"kid": "did:example:1#0"}), "unsupported_header"),
    ("x5c", _proof(_KEY, header={"x5c": ["MIIB"]}), "unsupported_header"),
    ("jku", _proof(_KEY, header={"jku": "https://x.example/jwks"}), "unsupported_header"),
    ("trust_chain", _proof(_KEY, header={"trust_chain": ["a"]}), "unsupported_header"),
    ("other-signer", _proof(_KEY, signer=PrivateKey.generate("ES256")), "invalid_signature"),
    ("stale", _proof(_KEY, claims={"iat": NOW - 3600}), "expired"),
    ("future", _proof(_KEY, claims={"iat": NOW + 3600}), "not_yet_valid"),
    ("iat-string", _proof(_KEY, claims={"iat": str(NOW)}), "malformed"),
    ("iat-bool", _proof(_KEY, claims={"iat": True}), "malformed"),
    ("no-iat", _proof(_KEY, claims={"iat": None}), "malformed"),
    ("expired-exp", _proof(_KEY, claims={"exp": NOW - 3600}), "expired"),
    ("no-nonce", _proof(_KEY, claims={"nonce": None}), "nonce_missing"),
    ("nonce-number", _proof(_KEY, claims={"nonce": 5}), "malformed"),
    ("anonymous-iss", _proof(_KEY, claims={"iss": "client-1"}), "issuer_mismatch"),
    ("not-a-jws", "a.b", "malformed"),
    ("not-text", 42, "malformed"),
]


@pytest.mark.parametrize(
    ("proof", "reason"), [(p, r) for _, p, r in _BAD_PROOFS], ids=[n for n, _, _ in _BAD_PROOFS]
)
def test_bad_key_proofs_are_invalid_proof(proof: object, reason: str) -> None:
    """Every refusal is invalid_proof, naming the failed check."""
    with pytest.raises(VerificationError) as caught:
        check_key_proof(proof, audience=ISSUER, now=NOW)
    assert caught.value.code is Code.INVALID_PROOF
    assert caught.value.details["reason"] == reason


def test_proof_alg_must_be_one_the_issuer_lists() -> None:
    """An alg outside the configuration's proof_signing_alg_values_supported is refused."""
    proof = _proof(PrivateKey.generate("EdDSA"))
    with pytest.raises(VerificationError) as caught:
        check_key_proof(proof, audience=ISSUER, now=NOW, algorithms=("ES256",))
    assert caught.value.details["reason"] == "unsupported_algorithm"


def test_iss_is_accepted_only_as_the_clients_id() -> None:
    """F.1: iss is the client_id of a client that sent one, and omitted otherwise."""
    proof = format_key_proof(_KEY, audience=ISSUER, nonce="n", iat=NOW, client_id="wallet-1")
    assert check_key_proof(proof, audience=ISSUER, now=NOW, client_id="wallet-1").nonce == "n"
    with pytest.raises(VerificationError):
        check_key_proof(proof, audience=ISSUER, now=NOW, client_id="wallet-2")


def test_nonce_may_be_absent_when_not_required() -> None:
    """An issuer without a nonce endpoint takes proofs without nonce (F.1)."""
    proof = format_key_proof(_KEY, audience=ISSUER, nonce=None, iat=NOW)
    assert check_key_proof(proof, audience=ISSUER, now=NOW, require_nonce=False).nonce is None


def test_proof_clock_window_allows_the_skew() -> None:
    """A proof from up to clock_skew ahead to kb_jwt_max_age + skew old is accepted."""
    proof = format_key_proof(_KEY, audience=ISSUER, nonce="n", iat=NOW)
    check_key_proof(proof, audience=ISSUER, now=NOW - 60)
    check_key_proof(proof, audience=ISSUER, now=NOW + 300 + 60)
    with pytest.raises(VerificationError):
        check_key_proof(proof, audience=ISSUER, now=NOW + 300 + 61)


def test_proof_header_is_typed_and_carries_the_public_jwk() -> None:
    """The header is typ openid4vci-proof+jwt with jwk, nothing private (F.1)."""
    proof = format_key_proof(_KEY, audience=ISSUER, nonce="n", iat=NOW)
    header = json.loads(_b64(proof.split(".")[0]))
    assert header == {"alg": "ES256", "typ": PROOF_TYP, "jwk": _KEY.public_key.to_jwk()}


def _b64(text: str) -> bytes:
    import base64

    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# -- offers ---------------------------------------------------------------------------------------


def _offer_json(**grant: Any) -> dict[str, Any]:
    return {
        "credential_issuer": ISSUER,
        "credential_configuration_ids": ["ResidencyCredential"],
        "grants": {PRE_AUTHORIZED_GRANT: {"pre-authorized_code": "code-1", **grant}},
    }


def test_offer_round_trips_through_its_uri() -> None:
    """to_uri() is the offer by value; parsing gives the same offer (§4.1.2)."""
    offer = CredentialOffer(
        credential_issuer=ISSUER,
        credential_configuration_ids=("ResidencyCredential",),
        pre_authorized_code="c0de",
        tx_code=TxCode(length=6, description="sent by SMS"),
    )
    uri = offer.to_uri()
    assert uri.startswith("openid-credential-offer://?credential_offer=%7B")
    assert parse_credential_offer(uri) == offer
    assert parse_credential_offer(json.dumps(offer.to_json())) == offer
    assert offer_reference(uri) is None
    assert "c0de" not in repr(offer)


def test_offer_by_reference_is_recognised() -> None:
    """credential_offer_uri is an https URL to fetch (§4.1.3)."""
    uri = "openid-credential-offer://?credential_offer_uri=https%3A%2F%2Fvc.example%2Fo%2F1"
    assert offer_reference(uri) == "https://vc.example/o/1"
    with pytest.raises(MalformedInputError):
        parse_credential_offer(uri)
    with pytest.raises(MalformedInputError):
        offer_reference("openid-credential-offer://?credential_offer_uri=http%3A%2F%2Fx.example")


def test_unknown_offer_members_are_ignored() -> None:
    """§4.1.1: the wallet ignores parameters it does not know."""
    doc = _offer_json(extra=1)
    doc["display"] = {"x": 1}
    assert parse_credential_offer(json.dumps(doc)).pre_authorized_code == "code-1"


@pytest.mark.parametrize(
    ("doc", "code"),
    [
        ({**_offer_json(), "credential_issuer": "http://vc.seoul.example"},
         Code.INSECURE_TRANSPORT),
        ({**_offer_json(), "credential_issuer": "https://vc.seoul.example?x=1"}, Code.MALFORMED),
        ({**_offer_json(), "credential_configuration_ids": []}, Code.MALFORMED),
        ({**_offer_json(), "credential_configuration_ids": ["a", "a"]}, Code.MALFORMED),
        ({**_offer_json(), "grants": {"authorization_code": {}}}, Code.MALFORMED),
        (_offer_json(**{"pre-authorized_code": ""}), Code.MALFORMED),
        (_offer_json(tx_code={"input_mode": "voice"}), Code.MALFORMED),
        (_offer_json(tx_code={"length": True}), Code.MALFORMED),
        (_offer_json(tx_code={"description": "x" * 301}), Code.MALFORMED),
        (_offer_json(authorization_server="http://as.example"), Code.INSECURE_TRANSPORT),
    ],
    ids=["http-issuer", "query", "no-ids", "repeated-ids", "no-pre-auth-grant", "empty-code",
         "input_mode", "length-bool", "description-301", "http-as"],
)  # fmt: skip
def test_bad_offers_are_refused(doc: dict[str, Any], code: Code) -> None:
    """Offers are untrusted input (§13.5): each defect has its code."""
    with pytest.raises(SeoulVCError) as caught:
        parse_credential_offer(json.dumps(doc))
    assert caught.value.code is code


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("https://vc.example/?credential_offer=%7B%7D", Code.MALFORMED),
        ("openid-credential-offer://?credential_offer=a&credential_offer_uri=b", Code.MALFORMED),
        ("openid-credential-offer://?other=1", Code.MALFORMED),
        ("openid-credential-offer://", Code.MALFORMED),
        ("openid-credential-offer://?credential_offer=%7B%22a%22:1,%22a%22:2%7D",
         Code.DUPLICATE_KEY),
        ("openid-credential-offer://?credential_offer=%ff", Code.MALFORMED),
        ("openid-credential-offer://?credential_offer=" + "a" * 40000, Code.TOO_LARGE),
    ],
    ids=["scheme", "both", "neither", "no-query", "duplicate-key", "not-utf8", "huge"],
)  # fmt: skip
def test_bad_offer_uris_are_refused(text: str, code: Code) -> None:
    """The offer URI has exactly one of the two parameters, strictly encoded."""
    with pytest.raises(SeoulVCError) as caught:
        parse_credential_offer(text)
    assert caught.value.code is code


# -- metadata -------------------------------------------------------------------------------------


def test_well_known_urls_insert_between_host_and_path() -> None:
    """§12.2.2 and RFC 8414 §3.1."""
    assert credential_issuer_metadata_url("https://h.example:8443") == (
        "https://h.example:8443/.well-known/openid-credential-issuer"
    )
    assert authorization_server_metadata_url("https://h.example/tenant") == (
        "https://h.example/.well-known/oauth-authorization-server/tenant"
    )
    with pytest.raises(PolicyError):
        credential_issuer_metadata_url("http://h.example")


def _seoul_metadata() -> CredentialIssuerMetadata:
    return CredentialIssuerMetadata(
        credential_issuer=ISSUER,
        credential_endpoint=ISSUER + "/credential",
        nonce_endpoint=ISSUER + "/nonce",
        configurations=seoul_configurations("EdDSA"),
    )


def test_issuer_metadata_round_trips_what_a_wallet_reads() -> None:
    """to_json then from_json keeps the endpoints, formats, vct, bindings and proof algs."""
    metadata = _seoul_metadata()
    read = CredentialIssuerMetadata.from_json(metadata.to_json(), expected_issuer=ISSUER)
    assert (read.credential_endpoint, read.nonce_endpoint) == (
        metadata.credential_endpoint,
        metadata.nonce_endpoint,
    )
    for key, configuration in metadata.configurations.items():
        got = read.configurations[key]
        assert (got.format, got.vct, got.types, got.binding_methods, got.proof_algs) == (
            configuration.format,
            configuration.vct,
            configuration.types,
            configuration.binding_methods,
            configuration.proof_algs,
        )
        assert got.type_name == configuration.type_name is not None


def test_seoul_configurations_are_two_per_type() -> None:
    """dc+sd-jwt under the type name, the vc+jwt profile under <Type>_vc+jwt (Appendix A.3)."""
    configurations = seoul_configurations("EdDSA")
    residency = configurations["ResidencyCredential"].to_json()
    assert residency["format"] == "dc+sd-jwt"
    assert residency["cryptographic_binding_methods_supported"] == ["jwk"]
    assert residency["credential_signing_alg_values_supported"] == ["EdDSA"]
    assert (
        "ES256" in residency["proof_types_supported"]["jwt"]["proof_signing_alg_values_supported"]
    )
    profile = configurations["ResidencyCredential_vc+jwt"].to_json()
    assert profile["format"] == "vc+jwt"
    assert profile["credential_definition"] == {
        "type": ["VerifiableCredential", "ResidencyCredential"]
    }
    assert {c.format for c in configurations.values()} == {"dc+sd-jwt", "vc+jwt"}


def test_metadata_of_another_issuer_is_not_used() -> None:
    """§12.2.4: credential_issuer must equal the identifier, by simple string comparison."""
    doc = _seoul_metadata().to_json()
    with pytest.raises(VerificationError) as caught:
        CredentialIssuerMetadata.from_json(doc, expected_issuer=ISSUER + "/")
    assert caught.value.code is Code.ISSUER_MISMATCH


@pytest.mark.parametrize(
    "change",
    [
        {"credential_endpoint": "http://vc.seoul.example/credential"},
        {"credential_endpoint": None},
        {"nonce_endpoint": "https://user@vc.seoul.example/nonce"},
        {"credential_configurations_supported": []},
        {"authorization_servers": []},
    ],
    ids=["http-endpoint", "no-endpoint", "userinfo", "configurations-array", "empty-servers"],
)
def test_malformed_issuer_metadata_is_refused(change: dict[str, Any]) -> None:
    """Endpoints are https URLs; configurations an object; servers a non-empty array."""
    doc = _seoul_metadata().to_json()
    for name, value in change.items():
        if value is None:
            doc.pop(name)
        else:
            doc[name] = value
    with pytest.raises(MalformedInputError):
        CredentialIssuerMetadata.from_json(doc, expected_issuer=ISSUER)


def test_authorization_server_metadata() -> None:
    """RFC 8414: identical issuer; grant_types_supported defaults; the anonymous flag."""
    server = AuthorizationServerMetadata(
        issuer=ISSUER,
        token_endpoint=ISSUER + "/token",
        grant_types=(PRE_AUTHORIZED_GRANT,),
        anonymous=True,
    )
    assert AuthorizationServerMetadata.from_json(server.to_json(), expected_issuer=ISSUER) == server
    minimal = {"issuer": ISSUER, "token_endpoint": ISSUER + "/token"}
    read = AuthorizationServerMetadata.from_json(minimal, expected_issuer=ISSUER)
    assert (read.grant_types, read.anonymous) == (("authorization_code", "implicit"), False)
    with pytest.raises(VerificationError):
        AuthorizationServerMetadata.from_json(minimal, expected_issuer="https://as.example")
    with pytest.raises(MalformedInputError):
        AuthorizationServerMetadata.from_json(
            {**minimal, "pre-authorized_grant_anonymous_access_supported": "yes"},
            expected_issuer=ISSUER,
        )


def test_configuration_from_json_ignores_unknown_members() -> None:
    """A configuration of another issuer with members we do not use still reads."""
    doc = {"format": "mso_mdoc", "doctype": "org.iso.18013.5.1.mDL", "x": {"y": 1}}
    read = CredentialConfiguration.from_json("mdl", doc)
    assert (read.format, read.type_name) == ("mso_mdoc", None)


# -- error names ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "endpoint", "error"),
    [
        (Code.INVALID_GRANT, "token", "invalid_grant"),
        (Code.UNSUPPORTED_GRANT_TYPE, "token", "unsupported_grant_type"),
        (Code.MALFORMED, "token", "invalid_request"),
        (Code.UNAUTHORIZED, "credential", "invalid_token"),
        (Code.INVALID_PROOF, "credential", "invalid_proof"),
        (Code.INVALID_NONCE, "credential", "invalid_nonce"),
        (Code.UNKNOWN_CREDENTIAL_CONFIGURATION, "credential", "unknown_credential_configuration"),
        (Code.CREDENTIAL_REQUEST_DENIED, "credential", "credential_request_denied"),
        (Code.DUPLICATE_KEY, "credential", "invalid_credential_request"),
    ],
)
def test_oauth_error_names(code: Code, endpoint: Any, error: str) -> None:
    """RFC 6749 §5.2, RFC 6750 §3.1 and OpenID4VCI §8.3.1.2 names."""
    assert oauth_error(code, endpoint) == error


def test_an_issuer_cannot_choose_our_codes() -> None:
    """Only standard error values map back; anything else is credential_request_denied."""
    assert code_of_oauth_error("invalid_grant") is Code.INVALID_GRANT
    assert code_of_oauth_error("unlock_failed") is Code.CREDENTIAL_REQUEST_DENIED
    assert code_of_oauth_error("invalid_token") is Code.CREDENTIAL_REQUEST_DENIED
    assert code_of_oauth_error(None) is Code.CREDENTIAL_REQUEST_DENIED


def test_did_web_of_an_issuer_identifier() -> None:
    """The did:web of the identifier's host (port percent-encoded) and path."""
    assert did_web_of_issuer("https://localhost:8443") == "did:web:localhost%3A8443"
    assert did_web_of_issuer("https://vc.seoul.example") == "did:web:vc.seoul.example"


def test_sign_compact_header_members_cannot_set_alg() -> None:
    """format_key_proof's header cannot be steered into alg or crit (jose's guard)."""
    with pytest.raises(MalformedInputError):
        sign_compact(b"{}", _KEY, header={"alg": "none"})
