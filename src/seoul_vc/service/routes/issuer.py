"""The issuing agency's OpenID4VCI 1.0 issuer and its status lists.

Room: service (surface) over :class:`seoul_vc.issuance.IssuanceService` and the agency's
:class:`~seoul_vc.status.StatusRegistry`. Present only when the deployment runs the
``issuer`` role. The Credential Issuer Identifier is ``public_url``, which is also the
authorization server; credentials and status lists are signed by the service's did:web
(``#issuer-1`` of ``/.well-known/did.json``), the DID of the identifier's own host.

Wallet-facing endpoints (OpenID4VCI 1.0), answering errors in their specs' format,
``{"error", "error_description"}`` plus our ``code`` and ``details``, ``no-store``:

* ``GET /.well-known/openid-credential-issuer`` (§12.2), ``GET /.well-known/
  oauth-authorization-server`` (RFC 8414, §12.3: anonymous pre-authorized access) and
  ``GET /.well-known/jwt-vc-issuer`` (SD-JWT VC §4: the issuer key under ``public_url``).
* ``POST /token`` (§6; RFC 6749 §4.1.3, form-encoded, strict: a repeated parameter is
  ``invalid_request``). Errors per RFC 6749 §5.2 with 400: ``invalid_request``,
  ``invalid_grant``, ``unsupported_grant_type``.
* ``POST /nonce`` (§7): ``{"c_nonce"}``.
* ``POST /credential`` (§8, ``Authorization: Bearer`` access token): ``{"credentials":
  [{"credential"}]}``. Errors: 401 ``invalid_token`` with ``WWW-Authenticate`` (RFC 6750
  §3.1), 400 ``invalid_credential_request``, ``invalid_proof``, ``invalid_nonce``,
  ``unknown_credential_configuration``, ``credential_request_denied`` (§8.3.1.2).

Transport refusals (413, body too large) and server failures (5xx) stay RFC 9457 problems.

Agency endpoints (bearer API token of the ``issuer`` role; RFC 9457 problems):

* ``POST /issuer/v1/offers``: ``credential_configuration_id``, ``subject``, optional
  ``tx_code`` (true: a 6-digit code, returned once for a second channel) and ``expires_in``
  (seconds) -> 201 with ``offer_id``, ``credential_offer``, ``offer_uri``
  (``openid-credential-offer://?credential_offer=...``), ``expires_at`` (and ``tx_code``).
* ``GET /issuer/v1/offers/{offer_id}``: the offer's state and, once issued, its status entry.
* ``POST /issuer/v1/status/{revoke|suspend|reinstate}``: ``{"offer_id"}`` or ``{"status"}``
  (the credential's ``status``/``credentialStatus``); ``POST /issuer/v1/status/publish``
  (``{"everything": bool}``) signs and anchors the changed lists on the ledger.

Status lists: ``GET /status/{list}/{status|revocation|suspension}`` serves the latest
signed version (``application/statuslist+jwt`` or ``application/vc+jwt``) with
``Cache-Control: public, max-age=<ttl>``, the ``ttl`` the list itself carries.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Final

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from seoul_vc._json import JSONObject, JSONValue
from seoul_vc.credentials import Issuer, issuer_metadata_document
from seoul_vc.credentials.metadata import WELL_KNOWN_PATH
from seoul_vc.credentials.oid4vci import AS_WELL_KNOWN, ISSUER_WELL_KNOWN, oauth_error
from seoul_vc.errors import Code, MalformedInputError, NotFoundError, PolicyError, SeoulVCError
from seoul_vc.issuance import (
    CREDENTIAL_PATH,
    NONCE_PATH,
    TOKEN_PATH,
    IssuanceService,
    StatusAction,
)
from seoul_vc.ledger.anchor import LedgerAnchor
from seoul_vc.service import _auth
from seoul_vc.service._http import (
    bearer_token,
    json_response,
    read_body,
    read_form,
    read_json,
)
from seoul_vc.service.context import ISSUER_FRAGMENT, Service
from seoul_vc.service.openapi import Section
from seoul_vc.service.problems import status_of
from seoul_vc.service.routes.issuer_openapi import (
    LEAVES,
    LIST_ID_PATTERN,
    MAX_EXPIRES_IN,
    OFFER_ID_PATTERN,
    SCHEMAS,
    STATUS_PREFIX,
    TAGS,
    issuer_paths,
)
from seoul_vc.status import StatusRegistry, StatusType

__all__ = ["STATUS_PREFIX", "STATUS_TTL", "section"]

#: How long verifiers may cache a list version (its ``ttl``, and the served max-age).
STATUS_TTL: Final = timedelta(minutes=5)
METADATA_CACHE: Final = "public, max-age=300"
_OFFER_FIELDS: Final = frozenset(
    {"credential_configuration_id", "subject", "tx_code", "expires_in"}
)
_OFFER_ID: Final = re.compile(OFFER_ID_PATTERN[1:-1])
_LIST_ID: Final = re.compile(LIST_ID_PATTERN[1:-1])
_STATE_NAMES: Final = {
    StatusType.VALID: "valid",
    StatusType.INVALID: "revoked",
    StatusType.SUSPENDED: "suspended",
}
_FORM_BYTES: Final = 16 * 1024
# RFC 6749 §5.2 / OpenID4VCI §8.3.1.2: error_description is %x20-21 / %x23-5B / %x5D-7E.
_DESCRIPTION_BAD: Final = re.compile(r"[^\x20-\x21\x23-\x5b\x5d-\x7e]")


def _malformed(message: str, field: str) -> MalformedInputError:
    return MalformedInputError(Code.MALFORMED, message, field=field)


def oauth_error_response(error: SeoulVCError, endpoint: str) -> Response:
    """The spec-format error reply of the token or credential endpoint.

    Raises:
        SeoulVCError: ``error`` itself for 413 and 5xx, which stay RFC 9457 problems.
    """
    if status_of(error) >= 500 or error.code is Code.TOO_LARGE:
        raise error
    name = oauth_error(error.code, "token" if endpoint == "token" else "credential")
    status = 401 if name == "invalid_token" else 400
    body: JSONObject = {
        "error": name,
        "error_description": _DESCRIPTION_BAD.sub("?", error.message)[:300],
        "code": str(error.code),
        "details": dict(error.details),
    }
    headers = {"pragma": "no-cache"}
    if status == 401:
        headers["www-authenticate"] = 'Bearer realm="seoul-vc", error="invalid_token"'
    return json_response(body, status, headers=headers)


def _offer_arguments(body: JSONObject) -> tuple[str, JSONObject, bool, timedelta | None]:
    unknown = sorted(set(body) - _OFFER_FIELDS)
    if unknown:
        raise _malformed("unknown member", unknown[0][:64])
    configuration_id = body.get("credential_configuration_id")
    if not isinstance(configuration_id, str) or not configuration_id:
        raise _malformed("credential_configuration_id is a string", "credential_configuration_id")
    subject = body.get("subject")
    if not isinstance(subject, dict):
        raise _malformed("subject is an object", "subject")
    tx_code = body.get("tx_code", False)
    if not isinstance(tx_code, bool):
        raise _malformed("tx_code is true or false", "tx_code")
    expires_in = body.get("expires_in")
    if expires_in is not None and (
        type(expires_in) is not int or not 1 <= expires_in <= MAX_EXPIRES_IN
    ):
        raise _malformed(f"expires_in is 1 to {MAX_EXPIRES_IN} seconds", "expires_in")
    lifetime = None if expires_in is None else timedelta(seconds=expires_in)
    return configuration_id, subject, tx_code, lifetime


def _status_ref(body: JSONObject) -> str | JSONValue:
    if len(body) != 1 or not ({"offer_id", "status"} >= set(body)):
        raise _malformed("give exactly one of offer_id and status", "offer_id")
    if "offer_id" in body:
        offer_id = body["offer_id"]
        if not isinstance(offer_id, str) or _OFFER_ID.fullmatch(offer_id) is None:
            raise NotFoundError(Code.NOT_FOUND, "no offer with this id")
        return offer_id
    status = body["status"]
    if not isinstance(status, dict | list):
        raise _malformed("status is the credential's status claim", "status")
    return status


async def _optional_json(request: Request, max_bytes: int) -> JSONObject:
    if not request.headers.get("content-type"):
        if await read_body(request, max_bytes):
            raise _malformed("a body must be application/json", "body")
        return {}
    return await read_json(request, max_bytes)


def _open(service: Service) -> IssuanceService:
    role = service.config.issuer
    assert role is not None  # noqa: S101 - checked by section()
    issuer = Issuer(
        role.key, did=service.did, kid=service.kid(ISSUER_FRAGMENT), clock=service.clock
    )
    anchor = LedgerAnchor(service.ledger, role.key, log=service.log_signer, clock=service.clock)
    registry = StatusRegistry(
        service.config.stores["status"],
        issuer=issuer,
        base_url=service.url(STATUS_PREFIX),
        ttl=STATUS_TTL,
        anchor=anchor,
        limits=service.limits,
    )
    service.on_close(registry.close)
    issuance = IssuanceService(
        service.config.stores["service"],
        issuer=issuer,
        credential_issuer=service.public_url,
        status=registry,
        clock=service.clock,
        limits=service.limits,
    )
    service.on_close(issuance.close)
    return issuance


def section(service: Service) -> Section:
    """The issuer's routes (none when the deployment does not run the issuer role)."""
    role = service.config.issuer
    if role is None:
        return Section(routes=[], paths={})
    issuance = _open(service)
    limit = service.config.max_body_bytes
    issuer_metadata = issuance.metadata().to_json()
    as_metadata = issuance.authorization_server().to_json()
    vc_issuer = issuer_metadata_document(
        service.public_url, {service.kid(ISSUER_FRAGMENT): role.key.public_key}
    )
    cached = {"cache-control": METADATA_CACHE, "x-content-type-options": "nosniff"}

    async def credential_issuer_metadata(request: Request) -> Response:
        del request
        return json_response(issuer_metadata, headers=cached)

    async def authorization_server_metadata(request: Request) -> Response:
        del request
        return json_response(as_metadata, headers=cached)

    async def jwt_vc_issuer(request: Request) -> Response:
        del request
        return json_response(vc_issuer, headers=cached)

    async def token(request: Request) -> Response:
        try:
            form = await read_form(request, min(limit, _FORM_BYTES))
            answer = await run_in_threadpool(issuance.token, form)
        except SeoulVCError as exc:
            return oauth_error_response(exc, "token")
        return json_response(answer.to_json(), headers={"pragma": "no-cache"})

    async def nonce(request: Request) -> Response:
        del request
        return json_response({"c_nonce": issuance.nonce()})

    async def credential(request: Request) -> Response:
        try:
            access_token = bearer_token(request)
            if access_token is None:
                raise PolicyError(Code.UNAUTHORIZED, "a valid access token is required")
            body = await read_json(request, limit)
            issued = await run_in_threadpool(issuance.credential, access_token, body)
        except SeoulVCError as exc:
            return oauth_error_response(exc, "credential")
        return json_response(issued.to_json())

    async def create_offer(request: Request) -> Response:
        _auth.agency(request, role)
        body = await read_json(request, limit)
        configuration_id, subject, tx_code, lifetime = _offer_arguments(body)
        created = await run_in_threadpool(
            issuance.create_offer, configuration_id, subject, tx_code=tx_code, expires_in=lifetime
        )
        return json_response(created.to_json(), 201)

    async def offer_state(request: Request) -> Response:
        _auth.agency(request, role)
        offer_id = str(request.path_params["offer_id"])
        if _OFFER_ID.fullmatch(offer_id) is None:
            raise NotFoundError(Code.NOT_FOUND, "no offer with this id")
        state = await run_in_threadpool(issuance.offer_state, offer_id)
        return json_response(state.to_json())

    def status_change(action: StatusAction) -> Callable[[Request], Awaitable[Response]]:
        async def change(request: Request) -> Response:
            _auth.agency(request, role)
            ref = _status_ref(await read_json(request, limit))
            state = await run_in_threadpool(issuance.set_status, ref, action)
            return json_response({"status": _STATE_NAMES[state]})

        return change

    async def publish(request: Request) -> Response:
        _auth.agency(request, role)
        body = await _optional_json(request, limit)
        if set(body) - {"everything"} or not isinstance(body.get("everything", False), bool):
            raise _malformed('the body is {} or {"everything": true|false}', "everything")
        everything = bool(body.get("everything", False))
        published = await run_in_threadpool(issuance.publish, everything=everything)
        return json_response({"published": [p.to_json() for p in published]})

    async def status_list(request: Request) -> Response:
        list_id = str(request.path_params["list_id"])
        leaf = str(request.path_params["leaf"])
        if _LIST_ID.fullmatch(list_id) is None or leaf not in LEAVES:
            raise NotFoundError(Code.NOT_FOUND, "no such status list")
        uri = service.url(f"{STATUS_PREFIX}/{list_id}/{leaf}")
        published = await run_in_threadpool(issuance.status_list, uri)
        return Response(
            published.token,
            media_type=published.media_type,
            headers={
                "cache-control": f"public, max-age={int(STATUS_TTL.total_seconds())}",
                "x-content-type-options": "nosniff",
            },
        )

    routes: list[BaseRoute] = [
        Route(ISSUER_WELL_KNOWN, credential_issuer_metadata, methods=["GET"]),
        Route(AS_WELL_KNOWN, authorization_server_metadata, methods=["GET"]),
        Route(WELL_KNOWN_PATH, jwt_vc_issuer, methods=["GET"]),
        Route(TOKEN_PATH, token, methods=["POST"]),
        Route(NONCE_PATH, nonce, methods=["POST"]),
        Route(CREDENTIAL_PATH, credential, methods=["POST"]),
        Route("/issuer/v1/offers", create_offer, methods=["POST"]),
        Route("/issuer/v1/offers/{offer_id}", offer_state, methods=["GET"]),
        Route("/issuer/v1/status/revoke", status_change("revoke"), methods=["POST"]),
        Route("/issuer/v1/status/suspend", status_change("suspend"), methods=["POST"]),
        Route("/issuer/v1/status/reinstate", status_change("reinstate"), methods=["POST"]),
        Route("/issuer/v1/status/publish", publish, methods=["POST"]),
        Route(STATUS_PREFIX + "/{list_id}/{leaf}", status_list, methods=["GET"]),
    ]
    return Section(routes=routes, paths=issuer_paths(), schemas=SCHEMAS, tags=TAGS)
