"""Issuing credentials and presenting them: the three securing formats.

* ``vc+jwt`` — W3C VC DM 2.0 secured with JOSE (VC-JOSE-COSE §3.1.1): the JWS payload *is*
  the credential (``@context``, ``type``, ``issuer``, ``validFrom``, ``validUntil``,
  ``credentialSubject``, ``credentialSchema``); header ``typ: vc+jwt``, ``cty: vc`` and the
  issuer key's DID URL as ``kid``. Holder binding: ``credentialSubject.id`` is the holder's
  DID, and the holder presents inside a ``vp+jwt`` (VC-JOSE-COSE §3.1.2) whose payload is a
  presentation with the credential enveloped as ``data:application/vc+jwt,<token>``
  (VC DM 2.0 §4.13 ``EnvelopedVerifiableCredential``), plus ``aud``, ``nonce`` and ``iat``.
* ``vc+sd-jwt`` — the same credential secured with SD-JWT (VC-JOSE-COSE §3.2.1): the
  subject's disclosable claims are concealed; ``cnf`` binds the holder key.
* ``dc+sd-jwt`` — IETF SD-JWT VC (draft-ietf-oauth-sd-jwt-vc): flat claims with ``iss``,
  ``iat``, ``nbf``, ``exp``, ``vct`` and ``cnf``; presentations add a KB-JWT.

Example:
    >>> from seoul_vc.keys import PrivateKey
    >>> from seoul_vc.credentials.issuer import Issuer, present
    >>> from seoul_vc.credentials.schemas import example_subject
    >>> agency, citizen = PrivateKey.generate(), PrivateKey.generate("ES256")
    >>> token = Issuer(agency).issue(
    ...     "IncomeCredential", example_subject("income"), holder=citizen.public_key
    ... )
    >>> shown = present(token, citizen, disclose=["incomeBracketPercent"], aud="a", nonce="n")
    >>> shown.count("~")
    2
"""

from __future__ import annotations

import functools
import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Final, Literal

from seoul_vc._json import JSONObject, JSONValue
from seoul_vc.clock import Clock, SystemClock
from seoul_vc.credentials import sd_jwt
from seoul_vc.credentials.metadata import issuer_metadata_document
from seoul_vc.credentials.sd_jwt import ClaimPath, parse_claim_path
from seoul_vc.credentials.types import CredentialType, credential_type
from seoul_vc.did.jwk import did_jwk
from seoul_vc.did.key import did_key
from seoul_vc.errors import Code, ConfigurationError
from seoul_vc.jose import encode_jwt, parse_compact
from seoul_vc.keys import KeyAlgorithm, PrivateKey, PublicKey

__all__ = [
    "FORMATS",
    "V2_CONTEXT",
    "Format",
    "Issuer",
    "did_of",
    "kid_of",
    "present",
]

#: The VC DM 2.0 base context (VC DM 2.0 §4.3).
V2_CONTEXT: Final = "https://www.w3.org/ns/credentials/v2"
Format = Literal["vc+jwt", "vc+sd-jwt", "dc+sd-jwt"]
#: The securing formats, in the order the CLI lists them.
FORMATS: Final[tuple[Format, ...]] = ("vc+jwt", "vc+sd-jwt", "dc+sd-jwt")
#: Registered claims of SD-JWT VC that are never selectively disclosable (draft §3.2.2.2).
PLAIN_SD_JWT_VC_CLAIMS: Final = frozenset(
    {"iss", "nbf", "exp", "cnf", "vct", "vct#integrity", "status"}
)
_NEVER_DISCLOSABLE: Final = PLAIN_SD_JWT_VC_CLAIMS | {"id"}


#: Where each securing format keeps the subject's claims, for ``present`` paths.
_SUBJECT_ROOT: Final[dict[str, ClaimPath]] = {"vc+sd-jwt": ("credentialSubject",)}


@functools.lru_cache(maxsize=1024)
def did_of(key: PublicKey) -> str:
    """Return the self-certifying DID of a key: did:key (Ed25519) or did:jwk (P-256).

    Cached per key (keys are immutable values): issuers name the same holders and
    themselves again and again.
    """
    return did_key(key) if key.alg is KeyAlgorithm.EDDSA else did_jwk(key)


