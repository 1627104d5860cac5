"""Wallet fixtures: a :class:`World` on SQLite and on PostgreSQL (one database each)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from wallet_world import World

from seoul_vc import FixedClock


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def urls(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """(ledger URL, wallet URL): two SQLite files, or one PostgreSQL schema for both."""
    if request.param == "sqlite":
        yield f"sqlite:{tmp_path / 'ledger.db'}", f"sqlite:{tmp_path / 'wallet.db'}"
        return
    url = request.getfixturevalue("pg_schema_url")
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
