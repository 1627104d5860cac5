"""Wallet fixtures: a :class:`World` on SQLite and on PostgreSQL (one database each)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from wallet_world import World

from seoul_vc import FixedClock

PG_DSN_VARIABLE = "SEOUL_VC_TEST_PG_DSN"
PG_SKIP_REASON = "PostgreSQL tests need SEOUL_VC_TEST_PG_DSN (set by .ci/run)"


def pg_url() -> Iterator[str]:
    """Yield a URL naming a fresh PostgreSQL schema, dropped afterwards (skip without a DSN)."""
    dsn = os.environ.get(PG_DSN_VARIABLE)
    if not dsn:
        pytest.skip(PG_SKIP_REASON)
    import psycopg

    schema = f"test_{secrets.token_hex(6)}"
    yield f"{dsn}{'&' if '?' in dsn else '?'}schema={schema}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SET lock_timeout = '10s'")
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def urls(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """(ledger URL, wallet URL): two SQLite files, or one PostgreSQL schema for both."""
    if request.param == "sqlite":
        yield f"sqlite:{tmp_path / 'ledger.db'}", f"sqlite:{tmp_path / 'wallet.db'}"
        return
    for url in pg_url():
        yield url, url


@pytest.fixture
def sqlite_urls(tmp_path: Path) -> tuple[str, str]:
    """(ledger URL, wallet URL) on SQLite only: for tests that read the files' bytes."""
    return f"sqlite:{tmp_path / 'ledger.db'}", f"sqlite:{tmp_path / 'wallet.db'}"


@pytest.fixture
def world_clock() -> FixedClock:
    """A fixed clock at the current second (credentials are issued 'now')."""
    return FixedClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def world(urls: tuple[str, str], world_clock: FixedClock) -> Iterator[World]:
    """The city's actors on a fresh ledger and wallet store."""
    w = World(*urls, world_clock)
    yield w
    w.close()
