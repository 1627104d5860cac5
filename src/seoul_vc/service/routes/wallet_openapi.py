"""The wallet API's contract: its OpenAPI document and the bounds its request bodies keep.

Part of :mod:`seoul_vc.service.routes.wallet`, which serves these routes and checks request
bodies against the same bounds; they live here so the document and the checks cannot drift.
"""

from __future__ import annotations

from typing import Final

from seoul_vc.service.context import Service
from seoul_vc.service.openapi import OpenAPI, json_body, json_response_spec, problems
from seoul_vc.wallet.history import EVENT_KINDS
from seoul_vc.wallet.vault import MAX_BACKUP_BYTES

__all__ = [
    "FORMAT",
    "ID_PATTERN",
    "MAX_CLAIMS",
    "MAX_ID",
    "MAX_PASSPHRASE",
    "MAX_PATH",
    "MAX_PIN",
    "MAX_QUERIES",
    "MAX_TIME",
    "MAX_VIEWS",
    "MIN_PASSPHRASE",
    "PREFIX",
    "RESTORES_AT_ONCE",
    "RESTORE_GRACE_SECONDS",
    "RESTORE_MIN_RATE",
    "RESTORE_UPLOADS_AT_ONCE",
    "RESTORE_UPLOADS_PER_CLIENT",
    "SCHEMAS",
    "wallet_paths",
]

PREFIX: Final = "/wallet/v1"
#: Restores that may derive their backup's scrypt key at once, per process (each up to the
#: 256 MiB :func:`~seoul_vc.wallet.vault.open_backup` allows; 128 MiB at the default cost).
RESTORES_AT_ONCE: Final = 2
#: Restore bodies read at once per process, and per client (each up to max_restore_bytes).
RESTORE_UPLOADS_AT_ONCE: Final = 4
RESTORE_UPLOADS_PER_CLIENT: Final = 2
#: A restore's body may start this late; then it must keep up with the rate below.
RESTORE_GRACE_SECONDS: Final = 10.0
#: The slowest upload a restore waits for, in bytes a second (a 16 MiB body: 266 s in all).
RESTORE_MIN_RATE: Final = 64 * 1024
FORMAT: Final = "dc+sd-jwt"
ID_PATTERN: Final = "^[A-Za-z0-9_-]{1,64}$"
MAX_ID: Final = 64
MAX_QUERIES: Final = 8
MAX_CLAIMS: Final = 64
MAX_PATH: Final = 16
MAX_PIN: Final = 64
MIN_PASSPHRASE: Final = 12
MAX_PASSPHRASE: Final = 1024
MAX_VIEWS: Final = 10_000
MAX_TIME: Final = 253_402_300_799  # 9999-12-31T23:59:59Z


def _ref(name: str) -> OpenAPI:
    return {"$ref": f"#/components/schemas/{name}"}


def _object(properties: OpenAPI, required: list[str] | None = None) -> OpenAPI:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": list(properties) if required is None else required,
        "properties": properties,
    }


_STRING: Final = {"type": "string"}
_POSIX: Final = {"type": "integer", "minimum": 0, "description": "POSIX seconds"}
_INDEX: Final = {"type": "integer", "minimum": 0, "description": "a ledger entry index"}
_ID_SCHEMA: Final = {"type": "string", "pattern": ID_PATTERN}
_PIN_SCHEMA: Final = {
    "type": "string",
    "minLength": 4,
    "maxLength": MAX_PIN,
    "description": "4 to 64 printable characters",
}
_CLAIM_TEXT: Final = {
    "type": "string",
    "minLength": 1,
    "maxLength": 512,
    "description": "a claim path: address.district, nationalities[0], nationalities[]",
}
_HELD: Final = {
    "id": _ID_SCHEMA,
    "type": {"type": "string", "description": "the credential type (or its vct)"},
    "vct": _STRING,
    "issuer": {"type": "string", "description": "the issuer (iss)"},
    "format": {"const": FORMAT},
    "received_at": _POSIX,
    "revoked": {"type": "boolean", "description": "the wallet saw it revoked or suspended"},
}
_BUNDLE: Final = _object(
    {
        "version": {"const": 1},
        "entry": {"type": "string", "description": "the ledger entry, base64url"},
        "index": _INDEX,
        "inclusion_proof": {"type": "array", "items": _STRING},
        "checkpoint": {"type": "string", "description": "a C2SP signed-note checkpoint"},
    }
)

