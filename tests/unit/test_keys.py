"""Keys: Ed25519 and P-256 import, signatures, RFC 7638 thumbprints, key files."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jwcrypto import jwa, jwk

from seoul_vc._encoding import b64url_decode, b64url_encode
from seoul_vc.errors import Code, SeoulVCError
from seoul_vc.keys import KeyAlgorithm, PrivateKey, PublicKey, load_public_key

# RFC 8032 §7.1 TEST 1 (also the key of RFC 8037 Appendix A.1).
RFC8032_SECRET = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
RFC8032_PUBLIC = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
RFC8032_SIG_EMPTY = bytes.fromhex(
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
)
# RFC 8037 Appendix A.1 (the same key as JWK) and A.3 (its RFC 7638 thumbprint).
RFC8037_D = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"
RFC8037_X = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
RFC8037_THUMBPRINT = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"

P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551

# -- independent Ed25519 point arithmetic (RFC 8032 §5.1) ---------------------------------
ED_P = 2**255 - 19
ED_D = -121665 * pow(121666, -1, ED_P) % ED_P
ED_SQRT_M1 = pow(2, (ED_P - 1) // 4, ED_P)
IDENTITY = (0, 1)
# y-coordinates of the small-order points as libsodium's blocklist spells them (little-endian):
# 0 (order 4), 1 (order 1), p-1 (order 2) and the two order-8 values.
SMALL_ORDER_Y = [
    0,
    1,
    ED_P - 1,
    int.from_bytes(
        bytes.fromhex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"), "little"
    ),
    int.from_bytes(
        bytes.fromhex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"), "little"
    ),
]


def ed_recover_x(y: int, sign: int) -> int | None:
    """Return x with the given parity on -x^2 + y^2 = 1 + d x^2 y^2, or None (RFC 8032 §5.1.3)."""
    x2 = (y * y - 1) * pow(ED_D * y * y + 1, -1, ED_P) % ED_P
    if x2 == 0:
        return 0 if sign == 0 else None
    x = pow(x2, (ED_P + 3) // 8, ED_P)
    if (x * x - x2) % ED_P:
        x = x * ED_SQRT_M1 % ED_P
    if (x * x - x2) % ED_P:
        return None
    return x if x & 1 == sign else ED_P - x


def ed_add(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    """Affine addition on edwards25519 (complete for a = -1, d non-square)."""
    (x1, y1), (x2, y2) = a, b
    t = ED_D * x1 * x2 * y1 * y2 % ED_P
    x3 = (x1 * y2 + y1 * x2) * pow(1 + t, -1, ED_P) % ED_P
    y3 = (y1 * y2 + x1 * x2) * pow(1 - t, -1, ED_P) % ED_P
    return x3, y3


def ed_times8(point: tuple[int, int]) -> tuple[int, int]:
    for _ in range(3):
        point = ed_add(point, point)
    return point


def ed_encode(point: tuple[int, int]) -> bytes:
    x, y = point
    return (y | (x & 1) << 255).to_bytes(32, "little")


def small_order_points() -> list[tuple[int, int]]:
    points = set()
    for y in SMALL_ORDER_Y:
        for sign in (0, 1):
            x = ed_recover_x(y, sign)
            if x is not None:
                points.add((x, y))
    return sorted(points)


def okp(x: bytes | str, **extra: object) -> dict[str, object]:
    return {"kty": "OKP", "crv": "Ed25519", "x": x if isinstance(x, str) else b64url_encode(x)} | (
        extra
    )


def code_of(fn, *args, **kwargs) -> Code:  # type: ignore[no-untyped-def]
    """Call ``fn`` and return the code of the SeoulVCError it must raise."""
    with pytest.raises(SeoulVCError) as info:
        fn(*args, **kwargs)
    return info.value.code


# -- generate, sign, verify ---------------------------------------------------------------


@pytest.mark.parametrize("alg", ["EdDSA", "ES256"])
def test_generated_key_signs_and_verifies(alg: str) -> None:
    """A fresh key's 64-byte signature verifies under its public key."""
    key = PrivateKey.generate(alg)
    sig = key.sign(b"message")
    assert len(sig) == 64
    key.public_key.verify(b"message", sig)


