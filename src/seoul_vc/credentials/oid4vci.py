"""OpenID for Verifiable Credential Issuance 1.0: offers, metadata and key proofs, no storage.

The protocol pieces both sides need; the issuer's state lives in :mod:`seoul_vc.issuance`,
the wallet's client in :mod:`seoul_vc.wallet.oid4vci`. Sections are those of OpenID4VCI 1.0
(final, 2025):

* **Credential Offer** (§4.1), by value or by reference, pre-authorized code grant only:
  ``_oid4vci_offer``.
* **Credential Issuer** and **Authorization Server Metadata** (§12.2-12.3, RFC 8414) and the
  credential configurations (``dc+sd-jwt``, and the Seoul ``vc+jwt`` profile):
  ``_oid4vci_metadata``.
* **Key proofs** (Appendix F.1, checked as F.4 lists), bound to a ``jwk`` only:
  ``_oid4vci_proofs``.
* **Errors**, here: :func:`oauth_error` names the RFC 6749 §5.2 / RFC 6750 §3.1 /
  OpenID4VCI §8.3.1.2 ``error`` of a library code; :func:`code_of_oauth_error` reads one
  back.

Each of those modules' docstrings gives its rules in full; every public name is importable
from here.

Example:
    >>> from seoul_vc.credentials.oid4vci import check_key_proof, format_key_proof
    >>> from seoul_vc.keys import PrivateKey
    >>> holder = PrivateKey.generate("ES256")
    >>> proof = format_key_proof(holder, audience="https://vc.seoul.example",
    ...                          nonce="n-1", iat=1_800_000_000)
    >>> checked = check_key_proof(proof, audience="https://vc.seoul.example", now=1_800_000_010)
    >>> (checked.key == holder.public_key, checked.nonce)
    (True, 'n-1')
"""

from __future__ import annotations

from typing import Final, Literal

from seoul_vc.credentials._oid4vci_metadata import (
    AS_WELL_KNOWN,
    ISSUER_WELL_KNOWN,
    AuthorizationServerMetadata,
    CredentialConfiguration,
    CredentialIssuerMetadata,
    authorization_server_metadata_url,
    credential_issuer_metadata_url,
    seoul_configurations,
)
from seoul_vc.credentials._oid4vci_metadata import VC_JWT_SUFFIX as VC_JWT_SUFFIX
from seoul_vc.credentials._oid4vci_offer import (
    OFFER_SCHEME,
    PRE_AUTHORIZED_GRANT,
    CredentialOffer,
    TxCode,
    offer_reference,
    parse_credential_offer,
)
from seoul_vc.credentials._oid4vci_proofs import (
    PROOF_ALGORITHMS,
    PROOF_TYP,
    KeyProof,
    check_key_proof,
    format_key_proof,
)
from seoul_vc.errors import Code

__all__ = [
    "AS_WELL_KNOWN",
    "ISSUER_WELL_KNOWN",
    "OFFER_SCHEME",
    "PRE_AUTHORIZED_GRANT",
    "PROOF_ALGORITHMS",
    "PROOF_TYP",
    "AuthorizationServerMetadata",
    "CredentialConfiguration",
    "CredentialIssuerMetadata",
    "CredentialOffer",
    "KeyProof",
    "TxCode",
    "authorization_server_metadata_url",
    "check_key_proof",
    "code_of_oauth_error",
    "credential_issuer_metadata_url",
    "format_key_proof",
    "oauth_error",
    "offer_reference",
    "parse_credential_offer",
    "seoul_configurations",
]


# -- errors ---------------------------------------------------------------------------------------

_TOKEN_ERRORS: Final = {
    Code.INVALID_GRANT: "invalid_grant",
    Code.UNSUPPORTED_GRANT_TYPE: "unsupported_grant_type",
}
_CREDENTIAL_ERRORS: Final = {
    Code.UNAUTHORIZED: "invalid_token",
    Code.INVALID_PROOF: "invalid_proof",
    Code.INVALID_NONCE: "invalid_nonce",
    Code.UNKNOWN_CREDENTIAL_CONFIGURATION: "unknown_credential_configuration",
    Code.CREDENTIAL_REQUEST_DENIED: "credential_request_denied",
}
#: How a wallet reads an issuer's ``error`` (never the issuer's own ``code`` member: a
#: remote server does not choose our codes, e.g. ``unlock_failed``).
_CODE_OF_ERROR: Final = {
    "invalid_grant": Code.INVALID_GRANT,
    "unsupported_grant_type": Code.UNSUPPORTED_GRANT_TYPE,
    "invalid_proof": Code.INVALID_PROOF,
    "invalid_nonce": Code.INVALID_NONCE,
    "unknown_credential_configuration": Code.UNKNOWN_CREDENTIAL_CONFIGURATION,
    "invalid_request": Code.MALFORMED,
    "invalid_credential_request": Code.MALFORMED,
}


def oauth_error(code: Code, endpoint: Literal["token", "credential"]) -> str:
    """Return the ``error`` value an endpoint answers a library refusal with.

    Token endpoint (RFC 6749 §5.2, OpenID4VCI §6.3): ``invalid_grant``,
    ``unsupported_grant_type``, else ``invalid_request``. Credential endpoint (RFC 6750
    §3.1, OpenID4VCI §8.3.1.2): ``invalid_token``, ``invalid_proof``, ``invalid_nonce``,
    ``unknown_credential_configuration``, ``credential_request_denied``, else
    ``invalid_credential_request``.

    >>> oauth_error(Code.DUPLICATE_KEY, "credential")
    'invalid_credential_request'
    """
    if endpoint == "token":
        return _TOKEN_ERRORS.get(code, "invalid_request")
    return _CREDENTIAL_ERRORS.get(code, "invalid_credential_request")


def code_of_oauth_error(error: object) -> Code:
    """Return the library code for an issuer's ``error``.

    Unknown values, and ``invalid_token`` (the wallet's own authentication is not what
    failed), become ``credential_request_denied``.

    >>> code_of_oauth_error("invalid_nonce")
    <Code.INVALID_NONCE: 'invalid_nonce'>
    """
    if isinstance(error, str) and error in _CODE_OF_ERROR:
        return _CODE_OF_ERROR[error]
    return Code.CREDENTIAL_REQUEST_DENIED
