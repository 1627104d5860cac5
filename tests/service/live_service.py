"""A running service under test: its handle and the context manager that runs it."""

from __future__ import annotations

import base64
import json
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette

from https_server import LocalCA
from seoul_vc import Issuer
from seoul_vc.credentials.schemas import example_subject
from seoul_vc.ledger.apps.status import PUBLISH
from seoul_vc.ledger.entry import sign_entry
from seoul_vc.service import Network, Service, ServiceConfig, create_app, init_config


@dataclass
class LiveService:
    """A running service: its URL, library context, HTTP client and the agency tokens."""

    url: str
    service: Service
    client: httpx.Client
    tokens: dict[str, str]
    folder: Path
    config: ServiceConfig
    app: Starlette

    def agency(self, role: str) -> dict[str, str]:
        """Headers authenticating as the agency system of ``role`` (issuer, verifier)."""
        return {"authorization": f"Bearer {self.tokens[role]}"}


def problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """Assert that ``response`` is the RFC 9457 problem ``code`` with ``status``; its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert (body["status"], body["code"]) == (status, code)
    assert body["type"] == f"tag:seoul-vc,2026:error:{code}"
    return body


def basic(wallet_id: str, pin: str) -> dict[str, str]:
    """HTTP Basic headers of a citizen: ``wallet_id:PIN``."""
    token = base64.b64encode(f"{wallet_id}:{pin}".encode()).decode()
    return {"authorization": f"Basic {token}"}


def create_wallet(live: LiveService, pin: str) -> str:
    """Create a wallet through the API; its id."""
    response = live.client.post("/wallet/v1/wallets", json={"pin": pin})
    assert response.status_code == 201, response.text
    return str(response.json()["wallet_id"])


def residency_credential(live: LiveService, wallet_id: str) -> str:
    """A residency credential from the service's own (trusted) issuer, bound to the wallet."""
    service = live.service
    assert service.config.issuer is not None
    assert service.wallets is not None
    issuer = Issuer(service.config.issuer.key, did=service.did, kid=service.kid("issuer-1"))
    return issuer.issue(
        "ResidencyCredential",
        example_subject("residency"),
        holder=service.wallets.holder_public_key(wallet_id),
    )


def receive_residency(live: LiveService, wallet_id: str, pin: str) -> str:
    """Put :func:`residency_credential` into the wallet through the API; the held id."""
    response = live.client.post(
        "/wallet/v1/credentials",
        json={"credential": residency_credential(live, wallet_id)},
        headers=basic(wallet_id, pin),
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def publish(live: LiveService, count: int) -> None:
    """Append ``count`` status.publish entries signed by the service's issuer key."""
    assert live.config.issuer is not None
    key = live.config.issuer.key
    now = int(time.time())
    entries = [
        sign_entry(
            PUBLISH,
            {
                "uri": f"https://status.seoul.example/lists/{secrets.token_hex(8)}",
                "version": 1,
                "sha256": secrets.token_hex(32),
                "size": 131072,
                "bits": 1,
            },
            key,
            time=now,
        )
        for _ in range(count)
    ]
    live.service.ledger.append_many(entries)


def _merge(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        elif value is None:
            base.pop(key, None)
        else:
            base[key] = value
    return base


@contextmanager
def run_service(
    folder: Path,
    local_ca: LocalCA,
    tokens: dict[str, str] | None = None,
    **overrides: Any,
) -> Iterator[LiveService]:
    """Run one service from a fresh deployment folder until the block ends."""
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that name it, and without
    # it every response waited ~40 ms for a delayed ACK (Nagle's algorithm).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    url = f"https://localhost:{port}"
    path, tokens = init_config(folder, public_url=url, tokens=tokens)
    doc = _merge(json.loads(path.read_text()), overrides)
    path.write_text(json.dumps(doc))
    config = ServiceConfig.load(path)
    service = Service(
        config,
        network=Network(local_ca.client_context(), unsafe_allow_private_addresses=True),
    )
    try:
        app = create_app(service)
        server = uvicorn.Server(
            uvicorn.Config(
                app,
                ssl_certfile=str(local_ca.cert_file),
                ssl_keyfile=str(local_ca.key_file),
                log_level="warning",
                lifespan="off",
                access_log=False,
            )
        )
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        try:
            deadline = time.monotonic() + 10
            while not server.started:
                if time.monotonic() > deadline or not thread.is_alive():
                    raise RuntimeError("the service did not start")
                time.sleep(0.01)
            with httpx.Client(base_url=url, verify=local_ca.client_context(), timeout=30) as client:
                yield LiveService(url, service, client, tokens, folder, config, app)
        finally:
            # The service's own HTTPS clients (did:web, fetchers) hold keep-alive TLS
            # connections to this server, whose graceful shutdown would wait for them.
            service.close()
            server.should_exit = True
            thread.join(timeout=10)
    finally:
        sock.close()
        service.close()
