"""Mileage test helpers: :class:`Town`, the actors of the ``town`` fixture."""

from __future__ import annotations

from dataclasses import dataclass

from seoul_vc import FixedClock, Ledger, PrivateKey
from seoul_vc.ledger.entry import signer_did
from seoul_vc.mileage import MileageAccounts


@dataclass
class Town:
    ledger: Ledger
    accounts: MileageAccounts
    clock: FixedClock
    office: PrivateKey
    eco: PrivateKey
    health: PrivateKey
    alice: PrivateKey
    bob: PrivateKey

    def did(self, key: PrivateKey) -> str:
        return signer_did(key.public_key)

    def now(self) -> int:
        return int(self.clock.now().timestamp())
