"""The values of OpenID4VP verifier sessions: preset queries, a session, its result.

Part of :mod:`seoul_vc.presentation`, which re-exports every public name here:
:data:`PRESETS` (named DCQL queries, OpenID4VP 1.0 §6, in the library's subset),
:class:`ReceiptPolicy` (the ledger whose view receipts are checked),
:class:`PresentationSession` (a created request, §5: its signed Request Object, ``nonce``
and ``state``) and :class:`SessionResult` (what a session came to: ``pending``,
``processing``, ``complete``, ``failed`` or ``expired``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal

from seoul_vc._json import JSONObject
from seoul_vc.credentials.types import credential_type
from seoul_vc.ledger.checkpoint import WitnessPolicy
from seoul_vc.ledger.note import NoteVerifier
from seoul_vc.wallet.request import CredentialQuery

__all__ = ["PRESETS", "PresentationSession", "ReceiptPolicy", "SessionResult", "Status"]

Status = Literal["pending", "processing", "complete", "failed", "expired"]


def _preset(type_name: str, query_id: str, *paths: tuple[str, ...]) -> tuple[CredentialQuery]:
    return (
        CredentialQuery(
            id=query_id, vct_values=(credential_type(type_name).vct,), claims=tuple(paths)
        ),
    )


#: Named DCQL queries an agency can ask for without writing one.
PRESETS: Final[Mapping[str, tuple[CredentialQuery, ...]]] = {
    "residency_district": _preset(
        "ResidencyCredential", "residency", ("address", "district"), ("ageOver19",)
    ),
    "adult_resident": _preset("ResidencyCredential", "residency", ("ageOver19",)),
    "income_bracket": _preset(
        "IncomeCredential", "income", ("incomeBracketPercent",), ("householdSize",)
    ),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class ReceiptPolicy:
    """The ledger whose view receipts the verifier checks: origin, note key, witnesses."""

    origin: str
    log_key: NoteVerifier
    witnesses: WitnessPolicy


@dataclass(frozen=True, slots=True, kw_only=True)
class PresentationSession:
    """A created presentation request.

    Attributes:
        request_id: the session's id (128 random bits, base64url).
        request_object: the signed Request Object served at the ``request_uri``.
        client_id: ``decentralized_identifier:<DID>``.
        nonce, state: the session's fresh values (also inside the Request Object).
        credentials: the DCQL Credential Queries.
        created_at, expires_at: POSIX seconds.
    """

    request_id: str
    request_object: str
    client_id: str
    nonce: str
    state: str
    credentials: tuple[CredentialQuery, ...]
    created_at: int
    expires_at: int


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionResult:
    """What a session came to (see the module docstring, step 6).

    Attributes:
        request_id: the session.
        status: ``pending``, ``processing``, ``complete``, ``failed`` or ``expired``.
        claims: per Credential Query id, the disclosed claims (``complete`` only).
        error: the failing check's code, or the wallet's OAuth ``error`` (``failed`` only).
        error_source: ``verifier`` or ``wallet`` (``failed`` only).
        view: the checked view receipt (consent, k of N, ledger indexes), if one came.
        expires_at: the request's expiry; completed_at: when the response was processed.
    """

    request_id: str
    status: Status
    expires_at: int
    claims: dict[str, JSONObject] | None = None
    error: str | None = None
    error_source: Literal["verifier", "wallet"] | None = None
    view: JSONObject | None = None
    completed_at: int | None = None

    def to_json(self) -> JSONObject:
        """Return the result as JSON (absent members omitted)."""
        out: JSONObject = {
            "request_id": self.request_id,
            "status": self.status,
            "expires_at": self.expires_at,
        }
        if self.claims is not None:
            out["claims"] = {k: dict(v) for k, v in self.claims.items()}
        if self.error is not None:
            out["error"] = {"code": self.error, "source": self.error_source or "verifier"}
        if self.view is not None:
            out["view"] = dict(self.view)
        if self.completed_at is not None:
            out["completed_at"] = self.completed_at
        return out
