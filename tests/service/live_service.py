"""The handle of a running service under test (see conftest.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import httpx
from starlette.applications import Starlette

from seoul_vc.service import Service, ServiceConfig


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
