"""One verification pipeline for ``vc+jwt``/``vp+jwt``, ``vc+sd-jwt`` and ``dc+sd-jwt``.

Every presentation runs the same numbered checks, each recorded in the
:class:`VerificationReport` with its outcome; the first failure stops the run and names its
stable :class:`~seoul_vc.errors.Code`:

1. **parse** — size-checked split (RFC 9901 §4; RFC 7515 §7.1), strict compact JWS, a JSON
   object payload, ``typ`` one of the three formats (RFC 8725 §3.11).
2. **signature** — the issuer key from the caller's pinned key, from DID resolution of the
   ``kid`` DID URL (which must belong to the issuer), or for a ``dc+sd-jwt`` with an HTTPS
   ``iss`` from its JWT VC Issuer Metadata (draft-ietf-oauth-sd-jwt-vc §4, only if the
   verifier was given ``issuer_metadata``); never from ``jwk``, ``jku``, ``x5u`` or ``x5c``
   headers. ``alg`` in the allow-list, signature verified.
3. **disclosures** — RFC 9901 §7.1 to the letter (:func:`seoul_vc.credentials.sd_jwt.process`);
   claims that SD-JWT VC keeps plain (``iss``, ``vct``, ``cnf``, ...) may not come from a
   disclosure.
4. **validity** — ``validFrom``/``validUntil`` (VC DM 2.0 §4.9) or ``iat``/``nbf``/``exp``
   against the injected clock, within ``Limits.clock_skew``.
5. **issuer_authority** — the trust policy lets this issuer issue this type (a pinned key is
   the caller's own trust decision).
6. **schema** — known types: the disclosed subject against its JSON Schema (claims not
   disclosed are not required); unknown types are reported and skip this check.
7. **status** — a credential with a status entry needs a status source (fail closed).
8. **holder_binding** — ``cnf`` requires a KB-JWT by that key (RFC 9901 §7.3: ``typ``,
   ``iat`` window, ``sd_hash``); a ``vp+jwt`` must be signed by the subject's DID. A verifier
   that asks for ``aud``/``nonce`` refuses unbound credentials.
9. **audience** and 10. **nonce** — equal to the verifier's; the nonce is then spent in the
   verifier's single-use store, so a replay fails with ``nonce_replayed``.

This module holds :class:`Verifier` and its pipeline. The report and the steps that record it
live in ``_verify_report``, what a verifier consults (status source, issuer key source, nonce
store) in ``_verify_sources``, and the pure readers of a credential's claims in
``_verify_claims``; every public name is imported from here.

Example:
    >>> from seoul_vc.keys import PrivateKey
    >>> from seoul_vc.credentials import Issuer, Verifier, present
    >>> from seoul_vc.credentials.schemas import example_subject
    >>> agency, citizen = PrivateKey.generate(), PrivateKey.generate("ES256")
    >>> token = Issuer(agency).issue(
    ...     "IncomeCredential", example_subject("income"), holder=citizen.public_key
    ... )
    >>> verifier = Verifier(issuer_key=agency.public_key)
    >>> nonce = verifier.new_nonce()
    >>> shown = present(token, citizen, disclose=["householdSize"], aud="welfare", nonce=nonce)
    >>> report = verifier.verify(shown, aud="welfare", nonce=nonce)
    >>> report.claims
    {'householdSize': 3}
    >>> verifier.check(shown, aud="welfare", nonce=nonce).error.code
    <Code.NONCE_REPLAYED: 'nonce_replayed'>
"""

from __future__ import annotations

from functools import lru_cache
from typing import Final, NamedTuple

