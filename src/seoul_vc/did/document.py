"""DID documents (DID Core 1.0 §5) as pydid models, and verification-method lookup.

pydid (and the pydantic it brings) stays in this module and is imported lazily: importing it
costs ~250 ms, which every ``seoul-vc`` call would otherwise pay. What leaves this module is
either a ``pydid.DIDDocument`` (the documented return type of :func:`seoul_vc.did.resolve`) or
a :class:`VerificationMethod` value holding a validated :class:`~seoul_vc.keys.PublicKey`.

Supported verification method types and their key members:

=============================== ==================== ======================================
type                            member               spec
=============================== ==================== ======================================
Multikey                        publicKeyMultibase   Controlled Identifiers 1.0 §2.2.2
JsonWebKey / JsonWebKey2020     publicKeyJwk         Controlled Identifiers 1.0 §2.2.3
Ed25519VerificationKey2020      publicKeyMultibase   Ed25519 Signature 2020 (multicodec)
Ed25519VerificationKey2018      publicKeyBase58      Ed25519 Signature 2018 (raw 32 bytes)
=============================== ==================== ======================================
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import base58

from seoul_vc._encoding import encode_multibase_base58btc
from seoul_vc._json import JSONObject
from seoul_vc.errors import Code, MalformedInputError, NotFoundError, VerificationError
from seoul_vc.keys import PublicKey

if TYPE_CHECKING:
    from pydid import DIDDocument

__all__ = [
    "RELATIONSHIPS",
    "VerificationMethod",
    "find_verification_method",
    "multikey_method",
    "parse_did_document",
    "public_key_of",
]

#: Verification relationships of DID Core §5.3, as JSON member names.
RELATIONSHIPS: Final = frozenset(
    {
        "authentication",
        "assertionMethod",
        "keyAgreement",
        "capabilityInvocation",
        "capabilityDelegation",
    }
)


@dataclass(frozen=True, slots=True, kw_only=True)
class VerificationMethod:
    """A verification method with its key validated.

    Attributes:
        id: the absolute DID URL of the method.
        controller: the DID that controls it.
        type: the verification method type, e.g. ``Multikey``.
        public_key: the validated key.
    """

    id: str
    controller: str
    type: str
    public_key: PublicKey


def parse_did_document(data: JSONObject, *, did: str) -> DIDDocument:
    """Validate ``data`` as a DID document for ``did`` and return the pydid model.

    Raises:
        MalformedInputError: ``malformed`` if it is not a valid DID document.
        VerificationError: ``did_mismatch`` if its ``id`` is not ``did`` (DID Core §7.1.2:
            the resolved document's ``id`` must equal the DID being resolved).
    """
    from pydid import DIDDocument

    if data.get("id") != did:
        raise VerificationError(
            Code.DID_MISMATCH, "the document's id is not the DID that was resolved"
        )
    try:
        # pydid warns (rather than fails) on some malformed methods; a document we cannot
        # read cleanly is refused, the same way with or without a warnings filter.
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            return DIDDocument.deserialize(dict(data))
    except (ValueError, TypeError, AttributeError, KeyError, Warning) as exc:
        raise MalformedInputError(Code.MALFORMED, "not a valid DID document") from exc


def _absolute(doc_id: str, ref: str) -> str:
    return doc_id + ref if ref.startswith("#") else ref


def find_verification_method(
    doc: DIDDocument, did_url: str, *, relationship: str | None = "assertionMethod"
) -> VerificationMethod:
    """Find the method ``did_url`` names in ``doc`` and import its key.

    Args:
        doc: the resolved document of the DID in ``did_url``.
        did_url: an absolute DID URL with a fragment, e.g. ``did:key:z6Mk...#z6Mk...``.
        relationship: the verification relationship the method must be listed under
            (DID Core §5.3); ``None`` accepts any method of the document.

    Raises:
        NotFoundError: ``not_found`` if no such method (under that relationship) exists.
        MalformedInputError: ``invalid_key``/``weak_key``/``invalid_encoding`` for bad keys,
            ``malformed`` for unsupported method types.
    """
    if relationship is not None and relationship not in RELATIONSHIPS:
        raise MalformedInputError(Code.MALFORMED, "unknown verification relationship")
    doc_id = str(doc.id)
    embedded: dict[str, Mapping[str, object]] = {}
    for vm in doc.verification_method or ():
        data = vm.serialize()
        embedded[_absolute(doc_id, str(data["id"]))] = data
    if relationship is not None:
        allowed: set[str] = set()
        for ref in getattr(doc, _PYDID_ATTR[relationship]) or ():
            if isinstance(ref, str) or not hasattr(ref, "serialize"):
                allowed.add(_absolute(doc_id, str(ref)))
            else:  # an embedded method, valid only for this relationship
                data = ref.serialize()
                absolute = _absolute(doc_id, str(data["id"]))
                embedded.setdefault(absolute, data)
                allowed.add(absolute)
        if did_url not in allowed:
            raise NotFoundError(
                Code.NOT_FOUND, f"no {relationship} method with that id", relationship=relationship
            )
    data = embedded.get(did_url)
    if data is None:
        raise NotFoundError(Code.NOT_FOUND, "the DID document has no method with that id")
    return VerificationMethod(
        id=did_url,
        controller=str(data.get("controller", doc_id)),
        type=str(data.get("type")),
        public_key=public_key_of(data),
    )


_PYDID_ATTR: Final = {
    "authentication": "authentication",
    "assertionMethod": "assertion_method",
    "keyAgreement": "key_agreement",
    "capabilityInvocation": "capability_invocation",
    "capabilityDelegation": "capability_delegation",
}


def public_key_of(method: Mapping[str, object]) -> PublicKey:
    """Import the key of a verification method given as JSON.

    Raises:
        MalformedInputError: ``malformed`` for an unsupported type or missing member; key
            errors as :meth:`PublicKey.from_jwk` / :meth:`PublicKey.from_multikey`.
    """
    vm_type = method.get("type")
    if vm_type in ("JsonWebKey", "JsonWebKey2020"):
        jwk = method.get("publicKeyJwk")
        if not isinstance(jwk, Mapping):
            raise MalformedInputError(Code.MALFORMED, f"{vm_type} needs publicKeyJwk")
        return PublicKey.from_jwk(jwk)
    if vm_type in ("Multikey", "Ed25519VerificationKey2020"):
        multibase = method.get("publicKeyMultibase")
        if not isinstance(multibase, str):
            raise MalformedInputError(Code.MALFORMED, f"{vm_type} needs publicKeyMultibase")
        key = PublicKey.from_multikey(multibase)
        if vm_type == "Ed25519VerificationKey2020" and key.alg.value != "EdDSA":
            raise MalformedInputError(Code.INVALID_KEY, "Ed25519VerificationKey2020 is Ed25519")
        return key
    if vm_type == "Ed25519VerificationKey2018":
        b58 = method.get("publicKeyBase58")
        if not isinstance(b58, str) or len(b58) > 64:
            raise MalformedInputError(Code.MALFORMED, "Ed25519VerificationKey2018 needs base58")
        try:
            raw = bytes(base58.b58decode(b58))
        except ValueError as exc:
            raise MalformedInputError(Code.INVALID_ENCODING, "publicKeyBase58 is bad") from exc
        if base58.b58encode(raw).decode() != b58:
            raise MalformedInputError(Code.INVALID_ENCODING, "publicKeyBase58 is not canonical")
        return PublicKey.from_multikey(encode_multibase_base58btc(b"\xed\x01" + raw))
    raise MalformedInputError(
        Code.MALFORMED, "unsupported verification method type", type=str(vm_type)[:64]
    )


def multikey_method(did: str, key: PublicKey) -> JSONObject:
    """Return a Multikey verification method for ``key`` whose fragment is its multibase."""
    multikey = key.to_multikey()
    return {
        "id": f"{did}#{multikey}",
        "type": "Multikey",
        "controller": did,
        "publicKeyMultibase": multikey,
    }
