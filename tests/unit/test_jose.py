"""Compact JWS and JWT (RFC 7515, RFC 7519) under RFC 8725: negative table, interop, fuzzing."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jwcrypto import jwk, jws, jwt

from seoul_vc._encoding import b64url_decode, b64url_encode
from seoul_vc.errors import Code, SeoulVCError
from seoul_vc.jose import (
    decode_jwt,
    encode_jwt,
    parse_compact,
    sign_compact,
    typ_matches,
    verify_compact,
)
from seoul_vc.keys import PrivateKey
from seoul_vc.limits import Limits

NEGATIVE = json.loads(
    (Path(__file__).parents[1] / "vectors" / "negative" / "jose.json").read_text("utf-8")
)
CASES: list[dict[str, Any]] = NEGATIVE["cases"]

# RFC 8037 Appendix A.1 (the RFC 8032 §7.1 TEST 1 key) signs; RFC 8032 TEST 2 attacks.
ISSUER = PrivateKey.from_jwk(
    {
        "kty": "OKP",
        "crv": "Ed25519",
        "d": "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A",
        "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
    }
)
ATTACKER = PrivateKey.from_jwk(
    {
        "kty": "OKP",
        "crv": "Ed25519",
        "d": "TM0Imyj_ltqdtsNG7BFOD1uKMZ81q6Yk2oz27U-4pvs",
        "x": "PUAXw-hDiVqStwqnTRt-vJyYLM8uxJaMwM1V8Sr0Zgw",
    }
)
# W3C CCG did-method-key test-vectors/nist-curves.json, first P-256 key.
ISSUER_P256 = PrivateKey.from_jwk(
    {
        "kty": "EC",
        "crv": "P-256",
        "x": "igrFmi0whuihKnj9R3Om1SoMph72wUGeFaBbzG2vzns",
        "y": "efsX5b10x8yjyrj4ny3pGfLcY7Xby1KzgqOdqnsrJIM",
        "d": "gPh-VvVS8MbvKQ9LSVVmfnxnKjHn4Tqj0bmbpehRlpc",
    }
)
KEYS = {"issuer": ISSUER, "attacker": ATTACKER, "issuer_p256": ISSUER_P256}
DEFAULT_PAYLOAD = '{"sub":"citizen"}'
B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

# RFC 8037 Appendix A.4: the JWS of "Example of Ed25519 signing" under the A.1 key.
RFC8037_A4_TOKEN = (
    "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc."
    "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"
)


def sign_parts(header: bytes, payload: bytes, signer: PrivateKey = ISSUER) -> str:
    """Hand-assemble a compact JWS over exactly these header and payload bytes."""
    signing_input = f"{b64url_encode(header)}.{b64url_encode(payload)}"
    return f"{signing_input}.{b64url_encode(signer.sign(signing_input.encode()))}"


# -- builders and mutations for the negative table ----------------------------------------


def build_signed(case: dict[str, Any]) -> str:
    payload = case.get("payload_json", DEFAULT_PAYLOAD)
    signer = KEYS[case.get("signer", "issuer")]
    return sign_parts(case["header_json"].encode(), payload.encode(), signer)


def build_hs256(secret: bytes) -> str:
    header = b64url_encode(b'{"alg":"HS256"}')
    signing_input = f"{header}.{b64url_encode(DEFAULT_PAYLOAD.encode())}"
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url_encode(mac)}"


def build_hs256_with_public_key(case: dict[str, Any]) -> str:
    return build_hs256(b64url_decode(ISSUER.public_key.to_jwk()["x"]))


def build_hs256_with_public_jwk(case: dict[str, Any]) -> str:
    return build_hs256(json.dumps(ISSUER.public_key.to_jwk()).encode())


def build_non_ascii_bytes(case: dict[str, Any]) -> bytes:
    return sign_parts(b'{"alg":"EdDSA"}', DEFAULT_PAYLOAD.encode()).encode() + b"\xc3\xa9"


def build_oversize_text(case: dict[str, Any]) -> str:
    payload = json.dumps({"sub": "a" * (Limits().max_token_bytes)}).encode()
    return sign_parts(b'{"alg":"EdDSA"}', payload)


def build_oversize_bytes(case: dict[str, Any]) -> bytes:
    return build_oversize_text(case).encode()


def build_non_utf8_header(case: dict[str, Any]) -> str:
    return sign_parts(b'{"alg":"EdDSA","x":"\xff"}', DEFAULT_PAYLOAD.encode())


BUILDERS: dict[str, Callable[[dict[str, Any]], str | bytes]] = {
    "signed": build_signed,
    "hs256_with_public_key": build_hs256_with_public_key,
    "hs256_with_public_jwk": build_hs256_with_public_jwk,
    "non_ascii_bytes": build_non_ascii_bytes,
    "oversize_text": build_oversize_text,
    "oversize_bytes": build_oversize_bytes,
    "non_utf8_header": build_non_utf8_header,
}


def with_signature(token: str, change: Callable[[bytes], bytes]) -> str:
    header, payload, sig = token.split(".")
    return f"{header}.{payload}.{b64url_encode(change(b64url_decode(sig)))}"


def pad(part: str) -> str:
    padding = "=" * (-len(part) % 4)
    assert padding, "the part needs no padding; pick another header or payload"
    return part + padding


def mutate_standard_alphabet(token: str) -> str:
    changed = token.translate(str.maketrans("-_", "+/"))
    assert changed != token, "the token has no '-' or '_'; pick another payload"
    return changed


def mutate_signature_trailing_bits(token: str) -> str:
    head, sig = token.rsplit(".", 1)
    assert len(sig) % 4 == 2  # 64 bytes: 86 characters, the last carrying 4 unused bits
    return f"{head}.{sig[:-1]}{B64URL[B64URL.index(sig[-1]) | 1]}"


def mutate_signature_der(token: str) -> str:
    def der(sig: bytes) -> bytes:
        return encode_dss_signature(
            int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")
        )

    return with_signature(token, der)


def mutate_space_in_payload(token: str) -> str:
    header, payload, sig = token.split(".")
    return f"{header}.{payload[:4]} {payload[4:]}.{sig}"


def mutate_swap_payload(token: str) -> str:
    header, _, sig = token.split(".")
    payload = b64url_encode(b'{"sub":"mayor"}')
    return f"{header}.{payload}.{sig}"


MUTATIONS: dict[str, Callable[[str], str]] = {
    "pad_signature": lambda t: pad(t),
    "pad_header": lambda t: pad(t.split(".")[0]) + t[t.index(".") :],
    "standard_alphabet": mutate_standard_alphabet,
    "space_in_payload": mutate_space_in_payload,
    "trailing_newline": lambda t: t + "\n",
    "leading_space": lambda t: " " + t,
    "signature_trailing_bits": mutate_signature_trailing_bits,
    "signature_leading_zero": lambda t: with_signature(t, lambda s: b"\x00" + s),
    "signature_pad_r_and_s": lambda t: with_signature(
        t, lambda s: b"\x00" + s[:32] + b"\x00" + s[32:]
    ),
    "signature_truncated": lambda t: with_signature(t, lambda s: s[:63]),
    "signature_der": mutate_signature_der,
    "signature_empty": lambda t: t.rsplit(".", 1)[0] + ".",
    "swap_payload": mutate_swap_payload,
}


def build(case: dict[str, Any]) -> str | bytes:
    if "token" in case:
        return str(case["token"])
    token = BUILDERS[case["token_builder"]](case)
    if "mutation" in case:
        assert isinstance(token, str)
        token = MUTATIONS[case["mutation"]](token)
    return token


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail loudly if anything tries to open a connection or resolve a name."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a JWS header caused network access")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


# -- the negative table -------------------------------------------------------------------


@pytest.mark.usefixtures("no_network")
@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_negative_case_is_refused_with_its_code(case: dict[str, Any]) -> None:
    """Each tests/vectors/negative/jose.json case raises its expect_code, never a fetch."""
    key = KEYS[case.get("verify_key", "issuer")].public_key
    with pytest.raises(SeoulVCError) as info:
        decode_jwt(
            build(case),
            key,
            typ=case.get("typ"),
            understood_crit=frozenset(case.get("understood_crit", [])),
        )
    assert info.value.code == case["expect_code"]


def test_negative_table_codes_are_known() -> None:
    """Every expect_code in the table is a Code and every builder and mutation exists."""
    for case in CASES:
        Code(case["expect_code"])
        assert ("token" in case) != ("token_builder" in case)
        assert case.get("token_builder", "signed") in BUILDERS
        assert case.get("mutation", "pad_signature") in MUTATIONS


@pytest.mark.parametrize("signer", ["issuer", "issuer_p256"])
def test_signed_builder_without_defect_verifies(signer: str) -> None:
    """The table's builder makes valid tokens, so each refusal is due to its one defect."""
    alg = KEYS[signer].alg.value
    token = build_signed({"header_json": f'{{"alg":"{alg}"}}', "signer": signer})
    assert decode_jwt(token, KEYS[signer].public_key).claims == {"sub": "citizen"}


