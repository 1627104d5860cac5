"""The ``direct_post`` answers of OpenID4VP verifier sessions: parsed, then verified.

Part of :mod:`seoul_vc.presentation`: :class:`_SessionAnswers` extends the sessions' table
with the checks of a response (module :mod:`seoul_vc.presentation`, steps 2, 4 and 5).
A body is parsed (OpenID4VP 1.0 §8.1, §8.2, §8.5): ``vp_token`` (a JSON object: Credential
Query id -> one presentation) or the wallet's ``error``, and a Citizen Card
:data:`RECEIPT_PARAMETER` (§8.1 allows extra parameters). Then every presentation runs in
the library's one pipeline with ``aud`` the ``client_id`` and the session's ``nonce``
(§8.6, Appendix B.3.6; one nonce for every presentation of a response, §14.2.2), a view
receipt is checked against the ledger, and the answer is held against the DCQL query
(§6.4, §14.11): nothing unasked, everything asked, of an asked ``vct``, disclosing nothing
outside the query's claim paths.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from seoul_vc import _json
from seoul_vc._json import JSONObject, JSONValue
from seoul_vc.credentials import Verifier, sd_jwt
from seoul_vc.credentials.sd_jwt import format_claim_path
from seoul_vc.errors import (
    Code,
    InternalError,
    MalformedInputError,
    PolicyError,
    StateConflictError,
    VerificationError,
)
from seoul_vc.jose import parse_compact
from seoul_vc.presentation._store import _Row, _SessionStore
from seoul_vc.wallet.consent import ViewReceipt
from seoul_vc.wallet.present import check_consented_presentation, disclosed_paths, is_under
from seoul_vc.wallet.request import CLIENT_ID_PREFIX, parse_dcql

__all__ = ["RECEIPT_PARAMETER"]

#: The extra ``direct_post`` parameter carrying a Citizen Card view receipt (§8.1 allows it).
RECEIPT_PARAMETER: Final = "view_receipt"
#: RFC 6749 §4.1.2.1: ``error`` is %x20-21 / %x23-5B / %x5D-7E.
_OAUTH_ERROR_RE: Final = re.compile(r"[\x20\x21\x23-\x5b\x5d-\x7e]{1,64}")
_MAX_RECEIPT_BYTES: Final = 600 * 1024


class _SessionNonce:
    """A nonce store for one response: it accepts its session's nonce, for each presentation.

    Single use is the session's ``pending`` -> ``processing`` transition (durable, across
    processes), which happens before this store is made; here the nonce is only compared.
    """

    def __init__(self, nonce: str) -> None:
        self._nonce = nonce

    def issue(self) -> str:
        raise InternalError(Code.INTERNAL, "a session's nonce is issued with the session")

    def spend(self, nonce: str) -> None:
        if not hmac.compare_digest(nonce.encode(), self._nonce.encode()):
            raise StateConflictError(Code.NONCE_REPLAYED, "not this session's nonce")


@dataclass(frozen=True, slots=True)
class _Response:
    """A parsed ``direct_post`` body: a vp_token (and receipt) or the wallet's error."""

    vp_token: dict[str, list[str]] | None
    receipt: ViewReceipt | None
    error: str | None


def _malformed(message: str, field: str) -> MalformedInputError:
    return MalformedInputError(Code.MALFORMED, message, field=field)


