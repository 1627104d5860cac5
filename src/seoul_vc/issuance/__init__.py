"""An agency's OpenID4VCI issuer: offers, pre-authorized codes, access tokens, c_nonces.

Room: issuance (beside the wallet, above the ledger and status rooms). An
:class:`IssuanceService` keeps its state in its own tables (:func:`seoul_vc._tables.
open_table_store`: SQLite, or PostgreSQL for several servers) and runs the pre-authorized
code flow of OpenID for Verifiable Credential Issuance 1.0 (§3.5):

1. **Offer** (§4.1). The agency, having identified the citizen, calls :meth:`create_offer`
   with the configuration and the subject's claims (validated against the type's schema
   now). A fresh 256-bit ``pre-authorized_code`` goes into the offer; the store keeps only
   its SHA-256. With ``tx_code=True`` a 6-digit transaction code is made for the agency to
   send by another channel; the store keeps ``HMAC-SHA256(code, tx_code)`` (useless without
   the code, which is not stored) and allows :data:`MAX_TX_CODE_TRIES` wrong tries, after
   which the offer is invalidated (§13.6.3). The subject is kept encrypted (AES-256-GCM)
   under a key derived from the code, so the store alone never shows a pending subject.
2. **Token** (§6, RFC 6749 §4.1.3/§5). :meth:`token` trades the code, once and before it
   expires, for a 256-bit access token (stored as its SHA-256, valid ``token_ttl``, bound to
   the offer; the subject is re-encrypted under it). A second use of a code is
   ``invalid_grant`` and also invalidates the access token it gave (RFC 6749 §4.1.2).
3. **Nonce** (§7). :meth:`nonce` returns an unpredictable ``c_nonce`` without writing
   anything: 128 random bits and an expiry, MACed with a key kept in the store. The nonce
   endpoint is public, so it must not be a way to fill the database; a nonce is recorded
   (as its SHA-256, until it expires) only when a credential request uses it, which makes it
   single use.
4. **Credential** (§8). :meth:`credential` takes the access token and a request with one
   ``jwt`` key proof (:func:`~seoul_vc.credentials.oid4vci.check_key_proof`: ``aud`` is the
   Credential Issuer Identifier, ``nonce`` a live ``c_nonce``), allocates a status entry
   (:class:`~seoul_vc.status.StatusRegistry`, publishing a list the first time one of its
   entries is handed out, so the credential verifies at once), signs the credential bound to
   the proven key, and then, in one store transaction, consumes the access token and the
   ``c_nonce``. Two racing requests cannot both commit: the loser gets ``unauthorized``
   (its token is spent) or ``invalid_nonce``, and its credential is never sent (its
   status index stays valid and unused, like any of the list's unused indexes).

Formats: ``dc+sd-jwt`` (OpenID4VCI Appendix A.3: ``vct``, ``cnf.jwk``, a Token Status List
``status``) and the Seoul ``vc+jwt`` profile (``<Type>_vc+jwt``: a W3C VC DM 2.0
credential secured with JOSE, ``credentialSubject.id`` the did:key/did:jwk of the proven
key, Bitstring Status List entries); see
:func:`~seoul_vc.credentials.oid4vci.seoul_configurations`.

Single-use checks run inside one serialized store transaction each (``BEGIN IMMEDIATE`` on
SQLite, an advisory lock on PostgreSQL), so they hold across threads, processes and
servers. Nothing personal is logged or put on the ledger; tokens, codes and nonces are
never stored in the clear.

The package keeps one room a module: the service's store and secrets (``_store``), the
status of what it issued (``_status``), its messages (``_messages``) and, here, the
protocol's endpoints; every public name is importable from here.

Example:
    >>> import os, tempfile
    >>> from seoul_vc.credentials import Issuer
    >>> from seoul_vc.credentials.schemas import example_subject
    >>> from seoul_vc.keys import PrivateKey
    >>> from seoul_vc.issuance import IssuanceService
    >>> tmp = tempfile.mkdtemp()
    >>> service = IssuanceService("sqlite:" + os.path.join(tmp, "issuer.db"),
    ...     issuer=Issuer(PrivateKey.generate()), credential_issuer="https://vc.seoul.example")
    >>> created = service.create_offer("IncomeCredential", example_subject("income"))
    >>> created.offer.credential_configuration_ids
    ('IncomeCredential',)
    >>> service.offer_state(created.offer_id).state
    'offered'
    >>> service.close()
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from datetime import UTC, timedelta
from typing import Final

from seoul_vc import _json
from seoul_vc._encoding import b64url_decode, b64url_encode
from seoul_vc._json import JSONObject, JSONValue
from seoul_vc.credentials.oid4vci import (
    PRE_AUTHORIZED_GRANT,
    AuthorizationServerMetadata,
    CredentialConfiguration,
    CredentialIssuerMetadata,
    CredentialOffer,
    TxCode,
    check_key_proof,
)
from seoul_vc.credentials.types import credential_type
from seoul_vc.errors import (
    Code,
    ConfigurationError,
    InternalError,
    MalformedInputError,
    NotFoundError,
    PolicyError,
    SeoulVCError,
    StateConflictError,
)
from seoul_vc.issuance._messages import (
    CreatedOffer,
    IssuedCredential,
    OfferState,
    TokenResponse,
    _read_request,
)
from seoul_vc.issuance._status import StatusAction, _IssuanceStatus
from seoul_vc.issuance._store import _MAX_OFFER_TTL, _MIN_OFFER_TTL, _digest

__all__ = [
    "CREDENTIAL_PATH",
    "MAX_TX_CODE_TRIES",
    "NONCE_PATH",
    "TOKEN_PATH",
    "CreatedOffer",
    "IssuanceService",
    "IssuedCredential",
    "OfferState",
    "StatusAction",
    "TokenResponse",
]

#: Endpoint paths below the Credential Issuer Identifier.
TOKEN_PATH: Final = "/token"  # noqa: S105 - a path, not a password
NONCE_PATH: Final = "/nonce"
CREDENTIAL_PATH: Final = "/credential"
#: Wrong transaction codes after which an offer is invalidated (§13.6.3).
MAX_TX_CODE_TRIES: Final = 5
TX_CODE_LENGTH: Final = 6
TX_CODE_DESCRIPTION: Final = "Enter the 6-digit code the agency sent you by text message."

_MAX_CLIENT_ID: Final = 255
_MAX_SECRET_TEXT: Final = 1024
_MAX_TX_CODE: Final = 64
_NONCE_LABEL: Final = b"seoul-vc/issuance/c_nonce/v1"
_NONCE_BYTES: Final = 16 + 8 + 16  # random, expiry, MAC


def _invalid_grant(message: str, reason: str) -> PolicyError:
    return PolicyError(Code.INVALID_GRANT, message, reason=reason)


def _bad_token() -> PolicyError:
    return PolicyError(Code.UNAUTHORIZED, "a valid access token is required")


def _bad_nonce(message: str) -> StateConflictError:
    return StateConflictError(Code.INVALID_NONCE, message)


# -- the service ----------------------------------------------------------------------------------


class IssuanceService(_IssuanceStatus):
    """An agency's OpenID4VCI issuer; see the module docstring.

    Args:
        store_url: ``sqlite:PATH`` or ``postgresql://...[?schema=name]`` (default schema
            ``seoul_vc_issuance``).
        issuer: signs the credentials (its ``did``/``kid``; a did:web issuer is bound to the
            Credential Issuer Identifier by its host).
        credential_issuer: the Credential Issuer Identifier: an https URL, also the
            authorization server's ``issuer`` and the key proofs' ``aud``.
        status: the status registry entries are allocated from (None: no status).
        clock: the time source (default: the issuer's); limits: the proof bounds.
        offer_ttl: the default lifetime of a pre-authorized code.
        token_ttl: the lifetime of an access token.
        nonce_ttl: the lifetime of a ``c_nonce`` (default ``limits.nonce_ttl``).

    Raises:
        ConfigurationError: ``bad_argument`` for an identifier that is not an https URL or
            bad lifetimes.
        StorageError, UnavailableError: the store cannot be opened.
    """

    # -- metadata ---------------------------------------------------------------------------------
    def metadata(self) -> CredentialIssuerMetadata:
        """The Credential Issuer Metadata (OpenID4VCI 1.0 §12.2)."""
        return CredentialIssuerMetadata(
            credential_issuer=self.credential_issuer,
            credential_endpoint=self.credential_issuer + CREDENTIAL_PATH,
            nonce_endpoint=self.credential_issuer + NONCE_PATH,
            configurations=self.configurations,
            display=(
                {"name": "Seoul Metropolitan Government", "locale": "en-US"},
                {"name": "서울특별시", "locale": "ko-KR"},
            ),
        )

    def authorization_server(self) -> AuthorizationServerMetadata:
        """The Authorization Server Metadata (RFC 8414 §2, OpenID4VCI 1.0 §12.3)."""
        return AuthorizationServerMetadata(
            issuer=self.credential_issuer,
            token_endpoint=self.credential_issuer + TOKEN_PATH,
            grant_types=(PRE_AUTHORIZED_GRANT,),
            anonymous=True,
        )

    def _configuration(self, configuration_id: object) -> CredentialConfiguration:
        if not isinstance(configuration_id, str) or configuration_id not in self.configurations:
            raise NotFoundError(
                Code.UNKNOWN_CREDENTIAL_CONFIGURATION, "no credential configuration with this id"
            )
        return self.configurations[configuration_id]

    # -- 1. offers --------------------------------------------------------------------------------
    def create_offer(
        self,
        configuration_id: str,
        subject: Mapping[str, JSONValue],
        *,
        tx_code: bool = False,
        expires_in: timedelta | None = None,
    ) -> CreatedOffer:
        """Create a pre-authorized offer of one credential for ``subject``.

        Durable on return (one write transaction).

        Raises:
            NotFoundError: ``unknown_credential_configuration``.
            MalformedInputError: ``schema_violation`` naming the subject field.
            ConfigurationError: ``bad_argument`` for a subject with an ``id`` (the holder's
                DID is set at issuance) or a lifetime outside 1 s to 7 days.
        """
        configuration = self._configuration(configuration_id)
        lifetime = self._offer_ttl if expires_in is None else expires_in
        if not _MIN_OFFER_TTL <= lifetime <= _MAX_OFFER_TTL:
            raise ConfigurationError(Code.BAD_ARGUMENT, "an offer lives 1 second to 7 days")
        if "id" in subject:
            raise ConfigurationError(
                Code.BAD_ARGUMENT, "the subject is an object without id (set at issuance)"
            )
        type_name = configuration.type_name
        if type_name is None:  # pragma: no cover - every configuration here is a Seoul type
            raise InternalError(Code.INTERNAL, "a configuration without a credential type")
        today = self._clock.now().astimezone(UTC).date()
        credential_type(type_name).prepare_subject(subject, on=today)
        now = self._now()
        code = secrets.token_urlsafe(32)
        offer_id = secrets.token_hex(12)
        digits = (
            "".join(secrets.choice("0123456789") for _ in range(TX_CODE_LENGTH))
            if tx_code
            else None
        )
        tx_hash = None if digits is None else self._tx_code_hash(code, digits)
        expires_at = now + int(lifetime.total_seconds())
        sealed = self._seal(code, offer_id, dict(subject))
        with self._store.write() as tx:
            self._purge(tx, now)
            tx.execute(
                "INSERT INTO {p}issuance_offers (offer_id, code_hash, configuration_id, subject, "
                "tx_code_hash, tx_tries, state, created_at, expires_at) "
                "VALUES (?, ?, ?, ?, ?, 0, 'offered', ?, ?)",
                (offer_id, _digest(code), configuration.id, sealed, tx_hash, now, expires_at),
            )
        offer = CredentialOffer(
            credential_issuer=self.credential_issuer,
            credential_configuration_ids=(configuration.id,),
            pre_authorized_code=code,
            tx_code=None
            if digits is None
            else TxCode(
                input_mode="numeric", length=TX_CODE_LENGTH, description=TX_CODE_DESCRIPTION
            ),
        )
        return CreatedOffer(offer_id=offer_id, offer=offer, tx_code=digits, expires_at=expires_at)

    # -- 2. token ---------------------------------------------------------------------------------
    def token(self, form: Mapping[str, str]) -> TokenResponse:
        """Answer a token request (OpenID4VCI 1.0 §6.1; the form already parsed strictly).

        Unrecognised parameters are ignored (§6.1); ``authorization_details`` is refused,
        since this server returns no ``credential_identifiers``.

        Raises:
            MalformedInputError: ``malformed`` (``invalid_request``) for a missing or bad
                parameter, a missing transaction code or an unexpected one (§6.3).
            MalformedInputError: ``unsupported_grant_type``.
            PolicyError: ``invalid_grant`` for an unknown, used, expired or invalidated
                code and a wrong transaction code (``details["reason"]``).
        """
        # RFC 6749 §3.1: "Parameters sent without a value MUST be treated as if they were
        # omitted from the request."
        form = {name: value for name, value in form.items() if value}
        grant_type = form.get("grant_type")
        if not grant_type:
            raise MalformedInputError(Code.MALFORMED, "grant_type is required")
        if grant_type != PRE_AUTHORIZED_GRANT:
            raise MalformedInputError(
                Code.UNSUPPORTED_GRANT_TYPE, "only the pre-authorized code grant is supported"
            )
        code = form.get("pre-authorized_code", "")
        if not code or len(code) > _MAX_SECRET_TEXT:
            raise MalformedInputError(Code.MALFORMED, "pre-authorized_code is required")
        tx_code = form.get("tx_code")
        if tx_code is not None and len(tx_code) > _MAX_TX_CODE:
            raise MalformedInputError(Code.MALFORMED, "tx_code is too long")
        client_id = form.get("client_id")
        if client_id is not None and (
            not client_id
            or len(client_id) > _MAX_CLIENT_ID
            or not client_id.isascii()
            or not client_id.isprintable()
        ):
            raise MalformedInputError(Code.MALFORMED, "client_id is printable ASCII")
        if "authorization_details" in form:
            raise MalformedInputError(Code.MALFORMED, "authorization_details is not supported")
        now = self._now()
        access_token = secrets.token_urlsafe(32)
        failure: SeoulVCError | None = None
        with self._store.write() as tx:
            rows = tx.execute(
                "SELECT offer_id, state, expires_at, tx_code_hash, tx_tries, subject "
                "FROM {p}issuance_offers WHERE code_hash = ?",
                (_digest(code),),
            )
            if not rows:
                raise _invalid_grant("the pre-authorized code is not valid", "unknown")
            offer_id, state, expires_at, tx_hash, tries, sealed = rows[0]
            if state == "redeemed":
                # RFC 6749 §4.1.2: a code used twice also revokes the token it gave.
                tx.execute(
                    "UPDATE {p}issuance_offers SET state = 'invalidated', subject = '' "
                    "WHERE offer_id = ?",
                    (offer_id,),
                )
                failure = _invalid_grant("the pre-authorized code was used", "used")
            elif state != "offered":
                raise _invalid_grant("the pre-authorized code was used", "used")
            elif now >= int(expires_at):
                raise _invalid_grant("the pre-authorized code has expired", "expired")
            elif tx_hash is not None:
                if tx_code is None:
                    raise MalformedInputError(Code.MALFORMED, "this offer needs its tx_code")
                if not hmac.compare_digest(str(tx_hash), self._tx_code_hash(code, tx_code)):
                    spent = int(tries) + 1 >= MAX_TX_CODE_TRIES
                    tx.execute(
                        "UPDATE {p}issuance_offers SET tx_tries = ?, state = ?, "
                        "subject = CASE WHEN ? = 1 THEN '' ELSE subject END WHERE offer_id = ?",
                        (int(tries) + 1, "invalidated" if spent else "offered",
                         1 if spent else 0, offer_id),
                    )  # fmt: skip
                    failure = _invalid_grant(
                        "the transaction code is wrong",
                        "tx_code_exhausted" if spent else "tx_code",
                    )
            elif tx_code is not None:
                raise MalformedInputError(Code.MALFORMED, "this offer takes no tx_code")
            if failure is None:
                subject = self._open(code, str(offer_id), str(sealed))
                tx.execute(
                    "UPDATE {p}issuance_offers SET state = 'redeemed', token_hash = ?, "
                    "token_expires_at = ?, client_id = ?, subject = ? WHERE offer_id = ?",
                    (
                        _digest(access_token),
                        now + int(self._token_ttl.total_seconds()),
                        client_id,
                        self._seal(access_token, str(offer_id), subject),
                        offer_id,
                    ),
                )
        # Raised after the commit, so a wrong try (or an invalidation) is counted.
        if failure is not None:
            raise failure
        return TokenResponse(
            access_token=access_token, expires_in=int(self._token_ttl.total_seconds())
        )

    # -- 3. nonce ---------------------------------------------------------------------------------
    def nonce(self) -> str:
        """Return a fresh ``c_nonce`` (§7.2); nothing is written (see the module docstring)."""
        expiry = self._now() + int(self._nonce_ttl.total_seconds())
        body = secrets.token_bytes(16) + expiry.to_bytes(8, "big")
        tag = hmac.new(self._nonce_key, _NONCE_LABEL + body, hashlib.sha256).digest()[:16]
        return b64url_encode(body + tag)

    def _nonce_expiry(self, nonce: str, now: int) -> int:
        """Check a ``c_nonce`` was made here and is live; return its expiry.

        Raises:
            StateConflictError: ``invalid_nonce``.
        """
        try:
            raw = b64url_decode(nonce, what="c_nonce") if len(nonce) < 128 else b""
        except MalformedInputError:
            raw = b""
        if len(raw) != _NONCE_BYTES:
            raise _bad_nonce("the c_nonce was not issued here")
        body, tag = raw[:24], raw[24:]
        expected = hmac.new(self._nonce_key, _NONCE_LABEL + body, hashlib.sha256).digest()[:16]
        if not hmac.compare_digest(tag, expected):
            raise _bad_nonce("the c_nonce was not issued here")
        expiry = int.from_bytes(body[16:], "big")
        if now >= expiry:
            raise _bad_nonce("the c_nonce has expired")
        return expiry

    # -- 4. credential ----------------------------------------------------------------------------
    def credential(self, access_token: str | None, request: JSONObject) -> IssuedCredential:
        """Answer a credential request (§8.2) made with ``access_token``.

        Raises:
            PolicyError: ``unauthorized`` (``invalid_token``) for a missing, unknown,
                expired or spent access token; ``credential_request_denied`` for a
                configuration the token was not issued for, or a credential that cannot be
                issued (its subject no longer fits the schema).
            MalformedInputError: ``malformed`` (``invalid_credential_request``) for a
                malformed request, ``credential_identifier``, response encryption or more
                than one proof (no batch issuance).
            NotFoundError: ``unknown_credential_configuration``.
            VerificationError: ``invalid_proof`` (missing or failed key proof).
            StateConflictError: ``invalid_nonce``.
            StorageError, UnavailableError: a store failed.
        """
        now = self._now()
        if not access_token or len(access_token) > _MAX_SECRET_TEXT:
            raise _bad_token()
        token_hash = _digest(access_token)
        with self._store.read() as tx:
            rows = tx.execute(
                "SELECT offer_id, configuration_id, state, token_expires_at, client_id, subject "
                "FROM {p}issuance_offers WHERE token_hash = ?",
                (token_hash,),
            )
        if not rows or rows[0][2] != "redeemed" or now >= int(rows[0][3]):
            raise _bad_token()
        offer_id, granted, sealed = str(rows[0][0]), str(rows[0][1]), str(rows[0][5])
        if not sealed:  # wiped: the token expired between the two reads
            raise _bad_token()
        client_id = None if rows[0][4] is None else str(rows[0][4])
        configuration_id, proof = _read_request(request)
        configuration = self._configuration(configuration_id)
        if configuration.id != granted:
            raise PolicyError(
                Code.CREDENTIAL_REQUEST_DENIED, "the access token is for another configuration"
            )
        checked = check_key_proof(
            proof,
            audience=self.credential_issuer,
            now=now,
            client_id=client_id,
            algorithms=configuration.proof_algs,
            limits=self._limits,
        )
        assert checked.nonce is not None  # noqa: S101 - require_nonce is on
        nonce_expiry = self._nonce_expiry(checked.nonce, now)
        nonce_hash = _digest(checked.nonce)
        with self._store.read() as tx:
            if tx.execute("SELECT 1 FROM {p}issuance_nonces WHERE nonce_hash = ?", (nonce_hash,)):
                raise _bad_nonce("the c_nonce was used already")
        subject = self._open(access_token, offer_id, sealed)
        status = self._allocate(configuration.format)
        type_name = configuration.type_name
        if type_name is None:  # pragma: no cover - every configuration here is a Seoul type
            raise InternalError(Code.INTERNAL, "a configuration without a credential type")
        try:
            token = self._issuer.issue(
                type_name,
                subject,
                format="vc+jwt" if configuration.format == "vc+jwt" else "dc+sd-jwt",
                holder=checked.key,
                status=status,
            )
        except (MalformedInputError, ConfigurationError) as exc:
            raise PolicyError(
                Code.CREDENTIAL_REQUEST_DENIED,
                "the credential cannot be issued",
                reason=str(exc.code),
            ) from exc
        with self._store.write() as tx:
            rows = tx.execute(
                "SELECT state, token_expires_at FROM {p}issuance_offers WHERE token_hash = ?",
                (token_hash,),
            )
            if not rows or rows[0][0] != "redeemed" or now >= int(rows[0][1]):
                raise _bad_token()
            if tx.execute("SELECT 1 FROM {p}issuance_nonces WHERE nonce_hash = ?", (nonce_hash,)):
                raise _bad_nonce("the c_nonce was used already")
            tx.execute("DELETE FROM {p}issuance_nonces WHERE expires_at <= ?", (now,))
            tx.execute(
                "INSERT INTO {p}issuance_nonces (nonce_hash, expires_at) VALUES (?, ?)",
                (nonce_hash, nonce_expiry),
            )
            tx.execute(
                "UPDATE {p}issuance_offers SET state = 'issued', subject = '', status = ?, "
                "issued_at = ? WHERE offer_id = ?",
                (None if status is None else _json.canonical(status).decode(), now, offer_id),
            )
        return IssuedCredential(
            offer_id=offer_id,
            configuration_id=configuration.id,
            format=configuration.format,
            credential=token,
            status=status,
        )
