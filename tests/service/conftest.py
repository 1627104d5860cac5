"""A real seoul_vc service under uvicorn on a loopback port, over TLS, for the service tests.

``live_service`` starts one with the default configuration (issuer, verifier and wallet
roles, SQLite in a temporary folder); ``start_service`` starts more, with overrides of the
configuration's JSON form (``database`` for PostgreSQL, ``ledger.witnesses``...). Each has
an ``httpx.Client`` trusting the session's test CA; the service's own outgoing fetches
(did:web, request_uri, status lists, metadata) trust it too and may reach loopback.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from live_service import LiveService

from https_server import LocalCA
from seoul_vc.service import Network, Service, ServiceConfig, create_app, init_config

StartService = Callable[..., LiveService]


def _merge(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        elif value is None:
            base.pop(key, None)
        else:
            base[key] = value
    return base


@pytest.fixture
def start_service(tmp_path: Path, local_ca: LocalCA) -> Iterator[StartService]:
    """Start services on loopback; all are stopped and closed at the end of the test."""
    running: list[tuple[uvicorn.Server, threading.Thread, Service, httpx.Client]] = []

    def start(name: str = "svc", **overrides: Any) -> LiveService:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        url = f"https://localhost:{port}"
        folder = tmp_path / name
        path, tokens = init_config(folder, public_url=url)
        doc = json.loads(path.read_text())
        doc = _merge(doc, overrides)
        path.write_text(json.dumps(doc))
        config = ServiceConfig.load(path)
        service = Service(
            config,
            network=Network(local_ca.client_context(), unsafe_allow_private_addresses=True),
        )
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
        deadline = time.monotonic() + 10
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("the service did not start")
            time.sleep(0.01)
        client = httpx.Client(base_url=url, verify=local_ca.client_context(), timeout=30)
        running.append((server, thread, service, client))
        return LiveService(url, service, client, tokens, folder, config, app)

    yield start
    for server, thread, service, client in reversed(running):
        client.close()
        server.should_exit = True
        thread.join(timeout=10)
        service.close()


@pytest.fixture
def live_service(start_service: StartService) -> LiveService:
    """One running service with every role, on SQLite."""
    return start_service()
