"""The Citizen Card app answers an OpenID4VP request: ``POST /wallet/v1/presentations``.

Room: service (surface) over :func:`seoul_vc.wallet.oid4vp.answer_request`. Present only
when the deployment runs the wallet. The app sends the citizen's wallet id and PIN (HTTP
Basic, RFC 7617) and the ``openid4vp://`` Authorization Request the citizen scanned, with
the claims the citizen agreed to show (default: every claim asked). The service checks the
PIN, fetches and verifies the signed request object, records a one-view consent and the view
on the ledger, and POSTs the presentations with their view receipt to the verifier's
``response_uri`` (``direct_post``, OpenID4VP 1.0 §8.2). The reply says what was shown to whom
(claim paths, never values) and whether the verifier accepted it; a refusal by the verifier
is a 200 with ``accepted: false`` and the verifier's code (the consent and view are on the
ledger and in the citizen's history either way).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from seoul_vc._json import JSONObject
from seoul_vc.errors import Code, MalformedInputError
from seoul_vc.service import _auth
from seoul_vc.service._http import json_response, read_json
from seoul_vc.service.context import Service
from seoul_vc.service.openapi import Section, json_body, json_response_spec, problems
from seoul_vc.wallet.oid4vp import answer_request

__all__ = ["section"]

_FIELDS: Final = frozenset({"authorization_request", "claims"})


def _malformed(message: str, field: str) -> MalformedInputError:
    return MalformedInputError(Code.MALFORMED, message, field=field)


def _arguments(body: JSONObject) -> tuple[str, Mapping[str, Sequence[str]] | None]:
    unknown = sorted(set(body) - _FIELDS)
    if unknown:
        raise _malformed("unknown member", unknown[0][:64])
    url = body.get("authorization_request")
    if not isinstance(url, str):
        raise _malformed("authorization_request is a string", "authorization_request")
    raw = body.get("claims")
    if raw is None:
        return url, None
    if not isinstance(raw, dict) or not 0 < len(raw) <= 8:
        raise _malformed("claims maps 1 to 8 query ids to claim paths", "claims")
    claims: dict[str, list[str]] = {}
    for query_id, paths in raw.items():
        if (
            not isinstance(paths, list)
            or not 0 < len(paths) <= 64
            or not all(isinstance(p, str) and 0 < len(p) <= 512 for p in paths)
        ):
            raise _malformed("each query id maps to 1 to 64 claim paths", "claims")
        claims[query_id] = [str(p) for p in paths]
    return url, claims


def section(service: Service) -> Section:
    """The wallet's OpenID4VP route, or none when the wallet is not run."""
    if service.wallets is None:
        return Section(routes=[], paths={})
    wallets = service.wallets
    fetcher = service.network.fetcher(timeout_seconds=10.0)
    service.on_close(fetcher.close)
    max_body = service.config.max_body_bytes

    async def present(request: Request) -> Response:
        # Credentials before the body: a request without any is 401 whatever it carries.
        _auth.citizen(request)
        body = await read_json(request, max_body)
        url, claims = _arguments(body)
        with _auth.pin_attempt(request, service) as (wallet_id, pin):
            answer = await run_in_threadpool(
                answer_request,
                wallets,
                wallet_id,
                pin,
                url,
                fetcher=fetcher,
                claims=claims,
                limits=service.limits,
            )
        return json_response(answer.to_json())

    return Section(
        routes=[Route("/wallet/v1/presentations", present, methods=["POST"])],
        paths=_paths(),
        schemas=_schemas(),
        tags=[{"name": "wallet-presentations", "description": "Answering OpenID4VP requests"}],
    )


def _paths() -> dict[str, Any]:
    return {
        "/wallet/v1/presentations": {
            "post": {
                "tags": ["wallet-presentations"],
                "summary": "Consent to and answer an OpenID4VP request (direct_post)",
                "operationId": "answerPresentationRequest",
                "security": [{"citizenPin": []}],
                "requestBody": json_body(
                    {"$ref": "#/components/schemas/PresentationAnswerRequest"}
                ),
                "responses": {
                    "200": json_response_spec(
                        "Answered: what was shown to whom, and whether the verifier accepted",
                        {"$ref": "#/components/schemas/PresentationAnswer"},
                    ),
                    **problems(400, 401, 403, 404, 409, 413, 422, 429, 503),
                },
            }
        }
    }


def _schemas() -> dict[str, Any]:
    return {
        "PresentationAnswerRequest": {
            "type": "object",
            "required": ["authorization_request"],
            "additionalProperties": False,
            "properties": {
                "authorization_request": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 4096,
                    "description": "openid4vp://?client_id=...&request_uri=...",
                },
                "claims": {
                    "type": "object",
                    "description": "Per Credential Query id, the claim paths consented to.",
                    "minProperties": 1,
                    "maxProperties": 8,
                    "additionalProperties": {
                        "type": "array",
                        "minItems": 1,
                        "maxItems": 64,
                        "items": {"type": "string", "minLength": 1, "maxLength": 512},
                    },
                },
            },
        },
        "PresentationAnswer": {
            "type": "object",
            "required": [
                "verifier",
                "client_id",
                "purpose",
                "consent_id",
                "view",
                "max_views",
                "claims",
                "accepted",
                "status",
                "attempts",
            ],
            "properties": {
                "verifier": {"type": "string"},
                "client_id": {"type": "string"},
                "purpose": {"type": "string"},
                "consent_id": {"type": "string"},
                "view": {"type": "integer"},
                "max_views": {"type": "integer"},
                "claims": {
                    "type": "object",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                },
                "accepted": {"type": "boolean"},
                "status": {"type": "integer"},
                "attempts": {
                    "type": "integer",
                    "minimum": 1,
                    "description": "POSTs it took: after a lost first one, a verifier's "
                    "already_answered means that one arrived",
                },
                "redirect_uri": {"type": "string"},
                "verifier_error": {"type": "string"},
            },
        },
    }
