"""Mileage fixtures: a ledger on SQLite and PostgreSQL with programmes, merchants, accounts.

``town`` is a :class:`Town`: the city's mileage office (granted ``mileage.programme``,
``mileage.merchant`` and ``mileage.settle``) registered programme ``eco`` (1:1) and
``health`` (10 points to 1 S-Coin), each with its own accruing authority granted
``mileage.accrue``, and merchants ``tmoney`` (transit) and ``gift`` (voucher). Alice and Bob
are citizens whose accounts are the did:key of their wallet keys.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from mileage_town import Town

from seoul_vc import FixedClock, Ledger, PrivateKey
from seoul_vc.ledger.entry import signer_did
from seoul_vc.mileage import MileageAccounts


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty ledger store URL: SQLite in a temporary folder, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:{tmp_path / 'ledger.db'}"
        return
    yield request.getfixturevalue("pg_schema_url")


@pytest.fixture
def town(ledger_url: str) -> Iterator[Town]:
    """Programmes eco (1:1) and health (10:1), merchants tmoney and gift, Alice and Bob."""
    clock = FixedClock(datetime.now(UTC).replace(microsecond=0))
    operator, office, eco, health, alice, bob = (PrivateKey.generate() for _ in range(6))
    ledger = Ledger.open(ledger_url, clock=clock)
    ledger.genesis(
        origin="mileage.seoul.example/test",
        operator=operator,
        grants={
            signer_did(office.public_key): [
                "mileage.programme",
                "mileage.merchant",
                "mileage.settle",
            ],
            signer_did(eco.public_key): ["mileage.accrue"],
            signer_did(health.public_key): ["mileage.accrue"],
        },
    )
    accounts = MileageAccounts(ledger, clock=clock)
    accounts.register_programme(office, "eco", authority=signer_did(eco.public_key))
    accounts.register_programme(
        office, "health", authority=signer_did(health.public_key), points=10, coins=1
    )
    accounts.register_merchant(office, "tmoney", kind="transit")
    accounts.register_merchant(office, "gift", kind="voucher")
    try:
        yield Town(ledger, accounts, clock, office, eco, health, alice, bob)
    finally:
        ledger.close()
