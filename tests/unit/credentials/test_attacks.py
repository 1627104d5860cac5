"""Crafted attacks on credential verification: each is refused by Verifier.check with its code.

Every case builds a presentation that differs from a valid one in one flaw only (the KB-JWT is
re-signed over whatever is sent, so it never masks the flaw under test) and names the spec
section it rests on. ``Verifier.check`` must return a report, never raise. Cases marked
``xfail(strict=True)`` are library bugs, kept visible until fixed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import pytest
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from hypothesis import given, settings
from hypothesis import strategies as st

from seoul_vc._encoding import b64url_decode, b64url_encode
from seoul_vc.clock import FixedClock
from seoul_vc.credentials import (
    Issuer,
    TrustRegistry,
    VerificationReport,
    Verifier,
    present,
    sd_jwt,
)
from seoul_vc.credentials.issuer import V2_CONTEXT, did_of, kid_of
from seoul_vc.credentials.schemas import example_subject
from seoul_vc.credentials.types import CREDENTIAL_TYPES, credential_type
from seoul_vc.credentials.verify import CHECKS
from seoul_vc.errors import FAMILY_OF, Code, SeoulVCError
from seoul_vc.keys import PrivateKey
from seoul_vc.limits import Limits

AUD = "https://welfare.seoul.example"
T0 = datetime(2026, 1, 1, tzinfo=UTC)
YEAR = 365 * 24 * 3600
INCOME = credential_type("IncomeCredential")
ALL_TYPES = sorted(CREDENTIAL_TYPES)
B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
ED25519_L = 2**252 + 27742317777372353535851937790883648493
DROP: Any = object()  # an override value that removes the member


class Built(NamedTuple):
    """What a case hands to the verifier."""

    token: str | bytes
    kwargs: dict[str, str]
    verifier: Verifier


# -- crafting -----------------------------------------------------------------------------------


def _text(value: Mapping[str, Any] | Sequence[Any] | str | bytes) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    return json.dumps(value, separators=(",", ":")).encode("utf-8")


def compact(
    header: Mapping[str, Any] | str,
    payload: Mapping[str, Any] | Sequence[Any] | str | bytes,
    key: PrivateKey | None = None,
    *,
    sign: Callable[[bytes], bytes] | None = None,
) -> str:
    """Hand-assemble a compact JWS over exactly these header and payload texts."""
    signing_input = f"{b64url_encode(_text(header))}.{b64url_encode(_text(payload))}"
    if sign is None:
        assert key is not None
        sign = key.sign
    return f"{signing_input}.{b64url_encode(sign(signing_input.encode('ascii')))}"


def disclosure(*elements: Any) -> str:
    """Encode a disclosure array as sent (RFC 9901 §4.2.1)."""
    return b64url_encode(_text(list(elements)))


def digest(encoded: str) -> str:
    """The digest of a disclosure as sent (RFC 9901 §4.2.3)."""
    return sd_jwt.sd_hash(encoded)


def join(jwt: str, disclosures: Sequence[str]) -> str:
    """``<jwt>~<d1>~...~``: an SD-JWT without Key Binding."""
    return jwt + "~" + "".join(f"{d}~" for d in disclosures)


def nested(levels: int) -> Any:
    """An array nested ``levels`` deep."""
    value: Any = []
    for _ in range(levels - 1):
        value = [value]
    return value


def override(base: dict[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """Apply ``changes`` to a copy of ``base``; ``DROP`` removes a member."""
    out = dict(base)
    for name, value in changes.items():
        if value is DROP:
            out.pop(name, None)
        else:
            out[name] = value
    return out


def signed_part(token: str) -> str:
    """Everything up to and including the last ``~``."""
    return token[: token.rfind("~") + 1]


def swap_disclosures(token: str) -> str:
    """Swap the first two disclosures of an SD-JWT (keeping the rest as sent)."""
    jwt, first, second, *rest = token.split("~")
    return "~".join([jwt, second, first, *rest])


class World:
    """Keys, an issuer, a trust registry and a fixed clock for one test."""

    def __init__(self) -> None:
        self.clock = FixedClock(T0)
        self.now = int(T0.timestamp())
        self.issuer_key = PrivateKey.generate("EdDSA")
        self.issuer = Issuer(self.issuer_key, clock=self.clock)
        self.p256_key = PrivateKey.generate("ES256")
        self.issuer_p256 = Issuer(self.p256_key, clock=self.clock)
        self.holder = PrivateKey.generate("ES256")
        self.holder_ed = PrivateKey.generate("EdDSA")
        self.attacker = PrivateKey.generate("EdDSA")
        self.attacker_p256 = PrivateKey.generate("ES256")
        self.attacker_did = did_of(self.attacker.public_key)
        self.attacker_kid = kid_of(self.attacker_did, self.attacker.public_key)
        self.trust = TrustRegistry.from_json(
            {
                "issuers": [
                    {"id": self.issuer.did, "types": ALL_TYPES},
                    {"id": self.issuer_p256.did, "types": ALL_TYPES},
                ]
            }
        )
        self.hs = sd_jwt.Disclosure.create("householdSize", 3)

    # -- verifiers ---------------------------------------------------------------------------
    def verifier(self, *, limits: Limits | None = None, pinned: bool = False) -> Verifier:
        """A verifier trusting the registry (or pinning the issuer key) at ``T0``."""
        if pinned:
            return Verifier(issuer_key=self.issuer_key.public_key, clock=self.clock, limits=limits)
        return Verifier(trust=self.trust, clock=self.clock, limits=limits)

    # -- real credentials and presentations --------------------------------------------------
    def income(self, fmt: str = "dc+sd-jwt", *, holder: PrivateKey | None = None, **kw: Any) -> str:
        """An IncomeCredential issued by the real issuer to ``holder`` (default P-256)."""
        key = holder or self.holder
        return self.issuer.issue(
            "IncomeCredential",
            example_subject("income"),
            format=fmt,  # type: ignore[arg-type]
            holder=key.public_key,
            **kw,
        )

    def shown(
        self,
        verifier: Verifier,
        credential: str | None = None,
        disclose: Sequence[str] = ("householdSize",),
        holder: PrivateKey | None = None,
        *,
        nonce: str | None = None,
        iat: int | None = None,
    ) -> Built:
        """A valid presentation for ``verifier`` (fresh nonce, aud ``AUD``)."""
        nonce = nonce or verifier.new_nonce()
        token = present(
            credential or self.income(),
            holder or self.holder,
            disclose=list(disclose),
            aud=AUD,
            nonce=nonce,
            iat=self.now if iat is None else iat,
        )
        return Built(token, {"aud": AUD, "nonce": nonce}, verifier)

    # -- crafted tokens ----------------------------------------------------------------------
    def header(self, **changes: Any) -> dict[str, Any]:
        """The issuer JWT header of a dc+sd-jwt, changed."""
        base = {"alg": "EdDSA", "typ": "dc+sd-jwt", "kid": self.issuer.kid}
        return override(base, changes)

    def payload(self, changes: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """A dc+sd-jwt IncomeCredential payload concealing householdSize, bound to holder."""
        base = {
            "iss": self.issuer.did,
            "iat": self.now,
            "nbf": self.now,
            "exp": self.now + YEAR,
            "vct": INCOME.vct,
            "_sd": [self.hs.digest],
            "_sd_alg": "sha-256",
            "cnf": {"jwk": dict(self.holder.public_key.to_jwk())},
        }
        return override(base, changes or {})

    def kb(
        self,
        part: str,
        *,
        holder: PrivateKey | None = None,
        header: Mapping[str, Any] | None = None,
        **changes: Any,
    ) -> str:
        """A KB-JWT over ``part`` (RFC 9901 §4.3); ``changes`` must include the nonce."""
        key = holder or self.holder
        claims = override(
            {"iat": self.now, "aud": AUD, "sd_hash": sd_jwt.sd_hash(part)},
            changes,
        )
        hdr = override({"alg": key.alg.value, "typ": "kb+jwt"}, header or {})
        return compact(hdr, claims, key)

    def bind(self, verifier: Verifier, part: str, **kb_changes: Any) -> Built:
        """Add a correct KB-JWT (fresh nonce) to whatever SD-JWT text is sent."""
        nonce = verifier.new_nonce()
        kb = self.kb(part, **{"nonce": nonce, **kb_changes})
        return Built(part + kb, {"aud": AUD, "nonce": nonce}, verifier)

    def crafted(
        self,
        *,
        header: Mapping[str, Any] | str | None = None,
        payload: Mapping[str, Any] | str | bytes | None = None,
        disclosures: Sequence[str] | None = None,
        key: PrivateKey | None = None,
        verifier: Verifier | None = None,
        **kb_changes: Any,
    ) -> Built:
        """An issuer-signed SD-JWT from these parts, bound with a correct KB-JWT."""
        jwt = compact(
            self.header() if header is None else header,
            self.payload() if payload is None else payload,
            key or self.issuer_key,
        )
        part = join(jwt, [self.hs.encoded] if disclosures is None else disclosures)
        return self.bind(verifier or self.verifier(), part, **kb_changes)

    def with_jwt(self, jwt: str, verifier: Verifier | None = None) -> Built:
        """Bind ``jwt~householdSize~`` (the issuer JWT as given)."""
        return self.bind(verifier or self.verifier(), join(jwt, [self.hs.encoded]))

    def std_jwt(self, key: PrivateKey | None = None) -> str:
        """A correctly signed issuer JWT of the crafted credential."""
        return compact(self.header(), self.payload(), key or self.issuer_key)

    def p256_jwt(self, **payload_changes: Any) -> str:
        """A correctly signed ES256 issuer JWT by the trusted P-256 issuer."""
        header = {"alg": "ES256", "typ": "dc+sd-jwt", "kid": self.issuer_p256.kid}
        payload = self.payload({"iss": self.issuer_p256.did, **payload_changes})
        return compact(header, payload, self.p256_key)

    def vc_jwt(self, holder: PrivateKey | None = None, **kw: Any) -> str:
        """A vc+jwt IncomeCredential whose subject id is ``holder``'s DID (default Ed25519)."""
        return self.income("vc+jwt", holder=holder or self.holder_ed, **kw)

    def vp(
        self,
        verifier: Verifier,
        credentials: Sequence[str] | None = None,
        *,
        signer: PrivateKey | None = None,
        holder_did: str | None = None,
        kid: str | None = None,
        header: Mapping[str, Any] | None = None,
        **changes: Any,
    ) -> Built:
        """A vp+jwt (VC-JOSE-COSE §3.1.2) enveloping ``credentials``, crafted field by field."""
        key = signer or self.holder_ed
        did = holder_did or did_of(self.holder_ed.public_key)
        nonce = verifier.new_nonce()
        creds = [self.vc_jwt()] if credentials is None else credentials
        payload = override(
            {
                "@context": [V2_CONTEXT],
                "type": ["VerifiablePresentation"],
                "holder": did,
                "verifiableCredential": [
                    {
                        "@context": V2_CONTEXT,
                        "type": "EnvelopedVerifiableCredential",
                        "id": "data:application/vc+jwt," + c,
                    }
                    for c in creds
                ],
                "aud": AUD,
                "nonce": nonce,
                "iat": self.now,
            },
            changes,
        )
        hdr = override(
            {
                "alg": key.alg.value,
                "typ": "vp+jwt",
                "cty": "vp",
                "kid": kid or kid_of(did, self.holder_ed.public_key),
            },
            header or {},
        )
        return Built(compact(hdr, payload, key), {"aud": AUD, "nonce": nonce}, verifier)