@pytest.mark.parametrize("alg", ["EdDSA", "ES256"])
def test_signature_over_other_message_is_refused(alg: str) -> None:
    """A signature does not verify another message."""
    key = PrivateKey.generate(alg)
    assert code_of(key.public_key.verify, b"other", key.sign(b"message")) == (
        Code.INVALID_SIGNATURE
    )


@pytest.mark.parametrize("alg", ["EdDSA", "ES256"])
def test_signature_by_another_key_is_refused(alg: str) -> None:
    """Another key's signature does not verify."""
    sig = PrivateKey.generate(alg).sign(b"m")
    assert code_of(PrivateKey.generate(alg).public_key.verify, b"m", sig) == Code.INVALID_SIGNATURE


def test_generate_refuses_unknown_algorithm() -> None:
    """Only EdDSA and ES256 keys can be generated."""
    assert code_of(PrivateKey.generate, "RS256") == Code.BAD_ARGUMENT


@pytest.mark.parametrize(("alg", "kty"), [("EdDSA", "OKP"), ("ES256", "EC")])
def test_generated_key_has_the_requested_algorithm(alg: str, kty: str) -> None:
    """generate(alg) gives a key of that JOSE algorithm and JWK type."""
    key = PrivateKey.generate(alg)
    assert key.alg == KeyAlgorithm(alg)
    assert key.public_key.to_jwk()["kty"] == kty


# -- JWK and Multikey round trips ---------------------------------------------------------


@pytest.mark.parametrize("alg", ["EdDSA", "ES256"])
def test_public_jwk_round_trips(alg: str) -> None:
    """from_jwk(to_jwk(k)) == k."""
    public = PrivateKey.generate(alg).public_key
    assert PublicKey.from_jwk(public.to_jwk()) == public


@pytest.mark.parametrize("alg", ["EdDSA", "ES256"])
def test_private_jwk_round_trips(alg: str) -> None:
    """PrivateKey.from_jwk(private_jwk()) signs for the same public key."""
    key = PrivateKey.generate(alg)
    again = PrivateKey.from_jwk(key.private_jwk())
    assert again.public_key == key.public_key
    key.public_key.verify(b"m", again.sign(b"m"))


@pytest.mark.parametrize(("alg", "prefix"), [("EdDSA", "z6Mk"), ("ES256", "zDn")])
def test_multikey_round_trips(alg: str, prefix: str) -> None:
    """from_multikey(to_multikey(k)) == k, with the did:key prefixes z6Mk and zDn."""
    public = PrivateKey.generate(alg).public_key
    multikey = public.to_multikey()
    assert multikey.startswith(prefix)
    assert PublicKey.from_multikey(multikey) == public


def test_public_jwk_has_only_required_members() -> None:
    """to_jwk() emits the RFC 7638 §3.2 required members and nothing else."""
    assert set(PrivateKey.generate("ES256").public_key.to_jwk()) == {"kty", "crv", "x", "y"}
    assert set(PrivateKey.generate("EdDSA").public_key.to_jwk()) == {"kty", "crv", "x"}


def test_keys_of_different_bytes_are_not_equal() -> None:
    """PublicKey equality compares key bytes."""
    assert PrivateKey.generate().public_key != PrivateKey.generate().public_key


def test_equal_public_keys_hash_equal() -> None:
    """Equal keys can be used interchangeably as dict keys."""
    public = PrivateKey.generate("ES256").public_key
    assert {public: 1}[PublicKey.from_jwk(public.to_jwk())] == 1


# -- published vectors --------------------------------------------------------------------