def test_trailing_bits_mutation_decodes_to_the_same_signature_leniently() -> None:
    """The trailing-bit spelling is a real malleability: lenient base64 gives the same bytes."""
    token = build_signed({"header_json": '{"alg":"EdDSA"}'})
    mutated = mutate_signature_trailing_bits(token)
    sig, mutated_sig = token.rsplit(".", 1)[1], mutated.rsplit(".", 1)[1]
    assert sig != mutated_sig
    assert base64.urlsafe_b64decode(mutated_sig + "==") == b64url_decode(sig)


def test_attacker_header_token_verifies_under_the_attacker_key() -> None:
    """The jwk-header token is well-formed: it is refused only because of who signed it."""
    case = next(c for c in CASES if "jwk header" in c["name"])
    verify_compact(build(case), ATTACKER.public_key)


# -- positive behaviour -------------------------------------------------------------------


def test_rfc8037_a4_token_verifies() -> None:
    """RFC 8037 §A.4: the published EdDSA JWS verifies under the A.1 key."""
    jws_ = verify_compact(RFC8037_A4_TOKEN, ISSUER.public_key)
    assert jws_.payload == b"Example of Ed25519 signing"


def test_signing_reproduces_rfc8037_a4_token() -> None:
    """Ed25519 is deterministic, so sign_compact reproduces the RFC 8037 §A.4 token."""
    assert sign_compact(b"Example of Ed25519 signing", ISSUER) == RFC8037_A4_TOKEN


