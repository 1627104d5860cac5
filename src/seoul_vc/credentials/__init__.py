"""Credentials: issue, present and verify residency, income and certificate credentials.

Three securing formats — ``vc+jwt`` (with ``vp+jwt`` presentations), ``vc+sd-jwt`` and
SD-JWT VC ``dc+sd-jwt`` — and one verification pipeline (:class:`Verifier`). See
:mod:`seoul_vc.credentials.issuer`, :mod:`~seoul_vc.credentials.sd_jwt` (RFC 9901) and
:mod:`~seoul_vc.credentials.verify`.

Example:
    >>> from seoul_vc.keys import PrivateKey
    >>> from seoul_vc.credentials import Issuer, TrustRegistry, Verifier, present
    >>> from seoul_vc.credentials.schemas import example_subject
    >>> ministry, citizen = PrivateKey.generate(), PrivateKey.generate()
    >>> issuer = Issuer(ministry)
    >>> token = issuer.issue(
    ...     "ResidencyCredential", example_subject("residency"), holder=citizen.public_key
    ... )
    >>> trust = TrustRegistry.from_json(
    ...     {"issuers": [{"id": issuer.did, "types": ["ResidencyCredential"]}]}
    ... )
    >>> verifier = Verifier(trust=trust)
    >>> nonce = verifier.new_nonce()
    >>> shown = present(token, citizen, disclose=["address.district"], aud="housing", nonce=nonce)
    >>> verifier.verify(shown, aud="housing", nonce=nonce).claims
    {'address': {'district': '마포구'}}
"""

from seoul_vc.credentials.issuer import FORMATS, Issuer, present
from seoul_vc.credentials.metadata import IssuerMetadataResolver, issuer_metadata_document
from seoul_vc.credentials.trust import TrustPolicy, TrustRegistry
from seoul_vc.credentials.types import CREDENTIAL_TYPES, CredentialType, credential_type
from seoul_vc.credentials.verify import (
    Check,
    MemoryNonceStore,
    NonceStore,
    StatusSource,
    VerificationReport,
    Verifier,
)

__all__ = [
    "CREDENTIAL_TYPES",
    "FORMATS",
    "Check",
    "CredentialType",
    "Issuer",
    "IssuerMetadataResolver",
    "MemoryNonceStore",
    "NonceStore",
    "StatusSource",
    "TrustPolicy",
    "TrustRegistry",
    "VerificationReport",
    "Verifier",
    "credential_type",
    "issuer_metadata_document",
    "present",
]