def test_rfc8032_test1_signature_of_empty_message() -> None:
    """RFC 8032 §7.1 TEST 1: the secret key signs the empty message to the given signature."""
    key = PrivateKey.from_jwk(okp(RFC8032_PUBLIC, d=b64url_encode(RFC8032_SECRET)))
    assert key.sign(b"") == RFC8032_SIG_EMPTY


def test_rfc8032_test1_signature_verifies() -> None:
    """RFC 8032 §7.1 TEST 1: the signature verifies under the public key."""
    PublicKey.from_jwk(okp(RFC8032_PUBLIC)).verify(b"", RFC8032_SIG_EMPTY)


def test_rfc8037_a1_jwk_matches_rfc8032_key() -> None:
    """RFC 8037 §A.1 spells the RFC 8032 TEST 1 key as d and x."""
    assert b64url_encode(RFC8032_SECRET) == RFC8037_D
    key = PrivateKey.from_jwk(okp(RFC8037_X, d=RFC8037_D))
    assert key.public_key.to_jwk()["x"] == RFC8037_X


def test_rfc8037_a3_thumbprint() -> None:
    """RFC 8037 §A.3: the RFC 7638 thumbprint of the A.1 key."""
    assert PublicKey.from_jwk(okp(RFC8037_X)).thumbprint() == RFC8037_THUMBPRINT


@settings(max_examples=25, deadline=None)
@given(st.sampled_from([("EC", "P-256"), ("OKP", "Ed25519")]))
def test_thumbprint_matches_jwcrypto(kind: tuple[str, str]) -> None:
    """Our RFC 7638 thumbprint equals jwcrypto's for random keys."""
    kty, crv = kind
    other = jwk.JWK.generate(kty=kty, crv=crv)
    ours = PublicKey.from_jwk(other.export_public(as_dict=True))
    assert ours.thumbprint() == other.thumbprint()


@pytest.mark.parametrize("alg", ["EdDSA", "ES256"])
def test_our_jwk_imports_into_jwcrypto(alg: str) -> None:
    """The jwcrypto library reads our public JWK and computes the same thumbprint."""
    public = PrivateKey.generate(alg).public_key
    assert jwk.JWK(**public.to_jwk()).thumbprint() == public.thumbprint()


def test_es256_signature_verifies_under_jwcrypto() -> None:
    """The ES256 of jwcrypto (RFC 7518 §3.4) verifies our r || s signature."""
    key = PrivateKey.generate("ES256")
    theirs = jwk.JWK(**key.public_key.to_jwk())
    jwa.JWA.signing_alg("ES256").verify(theirs, b"payload", key.sign(b"payload"))


def test_jwcrypto_es256_signature_verifies_under_ours() -> None:
    """Our verify accepts jwcrypto's ES256 signature."""
    theirs = jwk.JWK.generate(kty="EC", crv="P-256")
    sig = jwa.JWA.signing_alg("ES256").sign(theirs, b"payload")
    PublicKey.from_jwk(theirs.export_public(as_dict=True)).verify(b"payload", sig)


def test_jwcrypto_private_jwk_imports() -> None:
    """A private JWK exported by jwcrypto imports as the same key."""
    theirs = jwk.JWK.generate(kty="EC", crv="P-256")
    key = PrivateKey.from_jwk(theirs.export_private(as_dict=True))
    assert key.public_key == PublicKey.from_jwk(theirs.export_public(as_dict=True))


# -- Ed25519 refusals ---------------------------------------------------------------------


def test_small_order_set_has_exactly_eight_points_of_order_dividing_eight() -> None:
    """The hardcoded y values give 8 distinct points P with [8]P = identity (RFC 8032 §5.1)."""
    points = small_order_points()
    assert len(points) == 8
    assert all(ed_times8(p) == IDENTITY for p in points)


def test_rfc8032_public_key_is_not_small_order() -> None:
    """Sanity check of the arithmetic: a real public key is not killed by [8]."""
    y = int.from_bytes(RFC8032_PUBLIC, "little") & ((1 << 255) - 1)
    x = ed_recover_x(y, RFC8032_PUBLIC[31] >> 7)
    assert x is not None
    assert ed_times8((x, y)) != IDENTITY


