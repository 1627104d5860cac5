"""The Citizen Card wallet backend API (``/wallet/v1/``), for the mobile app and agencies.

Room: service (surface). Thin routes over :class:`~seoul_vc.wallet.WalletService`: every
decision (PIN, vault, verification on receipt, consent, view budget) is the library's.

* ``POST /wallet/v1/wallets`` creates a wallet (limited per client,
  :func:`~seoul_vc.service._auth.count_creation`).
* ``POST /wallet/v1/wallets/restore`` restores one from a backup and its passphrase, with a
  new PIN (:meth:`~seoul_vc.wallet.WalletService.restore`). Each restore counts against the
  same per-client quota as a creation, and at most :data:`RESTORES_AT_ONCE` derive their
  scrypt key at once per process (the library bounds each to 256 MiB); one more is refused
  with 429 and ``Retry-After`` rather than queued, so waiting requests cannot pile up. A
  restore's body is bounded by ``max_restore_bytes`` (a backup holds the wallet's whole
  history, so it outgrows ``max_body_bytes``): at most :data:`RESTORE_UPLOADS_AT_ONCE` are
  read at once per process and :data:`RESTORE_UPLOADS_PER_CLIENT` per client, each must name
  its length and keep arriving (:func:`~seoul_vc.service._http.read_json_in_time`: a stalled
  upload is 408 after about 10 s), and it is parsed off the event loop.
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
from typing import Final

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
    SeoulVCError,
    UnavailableError,
)
from seoul_vc.service import _auth
from seoul_vc.service._http import (
    FailureLimiter,
    client_key,
    json_response,
    read_json,
    read_json_in_time,
    slot,
)
from seoul_vc.service.context import Service
from seoul_vc.service.openapi import Section
from seoul_vc.service.routes.wallet_openapi import (
    FORMAT,
    ID_PATTERN,
    MAX_CLAIMS,
    MAX_ID,
    MAX_PASSPHRASE,
    MAX_PATH,
    MAX_PIN,
    MAX_QUERIES,
    MAX_TIME,
    MAX_VIEWS,
    MIN_PASSPHRASE,
    PREFIX,
    RESTORE_GRACE_SECONDS,
    RESTORE_MIN_RATE,
    RESTORE_UPLOADS_AT_ONCE,
    RESTORE_UPLOADS_PER_CLIENT,
    RESTORES_AT_ONCE,
    SCHEMAS,
    wallet_paths,
)
from seoul_vc.wallet import CitizenWallet, HeldCredential, WalletService
from seoul_vc.wallet.vault import MAX_BACKUP_BYTES, check_pin_text

__all__ = [
    "PREFIX",
    "RESTORES_AT_ONCE",
    "VIEW_REFUSALS_PER_CLIENT",
    "VIEW_REFUSAL_WINDOW_SECONDS",
    "section",
]

#: Refused views one client may cause per window before it gets 429 (each is a ledger entry).
VIEW_REFUSALS_PER_CLIENT: Final = 100
VIEW_REFUSAL_WINDOW_SECONDS: Final = 900.0
#: The Retry-After of a restore refused for that: one takes about a second at the default cost.
_RESTORE_RETRY_AFTER: Final = 2
#: The ``"`` a restore body may hold: three members and their string values, and escaped
#: quotes in the passphrase and the PIN (a backup, a compact JWE, has none).
_RESTORE_QUOTES: Final = 12 + MAX_PASSPHRASE + MAX_PIN
_ID: Final = re.compile(ID_PATTERN[1:-1])
_NO_CONTENT: Final = {"cache-control": "no-store"}


# -- request bodies ---------------------------------------------------------------------------


def _malformed(message: str, field: str) -> MalformedInputError:
    return MalformedInputError(Code.MALFORMED, message, field=field[:MAX_ID])


async def _body(request: Request, service: Service, fields: Mapping[str, bool]) -> JSONObject:
    """Read a JSON object whose members are ``fields`` (name -> required), nothing else."""
    return _fields(await read_json(request, service.config.max_body_bytes), fields)


def _fields(body: JSONObject, fields: Mapping[str, bool]) -> JSONObject:
    """``body``, if its members are ``fields`` (name -> required) and nothing else."""
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
    if not isinstance(value, Mapping) or not 0 < len(value) <= MAX_QUERIES:
        raise _malformed(f"{name} maps 1 to {MAX_QUERIES} Credential Query ids", name)
    for query_id in value:
        if _ID.fullmatch(query_id) is None:
            raise _malformed("a Credential Query id is 1 to 64 of A-Za-z0-9_-", name)
    return value


def _claim_path(value: JSONValue) -> ClaimPath | str:
    if isinstance(value, str) and 0 < len(value) <= 512:
        return value
    if isinstance(value, list) and 0 < len(value) <= MAX_PATH:
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
        if not isinstance(paths, list) or not 0 < len(paths) <= MAX_CLAIMS:
            raise _malformed(f"each query consents to 1 to {MAX_CLAIMS} claims", "claims")
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
    out["format"] = FORMAT
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
    return value if len(value) <= MAX_ID else ""


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
        # Restore bodies being read (each up to max_restore_bytes): a few per process, and
        # per client (its address) fewer still, so stalled uploads cannot hold them all.
        self.uploading = threading.BoundedSemaphore(RESTORE_UPLOADS_AT_ONCE)
        self.restoring_clients = FailureLimiter(max_failures=RESTORE_UPLOADS_PER_CLIENT, window=1.0)

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
        pin = _text(body, "pin", MAX_PIN)

        def create() -> JSONObject:
            return _created(self.wallets.create(pin))

        return json_response(await run_in_threadpool(create), 201)

    async def restore(self, request: Request) -> Response:
        # Per client, then per process: bodies being read, then scrypt keys being derived
        # (see the module docstring). Each refusal is 429 at once, never a queue.
        with (
            self.restoring_clients.holding(client_key(request)),
            slot(self.uploading, retry_after=_RESTORE_RETRY_AFTER),
        ):
            body = await read_json_in_time(
                request,
                self.service.config.max_restore_bytes,
                grace=RESTORE_GRACE_SECONDS,
                min_rate=RESTORE_MIN_RATE,
                max_quotes=_RESTORE_QUOTES,
            )
            _fields(body, {"backup": True, "passphrase": True, "pin": True})
            backup = _text(body, "backup", MAX_BACKUP_BYTES)
            passphrase = _text(body, "passphrase", MAX_PASSPHRASE)
            pin = _text(body, "pin", MAX_PIN)
            # Refusals that cost no scrypt come before the count and use none of the
            # client's quota: no backup was sealed under a shorter passphrase, and the new
            # PIN must be one.
            if len(passphrase) < MIN_PASSPHRASE:
                raise _malformed(f"passphrase is {MIN_PASSPHRASE} to 1024 characters", "passphrase")
            check_pin_text(pin)
            with slot(self.restoring, retry_after=_RESTORE_RETRY_AFTER):
                # Every restore that gets to derive counts, a wrong passphrase too: this
                # also bounds passphrase guessing over HTTP per client.
                _auth.count_creation(request, self.service)

                def restore() -> JSONObject:
                    return _created(self.wallets.restore(backup, passphrase, pin))

                # run_in_threadpool waits for its thread when anyio cancels the request; a
                # plain asyncio cancel (uvicorn's at a shutdown timeout) may free the slot
                # while scrypt still runs, as the process stops.
                created = await run_in_threadpool(restore)
        return json_response(created, 201)

    async def list_credentials(self, request: Request) -> Response:
        held = await _auth.as_citizen(request, self.service, self.wallets.credentials)
        return json_response({"credentials": [_held(h) for h in held]})

    async def show(self, request: Request) -> Response:
        credential_id = _param(request, "credential_id")

        def show(wallet_id: str, pin: str) -> JSONObject:
            return self.wallets.show(wallet_id, pin, credential_id)

        shown = dict(await _auth.as_citizen(request, self.service, show))
        shown["format"] = FORMAT
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
        max_views = _int(body, "max_views", 1, MAX_VIEWS)
        expires_at = _int(body, "expires_at", 0, MAX_TIME)
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
        new_pin = _text(body, "new_pin", MAX_PIN)

        def change(wallet_id: str, pin: str) -> None:
            self.wallets.change_pin(wallet_id, pin, new_pin)

        await _auth.as_citizen(request, self.service, change)
        return Response(status_code=204, headers=_NO_CONTENT)

    async def backup(self, request: Request) -> Response:
        body = await self._citizen_body(request, {"passphrase": True})
        passphrase = _text(body, "passphrase", MAX_PASSPHRASE)

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
            wallet_id = _text(body, "wallet_id", MAX_ID)
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
        paths=wallet_paths(service),
        schemas=SCHEMAS,
        body_limits={f"{PREFIX}/wallets/restore": service.config.max_restore_bytes},
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
