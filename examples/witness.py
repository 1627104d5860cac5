"""Witness: cosign a log's checkpoints, refuse a forked one, verify a proof offline.

Actor: a witness agency (e.g. a ward office) that vouches for the city ledger. It cosigns
the first checkpoint, then a grown one only with a consistency proof linking the two
trees; a checkpoint of a forked log (same origin and log key, other entries) is refused.
Finally anyone, offline, verifies an entry's proof bundle against the cosigned checkpoint.

Run: ``python examples/witness.py [FOLDER]`` (a temporary folder by default).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import seoul_vc
from seoul_vc.ledger.bundle import make_bundle
from seoul_vc.ledger.checkpoint import CosignerKey, WitnessPolicy
from seoul_vc.ledger.entry import sign_entry, signer_did
from seoul_vc.ledger.note import NoteSigner
from seoul_vc.ledger.witness import Witness

ORIGIN = "ledger.seoul.example/city"


# --8<-- [start:grow]
def grow(ledger: seoul_vc.Ledger, operator: seoul_vc.PrivateKey, count: int) -> None:
    """Append ``count`` authority grants signed by the operator."""
    for _ in range(count):
        body = {
            "subject": signer_did(seoul_vc.PrivateKey.generate().public_key),
            "record_types": ["credential.ResidencyCredential"],
        }
        ledger.append(sign_entry("authority.grant", body, operator, time=int(time.time())))
        # --8<-- [end:grow]


def main(folder: Path) -> None:
    """Cosign two checkpoints of one log, refuse a fork's, check a bundle offline."""
    # --8<-- [start:log]
    operator = seoul_vc.PrivateKey.generate()
    log_key = NoteSigner(ORIGIN, operator)
    ledger = seoul_vc.Ledger.open(f"sqlite:{folder / 'ledger.db'}")
    fork = seoul_vc.Ledger.open(f"sqlite:{folder / 'fork.db'}")
    # --8<-- [end:log]
    try:
        # --8<-- [start:first]
        ledger.genesis(origin=ORIGIN, operator=operator)
        grow(ledger, operator, 3)
        cosigner = CosignerKey("mapo.witness.example", seoul_vc.PrivateKey.generate("EdDSA"))
        witness = Witness(
            cosigner, logs={ORIGIN: log_key.verifier}, state_path=folder / "witness.json"
        )
        first = witness.cosign(ledger.checkpoint(log_key))
        print(f"cosigned checkpoint of size {ledger.size}")
        # --8<-- [end:first]

        # --8<-- [start:extend]
        grow(ledger, operator, 4)
        proof = ledger.prove_consistency(4)
        note = witness.cosign(ledger.checkpoint(log_key), proof)
        print(f"cosigned checkpoint of size {ledger.size} with a consistency proof from 4")
        # --8<-- [end:extend]

        # --8<-- [start:fork]
        fork.genesis(origin=ORIGIN, operator=operator)
        grow(fork, operator, 7)  # same size, other entries: another root
        try:
            witness.cosign(fork.checkpoint(log_key))
        except seoul_vc.SeoulVCError as exc:
            print(f"forked checkpoint of size {fork.size}: refused, {exc.code}")
            # --8<-- [end:fork]

        # --8<-- [start:offline]
        bundle = make_bundle(ledger, 5, note)
        policy = WitnessPolicy(witnesses=(cosigner.verifier,), threshold=1)
        entry = seoul_vc.verify_bundle(
            bundle, origin=ORIGIN, log_key=log_key.verifier, witnesses=policy
        )
        print(f"offline: entry 5 ({entry.type}) is in the cosigned tree")
        old = make_bundle(ledger, 2, first)
        seoul_vc.verify_bundle(old, origin=ORIGIN, log_key=log_key.verifier, witnesses=policy)
        print("offline: entry 2 is in the first cosigned tree too")
        # --8<-- [end:offline]
    finally:
        fork.close()
        ledger.close()


if __name__ == "__main__":
    if len(sys.argv) > 1:
        main(Path(sys.argv[1]))
    else:
        with tempfile.TemporaryDirectory() as tmp:
            main(Path(tmp))