def test_ed25519_alg_name_is_accepted() -> None:
    """'Ed25519', the fully specified name of RFC 9864, verifies with an Ed25519 key."""
    token = sign_parts(b'{"alg":"Ed25519"}', DEFAULT_PAYLOAD.encode())
    assert decode_jwt(token, ISSUER.public_key).claims == {"sub": "citizen"}


@pytest.mark.parametrize("key", [ISSUER, ISSUER_P256], ids=["EdDSA", "ES256"])
def test_encode_then_decode_jwt_round_trips(key: PrivateKey) -> None:
    """decode_jwt(encode_jwt(claims)) gives back the claims and the header."""
    token = encode_jwt({"sub": "citizen", "n": 1}, key, typ="vc+jwt", kid="did:example:1#k")
    verified = decode_jwt(token, key.public_key, typ="vc+jwt")
    assert verified.claims == {"sub": "citizen", "n": 1}
    assert verified.header == {"alg": key.alg.value, "typ": "vc+jwt", "kid": "did:example:1#k"}


def test_bytes_token_is_accepted() -> None:
    """An ASCII bytes token verifies like its text."""
    token = encode_jwt({"sub": "citizen"}, ISSUER)
    assert decode_jwt(token.encode(), ISSUER.public_key).claims == {"sub": "citizen"}


def test_token_of_exactly_max_token_bytes_is_accepted() -> None:
    """Limits.max_token_bytes is inclusive."""
    token = encode_jwt({"sub": "citizen"}, ISSUER)
    limits = Limits(max_token_bytes=len(token))
    assert decode_jwt(token, ISSUER.public_key, limits=limits).claims == {"sub": "citizen"}


def test_token_one_byte_over_custom_limit_is_too_large() -> None:
    """A token one byte past a tightened Limits.max_token_bytes is too_large."""
    token = encode_jwt({"sub": "citizen"}, ISSUER)
    limits = Limits(max_token_bytes=len(token) - 1)
    with pytest.raises(SeoulVCError) as info:
        decode_jwt(token, ISSUER.public_key, limits=limits)
    assert info.value.code == Code.TOO_LARGE


