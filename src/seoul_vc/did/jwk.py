"""did:jwk (did:jwk Method Specification): a DID that is a base64url-encoded public JWK.

``did:jwk:`` + BASE64URL(UTF-8 JSON of the JWK). We create it from the RFC 7638 member set
serialised with JCS (RFC 8785), so one key always yields one DID; we read any JWK that our
strict import accepts. Private members are refused (the spec's "MUST NOT contain private key
material"). The document has one ``JsonWebKey2020`` method ``#0``; per the spec's read
algorithm, ``use: "sig"`` omits keyAgreement, ``use: "enc"`` keeps only keyAgreement.

Example:
    >>> from seoul_vc.did.jwk import did_jwk, public_key_from_did_jwk
    >>> from seoul_vc.keys import PrivateKey
    >>> key = PrivateKey.generate("ES256").public_key
    >>> public_key_from_did_jwk(did_jwk(key)) == key
    True
"""

from __future__ import annotations

from typing import Final

from seoul_vc import _json
from seoul_vc._encoding import b64url_decode, b64url_encode
from seoul_vc._json import JSONObject, JSONValue
from seoul_vc.did.syntax import DID, parse_did
from seoul_vc.errors import Code, MalformedInputError
from seoul_vc.keys import PublicKey

__all__ = ["did_jwk", "did_jwk_document", "public_key_from_did_jwk"]

_CONTEXT: Final = ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/suites/jws-2020/v1"]
_MAX_JWK_BYTES: Final = 1024


def did_jwk(key: PublicKey) -> DID:
    """Return the did:jwk for ``key``."""
    return DID("did:jwk:" + b64url_encode(_json.canonical(key.to_jwk())))


def _decode(did: str) -> tuple[JSONObject, PublicKey]:
    parsed = parse_did(did)
    parts = parsed.split(":")
    if len(parts) != 3 or parts[1] != "jwk":
        raise MalformedInputError(Code.INVALID_DID, "not a did:jwk of the form did:jwk:<b64url>")
    raw = b64url_decode(parts[2], what="did:jwk key")
    jwk = _json.loads_object(raw, max_bytes=_MAX_JWK_BYTES, max_depth=2, what="did:jwk key")
    return jwk, PublicKey.from_jwk(jwk)


def public_key_from_did_jwk(did: str) -> PublicKey:
    """Decode the key inside a did:jwk.

    Raises:
        MalformedInputError: ``invalid_did``, ``invalid_encoding``, ``malformed``,
            ``private_key_material``, ``invalid_key`` or ``weak_key``.
    """
    return _decode(did)[1]


def did_jwk_document(did: str) -> JSONObject:
    """Build the DID document of a did:jwk (the spec's read operation).

    Raises:
        MalformedInputError: as :func:`public_key_from_did_jwk`.
    """
    jwk, _ = _decode(did)
    ref = f"{did}#0"
    doc: dict[str, JSONValue] = {
        "@context": list(_CONTEXT),
        "id": did,
        "verificationMethod": [
            {"id": ref, "type": "JsonWebKey2020", "controller": did, "publicKeyJwk": jwk}
        ],
    }
    use = jwk.get("use")
    if use != "enc":
        for rel in (
            "assertionMethod",
            "authentication",
            "capabilityInvocation",
            "capabilityDelegation",
        ):
            doc[rel] = [ref]
    if use != "sig":
        doc["keyAgreement"] = [ref]
    return doc