# -- the case table -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One attack: how to build it, the code it must be refused with, and why."""

    id: str
    build: Callable[[World], Built]
    code: Code
    basis: str
    bug: str | None = None  # a library bug: the case is xfail(strict=True)
    report_bug: str | None = None  # a report-consistency bug only

    def param(self, *, consistency: bool = False) -> Any:
        reason = self.bug or (self.report_bug if consistency else None)
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        return pytest.param(self, id=self.id, marks=marks)


CASES: list[Case] = []


def attack(
    code: Code, basis: str, *, bug: str | None = None, report_bug: str | None = None
) -> Callable[[Callable[[World], Built]], Callable[[World], Built]]:
    """Register a builder as a case named after the function."""

    def register(fn: Callable[[World], Built]) -> Callable[[World], Built]:
        CASES.append(Case(fn.__name__, fn, code, basis, bug, report_bug))
        return fn

    return register


# ---- algorithm confusion, none, crit, b64 ------------------------------------------------------


@attack(Code.UNSUPPORTED_ALGORITHM, "RFC 8725 §3.1-3.2; RFC 7518 §3.6")
def alg_none_empty_signature(w: World) -> Built:
    return w.with_jwt(compact(w.header(alg="none"), w.payload(), sign=lambda _: b""))


@attack(Code.UNSUPPORTED_ALGORITHM, "RFC 8725 §3.2")
def alg_none_signed_anyway(w: World) -> Built:
    return w.with_jwt(compact(w.header(alg="none"), w.payload(), w.issuer_key))


@attack(Code.UNSUPPORTED_ALGORITHM, "RFC 8725 §2.1, §3.1 (HMAC keyed with the public key)")
def alg_hs256_public_key_as_secret(w: World) -> Built:
    secret = b64url_decode(w.issuer_key.public_key.to_jwk()["x"])
    return w.with_jwt(
        compact(
            w.header(alg="HS256"),
            w.payload(),
            sign=lambda m: hmac.new(secret, m, hashlib.sha256).digest(),
        )
    )


@attack(Code.UNSUPPORTED_ALGORITHM, "RFC 8725 §3.1 (HMAC keyed with the JWK text)")
def alg_hs256_jwk_text_as_secret(w: World) -> Built:
    secret = json.dumps(w.issuer_key.public_key.to_jwk()).encode()
    return w.with_jwt(
        compact(
            w.header(alg="HS256"),
            w.payload(),
            sign=lambda m: hmac.new(secret, m, hashlib.sha256).digest(),
        )
    )


@attack(Code.ALGORITHM_KEY_MISMATCH, "RFC 8725 §3.1 (alg must fit the issuer's key)")
def alg_es256_on_ed25519_issuer(w: World) -> Built:
    return w.with_jwt(compact(w.header(alg="ES256"), w.payload(), w.issuer_key))


@attack(Code.ALGORITHM_KEY_MISMATCH, "RFC 8725 §3.1 (alg must fit the issuer's key)")
def alg_eddsa_on_p256_issuer(w: World) -> Built:
    header = {"alg": "EdDSA", "typ": "dc+sd-jwt", "kid": w.issuer_p256.kid}
    return w.with_jwt(compact(header, w.payload({"iss": w.issuer_p256.did}), w.p256_key))


@attack(Code.UNSUPPORTED_ALGORITHM, "RFC 7515 §4.1.1 (alg is REQUIRED)")
def alg_missing(w: World) -> Built:
    return w.with_jwt(compact(w.header(alg=DROP), w.payload(), w.issuer_key))


@attack(Code.UNSUPPORTED_ALGORITHM, "RFC 7515 §4.1.1 (alg is a case-sensitive string)")
def alg_eddsa_trailing_space(w: World) -> Built:
    return w.with_jwt(compact(w.header(alg="EdDSA "), w.payload(), w.issuer_key))


@attack(Code.UNSUPPORTED_ALGORITHM, "RFC 7515 §4.1.1 (alg is a case-sensitive string)")
def alg_eddsa_lowercase(w: World) -> Built:
    return w.with_jwt(compact(w.header(alg="eddsa"), w.payload(), w.issuer_key))


@attack(Code.UNSUPPORTED_ALGORITHM, "RFC 7515 §4.1.1 (alg is a string)")
def alg_as_array(w: World) -> Built:
    return w.with_jwt(compact(w.header(alg=["EdDSA"]), w.payload(), w.issuer_key))


@attack(Code.UNSUPPORTED_ALGORITHM, "RFC 8725 §3.2 (allow-list of algorithms)")
def alg_rs256(w: World) -> Built:
    return w.with_jwt(compact(w.header(alg="RS256"), w.payload(), w.issuer_key))


@attack(Code.UNSUPPORTED_CRITICAL_HEADER, "RFC 7515 §4.1.11 (crit MUST NOT be empty)")
def crit_empty(w: World) -> Built:
    return w.with_jwt(compact(w.header(crit=[]), w.payload(), w.issuer_key))


@attack(Code.UNSUPPORTED_CRITICAL_HEADER, "RFC 7515 §4.1.11 (unknown critical extension)")
def crit_unknown_extension(w: World) -> Built:
    return w.with_jwt(compact(w.header(crit=["urn:x"], **{"urn:x": 1}), w.payload(), w.issuer_key))


@attack(Code.UNSUPPORTED_CRITICAL_HEADER, "RFC 7515 §4.1.11 (registered names not in crit)")
def crit_lists_registered_name(w: World) -> Built:
    return w.with_jwt(compact(w.header(crit=["kid"]), w.payload(), w.issuer_key))


@attack(Code.UNSUPPORTED_CRITICAL_HEADER, "RFC 7797 §6; RFC 7515 §4.1.11")
def crit_b64_false(w: World) -> Built:
    return w.with_jwt(compact(w.header(crit=["b64"], b64=False), w.payload(), w.issuer_key))


@attack(Code.UNSUPPORTED_HEADER, "RFC 7797 §3 (unencoded payload refused)")
def b64_false_without_crit(w: World) -> Built:
    return w.with_jwt(compact(w.header(b64=False), w.payload(), w.issuer_key))


# ---- keys injected through the header; kid ------------------------------------------------------


@attack(Code.UNSUPPORTED_HEADER, "RFC 8725 §3.10; RFC 7515 §4.1.3 (jwk, even the right one)")
def header_jwk_correct_key(w: World) -> Built:
    jwk = dict(w.issuer_key.public_key.to_jwk())
    return w.with_jwt(compact(w.header(jwk=jwk), w.payload(), w.issuer_key))


@attack(Code.UNSUPPORTED_HEADER, "RFC 8725 §3.10; RFC 7515 §4.1.3 (attacker's embedded jwk)")
def header_jwk_attacker_key(w: World) -> Built:
    jwk = dict(w.attacker.public_key.to_jwk())
    return w.with_jwt(compact(w.header(jwk=jwk), w.payload(), w.attacker))


@attack(Code.UNSUPPORTED_HEADER, "RFC 8725 §3.10; RFC 7515 §4.1.2 (jku never fetched)")
def header_jku(w: World) -> Built:
    header = w.header(jku="https://attacker.example/jwks.json")
    return w.with_jwt(compact(header, w.payload(), w.issuer_key))


@attack(Code.UNSUPPORTED_HEADER, "RFC 8725 §3.10; RFC 7515 §4.1.6 (x5c)")
def header_x5c(w: World) -> Built:
    cert = base64.b64encode(b"\x30\x82" + secrets.token_bytes(64)).decode()
    return w.with_jwt(compact(w.header(x5c=[cert]), w.payload(), w.issuer_key))


@attack(Code.UNSUPPORTED_HEADER, "RFC 8725 §3.10; RFC 7515 §4.1.5 (x5u never fetched)")
def header_x5u(w: World) -> Built:
    header = w.header(x5u="https://attacker.example/cert.pem")
    return w.with_jwt(compact(header, w.payload(), w.issuer_key))


@attack(Code.ISSUER_MISMATCH, "RFC 9901 §7.1 step 2 (the signing key belongs to the issuer)")
def kid_names_another_did(w: World) -> Built:
    return w.with_jwt(compact(w.header(kid=w.attacker_kid), w.payload(), w.attacker))


@attack(Code.ISSUER_MISMATCH, "RFC 9901 §7.1 step 2; RFC 7515 §4.1.4 (kid for a DID issuer)")
def kid_missing_for_did_issuer(w: World) -> Built:
    return w.with_jwt(compact(w.header(kid=DROP), w.payload(), w.issuer_key))


@attack(Code.NOT_FOUND, "DID Core 1.0 §7.2 (kid fragment not in the issuer's DID document)")
def kid_unknown_fragment(w: World) -> Built:
    header = w.header(kid=w.issuer.did + "#other")
    return w.with_jwt(compact(header, w.payload(), w.issuer_key))


@attack(Code.MALFORMED, "RFC 7515 §4.1.4 (kid is a string)")
def kid_not_a_string(w: World) -> Built:
    return w.with_jwt(compact(w.header(kid=7), w.payload(), w.issuer_key))


@attack(Code.UNTRUSTED_ISSUER, "RFC 9901 §7.1 step 2 (issuer trusted by the verifier)")
def self_issued_by_unknown_did(w: World) -> Built:
    payload = w.payload({"iss": w.attacker_did})
    return w.with_jwt(compact(w.header(kid=w.attacker_kid), payload, w.attacker))


@attack(Code.INVALID_SIGNATURE, "RFC 7515 §5.2 (signature by another key, issuer's kid)")
def issuer_jwt_signed_by_attacker(w: World) -> Built:
    return w.with_jwt(w.std_jwt(w.attacker))


# ---- malleable encodings ------------------------------------------------------------------------


def _parts(jwt: str) -> list[str]:
    return jwt.split(".")


@attack(Code.INVALID_ENCODING, "RFC 7515 §2 (base64url without padding)")
def signature_padded(w: World) -> Built:
    return w.with_jwt(w.std_jwt() + "==")


@attack(Code.INVALID_ENCODING, "RFC 7515 §2 (base64url without padding)")
def header_padded(w: World) -> Built:
    header = next(h for n in (1, 2, 3) if len(_text(h := w.header(pad="x" * n))) % 3)
    h64 = base64.urlsafe_b64encode(_text(header)).decode()
    assert h64.endswith("=")
    signing_input = f"{h64}.{b64url_encode(_text(w.payload()))}"
    sig = b64url_encode(w.issuer_key.sign(signing_input.encode()))
    return w.with_jwt(f"{signing_input}.{sig}")


