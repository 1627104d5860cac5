"""Part of :mod:`seoul_vc.credentials.verify`: reading a credential's claims, pure functions.

The issuer (VC DM 2.0 ``issuer`` or ``iss``), the type (VC ``type`` or SD-JWT VC ``vct``),
the subject claims, the validity window against a given time (VC DM 2.0 §4.9; ``iat``,
``nbf``, ``exp``), the credential enveloped in a ``vp+jwt`` (VC-JOSE-COSE §3.1.2, VC DM 2.0
§4.13) and its binding to the presentation's holder. Each raises the family error of the
check it serves; the pipeline records which. The ``refuse_*`` functions are the refusals the
pipeline runs as a failing step once it has seen enough.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Final

from seoul_vc._json import JSONObject, JSONValue
from seoul_vc.credentials import sd_jwt
from seoul_vc.credentials.issuer import V2_CONTEXT
from seoul_vc.credentials.types import CREDENTIAL_TYPES, CredentialType, find_by_vct
from seoul_vc.errors import Code, MalformedInputError, PolicyError, VerificationError
from seoul_vc.limits import Limits

#: SD-JWT VC registered claims kept out of the disclosed subject claims.
_REGISTERED: Final = frozenset({"iss", "sub", "iat", "nbf", "exp", "cnf", "vct", "status"})


def issuer_of(payload: JSONObject, is_vc: bool) -> str | None:
    """The issuer identifier: ``issuer`` (a string or an object's ``id``) or ``iss``."""
    value = payload.get("issuer" if is_vc else "iss")
    if is_vc and isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) else None


def check_vp_binding(subject: JSONObject, vp: JSONObject, now: int, limits: Limits) -> None:
    """A ``vp+jwt`` is made by the credential's subject, within the ``iat`` window."""
    if subject.get("id") != vp.get("holder"):
        raise VerificationError(
            Code.DID_MISMATCH, "the presentation's holder is not the credential's subject"
        )
    sd_jwt.check_presentation_time(vp.get("iat"), now, limits)


def enveloped_credential(vp: JSONObject) -> str:
    """The one ``vc+jwt`` a ``vp+jwt`` envelops as a ``data:application/vc+jwt`` URL."""
    if vp.get("@context") != [V2_CONTEXT] and not (
        isinstance(vp.get("@context"), list) and vp["@context"][:1] == [V2_CONTEXT]  # type: ignore[index]
    ):
        raise MalformedInputError(Code.MALFORMED, "a presentation starts with the v2 context")
    creds = vp.get("verifiableCredential")
    if not isinstance(creds, list) or len(creds) != 1 or not isinstance(creds[0], dict):
        raise MalformedInputError(Code.MALFORMED, "a presentation envelops one credential")
    envelope = creds[0]
    ident = envelope.get("id")
    prefix = "data:application/vc+jwt,"
    if envelope.get("type") != "EnvelopedVerifiableCredential" or not (
        isinstance(ident, str) and ident.startswith(prefix)
    ):
        raise MalformedInputError(
            Code.MALFORMED, "the credential must be enveloped as data:application/vc+jwt"
        )
    return ident[len(prefix) :]


def type_of(claims: JSONObject, is_vc: bool) -> tuple[CredentialType | None, str]:
    """The known type (or ``None``) and the type's name (the ``vct`` if unknown)."""
    if is_vc:
        types = claims.get("type")
        if not isinstance(types, list) or "VerifiableCredential" not in types:
            raise MalformedInputError(Code.MALFORMED, "type must list VerifiableCredential")
        named = [t for t in types if isinstance(t, str) and t != "VerifiableCredential"]
        if len(named) != 1:
            raise MalformedInputError(Code.MALFORMED, "one credential type is expected")
        return CREDENTIAL_TYPES.get(named[0]), named[0]
    vct = claims.get("vct")
    if not isinstance(vct, str) or not vct:
        raise MalformedInputError(Code.MALFORMED, "an SD-JWT VC needs a vct")
    ctype = find_by_vct(vct)
    return ctype, ctype.name if ctype is not None else vct


def subject_of(claims: JSONObject, is_vc: bool) -> JSONObject:
    """The subject claims: ``credentialSubject``, or the claims not registered by SD-JWT VC."""
    if is_vc:
        subject = claims.get("credentialSubject")
        if not isinstance(subject, dict):
            raise MalformedInputError(Code.MALFORMED, "credentialSubject is an object")
        return subject
    return {k: v for k, v in claims.items() if k not in _REGISTERED}


def _timestamp(value: JSONValue, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise MalformedInputError(Code.MALFORMED, f"{name} is a date-time", field=name)
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise MalformedInputError(
                Code.MALFORMED, f"{name} is an XML Schema date-time", field=name
            ) from None
        if moment.tzinfo is None:
            raise MalformedInputError(Code.MALFORMED, f"{name} needs a time zone", field=name)
        return moment.timestamp()
    if isinstance(value, int) and not -(2**53) < value < 2**53:
        raise MalformedInputError(Code.MALFORMED, f"{name} is out of range", field=name)
    return float(value)


def check_validity(claims: JSONObject, is_vc: bool, now: int, limits: Limits) -> None:
    """``now`` lies in the validity window, give or take ``limits.clock_skew``."""
    skew = limits.clock_skew.total_seconds()
    starts = ("validFrom", "nbf") if is_vc else ("nbf", "iat")
    ends = ("validUntil", "exp")
    for name in starts:
        if name in claims and _timestamp(claims[name], name) > now + skew:
            raise VerificationError(Code.NOT_YET_VALID, "the credential is not valid yet")
    for name in ends:
        if name in claims and _timestamp(claims[name], name) <= now - skew:
            raise VerificationError(Code.EXPIRED, "the credential has expired")


# -- refusals: a check that fails without looking further -------------------------------------


def refuse_kb_without_cnf() -> None:
    """A KB-JWT with a credential that names no holder key."""
    raise VerificationError(Code.KB_JWT_INVALID, "a KB-JWT came with a credential without cnf")


def refuse_unbound() -> None:
    """An unbound credential where the verifier asked for an audience or a nonce."""
    raise PolicyError(
        Code.HOLDER_BINDING_MISSING, "the verifier requires a holder-bound presentation"
    )


def refuse_untrusted() -> None:
    """An issuer the trust policy does not let issue this type."""
    raise PolicyError(Code.UNTRUSTED_ISSUER, "the issuer may not issue this credential type")


def refuse_unchecked_status() -> None:
    """A status entry and no status source to check it (fail closed)."""
    raise PolicyError(Code.STATUS_UNCHECKED, "the credential's status cannot be checked here")


def refuse_mismatch(code: Code, what: str) -> Callable[[], None]:
    """A refusal with ``code``: the presentation was made for ``what``."""

    def fail() -> None:
        raise VerificationError(code, f"the presentation was made for {what}")

    return fail
