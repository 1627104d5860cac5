"""SD-JWT (RFC 9901): disclosures, digests, issuance, presentation and Key Binding JWTs.

This room holds the format, not the policy: :mod:`seoul_vc.credentials.verify` decides which
keys, types and audiences are acceptable and calls the pure pieces here. It is the public face
of four modules: the wire format (``_sd_format``), issuance (``_sd_issue``), presentation
(``_sd_holder``) and, in this module, verification.

* **Disclosures** (§4.2), the ``~`` form and claim paths: ``_sd_format``.
* **Issuance** (§4.2.4-4.2.5), claims concealed inside-out with decoy digests:
  ``_sd_issue``.
* **Presentation** (§4, §5.3), the disclosures asked for and a KB-JWT: ``_sd_holder``.
* **Verification** (§7.1 and §7.3) to the letter: every disclosure referenced exactly once,
  no digest twice, no ``_sd``/``...`` claim names, no claim overridden, the right array
  shape for each kind; unreferenced disclosures are refused (the reference implementation
  accepts them), and the KB-JWT's ``typ``, ``iat`` window, ``aud``, ``nonce`` and
  ``sd_hash`` are all checked (here).

Each of those modules' docstrings gives its rules in full. :func:`parse_claim_path` reads
the CLI spelling of a claim path: ``address.city`` / ``nationalities[0]`` /
``nationalities[]``.

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

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from seoul_vc._json import JSONObject, JSONValue
from seoul_vc.credentials._sd_format import (
    CONTAINER,
    DEFAULT_LIMITS,
    KB_JWT_TYP,
    NUMBER,
    SD_ALG,
    ClaimPath,
    Disclosure,
    SDJWTParts,
    claim_exists,
    decode_disclosures,
    format_claim_path,
    parse_claim_path,
    sd_hash,
    split,
)
from seoul_vc.credentials._sd_holder import present
from seoul_vc.credentials._sd_issue import issue
from seoul_vc.errors import Code, MalformedInputError, VerificationError
from seoul_vc.jose import decode_jwt
from seoul_vc.keys import PublicKey
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
            if isinstance(child, CONTAINER) or deep:
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
            if isinstance(disclosed, CONTAINER) or deep:
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
    limits: Limits = DEFAULT_LIMITS,
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
    for disclosure in decode_disclosures(disclosures, limits):
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
    limits: Limits = DEFAULT_LIMITS,
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


def check_presentation_time(iat: object, now: int, limits: Limits = DEFAULT_LIMITS) -> int:
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
            if isinstance(value, bool) or not isinstance(value, NUMBER):
                raise VerificationError(Code.KB_JWT_INVALID, f"the KB-JWT's {name} is a number")
    exp, nbf = claims.get("exp"), claims.get("nbf")
    if isinstance(exp, NUMBER) and now - skew >= exp:
        raise VerificationError(Code.EXPIRED, "the KB-JWT has expired")
    if isinstance(nbf, NUMBER) and now + skew < nbf:
        raise VerificationError(Code.NOT_YET_VALID, "the KB-JWT is not yet valid")
