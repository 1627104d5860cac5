"""Ledger store fixtures: every store-backed test runs on SQLite and on PostgreSQL.

``store`` is a :class:`StoreUnderTest`: ``url`` for ``Ledger.open`` and ``tamper(sql,
*params)``, which edits the store's tables behind the ledger's back (SQL with ``?``
placeholders; on PostgreSQL they become ``%s`` and the statement runs with the test's schema
as its ``search_path``). The PostgreSQL variant uses the server named by
``SEOUL_VC_TEST_PG_DSN`` and a fresh schema per test, dropped afterwards; without the
variable it is skipped with a reason.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PG_DSN_VARIABLE = "SEOUL_VC_TEST_PG_DSN"
PG_SKIP_REASON = "PostgreSQL tests need SEOUL_VC_TEST_PG_DSN (set by .ci/run)"


@dataclass(frozen=True)
class StoreUnderTest:
    """A store for one test: its kind, its ``open_store`` URL and how to reach its tables."""

    kind: str
    url: str
    path: Path | None = None
    dsn: str | None = None
    schema: str | None = None

    def tamper(self, sql: str, *params: object) -> None:
        """Run one SQL statement (``?`` placeholders) directly on the store's tables."""
        if self.path is not None:
            with sqlite3.connect(self.path) as conn:
                conn.execute(sql, params)
            conn.close()
            return
        import psycopg

        assert self.dsn is not None
        assert self.schema is not None
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            conn.execute("SELECT set_config('search_path', %s, false)", (f'"{self.schema}"',))
            conn.execute(sql.replace("?", "%s"), params)


def postgres_store() -> Iterator[StoreUnderTest]:
    """Yield a PostgreSQL store in a fresh schema, dropped afterwards (skip without a DSN)."""
    dsn = os.environ.get(PG_DSN_VARIABLE)
    if not dsn:
        pytest.skip(PG_SKIP_REASON)
    import psycopg

    schema = f"test_{secrets.token_hex(6)}"
    url = f"{dsn}{'&' if '?' in dsn else '?'}schema={schema}"
    yield StoreUnderTest(kind="postgres", url=url, dsn=dsn, schema=schema)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SET lock_timeout = '10s'")
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreUnderTest]:
    """A fresh, empty ledger store: SQLite in a temporary folder, or a PostgreSQL schema."""
    if request.param == "sqlite":
        path = tmp_path / "ledger.db"
        yield StoreUnderTest(kind="sqlite", url=f"sqlite:{path}", path=path)
    else:
        yield from postgres_store()
