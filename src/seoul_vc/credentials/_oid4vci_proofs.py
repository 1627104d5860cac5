"""OpenID4VCI 1.0 key proofs: the ``jwt`` proof of possession a credential is bound by.

Part of :mod:`seoul_vc.credentials.oid4vci`, which re-exports every public name here.
Appendix F.1 defines the proof, checked as Appendix F.4 lists: :func:`format_key_proof`
signs a JWT typed ``openid4vci-proof+jwt`` whose ``jwk`` header is the key the credential
will be bound to, with ``aud`` the Credential Issuer Identifier, ``iat`` and ``nonce`` the
server's ``c_nonce`` (§7); :func:`check_key_proof` checks one and returns a
:class:`KeyProof`. ``kid``, ``x5c``, ``jku``, ``x5u``, ``trust_chain`` and
``key_attestation`` are refused (we bind to ``jwk`` only), as are ``alg: none``/HMAC, a
``jwk`` with private members, weak or unsupported keys, and an ``iat`` older than
``Limits.kb_jwt_max_age`` or in the future beyond ``Limits.clock_skew``. Every refusal is
``invalid_proof`` with ``details["reason"]``; whether the ``c_nonce`` is one the issuer
gave out is the issuer's check (``invalid_nonce``, :mod:`seoul_vc.issuance`).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Final

from seoul_vc import _json
from seoul_vc._json import JSONObject
from seoul_vc.errors import Code, SeoulVCError, VerificationError
from seoul_vc.jose import check_signature, encode_jwt, parse_compact, typ_matches
from seoul_vc.keys import PrivateKey, PublicKey
from seoul_vc.limits import Limits

__all__ = ["PROOF_ALGORITHMS", "PROOF_TYP", "KeyProof", "check_key_proof", "format_key_proof"]

#: The ``typ`` of a ``jwt`` key proof (Appendix F.1).
PROOF_TYP: Final = "openid4vci-proof+jwt"
#: The ``alg`` values a key proof may use (the JOSE allow-list: no ``none``, no HMAC).
PROOF_ALGORITHMS: Final = ("ES256", "EdDSA", "Ed25519")

# Header members that name or carry a key other than jwk, or that we do not evaluate.
_REFUSED_HEADERS: Final = ("kid", "x5c", "x5u", "jku", "trust_chain", "key_attestation")
_DEFAULT_LIMITS: Final = Limits()


# -- key proofs -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyProof:
    """A checked ``jwt`` key proof: the key to bind, and the ``c_nonce`` it answers."""

    key: PublicKey
    nonce: str | None
    iat: int


def format_key_proof(
    key: PrivateKey,
    *,
    audience: str,
    nonce: str | None,
    iat: int,
    client_id: str | None = None,
) -> str:
    """Sign a ``jwt`` key proof for ``key`` (OpenID4VCI 1.0 Appendix F.1).

    Args:
        key: the holder key the credential is to be bound to (its public JWK goes in the
            ``jwk`` header).
        audience: the Credential Issuer Identifier (``aud``).
        nonce: the ``c_nonce`` from the nonce endpoint, if the issuer has one.
        iat: the time of the proof (POSIX seconds).
        client_id: ``iss``, only for a client that authenticated with a ``client_id``.
    """
    claims: JSONObject = {"aud": audience, "iat": iat}
    if nonce is not None:
        claims["nonce"] = nonce
    if client_id is not None:
        claims["iss"] = client_id
    return encode_jwt(claims, key, typ=PROOF_TYP, header={"jwk": dict(key.public_key.to_jwk())})


def _invalid_proof(reason: str, message: str) -> VerificationError:
    return VerificationError(Code.INVALID_PROOF, message, reason=reason)


def check_key_proof(
    proof: object,
    *,
    audience: str,
    now: int,
    client_id: str | None = None,
    require_nonce: bool = True,
    algorithms: Collection[str] = PROOF_ALGORITHMS,
    limits: Limits = _DEFAULT_LIMITS,
) -> KeyProof:
    """Check a ``jwt`` key proof as OpenID4VCI 1.0 Appendix F.4 lists; return its key.

    Checks, in order: a compact JWS within the token bounds, an ``alg`` of the allow-list
    and of ``algorithms`` (never ``none`` or an HMAC), ``typ`` ``openid4vci-proof+jwt``, a
    ``jwk`` header and no other key source, a public, supported, strong key, the signature
    under it, ``aud`` equal to ``audience``, an integer ``iat`` not older than
    ``limits.kb_jwt_max_age`` and not ahead by more than ``limits.clock_skew``, a string
    ``nonce`` (when ``require_nonce``), and ``iss`` only as the client's ``client_id``
    (F.1: omitted after anonymous pre-authorized access).

    Raises:
        VerificationError: ``invalid_proof``, ``details["reason"]`` naming the check (the
            code of the underlying error where there is one: ``wrong_type``,
            ``unsupported_algorithm``, ``private_key_material``, ``weak_key``,
            ``invalid_signature``, ``audience_mismatch``, ``expired``, ...).
    """
    if not isinstance(proof, str):
        raise _invalid_proof("malformed", "a jwt key proof is a compact JWS string")
    try:
        jws = parse_compact(proof, limits=limits)
        if jws.alg not in algorithms:
            raise VerificationError(Code.UNSUPPORTED_ALGORITHM, "this proof alg is not accepted")
        if not typ_matches(jws.header.get("typ"), PROOF_TYP):
            raise VerificationError(Code.WRONG_TYPE, f"a key proof is typed {PROOF_TYP}")
        refused = [name for name in _REFUSED_HEADERS if name in jws.header]
        if refused:
            raise VerificationError(
                Code.UNSUPPORTED_HEADER, "the key is given as jwk only", header=refused[0]
            )
        jwk = jws.header.get("jwk")
        if not isinstance(jwk, dict):
            raise _invalid_proof("jwk_missing", "the proof carries no jwk header")
        key = PublicKey.from_jwk(jwk)
        check_signature(jws, key, typ=PROOF_TYP)
        claims = _json.loads_object(
            jws.payload,
            max_bytes=limits.max_token_bytes,
            max_depth=limits.max_json_depth,
            what="key proof claims",
        )
    except SeoulVCError as exc:
        if exc.code is Code.INVALID_PROOF:
            raise
        raise _invalid_proof(str(exc.code), f"the key proof is refused: {exc.message}") from exc
    if claims.get("aud") != audience:
        raise _invalid_proof("audience_mismatch", "the proof's aud is not this credential issuer")
    iat = claims.get("iat")
    if type(iat) is not int:
        raise _invalid_proof("malformed", "the proof's iat is an integer")
    skew = int(limits.clock_skew.total_seconds())
    if iat > now + skew:
        raise _invalid_proof("not_yet_valid", "the proof's iat is in the future")
    if iat < now - int(limits.kb_jwt_max_age.total_seconds()) - skew:
        raise _invalid_proof("expired", "the proof is too old")
    exp = claims.get("exp")
    if exp is not None and (type(exp) is not int or exp < now - skew):
        raise _invalid_proof("expired", "the proof has expired")
    nonce = claims.get("nonce")
    if nonce is not None and (not isinstance(nonce, str) or not nonce or len(nonce) > 512):
        raise _invalid_proof("malformed", "the proof's nonce is a non-empty string")
    if require_nonce and nonce is None:
        raise _invalid_proof("nonce_missing", "the proof carries no c_nonce")
    if "iss" in claims and (client_id is None or claims["iss"] != client_id):
        raise _invalid_proof("issuer_mismatch", "the proof's iss is not the client's client_id")
    return KeyProof(key=key, nonce=nonce, iat=iat)