def kid_of(did: str, key: PublicKey) -> str:
    """Return the DID URL of ``key``'s verification method in did:key/did:jwk documents."""
    if did.startswith("did:key:"):
        return f"{did}#{key.to_multikey()}"
    return f"{did}#0"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Issuer:
    """An agency issuing credentials with one signing key.

    Args:
        key: the signing key.
        did: the issuer's DID (default: did:key/did:jwk of the key). A did:web issuer must
            also pass ``kid``, the DID URL of the key in its DID document.
        kid: the key's DID URL (default: derived for did:key and did:jwk); with
            ``issuer_id``, the key's ``kid`` in the issuer's metadata (default: its RFC 7638
            thumbprint).
        issuer_id: an HTTPS issuer identifier instead of a DID: ``iss`` of ``dc+sd-jwt``
            credentials, whose key verifiers find in the JWT VC Issuer Metadata the agency
            publishes (:func:`seoul_vc.credentials.metadata.issuer_metadata_document`).
            Such an issuer issues ``dc+sd-jwt`` only.
        clock: the time source for ``validFrom``/``iat``.
        validity: default lifetime of a credential.

    Raises:
        ConfigurationError: ``bad_argument`` for a did:web issuer without ``kid``, a
            ``kid`` outside the issuer's DID, both ``did`` and ``issuer_id``, or an
            ``issuer_id`` that is not an HTTPS issuer URL.
    """

    def __init__(
        self,
        key: PrivateKey,
        *,
        did: str | None = None,
        kid: str | None = None,
        issuer_id: str | None = None,
        clock: Clock | None = None,
        validity: timedelta = timedelta(days=365),
    ) -> None:
        self.key = key
        self.clock = clock or SystemClock()
        self.validity = validity
        if issuer_id is not None:
            if did is not None:
                raise ConfigurationError(Code.BAD_ARGUMENT, "give did or issuer_id, not both")
            # The well-known URL rule validates the identifier (draft-ietf-oauth-sd-jwt-vc §4).
            issuer_metadata_document(issuer_id, {"k": key.public_key})
            self.did = self.issuer_id = issuer_id
            self.kid = kid or key.public_key.thumbprint()
            return
        self.did = did or did_of(key.public_key)
        #: The ``iss``/``issuer`` value: the DID, or the HTTPS issuer identifier.
        self.issuer_id = self.did
        if kid is None:
            if not self.did.startswith(("did:key:", "did:jwk:")):
                raise ConfigurationError(Code.BAD_ARGUMENT, "this issuer DID needs an explicit kid")
            kid = kid_of(self.did, key.public_key)
        if kid.split("#", 1)[0] != self.did or "#" not in kid:
            raise ConfigurationError(Code.BAD_ARGUMENT, "kid must be a DID URL of the issuer")
        self.kid = kid

    def issue(
        self,
        type_name: str,
        subject: Mapping[str, JSONValue],
        *,
        format: Format = "dc+sd-jwt",
        holder: PublicKey | None = None,
        disclosable: Iterable[ClaimPath | str] | None = None,
        valid_from: datetime | None = None,
        valid_until: datetime | None = None,
        status: JSONValue | None = None,
        decoys: int | None = None,
    ) -> str:
        """Issue a credential of a known type.

        The subject is derived and validated against its schema first
        (:meth:`CredentialType.prepare_subject`); the disclosable claims default to the
        type's and may be overridden (paths relative to the subject). Every default path
        the subject lacks is skipped; an explicit one it lacks is an error.

        Raises:
            ConfigurationError: ``bad_argument`` for an unknown type or format, an
                override in a format without selective disclosure, a bad validity window
                or a subject ``id`` that is not the holder's DID.
            MalformedInputError: ``schema_violation`` naming the field.
        """
        ctype = credential_type(type_name)
        if format not in FORMATS:
            raise ConfigurationError(Code.BAD_ARGUMENT, "unknown format", format=str(format))
        if format != "dc+sd-jwt" and not self.issuer_id.startswith("did:"):
            raise ConfigurationError(
                Code.BAD_ARGUMENT, "an HTTPS issuer identifier issues dc+sd-jwt only"
            )
        now = self.clock.now()
        start = (valid_from or now).replace(microsecond=0)
        end = (valid_until or start + self.validity).replace(microsecond=0)
        if end <= start:
            raise ConfigurationError(Code.BAD_ARGUMENT, "validUntil must follow validFrom")
        prepared = ctype.prepare_subject(subject, on=start.astimezone(UTC).date())
        holder_did = did_of(holder) if holder is not None else None
        if holder_did is not None and prepared.setdefault("id", holder_did) != holder_did:
            raise ConfigurationError(
                Code.BAD_ARGUMENT, "the subject id is not the holder key's DID"
            )
        paths = self._paths(ctype, prepared, disclosable)
        if format == "vc+jwt":
            if disclosable is not None:
                raise ConfigurationError(
                    Code.BAD_ARGUMENT, "vc+jwt has no selective disclosure; use an sd-jwt format"
                )
            document = self._document(ctype, prepared, start, end, status)
            return encode_jwt(document, self.key, typ="vc+jwt", kid=self.kid, header={"cty": "vc"})
        if format == "vc+sd-jwt":
            document = self._document(ctype, prepared, start, end, status)
            return sd_jwt.issue(
                document,
                self.key,
                disclosable=[("credentialSubject", *p) for p in paths],
                typ="vc+sd-jwt",
                kid=self.kid,
                holder_key=holder,
                decoys=decoys,
                header={"cty": "vc"},
            )
        claims: dict[str, JSONValue] = {
            "iss": self.issuer_id,
            "iat": int(now.timestamp()),
            "nbf": int(start.timestamp()),
            "exp": int(end.timestamp()),
            "vct": ctype.vct,
        }
        if status is not None:
            claims["status"] = status
        subject_claims = {k: v for k, v in prepared.items() if k != "id"}
        if "id" in prepared and holder is None:
            claims["sub"] = prepared["id"]
        claims.update(subject_claims)
        return sd_jwt.issue(
            claims,
            self.key,
            disclosable=paths,
            typ="dc+sd-jwt",
            kid=self.kid,
            holder_key=holder,
            decoys=decoys,
        )

    @staticmethod
    def _paths(
        ctype: CredentialType,
        subject: Mapping[str, JSONValue],
        disclosable: Iterable[ClaimPath | str] | None,
    ) -> list[ClaimPath]:
        if disclosable is None:
            return [p for p in ctype.disclosable if sd_jwt.claim_exists(dict(subject), p)]
        paths = [parse_claim_path(p) if isinstance(p, str) else tuple(p) for p in disclosable]
        for path in paths:
            if path and path[0] in _NEVER_DISCLOSABLE:
                raise ConfigurationError(
                    Code.BAD_ARGUMENT, "this claim is never selectively disclosable"
                )
        return paths

    def _document(
        self,
        ctype: CredentialType,
        subject: JSONObject,
        start: datetime,
        end: datetime,
        status: JSONValue | None,
    ) -> JSONObject:
        document: dict[str, JSONValue] = {
            "@context": [V2_CONTEXT],
            "type": ["VerifiableCredential", ctype.name],
            "issuer": self.did,
            "validFrom": _iso(start),
            "validUntil": _iso(end),
            "credentialSubject": subject,
            "credentialSchema": {"id": ctype.schema_id, "type": "JsonSchema"},
        }
        if status is not None:
            document["credentialStatus"] = status
        return document


