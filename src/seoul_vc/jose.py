"""Compact JWS (RFC 7515) and JWT (RFC 7519), parsed by us, strictly. The hazmat layer.

No other module parses JWS. A compact token is split and checked here before anything is
trusted, following RFC 8725 (JWT Best Current Practices):

1. size within ``Limits.max_token_bytes``; ASCII; exactly three parts (RFC 7515 §7.1);
2. every part canonical unpadded base64url (RFC 7515 §2), so one signature has one spelling;
3. the header is an I-JSON object: no duplicate member names (RFC 7515 §4, RFC 7493), bounded
   depth; ``alg`` in the allow-list — EdDSA (RFC 8037), Ed25519 (RFC 9864) and ES256 — never
   ``none`` or an HMAC (RFC 8725 §3.1-3.2), and it must fit the key (§3.1);
4. ``crit`` is refused unless every name in it is understood by the caller and present; an
   empty ``crit`` is invalid (RFC 7515 §4.1.11); ``b64: false`` (RFC 7797) is refused;
5. ``typ``, when the caller expects one, matches case-insensitively with the optional
   ``application/`` prefix (RFC 7515 §4.1.9, RFC 8725 §3.11);
6. the key comes from the caller — DID resolution or trust configuration. The header members
   ``jwk``, ``jku``, ``x5u``, ``x5c`` are never a key source and never cause a fetch;
7. the signature is exactly 64 bytes and verifies (:meth:`seoul_vc.keys.PublicKey.verify`).

Example:
    >>> from seoul_vc.jose import encode_jwt, decode_jwt
    >>> from seoul_vc.keys import PrivateKey
    >>> key = PrivateKey.generate()
    >>> token = encode_jwt({"sub": "demo"}, key, typ="JWT")
    >>> decode_jwt(token, key.public_key, typ="JWT").claims["sub"]
    'demo'
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from seoul_vc import _json
from seoul_vc._encoding import b64url_decode, b64url_encode
from seoul_vc._json import JSONObject, JSONValue
from seoul_vc.errors import Code, MalformedInputError, VerificationError
from seoul_vc.keys import KeyAlgorithm, PrivateKey, PublicKey
from seoul_vc.limits import Limits

__all__ = [
    "ALLOWED_ALGORITHMS",
    "CompactJWS",
    "VerifiedJWT",
    "check_signature",
    "decode_jwt",
    "encode_jwt",
    "parse_compact",
    "sign_compact",
    "typ_matches",
    "verify_compact",
]

#: JOSE ``alg`` values accepted, and the key algorithm each needs. "Ed25519" is the fully
#: specified name of RFC 9864; we sign with "EdDSA", which every JOSE library reads.
ALLOWED_ALGORITHMS: Final[Mapping[str, KeyAlgorithm]] = {
    "EdDSA": KeyAlgorithm.EDDSA,
    "Ed25519": KeyAlgorithm.EDDSA,
    "ES256": KeyAlgorithm.ES256,
}

# Header parameters registered by RFC 7515 §4.1 and RFC 7519 §5; these may not appear in
# ``crit`` (RFC 7515 §4.1.11: "Producers MUST NOT include Header Parameter names defined by
# this specification").
_REGISTERED_HEADER_NAMES: Final = frozenset(
    {"alg", "jku", "jwk", "kid", "x5u", "x5c", "x5t", "x5t#S256", "typ", "cty", "crit"}
)
_DEFAULT_LIMITS: Final = Limits()


@dataclass(frozen=True, slots=True, kw_only=True)
class CompactJWS:
    """A structurally valid compact JWS. Nothing in it is trusted until verified.

    Attributes:
        header: the protected header.
        payload: the decoded payload bytes.
        signing_input: ``BASE64URL(header) || '.' || BASE64URL(payload)`` as sent.
        signature: the decoded 64-byte signature.
    """

    header: JSONObject
    payload: bytes
    signing_input: bytes = field(repr=False)
    signature: bytes = field(repr=False)

    @property
    def alg(self) -> str:
        """The header's ``alg`` (checked against the allow-list by :func:`parse_compact`)."""
        return str(self.header["alg"])

    @property
    def kid(self) -> str | None:
        """The header's ``kid``, if any (a DID URL in seoul_vc tokens)."""
        kid = self.header.get("kid")
        return kid if isinstance(kid, str) else None


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifiedJWT:
    """A JWT whose signature verified: its header and claims (RFC 7519 §7.2)."""

    header: JSONObject
    claims: JSONObject


def typ_matches(actual: object, expected: str) -> bool:
    """Compare ``typ`` values as RFC 7515 §4.1.9 says.

    Media types match case-insensitively, and the ``application/`` prefix is optional.
    """
    if actual == expected:  # the common spelling, without folding
        return True
    if not isinstance(actual, str):
        return False

    def norm(value: str) -> str:
        value = value.lower()
        return value[12:] if value.startswith("application/") else value

    return norm(actual) == norm(expected)


