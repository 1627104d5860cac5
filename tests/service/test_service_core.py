"""The service's core on a real uvicorn server: problems, bounds, OpenAPI, DID document, logs."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest
from live_service import LiveService, problem
from starlette.types import Message, Receive, Scope, Send

from https_server import LocalCA
from seoul_vc.did import CachingResolver, MethodResolver
from seoul_vc.did.web import WebResolver
from seoul_vc.errors import MalformedInputError
from seoul_vc.service._http import parse_form


def test_health_and_unknown_routes(live_service: LiveService) -> None:
    assert live_service.client.get("/health").json() == {"status": "ok", "ledger_size": 1}
    problem(live_service.client.get("/no/such/thing"), 404, "not_found")
    problem(live_service.client.delete("/health"), 405, "malformed")


def test_oversized_bodies_are_refused_before_reading(live_service: LiveService) -> None:
    limit = live_service.config.max_body_bytes
    response = live_service.client.post("/health", content=b"x" * (limit + 1))
    body = problem(response, 413, "too_large")
    assert body["details"] == {"limit": limit}


def test_streamed_body_without_length_is_cut_off(live_service: LiveService) -> None:
    limit = live_service.config.max_body_bytes

    def chunks():  # type: ignore[no-untyped-def]
        for _ in range(limit // 1024 + 2):
            yield b"y" * 1024

    response = live_service.client.post("/openapi.json", content=chunks())
    # /openapi.json is GET-only: the route refuses with 405 or the bound with 413.
    assert response.status_code in (405, 413)
    assert response.headers["content-type"] == "application/problem+json"


def test_openapi_document_describes_every_route(live_service: LiveService) -> None:
    document = live_service.client.get("/openapi.json").json()
    assert document["openapi"] == "3.1.0"
    routes = {
        route.path: set(route.methods or ()) - {"HEAD"}  # type: ignore[attr-defined]
        for route in live_service.app.routes
        if route.path != "/openapi.json"  # type: ignore[attr-defined]
    }
    described = {
        path: {method.upper() for method in item} for path, item in document["paths"].items()
    }
    assert routes == described
    for item in document["paths"].values():
        for operation in item.values():
            assert operation["operationId"]
            assert operation["summary"]
            assert operation["responses"]


def test_did_document_resolves_over_did_web(live_service: LiveService, local_ca: LocalCA) -> None:
    context = local_ca.client_context()
    with WebResolver(ssl_context=context, unsafe_allow_private_addresses=True) as web:
        doc = CachingResolver(MethodResolver(web=web)).resolve(live_service.service.did)
    assert str(doc.id) == live_service.service.did
    response = live_service.client.get("/.well-known/did.json")
    assert response.headers["cache-control"] == "public, max-age=300"
    assert response.headers["content-type"] == "application/did+json"


def test_access_log_has_no_personal_data(
    live_service: LiveService, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="seoul_vc.service"):
        live_service.client.get("/no/such/wallet-abc123?pin=999999")
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "seoul_vc.service"]
    assert lines
    assert lines[-1]["status"] == 404
    assert lines[-1]["code"] == "not_found"
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "wallet-abc123" not in text
    assert "999999" not in text


@pytest.mark.parametrize(
    "body",
    [b"a=1&a=2", b"a=%zz", b"a=%e9", b"=x", "a=\u00e9".encode()],
)
def test_forms_are_parsed_strictly(body: bytes) -> None:
    with pytest.raises(MalformedInputError):
        parse_form(body)


def test_guarded_post_returns_any_status_and_refuses_plain_http(
    live_service: LiveService,
) -> None:
    from seoul_vc.errors import PolicyError

    fetcher = live_service.service.network.fetcher()
    try:
        answer = fetcher.post(
            live_service.url + "/health",
            body=b"{}",
            content_type="application/json",
            accept="application/json",
            max_bytes=4096,
            what="probe",
        )
        assert answer.status == 405
        assert answer.media_type == "application/problem+json"
        with pytest.raises(PolicyError):
            fetcher.post(
                live_service.url.replace("https", "http") + "/health",
                body=b"",
                content_type="application/json",
                accept="application/json",
                max_bytes=4096,
                what="probe",
            )
    finally:
        fetcher.close()


@pytest.mark.parametrize(
    ("path", "root_path", "passed"),
    [
        ("/wallet/v1/wallets/restore", "", True),
        ("/vc/wallet/v1/wallets/restore", "/vc", True),  # behind --root-path /vc
        ("/vc/wallet/v1/wallets", "/vc", False),
        ("/other/wallet/v1/wallets/restore", "/vc", False),
    ],
)
def test_a_path_bound_applies_under_a_root_path(path: str, root_path: str, passed: bool) -> None:
    """The per-path body bound matches the path the router matches (without root_path)."""
    from seoul_vc.service.app import _BodyLimit

    reached: list[str] = []
    sent: list[Message] = []

    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        reached.append(scope["path"])

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    limit = _BodyLimit(inner, 1024, {"/wallet/v1/wallets/restore": 4096})
    scope = {"type": "http", "path": path, "root_path": root_path, "headers": [
        (b"content-length", b"2048")
    ]}  # fmt: skip
    asyncio.run(limit(scope, receive, send))
    assert bool(reached) is passed
    if not passed:
        assert sent[0]["status"] == 413
