"""The issuing service's messages: what its endpoints return, and a credential request read.

Part of :mod:`seoul_vc.issuance`, which re-exports every public name here:
:class:`CreatedOffer` (a Credential Offer, OpenID4VCI 1.0 §4.1, and its transaction code),
:class:`TokenResponse` (RFC 6749 §5.1), :class:`IssuedCredential`
(the Credential Response, §8.3), :class:`OfferState` (for the agency), and the reading of
a Credential Request (§8.2: one ``credential_configuration_id`` and one ``jwt`` proof).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from seoul_vc._json import JSONObject, JSONValue
from seoul_vc.credentials.oid4vci import CredentialOffer
from seoul_vc.errors import Code, MalformedInputError, VerificationError

__all__ = ["CreatedOffer", "IssuedCredential", "OfferState", "TokenResponse"]


# -- values ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class CreatedOffer:
    """A new offer: hand ``offer`` to the citizen and ``tx_code`` by another channel.

    Attributes:
        offer_id: the agency's handle (state, status changes); not a secret.
        offer: the Credential Offer (it holds the pre-authorized code: a secret).
        tx_code: the transaction code, if one was asked for (shown once, never stored).
        expires_at: when the pre-authorized code expires (POSIX seconds).
    """

    offer_id: str
    offer: CredentialOffer
    tx_code: str | None = field(default=None, repr=False)
    expires_at: int

    def to_json(self) -> JSONObject:
        """Return ``offer_id``, ``credential_offer``, ``offer_uri``, ``expires_at``, ``tx_code``."""
        out: JSONObject = {
            "offer_id": self.offer_id,
            "credential_offer": self.offer.to_json(),
            "offer_uri": self.offer.to_uri(),
            "expires_at": self.expires_at,
        }
        if self.tx_code is not None:
            out["tx_code"] = self.tx_code
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenResponse:
    """A successful token response (RFC 6749 §5.1)."""

    access_token: str = field(repr=False)
    expires_in: int

    def to_json(self) -> JSONObject:
        """Return ``access_token``, ``token_type`` ``Bearer`` and ``expires_in``."""
        return {
            "access_token": self.access_token,
            "token_type": "Bearer",
            "expires_in": self.expires_in,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class IssuedCredential:
    """An issued credential and where its status lives."""

    offer_id: str
    configuration_id: str
    format: str
    credential: str = field(repr=False)
    status: JSONValue | None = None

    def to_json(self) -> JSONObject:
        """Return the Credential Response (§8.3): ``{"credentials": [{"credential": ...}]}``."""
        return {"credentials": [{"credential": self.credential}]}


@dataclass(frozen=True, slots=True, kw_only=True)
class OfferState:
    """What became of an offer (for the agency; no personal data).

    Attributes:
        state: ``offered``, ``redeemed`` (token given), ``issued``, ``invalidated`` or
            ``expired``; status: the credential's status claim once issued.
    """

    offer_id: str
    configuration_id: str
    state: str
    expires_at: int
    issued_at: int | None = None
    status: JSONValue | None = None

    def to_json(self) -> JSONObject:
        """Return the state as JSON."""
        return {
            "offer_id": self.offer_id,
            "credential_configuration_id": self.configuration_id,
            "state": self.state,
            "expires_at": self.expires_at,
            "issued_at": self.issued_at,
            "status": self.status,
        }


def _read_request(request: JSONObject) -> tuple[str, object]:
    """The ``credential_configuration_id`` and the one ``jwt`` proof of a request (§8.2)."""
    if not isinstance(request, dict):
        raise MalformedInputError(Code.MALFORMED, "a credential request is a JSON object")
    if "credential_identifier" in request:
        raise MalformedInputError(
            Code.MALFORMED, "credential_identifier is not used: no identifiers were issued"
        )
    if "credential_response_encryption" in request:
        raise MalformedInputError(Code.MALFORMED, "response encryption is not supported")
    configuration_id = request.get("credential_configuration_id")
    if not isinstance(configuration_id, str) or not configuration_id:
        raise MalformedInputError(Code.MALFORMED, "credential_configuration_id is required")
    proofs = request.get("proofs")
    if proofs is None:
        raise VerificationError(Code.INVALID_PROOF, "proofs is required", reason="proofs_missing")
    if not isinstance(proofs, dict) or len(proofs) != 1:
        raise VerificationError(
            Code.INVALID_PROOF, "proofs holds exactly one proof type", reason="malformed"
        )
    jwts = proofs.get("jwt")
    if jwts is None:
        raise VerificationError(
            Code.INVALID_PROOF, "the jwt proof type is the one supported", reason="proof_type"
        )
    if not isinstance(jwts, list) or not jwts:
        raise VerificationError(
            Code.INVALID_PROOF, "proofs.jwt is a non-empty array", reason="malformed"
        )
    if len(jwts) > 1:
        raise MalformedInputError(Code.MALFORMED, "one proof per request: no batch issuance")
    return configuration_id, jwts[0]
