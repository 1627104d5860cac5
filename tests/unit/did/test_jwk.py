"""did:jwk (did:jwk Method Specification): the spec example, round trips, refusals."""

from __future__ import annotations

import json

import pytest

from seoul_vc._encoding import b64url_decode, b64url_encode
from seoul_vc.did import MethodResolver, resolve_verification_method
from seoul_vc.did.document import find_verification_method, parse_did_document
from seoul_vc.did.jwk import did_jwk, did_jwk_document, public_key_from_did_jwk
from seoul_vc.errors import Code, SeoulVCError
from seoul_vc.keys import PrivateKey, PublicKey

# did:jwk Method Specification (github.com/quartzjer/did-jwk, spec.md, "Examples"): P-256.
SPEC_P256_JWK = {
    "crv": "P-256",
    "kty": "EC",
    "x": "acbIQiuMs3i8_uszEjJ2tpTtRM4EU3yz91PH6CdH2V0",
    "y": "_KcyLj9vWMptnmKtm46GqDz8wf74I5LKgrl2GzH3nSE",
}
SPEC_P256_DID = (
    "did:jwk:eyJjcnYiOiJQLTI1NiIsImt0eSI6IkVDIiwieCI6ImFjYklRaXVNczNpOF91c3pFakoydHBUdFJNNEVVM3l6"
    "OTFQSDZDZEgyVjAiLCJ5IjoiX0tjeUxqOXZXTXB0bm1LdG00NkdxRHo4d2Y3NEk1TEtncmwyR3pIM25TRSJ9"
)
# The same section's X25519 example (use "enc"): not a signing key.
SPEC_X25519_DID = (
    "did:jwk:eyJrdHkiOiJPS1AiLCJjcnYiOiJYMjU1MTkiLCJ1c2UiOiJlbmMiLCJ4IjoiM3A3YmZYdDl3YlRUVzJIQzdP"
    "UTFOei1EUThoYmVHZE5yZngtRkctSUswOCJ9"
)


def did_jwk_of(text: str | bytes) -> str:
    return "did:jwk:" + b64url_encode(text if isinstance(text, bytes) else text.encode())


def code_of(fn, *args, **kwargs) -> Code:  # type: ignore[no-untyped-def]
    """Call ``fn`` and return the code of the SeoulVCError it must raise."""
    with pytest.raises(SeoulVCError) as info:
        fn(*args, **kwargs)
    return info.value.code


# -- the spec example ---------------------------------------------------------------------


def test_spec_p256_key_gives_the_spec_did() -> None:
    """The spec's P-256 JWK, JCS-serialised, is exactly the spec's DID."""
    assert did_jwk(PublicKey.from_jwk(SPEC_P256_JWK)) == SPEC_P256_DID


def test_spec_p256_did_decodes_to_the_spec_key() -> None:
    """The spec's DID decodes to the spec's key."""
    assert public_key_from_did_jwk(SPEC_P256_DID) == PublicKey.from_jwk(SPEC_P256_JWK)


def test_spec_p256_document_matches_the_spec() -> None:
    """The document equals the spec's example (its 'did:jwk:$' typo in authentication fixed)."""
    ref = SPEC_P256_DID + "#0"
    assert did_jwk_document(SPEC_P256_DID) == {
        "@context": [
            "https://www.w3.org/ns/did/v1",
            "https://w3id.org/security/suites/jws-2020/v1",
        ],
        "id": SPEC_P256_DID,
        "verificationMethod": [
            {
                "id": ref,
                "type": "JsonWebKey2020",
                "controller": SPEC_P256_DID,
                "publicKeyJwk": SPEC_P256_JWK,
            }
        ],
        "assertionMethod": [ref],
        "authentication": [ref],
        "capabilityInvocation": [ref],
        "capabilityDelegation": [ref],
        "keyAgreement": [ref],
    }


def test_spec_x25519_did_is_invalid_key() -> None:
    """The spec's X25519 (use 'enc') example is not a key seoul_vc verifies with."""
    assert code_of(public_key_from_did_jwk, SPEC_X25519_DID) == Code.INVALID_KEY