class _SessionAnswers(_SessionStore):
    """The response checks of :class:`~seoul_vc.presentation.PresentationSessions`."""

    def _parse(self, parameters: Mapping[str, str]) -> _Response:
        """Parse a ``direct_post`` body (§8.1, §8.2, §8.5); unknown parameters are ignored."""
        error, raw = parameters.get("error"), parameters.get("vp_token")
        if (error is None) == (raw is None):
            raise _malformed("a response carries vp_token or error", "vp_token")
        if error is not None:
            if _OAUTH_ERROR_RE.fullmatch(error) is None:
                raise _malformed("error is an RFC 6749 error code", "error")
            return _Response(None, None, error)
        assert raw is not None  # noqa: S101 - one of the two, checked above
        limits = self._limits
        value = _json.loads_object(
            raw.encode(), max_bytes=8 * limits.max_token_bytes, max_depth=2, what="vp_token"
        )
        if not 0 < len(value) <= 8:
            raise _malformed("vp_token holds 1 to 8 Credential Query ids", "vp_token")
        vp_token: dict[str, list[str]] = {}
        for query_id, presentations in value.items():
            # The subset never sets `multiple`: exactly one presentation per query (§8.1).
            if (
                not isinstance(presentations, list)
                or len(presentations) != 1
                or not isinstance(presentations[0], str)
                or not 0 < len(presentations[0]) <= limits.max_token_bytes
            ):
                raise _malformed("each query id maps to one presentation string", "vp_token")
            vp_token[query_id] = [presentations[0]]
        text = parameters.get(RECEIPT_PARAMETER)
        receipt = None
        if text is not None:
            if len(text) > _MAX_RECEIPT_BYTES:
                raise MalformedInputError(Code.TOO_LARGE, "the view receipt is too large")
            receipt = ViewReceipt.from_json(text)
        return _Response(vp_token, receipt, None)

    def _verify(
        self, row: _Row, vp_token: dict[str, list[str]], receipt: ViewReceipt | None
    ) -> JSONObject:
        queries = {
            q.id: q for q in parse_dcql(_json.loads(row.query, max_bytes=1 << 20, max_depth=8))
        }
        # The answer's shape against the query (§6.4): nothing unasked, everything asked.
        for query_id in vp_token:
            if query_id not in queries:
                raise PolicyError(
                    Code.EXCESS_DISCLOSURE, "a presentation answers no Credential Query asked"
                )
        for query_id in queries:
            if query_id not in vp_token:
                raise PolicyError(
                    Code.QUERY_NOT_ANSWERED,
                    "a Credential Query has no presentation",
                    query=query_id,
                )
        verifier = Verifier(
            trust=self._trust,
            resolver=self._resolver,
            status=self._status,
            nonces=_SessionNonce(row.nonce),
            clock=self._clock,
            limits=self._limits,
        )
        outcome: JSONObject = {}
        claims: dict[str, JSONValue] = {}
        if receipt is not None and self._receipts is not None:
            policy = self._receipts
            checked = check_consented_presentation(
                vp_token,
                receipt,
                verifier=verifier,
                verifier_did=row.client_id.removeprefix(CLIENT_ID_PREFIX),
                client_id=row.client_id,
                nonce=row.nonce,
                origin=policy.origin,
                log_key=policy.log_key,
                witnesses=policy.witnesses,
            )
            claims.update(checked.claims)
            view = checked.view
            outcome["view"] = {
                "consent_id": view.consent_id,
                "view": view.view,
                "max_views": view.max_views,
                "expires_at": view.expires_at,
                "view_index": view.view_index,
                "grant_index": view.grant_index,
            }
        else:
            # Every presentation in the one pipeline, bound to this client_id and nonce.
            for query_id, (shown,) in vp_token.items():
                claims[query_id] = verifier.verify(shown, aud=row.client_id, nonce=row.nonce).claims
        # Each presentation against its query: format, type, and no claim beyond the asked.
        for query_id, (shown,) in vp_token.items():
            query = queries[query_id]
            header, payload = self._issuer_jwt(shown)
            if header.get("typ") != "dc+sd-jwt" or payload.get("vct") not in query.vct_values:
                raise VerificationError(
                    Code.WRONG_TYPE,
                    "the credential is not of a type the query asked",
                    query=query_id,
                )
            for path in disclosed_paths(shown, limits=self._limits):
                if not is_under(path, query.claims):
                    raise PolicyError(
                        Code.EXCESS_DISCLOSURE,
                        "a presentation discloses a claim the query did not ask",
                        query=query_id,
                        claim=format_claim_path(path),
                    )
        outcome["claims"] = claims
        return outcome

    def _issuer_jwt(self, presentation: str) -> tuple[JSONObject, JSONObject]:
        """The issuer JWT's header and payload (the pipeline verified them already)."""
        limits = self._limits
        jws = parse_compact(sd_jwt.split(presentation, limits=limits).issuer_jwt, limits=limits)
        payload = _json.loads_object(
            jws.payload, max_bytes=limits.max_token_bytes, max_depth=limits.max_json_depth
        )
        return dict(jws.header), payload
