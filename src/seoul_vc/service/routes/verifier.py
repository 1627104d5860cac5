"""The receiving agency's OpenID4VP 1.0 verifier: requests by reference, ``direct_post``.

Room: service (surface) over :class:`seoul_vc.presentation.PresentationSessions`. Present
only when the deployment runs the ``verifier`` role. The verifier is the service's did:web
(its key is ``#verifier-1`` of ``/.well-known/did.json``), so its ``client_id`` is
``decentralized_identifier:<did:web>`` (OpenID4VP 1.0 §5.9.3) and wallets resolve its key
over did:web.

* ``POST /verifier/v1/requests`` (agency bearer token): a DCQL query (the library's subset,
  §6) or a named preset, and a purpose -> the request id, its ``request_uri`` and the
  Authorization Request ``openid4vp://?client_id=...&request_uri=...&request_uri_method=get``
  (RFC 9101 §5.2) to show as a QR code or link.
* ``GET /verifier/v1/requests/{id}/object``: the signed Request Object,
  ``application/oauth-authz-req+jwt`` (§5.10.1), while the request waits for its answer.
* ``POST /verifier/v1/responses/{id}``: the Response URI (§8.2). Form-encoded ``vp_token``
  and ``state`` (or ``error`` and ``state``), and the Citizen Card's ``view_receipt``;
  answers 200 with an empty JSON object once processed, else an RFC 9457 problem with the
  first failing check's code (``state_mismatch``, ``already_answered``, ``expired``,
  ``query_not_answered``, ``audience_mismatch``...). The first response that parses is the
  request's only one: its outcome is final.
* ``GET /verifier/v1/requests/{id}/result`` (the same agency token that created it):
  ``pending``, ``processing``, ``complete`` with the disclosed claims per Credential Query,
  ``failed`` with the code, or ``expired``. Another token's request reads as 404.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Final

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from seoul_vc._json import JSONObject, JSONValue
from seoul_vc.errors import Code, MalformedInputError
from seoul_vc.ledger.checkpoint import WitnessPolicy
from seoul_vc.presentation import (
    PRESETS,
    PresentationSessions,
    ReceiptPolicy,
)
from seoul_vc.service import _auth
from seoul_vc.service._http import json_response, read_form, read_json
from seoul_vc.service.context import VERIFIER_FRAGMENT, Service
from seoul_vc.service.openapi import (
    Section,
    form_body,
    json_body,
    json_response_spec,
    problems,
)
from seoul_vc.wallet.request import CredentialQuery, parse_dcql

__all__ = ["section"]

REQUEST_MEDIA: Final = "application/oauth-authz-req+jwt"
_ID_PATTERN: Final = "^[A-Za-z0-9_-]{22}$"
_CREATE_FIELDS: Final = frozenset({"purpose", "dcql_query", "preset", "expires_in"})


def _malformed(message: str, field: str) -> MalformedInputError:
    return MalformedInputError(Code.MALFORMED, message, field=field)


def _create_arguments(
    body: JSONObject,
) -> tuple[tuple[CredentialQuery, ...], str, timedelta | None]:
    """The queries, purpose and lifetime of a create request body (strict)."""
    unknown = sorted(set(body) - _CREATE_FIELDS)
    if unknown:
        raise _malformed("unknown member", unknown[0][:64])
    purpose = body.get("purpose")
    if not isinstance(purpose, str):
        raise _malformed("purpose is a string", "purpose")
    if ("dcql_query" in body) == ("preset" in body):
        raise _malformed("give exactly one of dcql_query and preset", "dcql_query")
    if "preset" in body:
        preset = body["preset"]
        if not isinstance(preset, str) or preset not in PRESETS:
            raise _malformed("unknown preset", "preset")
        queries = PRESETS[preset]
    else:
        queries = parse_dcql(body["dcql_query"])
    expires_in = body.get("expires_in")
    lifetime = None
    if expires_in is not None:
        if (
            isinstance(expires_in, bool)
            or not isinstance(expires_in, int)
            or not 30 <= expires_in <= 3600
        ):
            raise _malformed("expires_in is 30 to 3600 seconds", "expires_in")
        lifetime = timedelta(seconds=expires_in)
    return queries, purpose, lifetime


def section(service: Service) -> Section:
    """The verifier's routes, or none when the role is not configured."""
    role = service.config.verifier
    if role is None:
        return Section(routes=[], paths={})
    sessions = PresentationSessions(
        service.config.stores["service"],
        key=role.key,
        did=service.did,
        kid=service.kid(VERIFIER_FRAGMENT),
        response_uri=lambda rid: service.url(f"/verifier/v1/responses/{rid}"),
        request_uri=lambda rid: service.url(f"/verifier/v1/requests/{rid}/object"),
        trust=service.trust,
        resolver=service.resolver,
        status=service.status,
        # Receipts of this service's own log: its checkpoint signature is the operator's own
        # word, which witnesses guard third parties against, not the operator. A Citizen
        # Card view's receipt sits under a checkpoint signed at the view, before any
        # witness has polled it, so the deployment's witness policy would refuse them all.
        receipts=ReceiptPolicy(
            origin=service.config.origin,
            log_key=service.log_signer.verifier,
            witnesses=WitnessPolicy.unwitnessed(),
        ),
        clock=service.clock,
        limits=service.limits,
    )
    service.on_close(sessions.close)
    max_body = service.config.max_body_bytes

    async def create(request: Request) -> Response:
        owner = _auth.agency(request, role)
        body = await read_json(request, max_body)
        queries, purpose, lifetime = _create_arguments(body)
        session = await run_in_threadpool(
            sessions.create, queries, purpose=purpose, owner=owner, lifetime=lifetime
        )
        rid = session.request_id
        return json_response(
            {
                "request_id": rid,
                "request_uri": service.url(f"/verifier/v1/requests/{rid}/object"),
                "authorization_request": sessions.authorization_request(rid),
                "client_id": session.client_id,
                "expires_at": session.expires_at,
            },
            201,
        )

    async def request_object(request: Request) -> Response:
        token = await run_in_threadpool(sessions.request_object, request.path_params["rid"])
        return Response(token, media_type=REQUEST_MEDIA, headers={"cache-control": "no-store"})

    async def respond(request: Request) -> Response:
        form = await read_form(request, max_body)
        await run_in_threadpool(sessions.respond, request.path_params["rid"], form)
        return json_response({})

    async def result(request: Request) -> Response:
        owner = _auth.agency(request, role)
        outcome = await run_in_threadpool(sessions.result, request.path_params["rid"], owner=owner)
        return json_response(outcome.to_json())

    routes = [
        Route("/verifier/v1/requests", create, methods=["POST"]),
        Route("/verifier/v1/requests/{rid}/object", request_object, methods=["GET"]),
        Route("/verifier/v1/responses/{rid}", respond, methods=["POST"]),
        Route("/verifier/v1/requests/{rid}/result", result, methods=["GET"]),
    ]
    return Section(
        routes=list(routes),
        paths=_paths(),
        schemas=_schemas(),
        tags=[{"name": "verifier", "description": "OpenID4VP 1.0 verifier (receiving agency)"}],
    )


