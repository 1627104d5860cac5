"""Voting test helpers: the city's actors (:class:`Civic`) and residents (:class:`Person`).

``Civic.citizen()`` makes a resident with a wallet key and a residency credential;
``Civic.register(person)`` runs the whole registration flow with a fresh voter key.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from seoul_vc import FixedClock, Issuer, Ledger, PrivateKey, Verifier, present
from seoul_vc._encoding import b64url_encode
from seoul_vc.credentials.schemas import example_subject
from seoul_vc.ledger.entry import signer_did
from seoul_vc.voting import Poll, Registrar, Registration, open_poll

RULE = {
    "all": [
        {"claim": "address.district", "in": ["마포구", "서대문구"]},
        {"claim": "ageOver14", "equals": True},
    ]
}
DISCLOSE = ("address.district", "ageOver14", "personPseudonym")


@dataclass
class Person:
    """A resident: their wallet key, their credential, and the subject it was issued for."""

    wallet: PrivateKey
    credential: str
    subject: dict[str, Any]


@dataclass
class Civic:
    ledger: Ledger
    clock: FixedClock
    operator: PrivateKey
    proposer: PrivateKey
    registrar_key: PrivateKey
    ministry: Issuer
    registrar: Registrar
    verifier: Verifier
    poll: Poll
    secret: bytes
    people: list[Person] = field(default_factory=list)

    def now(self) -> int:
        return int(self.clock.now().timestamp())

    def citizen(
        self,
        *,
        pseudonym: str | None = None,
        district: str = "마포구",
        birth_date: str = "1996-03-14",
        wallet: PrivateKey | None = None,
        issuer: Issuer | None = None,
        type_name: str = "ResidencyCredential",
    ) -> Person:
        """Issue a residency credential to a (new or given) wallet key."""
        key = wallet or PrivateKey.generate("ES256")
        if type_name == "ResidencyCredential":
            subject = example_subject("residency")
            subject["address"]["district"] = district  # type: ignore[index]
            subject["birthDate"] = birth_date
            subject.pop("ageOver14")
            subject.pop("ageOver19")
            subject["personPseudonym"] = pseudonym or pseudonym_value()
        else:
            subject = example_subject("income")
        token = (issuer or self.ministry).issue(type_name, subject, holder=key.public_key)
        return Person(wallet=key, credential=token, subject=subject)

    def reissue(self, person: Person, *, wallet: PrivateKey | None = None) -> Person:
        """A re-issued credential for the same person (same pseudonym), maybe a new wallet."""
        return self.citizen(
            pseudonym=str(person.subject["personPseudonym"]),
            district=str(person.subject["address"]["district"]),
            wallet=wallet or person.wallet,
        )

    def present(
        self,
        person: Person,
        voter: str,
        *,
        poll: str | None = None,
        disclose: Sequence[str] = DISCLOSE,
        aud: str | None = None,
    ) -> tuple[str, str]:
        """Return (presentation, nonce) for a registration of ``voter``."""
        challenge = self.registrar.challenge(poll or self.poll.poll_id, voter)
        shown = present(
            person.credential,
            person.wallet,
            disclose=list(disclose),
            aud=aud or challenge.aud,
            nonce=challenge.nonce,
            iat=self.now(),
        )
        return shown, challenge.nonce

    def register(
        self, person: Person, *, poll: str | None = None, voter_key: PrivateKey | None = None
    ) -> tuple[PrivateKey, Registration]:
        """Register ``person`` with a fresh (or given) voter key; return key and registration."""
        key = voter_key or PrivateKey.generate()
        voter = signer_did(key.public_key)
        poll_id = poll or self.poll.poll_id
        shown, nonce = self.present(person, voter, poll=poll_id)
        done = self.registrar.register(self.ledger, poll_id, shown, voter=voter, nonce=nonce)
        return key, done

    def open(self, poll_id: str, **overrides: Any) -> Poll:
        """Open another poll with the same rule and registrar."""
        now = self.clock.now()
        args: dict[str, Any] = {
            "poll_id": poll_id,
            "question": "Extend the night bus?",
            "options": ["yes", "no", "abstain"],
            "opens_at": now,
            "closes_at": now + timedelta(days=7),
            "rule": RULE,
            "registrar": self.registrar.did,
            "clock": self.clock,
        }
        args.update(overrides)
        return open_poll(self.ledger, self.proposer, **args)


def pseudonym_value() -> str:
    """A fresh person pseudonym: 256 random bits, unpadded base64url (schemas/residency)."""
    return b64url_encode(secrets.token_bytes(32))
