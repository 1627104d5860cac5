"""SD-JWT (RFC 9901): disclosures, digests, issuance, presentation and Key Binding JWTs.

This room holds the format, not the policy: :mod:`seoul_vc.credentials.verify` decides which
keys, types and audiences are acceptable and calls the pure pieces here.

* **Disclosures** (§4.2): ``base64url(UTF-8 JSON [salt, name, value])`` for an object
  property, ``[salt, value]`` for an array element; salts carry 128 bits from the OS CSPRNG
  (§9.3). The digest is ``base64url(SHA-256(ASCII of the disclosure as sent))`` (§4.2.3):
  the exact bytes matter, so a disclosure is never re-encoded once made.
* **Issuance** (§4.2.4-4.2.5): selected properties move into the object's ``_sd`` array
  (sorted, with decoy digests so the count of hidden claims does not leak), selected array
  elements become ``{"...": digest}``; nested selections are concealed inside-out, so a
  disclosed object can itself hold concealed claims. ``_sd_alg`` is ``sha-256``.
* **Presentation** (§4, §5.3): ``<issuer JWT>~<disclosure>~...~<KB-JWT>`` where the holder
  keeps only the disclosures asked for (and the ones enclosing them), and the Key Binding
  JWT (``typ: kb+jwt``) signs ``iat``, ``aud``, ``nonce`` and ``sd_hash``, the digest of the
  presentation up to and including its last ``~`` (§4.3.1).
* **Verification** (§7.1 and §7.3) to the letter: every disclosure referenced exactly once,
  no digest twice, no ``_sd``/``...`` claim names, no claim overridden, the right array
  shape for each kind; unreferenced disclosures are refused (the reference implementation
  accepts them), and the KB-JWT's ``typ``, ``iat`` window, ``aud``, ``nonce`` and
  ``sd_hash`` are all checked.

Claim paths are tuples as in SD-JWT VC claim paths: a string selects an object member, an
integer an array element, ``None`` every element of an array. :func:`parse_claim_path`
reads the CLI spelling ``address.city`` / ``nationalities[0]`` / ``nationalities[]``.

Example:
    >>> from seoul_vc.keys import PrivateKey
    >>> from seoul_vc.credentials import sd_jwt
    >>> issuer, holder = PrivateKey.generate(), PrivateKey.generate("ES256")
    >>> token = sd_jwt.issue(
    ...     {"iss": "did:example:issuer", "given_name": "Seo-yeon", "family_name": "Kim"},
    ...     issuer,
    ...     disclosable=[("given_name",), ("family_name",)],
    ...     typ="dc+sd-jwt",
    ...     holder_key=holder.public_key,
    ... )
    >>> shown = sd_jwt.present(
    ...     token, disclose=[("given_name",)], holder_key=holder, aud="x", nonce="n", iat=1
    ... )
    >>> parts = sd_jwt.split(shown)
    >>> len(parts.disclosures), parts.kb_jwt is not None
    (1, True)
"""

from __future__ import annotations

import binascii
import functools
import hashlib
import json
import os
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

from seoul_vc import _json
from seoul_vc._encoding import (
    B64URL_FROM_STD,
    b64url_decode_each,
    b64url_encode,
)
from seoul_vc._json import JSONObject, JSONValue
from seoul_vc.errors import (
    Code,
    ConfigurationError,
    MalformedInputError,
    VerificationError,
)
from seoul_vc.jose import CompactJWS, decode_jwt, encode_jwt, parse_compact, typ_matches
from seoul_vc.keys import PrivateKey, PublicKey
from seoul_vc.limits import Limits

__all__ = [
    "KB_JWT_TYP",
    "SD_ALG",
    "ClaimPath",
    "Disclosure",
    "KeyBinding",
    "ProcessedSDJWT",
    "SDJWTParts",
    "check_key_binding",
    "check_presentation_time",
    "claim_exists",
    "format_claim_path",
    "holder_key_of",
    "issue",
    "parse_claim_path",
    "present",
    "process",
    "sd_hash",
    "split",
]

#: The only ``_sd_alg`` issued and accepted (RFC 9901 §4.1.1; IANA "Named Information").
SD_ALG: Final = "sha-256"
#: ``typ`` of a Key Binding JWT (RFC 9901 §4.3).
KB_JWT_TYP: Final = "kb+jwt"
#: 128-bit salts (RFC 9901 §9.3 recommends at least 128 bits).
SALT_BYTES: Final = 16
#: Claim names a disclosure may never carry (RFC 9901 §7.1 step 3.3.2.2).
_RESERVED_NAMES: Final = frozenset({"_sd", "..."})
_DEFAULT_LIMITS: Final = Limits()
_PATH_RE: Final = re.compile(r"([^.\[\]]+)|\[(\d*)\]|(\.)")