from seoul_vc import _json
from seoul_vc._json import JSONObject
from seoul_vc.clock import Clock, SystemClock
from seoul_vc.credentials import sd_jwt
from seoul_vc.credentials._verify_claims import (
    check_validity,
    check_vp_binding,
    enveloped_credential,
    issuer_of,
    refuse_kb_without_cnf,
    refuse_mismatch,
    refuse_unbound,
    refuse_unchecked_status,
    refuse_untrusted,
    subject_of,
    type_of,
)
from seoul_vc.credentials._verify_report import (
    CHECKS,
    Check,
    FailedError,
    Run,
    VerificationReport,
    shared_check,
    step,
)
from seoul_vc.credentials._verify_sources import (
    IssuerKeySource,
    MemoryNonceStore,
    NonceStore,
    StatusSource,
)
from seoul_vc.credentials.issuer import PLAIN_SD_JWT_VC_CLAIMS
from seoul_vc.credentials.schemas import validate_subject
from seoul_vc.credentials.trust import TrustPolicy
from seoul_vc.credentials.types import CredentialType
from seoul_vc.did import Resolver, resolve_verification_method, self_certifying_key
from seoul_vc.did.syntax import split_did_url
from seoul_vc.errors import (
    Code,
    ConfigurationError,
    MalformedInputError,
    PolicyError,
    VerificationError,
)
from seoul_vc.jose import CompactJWS, check_signature, parse_compact, typ_matches
from seoul_vc.keys import PublicKey
from seoul_vc.limits import Limits

__all__ = [
    "CHECKS",
    "Check",
    "IssuerKeySource",
    "MemoryNonceStore",
    "NonceStore",
    "StatusSource",
    "VerificationReport",
    "Verifier",
]

_DEFAULT_LIMITS: Final = Limits()
#: VC DM 2.0 members a vc+sd-jwt may not conceal: what every verifier must read.
_PLAIN_VC_CLAIMS: Final = frozenset(
    {"@context", "type", "issuer", "validFrom", "validUntil", "credentialSchema",
     "credentialStatus", "cnf"}
)  # fmt: skip


class _Parsed(NamedTuple):  # a NamedTuple: built on every verification, at a third of the cost
    jws: CompactJWS
    payload: JSONObject
    parts: sd_jwt.SDJWTParts | None