@pytest.mark.parametrize(
    "point",
    small_order_points(),
    ids=lambda p: ed_encode(p).hex()[:6] + ".." + ed_encode(p).hex()[-2:],
)
def test_small_order_points_are_weak_keys(point: tuple[int, int]) -> None:
    """Each of the 8 small-order points is refused with weak_key."""
    assert code_of(PublicKey.from_jwk, okp(ed_encode(point))) == Code.WEAK_KEY


def test_identity_key_is_weak() -> None:
    """The identity 01 00..00, under which OpenSSL accepts trivial signatures, is weak_key."""
    assert code_of(PublicKey.from_jwk, okp(b"\x01" + b"\x00" * 31)) == Code.WEAK_KEY


def test_identity_key_with_sign_bit_is_refused() -> None:
    """The identity with the x sign bit set (x = 0, non-canonical) is refused."""
    assert code_of(PublicKey.from_jwk, okp(b"\x01" + b"\x00" * 30 + b"\x80")) == Code.WEAK_KEY


@pytest.mark.parametrize("y", [ED_P, ED_P + 1, ED_P + 18, 2**255 - 1])
def test_non_canonical_y_is_invalid(y: int) -> None:
    """An encoded y >= p is refused (RFC 8032 §5.1.3 step 1)."""
    assert code_of(PublicKey.from_jwk, okp(y.to_bytes(32, "little"))) == Code.INVALID_KEY


def test_y_without_x_on_curve_is_invalid() -> None:
    """A y for which (y^2 - 1)/(d y^2 + 1) has no square root is not a point."""
    y = next(y for y in range(2, 100) if ed_recover_x(y, 0) is None)
    assert code_of(PublicKey.from_jwk, okp(y.to_bytes(32, "little"))) == Code.INVALID_KEY


@pytest.mark.parametrize("size", [0, 31, 33, 64])
def test_ed25519_wrong_length_is_invalid(size: int) -> None:
    """An Ed25519 x is exactly 32 bytes."""
    assert code_of(PublicKey.from_jwk, okp(b"\x09" * size)) == Code.INVALID_KEY


def test_ed25519_signature_with_s_plus_order_is_refused() -> None:
    """S must be below the group order L (RFC 8032 §5.1.7): S + L is malleable, refused."""
    order = 2**252 + 27742317777372353535851937790883648493
    key = PrivateKey.generate()
    sig = key.sign(b"m")
    s = int.from_bytes(sig[32:], "little") + order
    assert s < 2**256
    forged = sig[:32] + s.to_bytes(32, "little")
    assert code_of(key.public_key.verify, b"m", forged) == Code.INVALID_SIGNATURE


@pytest.mark.parametrize("size", [0, 63, 65, 128])
def test_ed25519_signature_of_wrong_length_is_refused(size: int) -> None:
    """An Ed25519 signature is exactly 64 bytes."""
    key = PrivateKey.generate()
    sig = (key.sign(b"m") * 2)[:size]
    assert code_of(key.public_key.verify, b"m", sig) == Code.INVALID_SIGNATURE


# -- P-256 refusals -----------------------------------------------------------------------


def test_p256_point_off_curve_is_invalid() -> None:
    """Flipping the low bit of y moves the point off the curve (SEC 1 §3.2.2.1)."""
    jwk_ = PrivateKey.generate("ES256").public_key.to_jwk()
    y = bytearray(b64url_decode(jwk_["y"]))
    y[-1] ^= 1
    assert code_of(PublicKey.from_jwk, jwk_ | {"y": b64url_encode(bytes(y))}) == Code.INVALID_KEY


def test_p256_zero_point_is_invalid() -> None:
    """(0, 0) is not on P-256."""
    zero = b64url_encode(b"\x00" * 32)
    assert code_of(PublicKey.from_jwk, {"kty": "EC", "crv": "P-256", "x": zero, "y": zero}) == (
        Code.INVALID_KEY
    )