ClaimPath = tuple[str | int | None, ...]
"""A claim path: member names, array indexes, ``None`` for every element of an array."""


_encode_string: Final = json.encoder.encode_basestring  # JSON string, non-ASCII kept as is
# isinstance tuples, made once: ``dict | list`` builds a new union at every evaluation.
_CONTAINER: Final = (dict, list)
_NUMBER: Final = (int, float)
_LITERALS: Final = {True: "true", False: "false", None: "null"}  # looked up by identity only


def _digest(encoded: str) -> str:
    return b64url_encode(hashlib.sha256(encoded.encode("ascii")).digest())


def _value_json(value: JSONValue) -> str:
    """``value`` as _json.dumps writes it; scalars without the encoder's per-call set-up."""
    if isinstance(value, str):
        return _encode_string(value)
    if value is True or value is False or value is None:
        return _LITERALS[value]
    if type(value) is int:
        return int.__repr__(value)
    return _json.dumps_text(value)


def _encode_disclosure(salt: str, name: str | None, value: JSONValue) -> tuple[str, bytes]:
    """Return ``(encoded, SHA-256 of encoded)`` of ``[salt, name, value]`` (RFC 9901 §4.2).

    The array is written as _json.dumps writes it (compact, non-ASCII kept), piece by piece.

    Raises:
        MalformedInputError: ``malformed`` for a value JSON cannot hold.
    """
    if name is None:
        array = f"[{_encode_string(salt)},{_value_json(value)}]"
    else:
        array = f"[{_encode_string(salt)},{_encode_string(name)},{_value_json(value)}]"
    try:
        raw = array.encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate has no UTF-8 form
        raise MalformedInputError(Code.MALFORMED, "value cannot be written as JSON") from exc
    encoded = binascii.b2a_base64(raw, newline=False).translate(B64URL_FROM_STD).rstrip(b"=")
    return encoded.decode("ascii"), hashlib.sha256(encoded).digest()


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


_RANDOM: Final = _Randomness()
os.register_at_fork(after_in_child=_RANDOM.clear)


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
        if name in _RESERVED_NAMES:
            raise MalformedInputError(
                Code.DISCLOSURE_CONFLICT, "a claim named _sd or ... cannot be disclosed"
            )
        salt = salt if salt is not None else _RANDOM.salt()
        encoded, digest = _encode_disclosure(salt, name, value)
        return _new_disclosure(cls, encoded, salt, name, value, b64url_encode(digest))

    @classmethod
    def decode(cls, encoded: str, *, limits: Limits = _DEFAULT_LIMITS) -> Disclosure:
        """Read a disclosure strictly: canonical base64url of a bounded JSON array.

        Raises:
            MalformedInputError: ``disclosure_malformed`` (and JSON bound codes).
            VerificationError: ``disclosure_conflict`` for the names ``_sd`` and ``...``.
        """
        return _decode_disclosures((encoded,), limits)[0]


def _decode_disclosures(encoded: Sequence[str], limits: Limits) -> list[Disclosure]:
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
            if name in _RESERVED_NAMES:
                raise VerificationError(
                    Code.DISCLOSURE_CONFLICT, "a disclosure may not name _sd or ..."
                )
        out.append(_new_disclosure(Disclosure, text, salt, name, array[-1], _digest(text)))
    return out


_SET: Final = object.__setattr__


