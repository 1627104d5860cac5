"""Public documents: the service's DID document (did:web) and a health probe.

Room: service (surface). ``GET /.well-known/did.json`` is the did:web document of
``public_url`` (did:web method spec §3.2: ``https://<host>/.well-known/did.json``): the
issuer key as ``#issuer-1`` (``assertionMethod``) and the verifier key as ``#verifier-1``
(``authentication`` and ``assertionMethod``, which signs OpenID4VP request objects), as
Multikey methods (Controlled Identifiers 1.0). It is cacheable for five minutes.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from seoul_vc._json import JSONObject
from seoul_vc.service._http import json_response
from seoul_vc.service.context import ISSUER_FRAGMENT, VERIFIER_FRAGMENT, Service
from seoul_vc.service.openapi import Section, json_response_spec

__all__ = ["did_document", "section"]

DID_CACHE = "public, max-age=300"


def did_document(service: Service) -> JSONObject:
    """The service's DID document (see the module docstring)."""
    did = service.did
    methods: list[JSONObject] = []
    assertion: list[str] = []
    authentication: list[str] = []
    roles = ((service.config.issuer, ISSUER_FRAGMENT), (service.config.verifier, VERIFIER_FRAGMENT))
    for role, fragment in roles:
        if role is None:
            continue
        vm_id = f"{did}#{fragment}"
        methods.append(
            {
                "id": vm_id,
                "type": "Multikey",
                "controller": did,
                "publicKeyMultibase": role.key.public_key.to_multikey(),
            }
        )
        assertion.append(vm_id)
        if fragment == VERIFIER_FRAGMENT:
            authentication.append(vm_id)
    doc: JSONObject = {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": did,
        "verificationMethod": methods,
        "assertionMethod": assertion,
    }
    if authentication:
        doc["authentication"] = authentication
    return doc


def section(service: Service) -> Section:
    """The public routes."""
    document = did_document(service)

    async def did_json(request: Request) -> Response:
        del request
        return json_response(
            document, media_type="application/did+json", headers={"cache-control": DID_CACHE}
        )

    async def health(request: Request) -> Response:
        del request
        return json_response({"status": "ok", "ledger_size": service.ledger.size})

    paths = {
        "/.well-known/did.json": {
            "get": {
                "tags": ["public"],
                "summary": "The service's did:web DID document",
                "operationId": "getDidDocument",
                "responses": {
                    "200": json_response_spec(
                        "The DID document", {"type": "object"}, "application/did+json"
                    )
                },
            }
        },
        "/health": {
            "get": {
                "tags": ["public"],
                "summary": "Liveness: the service answers and its ledger opens",
                "operationId": "getHealth",
                "responses": {
                    "200": json_response_spec(
                        "Healthy",
                        {
                            "type": "object",
                            "required": ["status", "ledger_size"],
                            "properties": {
                                "status": {"const": "ok"},
                                "ledger_size": {"type": "integer", "minimum": 0},
                            },
                        },
                    )
                },
            }
        },
    }
    return Section(
        routes=[
            Route("/.well-known/did.json", did_json, methods=["GET"]),
            Route("/health", health, methods=["GET"]),
        ],
        paths=paths,
        tags=[{"name": "public", "description": "DID document and health"}],
    )