@pytest.mark.parametrize("member", ["x", "y"])
@pytest.mark.parametrize("size", [31, 33])
def test_p256_coordinate_of_wrong_length_is_invalid(member: str, size: int) -> None:
    """P-256 x and y are exactly 32 bytes each (RFC 7518 §6.2.1.2)."""
    jwk_ = PrivateKey.generate("ES256").public_key.to_jwk()
    raw = b64url_decode(jwk_[member])
    raw = raw[:size] if size < 32 else b"\x00" + raw
    assert code_of(PublicKey.from_jwk, jwk_ | {member: b64url_encode(raw)}) == Code.INVALID_KEY


def test_p256_missing_y_is_invalid() -> None:
    """An EC JWK without y is refused."""
    jwk_ = PrivateKey.generate("ES256").public_key.to_jwk()
    del jwk_["y"]
    assert code_of(PublicKey.from_jwk, jwk_) == Code.INVALID_KEY


@pytest.mark.parametrize("size", [63, 65, 66])
def test_es256_signature_of_wrong_length_is_refused(size: int) -> None:
    """An ES256 signature is exactly 64 bytes (RFC 7518 §3.4), also with zero padding."""
    key = PrivateKey.generate("ES256")
    sig = key.sign(b"m")
    r, s = sig[:32], sig[32:]
    variants = {63: sig[:63], 65: b"\x00" + sig, 66: b"\x00" + r + b"\x00" + s}
    assert code_of(key.public_key.verify, b"m", variants[size]) == Code.INVALID_SIGNATURE


@pytest.mark.parametrize(
    ("r", "s"),
    [(0, 1), (1, 0), (0, 0), (P256_ORDER, 1), (1, P256_ORDER), (2**256 - 1, 2**256 - 1)],
    ids=["r0", "s0", "both0", "r=n", "s=n", "max"],
)
def test_es256_signature_with_r_or_s_out_of_range_is_refused(r: int, s: int) -> None:
    """Both r and s must lie in [1, n-1] (SEC 1 §4.1.4 step 1)."""
    key = PrivateKey.generate("ES256")
    sig = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    assert code_of(key.public_key.verify, b"m", sig) == Code.INVALID_SIGNATURE


# -- JWK member checks --------------------------------------------------------------------


@pytest.mark.parametrize("alg", ["EdDSA", "ES256"])
def test_public_jwk_with_d_is_private_key_material(alg: str) -> None:
    """A private JWK where a public one is expected is refused, not stripped."""
    key = PrivateKey.generate(alg)
    assert code_of(PublicKey.from_jwk, key.private_jwk()) == Code.PRIVATE_KEY_MATERIAL


@pytest.mark.parametrize("member", ["p", "q", "dp", "dq", "qi", "oth", "k"])
def test_public_jwk_with_other_private_members_is_private_key_material(member: str) -> None:
    """RSA and symmetric private members are private key material too (RFC 7518 §6)."""
    jwk_ = PrivateKey.generate().public_key.to_jwk() | {member: "AAAA"}
    assert code_of(PublicKey.from_jwk, jwk_) == Code.PRIVATE_KEY_MATERIAL


@pytest.mark.parametrize(
    "jwk_",
    [
        {
            "kty": "RSA",
            "n": "sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1Wl",
            "e": "AQAB",
        },
        {"kty": "EC", "crv": "P-384", "x": "AAAA", "y": "AAAA"},
        {"kty": "EC", "crv": "secp256k1", "x": "AAAA", "y": "AAAA"},
        {"kty": "OKP", "crv": "X25519", "x": "3p7bfXt9wbTTW2HC7OQ1Nz-DQ8hbeGdNrfx-FG-IK08"},
        {"kty": "OKP", "crv": "Ed448", "x": "AAAA"},
        {"kty": "OKP", "crv": "P-256", "x": "AAAA"},
        {"kty": "EC", "crv": "Ed25519", "x": "AAAA"},
        {"crv": "Ed25519", "x": "AAAA"},
        {"kty": ["OKP"], "crv": "Ed25519", "x": "AAAA"},
        {},
    ],
    ids=[
        "RSA",
        "P-384",
        "secp256k1",
        "X25519",
        "Ed448",
        "OKP-P256",
        "EC-Ed25519",
        "no-kty",
        "kty-list",
        "empty",
    ],
)
def test_unsupported_key_types_are_invalid(jwk_: dict[str, object]) -> None:
    """Only OKP/Ed25519 and EC/P-256 JWKs are imported."""
    assert code_of(PublicKey.from_jwk, jwk_) == Code.INVALID_KEY


