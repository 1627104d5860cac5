"""The SD-JWT wire format (RFC 9901 §4): disclosures, the ``~`` form and claim paths.

The shared ground of :mod:`seoul_vc.credentials.sd_jwt` (verification), issuance
(:mod:`._sd_issue`) and presentation (:mod:`._sd_holder`):

* **Disclosures** (§4.2): ``base64url(UTF-8 JSON [salt, name, value])`` for an object
  property, ``[salt, value]`` for an array element; salts carry 128 bits from the OS CSPRNG
  (§9.3). The digest is ``base64url(SHA-256(ASCII of the disclosure as sent))`` (§4.2.3):
  the exact bytes matter, so a disclosure is never re-encoded once made.
* **The compact form** ``<issuer JWT>~<disclosure>~...~[<KB-JWT>]`` split strictly and
  boundedly, and ``sd_hash`` over everything up to the last ``~`` (§4.3.1).
* **Claim paths**, as tuples like SD-JWT VC claim paths: a string selects an object member,
  an integer an array element, ``None`` every element of an array.
"""

from __future__ import annotations

import binascii
import functools
import hashlib
import json
import os
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

from seoul_vc import _json
from seoul_vc._encoding import B64URL_FROM_STD, b64url_decode_each, b64url_encode
from seoul_vc._json import JSONObject, JSONValue
from seoul_vc.errors import Code, ConfigurationError, MalformedInputError, VerificationError
from seoul_vc.jose import CompactJWS
from seoul_vc.limits import Limits

#: The only ``_sd_alg`` issued and accepted (RFC 9901 §4.1.1; IANA "Named Information").
SD_ALG: Final = "sha-256"
#: ``typ`` of a Key Binding JWT (RFC 9901 §4.3).
KB_JWT_TYP: Final = "kb+jwt"
#: 128-bit salts (RFC 9901 §9.3 recommends at least 128 bits).
SALT_BYTES: Final = 16
#: Claim names a disclosure may never carry (RFC 9901 §7.1 step 3.3.2.2).
RESERVED_NAMES: Final = frozenset({"_sd", "..."})
DEFAULT_LIMITS: Final = Limits()
_PATH_RE: Final = re.compile(r"([^.\[\]]+)|\[(\d*)\]|(\.)")

ClaimPath = tuple[str | int | None, ...]
"""A claim path: member names, array indexes, ``None`` for every element of an array."""


encode_string: Final = json.encoder.encode_basestring  # JSON string, non-ASCII kept as is
# isinstance tuples, made once: ``dict | list`` builds a new union at every evaluation.
CONTAINER: Final = (dict, list)
NUMBER: Final = (int, float)
_LITERALS: Final = {True: "true", False: "false", None: "null"}  # looked up by identity only


def digest_text(encoded: str) -> str:
    return b64url_encode(hashlib.sha256(encoded.encode("ascii")).digest())


def _value_json(value: JSONValue) -> str:
    """``value`` as _json.dumps writes it; scalars without the encoder's per-call set-up."""
    if isinstance(value, str):
        return encode_string(value)
    if value is True or value is False or value is None:
        return _LITERALS[value]
    if type(value) is int:
        return int.__repr__(value)
    return _json.dumps_text(value)


def encode_disclosure(salt: str, name: str | None, value: JSONValue) -> tuple[str, str]:
    """Return ``(encoded, digest)`` of the disclosure ``[salt, name, value]`` (RFC 9901 §4.2).

    The array is written as _json.dumps writes it (compact, non-ASCII kept), piece by piece.

    Raises:
        MalformedInputError: ``malformed`` for a value JSON cannot hold.
    """
    if name is None:
        array = f"[{encode_string(salt)},{_value_json(value)}]"
    else:
        array = f"[{encode_string(salt)},{encode_string(name)},{_value_json(value)}]"
    try:
        raw = array.encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate has no UTF-8 form
        raise MalformedInputError(Code.MALFORMED, "value cannot be written as JSON") from exc
    encoded = b64url_encode(raw)
    return encoded, digest_text(encoded)