def parse_compact(
    token: str | bytes,
    *,
    limits: Limits = _DEFAULT_LIMITS,
    understood_crit: frozenset[str] = frozenset(),
) -> CompactJWS:
    """Split and check a compact JWS without verifying its signature (steps 1-4 above).

    Raises:
        MalformedInputError: ``too_large``, ``malformed``, ``invalid_encoding``,
            ``duplicate_key``, ``too_deep``.
        VerificationError: ``unsupported_algorithm``, ``unsupported_critical_header``,
            ``unsupported_header``.
    """
    if isinstance(token, bytes | bytearray):
        if len(token) > limits.max_token_bytes:
            raise MalformedInputError(
                Code.TOO_LARGE, "token is too large", limit=limits.max_token_bytes
            )
        try:
            text = bytes(token).decode("ascii")
        except UnicodeDecodeError:
            raise MalformedInputError(Code.MALFORMED, "token is not ASCII") from None
    elif isinstance(token, str):
        text = token
        if len(text) > limits.max_token_bytes:
            raise MalformedInputError(
                Code.TOO_LARGE, "token is too large", limit=limits.max_token_bytes
            )
        if not text.isascii():
            raise MalformedInputError(Code.MALFORMED, "token is not ASCII")
    else:
        raise MalformedInputError(Code.MALFORMED, "token must be text")
    parts = text.split(".")
    if len(parts) != 3:
        raise MalformedInputError(
            Code.MALFORMED, "a compact JWS has exactly three parts", parts=len(parts)
        )
    header_b64, payload_b64, signature_b64 = parts
    # Headers repeat (one per issuer key and format), so their checked parse is kept.
    items, nested = _checked_header(
        header_b64, limits.max_token_bytes, limits.max_json_depth, understood_crit
    )
    # A fresh dict per caller; nested values (rare: crit, x5c) are never shared with the cache.
    header = copy.deepcopy(dict(items)) if nested else dict(items)
    payload = b64url_decode(payload_b64, what="JWS payload")
    signature = b64url_decode(signature_b64, what="JWS signature")
    return CompactJWS(
        header=header,
        payload=payload,
        signing_input=f"{header_b64}.{payload_b64}".encode("ascii"),
        signature=signature,
    )


@functools.lru_cache(maxsize=256)
def _checked_header(
    header_b64: str, max_bytes: int, max_depth: int, understood_crit: frozenset[str]
) -> tuple[tuple[tuple[str, JSONValue], ...], bool]:
    """Decode and check a protected header (steps 2-4 above): its pairs, and if any nests.

    Returns ``(name, value)`` pairs and whether any value is an array or object. A pure
    function of its arguments; errors are raised, never kept.
    """
    header = _json.loads_object(
        b64url_decode(header_b64, what="JWS header"),
        max_bytes=max_bytes,
        max_depth=max_depth,
        what="JWS header",
    )
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in ALLOWED_ALGORITHMS:
        raise VerificationError(
            Code.UNSUPPORTED_ALGORITHM,
            "alg is not one of EdDSA, Ed25519, ES256",
            alg=str(alg)[:32],
        )
    _check_crit(header, understood_crit)
    if "b64" in header and header["b64"] is not True:
        raise VerificationError(
            Code.UNSUPPORTED_HEADER, "unencoded payloads (b64: false, RFC 7797) are refused"
        )
    if "kid" in header and not isinstance(header["kid"], str):
        raise MalformedInputError(Code.MALFORMED, "kid must be a string")
    if "typ" in header and not isinstance(header["typ"], str):
        raise MalformedInputError(Code.MALFORMED, "typ must be a string")
    return tuple(header.items()), any(isinstance(v, dict | list) for v in header.values())


def _check_crit(header: JSONObject, understood: frozenset[str]) -> None:
    if "crit" not in header:
        return
    crit = header["crit"]
    if not isinstance(crit, list) or not crit:
        raise VerificationError(
            Code.UNSUPPORTED_CRITICAL_HEADER, "crit must be a non-empty array (RFC 7515 §4.1.11)"
        )
    seen: set[str] = set()
    for name in crit:
        if not isinstance(name, str) or name in seen or name in _REGISTERED_HEADER_NAMES:
            raise VerificationError(
                Code.UNSUPPORTED_CRITICAL_HEADER, "crit lists an invalid or repeated name"
            )
        seen.add(name)
        if name not in understood:
            raise VerificationError(
                Code.UNSUPPORTED_CRITICAL_HEADER,
                "crit names an extension this verifier does not understand",
                name=name[:64],
            )
        if name not in header:
            raise VerificationError(
                Code.UNSUPPORTED_CRITICAL_HEADER, "crit names a parameter the header lacks"
            )