def test_jwk_that_is_not_a_mapping_is_invalid() -> None:
    """A JWK must be a JSON object."""
    assert code_of(PublicKey.from_jwk, ["kty", "OKP"]) == Code.INVALID_KEY


def test_jwk_x_that_is_not_text_is_invalid() -> None:
    """A JWK coordinate must be a base64url string."""
    assert code_of(PublicKey.from_jwk, okp("x") | {"x": 12}) == Code.INVALID_KEY


def test_jwk_x_with_padding_is_invalid_encoding() -> None:
    """A padded coordinate is non-canonical base64url (RFC 7515 §2)."""
    x = PrivateKey.generate().public_key.to_jwk()["x"] + "="
    assert code_of(PublicKey.from_jwk, okp(x)) == Code.INVALID_ENCODING


@pytest.mark.parametrize(
    ("alg", "declared"),
    [
        ("EdDSA", "ES256"),
        ("EdDSA", "RS256"),
        ("EdDSA", ""),
        ("ES256", "EdDSA"),
        ("ES256", "Ed25519"),
        ("ES256", "ES384"),
        ("ES256", ""),
    ],
)
def test_jwk_alg_that_does_not_fit_the_key_is_invalid(alg: str, declared: str) -> None:
    """A JWK 'alg' (RFC 7517 §4.4) naming another algorithm, or empty, is refused."""
    jwk_ = PrivateKey.generate(alg).public_key.to_jwk() | {"alg": declared}
    assert code_of(PublicKey.from_jwk, jwk_) == Code.INVALID_KEY


@pytest.mark.parametrize(("alg", "declared"), [("EdDSA", "EdDSA"), ("EdDSA", "Ed25519")])
def test_jwk_alg_eddsa_and_ed25519_fit_an_ed25519_key(alg: str, declared: str) -> None:
    """'EdDSA' (RFC 8037) and 'Ed25519' (RFC 9864) both fit an Ed25519 key."""
    public = PrivateKey.generate(alg).public_key
    assert PublicKey.from_jwk(public.to_jwk() | {"alg": declared}) == public


def test_jwk_alg_es256_fits_a_p256_key() -> None:
    """'ES256' fits a P-256 key."""
    public = PrivateKey.generate("ES256").public_key
    assert PublicKey.from_jwk(public.to_jwk() | {"alg": "ES256"}) == public


@pytest.mark.parametrize("use", ["enc", "SIG", ""])
def test_jwk_use_other_than_sig_is_invalid(use: str) -> None:
    """A JWK 'use' (RFC 7517 §4.2) other than 'sig' is refused."""
    jwk_ = PrivateKey.generate().public_key.to_jwk() | {"use": use}
    assert code_of(PublicKey.from_jwk, jwk_) == Code.INVALID_KEY


def test_jwk_use_sig_is_accepted() -> None:
    """'use': 'sig' is accepted."""
    public = PrivateKey.generate().public_key
    assert PublicKey.from_jwk(public.to_jwk() | {"use": "sig"}) == public


def test_jwk_with_kid_is_accepted() -> None:
    """Members outside the key (kid) do not change the key."""
    public = PrivateKey.generate("ES256").public_key
    assert PublicKey.from_jwk(public.to_jwk() | {"kid": "k1"}) == public