def _b64_digests(raws: Sequence[bytes]) -> list[str]:
    """base64url of many SHA-256 digests, in one encoding.

    Each 32-byte digest is followed by a zero byte: 33 bytes are 44 characters, the first 43
    of them exactly the digest's own unpadded encoding (the zero byte leaves the spare low
    bits of the 43rd character zero, as canonical base64url has them).
    """
    text = (
        binascii.b2a_base64(b"\0".join((*raws, b"")), newline=False)
        .translate(B64URL_FROM_STD)
        .decode("ascii")
    )
    return [text[i : i + 43] for i in range(0, 44 * len(raws), 44)]


class _Randomness:
    """Salts, decoy digests and decoy counts from the OS CSPRNG, made a block at a time.

    Each salt is 16 bytes (128 bits, RFC 9901 §9.3) written as unpadded base64url: 22
    characters. A block lays the salts out 18 bytes apart, each one's 16 random bytes followed
    by two zero bytes, and encodes the block at once: 18 bytes are 24 characters, and the
    first 22 of each 24 are exactly that salt's own encoding (the zero bytes leave the spare
    low bits of the 22nd character zero, as canonical base64url has them). Decoy digests are
    SHA-256 over 16 fresh random bytes each (§4.2.5), encoded together by
    :func:`_b64_digests`; decoy counts are uniform over 1-3, by rejection from random bytes.
    Nothing is handed out twice (``list.pop`` is atomic across threads), and a forked child
    drops every pool, so no two processes share a salt.
    """

    _BLOCK: Final = 64

    def __init__(self) -> None:
        self._salts: list[str] = []
        self._decoys: list[str] = []
        self._counts: list[int] = []

    def clear(self) -> None:
        self._salts, self._decoys, self._counts = [], [], []

    def salt(self) -> str:
        """A fresh 128-bit salt as base64url."""
        try:
            return self._salts.pop()
        except IndexError:
            block = bytearray(secrets.token_bytes(18 * self._BLOCK))
            block[SALT_BYTES::18] = bytes(self._BLOCK)  # bytes 16 and 17 of each 18: zero
            block[SALT_BYTES + 1 :: 18] = bytes(self._BLOCK)
            text = binascii.b2a_base64(block, newline=False).translate(B64URL_FROM_STD).decode()
            fresh = [text[i : i + 22] for i in range(0, len(text), 24)]
            salt = fresh.pop()
            self._salts.extend(fresh)
            return salt

    def decoy(self) -> str:
        """A decoy digest: base64url SHA-256 of a fresh random value (RFC 9901 §4.2.5)."""
        try:
            return self._decoys.pop()
        except IndexError:
            block = secrets.token_bytes(SALT_BYTES * self._BLOCK)
            fresh = _b64_digests(
                [
                    hashlib.sha256(block[i : i + SALT_BYTES]).digest()
                    for i in range(0, len(block), SALT_BYTES)
                ]
            )
            decoy = fresh.pop()
            self._decoys.extend(fresh)
            return decoy

    def count(self) -> int:
        """A decoy count, uniform over 1, 2 and 3."""
        try:
            return self._counts.pop()
        except IndexError:
            # 255 = 3 x 85: bytes below it are uniform modulo 3; the one above is dropped.
            fresh = [1 + b % 3 for b in secrets.token_bytes(self._BLOCK) if b < 255]
            count = fresh.pop()
            self._counts.extend(fresh)
            return count


RANDOM: Final = _Randomness()
os.register_at_fork(after_in_child=RANDOM.clear)


@dataclass(frozen=True, slots=True, kw_only=True)
class Disclosure:
    """One disclosure as sent (``encoded``) and as read.

    Attributes:
        encoded: the base64url string, exactly as issued; its digest is over these bytes.
        salt: the salt.
        name: the claim name, or ``None`` for an array element.
        value: the claim value (may itself contain ``_sd`` digests).
        digest: ``base64url(SHA-256(encoded))``.
    """

    encoded: str
    salt: str
    name: str | None
    value: JSONValue = field(repr=False)
    digest: str

    @classmethod
    def create(cls, name: str | None, value: JSONValue, *, salt: str | None = None) -> Disclosure:
        """Make a disclosure with a fresh 128-bit salt (RFC 9901 §4.2.1-4.2.2).

        Raises:
            MalformedInputError: ``disclosure_conflict`` for the names ``_sd`` and ``...``.
        """
        if name in RESERVED_NAMES:
            raise MalformedInputError(
                Code.DISCLOSURE_CONFLICT, "a claim named _sd or ... cannot be disclosed"
            )
        salt = salt if salt is not None else RANDOM.salt()
        encoded, digest = encode_disclosure(salt, name, value)
        return new_disclosure(cls, encoded, salt, name, value, digest)

    @classmethod
    def decode(cls, encoded: str, *, limits: Limits = DEFAULT_LIMITS) -> Disclosure:
        """Read a disclosure strictly: canonical base64url of a bounded JSON array.

        Raises:
            MalformedInputError: ``disclosure_malformed`` (and JSON bound codes).
            VerificationError: ``disclosure_conflict`` for the names ``_sd`` and ``...``.
        """
        return decode_disclosures((encoded,), limits)[0]


