"""Status fixtures: registry databases on SQLite and, with a DSN, PostgreSQL."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

PG_DSN_VARIABLE = "SEOUL_VC_TEST_PG_DSN"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def registry_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh registry database URL: a SQLite file, or a PostgreSQL schema dropped after."""
    if request.param == "sqlite":
        yield f"sqlite:{tmp_path / 'status.db'}"
        return
    dsn = os.environ.get(PG_DSN_VARIABLE)
    if not dsn:
        pytest.skip("PostgreSQL tests need SEOUL_VC_TEST_PG_DSN (set by .ci/run)")
    import psycopg

    schema = f"status_{secrets.token_hex(6)}"
    yield f"{dsn}{'&' if '?' in dsn else '?'}schema={schema}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