# -- private JWKs -------------------------------------------------------------------------


@pytest.mark.parametrize("alg", ["EdDSA", "ES256"])
def test_private_jwk_whose_public_part_does_not_match_d_is_invalid(alg: str) -> None:
    """The public members x (and y) must be the public key of d."""
    jwk_ = PrivateKey.generate(alg).private_jwk()
    jwk_["d"] = PrivateKey.generate(alg).private_jwk()["d"]
    assert code_of(PrivateKey.from_jwk, jwk_) == Code.INVALID_KEY


@pytest.mark.parametrize("scalar", [0, P256_ORDER, P256_ORDER + 1, 2**256 - 1])
def test_p256_scalar_out_of_range_is_invalid(scalar: int) -> None:
    """A P-256 private scalar must lie in [1, n-1] (SEC 1 §3.2.1)."""
    jwk_ = PrivateKey.generate("ES256").private_jwk()
    jwk_["d"] = b64url_encode(scalar.to_bytes(32, "big"))
    assert code_of(PrivateKey.from_jwk, jwk_) == Code.INVALID_KEY


@pytest.mark.parametrize("alg", ["EdDSA", "ES256"])
@pytest.mark.parametrize("size", [31, 33])
def test_private_d_of_wrong_length_is_invalid(alg: str, size: int) -> None:
    """The private scalar d is exactly 32 bytes for both curves."""
    jwk_ = PrivateKey.generate(alg).private_jwk()
    jwk_["d"] = b64url_encode(b"\x01" * size)
    assert code_of(PrivateKey.from_jwk, jwk_) == Code.INVALID_KEY


def test_private_jwk_without_d_is_invalid() -> None:
    """PrivateKey.from_jwk needs d."""
    assert code_of(PrivateKey.from_jwk, PrivateKey.generate().public_key.to_jwk()) == (
        Code.INVALID_KEY
    )


def test_private_jwk_with_other_private_members_is_private_key_material() -> None:
    """Unknown private members beside d are refused, not ignored."""
    jwk_ = PrivateKey.generate().private_jwk() | {"k": "AAAA"}
    assert code_of(PrivateKey.from_jwk, jwk_) == Code.PRIVATE_KEY_MATERIAL


def test_private_jwk_with_small_order_x_is_weak() -> None:
    """A private JWK with a small-order x is refused before d is used."""
    jwk_ = PrivateKey.generate().private_jwk() | {"x": b64url_encode(b"\x01" + b"\x00" * 31)}
    assert code_of(PrivateKey.from_jwk, jwk_) == Code.WEAK_KEY


@pytest.mark.parametrize("fixture", ["ed25519_key", "p256_key"])
def test_private_key_repr_shows_no_private_material(
    fixture: str, request: pytest.FixtureRequest
) -> None:
    """repr() and str() of a PrivateKey never contain d."""
    key: PrivateKey = request.getfixturevalue(fixture)
    d = key.private_jwk()["d"]
    assert d not in repr(key)
    assert d not in str(key)
    assert "'d'" not in repr(key)


# -- key files ----------------------------------------------------------------------------