def decode_disclosures(encoded: Sequence[str], limits: Limits) -> list[Disclosure]:
    """:meth:`Disclosure.decode` each of ``encoded``, their base64url checked together."""
    try:
        raws = b64url_decode_each(encoded, what="disclosure")
    except MalformedInputError as exc:
        raise MalformedInputError(
            Code.DISCLOSURE_MALFORMED, "a disclosure is not canonical base64url"
        ) from exc
    max_bytes, max_depth = limits.max_token_bytes, limits.max_json_depth
    out: list[Disclosure] = []
    for text, raw in zip(encoded, raws, strict=True):
        array = _json.loads(raw, max_bytes=max_bytes, max_depth=max_depth, what="disclosure")
        if type(array) is not list or len(array) not in (2, 3):
            raise MalformedInputError(
                Code.DISCLOSURE_MALFORMED, "a disclosure is a JSON array of 2 or 3 elements"
            )
        salt = array[0]
        if not isinstance(salt, str):
            raise MalformedInputError(Code.DISCLOSURE_MALFORMED, "a disclosure's salt is a string")
        name: str | None = None
        if len(array) == 3:
            name = array[1]
            if not isinstance(name, str):
                raise MalformedInputError(
                    Code.DISCLOSURE_MALFORMED, "a disclosure's claim name is a string"
                )
            if name in RESERVED_NAMES:
                raise VerificationError(
                    Code.DISCLOSURE_CONFLICT, "a disclosure may not name _sd or ..."
                )
        out.append(new_disclosure(Disclosure, text, salt, name, array[-1], digest_text(text)))
    return out


_SET: Final = object.__setattr__


def new_disclosure(
    cls: type[Disclosure], encoded: str, salt: str, name: str | None, value: JSONValue, digest: str
) -> Disclosure:
    """Build a :class:`Disclosure` as its frozen ``__init__`` would, at a third of the cost.

    A presentation carries a disclosure per claim and every one is built here, so the
    generated keyword-only ``__init__`` (about 2.4 µs) is skipped for direct slot writes.
    """
    disclosure = object.__new__(cls)
    _SET(disclosure, "encoded", encoded)
    _SET(disclosure, "salt", salt)
    _SET(disclosure, "name", name)
    _SET(disclosure, "value", value)
    _SET(disclosure, "digest", digest)
    return disclosure


def _matches(pattern: ClaimPath, path: ClaimPath) -> bool:
    if len(pattern) != len(path):
        return False
    if None not in pattern:
        return pattern == path
    return all(
        p == c or (p is None and isinstance(c, int)) for p, c in zip(pattern, path, strict=True)
    )


def is_under(path: ClaimPath, pattern: ClaimPath) -> bool:
    """True if ``path`` is ``pattern`` or lies inside it."""
    return len(path) >= len(pattern) and _matches(pattern, path[: len(pattern)])


@dataclass(frozen=True, slots=True, kw_only=True)
class SDJWTParts:
    """An SD-JWT split at its ``~`` separators (RFC 9901 §4), nothing yet verified.

    Attributes:
        issuer_jwt: the issuer-signed JWT.
        disclosures: the disclosures, as sent.
        kb_jwt: the Key Binding JWT, or ``None`` if the token ends with ``~``.
        signed_part: everything up to and including the last ``~``: the ``sd_hash`` input.
    """

    issuer_jwt: str
    disclosures: tuple[str, ...]
    kb_jwt: str | None
    signed_part: str = field(repr=False)


