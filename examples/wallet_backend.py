"""Wallet backend: one service, a citizen's wallet; receive, consent, view, history, withdraw.

Actor: the Seoul Citizen Card wallet backend. It keeps many citizens' wallets in one store,
credentials and holder keys encrypted under per-wallet keys wrapped by a master key. The
script creates a wallet behind a PIN, receives a residency credential, shows the citizen a
verifier's request, records her consent (a budget of 2 views of 2 of the 4 claims asked),
serves a view, lists her history (never claim values) and refuses a view once she withdraws.

Run: ``python examples/wallet_backend.py [FOLDER]`` (a temporary folder by default).
"""

from __future__ import annotations

import secrets
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import seoul_vc
from seoul_vc.credentials.schemas import example_subject
from seoul_vc.credentials.types import credential_type
from seoul_vc.ledger.note import NoteSigner
from seoul_vc.wallet import CredentialQuery, LocalMasterKey, WalletService, create_request

ORIGIN = "ledger.seoul.example/wallet"
PIN = "482913"


def main(folder: Path) -> None:
    """Run a citizen's wallet through its whole life on SQLite files in ``folder``."""
    # --8<-- [start:service]
    ministry = seoul_vc.Issuer(seoul_vc.PrivateKey.generate())
    trust = seoul_vc.TrustRegistry.from_json(
        {"issuers": [{"id": ministry.did, "types": ["ResidencyCredential"]}]}
    )
    ledger = seoul_vc.Ledger.open(f"sqlite:{folder / 'ledger.db'}")
    ledger.genesis(origin=ORIGIN, operator=seoul_vc.PrivateKey.generate())
    master = LocalMasterKey.generate()  # in production: a KMS-held key
    service = WalletService(
        f"sqlite:{folder / 'wallet.db'}",
        ledger=ledger,
        master_key=master,
        trust=trust,
        log_signer=NoteSigner(ORIGIN, seoul_vc.PrivateKey.generate()),
    )
    # --8<-- [end:service]
    try:
        # --8<-- [start:receive]
        wallet = service.create(PIN)
        print(f"wallet created; holder {wallet.holder_did[:36]}...")
        token = ministry.issue(
            "ResidencyCredential", example_subject("residency"), holder=wallet.holder_public_key
        )
        held = wallet.receive(token)
        print(f"received {held.type} from {held.issuer[:28]}... (checked, stored encrypted)")
        # --8<-- [end:receive]

        # --8<-- [start:request]
        verifier_key = seoul_vc.PrivateKey.generate("EdDSA")
        query = CredentialQuery(
            id="residency",
            vct_values=(credential_type("ResidencyCredential").vct,),
            claims=(("address", "district"), ("ageOver19",), ("name",), ("birthDate",)),
        )

        def request() -> str:
            return create_request(
                verifier_key,
                nonce=secrets.token_urlsafe(16),  # the verifier's single-use nonce
                purpose="Youth housing: residency in Seoul",
                credentials=(query,),
                iat=int(time.time()),
            )

        asked = service.open_request(request())
        paths = [".".join(map(str, p)) for q in asked.credentials for p in q.claims]
        print(f"request shown to the citizen: {asked.purpose!r} asks {', '.join(paths)}")
        # --8<-- [end:request]
        # --8<-- [start:grant]
        grant = wallet.grant(
            PIN,
            request(),
            claims={"residency": ["address.district", "ageOver19"]},
            max_views=2,
            expires_at=datetime.now(UTC) + timedelta(days=30),
        )
        print("citizen consented to address.district and ageOver19, 2 views")
        # --8<-- [end:grant]

        # --8<-- [start:view]
        shown = wallet.view(grant.consent_id, request())
        where = f"receipt: ledger entry {shown.receipt.view.index}"
        print(f"view {shown.view} of {shown.max_views} served, {where}")
        wallet.withdraw(PIN, grant.consent_id)
        try:
            wallet.view(grant.consent_id, request())
        except seoul_vc.SeoulVCError as exc:
            print(f"view after withdrawal: refused, {exc.code}")
            # --8<-- [end:view]

        # --8<-- [start:history]
        for event in wallet.history(PIN):
            print(f"  history {event.seq}: {event.kind} {event.details.get('reason', '')}")
            # --8<-- [end:history]
    finally:
        service.close()
        ledger.close()


if __name__ == "__main__":
    if len(sys.argv) > 1:
        main(Path(sys.argv[1]))
    else:
        with tempfile.TemporaryDirectory() as tmp:
            main(Path(tmp))