@pytest.mark.parametrize(
    ("actual", "expected"),
    [
        ("vc+jwt", "vc+jwt"),
        ("VC+JWT", "vc+jwt"),
        ("application/vc+jwt", "vc+jwt"),
        ("vc+jwt", "application/vc+jwt"),
        ("Application/VC+JWT", "vc+jwt"),
        ("JWT", "jwt"),
    ],
)
def test_typ_matches_case_insensitively_with_optional_application_prefix(
    actual: str, expected: str
) -> None:
    """Types compare case-insensitively; "application/" may be omitted (RFC 7515 §4.1.9)."""
    assert typ_matches(actual, expected)


@pytest.mark.parametrize(
    ("actual", "expected"),
    [("vp+jwt", "vc+jwt"), ("text/vc+jwt", "vc+jwt"), ("", "vc+jwt"), (None, "jwt"), (1, "1")],
)
def test_typ_does_not_match_other_types(actual: object, expected: str) -> None:
    """Other media types, other prefixes and non-strings do not match."""
    assert not typ_matches(actual, expected)


def test_typ_with_application_prefix_verifies() -> None:
    """A token typed 'application/VC+JWT' passes an expected typ of 'vc+jwt'."""
    token = encode_jwt({"sub": "citizen"}, ISSUER, typ="application/VC+JWT")
    assert decode_jwt(token, ISSUER.public_key, typ="vc+jwt").claims == {"sub": "citizen"}


def test_b64_true_is_accepted() -> None:
    """'b64': true is the default encoding and changes nothing (RFC 7797 §3)."""
    token = sign_parts(b'{"alg":"EdDSA","b64":true}', DEFAULT_PAYLOAD.encode())
    assert decode_jwt(token, ISSUER.public_key).claims == {"sub": "citizen"}


def test_understood_and_present_critical_extension_is_accepted() -> None:
    """A crit naming an understood extension that is present verifies (RFC 7515 §4.1.11)."""
    token = sign_parts(b'{"alg":"EdDSA","crit":["seoul"],"seoul":1}', DEFAULT_PAYLOAD.encode())
    jws_ = verify_compact(token, ISSUER.public_key, understood_crit=frozenset({"seoul"}))
    assert jws_.header["seoul"] == 1


def test_parse_compact_exposes_alg_and_kid_without_verifying() -> None:
    """parse_compact checks structure only; alg and kid are readable for key lookup."""
    token = sign_parts(b'{"alg":"ES256","kid":"did:example:1#k"}', b"{}", ATTACKER)
    parsed = parse_compact(token)
    assert (parsed.alg, parsed.kid) == ("ES256", "did:example:1#k")


def test_kid_is_none_when_absent() -> None:
    """A header without kid has kid None."""
    assert parse_compact(encode_jwt({}, ISSUER)).kid is None


def test_verify_compact_returns_the_signing_input_as_sent() -> None:
    """signing_input is the first two parts exactly as received (RFC 7515 §5.2 step 8)."""
    token = encode_jwt({"sub": "citizen"}, ISSUER)
    assert verify_compact(token, ISSUER.public_key).signing_input == (
        token.rsplit(".", 1)[0].encode()
    )


# -- sign_compact -------------------------------------------------------------------------


@pytest.mark.parametrize("member", ["alg", "b64", "crit"])
def test_sign_compact_refuses_header_overrides(member: str) -> None:
    """The signer sets alg, b64 and crit; a header override is malformed."""
    with pytest.raises(SeoulVCError) as info:
        sign_compact(b"{}", ISSUER, header={member: "none"})
    assert info.value.code == Code.MALFORMED


def test_sign_compact_adds_extra_header_members() -> None:
    """Other header members are signed into the protected header."""
    token = sign_compact(b"{}", ISSUER, header={"cty": "json"})
    assert verify_compact(token, ISSUER.public_key).header == {"alg": "EdDSA", "cty": "json"}


