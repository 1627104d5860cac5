"""The issuer API's contract: its OpenAPI document and the bounds its requests keep.

Part of :mod:`seoul_vc.service.routes.issuer`, which serves these routes and checks request
bodies and paths against the same bounds; they live here so the document and the checks
cannot drift.
"""

from __future__ import annotations

from typing import Final

from seoul_vc.credentials.metadata import WELL_KNOWN_PATH
from seoul_vc.credentials.oid4vci import AS_WELL_KNOWN, ISSUER_WELL_KNOWN
from seoul_vc.issuance import CREDENTIAL_PATH, NONCE_PATH, TOKEN_PATH
from seoul_vc.service.openapi import OpenAPI, form_body, json_body, json_response_spec, problems

__all__ = [
    "LEAVES",
    "LIST_ID_PATTERN",
    "MAX_EXPIRES_IN",
    "OFFER_ID_PATTERN",
    "SCHEMAS",
    "STATUS_PREFIX",
    "TAGS",
    "issuer_paths",
]

#: Where the status lists live below ``public_url``.
STATUS_PREFIX: Final = "/status"
#: The leaves of a status list: ``/status/{list_id}/{leaf}``.
LEAVES: Final = ("status", "revocation", "suspension")
OFFER_ID_PATTERN: Final = "^[0-9a-f]{24}$"
LIST_ID_PATTERN: Final = "^[0-9a-f]{16}$"
#: The longest ``expires_in`` of an offer, in seconds (a week).
MAX_EXPIRES_IN: Final = 7 * 24 * 3600

TAGS: Final = [
    {"name": "issuer", "description": "OpenID4VCI 1.0 issuer (pre-authorized code flow)"},
    {"name": "issuer-agency", "description": "The issuing agency's offers and status lists"},
]


def _ref(name: str) -> OpenAPI:
    return {"$ref": f"#/components/schemas/{name}"}


def _oauth(*statuses: int) -> OpenAPI:
    return {
        str(status): json_response_spec(
            "Refused (OAuth 2.0 / OpenID4VCI error response)", _ref("OAuthError")
        )
        for status in statuses
    }


_AGENCY: Final[list[dict[str, list[str]]]] = [{"agencyToken": []}]
_STATUS_BODY: Final = {
    "type": "object",
    "additionalProperties": False,
    "minProperties": 1,
    "maxProperties": 1,
    "properties": {
        "offer_id": {"type": "string", "pattern": OFFER_ID_PATTERN},
        "status": {
            "type": ["object", "array"],
            "description": "The credential's status (dc+sd-jwt) or credentialStatus (vc+jwt).",
        },
    },
}

SCHEMAS: Final[OpenAPI] = {
    "OAuthError": {
        "type": "object",
        "description": "RFC 6749 §5.2 / RFC 6750 §3.1 / OpenID4VCI §8.3.1.2, plus our code.",
        "required": ["error"],
        "properties": {
            "error": {"type": "string"},
            "error_description": {"type": "string"},
            "code": {"type": "string"},
            "details": {"type": "object"},
        },
    },
    "CredentialOffer": {
        "type": "object",
        "required": ["credential_issuer", "credential_configuration_ids", "grants"],
        "properties": {
            "credential_issuer": {"type": "string"},
            "credential_configuration_ids": {"type": "array", "items": {"type": "string"}},
            "grants": {"type": "object"},
        },
    },
    "CreatedOffer": {
        "type": "object",
        "required": ["offer_id", "credential_offer", "offer_uri", "expires_at"],
        "properties": {
            "offer_id": {"type": "string"},
            "credential_offer": {"$ref": "#/components/schemas/CredentialOffer"},
            "offer_uri": {"type": "string"},
            "expires_at": {"type": "integer"},
            "tx_code": {"type": "string", "pattern": "^[0-9]{6}$"},
        },
    },
    "OfferState": {
        "type": "object",
        "required": ["offer_id", "credential_configuration_id", "state", "expires_at"],
        "properties": {
            "offer_id": {"type": "string"},
            "credential_configuration_id": {"type": "string"},
            "state": {"enum": ["offered", "redeemed", "issued", "invalidated", "expired"]},
            "expires_at": {"type": "integer"},
            "issued_at": {"type": ["integer", "null"]},
            "status": {"type": ["object", "array", "null"]},
        },
    },
}


