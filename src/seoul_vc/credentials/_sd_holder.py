"""SD-JWT presentation by the holder (RFC 9901 §4, §5.3): disclosures chosen, a KB-JWT added.

``<issuer JWT>~<disclosure>~...~<KB-JWT>`` where the holder keeps only the disclosures asked
for (and the ones enclosing them), and the Key Binding JWT (``typ: kb+jwt``) signs ``iat``,
``aud``, ``nonce`` and ``sd_hash``. Public as :func:`seoul_vc.credentials.sd_jwt.present`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from seoul_vc._json import JSONObject, JSONValue
from seoul_vc.credentials._sd_format import (
    CONTAINER,
    DEFAULT_LIMITS,
    KB_JWT_TYP,
    ClaimPath,
    Disclosure,
    claim_exists,
    decode_disclosures,
    format_claim_path,
    is_under,
    payload_of,
    sd_hash,
    split,
)
from seoul_vc.errors import Code, ConfigurationError
from seoul_vc.jose import encode_jwt, parse_compact, typ_matches
from seoul_vc.keys import PrivateKey, PublicKey
from seoul_vc.limits import Limits

# -- the holder: presentations ----------------------------------------------------------------


def _index_disclosures(
    payload: JSONValue, by_digest: Mapping[str, Disclosure]
) -> list[tuple[ClaimPath, Disclosure, Disclosure | None]]:
    """Return ``(path, disclosure, enclosing disclosure)`` for each disclosure reachable."""
    found: list[tuple[ClaimPath, Disclosure, Disclosure | None]] = []

    def walk(value: JSONValue, path: ClaimPath, parent: Disclosure | None) -> None:
        if isinstance(value, dict):
            for name, child in value.items():
                if name != "_sd" and isinstance(child, CONTAINER):
                    walk(child, (*path, name), parent)
            sd = value.get("_sd")
            if isinstance(sd, list):
                for digest in sd:
                    d = by_digest.get(digest) if isinstance(digest, str) else None
                    if d is not None and d.name is not None:
                        here = (*path, d.name)
                        found.append((here, d, parent))
                        if isinstance(d.value, CONTAINER):
                            walk(d.value, here, d)
        elif isinstance(value, list):
            for index, element in enumerate(value):
                if isinstance(element, dict) and len(element) == 1 and "..." in element:
                    digest = element["..."]
                    d = by_digest.get(digest) if isinstance(digest, str) else None
                    if d is not None and d.name is None:
                        here = (*path, index)
                        found.append((here, d, parent))
                        if isinstance(d.value, CONTAINER):
                            walk(d.value, here, d)
                elif isinstance(element, CONTAINER):
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
    payload = payload_of(jws, limits)
    disclosures = tuple(decode_disclosures(parts.disclosures, limits))
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
    limits: Limits = DEFAULT_LIMITS,
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
        return [d for path, d, _ in held.index if is_under(path, pattern)] + [
            d for path, d, _ in held.index if len(path) < size and is_under(pattern, path)
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