SCHEMAS: Final[OpenAPI] = {
    "WalletCreated": _object(
        {
            "wallet_id": _ID_SCHEMA,
            "holder_did": {"type": "string", "description": "the holder key's DID (did:jwk)"},
            "holder_jwk": {"type": "object", "description": "the holder public key (JWK)"},
        }
    ),
    "WalletHeldCredential": _object(_HELD),
    "WalletCredentialDetail": _object(
        {**_HELD, "claims": {"type": "object", "description": "every claim the credential holds"}}
    ),
    "WalletOpenedRequest": _object(
        {
            "verifier": {"type": "string", "description": "the verifier's DID"},
            "client_id": {"type": "string", "description": "decentralized_identifier:<DID>"},
            "purpose": _STRING,
            "issued_at": _POSIX,
            "expires_at": _POSIX,
            "credentials": {
                "type": "array",
                "items": _object(
                    {
                        "id": {"type": "string", "description": "the Credential Query id"},
                        "vct_values": {"type": "array", "items": _STRING},
                        "claims": {"type": "array", "items": _STRING},
                        "matches": {
                            "type": "array",
                            "items": _ID_SCHEMA,
                            "description": "ids of held credentials that answer the query",
                        },
                    }
                ),
            },
        }
    ),
    "WalletConsent": _object(
        {
            "consent_id": _ID_SCHEMA,
            "verifier": _STRING,
            "client_id": _STRING,
            "purpose": _STRING,
            "credentials": {
                "type": "array",
                "items": _object(
                    {
                        "query_id": _STRING,
                        "credential_id": _ID_SCHEMA,
                        "claims": {"type": "array", "items": _STRING},
                    }
                ),
            },
            "max_views": {"type": "integer", "minimum": 1, "maximum": MAX_VIEWS},
            "views": {"type": "integer", "minimum": 0, "description": "views used"},
            "expires_at": _POSIX,
            "withdrawn": {"type": "boolean"},
            "granted_index": _INDEX,
        }
    ),
    "WalletHistoryEvent": _object(
        {
            "seq": {"type": "integer", "minimum": 1},
            "kind": {"enum": sorted(EVENT_KINDS)},
            "at": _POSIX,
            "details": {
                "type": "object",
                "description": (
                    "who and what: credential_id, type, issuer, consent, verifier, purpose, "
                    "claims (paths by query), view, max_views, reason (a refusal code), "
                    "nonce_hash, ledger_index; never claim values"
                ),
            },
        }
    ),
    "WalletView": _object(
        {
            "vp_token": {
                "type": "object",
                "description": "OpenID4VP 1.0 §8.1: Credential Query id -> SD-JWT+KB",
                "additionalProperties": {"type": "array", "minItems": 1, "items": _STRING},
            },
            "receipt": _object({"version": {"const": 1}, "view": _BUNDLE, "grant": _BUNDLE}),
            "view": {"type": "integer", "minimum": 1, "description": "k of max_views"},
            "max_views": {"type": "integer", "minimum": 1},
        }
    ),
}


