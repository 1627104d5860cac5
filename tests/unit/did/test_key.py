"""did:key (W3C CCG did:key Method v0.9): published vectors, documents, refusals."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import base58
import pytest

from seoul_vc._encoding import b64url_decode, b64url_encode, encode_multibase_base58btc
from seoul_vc.did import MethodResolver, resolve_verification_method
from seoul_vc.did.document import (
    RELATIONSHIPS,
    find_verification_method,
    parse_did_document,
    public_key_of,
)
from seoul_vc.did.key import did_key, did_key_document, public_key_from_did_key
from seoul_vc.errors import Code, SeoulVCError
from seoul_vc.keys import PrivateKey, PublicKey

VECTORS = json.loads(
    (Path(__file__).parents[2] / "vectors" / "did-key" / "vectors.json").read_text("utf-8")
)
ED25519: list[dict[str, Any]] = VECTORS["ed25519"]
P256: list[dict[str, Any]] = VECTORS["p256"]
ALL_DIDS = [v["did"] for v in ED25519 + P256]

# P-256 domain parameters (SEC 2 §2.4.2 / FIPS 186-4 D.1.2.3), for an independent curve check.
P256_P = 2**256 - 2**224 + 2**192 + 2**96 - 1
P256_B = 0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B


def ed25519_raw(vector: dict[str, Any]) -> bytes:
    return bytes(base58.b58decode(vector["publicKeyBase58"]))


def did_key_of(codec_and_key: bytes) -> str:
    return "did:key:" + encode_multibase_base58btc(codec_and_key)


def code_of(fn, *args, **kwargs) -> Code:  # type: ignore[no-untyped-def]
    """Call ``fn`` and return the code of the SeoulVCError it must raise."""
    with pytest.raises(SeoulVCError) as info:
        fn(*args, **kwargs)
    return info.value.code


# -- published vectors --------------------------------------------------------------------


@pytest.mark.parametrize("vector", ED25519, ids=[v["seed"][-2:] for v in ED25519])
def test_ed25519_seed_gives_the_published_did(vector: dict[str, Any]) -> None:
    """The seed's public key (checked against publicKeyBase58) yields the published did:key."""
    key = PrivateKey.from_jwk(
        {
            "kty": "OKP",
            "crv": "Ed25519",
            "x": b64url_encode(ed25519_raw(vector)),
            "d": b64url_encode(bytes.fromhex(vector["seed"])),
        }
    )
    assert did_key(key.public_key) == vector["did"]


@pytest.mark.parametrize("vector", ED25519, ids=[v["seed"][-2:] for v in ED25519])
def test_ed25519_2018_base58_method_is_the_key_of_the_did(vector: dict[str, Any]) -> None:
    """The vector's Ed25519VerificationKey2018 publicKeyBase58 is the key inside the DID."""
    method = {
        "id": "#" + vector["did"][8:],
        "type": "Ed25519VerificationKey2018",
        "controller": vector["did"],
        "publicKeyBase58": vector["publicKeyBase58"],
    }
    assert public_key_of(method) == public_key_from_did_key(vector["did"])


@pytest.mark.parametrize("vector", P256, ids=["p256-1", "p256-2"])
def test_p256_jwk_gives_the_published_did(vector: dict[str, Any]) -> None:
    """The vector's public JWK yields the published zDn... did:key."""
    assert did_key(PublicKey.from_jwk(vector["publicKeyJwk"])) == vector["did"]


@pytest.mark.parametrize("vector", P256, ids=["p256-1", "p256-2"])
def test_p256_private_jwk_matches_the_did(vector: dict[str, Any]) -> None:
    """The vector's private JWK imports and its public key is the one in the DID."""
    key = PrivateKey.from_jwk(vector["privateKeyJwk"])
    assert key.public_key == public_key_from_did_key(vector["did"])


