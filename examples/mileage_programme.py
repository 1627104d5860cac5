"""Mileage programme: accrue eco points, convert to S-Coin, spend, settle, replay balances.

Actors: the city's mileage office registers the eco programme (1:1 to S-Coin) and the
T-money merchant; the eco programme's authority accrues points to a citizen's pseudonymous
account; the citizen signs her own conversion and spend (a retried spend applies once, an
overspend is refused); the office settles the merchant's period. Balances are derived state:
replaying the log gives the same figures.

Run: ``python examples/mileage_programme.py [FOLDER]`` (a temporary folder by default).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import seoul_vc
from seoul_vc.ledger.entry import signer_did
from seoul_vc.mileage import MileageAccounts


def main(folder: Path) -> None:
    """Run one month of eco mileage on a SQLite ledger in ``folder``."""
    # --8<-- [start:keys]
    operator, office, eco = (seoul_vc.PrivateKey.generate() for _ in range(3))
    citizen = seoul_vc.PrivateKey.generate("ES256")  # held by her wallet
    account = signer_did(citizen.public_key)
    ledger = seoul_vc.Ledger.open(f"sqlite:{folder / 'ledger.db'}")
    # --8<-- [end:keys]
    try:
        # --8<-- [start:genesis]
        ledger.genesis(
            origin="mileage.seoul.example/eco",
            operator=operator,
            grants={
                signer_did(office.public_key): [
                    "mileage.programme",
                    "mileage.merchant",
                    "mileage.settle",
                ],
                signer_did(eco.public_key): ["mileage.accrue"],
            },
        )
        # --8<-- [end:genesis]
        # --8<-- [start:register]
        accounts = MileageAccounts(ledger)
        accounts.register_programme(office, "eco", authority=signer_did(eco.public_key))
        accounts.register_merchant(office, "tmoney", kind="transit")
        print("office registered programme 'eco' (1:1) and merchant 'tmoney' (transit)")
        # --8<-- [end:register]

        # --8<-- [start:accrue]
        accounts.accrue(eco, programme="eco", account=account, amount=500, idempotency_key="e-1")
        print(f"eco authority accrued 500 points to {account[:28]}...")
        accounts.convert(citizen, programme="eco", points=300, idempotency_key="c-1")
        print("citizen converted 300 points to 300 S-Coin")
        # --8<-- [end:accrue]
        # --8<-- [start:spend]
        accounts.spend(citizen, merchant="tmoney", amount=120, idempotency_key="s-1")
        retry = accounts.spend(citizen, merchant="tmoney", amount=120, idempotency_key="s-1")
        print(f"citizen spent 120 S-Coin on T-money (a retry is a duplicate: {retry.duplicate})")
        try:
            accounts.spend(citizen, merchant="tmoney", amount=1_000, idempotency_key="s-2")
        except seoul_vc.SeoulVCError as exc:
            print(f"overspend of 1,000: refused, {exc.code}")
            # --8<-- [end:spend]

        # --8<-- [start:settle]
        settled = accounts.settle(
            office, merchant="tmoney", period="2026-11", idempotency_key="p-1"
        )
        total = f"{settled.amount} S-Coin over {settled.spends} spend(s)"
        print(f"office settled T-money for {settled.period}: {total}")
        # --8<-- [end:settle]

        # --8<-- [start:replay]
        live = accounts.balance(account)
        replayed = ledger.rebuild()
        again = accounts.balance(account)
        print(f"balance: {live.coins} S-Coin, points {live.points}")
        print(f"replayed {replayed} entries: same balance: {again == live}")
        # --8<-- [end:replay]
    finally:
        ledger.close()


if __name__ == "__main__":
    if len(sys.argv) > 1:
        main(Path(sys.argv[1]))
    else:
        with tempfile.TemporaryDirectory() as tmp:
            main(Path(tmp))
