"""A real seoul_vc service under uvicorn on a loopback port, over TLS, for the service tests.

``live_service`` starts one with the default configuration (issuer, verifier and wallet
roles, SQLite in a temporary folder); ``start_service`` starts more, with overrides of the
configuration's JSON form (``database`` for PostgreSQL, ``ledger.witnesses``...). Each has
an ``httpx.Client`` trusting the session's test CA; the service's own outgoing fetches
(did:web, request_uri, status lists, metadata) trust it too and may reach loopback.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from live_service import LiveService, run_service

from https_server import LocalCA

StartService = Callable[..., LiveService]


@pytest.fixture
def start_service(tmp_path: Path, local_ca: LocalCA) -> Iterator[StartService]:
    """Start services on loopback; all are stopped and closed at the end of the test."""
    with ExitStack() as stack:

        def start(name: str = "svc", **overrides: Any) -> LiveService:
            return stack.enter_context(run_service(tmp_path / name, local_ca, **overrides))

        yield start


@pytest.fixture
def live_service(start_service: StartService) -> LiveService:
    """One running service with every role, on SQLite."""
    return start_service()