def _new_disclosure(
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


def _is_under(path: ClaimPath, pattern: ClaimPath) -> bool:
    """True if ``path`` is ``pattern`` or lies inside it."""
    return len(path) >= len(pattern) and _matches(pattern, path[: len(pattern)])


class _PatternNode:
    """A node of the disclosable-path trie: children by member name, index or ``None``."""

    __slots__ = ("children", "ends")

    def __init__(self) -> None:
        self.children: dict[str | int | None, _PatternNode] = {}
        self.ends: list[int] = []  # the patterns that end here


@functools.lru_cache(maxsize=128)
def _pattern_trie(patterns: tuple[ClaimPath, ...]) -> _PatternNode:
    """The trie of ``patterns`` (shared between calls: never changed once built)."""
    root = _PatternNode()
    for number, pattern in enumerate(patterns):
        node = root
        for step in pattern:
            node = node.children.setdefault(step, _PatternNode())
        node.ends.append(number)
    return root


def _check_names(value: JSONValue) -> None:
    """Refuse claims named ``_sd`` or ``...`` anywhere in a value left in the clear."""
    if isinstance(value, dict):
        for name, child in value.items():
            if name in _RESERVED_NAMES:
                raise MalformedInputError(
                    Code.DISCLOSURE_CONFLICT, "claims may not be named _sd or ...", field=name
                )
            if isinstance(child, _CONTAINER):
                _check_names(child)
    elif isinstance(value, list):
        for child in value:
            if isinstance(child, _CONTAINER):
                _check_names(child)


class _Concealer:
    """Builds an SD-JWT payload: concealed claims out, digests and decoys in.

    The disclosable paths are a trie walked beside the claims, so a claim costs one dict
    lookup and a subtree no path enters is copied by reference after a name check.
    """

    def __init__(self, root: _PatternNode, count: int, decoys: int | None) -> None:
        self.root = root
        self.used = [False] * count
        self.decoys = decoys
        self.encoded: list[str] = []  # the disclosures, in the order they were made

    def _disclose(self, name: str | None, value: JSONValue) -> str:
        encoded, digest = _encode_disclosure(_RANDOM.salt(), name, value)
        self.encoded.append(encoded)
        return b64url_encode(digest)

    def _decoys(self) -> list[str]:
        # RFC 9901 §4.2.5: the digest of a random value, indistinguishable from a real one.
        count = _RANDOM.count() if self.decoys is None else self.decoys
        return [_RANDOM.decoy() for _ in range(count)]

    def _child(self, node: _PatternNode, value: JSONValue) -> JSONValue:
        if node.children:
            value = self.conceal(value, node)
        elif isinstance(value, _CONTAINER):
            _check_names(value)
        for number in node.ends:
            self.used[number] = True
        return value

    def conceal(self, value: JSONValue, node: _PatternNode) -> JSONValue:
        # Inside-out: a value's own concealed parts are built before it may be concealed.
        children = node.children
        if isinstance(value, dict):
            out: dict[str, JSONValue] = {}
            digests: list[str] = []
            for name, child in value.items():
                if name in _RESERVED_NAMES:
                    raise MalformedInputError(
                        Code.DISCLOSURE_CONFLICT, "claims may not be named _sd or ...", field=name
                    )
                below = children.get(name)
                if below is None:
                    if isinstance(child, _CONTAINER):
                        _check_names(child)
                    out[name] = child
                elif below.ends and not below.children:  # a leaf: disclosed as it is
                    if isinstance(child, _CONTAINER):
                        _check_names(child)
                    for number in below.ends:
                        self.used[number] = True
                    digests.append(self._disclose(name, child))
                elif below.ends:
                    digests.append(self._disclose(name, self._child(below, child)))
                else:
                    out[name] = self._child(below, child)
            if digests:
                digests += self._decoys()
                out["_sd"] = sorted(digests)  # sorted: the order reveals nothing (§4.2.4.1)
            return out
        if isinstance(value, list):
            every = children.get(None)
            items: list[JSONValue] = []
            for index, child in enumerate(value):
                below = children.get(index)
                if below is None and every is None:
                    if isinstance(child, _CONTAINER):
                        _check_names(child)
                    items.append(child)
                    continue
                hits = [n for n in (below, every) if n is not None]
                merged = hits[0] if len(hits) == 1 else _merged(hits)
                processed = self._child(merged, child)
                if merged.ends:
                    items.append({"...": self._disclose(None, processed)})
                else:
                    items.append(processed)
            return items
        return value


def _merged(nodes: Sequence[_PatternNode]) -> _PatternNode:
    """The union of trie nodes (an array element reached by its index and by ``None``)."""
    union = _PatternNode()
    for node in nodes:
        union.ends.extend(node.ends)
        for step, child in node.children.items():
            existing = union.children.get(step)
            union.children[step] = child if existing is None else _merged((existing, child))
    return union


def issue(
    claims: Mapping[str, JSONValue],
    key: PrivateKey,
    *,
    disclosable: Iterable[ClaimPath],
    typ: str,
    kid: str | None = None,
    holder_key: PublicKey | None = None,
    decoys: int | None = None,
    header: Mapping[str, JSONValue] | None = None,
) -> str:
    """Issue an SD-JWT: ``<issuer-signed JWT>~<disclosure>~...~`` (RFC 9901 §4-5).

    Args:
        claims: the full claim set; the paths in ``disclosable`` are concealed.
        key: the issuer's signing key.
        disclosable: claim paths to make selectively disclosable (``None`` = every element).
        typ: the JOSE ``typ`` (``dc+sd-jwt``, ``vc+sd-jwt``).
        kid: the issuer key's id (a DID URL).
        holder_key: put into ``cnf.jwk`` so presentations need a KB-JWT by that key.
        decoys: decoy digests per object with concealed claims (default: 1-3 at random).
        header: further protected header members.

    Raises:
        ConfigurationError: ``bad_argument`` if a disclosable path matches nothing, or the
            claims already hold ``_sd_alg`` or ``cnf`` that this function sets.
        MalformedInputError: ``disclosure_conflict`` for claims named ``_sd`` or ``...``.
    """
    patterns = tuple(tuple(p) for p in disclosable)
    if () in patterns:
        raise ConfigurationError(Code.BAD_ARGUMENT, "an empty claim path cannot be disclosable")
    if "_sd_alg" in claims or (holder_key is not None and "cnf" in claims):
        raise ConfigurationError(Code.BAD_ARGUMENT, "_sd_alg and cnf are set by the issuer")
    if decoys is not None and not 0 <= decoys <= 64:
        raise ConfigurationError(Code.BAD_ARGUMENT, "decoys must be between 0 and 64")
    concealer = _Concealer(_pattern_trie(patterns), len(patterns), decoys)
    payload = concealer.conceal(dict(claims), concealer.root)
    assert isinstance(payload, dict)  # noqa: S101 - conceal keeps an object an object
    if not all(concealer.used):
        unused = concealer.used.index(False)
        raise ConfigurationError(
            Code.BAD_ARGUMENT,
            "a disclosable claim path matches no claim",
            path=format_claim_path(patterns[unused]),
        )
    payload["_sd_alg"] = SD_ALG
    if holder_key is not None:
        payload["cnf"] = {"jwk": holder_key.to_jwk()}  # a fresh dict each call
    jwt = encode_jwt(payload, key, typ=typ, kid=kid, header=header)
    return "~".join((jwt, *concealer.encoded, ""))


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


def split(token: str, *, limits: Limits = _DEFAULT_LIMITS) -> SDJWTParts:
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
    return _digest(signed_part)


# -- verification: RFC 9901 §7.1 --------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class ProcessedSDJWT:
    """The payload after §7.1: disclosed claims in place, digests and ``_sd_alg`` removed.

    Attributes:
        claims: the processed claim set.
        disclosed: the claim path each disclosure revealed, in the order given.
    """

    claims: JSONObject
    disclosed: tuple[ClaimPath, ...]


class _Processor:
    def __init__(self, by_digest: dict[str, Disclosure], max_depth: int, max_digests: int) -> None:
        self.by_digest = by_digest
        self.max_digests = max_digests
        self.seen: set[str] = set()
        self.paths: dict[str, ClaimPath] = {}
        self.max_depth = max_depth

    def _claim_digest(self, digest: str) -> Disclosure | None:
        # §7.1 step 4: a digest may occur once in the payload and all disclosures together.
        if len(self.seen) >= self.max_digests:
            raise MalformedInputError(Code.TOO_LARGE, "too many digests", limit=self.max_digests)
        if digest in self.seen:
            raise VerificationError(Code.DISCLOSURE_REPEATED, "a digest appears more than once")
        self.seen.add(digest)
        return self.by_digest.get(digest)

    def walk(self, value: JSONValue, path: ClaimPath, depth: int) -> JSONValue:
        """A value at ``depth``: objects and arrays walked, scalars as they are."""
        if depth > self.max_depth:
            raise MalformedInputError(Code.TOO_DEEP, "the disclosed claims nest too deep")
        if isinstance(value, dict):
            return self._object(value, path, depth)
        if isinstance(value, list):
            return self._array(value, path, depth)
        return value

    def _object(self, value: JSONObject, path: ClaimPath, depth: int) -> JSONObject:
        out: dict[str, JSONValue] = {}
        below = depth + 1
        deep = below > self.max_depth
        for name, child in value.items():
            if name == "_sd":
                continue
            # Scalars are copied as they are; only objects and arrays need a walk.
            if isinstance(child, _CONTAINER) or deep:
                out[name] = self.walk(child, (*path, name), below)
            else:
                out[name] = child
        if "_sd" not in value:
            return out
        digests = value["_sd"]
        if not isinstance(digests, list) or not all(isinstance(d, str) for d in digests):
            raise MalformedInputError(Code.MALFORMED, "_sd is an array of digest strings")
        for digest in digests:
            assert isinstance(digest, str)  # noqa: S101 - checked just above
            disclosure = self._claim_digest(digest)
            if disclosure is None:
                continue  # a decoy or an undisclosed claim
            claim = disclosure.name
            if claim is None:
                raise MalformedInputError(
                    Code.DISCLOSURE_MALFORMED,
                    "an object property's disclosure has three elements (RFC 9901 §7.1)",
                )
            if claim in out or (claim == "_sd_alg" and not path):
                raise VerificationError(
                    Code.DISCLOSURE_CONFLICT, "a disclosure would override an existing claim"
                )
            child_path = (*path, claim)
            self.paths[disclosure.digest] = child_path
            disclosed = disclosure.value
            if isinstance(disclosed, _CONTAINER) or deep:
                disclosed = self.walk(disclosed, child_path, below)
            out[claim] = disclosed
        return out

    def _array(self, value: list[JSONValue], path: ClaimPath, depth: int) -> list[JSONValue]:
        out: list[JSONValue] = []
        below = depth + 1
        # Paths count positions in the issued array, as the holder's selections do.
        for position, element in enumerate(value):
            if isinstance(element, dict) and len(element) == 1 and "..." in element:
                digest = element["..."]
                if not isinstance(digest, str):
                    raise MalformedInputError(Code.MALFORMED, "an array digest is a string")
                disclosure = self._claim_digest(digest)
                if disclosure is None:
                    continue  # undisclosed element: removed (§7.1 step 3.4.2)
                if disclosure.name is not None:
                    raise MalformedInputError(
                        Code.DISCLOSURE_MALFORMED,
                        "an array element's disclosure has two elements (RFC 9901 §7.1)",
                    )
                child_path = (*path, position)
                self.paths[disclosure.digest] = child_path
                out.append(self.walk(disclosure.value, child_path, below))
            else:
                out.append(self.walk(element, (*path, position), below))
        return out


def process(
    payload: JSONObject,
    disclosures: Sequence[str],
    *,
    limits: Limits = _DEFAULT_LIMITS,
) -> ProcessedSDJWT:
    """Run RFC 9901 §7.1 step 3 over a verified issuer payload and the disclosures sent.

    The caller has verified the issuer JWT's signature (§7.1 step 2); this function checks
    ``_sd_alg``, decodes each disclosure, puts each disclosed claim where its digest is,
    and refuses what the RFC refuses.

    Raises:
        MalformedInputError: ``disclosure_malformed``, ``malformed``, ``too_deep``.
        VerificationError: ``unsupported_sd_alg``, ``disclosure_repeated``,
            ``disclosure_unreferenced``, ``disclosure_conflict``.
    """
    alg = payload.get("_sd_alg", SD_ALG)
    if alg != SD_ALG:
        raise VerificationError(Code.UNSUPPORTED_SD_ALG, "_sd_alg must be sha-256")
    if len(disclosures) > limits.max_disclosures:
        raise MalformedInputError(
            Code.TOO_LARGE, "too many disclosures", limit=limits.max_disclosures
        )
    by_digest: dict[str, Disclosure] = {}
    for disclosure in _decode_disclosures(disclosures, limits):
        if disclosure.digest in by_digest:
            raise VerificationError(Code.DISCLOSURE_REPEATED, "a disclosure is sent twice")
        by_digest[disclosure.digest] = disclosure
    # Digests (decoys included) are bounded like disclosures: a few decoys per object.
    processor = _Processor(by_digest, limits.max_json_depth, 4 * limits.max_disclosures)
    top = {k: v for k, v in payload.items() if k != "_sd_alg"}
    claims = processor.walk(top, (), 1)
    assert isinstance(claims, dict)  # noqa: S101 - an object stays an object
    if len(processor.paths) != len(by_digest):
        # §7.1 step 5: every disclosure must be referenced from the payload.
        raise VerificationError(
            Code.DISCLOSURE_UNREFERENCED, "a disclosure is not referenced by any digest"
        )
    return ProcessedSDJWT(
        claims=claims,
        disclosed=tuple(processor.paths[d] for d in by_digest),
    )


def holder_key_of(claims: Mapping[str, JSONValue]) -> PublicKey | None:
    """Return the holder key of ``cnf.jwk`` (RFC 7800 §3.2), or ``None`` without ``cnf``.

    Raises:
        MalformedInputError: ``malformed`` for a ``cnf`` without a ``jwk``; key errors
            (``invalid_key``, ``weak_key``, ``private_key_material``) for a bad key.
    """
    if "cnf" not in claims:
        return None
    cnf = claims["cnf"]
    if not isinstance(cnf, dict) or not isinstance(cnf.get("jwk"), dict):
        raise MalformedInputError(Code.MALFORMED, "cnf must carry the holder key as a jwk")
    jwk = cnf["jwk"]
    assert isinstance(jwk, dict)  # noqa: S101 - checked just above
    return PublicKey.from_jwk(jwk)


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyBinding:
    """A verified Key Binding JWT's claims."""

    aud: str
    nonce: str
    iat: int


def check_key_binding(
    parts: SDJWTParts,
    holder_key: PublicKey,
    *,
    aud: str | None,
    nonce: str | None,
    now: int,
    limits: Limits = _DEFAULT_LIMITS,
) -> KeyBinding:
    """Verify the KB-JWT of a presentation (RFC 9901 §7.3), every step.

    Checks ``typ`` is ``kb+jwt``, ``alg`` is allowed and fits the holder key, the signature,
    ``iat`` within :func:`check_presentation_time`, ``exp``/``nbf`` when present, ``aud``
    and ``nonce`` strings equal to the verifier's (``None``: the caller does not check that
    one, and must report so), and ``sd_hash`` over the exact presentation.

    Raises:
        VerificationError: ``kb_jwt_missing``, ``kb_jwt_invalid``, ``invalid_signature``,
            ``algorithm_key_mismatch``, ``audience_mismatch``, ``nonce_mismatch``,
            ``sd_hash_mismatch``, ``expired``, ``not_yet_valid``.
        MalformedInputError: for a malformed KB-JWT.
    """
    if parts.kb_jwt is None:
        raise VerificationError(Code.KB_JWT_MISSING, "the presentation has no Key Binding JWT")
    try:
        verified = decode_jwt(parts.kb_jwt, holder_key, typ=KB_JWT_TYP, limits=limits)
    except VerificationError as exc:
        if exc.code is Code.WRONG_TYPE:
            raise VerificationError(Code.KB_JWT_INVALID, "the KB-JWT's typ is not kb+jwt") from exc
        raise
    claims = verified.claims
    iat = check_presentation_time(claims.get("iat"), now, limits)
    _check_optional_times(claims, now, int(limits.clock_skew.total_seconds()))
    kb_aud, kb_nonce = claims.get("aud"), claims.get("nonce")
    if aud is not None and kb_aud != aud:
        raise VerificationError(Code.AUDIENCE_MISMATCH, "the KB-JWT is for another audience")
    if nonce is not None and kb_nonce != nonce:
        raise VerificationError(Code.NONCE_MISMATCH, "the KB-JWT carries another nonce")
    if not isinstance(kb_aud, str) or not isinstance(kb_nonce, str):
        raise VerificationError(Code.KB_JWT_INVALID, "the KB-JWT needs aud and nonce strings")
    got = claims.get("sd_hash")
    if not isinstance(got, str) or not secrets.compare_digest(got, sd_hash(parts.signed_part)):
        raise VerificationError(
            Code.SD_HASH_MISMATCH, "sd_hash does not match the presented SD-JWT"
        )
    return KeyBinding(aud=kb_aud, nonce=kb_nonce, iat=iat)


def check_presentation_time(iat: object, now: int, limits: Limits = _DEFAULT_LIMITS) -> int:
    """Check a holder's ``iat`` (KB-JWT or ``vp+jwt``, RFC 9901 §7.3 step 5).

    It must be an integer, at most ``clock_skew`` ahead of ``now`` and at most
    ``kb_jwt_max_age + clock_skew`` behind.

    Raises:
        VerificationError: ``kb_jwt_invalid``.
    """
    if isinstance(iat, bool) or not isinstance(iat, int):
        raise VerificationError(Code.KB_JWT_INVALID, "the holder's iat is not an integer")
    skew = int(limits.clock_skew.total_seconds())
    if iat > now + skew:
        raise VerificationError(Code.KB_JWT_INVALID, "the holder signed in the future")
    if iat < now - int(limits.kb_jwt_max_age.total_seconds()) - skew:
        raise VerificationError(Code.KB_JWT_INVALID, "the holder's signature is too old")
    return iat


def _check_optional_times(claims: Mapping[str, JSONValue], now: int, skew: int) -> None:
    for name in ("exp", "nbf"):
        if name in claims:
            value = claims[name]
            if isinstance(value, bool) or not isinstance(value, _NUMBER):
                raise VerificationError(Code.KB_JWT_INVALID, f"the KB-JWT's {name} is a number")
    exp, nbf = claims.get("exp"), claims.get("nbf")
    if isinstance(exp, _NUMBER) and now - skew >= exp:
        raise VerificationError(Code.EXPIRED, "the KB-JWT has expired")
    if isinstance(nbf, _NUMBER) and now + skew < nbf:
        raise VerificationError(Code.NOT_YET_VALID, "the KB-JWT is not yet valid")


# -- the holder: presentations ----------------------------------------------------------------


def _index_disclosures(
    payload: JSONValue, by_digest: Mapping[str, Disclosure]
) -> list[tuple[ClaimPath, Disclosure, Disclosure | None]]:
    """Return ``(path, disclosure, enclosing disclosure)`` for each disclosure reachable."""
    found: list[tuple[ClaimPath, Disclosure, Disclosure | None]] = []

    def walk(value: JSONValue, path: ClaimPath, parent: Disclosure | None) -> None:
        if isinstance(value, dict):
            for name, child in value.items():
                if name != "_sd" and isinstance(child, _CONTAINER):
                    walk(child, (*path, name), parent)
            sd = value.get("_sd")
            if isinstance(sd, list):
                for digest in sd:
                    d = by_digest.get(digest) if isinstance(digest, str) else None
                    if d is not None and d.name is not None:
                        here = (*path, d.name)
                        found.append((here, d, parent))
                        if isinstance(d.value, _CONTAINER):
                            walk(d.value, here, d)
        elif isinstance(value, list):
            for index, element in enumerate(value):
                if isinstance(element, dict) and len(element) == 1 and "..." in element:
                    digest = element["..."]
                    d = by_digest.get(digest) if isinstance(digest, str) else None
                    if d is not None and d.name is None:
                        here = (*path, index)
                        found.append((here, d, parent))
                        if isinstance(d.value, _CONTAINER):
                            walk(d.value, here, d)
                elif isinstance(element, _CONTAINER):
                    walk(element, (*path, index), parent)

    walk(payload, (), None)
    return found


@dataclass(frozen=True, slots=True)
class _Held:
    """An issued SD-JWT as its holder reads it to present it (see :func:`_held`).

    Attributes:
        disclosures: every disclosure, in issuance order.
        chain: for each disclosure's digest, it and the disclosures enclosing it: what
            must be sent to reveal it.
        under: for each claim path a disclosure sits at or under, those disclosures.
        at: the disclosure at each path.
    """

    issuer_jwt: str
    typ: JSONValue
    payload: JSONObject
    disclosures: tuple[Disclosure, ...]
    index: list[tuple[ClaimPath, Disclosure, Disclosure | None]]
    chain: dict[str, tuple[str, ...]]
    under: dict[ClaimPath, list[Disclosure]]
    at: dict[ClaimPath, Disclosure]


@functools.lru_cache(maxsize=256)
def _held(token: str, limits: Limits) -> _Held:
    """Parse an issued SD-JWT for presenting, once per token.

    A holder presents the same credential many times (each consented view is one); the
    parse — payload, every disclosure decoded and hashed, the index of where each sits — is
    a pure function of the token's text, so it is kept for the last 256 tokens. Nothing
    here is trusted: the holder reads its own credential, and verifiers parse afresh. The
    values are shared between calls and never mutated.

    Raises:
        ConfigurationError: ``bad_argument`` for a presentation (a token with a KB-JWT).
        MalformedInputError: for a token that does not parse (errors are not cached).
    """
    parts = split(token, limits=limits)
    if parts.kb_jwt is not None:
        raise ConfigurationError(Code.BAD_ARGUMENT, "present from the issued SD-JWT, not a KB one")
    jws = parse_compact(parts.issuer_jwt, limits=limits)
    payload = _payload(jws, limits)
    disclosures = tuple(_decode_disclosures(parts.disclosures, limits))
    by_digest = {d.digest: d for d in disclosures}
    index = _index_disclosures(payload, by_digest)
    chain: dict[str, tuple[str, ...]] = {}
    under: dict[ClaimPath, list[Disclosure]] = {}
    at: dict[ClaimPath, Disclosure] = {}
    for path, d, parent in index:  # parents come before what they enclose
        chain[d.digest] = (d.digest, *(chain[parent.digest] if parent is not None else ()))
        at[path] = d
        for size in range(1, len(path) + 1):
            under.setdefault(path[:size], []).append(d)
    return _Held(
        parts.issuer_jwt, jws.header.get("typ"), payload, disclosures, index, chain, under, at
    )


def present(
    token: str,
    *,
    disclose: Iterable[ClaimPath],
    holder_key: PrivateKey | None = None,
    aud: str | None = None,
    nonce: str | None = None,
    iat: int | None = None,
    prefix_by_typ: Mapping[str, ClaimPath] | None = None,
    limits: Limits = _DEFAULT_LIMITS,
) -> str:
    """Build a presentation that reveals only the claims under ``disclose`` (RFC 9901 §5.3).

    A path discloses the claim there and everything concealed inside it; the disclosures
    enclosing it (its parent objects) come along, as the verifier needs them to reach it.
    Array paths count positions in the issued array. With ``holder_key`` a KB-JWT is added
    over ``aud``, ``nonce``, ``iat`` and ``sd_hash``; it is required when the credential
    carries ``cnf``, and must be the key named there. ``prefix_by_typ`` puts a prefix before
    every path when the JWS ``typ`` is a key of it (``vc+sd-jwt`` keeps the subject under
    ``credentialSubject``).

    Raises:
        ConfigurationError: ``bad_argument`` if a path reaches no claim, if ``holder_key``
            comes without ``aud``/``nonce``/``iat`` or is not the ``cnf`` key, or if the
            credential needs key binding and no holder key is given.
        MalformedInputError: for a token that does not parse.
    """
    held = _held(token, limits)
    payload = held.payload
    prefix = next((p for t, p in (prefix_by_typ or {}).items() if typ_matches(held.typ, t)), ())
    chosen: set[str] = set()
    for pattern in disclose:
        pattern = (*prefix, *pattern)
        found = _around(held, pattern)
        if not found and not claim_exists(payload, pattern):
            raise ConfigurationError(
                Code.BAD_ARGUMENT, "no claim at that path", path=format_claim_path(pattern)
            )
        for d in found:
            chosen.update(held.chain[d.digest])
    kept = [d.encoded for d in held.disclosures if d.digest in chosen]  # issuance order
    signed_part = "~".join((held.issuer_jwt, *kept, ""))
    if holder_key is None:
        if "cnf" in payload:
            raise ConfigurationError(
                Code.BAD_ARGUMENT, "this credential is holder-bound: a holder key is needed"
            )
        return signed_part
    if aud is None or nonce is None or iat is None:
        raise ConfigurationError(Code.BAD_ARGUMENT, "key binding needs aud, nonce and iat")
    if "cnf" in payload and not _is_cnf_key(payload["cnf"], holder_key.public_key):
        raise ConfigurationError(Code.BAD_ARGUMENT, "the holder key is not the credential's cnf")
    kb = encode_jwt(
        {"iat": iat, "aud": aud, "nonce": nonce, "sd_hash": sd_hash(signed_part)},
        holder_key,
        typ=KB_JWT_TYP,
    )
    return signed_part + kb


def _around(held: _Held, pattern: ClaimPath) -> list[Disclosure]:
    """The disclosures at or under ``pattern``, and those strictly above it."""
    size = len(pattern)
    if None in pattern:
        return [d for path, d, _ in held.index if _is_under(path, pattern)] + [
            d for path, d, _ in held.index if len(path) < size and _is_under(pattern, path)
        ]
    found = list(held.under.get(pattern, ()))
    at = held.at
    found.extend(at[pattern[:k]] for k in range(1, size) if pattern[:k] in at)
    return found


def _is_cnf_key(cnf: JSONValue, key: PublicKey) -> bool:
    """True if ``cnf.jwk`` names ``key``: its required members (RFC 7638 §3.2) are ``key``'s.

    The holder compares members instead of importing the JWK: the key it signs with is
    already valid, so equal members are the same key.
    """
    jwk = cnf.get("jwk") if isinstance(cnf, dict) else None
    if not isinstance(jwk, dict):
        return False
    return all(jwk.get(name) == value for name, value in key.to_jwk().items())


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


def _payload(jws: CompactJWS, limits: Limits) -> JSONObject:
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
