"""OpenID for Verifiable Credential Issuance 1.0: offers, metadata and key proofs, no storage.

The protocol pieces both sides need; the issuer's state lives in :mod:`seoul_vc.issuance`,
the wallet's client in :mod:`seoul_vc.wallet.oid4vci`. Sections are those of OpenID4VCI 1.0
(final, 2025):

* **Credential Offer** (§4.1): :class:`CredentialOffer` with the pre-authorized code grant
  ``urn:ietf:params:oauth:grant-type:pre-authorized_code`` (``pre-authorized_code``,
  optional ``tx_code`` object: ``input_mode``, ``length``, ``description`` of at most 300
  characters), sent by value as ``openid-credential-offer://?credential_offer=<JSON>``
  (§4.1.2) or by reference with ``credential_offer_uri`` (§4.1.3, an ``https`` URL).
  Unrecognised members are ignored (§4.1.1); only the pre-authorized code grant is read.
* **Credential Issuer Metadata** (§12.2) at ``/.well-known/openid-credential-issuer``
  inserted between host and path (§12.2.2); its ``credential_issuer`` must equal the
  identifier it was fetched for, by simple string comparison, or it is not used (§12.2.4,
  ``issuer_mismatch``). **Authorization Server Metadata** (RFC 8414 §3, with OpenID4VCI
  §12.3 ``pre-authorized_grant_anonymous_access_supported``), whose ``issuer`` must be
  identical too (RFC 8414 §3.3).
* **Credential configurations** (§12.2.4, Appendix A.3): ``dc+sd-jwt`` with ``vct``, and
  the Seoul profile ``vc+jwt`` (``<Type>_vc+jwt``; see :func:`seoul_configurations`), both
  bound to a ``jwk`` proven by a ``jwt`` key proof.
* **Key proofs** (Appendix F.1, checked as F.4 lists): :func:`format_key_proof` and
  :func:`check_key_proof`. The proof is a JWT typed ``openid4vci-proof+jwt`` whose ``jwk``
  header is the key the credential will be bound to, with ``aud`` the Credential Issuer
  Identifier, ``iat`` and ``nonce`` the server's ``c_nonce``. ``kid``, ``x5c``, ``jku``,
  ``x5u``, ``trust_chain`` and ``key_attestation`` are refused (we bind to ``jwk`` only),
  as are ``alg: none``/HMAC, a ``jwk`` with private members, weak or unsupported keys, and
  an ``iat`` older than ``Limits.kb_jwt_max_age`` or in the future beyond
  ``Limits.clock_skew``. Every refusal is ``invalid_proof`` with ``details["reason"]``;
  whether the ``c_nonce`` is one the issuer gave out is the issuer's check
  (``invalid_nonce``).
* **Errors**: :func:`oauth_error` names the RFC 6749 §5.2 / RFC 6750 §3.1 / OpenID4VCI
  §8.3.1.2 ``error`` of a library code; :func:`code_of_oauth_error` reads one back.

This module is the public face of four: offers live in ``_oid4vci_offer``, metadata and
configurations in ``_oid4vci_metadata``, key proofs in ``_oid4vci_proofs``, and the errors
here; every public name is importable from here.

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
