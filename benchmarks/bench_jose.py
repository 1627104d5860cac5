"""Compact JWS sign/verify rate beside the raw ``cryptography`` floor of the same run.

Usage: ``python benchmarks/bench_jose.py [--seconds 1.0] [--json]``

For each algorithm it measures, on the same payload and key:
- raw: ``cryptography`` sign / verify of the signing input (the floor we cannot beat);
- ours: ``seoul_vc.jose.sign_compact`` / ``verify_compact`` (strict parse, header checks,
  alg/key fit, typ, signature);
- jwcrypto: ``jwcrypto.jws.JWS`` deserialize + verify, for reference (if installed).
Goal (issue 2): our verify >= 70% of the raw verify rate.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from collections.abc import Callable

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from seoul_vc.jose import sign_compact, verify_compact
from seoul_vc.keys import PrivateKey

PAYLOAD = json.dumps(
    {
        "iss": "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp",
        "sub": "did:jwk:eyJjcnYiOiJQLTI1NiIsImt0eSI6IkVDIn0",
        "iat": 1767225600,
        "exp": 1798761600,
        "vc": {"type": ["VerifiableCredential", "ResidencyCredential"], "district": "Mapo-gu"},
    }
).encode()


def _batch(fn: Callable[[], object], budget: float) -> int:
    """Return a call count whose loop takes about ``budget`` seconds."""
    n = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        if time.perf_counter() - t0 > budget:
            return n
        n *= 2


def measure(fns: dict[str, Callable[[], object]], seconds: float) -> dict[str, float]:
    """Return calls per second of each function, best of five interleaved rounds.

    Rounds alternate between the functions so that the raw floor and our code see the same
    machine conditions (frequency scaling, neighbours) within one run.
    """
    rounds = 5
    batches = {name: _batch(fn, seconds / rounds / 4) for name, fn in fns.items()}
    best = dict.fromkeys(fns, 0.0)
    for _ in range(rounds):
        for name, fn in fns.items():
            n = batches[name]
            t0 = time.perf_counter()
            for _ in range(n):
                fn()
            best[name] = max(best[name], n / (time.perf_counter() - t0))
    return best


def bench(alg: str, seconds: float) -> dict[str, float]:
    """Measure one algorithm; returns rates in operations per second."""
    key = PrivateKey.generate(alg)
    public = key.public_key
    token = sign_compact(PAYLOAD, key, typ="JWT")
    signing_input = token.rsplit(".", 1)[0].encode()
    raw_private = key._key
    raw_public = public._key
    raw_sig = key.sign(signing_input)
    if alg == "EdDSA":

        def raw_sign() -> object:
            return raw_private.sign(signing_input)  # type: ignore[call-arg]

        def raw_verify() -> object:
            raw_public.verify(raw_sig, signing_input)  # type: ignore[call-arg]
            return None
    else:
        der = encode_dss_signature(int.from_bytes(raw_sig[:32]), int.from_bytes(raw_sig[32:]))
        ecdsa = ec.ECDSA(hashes.SHA256())

        def raw_sign() -> object:
            return raw_private.sign(signing_input, ecdsa)  # type: ignore[call-arg]

        def raw_verify() -> object:
            raw_public.verify(der, signing_input, ecdsa)  # type: ignore[call-arg]
            return None

    fns: dict[str, Callable[[], object]] = {
        "raw_sign": raw_sign,
        "raw_verify": raw_verify,
        "sign": lambda: sign_compact(PAYLOAD, key, typ="JWT"),
        "verify": lambda: verify_compact(token, public, typ="JWT"),
    }
    try:
        from jwcrypto import jwk, jws

        jkey = jwk.JWK(**public.to_jwk())

        def jwcrypto_verify() -> object:
            obj = jws.JWS()
            obj.deserialize(token)
            obj.verify(jkey)
            return None

        fns["jwcrypto_verify"] = jwcrypto_verify
    except ImportError:
        pass
    result = measure(fns, seconds)
    return result


def main() -> None:
    """Run the benchmark and print a table (or JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.5, help="time per measurement")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args()
    report = {
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "python": platform.python_version(),
        "results": {alg: bench(alg, args.seconds) for alg in ("EdDSA", "ES256")},
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"JWS benchmark on {report['machine']}, Python {report['python']}")
    print(f"{'alg':<6} {'op':<7} {'raw/s':>10} {'ours/s':>10} {'ratio':>6} {'jwcrypto/s':>11}")
    for alg, r in report["results"].items():
        print(
            f"{alg:<6} {'sign':<7} {r['raw_sign']:>10.0f} {r['sign']:>10.0f} "
            f"{r['sign'] / r['raw_sign']:>6.2f}"
        )
        jwc = r.get("jwcrypto_verify")
        jwc_text = f"{jwc:>11.0f}" if jwc else ""
        print(
            f"{alg:<6} {'verify':<7} {r['raw_verify']:>10.0f} {r['verify']:>10.0f} "
            f"{r['verify'] / r['raw_verify']:>6.2f} {jwc_text}"
        )
    worst = min(r["verify"] / r["raw_verify"] for r in report["results"].values())
    print(f"goal: verify >= 0.70 x raw; worst ratio this run: {worst:.2f}")


if __name__ == "__main__":
    main()
