"""SD-JWT issuance (RFC 9901 §4.2.4-4.2.5): concealing claims, digests and decoys.

Selected properties move into their object's ``_sd`` array (sorted, with decoy digests so the
count of hidden claims does not leak), selected array elements become ``{"...": digest}``;
nested selections are concealed inside-out, so a disclosed object can itself hold concealed
claims. ``_sd_alg`` is ``sha-256``. Public as :func:`seoul_vc.credentials.sd_jwt.issue`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence

from seoul_vc._json import JSONValue
from seoul_vc.credentials._sd_format import (
    CONTAINER,
    RANDOM,
    RESERVED_NAMES,
    SD_ALG,
    ClaimPath,
    encode_disclosure,
    format_claim_path,
)
from seoul_vc.errors import Code, ConfigurationError, MalformedInputError
from seoul_vc.jose import encode_jwt
from seoul_vc.keys import PrivateKey, PublicKey


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
            if name in RESERVED_NAMES:
                raise MalformedInputError(
                    Code.DISCLOSURE_CONFLICT, "claims may not be named _sd or ...", field=name
                )
            if isinstance(child, CONTAINER):
                _check_names(child)
    elif isinstance(value, list):
        for child in value:
            if isinstance(child, CONTAINER):
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
        encoded, digest = encode_disclosure(RANDOM.salt(), name, value)
        self.encoded.append(encoded)
        return digest

    def _decoys(self) -> list[str]:
        # RFC 9901 §4.2.5: the digest of a random value, indistinguishable from a real one.
        count = RANDOM.count() if self.decoys is None else self.decoys
        return [RANDOM.decoy() for _ in range(count)]

    def _child(self, node: _PatternNode, value: JSONValue) -> JSONValue:
        if node.children:
            value = self.conceal(value, node)
        elif isinstance(value, CONTAINER):
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
                if name in RESERVED_NAMES:
                    raise MalformedInputError(
                        Code.DISCLOSURE_CONFLICT, "claims may not be named _sd or ...", field=name
                    )
                below = children.get(name)
                if below is None:
                    if isinstance(child, CONTAINER):
                        _check_names(child)
                    out[name] = child
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
                    if isinstance(child, CONTAINER):
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
