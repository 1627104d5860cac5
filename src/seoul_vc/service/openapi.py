"""The service's OpenAPI 3.1 document, assembled from each route module's own fragment.

Room: service (surface). Every route module returns a :class:`Section`: its Starlette routes
and the OpenAPI ``paths`` (and ``components.schemas``) that describe them. The app serves
the merged document at ``/openapi.json``; a test checks that every route is described and
every described operation exists, and a schemathesis run fuzzes the service against it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from starlette.routing import BaseRoute

__all__ = [
    "PROBLEM_SCHEMA",
    "OpenAPI",
    "Section",
    "build_document",
    "form_body",
    "json_body",
    "json_response_spec",
    "problems",
]

OpenAPI = dict[str, Any]

PROBLEM_SCHEMA: Final[OpenAPI] = {
    "type": "object",
    "description": "RFC 9457 problem details carrying the library's stable error code.",
    "required": ["type", "title", "status", "code", "family"],
    "properties": {
        "type": {"type": "string", "description": "tag:seoul-vc,2026:error:<code>"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "code": {"type": "string", "description": "the stable seoul_vc error code"},
        "family": {"type": "string"},
        "details": {"type": "object"},
    },
}

_REASONS: Final = {
    400: "Malformed request",
    401: "Authentication required",
    403: "Refused by policy",
    404: "Not found",
    405: "Method not allowed",
    409: "Refused by the current state",
    413: "Request too large",
    415: "Unsupported media type",
    422: "Verification failed",
    429: "Too many failed attempts",
    503: "Unavailable; retry later",
}


@dataclass(frozen=True, slots=True)
class Section:
    """One route module's routes and their OpenAPI description."""

    routes: list[BaseRoute]
    paths: OpenAPI
    schemas: OpenAPI = field(default_factory=dict)
    tags: list[OpenAPI] = field(default_factory=list)
    #: Request body bounds of paths that differ from ``max_body_bytes`` (path -> bytes).
    body_limits: dict[str, int] = field(default_factory=dict)


def problems(*statuses: int) -> OpenAPI:
    """OpenAPI ``responses`` entries for problem replies with these statuses."""
    return {
        str(status): {
            "description": _REASONS.get(status, "Problem"),
            "content": {
                "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
            },
        }
        for status in statuses
    }


def json_body(schema: OpenAPI, *, required: bool = True) -> OpenAPI:
    """An OpenAPI ``requestBody`` of ``application/json``."""
    return {"required": required, "content": {"application/json": {"schema": schema}}}


def form_body(schema: OpenAPI) -> OpenAPI:
    """An OpenAPI ``requestBody`` of ``application/x-www-form-urlencoded``."""
    return {
        "required": True,
        "content": {"application/x-www-form-urlencoded": {"schema": schema}},
    }


def json_response_spec(
    description: str, schema: OpenAPI, media: str = "application/json"
) -> OpenAPI:
    """One OpenAPI response with a body of ``media``."""
    return {"description": description, "content": {media: {"schema": schema}}}


def build_document(public_url: str, version: str, sections: list[Section]) -> OpenAPI:
    """Merge the sections into one OpenAPI 3.1 document."""
    paths: OpenAPI = {}
    schemas: OpenAPI = {"Problem": PROBLEM_SCHEMA}
    tags: list[OpenAPI] = []
    for section in sections:
        for path, item in section.paths.items():
            paths.setdefault(path, {}).update(item)
        schemas.update(section.schemas)
        tags.extend(section.tags)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "seoul_vc service",
            "version": version,
            "description": (
                "OpenID4VCI issuer, OpenID4VP verifier, Citizen Card wallet backend, status "
                "lists, DID documents and the ledger of Seoul's paperless administration. "
                "Errors are RFC 9457 problem details with seoul_vc's stable error codes."
            ),
        },
        "servers": [{"url": public_url}],
        "tags": tags,
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "agencyToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An agency system's API token (RFC 6750).",
                },
                "accessToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An OpenID4VCI access token from the token endpoint.",
                },
                "citizenPin": {
                    "type": "http",
                    "scheme": "basic",
                    "description": "The citizen's wallet id and PIN (RFC 7617), over TLS only.",
                },
            },
        },
    }