# -- round trips and documents ------------------------------------------------------------


@pytest.mark.parametrize("alg", ["EdDSA", "ES256"])
def test_generated_key_round_trips(alg: str) -> None:
    """public_key_from_did_jwk(did_jwk(k)) == k."""
    key = PrivateKey.generate(alg).public_key
    assert public_key_from_did_jwk(did_jwk(key)) == key


def test_did_jwk_is_jcs_of_the_required_members() -> None:
    """did_jwk encodes the RFC 7638 members in JCS order, so one key has one DID."""
    key = PrivateKey.generate().public_key
    x = key.to_jwk()["x"]
    assert b64url_decode(did_jwk(key)[8:]) == f'{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}'.encode()


def test_non_canonical_member_order_and_extra_members_are_read() -> None:
    """Reading accepts any JWK our import accepts, e.g. another member order and a kid."""
    key = PrivateKey.generate("ES256").public_key
    jwk = key.to_jwk()
    text = json.dumps({"y": jwk["y"], "kid": "k", "x": jwk["x"], "kty": "EC", "crv": "P-256"})
    assert public_key_from_did_jwk(did_jwk_of(text)) == key


def test_use_sig_document_has_no_key_agreement() -> None:
    """With 'use': 'sig' the read algorithm omits keyAgreement."""
    jwk = PrivateKey.generate().public_key.to_jwk() | {"use": "sig"}
    doc = did_jwk_document(did_jwk_of(json.dumps(jwk)))
    assert "keyAgreement" not in doc
    assert doc["assertionMethod"] == [doc["id"] + "#0"]  # type: ignore[operator]


@pytest.mark.parametrize(
    "relationship",
    [
        "authentication",
        "assertionMethod",
        "capabilityInvocation",
        "capabilityDelegation",
        "keyAgreement",
    ],
)
def test_document_method_0_resolves_to_the_key(relationship: str) -> None:
    """DID -> document -> '#0' under each relationship -> the DID's key."""
    key = PrivateKey.generate("ES256").public_key
    did = did_jwk(key)
    doc = parse_did_document(did_jwk_document(did), did=did)
    method = find_verification_method(doc, did + "#0", relationship=relationship)
    assert (method.public_key, method.type, method.controller) == (key, "JsonWebKey2020", did)


def test_method_resolver_resolves_did_jwk_urls() -> None:
    """resolve_verification_method('did:jwk:...#0') through MethodResolver gives the key."""
    key = PrivateKey.generate().public_key
    assert resolve_verification_method(
        did_jwk(key) + "#0", resolver=MethodResolver()
    ).public_key == (key)


def test_unknown_fragment_is_not_found() -> None:
    """Only '#0' names the key of a did:jwk."""
    did = did_jwk(PrivateKey.generate().public_key)
    assert code_of(resolve_verification_method, did + "#1", resolver=MethodResolver()) == (
        Code.NOT_FOUND
    )


# -- refusals -----------------------------------------------------------------------------


@pytest.mark.parametrize("alg", ["EdDSA", "ES256"])
def test_private_jwk_is_private_key_material(alg: str) -> None:
    """A did:jwk holding 'd' is refused (the spec: MUST NOT contain private key material)."""
    did = did_jwk_of(json.dumps(PrivateKey.generate(alg).private_jwk()))
    assert code_of(public_key_from_did_jwk, did) == Code.PRIVATE_KEY_MATERIAL


def test_percent_encoded_padding_is_invalid_encoding() -> None:
    """Base64url padding smuggled in as '%3D' (a valid DID idchar) is refused by the decoder."""
    did = did_jwk(PrivateKey.generate().public_key)
    assert len(did[8:]) % 4 != 0
    padded = did + "%3D" * (-len(did[8:]) % 4)
    assert code_of(public_key_from_did_jwk, padded) == Code.INVALID_ENCODING