def wallet_paths(service: Service) -> OpenAPI:
    """The wallet API's paths, with the token bound of ``service``."""
    token = {"type": "string", "minLength": 1, "maxLength": service.limits.max_token_bytes}
    citizen: list[OpenAPI] = [{"citizenPin": []}]
    # Every citizen act can meet these: no or bad credentials, a wallet waiting or locked,
    # a client past its PIN failures, a store or peer unavailable.
    auth = (401, 409, 429, 503)

    def op(
        op_id: str,
        summary: str,
        ok: OpenAPI,
        statuses: tuple[int, ...],
        *,
        body: OpenAPI | None = None,
        params: list[OpenAPI] | None = None,
        tag: str = "wallet",
        security: list[OpenAPI] | None = None,
        description: str | None = None,
    ) -> OpenAPI:
        out: OpenAPI = {
            "tags": [tag],
            "summary": summary,
            "operationId": op_id,
            "security": citizen if security is None else security,
            "responses": {**ok, **problems(*sorted(set(statuses)))},
        }
        if description:
            out["description"] = description
        if body is not None:
            out["requestBody"] = json_body(body)
        if params:
            out["parameters"] = params
        return out

    def path_id(name: str) -> list[OpenAPI]:
        return [{"name": name, "in": "path", "required": True, "schema": _ID_SCHEMA}]

    def reply(status: int, description: str, schema: OpenAPI) -> OpenAPI:
        return {str(status): json_response_spec(description, schema)}

    def no_content(description: str) -> OpenAPI:
        return {"204": {"description": description}}

    claim_path = {
        "oneOf": [
            _CLAIM_TEXT,
            {
                "type": "array",
                "minItems": 1,
                "maxItems": MAX_PATH,
                "description": "a DCQL claims path pointer (OpenID4VP 1.0 §7)",
                "items": {
                    "oneOf": [
                        {"type": "string", "minLength": 1, "maxLength": 256},
                        {"type": "integer", "minimum": 0, "maximum": 2**31 - 1},
                        {"type": "null"},
                    ]
                },
            },
        ]
    }
    query_map = {
        "type": "object",
        "minProperties": 1,
        "maxProperties": MAX_QUERIES,
        "propertyNames": {"pattern": ID_PATTERN},
    }
    grant_body = _object(
        {
            "request": {**token, "description": "the verifier's signed request (JWT)"},
            "max_views": {"type": "integer", "minimum": 1, "maximum": MAX_VIEWS},
            "expires_at": {**_POSIX, "maximum": MAX_TIME, "description": "POSIX seconds"},
            "claims": {
                **query_map,
                "description": "per Credential Query, the claims consented to (default: all)",
                "additionalProperties": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": MAX_CLAIMS,
                    "items": claim_path,
                },
            },
            "credentials": {
                **query_map,
                "description": "per Credential Query, the held credential that answers it",
                "additionalProperties": _ID_SCHEMA,
            },
        },
        required=["request", "max_views", "expires_at"],
    )
    p = PREFIX
    return {
        f"{p}/wallets": {
            "post": op(
                "createWallet",
                "Create a wallet protected by a PIN",
                reply(201, "The new wallet", _ref("WalletCreated")),
                (400, 413, 429, 503),
                body=_object({"pin": _PIN_SCHEMA}),
                security=[],
                description="Limited per client (429 rate_limited with Retry-After).",
            )
        },
        f"{p}/wallets/restore": {
            "post": op(
                "restoreWallet",
                "Restore a wallet from a backup, under a new PIN",
                reply(
                    201, "The new wallet (a new id; the backup's holder key)", _ref("WalletCreated")
                ),
                (400, 403, 408, 413, 429, 503),
                body=_object(
                    {
                        "backup": {
                            "type": "string",
                            "minLength": 1,
                            "maxLength": min(MAX_BACKUP_BYTES, service.config.max_restore_bytes),
                            "description": "a backup from exportWalletBackup (compact JWE)",
                        },
                        "passphrase": {
                            "type": "string",
                            "minLength": MIN_PASSPHRASE,
                            "maxLength": MAX_PASSPHRASE,
                        },
                        "pin": _PIN_SCHEMA,
                    }
                ),
                security=[],
                description=(
                    "Counts against the client's wallet creations (429 rate_limited with "
                    "Retry-After), as does a wrong passphrase; at most "
                    f"{RESTORES_AT_ONCE} restores derive their key at once per server "
                    f"process, {RESTORE_UPLOADS_AT_ONCE} bodies are read at once and "
                    f"{RESTORE_UPLOADS_PER_CLIENT} per client (429 with Retry-After). The "
                    "body is bounded by the service's max_restore_bytes "
                    f"({service.config.max_restore_bytes}), not max_body_bytes; it must "
                    "declare its Content-Length, start within "
                    f"{RESTORE_GRACE_SECONDS:.0f} s and then keep up with {RESTORE_MIN_RATE} "
                    "bytes a second (408 request_timeout). A wrong passphrase "
                    "or damaged backup is 403 unlock_failed; a backup naming a scrypt cost "
                    "past 256 MiB or N*r*p of 2^23 is 400 backup_too_costly, refused "
                    "without deriving; a PIN outside the rules is 400 bad_argument."
                ),
            )
        },
        f"{p}/credentials": {
            "get": op(
                "listWalletCredentials",
                "List the wallet's credentials (no claim values)",
                reply(
                    200,
                    "The credentials",
                    _object(
                        {"credentials": {"type": "array", "items": _ref("WalletHeldCredential")}}
                    ),
                ),
                auth,
            ),
            "post": op(
                "receiveCredential",
                "Verify a credential bound to this wallet's holder key and store it",
                reply(201, "The stored credential", _ref("WalletHeldCredential")),
                (*auth, 400, 403, 404, 413, 422),
                body=_object({"credential": {**token, "description": "an SD-JWT VC"}}),
            ),
        },
        f"{p}/credentials/{{credential_id}}": {
            "get": op(
                "showWalletCredential",
                "Show one credential with every claim it holds",
                reply(200, "The credential", _ref("WalletCredentialDetail")),
                (*auth, 404),
                params=path_id("credential_id"),
            ),
            "delete": op(
                "deleteWalletCredential",
                "Delete a credential (its consents can no longer be viewed)",
                no_content("Deleted"),
                (*auth, 404),
                params=path_id("credential_id"),
            ),
        },
        f"{p}/requests/open": {
            "post": op(
                "openPresentationRequest",
                "Verify a verifier's signed request and say what it asks",
                reply(200, "What the verifier asks", _ref("WalletOpenedRequest")),
                (*auth, 400, 403, 404, 413, 422),
                body=_object({"request": {**token, "description": "the signed request (JWT)"}}),
            ),
        },
        f"{p}/consents": {
            "get": op(
                "listConsents",
                "List the wallet's consents with views used and withdrawal",
                reply(
                    200,
                    "The consents",
                    _object({"consents": {"type": "array", "items": _ref("WalletConsent")}}),
                ),
                auth,
            ),
            "post": op(
                "grantConsent",
                "Grant a verifier a number of views of some claims until a time",
                reply(201, "The consent, recorded on the ledger", _ref("WalletConsent")),
                (*auth, 400, 403, 404, 413, 422),
                body=grant_body,
            ),
        },
        f"{p}/consents/{{consent_id}}": {
            "delete": op(
                "withdrawConsent",
                "Withdraw a consent: no more views",
                reply(
                    200,
                    "Withdrawn on the ledger",
                    _object(
                        {
                            "consent_id": _ID_SCHEMA,
                            "withdrawn": {"const": True},
                            "ledger_index": _INDEX,
                        }
                    ),
                ),
                (*auth, 404),
                params=path_id("consent_id"),
            ),
        },
        f"{p}/consents/{{consent_id}}/views": {
            "post": op(
                "viewConsent",
                "Receive one consented view (the receiving agency's call)",
                reply(200, "The presentations and the view receipt", _ref("WalletView")),
                (400, 403, 404, 409, 413, 422, 429, 503),
                body=_object(
                    {
                        "wallet_id": {"type": "string", "minLength": 1, "maxLength": MAX_ID},
                        "request": {**token, "description": "a fresh signed request (JWT)"},
                    }
                ),
                params=path_id("consent_id"),
                tag="wallet-views",
                security=[],
                description=(
                    "No credentials: the verifier's signed request (fresh nonce) authorises "
                    "the view and the ledger enforces the consent's budget, expiry, "
                    "withdrawal, verifier and nonce. A client refused too often gets 429."
                ),
            ),
        },
        f"{p}/history": {
            "get": op(
                "getWalletHistory",
                "The wallet's history: receipts, grants, views (who, what, when), refusals",
                reply(
                    200,
                    "The events, oldest first",
                    _object({"events": {"type": "array", "items": _ref("WalletHistoryEvent")}}),
                ),
                auth,
            ),
        },
        f"{p}/pin": {
            "put": op(
                "changeWalletPin",
                "Replace the PIN (the current one authorises)",
                no_content("Changed"),
                (*auth, 400, 413),
                body=_object({"new_pin": _PIN_SCHEMA}),
            ),
        },
        f"{p}/backup": {
            "post": op(
                "exportWalletBackup",
                "An encrypted backup of the wallet under a passphrase",
                reply(
                    200,
                    "The backup (JWE, dir + A256GCM under a scrypt key)",
                    _object({"backup": _STRING}),
                ),
                (*auth, 400, 413),
                body=_object(
                    {"passphrase": {"type": "string", "minLength": 12, "maxLength": 1024}}
                ),
            ),
        },
    }
