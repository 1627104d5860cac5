"""An issuing agency sets up its signing key and DID; a receiving agency checks a signature.

Run: ``python examples/agency_keys_and_dids.py [FOLDER]`` (a temporary folder by default).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import seoul_vc
from seoul_vc.jose import decode_jwt, encode_jwt


def main(folder: Path) -> None:
    """Create the agency key file, publish its did:key, sign and verify a statement."""
    # --8<-- [start:key]
    key_file = folder / "ministry-of-the-interior.jwk"
    key = seoul_vc.PrivateKey.generate("EdDSA")
    key.save(key_file)  # mode 0600, never overwritten
    did = seoul_vc.did_key(key.public_key)
    kid = f"{did}#{did.removeprefix('did:key:')}"
    print(f"agency DID: {did}")
    # --8<-- [end:key]

    # --8<-- [start:sign]
    # The agency signs with the key loaded back from its file.
    signer = seoul_vc.PrivateKey.load(key_file)
    token = encode_jwt({"iss": did, "notice": "resident records online"}, signer, kid=kid)
    # --8<-- [end:sign]

    # --8<-- [start:resolve]
    # The receiving agency trusts nothing in the token: the key comes from the DID.
    method = seoul_vc.resolve_verification_method(kid)
    claims = decode_jwt(token, method.public_key).claims
    print(f"verified notice from {claims['iss'][:24]}...: {claims['notice']}")
    # --8<-- [end:resolve]

    # --8<-- [start:tampered]
    # A tampered token is refused with a stable code.
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    try:
        decode_jwt(tampered, method.public_key)
    except seoul_vc.SeoulVCError as exc:
        print(f"tampered token refused: {exc.code}")
        # --8<-- [end:tampered]


if __name__ == "__main__":
    if len(sys.argv) > 1:
        main(Path(sys.argv[1]))
    else:
        with tempfile.TemporaryDirectory() as tmp:
            main(Path(tmp))