def _rid() -> list[dict[str, Any]]:
    return [
        {
            "name": "rid",
            "in": "path",
            "required": True,
            "description": "The presentation request's id.",
            "schema": {"type": "string", "pattern": _ID_PATTERN},
        }
    ]


def _paths() -> dict[str, Any]:
    agency: list[dict[str, list[str]]] = [{"agencyToken": []}]
    return {
        "/verifier/v1/requests": {
            "post": {
                "tags": ["verifier"],
                "summary": "Create an OpenID4VP presentation request (DCQL, direct_post)",
                "operationId": "createPresentationRequest",
                "security": agency,
                "requestBody": json_body(
                    {"$ref": "#/components/schemas/PresentationRequestCreate"}
                ),
                "responses": {
                    "201": json_response_spec(
                        "The request and its openid4vp:// Authorization Request",
                        {"$ref": "#/components/schemas/PresentationRequestCreated"},
                    ),
                    **problems(400, 401, 413, 503),
                },
            }
        },
        "/verifier/v1/requests/{rid}/object": {
            "get": {
                "tags": ["verifier"],
                "summary": "The signed Request Object (request_uri, RFC 9101)",
                "operationId": "getPresentationRequestObject",
                "parameters": _rid(),
                "responses": {
                    "200": json_response_spec(
                        "The Request Object, a compact JWS",
                        {"type": "string"},
                        REQUEST_MEDIA,
                    ),
                    **problems(404, 409, 422, 503),
                },
            }
        },
        "/verifier/v1/responses/{rid}": {
            "post": {
                "tags": ["verifier"],
                "summary": "The Response URI: the wallet's direct_post Authorization Response",
                "operationId": "postPresentationResponse",
                "parameters": _rid(),
                "requestBody": form_body({"$ref": "#/components/schemas/DirectPostResponse"}),
                "responses": {
                    "200": json_response_spec(
                        "Processed (an empty object: no redirect_uri)",
                        {"type": "object", "additionalProperties": False},
                    ),
                    **problems(400, 403, 404, 409, 413, 422, 503),
                },
            }
        },
        "/verifier/v1/requests/{rid}/result": {
            "get": {
                "tags": ["verifier"],
                "summary": "The outcome of a presentation request",
                "operationId": "getPresentationResult",
                "security": agency,
                "parameters": _rid(),
                "responses": {
                    "200": json_response_spec(
                        "Pending, processing, complete (the disclosed claims), failed or expired",
                        {"$ref": "#/components/schemas/PresentationResult"},
                    ),
                    **problems(401, 404, 503),
                },
            }
        },
    }