@attack(Code.INVALID_ENCODING, "RFC 7515 §2; RFC 4648 §5 (URL-safe alphabet only)")
def signature_standard_alphabet(w: World) -> Built:
    for _ in range(256):
        jwt = compact(w.header(), w.payload({"jti": secrets.token_hex(8)}), w.issuer_key)
        sig = _parts(jwt)[2]
        if "-" in sig or "_" in sig:
            h, p, _ = _parts(jwt)
            return w.with_jwt(f"{h}.{p}.{sig.translate(str.maketrans('-_', '+/'))}")
    raise AssertionError("no signature with - or _ in 256 tries")


@attack(Code.INVALID_ENCODING, "RFC 4648 §3.5 (non-zero unused trailing bits)")
def signature_noncanonical_trailing_bits(w: World) -> Built:
    h, p, sig = _parts(w.std_jwt())
    assert len(sig) % 4 == 2
    last = B64URL[B64URL.index(sig[-1]) | 1]
    return w.with_jwt(f"{h}.{p}.{sig[:-1]}{last}")


@attack(Code.INVALID_ENCODING, "RFC 4648 §3.5 (non-canonical trailing bits in the payload part)")
def payload_noncanonical_trailing_bits(w: World) -> Built:
    for _ in range(256):
        payload = w.payload({"jti": secrets.token_hex(1 + secrets.randbelow(8))})
        p = b64url_encode(_text(payload))
        if len(p) % 4 in (2, 3):
            mask = 0x0F if len(p) % 4 == 2 else 0x03
            last = B64URL[(B64URL.index(p[-1]) & ~mask) | 1]
            h = b64url_encode(_text(w.header()))
            signing_input = f"{h}.{p[:-1]}{last}"
            sig = b64url_encode(w.issuer_key.sign(signing_input.encode()))
            return w.with_jwt(f"{signing_input}.{sig}")
    raise AssertionError("no payload length with unused bits")


@attack(Code.INVALID_SIGNATURE, "RFC 7518 §3.4 (ES256 signature is exactly 64 bytes)")
def es256_signature_65_bytes(w: World) -> Built:
    h, p, sig = _parts(w.p256_jwt())
    longer = b64url_decode(sig) + bytes(1)
    return w.with_jwt(f"{h}.{p}.{b64url_encode(longer)}")


@attack(Code.INVALID_SIGNATURE, "RFC 7518 §3.4 (ES256 signature is exactly 64 bytes)")
def es256_signature_66_bytes(w: World) -> Built:
    h, p, sig = _parts(w.p256_jwt())
    longer = bytes(1) + b64url_decode(sig) + bytes(1)
    return w.with_jwt(f"{h}.{p}.{b64url_encode(longer)}")


@attack(Code.INVALID_SIGNATURE, "RFC 7518 §3.4 (R || S, not DER)")
def es256_signature_der(w: World) -> Built:
    h, p, sig = _parts(w.p256_jwt())
    raw = b64url_decode(sig)
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    return w.with_jwt(f"{h}.{p}.{b64url_encode(der)}")


@attack(Code.INVALID_SIGNATURE, "SEC 1 §4.1.4 step 1 (r, s in [1, n-1]); RFC 7518 §3.4")
def es256_signature_zero(w: World) -> Built:
    h, p, _ = _parts(w.p256_jwt())
    return w.with_jwt(f"{h}.{p}.{b64url_encode(bytes(64))}")


@attack(Code.INVALID_SIGNATURE, "RFC 8037 §3.1 (Ed25519 signature is 64 bytes)")
def ed25519_signature_truncated(w: World) -> Built:
    h, p, sig = _parts(w.std_jwt())
    return w.with_jwt(f"{h}.{p}.{b64url_encode(b64url_decode(sig)[:63])}")


@attack(Code.INVALID_SIGNATURE, "RFC 8032 §5.1.7 (S < L; S + L is a malleated signature)")
def ed25519_signature_s_plus_l(w: World) -> Built:
    h, p, sig = _parts(w.std_jwt())
    raw = b64url_decode(sig)
    s = int.from_bytes(raw[32:], "little") + ED25519_L
    assert s < 2**256
    return w.with_jwt(f"{h}.{p}.{b64url_encode(raw[:32] + s.to_bytes(32, 'little'))}")


@attack(Code.INVALID_ENCODING, "RFC 7515 §7.1 (no whitespace inside a part)")
def space_inside_payload_part(w: World) -> Built:
    h, p, sig = _parts(w.std_jwt())
    return w.with_jwt(f"{h}.{p[:10]} {p[10:]}.{sig}")


@attack(Code.INVALID_ENCODING, "RFC 7515 §7.1 (no line breaks inside a part)")
def newline_inside_signature(w: World) -> Built:
    h, p, sig = _parts(w.std_jwt())
    return w.with_jwt(f"{h}.{p}.{sig[:40]}\r\n{sig[40:]}")


@attack(Code.DISCLOSURE_MALFORMED, "RFC 9901 §4.2 (a disclosure is base64url, no whitespace)")
def tab_inside_disclosure(w: World) -> Built:
    d = w.hs.encoded
    return w.bind(w.verifier(), join(w.std_jwt(), [d[:8] + "\t" + d[8:]]))


@attack(Code.MALFORMED, "RFC 7515 §7.1 (compact serialization is ASCII)")
def non_ascii_character(w: World) -> Built:
    built = w.with_jwt(w.std_jwt())
    assert isinstance(built.token, str)
    at = built.token.index(".") + 10
    return built._replace(token=built.token[:at] + "\u00e9" + built.token[at + 1 :])


@attack(Code.MALFORMED, "RFC 7515 §7.1 (compact serialization is ASCII)")
def non_ascii_bytes(w: World) -> Built:
    built = w.with_jwt(w.std_jwt())
    token = built.token
    assert isinstance(token, str)
    raw = token.encode("ascii")
    return built._replace(token=raw[:20] + b"\xc3\xa9" + raw[22:])


@attack(Code.MALFORMED, "RFC 8259 §8.1 (no byte order mark in JSON texts that are signed)")
def header_with_bom(w: World) -> Built:
    header = "\ufeff" + json.dumps(w.header())
    return w.with_jwt(compact(header, w.payload(), w.issuer_key))


@attack(Code.DUPLICATE_KEY, "RFC 7515 §4 (header names unique); RFC 7493 §2.3")
def duplicate_alg_in_header(w: World) -> Built:
    header = f'{{"alg":"EdDSA","alg":"none","typ":"dc+sd-jwt","kid":"{w.issuer.kid}"}}'
    return w.with_jwt(compact(header, w.payload(), w.issuer_key))


@attack(Code.DUPLICATE_KEY, "RFC 7519 §4 (claim names unique); RFC 7493 §2.3")
def duplicate_iss_in_payload(w: World) -> Built:
    body = json.dumps(w.payload())
    text = '{"iss":"' + w.attacker_did + '",' + body[1:]
    return w.with_jwt(compact(w.header(), text, w.issuer_key))


@attack(Code.DUPLICATE_KEY, "RFC 9901 §4.2; RFC 7493 §2.3 (duplicate member in a disclosure)")
def duplicate_key_in_disclosure_value(w: World) -> Built:
    d = b64url_encode(b'["c2FsdHNhbHRzYWx0","period",{"from":"2024-01-01","from":"2099-01-01"}]')
    payload = w.payload({"_sd": [w.hs.digest, digest(d)]})
    return w.crafted(payload=payload, disclosures=[w.hs.encoded, d])


@attack(Code.DUPLICATE_KEY, "RFC 7519 §4; RFC 7493 §2.3 (duplicate nonce in the KB-JWT)")
def duplicate_nonce_in_kb_jwt(w: World) -> Built:
    v = w.verifier()
    built = w.shown(v)
    assert isinstance(built.token, str)
    part = signed_part(built.token)
    claims = (
        f'{{"iat":{w.now},"aud":"{AUD}","nonce":"other","nonce":"{built.kwargs["nonce"]}",'
        f'"sd_hash":"{sd_jwt.sd_hash(part)}"}}'
    )
    return built._replace(token=part + compact({"alg": "ES256", "typ": "kb+jwt"}, claims, w.holder))


@attack(Code.MALFORMED, "RFC 7493 §2.2; RFC 8259 §6 (1e400 is not a finite double)")
def number_overflow_1e400(w: World) -> Built:
    text = json.dumps(w.payload())[:-1] + ',"householdBonus":1e400}'
    return w.with_jwt(compact(w.header(), text, w.issuer_key))


@attack(Code.MALFORMED, "RFC 8259 §6 (NaN is not JSON)")
def number_nan(w: World) -> Built:
    text = json.dumps(w.payload())[:-1] + ',"householdBonus":NaN}'
    return w.with_jwt(compact(w.header(), text, w.issuer_key))


@attack(Code.MALFORMED, "RFC 7493 §2.1 (no unpaired surrogates)")
def lone_surrogate_in_payload(w: World) -> Built:
    text = json.dumps(w.payload())[:-1] + ',"note":"\\ud800"}'
    return w.with_jwt(compact(w.header(), text, w.issuer_key))


@attack(Code.MALFORMED, "RFC 7519 §7.2 step 10 (claims set is a JSON object)")
def payload_is_an_array(w: World) -> Built:
    return w.with_jwt(compact(w.header(), [w.payload()], w.issuer_key))


@attack(Code.MALFORMED, "RFC 7519 §7.2 step 8 (payload is UTF-8)")
def payload_invalid_utf8(w: World) -> Built:
    return w.with_jwt(compact(w.header(), b'{"iss":"\xff"}', w.issuer_key))


@attack(Code.MALFORMED, "RFC 7515 §7.1 (exactly three parts)")
def four_part_jws(w: World) -> Built:
    return w.with_jwt(w.std_jwt() + ".e30")


@attack(Code.MALFORMED, "RFC 7515 §4.1.9 (typ is a string)")
def typ_not_a_string(w: World) -> Built:
    return w.with_jwt(compact(w.header(typ=1), w.payload(), w.issuer_key))


@attack(
    Code.MALFORMED,
    "RFC 7519 §2 (NumericDate); VC DM 2.0 §4.9",
)
def exp_integer_beyond_double(w: World) -> Built:
    return w.crafted(payload=w.payload({"exp": 10**400}))


# ---- disclosures (RFC 9901 §7.1) -----------------------------------------------------------------


@attack(Code.DISCLOSURE_UNREFERENCED, "RFC 9901 §7.1 step 5 (tampered value: digest unknown)")
def disclosure_value_tampered(w: World) -> Built:
    raw = b64url_decode(w.hs.encoded).replace(b",3]", b",4]")
    assert raw != b64url_decode(w.hs.encoded)
    return w.crafted(disclosures=[b64url_encode(raw)])


