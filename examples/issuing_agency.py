"""Issuing agency: issue residency and income credentials with status entries, publish status.

Actor: the Ministry of the Interior as an issuing agency. It keeps its signing key in a file,
allocates a random entry of a 131,072-entry status list for each credential, issues both as
SD-JWT VCs bound to the citizen's wallet key, and publishes the signed status list to a
folder a web server would serve. A verifier then accepts a presentation of the income
credential, and refuses it once the agency has revoked it and published the change.

Run: ``python examples/issuing_agency.py [FOLDER]`` (a temporary folder by default).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import seoul_vc
from seoul_vc.credentials.schemas import example_subject
from seoul_vc.status import DirectorySource, StatusChecker, StatusRegistry

STATUS_BASE = "https://status.mois.example/lists"


# --8<-- [start:verifier]
def verify_income(
    folder: Path, issuer: seoul_vc.Issuer, token: str, wallet: seoul_vc.PrivateKey
) -> None:
    """A verifier with a fresh status checker asks the citizen to show the income bracket."""
    trust = seoul_vc.TrustRegistry.from_json(
        {"issuers": [{"id": issuer.did, "types": ["ResidencyCredential", "IncomeCredential"]}]}
    )
    status = StatusChecker(source=DirectorySource(folder / "status", base_url=STATUS_BASE))
    verifier = seoul_vc.Verifier(trust=trust, status=status)
    nonce = verifier.new_nonce()
    shown = seoul_vc.present(
        token, wallet, disclose=["incomeBracketPercent"], aud="did:web:housing.example", nonce=nonce
    )
    report = verifier.check(shown, aud="did:web:housing.example", nonce=nonce)
    outcome = "accepted" if report.ok else f"refused: {report.error.code if report.error else '?'}"
    print(f"  verifier: income credential {outcome} {report.claims or ''}")
    # --8<-- [end:verifier]


def main(folder: Path) -> None:
    """Set up the agency, issue two credentials with status entries, publish, revoke one."""
    # --8<-- [start:setup]
    key_file = folder / "mois.jwk"
    seoul_vc.PrivateKey.generate("EdDSA").save(key_file)
    issuer = seoul_vc.Issuer(seoul_vc.PrivateKey.load(key_file))
    print(f"issuing agency {issuer.did[:40]}...")
    # --8<-- [end:setup]

    # --8<-- [start:registry]
    registry = StatusRegistry(f"sqlite:{folder / 'status.db'}", issuer=issuer, base_url=STATUS_BASE)
    # --8<-- [end:registry]
    try:
        # --8<-- [start:issue]
        residency_slot, income_slot = registry.allocate_many("dc+sd-jwt", 2)
        wallet = seoul_vc.PrivateKey.generate("ES256")  # the citizen's wallet key
        residency = issuer.issue(
            "ResidencyCredential",
            example_subject("residency"),
            holder=wallet.public_key,
            status=residency_slot.status_claim(),
        )
        income = issuer.issue(
            "IncomeCredential",
            example_subject("income"),
            holder=wallet.public_key,
            status=income_slot.status_claim(),
        )
        print(f"issued ResidencyCredential ({len(residency)} bytes), status {residency_slot.index}")
        print(f"issued IncomeCredential ({len(income)} bytes), status {income_slot.index}")
        # --8<-- [end:issue]

        # --8<-- [start:publish]
        written = registry.write_to(folder / "status", registry.publish(everything=True))
        print(f"published {len(written)} status list file(s) under {folder / 'status'}")
        verify_income(folder, issuer, income, wallet)
        # --8<-- [end:publish]

        # --8<-- [start:revoke]
        registry.revoke(income_slot)
        registry.write_to(folder / "status", registry.publish())
        print(f"revoked the income credential (list value {registry.status_of(income_slot).name})")
        verify_income(folder, issuer, income, wallet)
        # --8<-- [end:revoke]
    finally:
        registry.close()


if __name__ == "__main__":
    if len(sys.argv) > 1:
        main(Path(sys.argv[1]))
    else:
        with tempfile.TemporaryDirectory() as tmp:
            main(Path(tmp))
