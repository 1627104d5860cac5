"""did:key (W3C CCG did:key Method v0.9): a DID that is a public key.

The method-specific id is a Multikey: base58btc multibase of the multicodec header and the
raw key — ``ed25519-pub`` (``z6Mk...``) or ``p256-pub`` with a compressed point (``zDn...``).
The document is derived, never fetched: one ``Multikey`` verification method whose fragment is
the multibase value, referenced from authentication, assertionMethod, capabilityInvocation and
capabilityDelegation (§3.1.2 "Document Creation Algorithm" with the default
``publicKeyFormat`` Multikey). X25519 key agreement derivation
(``enableEncryptionKeyDerivation``) is off: seoul_vc does not encrypt to DIDs.

Example:
    >>> from seoul_vc.did.key import did_key, public_key_from_did_key
    >>> from seoul_vc.keys import PrivateKey
    >>> key = PrivateKey.generate().public_key
    >>> public_key_from_did_key(did_key(key)) == key
    True
"""

from __future__ import annotations

from typing import Final

from seoul_vc._json import JSONObject
from seoul_vc.did.document import multikey_method
from seoul_vc.did.syntax import DID, parse_did
from seoul_vc.errors import Code, MalformedInputError
from seoul_vc.keys import PublicKey

__all__ = ["did_key", "did_key_document", "public_key_from_did_key"]

_CONTEXT: Final = ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"]


def did_key(key: PublicKey) -> DID:
    """Return the did:key for ``key``."""
    return DID(f"did:key:{key.to_multikey()}")


def public_key_from_did_key(did: str) -> PublicKey:
    """Decode the key inside a did:key.

    Raises:
        MalformedInputError: ``invalid_did`` for another method or a version segment;
            ``invalid_encoding``, ``invalid_key`` or ``weak_key`` for the key.
    """
    parsed = parse_did(did)
    parts = parsed.split(":")
    if len(parts) != 3 or parts[1] != "key":
        raise MalformedInputError(Code.INVALID_DID, "not a did:key of the form did:key:z...")
    return PublicKey.from_multikey(parts[2])


def did_key_document(did: str) -> JSONObject:
    """Build the DID document of a did:key (read operation, §3.1.2).

    Raises:
        MalformedInputError: as :func:`public_key_from_did_key`.
    """
    key = public_key_from_did_key(did)
    method = multikey_method(did, key)
    ref = method["id"]
    return {
        "@context": list(_CONTEXT),
        "id": did,
        "verificationMethod": [method],
        "authentication": [ref],
        "assertionMethod": [ref],
        "capabilityInvocation": [ref],
        "capabilityDelegation": [ref],
    }