def split(token: str, *, limits: Limits = DEFAULT_LIMITS) -> SDJWTParts:
    """Split an SD-JWT or SD-JWT+KB into its parts, bounded by ``limits``.

    Raises:
        MalformedInputError: ``too_large``, ``malformed`` (no ``~``, empty disclosure,
            non-ASCII), ``disclosure_malformed`` beyond ``max_disclosures``.
    """
    if not isinstance(token, str):
        raise MalformedInputError(Code.MALFORMED, "an SD-JWT is text")
    if len(token) > limits.max_token_bytes:
        raise MalformedInputError(
            Code.TOO_LARGE, "the SD-JWT is too large", limit=limits.max_token_bytes
        )
    if not token.isascii():
        raise MalformedInputError(Code.MALFORMED, "an SD-JWT is ASCII")
    if token.count("~") > limits.max_disclosures + 1:
        raise MalformedInputError(
            Code.TOO_LARGE, "too many disclosures", limit=limits.max_disclosures
        )
    parts = token.split("~")
    if len(parts) < 2:
        raise MalformedInputError(Code.MALFORMED, "an SD-JWT has at least one ~ (RFC 9901 §4)")
    issuer_jwt, *disclosures, last = parts
    if not issuer_jwt or any(not d for d in disclosures):
        raise MalformedInputError(Code.MALFORMED, "an SD-JWT has no empty parts between ~")
    cut = token.rfind("~") + 1
    return SDJWTParts(
        issuer_jwt=issuer_jwt,
        disclosures=tuple(disclosures),
        kb_jwt=last or None,
        signed_part=token[:cut],
    )


def sd_hash(signed_part: str) -> str:
    """Return ``sd_hash``: base64url SHA-256 over the ASCII presentation (RFC 9901 §4.3.1)."""
    return digest_text(signed_part)


def claim_exists(payload: JSONValue, path: ClaimPath) -> bool:
    """Return True if ``path`` reaches a plain (not concealed) value of ``payload``.

    ``None`` steps look at the first element of a non-empty array.
    """
    node = payload
    for step in path:
        if isinstance(node, list) and step is None and node:
            step = 0
        member = isinstance(node, dict) and isinstance(step, str) and step in node
        element = isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node)
        if not (member or element):
            return False
        node = node[step]  # type: ignore[index]
    return True


def payload_of(jws: CompactJWS, limits: Limits) -> JSONObject:
    return _json.loads_object(
        jws.payload,
        max_bytes=limits.max_token_bytes,
        max_depth=limits.max_json_depth,
        what="SD-JWT payload",
    )


# -- claim paths ------------------------------------------------------------------------------


def parse_claim_path(text: str) -> ClaimPath:
    """Read ``address.city``, ``nationalities[0]`` or ``nationalities[]`` as a claim path.

    Raises:
        ConfigurationError: ``bad_argument`` for an empty or ill-formed path.
    """
    if not isinstance(text, str):
        raise ConfigurationError(Code.BAD_ARGUMENT, "a claim path is text")
    return _parse_claim_path(text)


@functools.lru_cache(maxsize=1024)
def _parse_claim_path(text: str) -> ClaimPath:
    if not text or len(text) > 512:
        raise ConfigurationError(Code.BAD_ARGUMENT, "a claim path is 1-512 characters")
    out: list[str | int | None] = []
    pos = 0
    expect_name = True
    while pos < len(text):
        match = _PATH_RE.match(text, pos)
        if match is None:
            raise ConfigurationError(Code.BAD_ARGUMENT, "ill-formed claim path")
        name, index, dot = match.groups()
        if name is not None:
            if not expect_name:
                raise ConfigurationError(Code.BAD_ARGUMENT, "ill-formed claim path")
            out.append(name)
            expect_name = False
        elif dot is not None:
            if expect_name:
                raise ConfigurationError(Code.BAD_ARGUMENT, "ill-formed claim path")
            expect_name = True
        else:
            if expect_name or (index and (len(index) > 9 or str(int(index)) != index)):
                raise ConfigurationError(Code.BAD_ARGUMENT, "ill-formed claim path")
            out.append(int(index) if index else None)
        pos = match.end()
    if expect_name:
        raise ConfigurationError(Code.BAD_ARGUMENT, "ill-formed claim path")
    return tuple(out)


def format_claim_path(path: ClaimPath) -> str:
    """Write a claim path the way :func:`parse_claim_path` reads it."""
    out = ""
    for step in path:
        if isinstance(step, str):
            out += ("." if out else "") + step
        else:
            out += "[]" if step is None else f"[{step}]"
    return out