def verify_compact(
    token: str | bytes,
    key: PublicKey,
    *,
    typ: str | None = None,
    limits: Limits = _DEFAULT_LIMITS,
    understood_crit: frozenset[str] = frozenset(),
) -> CompactJWS:
    """Parse a compact JWS and verify it under ``key`` (steps 1-7 above).

    Args:
        token: the compact serialization.
        key: the key the caller trusts for this token — never taken from the token.
        typ: the media type the header's ``typ`` must carry, if any (RFC 8725 §3.11).
        limits: size and depth bounds.
        understood_crit: extension header names the caller processes itself.

    Returns:
        The verified :class:`CompactJWS`.

    Raises:
        MalformedInputError: as :func:`parse_compact`.
        VerificationError: as :func:`parse_compact`, and ``algorithm_key_mismatch``,
            ``wrong_type``, ``invalid_signature``.
    """
    return check_signature(
        parse_compact(token, limits=limits, understood_crit=understood_crit), key, typ=typ
    )


def check_signature(jws: CompactJWS, key: PublicKey, *, typ: str | None = None) -> CompactJWS:
    """Finish :func:`verify_compact` on a token :func:`parse_compact` already split.

    For callers that must read the header before they know the key (``kid``, ``typ``):
    the token is parsed once. Checks steps 5-7 above and returns ``jws``.

    Raises:
        VerificationError: ``algorithm_key_mismatch``, ``wrong_type``, ``invalid_signature``.
    """
    if ALLOWED_ALGORITHMS[jws.alg] is not key.alg:
        raise VerificationError(
            Code.ALGORITHM_KEY_MISMATCH, "alg does not fit the verification key", alg=jws.alg
        )
    if typ is not None and not typ_matches(jws.header.get("typ"), typ):
        raise VerificationError(Code.WRONG_TYPE, "typ is not the one expected", expected=typ)
    key.verify(jws.signing_input, jws.signature)
    return jws


def sign_compact(
    payload: bytes,
    key: PrivateKey,
    *,
    typ: str | None = None,
    kid: str | None = None,
    header: Mapping[str, JSONValue] | None = None,
) -> str:
    """Sign ``payload`` as a compact JWS with ``key`` (``alg`` from the key).

    Raises:
        MalformedInputError: ``malformed`` if ``header`` tries to set ``alg`` or ``b64``.
    """
    if header and ("alg" in header or "b64" in header or "crit" in header):
        raise MalformedInputError(Code.MALFORMED, "alg, b64 and crit are set by the signer")
    extra = tuple(header.items()) if header else ()
    if all(type(value) is str for _, value in extra):
        encoded_header = _encoded_header(key.alg.value, typ, kid, extra)
    else:  # only text is a safe cache key: True == 1 == 1.0 as keys, not as JSON
        encoded_header = _encoded_header.__wrapped__(key.alg.value, typ, kid, extra)
    signing_input = f"{encoded_header}.{b64url_encode(payload)}"
    signature = key.sign(signing_input.encode("ascii"))
    return f"{signing_input}.{b64url_encode(signature)}"


@functools.lru_cache(maxsize=256)
def _encoded_header(
    alg: str, typ: str | None, kid: str | None, extra: tuple[tuple[str, JSONValue], ...]
) -> str:
    """The base64url protected header: an issuer signs with the same few, so it is kept."""
    protected: dict[str, JSONValue] = {"alg": alg}
    if typ is not None:
        protected["typ"] = typ
    if kid is not None:
        protected["kid"] = kid
    protected.update(extra)
    return b64url_encode(_json.dumps(protected))


def encode_jwt(
    claims: Mapping[str, JSONValue],
    key: PrivateKey,
    *,
    typ: str | None = None,
    kid: str | None = None,
    header: Mapping[str, JSONValue] | None = None,
) -> str:
    """Sign a JSON claims set as a compact JWT (RFC 7519 §7.1)."""
    payload = claims if isinstance(claims, dict) else dict(claims)
    return sign_compact(_json.dumps(payload), key, typ=typ, kid=kid, header=header)


def decode_jwt(
    token: str | bytes,
    key: PublicKey,
    *,
    typ: str | None = None,
    limits: Limits = _DEFAULT_LIMITS,
    understood_crit: frozenset[str] = frozenset(),
) -> VerifiedJWT:
    """Verify a compact JWT and parse its claims set, which must be a JSON object.

    Time claims (``exp``, ``nbf``, ``iat``) are checked by the caller against its injected
    clock; this function checks only what RFC 7519 §7.2 asks of every JWT.

    Raises:
        MalformedInputError, VerificationError: as :func:`verify_compact`, and ``malformed``
            if the payload is not a JSON object.
    """
    jws = verify_compact(token, key, typ=typ, limits=limits, understood_crit=understood_crit)
    claims = _json.loads_object(
        jws.payload,
        max_bytes=limits.max_token_bytes,
        max_depth=limits.max_json_depth,
        what="JWT claims",
    )
    return VerifiedJWT(header=jws.header, claims=claims)
