"""The Citizen Card backend accepts OpenID4VCI credential offers for a citizen's wallet.

Room: service (surface) over :func:`seoul_vc.wallet.oid4vci.accept_offer`. Present only when
the deployment runs the wallet. ``POST /wallet/v1/offers`` (the citizen's wallet id and PIN
as HTTP Basic) takes ``{"offer": "<openid-credential-offer://... or its JSON>", "tx_code":
"<the code the agency sent>"}``, runs the pre-authorized code flow against the offering
issuer over guarded HTTPS, and answers the stored credentials' metadata (never their
claims). The issuer must be one the wallet's trust registry trusts for the offered types
before any code is sent to it; every credential is verified on receipt.
"""

from __future__ import annotations

from typing import Any, Final

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from seoul_vc._json import JSONObject
from seoul_vc.errors import Code, MalformedInputError
from seoul_vc.service import _auth
from seoul_vc.service._http import json_response, read_json
from seoul_vc.service.context import Service
from seoul_vc.service.openapi import Section, json_body, json_response_spec, problems
from seoul_vc.wallet.oid4vci import accept_offer

__all__ = ["section"]

_MAX_OFFER: Final = 32 * 1024
_FIELDS: Final = frozenset({"offer", "tx_code"})


def _malformed(message: str, field: str) -> MalformedInputError:
    return MalformedInputError(Code.MALFORMED, message, field=field)


def _arguments(body: JSONObject) -> tuple[str, str | None]:
    unknown = sorted(set(body) - _FIELDS)
    if unknown:
        raise _malformed("unknown member", unknown[0][:64])
    offer = body.get("offer")
    if not isinstance(offer, str) or not offer or len(offer) > _MAX_OFFER:
        raise _malformed("offer is the credential offer URI or JSON text", "offer")
    tx_code = body.get("tx_code")
    if tx_code is not None and (not isinstance(tx_code, str) or not 1 <= len(tx_code) <= 64):
        raise _malformed("tx_code is a string of 1 to 64 characters", "tx_code")
    return offer, tx_code


def section(service: Service) -> Section:
    """The offer-accepting route (none when the deployment does not run the wallet)."""
    if service.wallets is None:
        return Section(routes=[], paths={})
    fetcher = service.network.fetcher(timeout_seconds=10.0)
    service.on_close(fetcher.close)
    limit = service.config.max_body_bytes

    async def accept(request: Request) -> Response:
        with _auth.pin_attempt(request, service) as (wallet_id, pin):
            offer, tx_code = _arguments(await read_json(request, limit))
            held = await run_in_threadpool(
                accept_offer,
                _auth.wallets(service),
                wallet_id,
                pin,
                offer,
                fetcher=fetcher,
                tx_code=tx_code,
                limits=service.limits,
            )
        return json_response({"credentials": [h.to_json() for h in held]})

    routes: list[BaseRoute] = [Route("/wallet/v1/offers", accept, methods=["POST"])]
    return Section(routes=routes, paths=_PATHS, tags=_TAGS)


_TAGS: Final = [{"name": "wallet-offers", "description": "Accept OpenID4VCI credential offers"}]
_PATHS: Final[dict[str, Any]] = {
    "/wallet/v1/offers": {
        "post": {
            "tags": ["wallet-offers"],
            "summary": "Accept a credential offer (OpenID4VCI pre-authorized code flow)",
            "operationId": "acceptCredentialOffer",
            "security": [{"citizenPin": []}],
            "requestBody": json_body(
                {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["offer"],
                    "properties": {
                        "offer": {"type": "string", "minLength": 1, "maxLength": _MAX_OFFER},
                        "tx_code": {"type": "string", "minLength": 1, "maxLength": 64},
                    },
                }
            ),
            "responses": {
                "200": json_response_spec(
                    "The credentials stored",
                    {
                        "type": "object",
                        "required": ["credentials"],
                        "properties": {
                            "credentials": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "required": ["id", "type", "vct", "issuer", "received_at"],
                                    "properties": {
                                        "id": {"type": "string"},
                                        "type": {"type": "string"},
                                        "vct": {"type": "string"},
                                        "issuer": {"type": "string"},
                                        "received_at": {"type": "integer"},
                                        "revoked": {"type": "boolean"},
                                    },
                                },
                            }
                        },
                    },
                ),
                **problems(400, 401, 403, 404, 409, 413, 422, 429, 503),
            },
        }
    }
}
