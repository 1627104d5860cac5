"""Voting fixtures: a ledger on SQLite and PostgreSQL, the city's actors, and citizens.

``civic`` is a :class:`Civic`: a ledger whose genesis grants ``voting.open`` to a proposer
and ``voting.register`` to the registrar, a Ministry of the Interior issuer trusted for
ResidencyCredential, the :class:`~seoul_vc.voting.Registrar` and an open poll ``park`` for
Mapo-gu and Seodaemun-gu residents aged 14 or over. Every clock is one FixedClock, so window
tests move time explicitly. ``civic.citizen()`` makes a resident with a wallet key and a
credential; ``civic.register(person)`` runs the whole registration flow with a fresh voter
key and returns it.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from voting_civic import RULE, Civic

from seoul_vc import FixedClock, Issuer, Ledger, PrivateKey, TrustRegistry, Verifier
from seoul_vc.ledger.entry import signer_did
from seoul_vc.voting import Registrar, open_poll


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty ledger store URL: SQLite in a temporary folder, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:{tmp_path / 'ledger.db'}"
        return
    yield request.getfixturevalue("pg_schema_url")


@pytest.fixture
def civic(ledger_url: str) -> Iterator[Civic]:
    """The city's actors on a fresh ledger, with poll ``park`` open for a week."""
    clock = FixedClock(datetime.now(UTC).replace(microsecond=0))
    operator, proposer, registrar_key = (PrivateKey.generate() for _ in range(3))
    ministry = Issuer(PrivateKey.generate(), clock=clock)
    trust = TrustRegistry.from_json(
        {"issuers": [{"id": ministry.did, "types": ["ResidencyCredential", "IncomeCredential"]}]}
    )
    ledger = Ledger.open(ledger_url, clock=clock)
    ledger.genesis(
        origin="vote.seoul.example/test",
        operator=operator,
        grants={
            signer_did(proposer.public_key): ["voting.open"],
            signer_did(registrar_key.public_key): ["voting.register"],
        },
    )
    secret = secrets.token_bytes(32)
    verifier = Verifier(trust=trust, clock=clock)
    registrar = Registrar(registrar_key, nullifier_secret=secret, verifier=verifier, clock=clock)
    now = clock.now()
    poll = open_poll(
        ledger,
        proposer,
        poll_id="park",
        question="Build a park on the old rail line?",
        options=["yes", "no"],
        opens_at=now,
        closes_at=now + timedelta(days=7),
        rule=RULE,
        registrar=registrar.did,
        clock=clock,
    )
    try:
        yield Civic(
            ledger=ledger,
            clock=clock,
            operator=operator,
            proposer=proposer,
            registrar_key=registrar_key,
            ministry=ministry,
            registrar=registrar,
            verifier=verifier,
            poll=poll,
            secret=secret,
        )
    finally:
        ledger.close()