def test_save_creates_file_with_mode_0600(tmp_path: Path, ed25519_key: PrivateKey) -> None:
    """The key file is readable and writable by its owner only."""
    path = tmp_path / "key.jwk"
    ed25519_key.save(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_save_then_load_round_trips(tmp_path: Path, p256_key: PrivateKey) -> None:
    """load(save(k)) is the same key."""
    p256_key.save(tmp_path / "key.jwk")
    assert PrivateKey.load(tmp_path / "key.jwk").public_key == p256_key.public_key


def test_save_refuses_to_overwrite(tmp_path: Path) -> None:
    """An existing file is not overwritten: already_exists, and its content stays."""
    path = tmp_path / "key.jwk"
    path.write_text("precious")
    assert code_of(PrivateKey.generate().save, path) == Code.ALREADY_EXISTS
    assert path.read_text() == "precious"


def test_save_leaves_no_temporary_file_behind(tmp_path: Path) -> None:
    """After save() the folder holds only the key file, even after a refused overwrite."""
    path = tmp_path / "key.jwk"
    PrivateKey.generate().save(path)
    with pytest.raises(SeoulVCError):
        PrivateKey.generate().save(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["key.jwk"]


def test_save_with_overwrite_replaces_the_key(tmp_path: Path) -> None:
    """overwrite=True replaces the file atomically with the new key, still mode 0600."""
    path = tmp_path / "key.jwk"
    PrivateKey.generate().save(path)
    key = PrivateKey.generate()
    key.save(path, overwrite=True)
    assert PrivateKey.load(path).public_key == key.public_key
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_save_into_missing_folder_is_unreadable_input(tmp_path: Path) -> None:
    """A folder that does not exist cannot be written."""
    assert code_of(PrivateKey.generate().save, tmp_path / "nope" / "key.jwk") == (
        Code.UNREADABLE_INPUT
    )


def test_load_missing_file_is_not_found(tmp_path: Path) -> None:
    """A missing key file is not_found."""
    assert code_of(PrivateKey.load, tmp_path / "absent.jwk") == Code.NOT_FOUND


def test_load_directory_is_unreadable_input(tmp_path: Path) -> None:
    """A directory is not a readable key file."""
    assert code_of(PrivateKey.load, tmp_path) == Code.UNREADABLE_INPUT


def test_load_one_megabyte_file_is_too_large(tmp_path: Path) -> None:
    """A file past the 16 KiB default bound is too_large."""
    path = tmp_path / "big.jwk"
    path.write_bytes(b" " * (1 << 20))
    assert code_of(PrivateKey.load, path) == Code.TOO_LARGE


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"not json at all", Code.MALFORMED),
        (b"{", Code.MALFORMED),
        (b"[]", Code.MALFORMED),
        (b"\xff\xfe", Code.MALFORMED),
        (b'{"d": "AA", "d": "AA"}', Code.DUPLICATE_KEY),
    ],
    ids=["garbage", "unclosed", "array", "not-utf8", "duplicate-member"],
)
def test_load_garbage_is_refused(tmp_path: Path, content: bytes, code: Code) -> None:
    """Non-JSON, non-object or duplicate-member key files are refused as malformed input."""
    path = tmp_path / "bad.jwk"
    path.write_bytes(content)
    assert code_of(PrivateKey.load, path) == code


def test_load_public_jwk_file_as_private_key_is_invalid(tmp_path: Path) -> None:
    """A public JWK file has no d, so it is not a private key."""
    path = tmp_path / "pub.jwk"
    path.write_text(json.dumps(PrivateKey.generate().public_key.to_jwk()))
    assert code_of(PrivateKey.load, path) == Code.INVALID_KEY


def test_load_public_key_reads_a_public_jwk_file(tmp_path: Path) -> None:
    """load_public_key reads a public JWK file."""
    public = PrivateKey.generate("ES256").public_key
    path = tmp_path / "pub.jwk"
    path.write_text(json.dumps(public.to_jwk()))
    assert load_public_key(path) == public


def test_load_public_key_of_a_private_file_gives_its_public_key(tmp_path: Path) -> None:
    """load_public_key on a private key file yields the matching public key."""
    key = PrivateKey.generate()
    key.save(tmp_path / "key.jwk")
    assert load_public_key(tmp_path / "key.jwk") == key.public_key


def test_load_public_key_missing_file_is_not_found(tmp_path: Path) -> None:
    """load_public_key of a missing file is not_found."""
    assert code_of(load_public_key, tmp_path / "absent.jwk") == Code.NOT_FOUND


def test_to_jwk_gives_each_caller_its_own_copy() -> None:
    public = PrivateKey.generate("ES256").public_key
    mine = public.to_jwk()
    mine["x"] = "changed"
    assert public.to_jwk()["x"] != "changed"
    assert PublicKey.from_jwk(public.to_jwk()) == public