def issuer_paths() -> OpenAPI:
    """The issuer API's paths: OpenID4VCI 1.0, the agency's offers and the status lists."""
    metadata = json_response_spec("The metadata document", {"type": "object"})
    return {
        ISSUER_WELL_KNOWN: {
            "get": {
                "tags": ["issuer"],
                "summary": "Credential Issuer Metadata (OpenID4VCI 1.0 §12.2)",
                "operationId": "getCredentialIssuerMetadata",
                "responses": {"200": metadata},
            }
        },
        AS_WELL_KNOWN: {
            "get": {
                "tags": ["issuer"],
                "summary": "OAuth 2.0 Authorization Server Metadata (RFC 8414)",
                "operationId": "getAuthorizationServerMetadata",
                "responses": {"200": metadata},
            }
        },
        WELL_KNOWN_PATH: {
            "get": {
                "tags": ["issuer"],
                "summary": "JWT VC Issuer Metadata of public_url (SD-JWT VC §4)",
                "operationId": "getJwtVcIssuerMetadata",
                "responses": {"200": metadata},
            }
        },
        TOKEN_PATH: {
            "post": {
                "tags": ["issuer"],
                "summary": "Token endpoint: trade a pre-authorized code (OpenID4VCI 1.0 §6)",
                "operationId": "postToken",
                "requestBody": form_body(
                    {
                        "type": "object",
                        "required": ["grant_type", "pre-authorized_code"],
                        "properties": {
                            "grant_type": {
                                "const": "urn:ietf:params:oauth:grant-type:pre-authorized_code"
                            },
                            "pre-authorized_code": {
                                "type": "string",
                                "minLength": 1,
                                "maxLength": 1024,
                            },
                            "tx_code": {"type": "string", "maxLength": 64},
                            "client_id": {"type": "string", "minLength": 1, "maxLength": 255},
                        },
                    }
                ),
                "responses": {
                    "200": json_response_spec(
                        "An access token",
                        {
                            "type": "object",
                            "required": ["access_token", "token_type", "expires_in"],
                            "properties": {
                                "access_token": {"type": "string"},
                                "token_type": {"const": "Bearer"},
                                "expires_in": {"type": "integer"},
                            },
                        },
                    ),
                    **_oauth(400),
                    **problems(413, 503),
                },
            }
        },
        NONCE_PATH: {
            "post": {
                "tags": ["issuer"],
                "summary": "Nonce endpoint: a fresh c_nonce (OpenID4VCI 1.0 §7)",
                "operationId": "postNonce",
                "responses": {
                    "200": json_response_spec(
                        "A c_nonce",
                        {
                            "type": "object",
                            "required": ["c_nonce"],
                            "properties": {"c_nonce": {"type": "string"}},
                        },
                    ),
                    **problems(413, 503),
                },
            }
        },
        CREDENTIAL_PATH: {
            "post": {
                "tags": ["issuer"],
                "summary": "Credential endpoint: one credential per key proof (§8)",
                "operationId": "postCredential",
                "security": [{"accessToken": []}],
                "requestBody": json_body(
                    {
                        "type": "object",
                        "required": ["credential_configuration_id", "proofs"],
                        "properties": {
                            "credential_configuration_id": {
                                "type": "string",
                                "minLength": 1,
                                "maxLength": 256,
                            },
                            "proofs": {
                                "type": "object",
                                "additionalProperties": False,
                                "required": ["jwt"],
                                "properties": {
                                    "jwt": {
                                        "type": "array",
                                        "minItems": 1,
                                        "maxItems": 1,
                                        "items": {"type": "string", "maxLength": 65536},
                                    }
                                },
                            },
                        },
                    }
                ),
                "responses": {
                    "200": json_response_spec(
                        "The credential",
                        {
                            "type": "object",
                            "required": ["credentials"],
                            "properties": {
                                "credentials": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "required": ["credential"],
                                        "properties": {"credential": {"type": "string"}},
                                    },
                                }
                            },
                        },
                    ),
                    **_oauth(400, 401),
                    **problems(413, 503),
                },
            }
        },
        "/issuer/v1/offers": {
            "post": {
                "tags": ["issuer-agency"],
                "summary": "Create a pre-authorized credential offer for a citizen",
                "operationId": "createCredentialOffer",
                "security": _AGENCY,
                "requestBody": json_body(
                    {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["credential_configuration_id", "subject"],
                        "properties": {
                            "credential_configuration_id": {
                                "type": "string",
                                "minLength": 1,
                                "maxLength": 128,
                            },
                            "subject": {"type": "object"},
                            "tx_code": {"type": "boolean"},
                            "expires_in": {
                                "type": "integer",
                                "minimum": 1,
                                "maximum": MAX_EXPIRES_IN,
                            },
                        },
                    }
                ),
                "responses": {
                    "201": json_response_spec("The offer", _ref("CreatedOffer")),
                    **problems(400, 401, 404, 413, 503),
                },
            }
        },
        "/issuer/v1/offers/{offer_id}": {
            "get": {
                "tags": ["issuer-agency"],
                "summary": "What became of an offer, and its credential's status entry",
                "operationId": "getCredentialOffer",
                "security": _AGENCY,
                "parameters": [
                    {
                        "name": "offer_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "pattern": OFFER_ID_PATTERN},
                    }
                ],
                "responses": {
                    "200": json_response_spec("The offer's state", _ref("OfferState")),
                    **problems(401, 404, 503),
                },
            }
        },
        **{
            f"/issuer/v1/status/{action}": {
                "post": {
                    "tags": ["issuer-agency"],
                    "summary": f"{action.capitalize()} a credential (published by publish)",
                    "operationId": f"{action}Credential",
                    "security": _AGENCY,
                    "requestBody": json_body(_STATUS_BODY),
                    "responses": {
                        "200": json_response_spec(
                            "The entry's status now",
                            {
                                "type": "object",
                                "required": ["status"],
                                "properties": {
                                    "status": {"enum": ["valid", "revoked", "suspended"]}
                                },
                            },
                        ),
                        **problems(400, 401, 404, 409, 413, 503),
                    },
                }
            }
            for action in ("revoke", "suspend", "reinstate")
        },
        "/issuer/v1/status/publish": {
            "post": {
                "tags": ["issuer-agency"],
                "summary": "Sign and anchor a new version of each changed status list",
                "operationId": "publishStatusLists",
                "security": _AGENCY,
                "requestBody": json_body(
                    {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {"everything": {"type": "boolean"}},
                    },
                    required=False,
                ),
                "responses": {
                    "200": json_response_spec(
                        "The versions published",
                        {
                            "type": "object",
                            "required": ["published"],
                            "properties": {"published": {"type": "array"}},
                        },
                    ),
                    **problems(400, 401, 403, 409, 413, 503),
                },
            }
        },
        STATUS_PREFIX + "/{list_id}/{leaf}": {
            "get": {
                "tags": ["issuer"],
                "summary": "A signed status list (Token Status List or Bitstring Status List)",
                "operationId": "getStatusList",
                "parameters": [
                    {
                        "name": "list_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "pattern": LIST_ID_PATTERN},
                    },
                    {
                        "name": "leaf",
                        "in": "path",
                        "required": True,
                        "schema": {"enum": list(LEAVES)},
                    },
                ],
                "responses": {
                    "200": {
                        "description": "The latest signed version",
                        "content": {
                            "application/statuslist+jwt": {"schema": {"type": "string"}},
                            "application/vc+jwt": {"schema": {"type": "string"}},
                        },
                    },
                    **problems(403, 404, 409, 503),
                },
            }
        },
    }