@attack(Code.DISCLOSURE_UNREFERENCED, "RFC 9901 §7.1 step 5 (tampered salt: digest unknown)")
def disclosure_salt_tampered(w: World) -> Built:
    salt = w.hs.salt
    changed = ("B" if salt[0] == "A" else "A") + salt[1:]
    return w.crafted(disclosures=[disclosure(changed, "householdSize", 3)])


@attack(Code.DISCLOSURE_UNREFERENCED, "RFC 9901 §7.1 step 5 (disclosure of another credential)")
def disclosure_from_another_credential(w: World) -> Built:
    v = w.verifier()
    other = w.income()
    mine = present(w.income(), w.holder, disclose=["householdSize"], aud=AUD, nonce="x", iat=1)
    foreign = present(other, w.holder, disclose=["incomeBracketPercent"], aud=AUD, nonce="x", iat=1)
    jwt, own, _ = mine.split("~")
    stolen = foreign.split("~")[1]
    return w.bind(v, join(jwt, [own, stolen]))


@attack(Code.DISCLOSURE_REPEATED, "RFC 9901 §7.1 step 4 (the same disclosure twice)")
def disclosure_sent_twice(w: World) -> Built:
    return w.crafted(disclosures=[w.hs.encoded, w.hs.encoded])


@attack(Code.SD_HASH_MISMATCH, "RFC 9901 §4.3.1, §7.3 (sd_hash covers the order sent)")
def disclosures_reordered_after_kb(w: World) -> Built:
    built = w.shown(w.verifier(), disclose=("householdSize", "incomeBracketPercent"))
    assert isinstance(built.token, str)
    return built._replace(token=swap_disclosures(built.token))


@attack(Code.DISCLOSURE_CONFLICT, "RFC 9901 §7.1 step 3 (claim name _sd refused)")
def disclosure_named_sd(w: World) -> Built:
    d = disclosure("c2FsdA", "_sd", ["x"])
    return w.crafted(payload=w.payload({"_sd": [w.hs.digest, digest(d)]}), disclosures=[d])


@attack(Code.DISCLOSURE_CONFLICT, "RFC 9901 §7.1 step 3 (claim name ... refused)")
def disclosure_named_ellipsis(w: World) -> Built:
    d = disclosure("c2FsdA", "...", "x")
    return w.crafted(payload=w.payload({"_sd": [w.hs.digest, digest(d)]}), disclosures=[d])


@attack(Code.DISCLOSURE_CONFLICT, "RFC 9901 §7.1 step 3 (disclosure overrides a plain claim)")
def disclosure_overrides_plain_claim(w: World) -> Built:
    d = disclosure("c2FsdA", "incomeBracketPercent", 10)
    payload = w.payload({"incomeBracketPercent": 85, "_sd": [w.hs.digest, digest(d)]})
    return w.crafted(payload=payload, disclosures=[w.hs.encoded, d])


@attack(Code.DISCLOSURE_CONFLICT, "RFC 9901 §7.1 step 3 (two disclosures for one claim name)")
def two_disclosures_same_name(w: World) -> Built:
    d = disclosure("c2FsdDI", "householdSize", 1)
    payload = w.payload({"_sd": [w.hs.digest, digest(d)]})
    return w.crafted(payload=payload, disclosures=[w.hs.encoded, d])


@attack(Code.DISCLOSURE_CONFLICT, "RFC 9901 §7.1 step 3; §4.1.1 (_sd_alg disclosed)")
def disclosure_named_sd_alg(w: World) -> Built:
    d = disclosure("c2FsdA", "_sd_alg", "sha-256")
    payload = w.payload({"_sd": [w.hs.digest, digest(d)], "_sd_alg": DROP})
    return w.crafted(payload=payload, disclosures=[w.hs.encoded, d])


@attack(
    Code.DISCLOSURE_MALFORMED,
    "RFC 9901 §7.1 step 3 (array-element disclosure referenced from _sd)",
)
def two_element_disclosure_in_sd(w: World) -> Built:
    d = disclosure("c2FsdA", 3)
    return w.crafted(payload=w.payload({"_sd": [digest(d)]}), disclosures=[d])


@attack(
    Code.DISCLOSURE_MALFORMED,
    "RFC 9901 §7.1 step 3 (object-property disclosure referenced from an array)",
)
def three_element_disclosure_in_array(w: World) -> Built:
    d = disclosure("c2FsdA", "householdSize", 3)
    payload = w.payload({"_sd": DROP, "members": [{"...": digest(d)}]})
    return w.crafted(payload=payload, disclosures=[d])


@attack(Code.MALFORMED, "RFC 9901 §4.2.4.1 (_sd is an array)")
def sd_not_an_array(w: World) -> Built:
    return w.crafted(payload=w.payload({"_sd": w.hs.digest}))


@attack(Code.MALFORMED, "RFC 9901 §4.2.4.1 (_sd holds digest strings)")
def sd_contains_non_string(w: World) -> Built:
    return w.crafted(payload=w.payload({"_sd": [w.hs.digest, 7]}))


@attack(Code.MALFORMED, "RFC 9901 §4.2.4.2 (array digest is a string)")
def array_digest_not_a_string(w: World) -> Built:
    return w.crafted(payload=w.payload({"members": [{"...": 7}]}))


@attack(Code.DISCLOSURE_REPEATED, "RFC 9901 §7.1 step 4 (a digest twice in the payload)")
def same_digest_twice_in_payload(w: World) -> Built:
    return w.crafted(payload=w.payload({"_sd": [w.hs.digest, w.hs.digest]}))


@attack(Code.DISCLOSURE_REPEATED, "RFC 9901 §7.1 step 4 (a digest in payload and disclosure)")
def digest_in_payload_and_in_disclosure(w: World) -> Built:
    decoy = digest(b64url_encode(secrets.token_bytes(16)))
    d = disclosure("c2FsdA", "period", {"_sd": [decoy]})
    payload = w.payload({"_sd": [w.hs.digest, digest(d), decoy]})
    return w.crafted(payload=payload, disclosures=[w.hs.encoded, d])


@attack(Code.UNSUPPORTED_SD_ALG, "RFC 9901 §4.1.1, §7.1 step 2 (_sd_alg other than sha-256)")
def sd_alg_sha512(w: World) -> Built:
    return w.crafted(payload=w.payload({"_sd_alg": "sha-512"}))


@attack(Code.UNSUPPORTED_SD_ALG, "RFC 9901 §4.1.1 (hash names are case-sensitive IANA names)")
def sd_alg_uppercase(w: World) -> Built:
    return w.crafted(payload=w.payload({"_sd_alg": "SHA-256"}))


def _disclosing(w: World, name: str, *, pinned: bool = False) -> Built:
    """A real sd_jwt.issue credential making registered claim ``name`` disclosable."""
    claims: dict[str, Any] = {
        "iss": w.issuer.did,
        "iat": w.now,
        "nbf": w.now,
        "exp": w.now + YEAR,
        "vct": INCOME.vct,
        "householdSize": 3,
    }
    holder_key: Any = w.holder.public_key
    if name == "cnf":
        claims["cnf"] = {"jwk": dict(w.holder.public_key.to_jwk())}
        holder_key = None
    token = sd_jwt.issue(
        claims,
        w.issuer_key,
        disclosable=[(name,), ("householdSize",)],
        typ="dc+sd-jwt",
        kid=w.issuer.kid,
        holder_key=holder_key,
    )
    v = w.verifier(pinned=pinned)
    nonce = v.new_nonce()
    shown = sd_jwt.present(
        token,
        disclose=[(name,), ("householdSize",)],
        holder_key=w.holder,
        aud=AUD,
        nonce=nonce,
        iat=w.now,
    )
    return Built(shown, {"aud": AUD, "nonce": nonce}, v)


@attack(Code.DISCLOSURE_CONFLICT, "draft-ietf-oauth-sd-jwt-vc §3.2.2.2 (iss never disclosable)")
def disclosed_iss(w: World) -> Built:
    return _disclosing(w, "iss", pinned=True)


@attack(Code.DISCLOSURE_CONFLICT, "draft-ietf-oauth-sd-jwt-vc §3.2.2.2 (vct never disclosable)")
def disclosed_vct(w: World) -> Built:
    return _disclosing(w, "vct")


@attack(Code.DISCLOSURE_CONFLICT, "draft-ietf-oauth-sd-jwt-vc §3.2.2.2 (cnf never disclosable)")
def disclosed_cnf(w: World) -> Built:
    return _disclosing(w, "cnf")


@attack(Code.DISCLOSURE_CONFLICT, "draft-ietf-oauth-sd-jwt-vc §3.2.2.2 (exp never disclosable)")
def disclosed_exp(w: World) -> Built:
    return _disclosing(w, "exp")


@attack(Code.DISCLOSURE_CONFLICT, "VC-JOSE-COSE §3.2.1 (vc+sd-jwt: type stays plain)")
def vc_sd_jwt_disclosed_type(w: World) -> Built:
    holder_did = did_of(w.holder.public_key)
    document = {
        "@context": [V2_CONTEXT],
        "type": ["VerifiableCredential", "IncomeCredential"],
        "issuer": w.issuer.did,
        "validFrom": "2025-12-31T00:00:00Z",
        "validUntil": "2026-12-31T00:00:00Z",
        "credentialSubject": {"id": holder_did, "householdSize": 3},
    }
    paths = [("type",), ("credentialSubject", "householdSize")]
    token = sd_jwt.issue(
        document,
        w.issuer_key,
        disclosable=paths,
        typ="vc+sd-jwt",
        kid=w.issuer.kid,
        holder_key=w.holder.public_key,
    )
    v = w.verifier()
    nonce = v.new_nonce()
    shown = sd_jwt.present(
        token, disclose=paths, holder_key=w.holder, aud=AUD, nonce=nonce, iat=w.now
    )
    return Built(shown, {"aud": AUD, "nonce": nonce}, v)


@attack(Code.MALFORMED, "RFC 9901 §4 (no empty part between ~ separators)")
def empty_disclosure_between_tildes(w: World) -> Built:
    return w.bind(w.verifier(), join(w.std_jwt(), [w.hs.encoded]) + "~")


@attack(Code.TOO_LARGE, "Limits.max_disclosures (bounded processing, RFC 9901 §9)")
def too_many_disclosures(w: World) -> Built:
    v = w.verifier(limits=Limits(max_disclosures=2))
    return w.shown(v, disclose=("householdSize", "incomeBracketPercent", "eligibilityType"))


@attack(
    Code.TOO_LARGE,
    "Limits.max_disclosures docstring: 'most disclosures (and _sd digests) one token may carry'",
)
def too_many_sd_digests(w: World) -> Built:
    # Digests, decoys included, are bounded at 4 x max_disclosures (default 1,024).
    decoys = [digest(b64url_encode(secrets.token_bytes(16))) for _ in range(1025)]
    return w.crafted(payload=w.payload({"_sd": sorted([w.hs.digest, *decoys])}))