def test_literal_padding_is_invalid_did() -> None:
    """'=' is not a DID idchar (DID Core §3.1), so a padded did:jwk fails DID syntax first."""
    did = did_jwk(PrivateKey.generate().public_key)
    assert code_of(public_key_from_did_jwk, did + "=" * (-len(did[8:]) % 4)) == Code.INVALID_DID


def test_non_canonical_trailing_bits_are_invalid_encoding() -> None:
    """A last character with non-zero unused bits is refused (RFC 4648 §3.5)."""
    did = did_jwk(PrivateKey.generate().public_key)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    assert len(did[8:]) % 4 in (2, 3)
    forged = did[:-1] + alphabet[alphabet.index(did[-1]) | 1]
    assert code_of(public_key_from_did_jwk, forged) == Code.INVALID_ENCODING


def test_length_one_mod_four_is_invalid_encoding() -> None:
    """A method-specific id of length 1 mod 4 is not base64url."""
    assert code_of(public_key_from_did_jwk, "did:jwk:eyJhb") == Code.INVALID_ENCODING


@pytest.mark.parametrize("text", ["not json", "{", '{"kty":"OKP",}', "\x00"])
def test_json_garbage_is_malformed(text: str) -> None:
    """The decoded value must be JSON."""
    assert code_of(public_key_from_did_jwk, did_jwk_of(text)) == Code.MALFORMED


@pytest.mark.parametrize("text", ["[]", '"jwk"', "null"])
def test_json_that_is_not_an_object_is_malformed(text: str) -> None:
    """The decoded JSON must be an object."""
    assert code_of(public_key_from_did_jwk, did_jwk_of(text)) == Code.MALFORMED


def test_duplicate_jwk_member_is_duplicate_key() -> None:
    """A JWK repeating 'x' is refused rather than taking one of the values."""
    x = PrivateKey.generate().public_key.to_jwk()["x"]
    text = f'{{"kty":"OKP","crv":"Ed25519","x":"{x}","x":"{x}"}}'
    assert code_of(public_key_from_did_jwk, did_jwk_of(text)) == Code.DUPLICATE_KEY


def test_nested_jwk_is_too_deep() -> None:
    """A JWK nesting past depth 2 is refused before import."""
    text = '{"kty":"OKP","crv":"Ed25519","x":"AA","ext":[[1]]}'
    assert code_of(public_key_from_did_jwk, did_jwk_of(text)) == Code.TOO_DEEP


def test_oversized_jwk_is_too_large() -> None:
    """A decoded JWK over 1024 bytes is refused."""
    text = json.dumps({"kty": "OKP", "crv": "Ed25519", "x": "AA", "pad": "a" * 1100})
    assert code_of(public_key_from_did_jwk, did_jwk_of(text)) == Code.TOO_LARGE


def test_small_order_key_is_weak() -> None:
    """A did:jwk of the Ed25519 identity point is weak_key."""
    x = b64url_encode(b"\x01" + b"\x00" * 31)
    text = json.dumps({"kty": "OKP", "crv": "Ed25519", "x": x})
    assert code_of(public_key_from_did_jwk, did_jwk_of(text)) == Code.WEAK_KEY


def test_unsupported_key_type_is_invalid_key() -> None:
    """An RSA JWK is refused."""
    text = json.dumps({"kty": "RSA", "n": "sXch", "e": "AQAB"})
    assert code_of(public_key_from_did_jwk, did_jwk_of(text)) == Code.INVALID_KEY


def test_empty_method_specific_id_is_invalid_did() -> None:
    """'did:jwk:' has no method-specific id."""
    assert code_of(public_key_from_did_jwk, "did:jwk:") == Code.INVALID_DID


def test_other_method_is_invalid_did() -> None:
    """public_key_from_did_jwk refuses a did:key."""
    assert code_of(
        public_key_from_did_jwk, "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"
    ) == (Code.INVALID_DID)


def test_extra_colon_segment_is_invalid_did() -> None:
    """'did:jwk:a:b' is not of the form did:jwk:<b64url>."""
    did = did_jwk(PrivateKey.generate().public_key)
    assert code_of(public_key_from_did_jwk, "did:jwk:0:" + did[8:]) == Code.INVALID_DID