class Verifier:
    """A receiving agency's verifier.

    Args:
        trust: which issuer may issue which type. Required unless ``issuer_key`` is pinned.
        issuer_key: a pinned issuer key: the caller's own trust decision for every type.
        resolver: DID resolver for ``kid`` DID URLs (default: did:key, did:jwk, did:web).
        issuer_metadata: ``(iss, kid) -> key`` for ``dc+sd-jwt`` issuers identified by an
            HTTPS URL, normally a
            :class:`~seoul_vc.credentials.metadata.IssuerMetadataResolver` (JWT VC Issuer
            Metadata, draft-ietf-oauth-sd-jwt-vc §4). It fetches a URL the token chose, so
            it is off by default: without it such issuers are refused (``untrusted_issuer``).
            A pinned ``issuer_key`` takes precedence.
        status: checks status entries; credentials with one are refused without it.
        nonces: the single-use nonce store (default: an in-memory one).
        clock: the time source; limits: bounds and leeways.

    Raises:
        ConfigurationError: ``bad_argument`` without ``trust`` and without ``issuer_key``.
    """

    def __init__(
        self,
        *,
        trust: TrustPolicy | None = None,
        issuer_key: PublicKey | None = None,
        resolver: Resolver | None = None,
        issuer_metadata: IssuerKeySource | None = None,
        status: StatusSource | None = None,
        nonces: NonceStore | None = None,
        clock: Clock | None = None,
        limits: Limits | None = None,
    ) -> None:
        if trust is None and issuer_key is None:
            raise ConfigurationError(
                Code.BAD_ARGUMENT, "a verifier needs a trust registry or a pinned issuer key"
            )
        self._trust = trust
        self._pinned = issuer_key
        self._resolver = resolver
        self._issuer_metadata = issuer_metadata
        self._status = status
        self._limits = limits or _DEFAULT_LIMITS
        self._clock = clock or SystemClock()
        self._nonces = nonces or MemoryNonceStore(limits=self._limits, clock=self._clock)

    def new_nonce(self) -> str:
        """Issue a fresh single-use nonce for a presentation request."""
        return self._nonces.issue()

    def verify(
        self, presentation: str | bytes, *, aud: str | None = None, nonce: str | None = None
    ) -> VerificationReport:
        """Run the pipeline; return the report, or raise the first failure.

        Raises:
            SeoulVCError: the family error of the first failing check, with the report as
                its ``report`` attribute.
        """
        report = self.check(presentation, aud=aud, nonce=nonce)
        if report.error is not None:
            error = report.error
            error.report = report  # type: ignore[attr-defined]
            raise error
        return report

    def check(
        self, presentation: str | bytes, *, aud: str | None = None, nonce: str | None = None
    ) -> VerificationReport:
        """Run the pipeline and return its report, passed or failed.

        Bad input never raises here: the report's ``error`` carries the code.
        """
        return self._check(presentation, aud, nonce, enveloped=False)

    def _check(
        self, presentation: str | bytes, aud: str | None, nonce: str | None, *, enveloped: bool
    ) -> VerificationReport:
        run = Run()
        try:
            claims = self._pipeline(run, presentation, aud, nonce, enveloped)
        except FailedError as failed:
            return VerificationReport(
                ok=False,
                format=run.format,
                credential_type=run.type,
                issuer=run.issuer,
                checks=tuple(run.checks),
                error=failed.error,
            )
        return VerificationReport(
            ok=True,
            format=run.format,
            credential_type=run.type,
            issuer=run.issuer,
            claims=claims,
            checks=tuple(run.checks),
        )

    # -- the pipeline ---------------------------------------------------------------------------
    def _pipeline(
        self,
        run: Run,
        presentation: str | bytes,
        aud: str | None,
        nonce: str | None,
        enveloped: bool,
    ) -> JSONObject:
        limits = self._limits
        now = int(self._clock.now().timestamp())
        # (1) Parse: bounded split, strict JWS, typ (inside a vp+jwt: vc+jwt only).
        parsed: _Parsed = step(run, "parse", lambda: self._parse(presentation, enveloped))
        typ = str(parsed.jws.header.get("typ", ""))
        run.format = typ
        run.passed("parse")
        if typ == "vp+jwt":
            return self._vp_jwt(run, parsed, aud, nonce, now)
        payload = parsed.payload
        is_vc = "@context" in payload
        run.issuer = issuer_of(payload, is_vc)
        # (2) Signature under a key the caller trusts.
        key = step(
            run, "signature", lambda: self._issuer_key(parsed.jws, run.issuer, parsed.payload)
        )
        step(run, "signature", lambda: check_signature(parsed.jws, key, typ=typ))
        run.passed("signature")
        # (3) Disclosures (SD-JWT only).
        if parsed.parts is not None:
            parts = parsed.parts
            processed = step(run, "disclosures", lambda: self._disclosures(payload, parts, is_vc))
            run.passed("disclosures", note=f"{len(parts.disclosures)} disclosed")
            claims: JSONObject = processed.claims
        else:
            run.skipped("disclosures", "vc+jwt discloses every claim")
            claims = payload
        # (4) Validity window.
        step(run, "validity", lambda: check_validity(claims, is_vc, now, limits))
        run.passed("validity")
        # (5) Issuer authority for the type.
        ctype, type_name = step(run, "issuer_authority", lambda: type_of(claims, is_vc))
        run.type = type_name
        self._authority(run, run.issuer, type_name)
        # (6) Schema of the disclosed subject.
        subject: JSONObject = step(run, "schema", lambda: subject_of(claims, is_vc))
        self._schema(run, ctype, subject)
        # (7) Status.
        self._status_check(run, claims, is_vc)
        # (8)-(10) Holder binding, audience, nonce.
        holder = step(run, "holder_binding", lambda: sd_jwt.holder_key_of(claims))
        if parsed.parts is not None and holder is not None:
            parts = parsed.parts
            # The signature, iat window and sd_hash are checked either way; an aud or nonce
            # the verifier did not name is reported as skipped.
            step(
                run,
                "holder_binding",
                lambda: sd_jwt.check_key_binding(
                    parts, holder, aud=aud, nonce=nonce, now=now, limits=limits
                ),
            )
            run.passed("holder_binding", note="KB-JWT by the cnf key")
            if aud is None:
                run.skipped("audience", "the verifier named no audience")
            else:
                run.passed("audience")
            if nonce is None:
                run.skipped("nonce", "the verifier named no nonce")
            else:
                step(run, "nonce", lambda: self._nonces.spend(nonce))
                run.passed("nonce")
            return subject
        if parsed.parts is not None and parsed.parts.kb_jwt is not None:
            step(run, "holder_binding", refuse_kb_without_cnf)
        if aud is not None or nonce is not None:
            step(run, "holder_binding", refuse_unbound)
        run.skipped("holder_binding", "the credential is not bound to a holder key")
        run.skipped("audience", "no holder binding")
        run.skipped("nonce", "no holder binding")
        return subject

    def _vp_jwt(
        self, run: Run, parsed: _Parsed, aud: str | None, nonce: str | None, now: int
    ) -> JSONObject:
        limits = self._limits
        vp = parsed.payload
        holder_did = vp.get("holder")
        # The holder's signature first: nothing inside is read before it verifies.
        key = step(run, "holder_binding", lambda: self._holder_key(parsed.jws, holder_did))
        step(run, "holder_binding", lambda: check_signature(parsed.jws, key, typ="vp+jwt"))
        inner = step(run, "parse", lambda: enveloped_credential(vp))
        # The enveloped vc+jwt runs the same pipeline, unbound; the envelope binds it here.
        report = self._check(inner, None, None, enveloped=True)
        run.checks.extend(
            c for c in report.checks if c.name not in ("holder_binding", "audience", "nonce")
        )
        run.format, run.type, run.issuer = "vp+jwt", report.credential_type, report.issuer
        if report.error is not None:
            failed = next((c.name for c in report.checks if c.outcome == "failed"), "parse")
            raise FailedError(failed, report.error)
        step(run, "holder_binding", lambda: check_vp_binding(report.claims, vp, now, limits))
        run.passed("holder_binding", note="vp+jwt signed by the subject's DID")
        if aud is not None and vp.get("aud") != aud:
            step(run, "audience", refuse_mismatch(Code.AUDIENCE_MISMATCH, "another audience"))
        run.checks.append(
            shared_check("audience", "passed" if aud is not None else "skipped", None)
        )
        if nonce is not None:
            if vp.get("nonce") != nonce:
                step(run, "nonce", refuse_mismatch(Code.NONCE_MISMATCH, "another nonce"))
            step(run, "nonce", lambda: self._nonces.spend(nonce))
        run.checks.append(shared_check("nonce", "passed" if nonce is not None else "skipped", None))
        return report.claims

    # -- steps ----------------------------------------------------------------------------------
    def _parse(self, presentation: str | bytes, enveloped: bool) -> _Parsed:
        text = _text(presentation)
        limits = self._limits
        parts = None
        if enveloped:
            jws = parse_compact(text, limits=limits)
            allowed: tuple[str, ...] = ("vc+jwt",)
        elif "~" in text:
            parts = sd_jwt.split(text, limits=limits)
            jws = parse_compact(parts.issuer_jwt, limits=limits)
            allowed = ("dc+sd-jwt", "vc+sd-jwt")
        else:
            jws = parse_compact(text, limits=limits)
            allowed = ("vc+jwt", "vp+jwt")
        typ = jws.header.get("typ")
        match = next((t for t in allowed if typ_matches(typ, t)), None)
        if match is None:
            raise VerificationError(Code.WRONG_TYPE, "typ is not a credential format we verify")
        for member in ("jwk", "jku", "x5u", "x5c"):
            if member in jws.header:
                raise VerificationError(
                    Code.UNSUPPORTED_HEADER, "keys are never taken from the token", header=member
                )
        payload = _json.loads_object(
            jws.payload,
            max_bytes=limits.max_token_bytes,
            max_depth=limits.max_json_depth,
            what="credential",
        )
        if typ != match:  # the typ written another way ("application/...", capitals)
            jws = CompactJWS(
                header={**jws.header, "typ": match},
                payload=jws.payload,
                signing_input=jws.signing_input,
                signature=jws.signature,
            )
        return _Parsed(jws=jws, payload=payload, parts=parts)

    def _issuer_key(self, jws: CompactJWS, issuer: str | None, payload: JSONObject) -> PublicKey:
        if self._pinned is not None:
            return self._pinned
        if not isinstance(issuer, str):
            raise MalformedInputError(Code.MALFORMED, "the credential names no issuer")
        kid = jws.kid
        if issuer.startswith("did:"):
            if kid is None:
                raise VerificationError(Code.ISSUER_MISMATCH, "kid must name the issuer's key")
            did = _did_of(kid)
            if did != issuer:
                raise VerificationError(Code.ISSUER_MISMATCH, "kid is not a key of the issuer")
            key = self_certifying_key(kid)
            if key is not None:
                return key
            # Trust first, fetch second, as for issuer metadata below: an issuer the policy
            # would refuse for the type it claims (not yet verified) never makes this
            # verifier resolve a did:web, so a presentation cannot steer it to a host.
            _, type_name = type_of(payload, "@context" in payload)
            if self._trust is not None and not self._trust.may_issue(issuer, type_name):
                raise PolicyError(Code.UNTRUSTED_ISSUER, "the issuer is not trusted for this type")
            method = resolve_verification_method(kid, resolver=self._resolver)
            return method.public_key
        # SD-JWT VC key discovery by issuer metadata (draft-ietf-oauth-sd-jwt-vc §2.5, §4):
        # for dc+sd-jwt only, so no other format's issuer can steer the verifier into it.
        source = self._issuer_metadata
        if issuer.startswith("https://") and jws.header.get("typ") == "dc+sd-jwt":
            if source is None:
                raise PolicyError(
                    Code.UNTRUSTED_ISSUER, "this verifier does not fetch issuer metadata"
                )
            # Trust first, fetch second (draft §8.3): an issuer the policy would refuse for
            # the type it claims (not yet verified) never makes this verifier connect.
            _, type_name = type_of(payload, False)
            if self._trust is not None and not self._trust.may_issue(issuer, type_name):
                raise PolicyError(Code.UNTRUSTED_ISSUER, "the issuer is not trusted for this type")
            return source(issuer, kid)
        raise PolicyError(Code.UNTRUSTED_ISSUER, "no way to find this issuer's key")

    def _holder_key(self, jws: CompactJWS, holder: object) -> PublicKey:
        if not isinstance(holder, str) or not holder.startswith("did:"):
            raise MalformedInputError(Code.MALFORMED, "the presentation names no holder DID")
        kid = jws.kid
        if kid is None or _did_of(kid) != holder:
            raise VerificationError(Code.DID_MISMATCH, "kid is not a key of the holder")
        key = self_certifying_key(kid)
        if key is not None:
            return key
        return resolve_verification_method(
            kid, resolver=self._resolver, relationship="authentication"
        ).public_key

    def _disclosures(
        self, payload: JSONObject, parts: sd_jwt.SDJWTParts, is_vc: bool
    ) -> sd_jwt.ProcessedSDJWT:
        processed = sd_jwt.process(payload, parts.disclosures, limits=self._limits)
        plain = _PLAIN_VC_CLAIMS if is_vc else PLAIN_SD_JWT_VC_CLAIMS
        for path in processed.disclosed:
            if len(path) == 1 and path[0] in plain:
                raise VerificationError(
                    Code.DISCLOSURE_CONFLICT, "this claim may not be selectively disclosed"
                )
        return processed

    def _authority(self, run: Run, issuer: str | None, type_name: str) -> None:
        if self._pinned is not None:
            run.passed("issuer_authority", note="pinned issuer key")
            return
        trust = self._trust
        assert trust is not None  # noqa: S101 - the constructor requires one of the two
        if not isinstance(issuer, str) or not trust.may_issue(issuer, type_name):
            step(run, "issuer_authority", refuse_untrusted)
        run.passed("issuer_authority")

    def _schema(self, run: Run, ctype: CredentialType | None, subject: JSONObject) -> None:
        if ctype is None:
            run.skipped("schema", "a type this library does not know")
            return
        step(
            run,
            "schema",
            lambda: validate_subject(ctype.schema, subject, disclosed_only=True),
        )
        run.passed("schema")

    def _status_check(self, run: Run, claims: JSONObject, is_vc: bool) -> None:
        status = claims.get("credentialStatus" if is_vc else "status")
        if status is None:
            run.skipped("status", "the credential has no status entry")
            return
        source = self._status
        if source is None:
            step(run, "status", refuse_unchecked_status)
            return
        step(run, "status", lambda: source.check(status, issuer=run.issuer))
        run.passed("status")


# -- helpers ------------------------------------------------------------------------------------


@lru_cache(maxsize=1024)
def _did_of(kid: str) -> str:
    """The DID of a DID URL (pure, and kids repeat per issuer: cached)."""
    return split_did_url(kid)[0]


def _text(presentation: str | bytes) -> str:
    if isinstance(presentation, bytes | bytearray):
        try:
            return bytes(presentation).decode("ascii").strip()
        except UnicodeDecodeError:
            raise MalformedInputError(Code.MALFORMED, "a presentation is ASCII") from None
    if not isinstance(presentation, str):
        raise MalformedInputError(Code.MALFORMED, "a presentation is text")
    return presentation.strip()