def present(
    credential: str,
    holder_key: PrivateKey,
    *,
    disclose: Sequence[ClaimPath | str] = (),
    aud: str,
    nonce: str,
    iat: int | None = None,
) -> str:
    """Present a credential to a verifier, bound to its ``aud`` and ``nonce``.

    SD-JWT formats: keep only the disclosures under ``disclose`` (paths relative to the
    subject) and add a KB-JWT (RFC 9901 §4.3). ``vc+jwt``: wrap the credential in a
    ``vp+jwt`` signed by the holder (everything is disclosed: the format cannot hide claims,
    so ``disclose`` must be empty).

    Raises:
        ConfigurationError: ``bad_argument`` for disclose paths on ``vc+jwt``, unknown
            paths, or a holder key the credential is not bound to.
        MalformedInputError: for a credential that does not parse.
    """
    stamp = iat if iat is not None else int(time.time())
    paths = [parse_claim_path(p) if isinstance(p, str) else tuple(p) for p in disclose]
    if "~" in credential:
        # vc+sd-jwt keeps the subject under credentialSubject; dc+sd-jwt at the top.
        return sd_jwt.present(
            credential,
            disclose=paths,
            holder_key=holder_key,
            aud=aud,
            nonce=nonce,
            iat=stamp,
            prefix_by_typ=_SUBJECT_ROOT,
        )
    if paths:
        raise ConfigurationError(
            Code.BAD_ARGUMENT, "a vc+jwt credential cannot hide claims; present all or use sd-jwt"
        )
    parse_compact(credential)  # structure only: the holder checked the credential on receipt
    holder_did = did_of(holder_key.public_key)
    payload: dict[str, JSONValue] = {
        "@context": [V2_CONTEXT],
        "type": ["VerifiablePresentation"],
        "holder": holder_did,
        "verifiableCredential": [
            {
                "@context": V2_CONTEXT,
                "type": "EnvelopedVerifiableCredential",
                "id": "data:application/vc+jwt," + credential,
            }
        ],
        "aud": aud,
        "nonce": nonce,
        "iat": stamp,
    }
    return encode_jwt(
        payload,
        holder_key,
        typ="vp+jwt",
        kid=kid_of(holder_did, holder_key.public_key),
        header={"cty": "vp"},
    )