@attack(Code.DISCLOSURE_MALFORMED, "RFC 9901 §4.2 (a disclosure is unpadded base64url)")
def disclosure_padded(w: World) -> Built:
    padded = base64.urlsafe_b64encode(b64url_decode(w.hs.encoded)).decode()
    padded = padded if padded.endswith("=") else padded + "=="
    return w.bind(w.verifier(), join(w.std_jwt(), [padded]))


@attack(Code.DISCLOSURE_MALFORMED, "RFC 9901 §4.2; RFC 4648 §5 (URL-safe alphabet)")
def disclosure_standard_alphabet(w: World) -> Built:
    d = base64.b64encode(b'["c2FsdA",">>>???",1]').decode().rstrip("=")
    assert "+" in d or "/" in d
    return w.bind(w.verifier(), join(w.std_jwt(), [d]))


@attack(Code.MALFORMED, "RFC 9901 §4.2 (disclosure is JSON); Disclosure.decode: JSON codes")
def disclosure_not_json(w: World) -> Built:
    return w.bind(w.verifier(), join(w.std_jwt(), [b64url_encode(b"[salt, name")]))


@attack(Code.DISCLOSURE_MALFORMED, "RFC 9901 §4.2.1 (a disclosure is a JSON array)")
def disclosure_not_an_array(w: World) -> Built:
    d = b64url_encode(b'{"salt":"c2FsdA","householdSize":3}')
    return w.bind(w.verifier(), join(w.std_jwt(), [d]))


@attack(Code.DISCLOSURE_MALFORMED, "RFC 9901 §4.2.1-4.2.2 (2 or 3 elements)")
def disclosure_four_elements(w: World) -> Built:
    d = disclosure("c2FsdA", "householdSize", 3, "extra")
    return w.crafted(payload=w.payload({"_sd": [digest(d)]}), disclosures=[d])


@attack(Code.DISCLOSURE_MALFORMED, "RFC 9901 §4.2.1-4.2.2 (2 or 3 elements)")
def disclosure_one_element(w: World) -> Built:
    d = disclosure("c2FsdA")
    return w.crafted(payload=w.payload({"_sd": [digest(d)]}), disclosures=[d])


@attack(Code.DISCLOSURE_MALFORMED, "RFC 9901 §4.2.1 (the salt is a string)")
def disclosure_salt_not_a_string(w: World) -> Built:
    d = disclosure(12345, "householdSize", 3)
    return w.crafted(payload=w.payload({"_sd": [digest(d)]}), disclosures=[d])


@attack(Code.DISCLOSURE_MALFORMED, "RFC 9901 §4.2.1 (the claim name is a string)")
def disclosure_name_not_a_string(w: World) -> Built:
    d = disclosure("c2FsdA", 7, 3)
    return w.crafted(payload=w.payload({"_sd": [digest(d)]}), disclosures=[d])


@attack(Code.MALFORMED, "RFC 9901 §4.2.1 (UTF-8 JSON)")
def disclosure_invalid_utf8(w: World) -> Built:
    d = b64url_encode(b'["c2FsdA","name","\xff"]')
    return w.crafted(payload=w.payload({"_sd": [digest(d)]}), disclosures=[d])


# ---- key binding (RFC 9901 §7.3) ---------------------------------------------------------------


def _rebound(w: World, *, holder: PrivateKey | None = None, header: Any = None, **kb: Any) -> Built:
    """A real presentation whose KB-JWT is re-made with these changes."""
    built = w.shown(w.verifier())
    assert isinstance(built.token, str)
    part = signed_part(built.token)
    claims = {"nonce": built.kwargs["nonce"], **kb}
    return built._replace(token=part + w.kb(part, holder=holder, header=header, **claims))


@attack(Code.KB_JWT_MISSING, "RFC 9901 §7.3 (cnf present: Key Binding required)")
def kb_jwt_missing(w: World) -> Built:
    built = w.shown(w.verifier())
    assert isinstance(built.token, str)
    return built._replace(token=signed_part(built.token))


@attack(Code.KB_JWT_MISSING, "RFC 9901 §7.3 (cnf present: Key Binding required even unasked)")
def kb_jwt_missing_no_aud_nonce(w: World) -> Built:
    built = kb_jwt_missing(w)
    return built._replace(kwargs={})


@attack(Code.KB_JWT_INVALID, "RFC 9901 §4.3, §7.3 (typ must be kb+jwt)")
def kb_jwt_typ_jwt(w: World) -> Built:
    return _rebound(w, header={"typ": "JWT"})


@attack(Code.KB_JWT_INVALID, "RFC 9901 §4.3, §7.3 (typ must be kb+jwt)")
def kb_jwt_typ_missing(w: World) -> Built:
    return _rebound(w, header={"typ": DROP})


@attack(Code.INVALID_SIGNATURE, "RFC 9901 §7.3 (signed by the cnf key)")
def kb_jwt_signed_by_another_key(w: World) -> Built:
    return _rebound(w, holder=w.attacker_p256)


@attack(Code.ALGORITHM_KEY_MISMATCH, "RFC 9901 §7.3; RFC 8725 §3.1 (alg fits the cnf key)")
def kb_jwt_ed25519_for_p256_cnf(w: World) -> Built:
    return _rebound(w, holder=w.attacker)


@attack(Code.UNSUPPORTED_ALGORITHM, "RFC 9901 §7.3; RFC 8725 §3.2 (none refused)")
def kb_jwt_alg_none(w: World) -> Built:
    built = w.shown(w.verifier())
    assert isinstance(built.token, str)
    part = signed_part(built.token)
    claims = {"iat": w.now, "aud": AUD, "nonce": built.kwargs["nonce"]}
    claims["sd_hash"] = sd_jwt.sd_hash(part)
    kb = compact({"alg": "none", "typ": "kb+jwt"}, claims, sign=lambda _: b"")
    return built._replace(token=part + kb)


@attack(Code.UNSUPPORTED_CRITICAL_HEADER, "RFC 7515 §4.1.11 (crit in the KB-JWT)")
def kb_jwt_crit_unknown(w: World) -> Built:
    return _rebound(w, header={"crit": ["urn:x"], "urn:x": True})


@attack(Code.AUDIENCE_MISMATCH, "RFC 9901 §7.3 (aud is the verifier's)")
def kb_jwt_wrong_aud(w: World) -> Built:
    return _rebound(w, aud="https://other-verifier.example")


@attack(Code.AUDIENCE_MISMATCH, "RFC 9901 §4.3 (aud is a single string)")
def kb_jwt_aud_array(w: World) -> Built:
    return _rebound(w, aud=[AUD, "https://other-verifier.example"])


@attack(Code.NONCE_MISMATCH, "RFC 9901 §7.3 (nonce is the verifier's)")
def kb_jwt_wrong_nonce(w: World) -> Built:
    return _rebound(w, nonce="another-nonce")


@attack(Code.KB_JWT_INVALID, "RFC 9901 §7.3 (iat within an acceptable window: future)")
def kb_jwt_iat_in_future(w: World) -> Built:
    return _rebound(w, iat=w.now + 120)


@attack(Code.KB_JWT_INVALID, "RFC 9901 §7.3 (iat within an acceptable window: too old)")
def kb_jwt_iat_too_old(w: World) -> Built:
    return _rebound(w, iat=w.now - 5 * 60 - 61)


@attack(Code.KB_JWT_INVALID, "RFC 9901 §4.3 (iat is REQUIRED)")
def kb_jwt_iat_missing(w: World) -> Built:
    return _rebound(w, iat=DROP)


@attack(Code.KB_JWT_INVALID, "RFC 9901 §4.3; RFC 7519 §2 (iat is a NumericDate)")
def kb_jwt_iat_string(w: World) -> Built:
    return _rebound(w, iat=str(w.now))


@attack(Code.EXPIRED, "RFC 7519 §4.1.4 (KB-JWT exp)")
def kb_jwt_expired(w: World) -> Built:
    return _rebound(w, exp=w.now - 120)


@attack(Code.NOT_YET_VALID, "RFC 7519 §4.1.5 (KB-JWT nbf)")
def kb_jwt_not_yet_valid(w: World) -> Built:
    return _rebound(w, nbf=w.now + 120)


@attack(Code.SD_HASH_MISMATCH, "RFC 9901 §4.3.1, §7.3 (sd_hash wrong)")
def kb_jwt_sd_hash_wrong(w: World) -> Built:
    return _rebound(w, sd_hash=sd_jwt.sd_hash("something else~"))


@attack(Code.SD_HASH_MISMATCH, "RFC 9901 §4.3 (sd_hash is REQUIRED)")
def kb_jwt_sd_hash_missing(w: World) -> Built:
    return _rebound(w, sd_hash=DROP)


@attack(Code.SD_HASH_MISMATCH, "RFC 9901 §4.3.1 (sd_hash input ends with the last ~)")
def kb_jwt_sd_hash_without_trailing_tilde(w: World) -> Built:
    built = w.shown(w.verifier())
    assert isinstance(built.token, str)
    part = signed_part(built.token)
    kb = w.kb(part, nonce=built.kwargs["nonce"], sd_hash=sd_jwt.sd_hash(part[:-1]))
    return built._replace(token=part + kb)


@attack(Code.SD_HASH_MISMATCH, "RFC 9901 §7.3 (KB-JWT of another presentation)")
def kb_jwt_from_another_presentation(w: World) -> Built:
    v = w.verifier()
    credential = w.income()
    nonce = v.new_nonce()
    a = w.shown(v, credential, disclose=("householdSize",), nonce=nonce)
    b = w.shown(v, credential, disclose=("incomeBracketPercent",), nonce=nonce)
    assert isinstance(a.token, str)
    assert isinstance(b.token, str)
    kb_of_a = a.token[a.token.rfind("~") + 1 :]
    return b._replace(token=signed_part(b.token) + kb_of_a)


@attack(Code.SD_HASH_MISMATCH, "RFC 9901 §7.3 (disclosure added after Key Binding)")
def disclosure_added_after_kb(w: World) -> Built:
    v = w.verifier()
    credential = w.income()
    full = present(credential, w.holder, disclose=["incomeBracketPercent"], aud=AUD, nonce="x")
    extra = full.split("~")[1]
    built = w.shown(v, credential)
    assert isinstance(built.token, str)
    cut = built.token.rfind("~") + 1
    return built._replace(token=built.token[:cut] + extra + "~" + built.token[cut:])


@attack(Code.KB_JWT_INVALID, "RFC 9901 §7.3 (a KB-JWT without cnf has no key to verify)")
def kb_jwt_without_cnf(w: World) -> Built:
    v = w.verifier()
    token = w.issuer.issue("IncomeCredential", example_subject("income"))
    nonce = v.new_nonce()
    shown = sd_jwt.present(
        token, disclose=[("householdSize",)], holder_key=w.holder, aud=AUD, nonce=nonce, iat=w.now
    )
    return Built(shown, {"aud": AUD, "nonce": nonce}, v)


@attack(Code.TOO_DEEP, "Limits.max_json_depth (KB-JWT claims nest too deep)")
def kb_jwt_claims_too_deep(w: World) -> Built:
    return _rebound(w, deep=nested(40))