def test_sign_compact_refuses_header_value_without_json_form() -> None:
    """A header value JSON cannot carry (NaN) is refused with a SeoulVCError, not ValueError."""
    with pytest.raises(SeoulVCError) as info:
        sign_compact(b"{}", ISSUER, header={"x": float("nan")})
    assert info.value.code == Code.MALFORMED


# -- interop with jwcrypto ----------------------------------------------------------------


def jwcrypto_key(key: PrivateKey) -> jwk.JWK:
    return jwk.JWK(**key.private_jwk())


@pytest.mark.parametrize("key", [ISSUER, ISSUER_P256], ids=["EdDSA", "ES256"])
def test_jwcrypto_jwt_verifies_with_decode_jwt(key: PrivateKey) -> None:
    """A JWT made by jwcrypto.jwt verifies with decode_jwt."""
    token = jwt.JWT(header={"alg": key.alg.value, "typ": "JWT"}, claims={"sub": "citizen"})
    token.make_signed_token(jwcrypto_key(key))
    assert decode_jwt(token.serialize(), key.public_key, typ="JWT").claims == {"sub": "citizen"}


@pytest.mark.parametrize("key", [ISSUER, ISSUER_P256], ids=["EdDSA", "ES256"])
def test_jwcrypto_jws_verifies_with_verify_compact(key: PrivateKey) -> None:
    """A compact JWS made by jwcrypto.jws verifies with verify_compact."""
    signed = jws.JWS(b"payload bytes")
    signed.add_signature(
        jwcrypto_key(key), alg=key.alg.value, protected=json.dumps({"alg": key.alg.value})
    )
    assert verify_compact(signed.serialize(compact=True), key.public_key).payload == (
        b"payload bytes"
    )


@pytest.mark.parametrize("key", [ISSUER, ISSUER_P256], ids=["EdDSA", "ES256"])
def test_our_jwt_verifies_with_jwcrypto(key: PrivateKey) -> None:
    """A JWT made by encode_jwt verifies with jwcrypto.jwt."""
    token = encode_jwt({"sub": "citizen"}, key, typ="JWT")
    public = jwk.JWK(**key.public_key.to_jwk())
    checked = jwt.JWT(jwt=token, key=public, algs=[key.alg.value])
    assert json.loads(checked.claims) == {"sub": "citizen"}


@pytest.mark.parametrize("key", [ISSUER, ISSUER_P256], ids=["EdDSA", "ES256"])
def test_our_jws_verifies_with_jwcrypto(key: PrivateKey) -> None:
    """A compact JWS made by sign_compact verifies with jwcrypto.jws."""
    token = sign_compact(b"payload bytes", key)
    checked = jws.JWS()
    checked.deserialize(token, jwk.JWK(**key.public_key.to_jwk()), alg=key.alg.value)
    assert checked.payload == b"payload bytes"


# -- fuzzing: only SeoulVCError may escape ------------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=8,
)
JSON_VALUES_NO_NAN = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=8,
)
HEADER_NAMES = st.sampled_from(
    ["alg", "typ", "kid", "crit", "b64", "jwk", "jku", "x5u", "x5c", "cty", "seoul"]
) | st.text(max_size=6)
HEADER_DICTS = st.dictionaries(HEADER_NAMES, JSON_VALUES, max_size=6) | st.fixed_dictionaries(
    {"alg": st.sampled_from(["EdDSA", "Ed25519", "ES256"])},
    optional={
        "crit": st.lists(HEADER_NAMES, max_size=3),
        "b64": JSON_VALUES,
        "typ": JSON_VALUES,
        "kid": JSON_VALUES,
        "seoul": JSON_VALUES,
    },
)
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def only_seoul_errors(call: Callable[[], object]) -> None:
    with contextlib.suppress(SeoulVCError):
        call()


@FUZZ
@given(st.text(max_size=300))
def test_random_text_tokens_raise_only_seoul_errors(token: str) -> None:
    """Arbitrary text never raises anything but a SeoulVCError."""
    only_seoul_errors(lambda: decode_jwt(token, ISSUER.public_key, typ="JWT"))


@FUZZ
@given(st.binary(max_size=300))
def test_random_bytes_tokens_raise_only_seoul_errors(token: bytes) -> None:
    """Arbitrary bytes never raise anything but a SeoulVCError."""
    only_seoul_errors(lambda: decode_jwt(token, ISSUER.public_key))


