"""Receiving agency: a signed request, and a consented presentation verified with its receipt.

Actor: a district youth-housing office (the verifier). It signs an OpenID4VP request for two
residency claims; the citizen's wallet (set up here so the script runs alone) consents to one
view and answers. The office verifies the presentation — issuer trust, holder binding, its
own nonce — and the view receipt: the ledger's proof that this view was recorded, within
the consent's budget, before anything was disclosed. A replayed answer is refused.

Run: ``python examples/receiving_agency.py [FOLDER]`` (a temporary folder by default).
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import seoul_vc
from seoul_vc.credentials.schemas import example_subject
from seoul_vc.credentials.types import credential_type
from seoul_vc.ledger.checkpoint import WitnessPolicy
from seoul_vc.ledger.entry import signer_did
from seoul_vc.ledger.note import NoteSigner
from seoul_vc.wallet import (
    CredentialQuery,
    LocalMasterKey,
    WalletService,
    check_consented_presentation,
    create_request,
)
from seoul_vc.wallet.request import CLIENT_ID_PREFIX

ORIGIN = "ledger.seoul.example/housing"
PIN = "482913"


def main(folder: Path) -> None:
    """Sign a request, receive a consented view and check it with its ledger receipt."""
    # --8<-- [start:city]
    # The city's side: the ministry's trust entry, the ledger and the citizen's wallet.
    ministry = seoul_vc.Issuer(seoul_vc.PrivateKey.generate())
    trust = seoul_vc.TrustRegistry.from_json(
        {"issuers": [{"id": ministry.did, "types": ["ResidencyCredential"]}]}
    )
    ledger = seoul_vc.Ledger.open(f"sqlite:{folder / 'ledger.db'}")
    ledger.genesis(origin=ORIGIN, operator=seoul_vc.PrivateKey.generate())
    log = NoteSigner(ORIGIN, seoul_vc.PrivateKey.generate())
    service = WalletService(
        f"sqlite:{folder / 'wallet.db'}",
        ledger=ledger,
        master_key=LocalMasterKey.generate(),
        trust=trust,
        log_signer=log,
    )
    # --8<-- [end:city]
    try:
        # --8<-- [start:wallet]
        wallet = service.create(PIN)
        residency = example_subject("residency")
        holder = wallet.holder_public_key
        wallet.receive(ministry.issue("ResidencyCredential", residency, holder=holder))
        # --8<-- [end:wallet]

        # --8<-- [start:office]
        # The housing office: its key, its DID and a verifier that trusts the ministry.
        office_key = seoul_vc.PrivateKey.generate("EdDSA")
        office_did = signer_did(office_key.public_key)
        office = seoul_vc.Verifier(trust=trust)
        query = CredentialQuery(
            id="residency",
            vct_values=(credential_type("ResidencyCredential").vct,),
            claims=(("address", "district"), ("ageOver19",)),
        )

        def request() -> tuple[str, str]:
            nonce, now, purpose = office.new_nonce(), int(time.time()), "Youth housing"
            return create_request(
                office_key, nonce=nonce, purpose=purpose, credentials=(query,), iat=now
            ), nonce
            # --8<-- [end:office]

        # --8<-- [start:consent]
        token, _ = request()
        print(f"housing office {office_did[:32]}... signed a request ({len(token)} bytes)")
        expires = datetime.now(UTC) + timedelta(days=7)
        consent = wallet.grant(PIN, token, max_views=1, expires_at=expires).consent_id
        print(f"citizen consented: one view, consent {consent[:12]}...")
        # --8<-- [end:consent]

        # --8<-- [start:check]
        token, nonce = request()
        shown = wallet.view(consent, token)
        for attempt in ("checked", "replayed"):  # the second time, the nonce is spent
            try:
                checked = check_consented_presentation(
                    shown.vp_token,
                    shown.receipt,
                    verifier=office,
                    verifier_did=office_did,
                    client_id=CLIENT_ID_PREFIX + office_did,
                    nonce=nonce,
                    origin=ORIGIN,
                    log_key=log.verifier,
                    witnesses=WitnessPolicy.unwitnessed(),
                )
            except seoul_vc.SeoulVCError as exc:
                print(f"the same answer {attempt}: refused, {exc.code}")
                continue
            print(f"verified claims: {checked.claims['residency']}")
            print(
                f"view receipt: view {checked.view.view} of {checked.view.max_views}, on the ledger"
            )
            # --8<-- [end:check]
    finally:
        service.close()
        ledger.close()


if __name__ == "__main__":
    if len(sys.argv) > 1:
        main(Path(sys.argv[1]))
    else:
        with tempfile.TemporaryDirectory() as tmp:
            main(Path(tmp))
