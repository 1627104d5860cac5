"""Poll proposer and observer: open a district poll, one person one vote, tally, close.

Actors: the district office proposes a poll with an eligibility rule over residency claims;
the city registrar registers a citizen who presents her residency credential for a fresh
poll-scoped voter key (the ledger records a nullifier, not her name); she votes; a second
ballot and a second registration of the same person are refused. An observer recounts the
poll from the log alone, and the proposer closes it.

Run: ``python examples/poll.py [FOLDER]`` (a temporary folder by default).
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
from seoul_vc.ledger.entry import signer_did
from seoul_vc.voting import Registrar, cast, close, open_poll, recount, tally

POLL = "mapo-night-bus-2026"
RULE = {"claim": "address.district", "in": ["마포구", "서대문구"]}


def main(folder: Path) -> None:
    """Run one poll on a SQLite ledger in ``folder``."""
    # --8<-- [start:keys]
    operator, proposer, registrar_key = (seoul_vc.PrivateKey.generate() for _ in range(3))
    ministry = seoul_vc.Issuer(seoul_vc.PrivateKey.generate())
    trust = seoul_vc.TrustRegistry.from_json(
        {"issuers": [{"id": ministry.did, "types": ["ResidencyCredential"]}]}
    )
    ledger = seoul_vc.Ledger.open(f"sqlite:{folder / 'ledger.db'}")
    # --8<-- [end:keys]
    try:
        # --8<-- [start:genesis]
        ledger.genesis(
            origin="vote.seoul.example/mapo",
            operator=operator,
            grants={
                signer_did(proposer.public_key): ["voting.open"],
                signer_did(registrar_key.public_key): ["voting.register"],
            },
        )
        # --8<-- [end:genesis]
        # --8<-- [start:registrar]
        registrar = Registrar(
            registrar_key,
            nullifier_secret=secrets.token_bytes(32),
            verifier=seoul_vc.Verifier(trust=trust),
        )
        # --8<-- [end:registrar]
        # --8<-- [start:open]
        now = datetime.now(UTC)
        poll = open_poll(
            ledger,
            proposer,
            poll_id=POLL,
            question="Extend the Mapo night bus?",
            options=["yes", "no"],
            opens_at=now - timedelta(minutes=1),
            closes_at=now + timedelta(days=7),
            rule=RULE,
            registrar=registrar.did,
        )
        print(f"proposer opened {poll.poll_id!r}: {poll.question} {list(poll.options)}")
        # --8<-- [end:open]

        # --8<-- [start:register]
        phone = seoul_vc.PrivateKey.generate("ES256")  # the citizen's wallet key
        residency = ministry.issue(
            "ResidencyCredential", example_subject("residency"), holder=phone.public_key
        )

        def register(voter_key: seoul_vc.PrivateKey) -> None:
            voter = signer_did(voter_key.public_key)
            challenge = registrar.challenge(POLL, voter)
            shown = seoul_vc.present(
                residency,
                phone,
                disclose=["address.district", "personPseudonym"],
                aud=challenge.aud,
                nonce=challenge.nonce,
                iat=int(time.time()),
            )
            registrar.register(ledger, POLL, shown, voter=voter, nonce=challenge.nonce)

        voter_key = seoul_vc.PrivateKey.generate()
        register(voter_key)
        print("citizen registered with a fresh voter key")
        # --8<-- [end:register]
        # --8<-- [start:cast]
        receipt = cast(ledger, voter_key, POLL, "yes")
        print(f"ballot cast: 'yes' at ledger index {receipt.index}")
        for what, attempt in (
            ("second ballot", lambda: cast(ledger, voter_key, POLL, "no")),
            ("second registration", lambda: register(seoul_vc.PrivateKey.generate())),
        ):
            try:
                attempt()
            except seoul_vc.SeoulVCError as exc:
                print(f"{what}: refused, {exc.code}")
                # --8<-- [end:cast]

        # --8<-- [start:observe]
        observed = recount(ledger, POLL)  # the observer: from the log alone
        print(f"observer's recount: {dict(zip(observed.options, observed.counts, strict=True))}")
        final = close(ledger, proposer, POLL)
        live = tally(ledger, POLL)
        agrees = live.counts == observed.counts
        print(f"closed: {final.ballots} ballot(s); live tally agrees: {agrees}")
        # --8<-- [end:observe]
    finally:
        ledger.close()


if __name__ == "__main__":
    if len(sys.argv) > 1:
        main(Path(sys.argv[1]))
    else:
        with tempfile.TemporaryDirectory() as tmp:
            main(Path(tmp))
