"""Shared fixtures: a fixed clock and throwaway keys."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from seoul_vc.clock import FixedClock
from seoul_vc.keys import PrivateKey

# Real HTTPS servers on loopback, shared by the did:web, metadata and status tests.
pytest_plugins = ["https_server"]


@pytest.fixture
def clock() -> FixedClock:
    """A clock standing at 2026-01-01T00:00:00Z until advanced."""
    return FixedClock(datetime(2026, 1, 1, tzinfo=UTC))


@pytest.fixture
def ed25519_key() -> PrivateKey:
    """A fresh Ed25519 (EdDSA) signing key."""
    return PrivateKey.generate("EdDSA")


@pytest.fixture
def p256_key() -> PrivateKey:
    """A fresh P-256 (ES256) signing key."""
    return PrivateKey.generate("ES256")