@attack(Code.NONCE_REPLAYED, "RFC 9901 §7.3; OpenID4VP §14.1 (nonce is single-use)")
def nonce_replayed(w: World) -> Built:
    built = w.shown(w.verifier())
    first = built.verifier.check(built.token, **built.kwargs)
    assert first.ok, first.error
    return built


@attack(Code.NONCE_REPLAYED, "OpenID4VP §14.1 (nonce must come from the verifier)")
def nonce_never_issued(w: World) -> Built:
    v = w.verifier()
    return w.shown(v, nonce="chosen-by-the-attacker")


@attack(
    Code.NONCE_MISMATCH,
    "RFC 9901 §7.3 (a nonce the verifier names is checked)",
)
def nonce_only_not_checked(w: World) -> Built:
    built = w.shown(w.verifier(), nonce="chosen-by-the-attacker")
    return built._replace(kwargs={"nonce": built.verifier.new_nonce()})


@attack(
    Code.AUDIENCE_MISMATCH,
    "RFC 9901 §7.3 (an aud the verifier names is checked)",
)
def aud_only_not_checked(w: World) -> Built:
    v = w.verifier()
    nonce = v.new_nonce()
    shown = present(
        w.income(), w.holder, disclose=["householdSize"], aud="other", nonce=nonce, iat=w.now
    )
    return Built(shown, {"aud": AUD}, v)


@attack(
    Code.NONCE_REPLAYED,
    "Limits.nonce_ttl; clock.py ('time as an injected dependency')",
)
def nonce_expired_on_injected_clock(w: World) -> Built:
    v = w.verifier()
    nonce = v.new_nonce()
    w.clock.advance(timedelta(minutes=30))
    w.now = int(w.clock.now().timestamp())
    return w.shown(v, nonce=nonce)


# ---- validity -----------------------------------------------------------------------------------


@attack(Code.EXPIRED, "RFC 7519 §4.1.4; draft-ietf-oauth-sd-jwt-vc §3.2.2.2 (exp)")
def expired_dc_sd_jwt(w: World) -> Built:
    credential = w.income(valid_until=T0 + timedelta(days=1))
    w.clock.advance(timedelta(days=2))
    w.now = int(w.clock.now().timestamp())
    return w.shown(w.verifier(), credential)


@attack(Code.EXPIRED, "VC DM 2.0 §4.9 (validUntil)")
def expired_vc_sd_jwt(w: World) -> Built:
    credential = w.income("vc+sd-jwt", valid_until=T0 + timedelta(days=1))
    w.clock.advance(timedelta(days=2))
    w.now = int(w.clock.now().timestamp())
    return w.shown(w.verifier(), credential)


@attack(Code.EXPIRED, "VC DM 2.0 §4.9 (validUntil)")
def expired_vc_jwt(w: World) -> Built:
    credential = w.vc_jwt(valid_until=T0 + timedelta(days=1))
    w.clock.advance(timedelta(days=2))
    return Built(credential, {}, w.verifier())


@attack(Code.EXPIRED, "RFC 7519 §4.1.4 (exp just beyond the clock skew)")
def expired_just_beyond_skew(w: World) -> Built:
    return w.crafted(payload=w.payload({"exp": w.now - 61}))


@attack(Code.NOT_YET_VALID, "RFC 7519 §4.1.5 (nbf)")
def not_yet_valid_dc_sd_jwt(w: World) -> Built:
    return w.shown(w.verifier(), w.income(valid_from=T0 + timedelta(days=1)))


@attack(Code.NOT_YET_VALID, "VC DM 2.0 §4.9 (validFrom)")
def not_yet_valid_vc_jwt(w: World) -> Built:
    return Built(w.vc_jwt(valid_from=T0 + timedelta(days=1)), {}, w.verifier())


@attack(Code.NOT_YET_VALID, "RFC 7519 §4.1.6 (iat in the future beyond the skew)")
def iat_in_future(w: World) -> Built:
    return w.crafted(payload=w.payload({"iat": w.now + 3600, "nbf": DROP}))


@attack(Code.MALFORMED, "VC DM 2.0 §4.9 (validUntil is a dateTimeStamp)")
def valid_until_not_a_date(w: World) -> Built:
    document = _vc_document(w, validUntil="next year")
    return Built(compact(_vc_header(w), document, w.issuer_key), {}, w.verifier())


@attack(Code.MALFORMED, "VC DM 2.0 §4.9 (dateTimeStamp needs a time zone)")
def valid_from_without_time_zone(w: World) -> Built:
    document = _vc_document(w, validFrom="2025-01-01T00:00:00")
    return Built(compact(_vc_header(w), document, w.issuer_key), {}, w.verifier())


def _vc_header(w: World, **changes: Any) -> dict[str, Any]:
    return override({"alg": "EdDSA", "typ": "vc+jwt", "cty": "vc", "kid": w.issuer.kid}, changes)


def _vc_document(w: World, **changes: Any) -> dict[str, Any]:
    subject = {"id": did_of(w.holder_ed.public_key), **example_subject("income")}
    base = {
        "@context": [V2_CONTEXT],
        "type": ["VerifiableCredential", "IncomeCredential"],
        "issuer": w.issuer.did,
        "validFrom": "2025-12-31T00:00:00Z",
        "validUntil": "2026-12-31T00:00:00Z",
        "credentialSubject": subject,
    }
    return override(base, changes)


# ---- type, typ, holder, trust, schema, status --------------------------------------------------


@attack(Code.WRONG_TYPE, "RFC 8725 §3.11 (explicit typing: JWT is not a credential)")
def typ_jwt(w: World) -> Built:
    return w.with_jwt(compact(w.header(typ="JWT"), w.payload(), w.issuer_key))


@attack(Code.WRONG_TYPE, "RFC 8725 §3.11 (explicit typing required)")
def typ_missing(w: World) -> Built:
    return w.with_jwt(compact(w.header(typ=DROP), w.payload(), w.issuer_key))


@attack(Code.WRONG_TYPE, "RFC 8725 §3.11 (a KB-JWT is not an issuer JWT)")
def typ_kb_jwt_as_issuer_jwt(w: World) -> Built:
    return w.with_jwt(compact(w.header(typ="kb+jwt"), w.payload(), w.issuer_key))


@attack(Code.WRONG_TYPE, "RFC 8725 §3.11 (vc+jwt is not an SD-JWT)")
def typ_vc_jwt_with_disclosures(w: World) -> Built:
    return w.with_jwt(compact(w.header(typ="vc+jwt"), w.payload(), w.issuer_key))


@attack(Code.WRONG_TYPE, "RFC 9901 §4 (dc+sd-jwt needs the ~ serialization)")
def typ_dc_sd_jwt_without_tilde(w: World) -> Built:
    return Built(w.std_jwt(), {}, w.verifier())


@attack(Code.HOLDER_BINDING_MISSING, "VC-JOSE-COSE §3.1.2 (aud/nonce need a bound presentation)")
def vc_jwt_when_aud_nonce_required(w: World) -> Built:
    v = w.verifier()
    return Built(w.vc_jwt(), {"aud": AUD, "nonce": v.new_nonce()}, v)


@attack(Code.HOLDER_BINDING_MISSING, "RFC 9901 §7.3 (verifier requires Key Binding)")
def unbound_sd_jwt_when_aud_nonce_required(w: World) -> Built:
    v = w.verifier()
    token = w.issuer.issue("IncomeCredential", example_subject("income"))
    shown = sd_jwt.present(token, disclose=[("householdSize",)])
    return Built(shown, {"aud": AUD, "nonce": v.new_nonce()}, v)


@attack(Code.INVALID_SIGNATURE, "VC-JOSE-COSE §3.1.2 (vp+jwt signed by the holder's key)")
def vp_signed_by_another_key(w: World) -> Built:
    return w.vp(w.verifier(), signer=w.attacker)


@attack(Code.DID_MISMATCH, "VC-JOSE-COSE §3.1.2 (kid is a key of the holder)")
def vp_kid_of_another_did(w: World) -> Built:
    return w.vp(w.verifier(), signer=w.attacker, kid=w.attacker_kid)


@attack(Code.DID_MISMATCH, "VC DM 2.0 §4.13 (holder is the credential's subject)")
def vp_different_holder(w: World) -> Built:
    return w.vp(w.verifier(), signer=w.attacker, holder_did=w.attacker_did, kid=w.attacker_kid)


@attack(Code.AUDIENCE_MISMATCH, "VC-JOSE-COSE §3.1.2 (vp aud)")
def vp_wrong_aud(w: World) -> Built:
    return w.vp(w.verifier(), aud="https://other-verifier.example")


@attack(Code.NONCE_MISMATCH, "VC-JOSE-COSE §3.1.2 (vp nonce)")
def vp_wrong_nonce(w: World) -> Built:
    return w.vp(w.verifier(), nonce="another-nonce")


@attack(Code.NONCE_REPLAYED, "OpenID4VP §14.1 (vp nonce single-use)")
def vp_replayed(w: World) -> Built:
    built = w.vp(w.verifier())
    assert built.verifier.check(built.token, **built.kwargs).ok
    return built


@attack(Code.KB_JWT_INVALID, "VC-JOSE-COSE §3.1.2 (vp iat too old)")
def vp_iat_too_old(w: World) -> Built:
    return w.vp(w.verifier(), iat=w.now - 3600)


@attack(Code.KB_JWT_INVALID, "VC-JOSE-COSE §3.1.2 (vp iat is a NumericDate)")
def vp_iat_missing(w: World) -> Built:
    return w.vp(w.verifier(), iat=DROP)


@attack(Code.WRONG_TYPE, "RFC 8725 §3.11 (vp+jwt typ)")
def vp_typ_jwt(w: World) -> Built:
    return w.vp(w.verifier(), header={"typ": "JWT"})


@attack(Code.UNSUPPORTED_HEADER, "RFC 8725 §3.10 (jwk in a vp+jwt header)")
def vp_header_jwk(w: World) -> Built:
    return w.vp(w.verifier(), header={"jwk": dict(w.holder_ed.public_key.to_jwk())})


@attack(Code.MALFORMED, "VC DM 2.0 §4.13 (one enveloped credential)")
def vp_two_credentials(w: World) -> Built:
    return w.vp(w.verifier(), [w.vc_jwt(), w.vc_jwt()])


@attack(Code.MALFORMED, "VC DM 2.0 §4.13 (data:application/vc+jwt envelope)")
def vp_wrong_envelope(w: World) -> Built:
    cred = {"@context": V2_CONTEXT, "type": "VerifiableCredential", "id": "urn:x"}
    return w.vp(w.verifier(), [], verifiableCredential=[cred])


@attack(Code.EXPIRED, "VC DM 2.0 §4.9 (enveloped credential expired)")
def vp_enveloping_expired_credential(w: World) -> Built:
    credential = w.vc_jwt(valid_until=T0 + timedelta(days=1))
    w.clock.advance(timedelta(days=2))
    w.now = int(w.clock.now().timestamp())
    return w.vp(w.verifier(), [credential])


