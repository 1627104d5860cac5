"""The Citizen Card wallet backend API (``/wallet/v1/``), for the mobile app and agencies.

Room: service (surface). Thin routes over :class:`~seoul_vc.wallet.WalletService`: every
decision (PIN, vault, verification on receipt, consent, view budget) is the library's.

* ``POST /wallet/v1/wallets`` creates a wallet (limited per client,
  :func:`~seoul_vc.service._auth.count_creation`).
* ``POST /wallet/v1/wallets/restore`` restores one from a backup and its passphrase, with a
  new PIN (:meth:`~seoul_vc.wallet.WalletService.restore`). Each restore counts against the
  same per-client quota as a creation, and at most :data:`RESTORES_AT_ONCE` derive their
  scrypt key at once per process (the library bounds each to 256 MiB); one more is refused
  with 429 and ``Retry-After`` rather than queued, so waiting requests cannot pile up.
* The citizen's own acts authenticate with HTTP Basic ``wallet_id:PIN`` (RFC 7617), checked
  by the library in a worker thread (:func:`~seoul_vc.service._auth.as_citizen`):
  credentials (list without claims, show with claims, receive, delete), opening a verifier's
  signed request (OpenID4VP 1.0 §5 Request Object) to show what it asks, consents (grant,
  list, withdraw), history, PIN change, backup export.
* ``POST /wallet/v1/consents/{consent_id}/views`` is the receiving agency's side of a
  consent: no PIN, the verifier's signed request is the authorisation and the ledger's
  budget is the limit (DESIGN.md, "Consent with a view budget"). It answers the OpenID4VP
  1.0 §8.1 ``vp_token`` and the view receipt. Refusals are the library's codes; a client
  that keeps being refused is stopped (429), since refusals are appended to the ledger. The
  library holds a request against the consent's verifier before it resolves the request's
  DID (:meth:`~seoul_vc.wallet.WalletService.view`), so the anonymous endpoint cannot send
  the service to fetch any host's did:web document.

Claim paths are the library's text form (``address.district``, ``nationalities[0]``); a
grant also accepts the DCQL path arrays of OpenID4VP 1.0 §7. Times are POSIX seconds.
Request bodies are strict: unknown or missing fields, wrong types, duplicate keys and
oversized bodies are 400/413 problems.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final

from anyio import CapacityLimiter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from seoul_vc._json import JSONObject, JSONValue
from seoul_vc.credentials.issuer import did_of
from seoul_vc.credentials.sd_jwt import ClaimPath, format_claim_path
from seoul_vc.errors import (
    Code,
    MalformedInputError,
    PolicyError,
    SeoulVCError,
    UnavailableError,
)
from seoul_vc.service import _auth
from seoul_vc.service._http import FailureLimiter, client_key, json_response, read_json
from seoul_vc.service.context import Service
from seoul_vc.service.openapi import Section, json_body, json_response_spec, problems
from seoul_vc.wallet import CitizenWallet, HeldCredential, WalletService
from seoul_vc.wallet.history import EVENT_KINDS
from seoul_vc.wallet.vault import MAX_BACKUP_BYTES, check_pin_text

__all__ = [
    "PREFIX",
    "RESTORES_AT_ONCE",
    "VIEW_REFUSALS_PER_CLIENT",
    "VIEW_REFUSAL_WINDOW_SECONDS",
    "section",
]

PREFIX: Final = "/wallet/v1"
#: Refused views one client may cause per window before it gets 429 (each is a ledger entry).
VIEW_REFUSALS_PER_CLIENT: Final = 100
VIEW_REFUSAL_WINDOW_SECONDS: Final = 900.0
#: Restores that may derive their backup's scrypt key at once, per process (each up to the
#: 256 MiB :func:`~seoul_vc.wallet.vault.open_backup` allows; 128 MiB at the default cost).
RESTORES_AT_ONCE: Final = 2
#: The Retry-After of a restore refused for that: one takes about a second at the default cost.
_RESTORE_RETRY_AFTER: Final = 2
_FORMAT: Final = "dc+sd-jwt"
_ID_PATTERN: Final = "^[A-Za-z0-9_-]{1,64}$"
_ID: Final = re.compile(_ID_PATTERN[1:-1])
_MAX_ID: Final = 64
_MAX_QUERIES: Final = 8
_MAX_CLAIMS: Final = 64
_MAX_PATH: Final = 16
_MAX_PIN: Final = 64
_MIN_PASSPHRASE: Final = 12
_MAX_PASSPHRASE: Final = 1024
_MAX_VIEWS: Final = 10_000
_MAX_TIME: Final = 253_402_300_799  # 9999-12-31T23:59:59Z
_NO_CONTENT: Final = {"cache-control": "no-store"}


# -- request bodies ---------------------------------------------------------------------------


def _malformed(message: str, field: str) -> MalformedInputError:
    return MalformedInputError(Code.MALFORMED, message, field=field[:_MAX_ID])


async def _body(request: Request, service: Service, fields: Mapping[str, bool]) -> JSONObject:
    """Read a JSON object whose members are ``fields`` (name -> required), nothing else."""
    body = await read_json(request, service.config.max_body_bytes)
    for name in body:
        if name not in fields:
            raise _malformed("unknown field", name)
    for name, required in fields.items():
        if required and name not in body:
            raise _malformed("a required field is missing", name)
    return body


def _text(body: JSONObject, name: str, max_len: int) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not 0 < len(value) <= max_len:
        raise _malformed(f"{name} is a string of 1 to {max_len} characters", name)
    return value


def _int(body: JSONObject, name: str, low: int, high: int) -> int:
    value = body.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise _malformed(f"{name} is an integer in [{low}, {high}]", name)
    return value


def _query_map(value: JSONValue, name: str) -> Mapping[str, JSONValue]:
    if not isinstance(value, Mapping) or not 0 < len(value) <= _MAX_QUERIES:
        raise _malformed(f"{name} maps 1 to {_MAX_QUERIES} Credential Query ids", name)
    for query_id in value:
        if _ID.fullmatch(query_id) is None:
            raise _malformed("a Credential Query id is 1 to 64 of A-Za-z0-9_-", name)
    return value


def _claim_path(value: JSONValue) -> ClaimPath | str:
    if isinstance(value, str) and 0 < len(value) <= 512:
        return value
    if isinstance(value, list) and 0 < len(value) <= _MAX_PATH:
        steps: list[str | int | None] = []
        for step in value:
            if not (
                step is None
                or (isinstance(step, str) and 0 < len(step) <= 256)
                or (isinstance(step, int) and not isinstance(step, bool) and 0 <= step < 2**31)
            ):
                break
            steps.append(step)
        else:
            return tuple(steps)
    raise _malformed("a claim path is text (address.district) or a DCQL path array", "claims")


def _claims(body: JSONObject) -> dict[str, list[ClaimPath | str]] | None:
    if "claims" not in body:
        return None
    out: dict[str, list[ClaimPath | str]] = {}
    for query_id, paths in _query_map(body["claims"], "claims").items():
        if not isinstance(paths, list) or not 0 < len(paths) <= _MAX_CLAIMS:
            raise _malformed(f"each query consents to 1 to {_MAX_CLAIMS} claims", "claims")
        out[query_id] = [_claim_path(p) for p in paths]
    return out


def _chosen_credentials(body: JSONObject) -> dict[str, str] | None:
    if "credentials" not in body:
        return None
    out: dict[str, str] = {}
    for query_id, credential_id in _query_map(body["credentials"], "credentials").items():
        if not isinstance(credential_id, str) or _ID.fullmatch(credential_id) is None:
            raise _malformed("a credential id is 1 to 64 of A-Za-z0-9_-", "credentials")
        out[query_id] = credential_id
    return out


# -- replies ----------------------------------------------------------------------------------


def _created(wallet: CitizenWallet) -> JSONObject:
    key = wallet.holder_public_key
    return {"wallet_id": wallet.id, "holder_did": did_of(key), "holder_jwk": key.to_jwk()}


def _held(held: HeldCredential) -> JSONObject:
    out = dict(held.to_json())
    out["format"] = _FORMAT
    return out


def _consent(obj: JSONObject) -> JSONObject:
    """The API form of a consent (from the library's grant JSON and ledger state)."""
    items = obj.get("items")
    views = obj.get("views", 0)
    return {
        "consent_id": obj["consent_id"],
        "verifier": obj["verifier"],
        "client_id": obj["client_id"],
        "purpose": obj["purpose"],
        "credentials": [
            {
                "query_id": item["query_id"],
                "credential_id": item["credential_id"],
                "claims": item["claims"],
            }
            for item in (items if isinstance(items, list) else [])
            if isinstance(item, dict)
        ],
        "max_views": obj["max_views"],
        "views": views if isinstance(views, int) else 0,
        "expires_at": obj["expires_at"],
        "withdrawn": obj.get("withdrawn") is True,
        "granted_index": obj["granted_index"],
    }


def _param(request: Request, name: str) -> str:
    value = str(request.path_params[name])
    return value if len(value) <= _MAX_ID else ""


# -- the routes -------------------------------------------------------------------------------

Endpoint = Callable[[Request], Awaitable[Response]]


def _dispatch(endpoints: Mapping[str, Endpoint]) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        method = "GET" if request.method == "HEAD" else request.method
        return await endpoints[method](request)

    return endpoint


class _WalletAPI:
    """The endpoints over one service's wallets (see the module docstring)."""

    def __init__(self, service: Service, wallets: WalletService) -> None:
        self.service, self.wallets = service, wallets
        self.refusals = FailureLimiter(
            max_failures=VIEW_REFUSALS_PER_CLIENT, window=VIEW_REFUSAL_WINDOW_SECONDS
        )
        # Backups derive a scrypt key of 128 MiB: one at a time per process.
        self.backups = CapacityLimiter(1)
        # Restores derive at the backup's own cost (up to 256 MiB): a few at once, the
        # next refused (see the module docstring). A threading semaphore, held from the
        # event loop until the worker thread has ended.
        self.restoring = threading.BoundedSemaphore(RESTORES_AT_ONCE)

    def routes(self) -> list[Route]:
        """One route per path (methods dispatched here, so the router answers 405 itself)."""
        by_path: dict[str, dict[str, Endpoint]] = {
            "/wallets": {"POST": self.create},
            "/wallets/restore": {"POST": self.restore},
            "/credentials": {"GET": self.list_credentials, "POST": self.receive},
            "/credentials/{credential_id}": {"GET": self.show, "DELETE": self.delete},
            "/requests/open": {"POST": self.open_request},
            "/consents": {"GET": self.list_consents, "POST": self.grant},
            "/consents/{consent_id}": {"DELETE": self.withdraw},
            "/consents/{consent_id}/views": {"POST": self.view},
            "/history": {"GET": self.history},
            "/pin": {"PUT": self.change_pin},
            "/backup": {"POST": self.backup},
        }
        return [
            Route(PREFIX + path, _dispatch(endpoints), methods=list(endpoints))
            for path, endpoints in by_path.items()
        ]

    async def _citizen_body(self, request: Request, fields: Mapping[str, bool]) -> JSONObject:
        # Credentials before the body: a request without any is 401 whatever it carries.
        _auth.citizen(request)
        return await _body(request, self.service, fields)

    async def create(self, request: Request) -> Response:
        _auth.count_creation(request, self.service)
        body = await _body(request, self.service, {"pin": True})
        pin = _text(body, "pin", _MAX_PIN)

        def create() -> JSONObject:
            return _created(self.wallets.create(pin))

        return json_response(await run_in_threadpool(create), 201)

    async def restore(self, request: Request) -> Response:
        body = await _body(request, self.service, {"backup": True, "passphrase": True, "pin": True})
        backup = _text(body, "backup", MAX_BACKUP_BYTES)
        passphrase = _text(body, "passphrase", _MAX_PASSPHRASE)
        pin = _text(body, "pin", _MAX_PIN)
        # Refusals that cost no scrypt come first and use none of the client's quota: no
        # backup was sealed under a shorter passphrase, and the new PIN must be one.
        if len(passphrase) < _MIN_PASSPHRASE:
            raise _malformed(f"passphrase is {_MIN_PASSPHRASE} to 1024 characters", "passphrase")
        check_pin_text(pin)
        if not self.restoring.acquire(blocking=False):
            raise PolicyError(
                Code.RATE_LIMITED,
                "too many restores at once; retry",
                retry_after=_RESTORE_RETRY_AFTER,
            )
        try:
            # Every restore that gets to derive counts, a wrong passphrase too: this also
            # bounds passphrase guessing over HTTP per client.
            _auth.count_creation(request, self.service)

            def restore() -> JSONObject:
                return _created(self.wallets.restore(backup, passphrase, pin))

            # run_in_threadpool does not return before its thread ends, even when the
            # request is cancelled, so the slot is held exactly while scrypt may run.
            created = await run_in_threadpool(restore)
        finally:
            self.restoring.release()
        return json_response(created, 201)

    async def list_credentials(self, request: Request) -> Response:
        held = await _auth.as_citizen(request, self.service, self.wallets.credentials)
        return json_response({"credentials": [_held(h) for h in held]})

    async def show(self, request: Request) -> Response:
        credential_id = _param(request, "credential_id")

        def show(wallet_id: str, pin: str) -> JSONObject:
            return self.wallets.show(wallet_id, pin, credential_id)

        shown = dict(await _auth.as_citizen(request, self.service, show))
        shown["format"] = _FORMAT
        return json_response(shown)

    async def delete(self, request: Request) -> Response:
        credential_id = _param(request, "credential_id")

        def delete(wallet_id: str, pin: str) -> None:
            self.wallets.delete(wallet_id, pin, credential_id)

        await _auth.as_citizen(request, self.service, delete)
        return Response(status_code=204, headers=_NO_CONTENT)

    async def receive(self, request: Request) -> Response:
        body = await self._citizen_body(request, {"credential": True})
        token = _text(body, "credential", self.service.limits.max_token_bytes)

        def receive(wallet_id: str, pin: str) -> HeldCredential:
            self.wallets.credentials(wallet_id, pin)  # the PIN authorises the receipt
            return self.wallets.receive(wallet_id, token)

        held = await _auth.as_citizen(request, self.service, receive)
        return json_response(_held(held), 201)

    async def open_request(self, request: Request) -> Response:
        body = await self._citizen_body(request, {"request": True})
        token = _text(body, "request", self.service.limits.max_token_bytes)

        def open_request(wallet_id: str, pin: str) -> JSONObject:
            held = self.wallets.credentials(wallet_id, pin)
            asked = self.wallets.open_request(token)
            return {
                "verifier": asked.verifier,
                "client_id": asked.client_id,
                "purpose": asked.purpose,
                "issued_at": asked.iat,
                "expires_at": asked.exp,
                "credentials": [
                    {
                        "id": query.id,
                        "vct_values": list(query.vct_values),
                        "claims": [format_claim_path(path) for path in query.claims],
                        "matches": [
                            h.id for h in held if h.vct in query.vct_values and not h.revoked
                        ],
                    }
                    for query in asked.credentials
                ],
            }

        return json_response(await _auth.as_citizen(request, self.service, open_request))

    async def grant(self, request: Request) -> Response:
        fields = {
            "request": True,
            "max_views": True,
            "expires_at": True,
            "claims": False,
            "credentials": False,
        }
        body = await self._citizen_body(request, fields)
        token = _text(body, "request", self.service.limits.max_token_bytes)
        max_views = _int(body, "max_views", 1, _MAX_VIEWS)
        expires_at = _int(body, "expires_at", 0, _MAX_TIME)
        claims, chosen = _claims(body), _chosen_credentials(body)

        def grant(wallet_id: str, pin: str) -> JSONObject:
            consent = self.wallets.grant(
                wallet_id,
                pin,
                token,
                max_views=max_views,
                expires_at=expires_at,
                claims=claims,
                credentials=chosen,
            )
            return consent.to_json()

        granted = await _auth.as_citizen(request, self.service, grant)
        return json_response(_consent(granted), 201)

    async def list_consents(self, request: Request) -> Response:
        consents = await _auth.as_citizen(request, self.service, self.wallets.consents)
        return json_response({"consents": [_consent(c) for c in consents]})

    async def withdraw(self, request: Request) -> Response:
        consent_id = _param(request, "consent_id")

        def withdraw(wallet_id: str, pin: str) -> int:
            return self.wallets.withdraw(wallet_id, pin, consent_id)

        index = await _auth.as_citizen(request, self.service, withdraw)
        return json_response({"consent_id": consent_id, "withdrawn": True, "ledger_index": index})

    async def history(self, request: Request) -> Response:
        events = await _auth.as_citizen(request, self.service, self.wallets.history)
        return json_response({"events": [event.to_json() for event in events]})

    async def change_pin(self, request: Request) -> Response:
        body = await self._citizen_body(request, {"new_pin": True})
        new_pin = _text(body, "new_pin", _MAX_PIN)

        def change(wallet_id: str, pin: str) -> None:
            self.wallets.change_pin(wallet_id, pin, new_pin)

        await _auth.as_citizen(request, self.service, change)
        return Response(status_code=204, headers=_NO_CONTENT)

    async def backup(self, request: Request) -> Response:
        body = await self._citizen_body(request, {"passphrase": True})
        passphrase = _text(body, "passphrase", _MAX_PASSPHRASE)

        def export(wallet_id: str, pin: str) -> str:
            return self.wallets.export(wallet_id, pin, passphrase)

        sealed = await _auth.as_citizen(request, self.service, export, limiter=self.backups)
        return json_response({"backup": sealed})

    async def view(self, request: Request) -> Response:
        key = client_key(request)
        # Held until this view ends: a burst of requests cannot outrun the refusal count.
        self.refusals.reserve(key)
        try:
            consent_id = _param(request, "consent_id")
            body = await _body(request, self.service, {"wallet_id": True, "request": True})
            wallet_id = _text(body, "wallet_id", _MAX_ID)
            token = _text(body, "request", self.service.limits.max_token_bytes)
            try:
                shown = await run_in_threadpool(self.wallets.view, wallet_id, consent_id, token)
            except SeoulVCError as exc:
                if not isinstance(exc, UnavailableError):
                    self.refusals.fail(key)
                raise
        finally:
            self.refusals.release(key)
        out = shown.to_json()
        out["view"], out["max_views"] = shown.view, shown.max_views
        return json_response(out)


def section(service: Service) -> Section:
    """The wallet routes, when this service runs the wallet (``service.wallets``)."""
    if service.wallets is None:
        return Section(routes=[], paths={})
    api = _WalletAPI(service, service.wallets)
    return Section(
        routes=list[BaseRoute](api.routes()),
        paths=_paths(service),
        schemas=_SCHEMAS,
        tags=[
            {
                "name": "wallet",
                "description": "The Citizen Card app's wallet backend (HTTP Basic wallet_id:PIN)",
            },
            {
                "name": "wallet-views",
                "description": "Receiving agencies view what a citizen consented to",
            },
        ],
    )


# -- OpenAPI ----------------------------------------------------------------------------------

OpenAPI = dict[str, Any]


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
_ID_SCHEMA: Final = {"type": "string", "pattern": _ID_PATTERN}
_PIN_SCHEMA: Final = {
    "type": "string",
    "minLength": 4,
    "maxLength": _MAX_PIN,
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
    "format": {"const": _FORMAT},
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

_SCHEMAS: Final[OpenAPI] = {
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
            "max_views": {"type": "integer", "minimum": 1, "maximum": _MAX_VIEWS},
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


def _paths(service: Service) -> OpenAPI:
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
                "maxItems": _MAX_PATH,
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
        "maxProperties": _MAX_QUERIES,
        "propertyNames": {"pattern": _ID_PATTERN},
    }
    grant_body = _object(
        {
            "request": {**token, "description": "the verifier's signed request (JWT)"},
            "max_views": {"type": "integer", "minimum": 1, "maximum": _MAX_VIEWS},
            "expires_at": {**_POSIX, "maximum": _MAX_TIME, "description": "POSIX seconds"},
            "claims": {
                **query_map,
                "description": "per Credential Query, the claims consented to (default: all)",
                "additionalProperties": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": _MAX_CLAIMS,
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
                (400, 403, 413, 429, 503),
                body=_object(
                    {
                        "backup": {
                            "type": "string",
                            "minLength": 1,
                            "maxLength": min(MAX_BACKUP_BYTES, service.config.max_body_bytes),
                            "description": "a backup from exportWalletBackup (compact JWE)",
                        },
                        "passphrase": {
                            "type": "string",
                            "minLength": _MIN_PASSPHRASE,
                            "maxLength": _MAX_PASSPHRASE,
                        },
                        "pin": _PIN_SCHEMA,
                    }
                ),
                security=[],
                description=(
                    "Counts against the client's wallet creations (429 rate_limited with "
                    "Retry-After), as does a wrong passphrase; at most "
                    f"{RESTORES_AT_ONCE} restores derive their key at once per server process "
                    "(429 with Retry-After). A wrong passphrase "
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
                        "wallet_id": {"type": "string", "minLength": 1, "maxLength": _MAX_ID},
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