@pytest.mark.parametrize("vector", P256, ids=["p256-1", "p256-2"])
def test_p256_json_web_key_2020_method_is_the_key_of_the_did(vector: dict[str, Any]) -> None:
    """The vector's JsonWebKey2020 method resolves to the key inside the DID."""
    method = {"type": "JsonWebKey2020", "publicKeyJwk": vector["publicKeyJwk"]}
    assert public_key_of(method) == public_key_from_did_key(vector["did"])


@pytest.mark.parametrize("did", ALL_DIDS)
def test_published_did_round_trips_through_its_key(did: str) -> None:
    """did_key(public_key_from_did_key(d)) == d."""
    assert did_key(public_key_from_did_key(did)) == did


@pytest.mark.parametrize("did", ALL_DIDS)
@pytest.mark.parametrize("relationship", sorted(RELATIONSHIPS - {"keyAgreement"}))
def test_document_method_resolves_to_the_key(did: str, relationship: str) -> None:
    """DID -> document -> method '#<msid>' under each signing relationship -> the DID's key."""
    doc = parse_did_document(did_key_document(did), did=did)
    method = find_verification_method(doc, f"{did}#{did[8:]}", relationship=relationship)
    assert method.public_key == public_key_from_did_key(did)
    assert (method.type, method.controller) == ("Multikey", did)


@pytest.mark.parametrize("did", ALL_DIDS[:1] + ALL_DIDS[-1:])
def test_document_has_no_key_agreement(did: str) -> None:
    """X25519 derivation is off, so keyAgreement lists nothing (did:key §3.1.2)."""
    doc = parse_did_document(did_key_document(did), did=did)
    assert code_of(
        find_verification_method, doc, f"{did}#{did[8:]}", relationship="keyAgreement"
    ) == (Code.NOT_FOUND)


def test_document_shape_follows_the_creation_algorithm() -> None:
    """One Multikey method '#<msid>' controlled by the DID, listed under four relationships."""
    did = ED25519[0]["did"]
    ref = f"{did}#{did[8:]}"
    assert did_key_document(did) == {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": did,
        "verificationMethod": [
            {"id": ref, "type": "Multikey", "controller": did, "publicKeyMultibase": did[8:]}
        ],
        "authentication": [ref],
        "assertionMethod": [ref],
        "capabilityInvocation": [ref],
        "capabilityDelegation": [ref],
    }


@pytest.mark.parametrize("did", ALL_DIDS[:1] + ALL_DIDS[-1:])
def test_method_resolver_resolves_did_key_urls(did: str) -> None:
    """resolve_verification_method(did#msid) through MethodResolver gives the DID's key."""
    method = resolve_verification_method(f"{did}#{did[8:]}", resolver=MethodResolver())
    assert method.public_key == public_key_from_did_key(did)


@pytest.mark.parametrize("alg", ["EdDSA", "ES256"])
def test_generated_key_round_trips(alg: str) -> None:
    """public_key_from_did_key(did_key(k)) == k for fresh keys."""
    key = PrivateKey.generate(alg).public_key
    assert public_key_from_did_key(did_key(key)) == key


# -- refusals -----------------------------------------------------------------------------


def test_small_order_identity_key_is_weak() -> None:
    """did:key of the Ed25519 identity 01 00..00 is weak_key."""
    did = did_key_of(b"\xed\x01" + b"\x01" + b"\x00" * 31)
    assert code_of(public_key_from_did_key, did) == Code.WEAK_KEY


def test_small_order_key_document_is_refused() -> None:
    """Building the document of a small-order did:key fails with weak_key too."""
    did = did_key_of(b"\xed\x01" + b"\xec" + b"\xff" * 30 + b"\x7f")  # y = p - 1, order 2
    assert code_of(did_key_document, did) == Code.WEAK_KEY


def test_secp256k1_multicodec_is_invalid_key() -> None:
    """secp256k1-pub (0xe7) is not supported."""
    did = did_key_of(b"\xe7\x01" + b"\x02" + b"\x11" * 32)
    assert code_of(public_key_from_did_key, did) == Code.INVALID_KEY


def test_x25519_multicodec_is_invalid_key() -> None:
    """x25519-pub (0xec) is a key-agreement key, not a signing key."""
    did = did_key_of(b"\xec\x01" + b"\x09" * 32)
    assert code_of(public_key_from_did_key, did) == Code.INVALID_KEY