def _schemas() -> dict[str, Any]:
    path_step: JSONValue = {
        "oneOf": [
            {"type": "string", "minLength": 1, "maxLength": 256},
            {"type": "integer", "minimum": 0, "maximum": 2147483647},
            {"type": "null"},
        ]
    }
    credential_query: dict[str, Any] = {
        "type": "object",
        "description": "A DCQL Credential Query (OpenID4VP 1.0 §6.1), dc+sd-jwt only.",
        "required": ["id", "format", "meta", "claims"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"},
            "format": {"const": "dc+sd-jwt"},
            "multiple": {"const": False},
            "require_cryptographic_holder_binding": {"const": True},
            "meta": {
                "type": "object",
                "required": ["vct_values"],
                "additionalProperties": False,
                "properties": {
                    "vct_values": {
                        "type": "array",
                        "minItems": 1,
                        "maxItems": 16,
                        "items": {"type": "string", "minLength": 1, "maxLength": 2048},
                    }
                },
            },
            "claims": {
                "type": "array",
                "minItems": 1,
                "maxItems": 64,
                "items": {
                    "type": "object",
                    "required": ["path"],
                    "additionalProperties": False,
                    "properties": {
                        "id": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"},
                        "path": {
                            "type": "array",
                            "minItems": 1,
                            "maxItems": 16,
                            "prefixItems": [{"type": "string", "minLength": 1, "maxLength": 256}],
                            "items": path_step,
                        },
                    },
                },
            },
        },
    }
    claims_map = {
        "type": "object",
        "description": "Per Credential Query id, the disclosed subject claims.",
        "additionalProperties": {"type": "object"},
    }
    return {
        "PresentationRequestCreate": {
            "type": "object",
            "description": "Exactly one of dcql_query and preset.",
            "required": ["purpose"],
            "oneOf": [{"required": ["dcql_query"]}, {"required": ["preset"]}],
            "additionalProperties": False,
            "properties": {
                "purpose": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 500,
                    "description": "Why the agency asks, shown to the citizen.",
                },
                "dcql_query": {
                    "type": "object",
                    "required": ["credentials"],
                    "additionalProperties": False,
                    "properties": {
                        "credentials": {
                            "type": "array",
                            "minItems": 1,
                            "maxItems": 8,
                            "items": credential_query,
                        }
                    },
                },
                "preset": {"enum": sorted(PRESETS)},
                "expires_in": {
                    "type": "integer",
                    "minimum": 30,
                    "maximum": 3600,
                    "description": "Seconds the request waits for its answer (default 600).",
                },
            },
        },
        "PresentationRequestCreated": {
            "type": "object",
            "required": [
                "request_id",
                "request_uri",
                "authorization_request",
                "client_id",
                "expires_at",
            ],
            "properties": {
                "request_id": {"type": "string", "pattern": _ID_PATTERN},
                "request_uri": {"type": "string", "format": "uri"},
                "authorization_request": {
                    "type": "string",
                    "description": "openid4vp://?client_id=...&request_uri=...",
                },
                "client_id": {"type": "string"},
                "expires_at": {"type": "integer"},
            },
        },
        "DirectPostResponse": {
            "type": "object",
            "description": (
                "An Authorization Response (vp_token and state) or Error Response (error and "
                "state), OpenID4VP 1.0 §8.2; view_receipt is the Citizen Card's ledger proof "
                "of the view. Unknown parameters are ignored."
            ),
            "required": ["state"],
            "properties": {
                "vp_token": {
                    "type": "string",
                    "description": "JSON object: Credential Query id -> [presentation]",
                },
                "state": {"type": "string", "maxLength": 256},
                "view_receipt": {"type": "string"},
                "error": {"type": "string", "maxLength": 64},
                "error_description": {"type": "string"},
            },
        },
        "PresentationResult": {
            "type": "object",
            "required": ["request_id", "status", "expires_at"],
            "properties": {
                "request_id": {"type": "string"},
                "status": {"enum": ["pending", "processing", "complete", "failed", "expired"]},
                "expires_at": {"type": "integer"},
                "completed_at": {"type": "integer"},
                "claims": claims_map,
                "error": {
                    "type": "object",
                    "required": ["code", "source"],
                    "properties": {
                        "code": {"type": "string"},
                        "source": {"enum": ["verifier", "wallet"]},
                    },
                },
                "view": {
                    "type": "object",
                    "description": "The checked ledger view receipt: view k of max_views.",
                    "properties": {
                        "consent_id": {"type": "string"},
                        "view": {"type": "integer"},
                        "max_views": {"type": "integer"},
                        "expires_at": {"type": "integer"},
                        "view_index": {"type": "integer"},
                        "grant_index": {"type": "integer"},
                    },
                },
            },
        },
    }