@attack(Code.INVALID_SIGNATURE, "VC-JOSE-COSE §3.1.1 (enveloped credential forged)")
def vp_enveloping_forged_credential(w: World) -> Built:
    forged = compact(_vc_header(w), _vc_document(w), w.attacker)
    return w.vp(w.verifier(), [forged])


@attack(
    Code.MALFORMED,
    "VC DM 2.0 §4.13, §4.8 (credentialSubject is an object)",
)
def vp_enveloping_non_object_subject(w: World) -> Built:
    inner = compact(_vc_header(w), _vc_document(w, credentialSubject="oops"), w.issuer_key)
    return w.vp(w.verifier(), [inner])


@attack(
    Code.MALFORMED,
    "VC DM 2.0 §4.8 (credentialSubject is an object)",
)
def vc_jwt_non_object_subject(w: World) -> Built:
    inner = compact(_vc_header(w), _vc_document(w, credentialSubject="oops"), w.issuer_key)
    return Built(inner, {}, w.verifier())


@attack(Code.UNTRUSTED_ISSUER, "RFC 9901 §7.1 step 2 (issuer trusted for this type only)")
def untrusted_issuer_for_type(w: World) -> Built:
    trust = TrustRegistry.from_json(
        {"issuers": [{"id": w.issuer.did, "types": ["ResidencyCredential"]}]}
    )
    v = Verifier(trust=trust, clock=w.clock)
    return w.shown(v)


@attack(Code.UNTRUSTED_ISSUER, "draft-ietf-oauth-sd-jwt-vc §4 (HTTPS iss needs issuer metadata)")
def https_issuer_without_metadata(w: World) -> Built:
    payload = w.payload({"iss": "https://issuer.example"})
    return w.crafted(payload=payload)


@attack(Code.SCHEMA_VIOLATION, "VC DM 2.0 §4.11; JSON Schema 2020-12 (householdSize integer)")
def schema_household_size_string(w: World) -> Built:
    d = disclosure("c2FsdA", "householdSize", "three")
    return w.crafted(payload=w.payload({"_sd": [digest(d)]}), disclosures=[d])


@attack(Code.SCHEMA_VIOLATION, "JSON Schema 2020-12 additionalProperties (unknown claim)")
def schema_unknown_plain_claim(w: World) -> Built:
    return w.crafted(payload=w.payload({"salaryKRW": 52_000_000}))


@attack(Code.SCHEMA_VIOLATION, "VC DM 2.0 §4.11 (vc+sd-jwt disclosed subject claim)")
def schema_vc_sd_jwt_disclosed_claim(w: World) -> Built:
    document = {
        "@context": [V2_CONTEXT],
        "type": ["VerifiableCredential", "IncomeCredential"],
        "issuer": w.issuer.did,
        "validFrom": "2025-12-31T00:00:00Z",
        "validUntil": "2026-12-31T00:00:00Z",
        "credentialSubject": {"id": did_of(w.holder.public_key), "householdSize": 0},
    }
    token = sd_jwt.issue(
        document,
        w.issuer_key,
        disclosable=[("credentialSubject", "householdSize")],
        typ="vc+sd-jwt",
        kid=w.issuer.kid,
        holder_key=w.holder.public_key,
    )
    return w.shown(w.verifier(), token)


@attack(Code.STATUS_UNCHECKED, "draft-ietf-oauth-sd-jwt-vc §3.2.2.2 (status, fail closed)")
def status_without_source(w: World) -> Built:
    status = {"status_list": {"idx": 7, "uri": "https://status.seoul.example/1"}}
    return w.shown(w.verifier(), w.income(status=status))


@attack(Code.MALFORMED, "draft-ietf-oauth-sd-jwt-vc §3.2.2.2 (vct is REQUIRED)")
def vct_missing(w: World) -> Built:
    return w.crafted(payload=w.payload({"vct": DROP}))


@attack(Code.PRIVATE_KEY_MATERIAL, "RFC 7800 §3.2 (cnf.jwk is a public key)")
def cnf_with_private_key(w: World) -> Built:
    jwk = w.holder.private_jwk()
    return w.crafted(payload=w.payload({"cnf": {"jwk": jwk}}))


@attack(Code.WEAK_KEY, "RFC 8032 §5.1.3 (small-order Ed25519 cnf key)")
def cnf_small_order_key(w: World) -> Built:
    identity = {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(b"\x01" + bytes(31))}
    return w.crafted(payload=w.payload({"cnf": {"jwk": identity}}))


@attack(Code.MALFORMED, "RFC 7800 §3.1 (cnf carries the holder key)")
def cnf_without_jwk(w: World) -> Built:
    return w.crafted(payload=w.payload({"cnf": {"kid": "holder-key-1"}}))


# ---- size and depth ----------------------------------------------------------------------------


@attack(Code.TOO_LARGE, "Limits.max_token_bytes (bounded input)")
def oversized_token(w: World) -> Built:
    big = disclosure("c2FsdA", "blob", "x" * (64 * 1024))
    return w.crafted(payload=w.payload({"_sd": [w.hs.digest, digest(big)]}), disclosures=[big])


@attack(Code.TOO_LARGE, "Limits.max_token_bytes (bounded input, as bytes)")
def oversized_token_bytes(w: World) -> Built:
    built = oversized_token(w)
    assert isinstance(built.token, str)
    return built._replace(token=built.token.encode("ascii"))


@attack(Code.TOO_DEEP, "Limits.max_json_depth (payload nests too deep)")
def payload_too_deep(w: World) -> Built:
    return w.crafted(payload=w.payload({"deep": nested(40)}))


@attack(Code.TOO_DEEP, "Limits.max_json_depth (disclosure value nests too deep)")
def disclosure_value_too_deep(w: World) -> Built:
    d = disclosure("c2FsdA", "period", nested(40))
    return w.crafted(payload=w.payload({"_sd": [digest(d)]}), disclosures=[d])


@attack(Code.TOO_DEEP, "Limits.max_json_depth (depth summed across disclosures)")
def disclosure_nested_beyond_depth(w: World) -> Built:
    d = disclosure("c2FsdA", "inner", nested(31))
    payload = w.payload({"outer": {"_sd": [digest(d)]}})
    return w.crafted(payload=payload, disclosures=[d])


@attack(Code.TOO_LARGE, "Limits.max_disclosures (huge number of ~)")
def huge_number_of_tildes(w: World) -> Built:
    return w.bind(w.verifier(), w.std_jwt() + "~" * 5000)


# -- the tests ----------------------------------------------------------------------------------


def checked(built: Built) -> VerificationReport:
    """Run Verifier.check; it must return a report and never raise."""
    try:
        report = built.verifier.check(built.token, **built.kwargs)
    except Exception as exc:  # noqa: BLE001 - any exception here is the finding
        pytest.fail(f"Verifier.check raised {type(exc).__name__} instead of returning a report")
    assert isinstance(report, VerificationReport)
    return report


@pytest.fixture
def world() -> World:
    """Fresh keys, issuer, trust registry and a clock at 2026-01-01T00:00:00Z."""
    return World()


def test_matrix_is_large_and_distinct() -> None:
    """The matrix has at least 60 attacks, distinct ids, and every case cites a basis."""
    assert len(CASES) >= 60
    assert len({c.id for c in CASES}) == len(CASES)
    assert all(c.basis for c in CASES)


@pytest.mark.parametrize("case", [c.param() for c in CASES])
def test_attack_is_refused_with_its_code(case: Case, world: World) -> None:
    """Each crafted attack yields a failed report whose error carries the expected code."""
    report = checked(case.build(world))
    assert report.ok is False
    assert report.error is not None
    assert isinstance(report.error, SeoulVCError)
    assert report.error.code == case.code
    assert report.claims == {}


@pytest.mark.parametrize("case", [c.param(consistency=True) for c in CASES])
def test_attack_report_is_consistent(case: Case, world: World) -> None:
    """The error is of its code's family and the report ends with that failed check."""
    report = checked(case.build(world))
    assert report.error is not None
    assert isinstance(report.error, FAMILY_OF[report.error.code])
    failed = [c for c in report.checks if c.outcome == "failed"]
    assert len(failed) == 1
    assert report.checks[-1] == failed[0]
    assert failed[0].code == str(report.error.code)


# ---- positive controls -------------------------------------------------------------------------


@dataclass(frozen=True)
class Control:
    """A valid presentation that must verify, with exactly these claims and this type."""

    id: str
    build: Callable[[World], tuple[Built, dict[str, Any]]]
    type_name: str = "IncomeCredential"
    bug: str | None = None

    def param(self) -> Any:
        marks = [pytest.mark.xfail(strict=True, reason=self.bug)] if self.bug else []
        return pytest.param(self, id=self.id, marks=marks)


def _dc(w: World) -> tuple[Built, dict[str, Any]]:
    return w.shown(w.verifier()), {"householdSize": 3}


def _dc_ed25519_holder_two_claims(w: World) -> tuple[Built, dict[str, Any]]:
    credential = w.income(holder=w.holder_ed)
    built = w.shown(
        w.verifier(), credential, ("householdSize", "eligibilityType"), holder=w.holder_ed
    )
    return built, {"householdSize": 3, "eligibilityType": "employee"}


def _dc_p256_issuer(w: World) -> tuple[Built, dict[str, Any]]:
    credential = w.issuer_p256.issue(
        "IncomeCredential", example_subject("income"), holder=w.holder.public_key
    )
    return w.shown(w.verifier(), credential, ("period",)), {
        "period": {"from": "2024-01-01", "to": "2024-12-31"}
    }


def _dc_nothing_disclosed(w: World) -> tuple[Built, dict[str, Any]]:
    return w.shown(w.verifier(), disclose=()), {}


def _dc_no_decoys(w: World) -> tuple[Built, dict[str, Any]]:
    return w.shown(w.verifier(), w.income(decoys=0)), {"householdSize": 3}


def _vc_sd_jwt(w: World) -> tuple[Built, dict[str, Any]]:
    built = w.shown(w.verifier(), w.income("vc+sd-jwt"))
    return built, {"id": did_of(w.holder.public_key), "householdSize": 3}


def _vp_jwt(w: World) -> tuple[Built, dict[str, Any]]:
    v = w.verifier()
    nonce = v.new_nonce()
    token = present(w.vc_jwt(), w.holder_ed, aud=AUD, nonce=nonce, iat=w.now)
    subject = {"id": did_of(w.holder_ed.public_key), **example_subject("income")}
    return Built(token, {"aud": AUD, "nonce": nonce}, v), subject


def _vc_jwt_unbound(w: World) -> tuple[Built, dict[str, Any]]:
    subject = {"id": did_of(w.holder_ed.public_key), **example_subject("income")}
    return Built(w.vc_jwt(), {}, w.verifier()), subject


def _residency_nested(w: World) -> tuple[Built, dict[str, Any]]:
    credential = w.issuer.issue(
        "ResidencyCredential", example_subject("residency"), holder=w.holder.public_key
    )
    district = example_subject("residency")["address"]["district"]  # type: ignore[index,call-overload]
    built = w.shown(w.verifier(), credential, ("address.district",))
    return built, {"address": {"district": district}}