@FUZZ
@given(st.lists(st.binary(max_size=80), min_size=3, max_size=3))
def test_random_three_part_tokens_raise_only_seoul_errors(parts: list[bytes]) -> None:
    """Three base64url parts of arbitrary bytes never raise anything but a SeoulVCError."""
    token = ".".join(b64url_encode(p) for p in parts)
    only_seoul_errors(lambda: decode_jwt(token, ISSUER_P256.public_key))


@FUZZ
@given(
    HEADER_DICTS,
    JSON_VALUES,
    st.sampled_from([None, "JWT", "vc+jwt"]),
    st.frozensets(HEADER_NAMES, max_size=3),
    st.sampled_from(["issuer", "issuer_p256"]),
)
def test_random_signed_headers_raise_only_seoul_errors(
    header: dict[str, object],
    payload: object,
    typ: str | None,
    understood: frozenset[str],
    signer: str,
) -> None:
    """Validly signed tokens with arbitrary headers and payloads raise only SeoulVCError."""
    token = sign_parts(json.dumps(header).encode(), json.dumps(payload).encode(), KEYS[signer])
    only_seoul_errors(
        lambda: decode_jwt(token, KEYS[signer].public_key, typ=typ, understood_crit=understood)
    )


@FUZZ
@given(
    st.dictionaries(HEADER_NAMES, JSON_VALUES_NO_NAN, max_size=4),
)
def test_sign_compact_with_random_headers_raises_only_seoul_errors(
    header: dict[str, object],
) -> None:
    """sign_compact with arbitrary JSON header members either signs or raises SeoulVCError."""
    only_seoul_errors(
        lambda: decode_jwt(sign_compact(b"{}", ISSUER, header=header), ISSUER.public_key)
    )


@FUZZ
@given(st.integers(min_value=0, max_value=85), st.sampled_from(B64URL))
def test_any_single_character_change_of_the_signature_is_refused(index: int, char: str) -> None:
    """Changing one signature character is refused: there is one accepted spelling."""
    token = encode_jwt({"sub": "citizen"}, ISSUER)
    head, sig = token.rsplit(".", 1)
    if sig[index] == char:
        return
    forged = f"{head}.{sig[:index]}{char}{sig[index + 1 :]}"
    with pytest.raises(SeoulVCError) as info:
        decode_jwt(forged, ISSUER.public_key)
    assert info.value.code in {Code.INVALID_SIGNATURE, Code.INVALID_ENCODING}


# -- kept headers: the signer's encoded header and the parser's checked one ---------------


def test_header_values_equal_as_keys_are_kept_apart() -> None:
    # True == 1 == 1.0 in Python; their JSON is not the same, so neither is the header.
    key = PrivateKey.generate()
    headers = [
        parse_compact(sign_compact(b"{}", key, header={"x": value})).header["x"]
        for value in (True, 1, 1.0, "1", [1], {"a": 1})
    ]
    assert [type(v) for v in headers] == [bool, int, float, str, list, dict]


def test_a_parsed_header_is_the_callers_own() -> None:
    key = PrivateKey.generate()
    token = sign_compact(b"{}", key, typ="JWT", header={"x5t#S256": "abc", "ext": {"a": [1]}})
    first = parse_compact(token)
    first.header["typ"] = "changed"
    first.header["ext"]["a"].append(2)  # type: ignore[index, union-attr]
    again = parse_compact(token).header
    assert again["typ"] == "JWT"
    assert again["ext"] == {"a": [1]}


def test_a_kept_header_is_checked_against_each_callers_crit() -> None:
    key = PrivateKey.generate()
    token = sign_compact(b"{}", key, header={"ext": "v"}).split(".")
    header = {"alg": "EdDSA", "crit": ["ext"], "ext": "v"}
    forged = b64url_encode(json.dumps(header).encode()) + "." + token[1] + "." + token[2]
    assert parse_compact(forged, understood_crit=frozenset({"ext"})).header["crit"] == ["ext"]
    with pytest.raises(SeoulVCError) as info:
        parse_compact(forged)
    assert info.value.code is Code.UNSUPPORTED_CRITICAL_HEADER
