"""The wallet's side of OpenID4VP 1.0: answer a request by reference with ``direct_post``.

Room: wallet responder. :func:`answer_request` takes the Authorization Request a citizen
scanned (``openid4vp://?client_id=...&request_uri=...``) and runs, in order:

1. **Parse** the URL (OpenID4VP 1.0 §5, RFC 9101 §5.2): ``client_id`` with the
   ``decentralized_identifier:`` prefix (§5.9.3, the only one this wallet accepts) and a
   ``request_uri``; ``request_uri_method`` absent, ``get`` or ``post`` (a wallet without the
   POST method GETs, §5.1), anything else is ``invalid_request_uri_method`` (§8.5). A
   request without ``request_uri`` — plain parameters, which no one signed, or a ``request``
   by value — is refused: this wallet answers signed requests fetched by reference only.
   Repeated parameters are refused (RFC 6749 §3.1).
2. **Authorise** the citizen with the PIN *before* fetching anything, so a caller without
   the PIN cannot make the service fetch URLs.
3. **Fetch** the Request Object from ``request_uri`` with the guarded fetcher (HTTPS only,
   public addresses only, no redirects — §14.8 —, bounded body, one deadline), requiring
   ``application/oauth-authz-req+jwt`` (§5.10.1).
4. **Open** it (:func:`~seoul_vc.wallet.request.open_request`: ``typ``, signature by a key
   of the ``client_id`` DID, lifetime, DCQL subset); its ``client_id`` must equal the URL's,
   prefix included (§5.10.1: ``did_mismatch`` otherwise), and it must ask for Response Mode
   ``direct_post`` with a ``response_uri`` (§8.2), the only mode a wallet backend can
   answer. The signed request is what makes the ``response_uri`` trusted (§14.4.1).
5. **Consent, then view**: a consent for exactly this request — the claims chosen (default:
   every claim asked), one view (``max_views=1``), until the request's expiry — recorded on
   the ledger (:meth:`~seoul_vc.wallet.wallet.WalletService.grant`), then the view
   (:meth:`~seoul_vc.wallet.wallet.WalletService.view`): appended to the ledger before the
   presentations are built, each bound to the request's ``client_id`` and ``nonce``.
6. **Send** the Authorization Response by ``direct_post`` (§8.2): form-encoded
   ``vp_token`` (the JSON object of §8.1), ``state`` when the request had one, and
   ``view_receipt`` — the ledger's proof of the view (an extra response parameter, §8.1;
   :data:`seoul_vc.presentation.RECEIPT_PARAMETER`). No redirect is followed. A 200 with a
   JSON object is acceptance, and its ``redirect_uri`` is handed to the app (§8.2). The
   view is spent by now, so a transport failure is retried once; a verifier still
   unreachable is ``unavailable`` with the consent id and view, for the app to tell the
   citizen that the view is recorded but was not delivered.

Example:
    >>> from seoul_vc.wallet.oid4vp import parse_authorization_request
    >>> url = ("openid4vp://?client_id=decentralized_identifier%3Adid%3Aweb%3Aa.example"
    ...        "&request_uri=https%3A%2F%2Fa.example%2Fr%2F1")
    >>> parse_authorization_request(url).request_uri
    'https://a.example/r/1'
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final
from urllib.parse import parse_qsl, urlencode, urlsplit

from seoul_vc import _json
from seoul_vc._json import JSONObject
from seoul_vc._net import Answer as HTTPAnswer
from seoul_vc._net import GuardedFetcher
from seoul_vc.credentials.sd_jwt import ClaimPath, format_claim_path
from seoul_vc.errors import Code, MalformedInputError, UnavailableError, VerificationError
from seoul_vc.limits import Limits
from seoul_vc.wallet.request import CLIENT_ID_PREFIX, DIRECT_POST, REQUEST_TYP
from seoul_vc.wallet.wallet import WalletService

__all__ = [
    "AUTHORIZATION_SCHEME",
    "Answer",
    "AuthorizationRequest",
    "answer_request",
    "parse_authorization_request",
]

#: The custom scheme of §13.1.2's static wallet configuration.
AUTHORIZATION_SCHEME: Final = "openid4vp"
_REQUEST_MEDIA: Final = "application/" + REQUEST_TYP
_FORM: Final = "application/x-www-form-urlencoded"
_MAX_URL: Final = 4096
_MAX_ANSWER_BYTES: Final = 64 * 1024
_RECEIPT_PARAMETER: Final = "view_receipt"  # seoul_vc.presentation.RECEIPT_PARAMETER
_CODE_RE: Final = re.compile(r"[A-Za-z0-9_.-]{1,64}")
#: Tries to deliver a response whose view is already spent, and the pause between them.
_DELIVERY_ATTEMPTS: Final = 2
_DELIVERY_PAUSE_SECONDS: Final = 0.5


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthorizationRequest:
    """An Authorization Request by reference: who asks, and where the request object is."""

    client_id: str
    request_uri: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Answer:
    """What became of one answered request.

    Attributes:
        verifier: the verifier's DID; client_id: its full Client Identifier.
        purpose: the purpose the request stated.
        consent_id: the one-view consent granted; view, max_views: k of N (1 of 1).
        claims: per Credential Query id, the claim paths disclosed.
        accepted: the Response URI answered 200 (§8.2).
        status: the Response URI's HTTP status.
        attempts: the POSTs it took (2 after a transport failure); a verifier's
            ``already_answered`` on the second means the first did arrive, with an outcome
            this wallet never saw.
        redirect_uri: where the verifier asks the app to continue (§8.2), if it did.
        verifier_error: the refusal's code (problem ``code`` or OAuth ``error``), if any.
    """

    verifier: str
    client_id: str
    purpose: str
    consent_id: str
    view: int
    max_views: int
    claims: dict[str, list[str]]
    accepted: bool
    status: int
    attempts: int = 1
    redirect_uri: str | None = None
    verifier_error: str | None = None

    def to_json(self) -> JSONObject:
        """Return the answer as JSON (no claim values: only paths)."""
        out: JSONObject = {
            "verifier": self.verifier,
            "client_id": self.client_id,
            "purpose": self.purpose,
            "consent_id": self.consent_id,
            "view": self.view,
            "max_views": self.max_views,
            "claims": {k: list(v) for k, v in self.claims.items()},
            "accepted": self.accepted,
            "status": self.status,
            "attempts": self.attempts,
        }
        if self.redirect_uri is not None:
            out["redirect_uri"] = self.redirect_uri
        if self.verifier_error is not None:
            out["verifier_error"] = self.verifier_error
        return out


def _malformed(message: str, field: str) -> MalformedInputError:
    return MalformedInputError(Code.MALFORMED, message, field=field)


def parse_authorization_request(url: str) -> AuthorizationRequest:
    """Parse an ``openid4vp://`` Authorization Request by reference (step 1 above).

    Raises:
        MalformedInputError: ``malformed`` naming the field; ``too_large`` past 4 KiB.
    """
    if not url.isascii():
        raise _malformed("the authorization request is an ASCII URL", "authorization_request")
    if len(url) > _MAX_URL:
        raise MalformedInputError(Code.TOO_LARGE, "the authorization request is too long")
    try:
        parts = urlsplit(url)
        pairs = parse_qsl(parts.query, keep_blank_values=True, strict_parsing=True)
    except ValueError as exc:
        raise _malformed(
            "the authorization request does not parse", "authorization_request"
        ) from exc
    if parts.scheme != AUTHORIZATION_SCHEME or parts.fragment:
        raise _malformed(
            "the authorization request is an openid4vp:// URL", "authorization_request"
        )
    params: dict[str, str] = {}
    for name, value in pairs:
        if name in params:
            raise _malformed("a parameter is repeated (RFC 6749 §3.1)", name[:64])
        params[name] = value
    if "request" in params or "request_uri" not in params:
        raise _malformed(
            "this wallet answers signed requests by reference (request_uri) only", "request_uri"
        )
    method = params.get("request_uri_method", "get")
    if method not in ("get", "post"):
        raise _malformed("invalid_request_uri_method: get or post", "request_uri_method")
    client_id = params.get("client_id", "")
    if not client_id.startswith(CLIENT_ID_PREFIX) or len(client_id) == len(CLIENT_ID_PREFIX):
        raise _malformed("client_id is decentralized_identifier:<DID>", "client_id")
    request_uri = params["request_uri"]
    try:
        target = urlsplit(request_uri)
    except ValueError as exc:
        raise _malformed("request_uri is an https URL", "request_uri") from exc
    if target.scheme != "https" or not target.netloc or target.fragment:
        raise _malformed("request_uri is an https URL", "request_uri")
    return AuthorizationRequest(client_id=client_id, request_uri=request_uri)


def answer_request(
    service: WalletService,
    wallet_id: str,
    pin: str,
    authorization_request: str,
    *,
    fetcher: GuardedFetcher,
    claims: Mapping[str, Sequence[ClaimPath | str]] | None = None,
    credentials: Mapping[str, str] | None = None,
    expires_at: datetime | int | None = None,
    limits: Limits | None = None,
) -> Answer:
    """Answer an OpenID4VP request by reference with ``direct_post`` (the module's steps).

    Args:
        service: the wallet service.
        wallet_id: the citizen's wallet.
        pin: its PIN (authorises the consent).
        authorization_request: the ``openid4vp://`` URL the citizen scanned.
        fetcher: the guarded HTTPS client for the request object and the response.
        claims: per Credential Query id, the claims consented to (default: all asked).
        credentials: per Credential Query id, the held credential to present.
        expires_at: the consent's end (default: the request's expiry).
        limits: bounds (the request object's size).

    Returns:
        The answer; ``accepted`` is False when the verifier refused the response.

    Raises:
        MalformedInputError: ``malformed`` for a bad URL, request object or media type.
        PolicyError: ``unlock_failed`` (a wrong PIN, before any fetch), ``address_refused``,
            ``insecure_transport``; ``claim_not_requested``.
        VerificationError: ``did_mismatch`` when the object's ``client_id`` is not the
            URL's; the request's signature and lifetime codes.
        NotFoundError: ``not_found`` when no held credential answers a query, or the
            request object is gone.
        StateConflictError: ``wallet_locked``; consent ledger refusals.
        UnavailableError: the verifier cannot be reached (after the view: with
            ``consent_id`` and ``view`` in the details).
    """
    # (1) The URL, before any I/O.
    reference = parse_authorization_request(authorization_request)
    # (2) The PIN before any fetch.
    service.credentials(wallet_id, pin)
    # (3) The Request Object, by reference, guarded.
    fetched = fetcher.get(
        reference.request_uri,
        accept=_REQUEST_MEDIA,
        max_bytes=(limits or Limits()).max_token_bytes,
        what="request object",
    )
    if fetched.media_type != _REQUEST_MEDIA:
        raise _malformed(f"the request object is served as {_REQUEST_MEDIA}", "request_uri")
    try:
        token = fetched.body.decode("ascii").strip()
    except UnicodeDecodeError as exc:
        raise _malformed("the request object is a compact JWS", "request_uri") from exc
    # (4) Signed by the client_id's DID, for this client_id, answered by direct_post.
    request = service.open_request(token)
    if request.client_id != reference.client_id:
        raise VerificationError(
            Code.DID_MISMATCH, "the request object's client_id is not the request's"
        )
    if request.response_mode != DIRECT_POST or request.response_uri is None:
        raise _malformed("this wallet answers by direct_post to a response_uri", "response_mode")
    # (5) One view of exactly this request, on the ledger before anything is disclosed.
    grant = service.grant(
        wallet_id,
        pin,
        token,
        max_views=1,
        expires_at=expires_at if expires_at is not None else request.exp,
        claims=claims,
        credentials=credentials,
    )
    shown = service.view(wallet_id, grant.consent_id, token)
    # (6) The Authorization Response, form-encoded, to the response_uri; no redirects.
    form = {"vp_token": _json.dumps_text(dict(shown.vp_token))}
    if request.state is not None:
        form["state"] = request.state
    form[_RECEIPT_PARAMETER] = shown.receipt.to_json()
    reply, attempts = _deliver(fetcher, request.response_uri, urlencode(form).encode("ascii"))
    if reply is None:
        raise UnavailableError(
            Code.UNAVAILABLE,
            "the verifier could not be reached; the view is recorded and the consent spent",
            consent_id=grant.consent_id,
            view=shown.view,
        )
    redirect, refusal = _read_reply(reply.status, reply.body, reply.media_type)
    return Answer(
        verifier=request.verifier,
        client_id=request.client_id,
        purpose=request.purpose,
        consent_id=grant.consent_id,
        view=shown.view,
        max_views=shown.max_views,
        claims={i.query_id: [format_claim_path(p) for p in i.claims] for i in grant.items},
        accepted=reply.status == 200,
        status=reply.status,
        attempts=attempts,
        redirect_uri=redirect,
        verifier_error=refusal,
    )


def _deliver(
    fetcher: GuardedFetcher, response_uri: str, body: bytes
) -> tuple[HTTPAnswer | None, int]:
    """POST the Authorization Response: ``(reply or None if unreachable, POSTs made)``.

    The view is on the ledger by now and its one-view consent spent, so a transport failure
    is worth one more try after a short pause (:data:`_DELIVERY_ATTEMPTS` in all). A reply of
    any status ends it: the verifier answers a response once, and a retry whose first try
    did arrive gets its ``already_answered``.
    """
    for attempt in range(1, _DELIVERY_ATTEMPTS + 1):
        try:
            reply = fetcher.post(
                response_uri,
                body=body,
                content_type=_FORM,
                accept="application/json",
                max_bytes=_MAX_ANSWER_BYTES,
                what="authorization response",
            )
        except UnavailableError:
            if attempt < _DELIVERY_ATTEMPTS:
                time.sleep(_DELIVERY_PAUSE_SECONDS)
        else:
            return reply, attempt
    return None, _DELIVERY_ATTEMPTS


def _read_reply(status: int, body: bytes, media_type: str) -> tuple[str | None, str | None]:
    """``(redirect_uri, refusal code)`` of the Response URI's reply; never raises on it."""
    if not media_type.endswith("json"):
        return None, None if status == 200 else f"http_{status}"
    try:
        obj = _json.loads_object(body, max_bytes=_MAX_ANSWER_BYTES, max_depth=8, what="reply")
    except MalformedInputError:
        return None, None if status == 200 else f"http_{status}"
    if status == 200:
        redirect = obj.get("redirect_uri")
        ok = (
            isinstance(redirect, str)
            and len(redirect) <= 2048
            and redirect.isascii()
            and redirect.startswith("https://")
        )
        return (str(redirect) if ok else None), None
    code = obj.get("code", obj.get("error"))
    if isinstance(code, str) and _CODE_RE.fullmatch(code):
        return None, code
    return None, f"http_{status}"
