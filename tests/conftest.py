"""Shared fixtures: a fixed clock and throwaway keys."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
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


#: Why PostgreSQL tests skip on a machine without a server (CI always sets the variable).
PG_SKIP_REASON = "PostgreSQL tests need SEOUL_VC_TEST_PG_DSN (set by .ci/run)"


@pytest.fixture
def pg_schema_url() -> Iterator[str]:
    """A PostgreSQL URL naming a fresh schema (``?schema=``), dropped afterwards.

    Skips, with :data:`PG_SKIP_REASON`, when ``SEOUL_VC_TEST_PG_DSN`` is not set.
    """
    dsn = os.environ.get("SEOUL_VC_TEST_PG_DSN")
    if not dsn:
        pytest.skip(PG_SKIP_REASON)
    import psycopg

    schema = f"test_{secrets.token_hex(6)}"
    yield f"{dsn}{'&' if '?' in dsn else '?'}schema={schema}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SET lock_timeout = '10s'")
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