def test_uncompressed_p256_is_invalid_key() -> None:
    """p256-pub in did:key is the 33-byte compressed point; 65-byte uncompressed is refused."""
    jwk = P256[0]["publicKeyJwk"]
    point = b"\x04" + b64url_decode(jwk["x"]) + b64url_decode(jwk["y"])
    assert code_of(public_key_from_did_key, did_key_of(b"\x80\x24" + point)) == Code.INVALID_KEY


def test_compressed_p256_with_wrong_prefix_is_invalid_key() -> None:
    """A 33-byte p256-pub must start with 0x02 or 0x03."""
    body = bytes.fromhex("04") + b"\x11" * 32
    assert code_of(public_key_from_did_key, did_key_of(b"\x80\x24" + body)) == Code.INVALID_KEY


def test_compressed_p256_x_not_on_curve_is_invalid_key() -> None:
    """An x with x^3 - 3x + b a non-residue mod p has no point (checked by Euler's criterion)."""
    x = next(
        x
        for x in range(1, 100)
        if pow((x**3 - 3 * x + P256_B) % P256_P, (P256_P - 1) // 2, P256_P) == P256_P - 1
    )
    body = b"\x02" + x.to_bytes(32, "big")
    assert code_of(public_key_from_did_key, did_key_of(b"\x80\x24" + body)) == Code.INVALID_KEY


@pytest.mark.parametrize("size", [31, 33])
def test_ed25519_key_of_wrong_length_is_invalid(size: int) -> None:
    """An ed25519-pub body is exactly 32 bytes."""
    did = did_key_of(b"\xed\x01" + b"\x42" * size)
    assert code_of(public_key_from_did_key, did) == Code.INVALID_KEY


def test_non_minimal_multicodec_varint_is_invalid_encoding() -> None:
    """0xed as 'ed 81 00' is a padded varint (unsigned-varint spec)."""
    did = did_key_of(b"\xed\x81\x00" + b"\x42" * 32)
    assert code_of(public_key_from_did_key, did) == Code.INVALID_ENCODING


@pytest.mark.parametrize("bad", ["0", "O", "I", "l"])
def test_non_base58_character_is_invalid_encoding(bad: str) -> None:
    """A method-specific id with a character outside the Bitcoin alphabet is refused."""
    did = ED25519[0]["did"]
    assert code_of(public_key_from_did_key, did[:20] + bad + did[21:]) == Code.INVALID_ENCODING


def test_other_multibase_prefix_is_invalid_encoding() -> None:
    """did:key uses base58btc ('z'); a base16 ('f') id is refused."""
    assert code_of(public_key_from_did_key, "did:key:fed01" + "42" * 32) == Code.INVALID_ENCODING


def test_multibase_prefix_alone_is_invalid_encoding() -> None:
    """'did:key:z' has no key."""
    assert code_of(public_key_from_did_key, "did:key:z") == Code.INVALID_ENCODING


def test_overlong_multikey_is_too_large() -> None:
    """A method-specific id past 128 characters is too_large."""
    assert code_of(public_key_from_did_key, "did:key:z" + "2" * 200) == Code.TOO_LARGE


def test_did_key_with_version_segment_is_invalid_did() -> None:
    """'did:key:1:z6Mk...' (a version segment) is not supported."""
    did = "did:key:1:" + ED25519[0]["did"][8:]
    assert code_of(public_key_from_did_key, did) == Code.INVALID_DID


def test_other_method_is_invalid_did() -> None:
    """public_key_from_did_key refuses a did:web."""
    assert code_of(public_key_from_did_key, "did:web:example.com") == Code.INVALID_DID


def test_did_key_url_with_fragment_is_invalid_did() -> None:
    """A DID URL is not a DID: the fragment must be split off first."""
    did = ED25519[0]["did"]
    assert code_of(public_key_from_did_key, f"{did}#{did[8:]}") == Code.INVALID_DID