def _residency_child_age_over_14_alone(w: World) -> tuple[Built, dict[str, Any]]:
    subject = {**example_subject("residency"), "birthDate": "2015-05-05"}
    del subject["ageOver14"], subject["ageOver19"]
    credential = w.issuer.issue("ResidencyCredential", subject, holder=w.holder.public_key)
    return w.shown(w.verifier(), credential, ("ageOver14",)), {"ageOver14": False}


def _reordered_then_bound(w: World) -> tuple[Built, dict[str, Any]]:
    built = w.shown(w.verifier(), disclose=("householdSize", "incomeBracketPercent"))
    assert isinstance(built.token, str)
    part = swap_disclosures(signed_part(built.token))
    token = part + w.kb(part, nonce=built.kwargs["nonce"])
    return built._replace(token=token), {"householdSize": 3, "incomeBracketPercent": 85}


def _within_skew(w: World) -> tuple[Built, dict[str, Any]]:
    built = w.crafted(payload=w.payload({"exp": w.now - 30, "iat": w.now + 30}), iat=w.now + 59)
    return built, {"householdSize": 3}


def _kb_iat_oldest_accepted(w: World) -> tuple[Built, dict[str, Any]]:
    return w.crafted(iat=w.now - 5 * 60 - 59), {"householdSize": 3}


def _typ_media_type_spelling(w: World) -> tuple[Built, dict[str, Any]]:
    jwt = compact(w.header(typ="application/DC+SD-JWT"), w.payload(), w.issuer_key)
    return w.with_jwt(jwt), {"householdSize": 3}


def _alg_ed25519_fully_specified(w: World) -> tuple[Built, dict[str, Any]]:
    jwt = compact(w.header(alg="Ed25519"), w.payload(), w.issuer_key)
    return w.with_jwt(jwt), {"householdSize": 3}


def _pinned_issuer_key(w: World) -> tuple[Built, dict[str, Any]]:
    return w.shown(w.verifier(pinned=True)), {"householdSize": 3}


UNKNOWN_VCT = "https://credentials.example.org/library-card/v1"


def _unknown_vct_trusted(w: World) -> tuple[Built, dict[str, Any]]:
    trust = TrustRegistry.from_json({"issuers": [{"id": w.issuer.did, "types": [UNKNOWN_VCT]}]})
    v = Verifier(trust=trust, clock=w.clock)
    claims = {
        "iss": w.issuer.did,
        "iat": w.now,
        "exp": w.now + YEAR,
        "vct": UNKNOWN_VCT,
        "cardNumber": "L-0042",
        "branch": "Mapo",
    }
    token = sd_jwt.issue(
        claims,
        w.issuer_key,
        disclosable=[("cardNumber",), ("branch",)],
        typ="dc+sd-jwt",
        kid=w.issuer.kid,
        holder_key=w.holder.public_key,
    )
    return w.shown(v, token, ("branch",)), {"branch": "Mapo"}


def _crafted_baseline(w: World) -> tuple[Built, dict[str, Any]]:
    return w.crafted(), {"householdSize": 3}


def _crafted_p256_baseline(w: World) -> tuple[Built, dict[str, Any]]:
    return w.with_jwt(w.p256_jwt()), {"householdSize": 3}


def _rebound_baseline(w: World) -> tuple[Built, dict[str, Any]]:
    return _rebound(w), {"householdSize": 3}


def _vp_crafted_baseline(w: World) -> tuple[Built, dict[str, Any]]:
    subject = {"id": did_of(w.holder_ed.public_key), **example_subject("income")}
    return w.vp(w.verifier()), subject


def _vc_document_baseline(w: World) -> tuple[Built, dict[str, Any]]:
    subject = {"id": did_of(w.holder_ed.public_key), **example_subject("income")}
    return Built(compact(_vc_header(w), _vc_document(w), w.issuer_key), {}, w.verifier()), subject


CONTROLS = [
    # The crafting helpers alone produce valid presentations: each attack adds one flaw.
    Control("crafted_baseline", _crafted_baseline),
    Control("crafted_p256_issuer_baseline", _crafted_p256_baseline),
    Control("rebound_kb_jwt_baseline", _rebound_baseline),
    Control("crafted_vp_jwt_baseline", _vp_crafted_baseline),
    Control("crafted_vc_jwt_baseline", _vc_document_baseline),
    Control("dc_sd_jwt_p256_holder", _dc),
    Control("dc_sd_jwt_ed25519_holder_two_claims", _dc_ed25519_holder_two_claims),
    Control("dc_sd_jwt_p256_issuer", _dc_p256_issuer),
    Control("dc_sd_jwt_nothing_disclosed", _dc_nothing_disclosed),
    Control("dc_sd_jwt_no_decoys", _dc_no_decoys),
    Control("vc_sd_jwt", _vc_sd_jwt),
    Control("vp_jwt_enveloping_vc_jwt", _vp_jwt),
    Control("vc_jwt_unbound_no_aud_nonce", _vc_jwt_unbound),
    Control("residency_nested_claim", _residency_nested, "ResidencyCredential"),
    Control(
        "residency_child_discloses_age_over_14_alone",
        _residency_child_age_over_14_alone,
        "ResidencyCredential",
    ),
    Control("reordered_disclosures_bound_in_sent_order", _reordered_then_bound),
    Control("expiry_and_iat_within_clock_skew", _within_skew),
    Control("kb_jwt_iat_oldest_accepted", _kb_iat_oldest_accepted),
    Control("typ_application_prefix_any_case", _typ_media_type_spelling),
    Control("alg_ed25519_fully_specified", _alg_ed25519_fully_specified),
    Control("pinned_issuer_key", _pinned_issuer_key),
    Control("unknown_vct_trusted_issuer", _unknown_vct_trusted, UNKNOWN_VCT),
]


@pytest.mark.parametrize("control", [c.param() for c in CONTROLS])
def test_positive_control_verifies(control: Control, world: World) -> None:
    """A valid presentation verifies, discloses exactly the requested claims, runs every check."""
    built, claims = control.build(world)
    report = checked(built)
    assert report.error is None, report.error
    assert report.ok is True
    assert report.claims == claims
    assert report.credential_type == control.type_name
    # vp+jwt records the presentation's parse and the enveloped credential's checks.
    assert list(dict.fromkeys(c.name for c in report.checks)) == list(CHECKS)
    assert all(c.outcome in ("passed", "skipped") for c in report.checks)


def test_unknown_vct_skips_schema_but_verifies_signature(world: World) -> None:
    """An unknown vct from a trusted issuer verifies cryptographically; only schema is skipped."""
    built, _ = _unknown_vct_trusted(world)
    report = checked(built)
    outcomes = {c.name: c.outcome for c in report.checks}
    assert outcomes["signature"] == "passed"
    assert outcomes["holder_binding"] == "passed"
    assert outcomes["schema"] == "skipped"


# ---- property: mutations never escape as exceptions ------------------------------------------


class _AnyNonce:
    """A nonce store accepting every nonce, so a surviving mutation can still verify."""

    def issue(self) -> str:
        return "fuzz-nonce"

    def spend(self, nonce: str) -> None:
        return None


@dataclass(frozen=True)
class _Target:
    token: str
    claims: dict[str, Any]
    verifier: Verifier


@pytest.fixture(scope="module")
def fuzz_target() -> _Target:
    """One valid dc+sd-jwt presentation and a verifier that accepts its nonce forever."""
    w = World()
    v = Verifier(trust=w.trust, clock=w.clock, nonces=_AnyNonce())
    credential = w.income()
    token = present(
        credential,
        w.holder,
        disclose=["householdSize", "period"],
        aud=AUD,
        nonce="fuzz-nonce",
        iat=w.now,
    )
    report = v.check(token, aud=AUD, nonce="fuzz-nonce")
    assert report.ok, report.error
    return _Target(token, report.claims, v)


_CHARS = B64URL + "~.=+/ \t\n\x00\u00e9\ud55c{}[]\"'"
_MUTATION = st.one_of(
    st.tuples(st.just("replace"), st.integers(0, 1 << 16), st.sampled_from(_CHARS)),
    st.tuples(st.just("insert"), st.integers(0, 1 << 16), st.sampled_from(_CHARS)),
    st.tuples(st.just("delete"), st.integers(0, 1 << 16), st.integers(1, 8)),
    st.tuples(st.just("flip"), st.integers(0, 1 << 16), st.integers(0, 7)),
    st.tuples(st.just("segments"), st.integers(0, 1 << 16), st.integers(0, 1 << 16)),
)


def _mutate(token: str, mutations: list[tuple[str, int, Any]]) -> str | bytes:
    out: str | bytes = token
    for kind, pos, arg in mutations:
        if isinstance(out, bytes):
            i = pos % (len(out) or 1)
            if kind == "flip" and out:
                out = out[:i] + bytes([out[i] ^ (1 << arg)]) + out[i + 1 :]
            continue
        i = pos % (len(out) + 1)
        if kind == "replace" and out:
            i %= len(out)
            out = out[:i] + arg + out[i + 1 :]
        elif kind == "insert":
            out = out[:i] + arg + out[i:]
        elif kind == "delete":
            out = out[:i] + out[i + arg :]
        elif kind == "flip" and out:
            raw = out.encode("utf-8", "surrogatepass")
            j = pos % len(raw)
            out = raw[:j] + bytes([raw[j] ^ (1 << arg)]) + raw[j + 1 :]
        elif kind == "segments":
            segments = out.split("~")
            a, b = pos % len(segments), arg % len(segments)
            segments[a], segments[b] = segments[b], segments[a]
            out = "~".join(segments)
    return out


@settings(max_examples=100, deadline=None)
@given(mutations=st.lists(_MUTATION, min_size=1, max_size=3))
def test_mutated_presentation_never_raises(
    fuzz_target: _Target, mutations: list[tuple[str, int, Any]]
) -> None:
    """Random char/byte mutations of a valid presentation return a report, never raise."""
    mutated = _mutate(fuzz_target.token, mutations)
    report = checked(Built(mutated, {"aud": AUD, "nonce": "fuzz-nonce"}, fuzz_target.verifier))
    if report.ok:
        # Only mutations that change nothing signed survive; they reveal the same claims.
        assert report.claims == fuzz_target.claims
    else:
        assert isinstance(report.error, SeoulVCError)
        assert report.error.code in set(Code)
        assert report.claims == {}


@settings(max_examples=100, deadline=None)
@given(data=st.one_of(st.text(max_size=300), st.binary(max_size=300)))
def test_arbitrary_input_never_raises(fuzz_target: _Target, data: str | bytes) -> None:
    """Verifier.check turns arbitrary text or bytes into a failed report."""
    report = checked(Built(data, {"aud": AUD, "nonce": "fuzz-nonce"}, fuzz_target.verifier))
    assert report.ok is False
    assert isinstance(report.error, SeoulVCError)
