"""Credential benchmarks: issue, present and verify per second, beside the same run's floor.

Usage: ``python benchmarks/bench_credentials.py [--seconds 2] [--json]``

The workload is the issue's: a ResidencyCredential as ``dc+sd-jwt`` with 10 subject claims
(name, birth date, two age flags, city, district, dong, postal code, resident-since date and
person pseudonym), 8 of them selectively disclosable, presented with 4 disclosed plus a KB-JWT;
an Ed25519 issuer and a P-256 (ES256) holder.

* **floor**: the raw cost of the two signature verifications a presentation needs (the issuer
  JWS and the KB-JWT), with ``cryptography`` directly on pre-split inputs: no parsing, no
  JSON, no checks. ``verify_vs_floor`` is verifications per second over floor per second.
* **verify**: :meth:`Verifier.verify` doing every check (parse, signature, disclosures,
  validity, trust, schema, status, key binding, audience, nonce spent in the store).
* **present** reuses the parse of a credential presented before (the wallet's common case:
  every view presents the same credential); **present_cold** parses it afresh each time.
* **reference**: when the OpenWallet reference ``sd-jwt`` (PyPI, test extra) is installed, its
  issue and present rates for the same claims and keys, measured in the same run. Its
  present is measured both ways too: ``reference_present`` builds its ``SDJWTHolder`` (the
  parse) each time, ``reference_present_reused`` keeps one holder, as its API allows. Each
  ratio compares like with like: present with present_reused, present_cold with present.

Every figure is measured in interleaved slices (a slice of each in turn, several rounds, the
best slice kept), so a machine that speeds up or slows down during the run moves all of them
together rather than favouring whichever ran in its fast phase.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from seoul_vc._encoding import b64url_decode
from seoul_vc.clock import FixedClock
from seoul_vc.credentials import Issuer, TrustRegistry, Verifier, _sd_holder, present, sd_jwt
from seoul_vc.credentials.schemas import example_subject
from seoul_vc.keys import PrivateKey

DISCLOSABLE = [
    "name",
    "birthDate",
    "ageOver14",
    "ageOver19",
    "address.district",
    "address.postalCode",
    "residentSince",
    "personPseudonym",
]
DISCLOSE = ["ageOver19", "address.district", "residentSince", "personPseudonym"]
AUD = "https://housing.seoul.example"


def rate(fn: Callable[[], object], seconds: float) -> float:
    """Calls per second of ``fn`` over about ``seconds`` (one slice)."""
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        fn()
        count += 1
    return count / elapsed


def interleaved(
    fns: dict[str, Callable[[], object]], seconds: float, rounds: int = 5
) -> dict[str, float]:
    """The best slice rate of each of ``fns``, slices taken in turn over ``rounds`` rounds."""
    for fn in fns.values():
        fn()  # warm up: imports, caches of the key and the schema
    best = dict.fromkeys(fns, 0.0)
    for _ in range(rounds):
        for name, fn in fns.items():
            best[name] = max(best[name], rate(fn, seconds / rounds))
    return best


def run(seconds: float) -> dict[str, float]:
    """Measure everything; return the figures."""
    clock = FixedClock(datetime.now(UTC).replace(microsecond=0))
    issuer_key, holder_key = PrivateKey.generate(), PrivateKey.generate("ES256")
    issuer = Issuer(issuer_key, clock=clock)
    subject = example_subject("residency")

    def issue() -> str:
        return issuer.issue(
            "ResidencyCredential", subject, holder=holder_key.public_key, disclosable=DISCLOSABLE
        )

    credential = issue()
    iat = int(clock.now().timestamp())

    def show(nonce: str = "n") -> str:
        return present(credential, holder_key, disclose=DISCLOSE, aud=AUD, nonce=nonce, iat=iat)

    trust = TrustRegistry.from_json(
        {"issuers": [{"id": issuer.did, "types": ["ResidencyCredential"]}]}
    )
    verifier = Verifier(trust=trust, clock=clock)
    # Each verification spends a fresh nonce, as a real verifier would: enough presentations
    # for the fastest rate seen here, several times over.
    batch = [(n, show(n)) for n in (verifier.new_nonce() for _ in range(int(seconds * 8000)))]
    queue = iter(batch)

    def verify() -> None:
        nonce, token = next(queue)
        verifier.verify(token, aud=AUD, nonce=nonce)

    def show_cold() -> str:
        # A holder presenting a credential for the first time: no parse reused.
        _sd_holder._held.cache_clear()
        return show()

    fns: dict[str, Callable[[], object]] = {
        "issue_per_s": issue,
        "present_per_s": show,
        "present_cold_per_s": show_cold,
        "verify_per_s": verify,
        "floor_two_signature_verifications_per_s": _floor(show(), issuer_key),
    }
    fns.update(_reference(issuer_key, holder_key, subject))
    out = interleaved(fns, seconds)
    out["verify_vs_floor"] = out["verify_per_s"] / out["floor_two_signature_verifications_per_s"]
    if "reference_issue_per_s" in out:
        out["issue_vs_reference"] = out["issue_per_s"] / out["reference_issue_per_s"]
        out["present_vs_reference"] = out["present_per_s"] / out["reference_present_reused_per_s"]
        out["present_cold_vs_reference"] = (
            out["present_cold_per_s"] / out["reference_present_per_s"]
        )
    return out


def _floor(token: str, issuer_key: PrivateKey) -> Callable[[], object]:
    """The two raw signature verifications of ``token``: Ed25519 issuer, ES256 KB-JWT."""
    parts = sd_jwt.split(token)
    issuer_jwt = parts.issuer_jwt.rsplit(".", 1)
    kb_jwt = (parts.kb_jwt or "").rsplit(".", 1)
    payload = json.loads(b64url_decode(issuer_jwt[0].split(".")[1]))
    holder = ec.EllipticCurvePublicNumbers(
        int.from_bytes(b64url_decode(payload["cnf"]["jwk"]["x"]), "big"),
        int.from_bytes(b64url_decode(payload["cnf"]["jwk"]["y"]), "big"),
        ec.SECP256R1(),
    ).public_key()
    raw = b64url_decode(kb_jwt[1])
    kb_sig = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    kb_input = kb_jwt[0].encode()
    issuer_sig, issuer_input = b64url_decode(issuer_jwt[1]), issuer_jwt[0].encode()
    issuer_pub = Ed25519PublicKey.from_public_bytes(
        b64url_decode(issuer_key.public_key.to_jwk()["x"])
    )
    return lambda: (
        issuer_pub.verify(issuer_sig, issuer_input),
        holder.verify(kb_sig, kb_input, ec.ECDSA(hashes.SHA256())),
    )


def _reference(
    issuer_key: PrivateKey, holder_key: PrivateKey, subject: dict[str, Any]
) -> dict[str, Callable[[], object]]:
    try:
        from jwcrypto.jwk import JWK
        from sd_jwt.common import SDObj
        from sd_jwt.holder import SDJWTHolder
        from sd_jwt.issuer import SDJWTIssuer
    except ImportError:
        return {}
    issuer_jwk, holder_jwk = JWK(**issuer_key.private_jwk()), JWK(**holder_key.private_jwk())
    address = {
        "city": subject["address"]["city"],
        SDObj("district"): subject["address"]["district"],
        "dong": subject["address"]["dong"],
        SDObj("postalCode"): subject["address"]["postalCode"],
    }
    claims: dict[Any, Any] = {
        "iss": "did:example:mois",
        "vct": "https://schemas.seoul-vc.example/credentials/residency/v1",
        **{SDObj(k): subject[k] for k in DISCLOSABLE if "." not in k},
        "address": address,
    }

    def issue() -> str:
        return str(
            SDJWTIssuer(claims, issuer_jwk, holder_key=holder_jwk, sign_alg="EdDSA").sd_jwt_issuance
        )

    issuance = issue()
    frame = {
        "ageOver19": True,
        "address": {"district": True},
        "residentSince": True,
        "personPseudonym": True,
    }

    def show(holder: SDJWTHolder | None = None) -> str:
        holder = holder or SDJWTHolder(issuance)
        holder.create_presentation(
            frame, nonce="n", aud=AUD, holder_key=holder_jwk, sign_alg="ES256"
        )
        return str(holder.sd_jwt_presentation)

    kept = SDJWTHolder(issuance)
    return {
        "reference_issue_per_s": issue,
        "reference_present_per_s": show,
        "reference_present_reused_per_s": lambda: show(kept),
    }


def main() -> None:
    """Run and print the figures (a table, or JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    figures = run(args.seconds)
    report = {
        "machine": platform.machine(),
        "python": platform.python_version(),
        "results": figures,
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"Credential benchmark (ResidencyCredential dc+sd-jwt), Python {report['python']}")
    for name, value in figures.items():
        print(f"  {name:<42} {value:>12.2f}")


if __name__ == "__main__":
    main()
