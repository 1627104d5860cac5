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
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Final, Literal

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from seoul_vc import _json
from seoul_vc._encoding import b64url_decode, b64url_encode
from seoul_vc._json import JSONObject, JSONValue
from seoul_vc._tables import TableStore, Tx, open_table_store
from seoul_vc.clock import Clock
from seoul_vc.credentials.issuer import Issuer
from seoul_vc.credentials.oid4vci import (
    PRE_AUTHORIZED_GRANT,
    AuthorizationServerMetadata,
    CredentialConfiguration,
    CredentialIssuerMetadata,
    CredentialOffer,
    TxCode,
    check_key_proof,
    credential_issuer_metadata_url,
    seoul_configurations,
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
    StorageError,
    UnavailableError,
    VerificationError,
)
from seoul_vc.jose import parse_compact
from seoul_vc.limits import Limits
from seoul_vc.status import PublishedList, StatusRegistry, StatusType

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
_MIN_OFFER_TTL: Final = timedelta(seconds=1)
_MAX_OFFER_TTL: Final = timedelta(days=7)
_SUBJECT_LABEL: Final = b"seoul-vc/issuance/subject/v1"
_NONCE_LABEL: Final = b"seoul-vc/issuance/c_nonce/v1"
_NONCE_BYTES: Final = 16 + 8 + 16  # random, expiry, MAC

_DDL: Final = (
    """CREATE TABLE IF NOT EXISTS {p}issuance_offers (
        offer_id TEXT PRIMARY KEY, code_hash TEXT NOT NULL UNIQUE,
        configuration_id TEXT NOT NULL, subject TEXT NOT NULL,
        tx_code_hash TEXT, tx_tries INTEGER NOT NULL, state TEXT NOT NULL,
        created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL,
        token_hash TEXT UNIQUE, token_expires_at BIGINT, client_id TEXT,
        status TEXT, issued_at BIGINT)""",
    """CREATE TABLE IF NOT EXISTS {p}issuance_nonces (
        nonce_hash TEXT PRIMARY KEY, expires_at BIGINT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS {p}issuance_secrets (
        name TEXT PRIMARY KEY, secret {blob} NOT NULL)""",
)

StatusAction = Literal["revoke", "suspend", "reinstate"]


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _invalid_grant(message: str, reason: str) -> PolicyError:
    return PolicyError(Code.INVALID_GRANT, message, reason=reason)


def _bad_token() -> PolicyError:
    return PolicyError(Code.UNAUTHORIZED, "a valid access token is required")


def _bad_nonce(message: str) -> StateConflictError:
    return StateConflictError(Code.INVALID_NONCE, message)


# -- values ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class CreatedOffer:
    """A new offer: hand ``offer`` to the citizen and ``tx_code`` by another channel.

    Attributes:
        offer_id: the agency's handle (state, status changes); not a secret.
        offer: the Credential Offer (it holds the pre-authorized code: a secret).
        tx_code: the transaction code, if one was asked for (shown once, never stored).
        expires_at: when the pre-authorized code expires (POSIX seconds).
    """

    offer_id: str
    offer: CredentialOffer
    tx_code: str | None = field(default=None, repr=False)
    expires_at: int

    def to_json(self) -> JSONObject:
        """Return ``offer_id``, ``credential_offer``, ``offer_uri``, ``expires_at``, ``tx_code``."""
        out: JSONObject = {
            "offer_id": self.offer_id,
            "credential_offer": self.offer.to_json(),
            "offer_uri": self.offer.to_uri(),
            "expires_at": self.expires_at,
        }
        if self.tx_code is not None:
            out["tx_code"] = self.tx_code
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenResponse:
    """A successful token response (RFC 6749 §5.1)."""

    access_token: str = field(repr=False)
    expires_in: int

    def to_json(self) -> JSONObject:
        """Return ``access_token``, ``token_type`` ``Bearer`` and ``expires_in``."""
        return {
            "access_token": self.access_token,
            "token_type": "Bearer",
            "expires_in": self.expires_in,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class IssuedCredential:
    """An issued credential and where its status lives."""

    offer_id: str
    configuration_id: str
    format: str
    credential: str = field(repr=False)
    status: JSONValue | None = None

    def to_json(self) -> JSONObject:
        """Return the Credential Response (§8.3): ``{"credentials": [{"credential": ...}]}``."""
        return {"credentials": [{"credential": self.credential}]}


@dataclass(frozen=True, slots=True, kw_only=True)
class OfferState:
    """What became of an offer (for the agency; no personal data).

    Attributes:
        state: ``offered``, ``redeemed`` (token given), ``issued``, ``invalidated`` or
            ``expired``; status: the credential's status claim once issued.
    """

    offer_id: str
    configuration_id: str
    state: str
    expires_at: int
    issued_at: int | None = None
    status: JSONValue | None = None

    def to_json(self) -> JSONObject:
        """Return the state as JSON."""
        return {
            "offer_id": self.offer_id,
            "credential_configuration_id": self.configuration_id,
            "state": self.state,
            "expires_at": self.expires_at,
            "issued_at": self.issued_at,
            "status": self.status,
        }


# -- the service ----------------------------------------------------------------------------------


class IssuanceService:
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

    def __init__(
        self,
        store_url: str,
        *,
        issuer: Issuer,
        credential_issuer: str,
        status: StatusRegistry | None = None,
        clock: Clock | None = None,
        limits: Limits | None = None,
        offer_ttl: timedelta = timedelta(minutes=10),
        token_ttl: timedelta = timedelta(minutes=5),
        nonce_ttl: timedelta | None = None,
    ) -> None:
        self._limits = limits or Limits()
        self._nonce_ttl = nonce_ttl or self._limits.nonce_ttl
        if not _MIN_OFFER_TTL <= offer_ttl <= _MAX_OFFER_TTL or not (
            timedelta(seconds=1) <= token_ttl <= timedelta(hours=1)
            and timedelta(seconds=1) <= self._nonce_ttl <= timedelta(hours=1)
        ):
            raise ConfigurationError(Code.BAD_ARGUMENT, "an offer, token or nonce lifetime")
        try:
            credential_issuer_metadata_url(credential_issuer)
        except SeoulVCError as exc:
            raise ConfigurationError(
                Code.BAD_ARGUMENT, "the credential issuer identifier is an https URL"
            ) from exc
        self.credential_issuer = credential_issuer
        self._issuer = issuer
        self._status = status
        self._clock = clock or issuer.clock
        self._offer_ttl = offer_ttl
        self._token_ttl = token_ttl
        configurations = seoul_configurations(issuer.key.alg.value)
        if not issuer.issuer_id.startswith("did:"):
            # An HTTPS issuer identifier signs dc+sd-jwt only (see Issuer).
            configurations = {k: v for k, v in configurations.items() if v.format == "dc+sd-jwt"}
        #: The configurations offered, by id.
        self.configurations: Mapping[str, CredentialConfiguration] = configurations
        self._store: TableStore = open_table_store(
            store_url, ddl=_DDL, name="issuance store", default_schema="seoul_vc_issuance"
        )
        self._nonce_key = self._secret("c_nonce")
        self._refresh_lock = threading.Lock()

    def close(self) -> None:
        """Close the store (the status registry is the caller's)."""
        self._store.close()

    def _now(self) -> int:
        return int(self._clock.now().timestamp())

    def _secret(self, name: str) -> bytes:
        with self._store.write() as tx:
            rows = tx.execute("SELECT secret FROM {p}issuance_secrets WHERE name = ?", (name,))
            if rows:
                return bytes(rows[0][0])
            secret = secrets.token_bytes(32)
            tx.execute(
                "INSERT INTO {p}issuance_secrets (name, secret) VALUES (?, ?)", (name, secret)
            )
            return secret

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

    # -- sealing the subject ----------------------------------------------------------------------
    @staticmethod
    def _seal(secret: str, offer_id: str, subject: JSONObject) -> str:
        key = hmac.new(secret.encode("utf-8"), _SUBJECT_LABEL, hashlib.sha256).digest()
        nonce = secrets.token_bytes(12)
        sealed = AESGCM(key).encrypt(nonce, _json.canonical(subject), offer_id.encode())
        return b64url_encode(nonce + sealed)

    def _open(self, secret: str, offer_id: str, sealed: str) -> JSONObject:
        key = hmac.new(secret.encode("utf-8"), _SUBJECT_LABEL, hashlib.sha256).digest()
        try:
            raw = b64url_decode(sealed, what="sealed subject")
            plain = AESGCM(key).decrypt(raw[:12], raw[12:], offer_id.encode())
        except (SeoulVCError, InvalidTag, ValueError) as exc:
            raise StorageError(Code.STORAGE, "an offer's sealed subject does not open") from exc
        return _json.loads_object(
            plain, max_bytes=self._limits.max_json_bytes, max_depth=16, what="subject"
        )

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

    @staticmethod
    def _tx_code_hash(code: str, tx_code: str) -> str:
        return hmac.new(code.encode(), b"tx_code:" + tx_code.encode(), hashlib.sha256).hexdigest()

    @staticmethod
    def _purge(tx: Tx, now: int) -> None:
        """Forget the sealed subjects of finished or expired offers."""
        tx.execute(
            "UPDATE {p}issuance_offers SET subject = '' WHERE subject != '' AND ("
            "state IN ('issued', 'invalidated') OR (state = 'offered' AND expires_at <= ?) "
            "OR (state = 'redeemed' AND token_expires_at <= ?))",
            (now, now),
        )

    def offer_state(self, offer_id: str) -> OfferState:
        """Return what became of an offer.

        Raises:
            NotFoundError: ``not_found`` for an unknown offer id.
        """
        with self._store.read() as tx:
            rows = tx.execute(
                "SELECT configuration_id, state, expires_at, token_expires_at, issued_at, status "
                "FROM {p}issuance_offers WHERE offer_id = ?",
                (offer_id,),
            )
        if not rows:
            raise NotFoundError(Code.NOT_FOUND, "no offer with this id")
        configuration_id, state, expires_at, token_expires_at, issued_at, status = rows[0]
        now = self._now()
        if (state == "offered" and now >= int(expires_at)) or (
            state == "redeemed" and now >= int(token_expires_at)
        ):
            state = "expired"
        return OfferState(
            offer_id=offer_id,
            configuration_id=str(configuration_id),
            state=str(state),
            expires_at=int(expires_at),
            issued_at=None if issued_at is None else int(issued_at),
            status=None
            if status is None
            else _json.loads(str(status), max_bytes=1 << 16, max_depth=8, what="status"),
        )

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

    # -- status -----------------------------------------------------------------------------------
    def _registry(self) -> StatusRegistry:
        if self._status is None:
            raise ConfigurationError(Code.BAD_ARGUMENT, "this issuer keeps no status lists")
        return self._status

    def _allocate(self, format: str) -> JSONValue | None:
        if self._status is None:
            return None
        allocation = self._status.allocate(format)
        try:
            self._status.latest(allocation.uris[0])
        except NotFoundError:
            # A new list: publish it now, so the credential's status can be checked at once.
            try:
                self._status.publish()
            except (StorageError, UnavailableError):
                raise
            except SeoulVCError as exc:
                # The ledger refused the anchor (a missing grant): the operator must act.
                raise UnavailableError(
                    Code.UNAVAILABLE, "a new status list could not be published"
                ) from exc
        return allocation.status_claim()

    def status_reference(self, offer_id: str) -> JSONValue:
        """Return the status claim of the credential issued for an offer.

        Raises:
            NotFoundError: ``not_found`` for an unknown offer, or one not issued (or issued
                without status).
        """
        state = self.offer_state(offer_id)
        if state.status is None:
            raise NotFoundError(Code.NOT_FOUND, "no credential with a status was issued for it")
        return state.status

    def set_status(self, ref: str | JSONValue, action: StatusAction) -> StatusType:
        """Revoke, suspend or reinstate a credential, by its offer id or its status claim.

        The change is published by the next :meth:`publish`.

        Raises:
            NotFoundError: ``not_found`` for an unknown offer or entry.
            StateConflictError: ``conflict`` (suspending or reinstating a revoked entry).
            MalformedInputError: a status claim that does not parse.
            ConfigurationError: ``bad_argument`` without a status registry.
        """
        registry = self._registry()
        claim = self.status_reference(ref) if isinstance(ref, str) else ref
        if action == "revoke":
            registry.revoke(claim)
        elif action == "suspend":
            registry.suspend(claim)
        else:
            registry.reinstate(claim)
        return registry.status_of(claim)

    def publish(self, *, everything: bool = False) -> list[PublishedList]:
        """Sign, anchor and store a new version of each changed list (or of all).

        Raises:
            ConfigurationError: ``bad_argument`` without a status registry.
            SeoulVCError: as :meth:`seoul_vc.status.StatusRegistry.publish`.
        """
        return self._registry().publish(everything=everything)

    def status_list(self, uri: str) -> PublishedList:
        """Return the latest version of a list, re-publishing first if it is half expired.

        Every list is re-signed once the one asked for has lived half its validity, so the
        lists of a quiet issuer never expire in verifiers' hands.

        Raises:
            NotFoundError: ``not_found`` for a list never published.
            ConfigurationError: ``bad_argument`` without a status registry.
        """
        registry = self._registry()
        latest = registry.latest(uri)
        if not self._stale(latest):
            return latest
        with self._refresh_lock:
            latest = registry.latest(uri)
            if self._stale(latest):
                registry.publish(everything=True)
                latest = registry.latest(uri)
        return latest

    def _stale(self, published: PublishedList) -> bool:
        payload = _json.loads_object(
            parse_compact(published.token, limits=_LIST_LIMITS).payload,
            max_bytes=_LIST_LIMITS.max_token_bytes,
            max_depth=16,
            what="status list",
        )
        start, end = payload.get("iat"), payload.get("exp")
        if "validFrom" in payload:
            start, end = _instant(payload.get("validFrom")), _instant(payload.get("validUntil"))
        if type(start) is not int or type(end) is not int:
            raise VerificationError(Code.STATUS_LIST_INVALID, "a published list has no window")
        return self._now() >= start + (end - start) // 2


_LIST_LIMITS: Final = Limits(max_token_bytes=Limits().max_status_list_bytes)


def _instant(value: JSONValue) -> int | None:
    if not isinstance(value, str):
        return None
    try:
        return int(datetime.fromisoformat(value).timestamp())
    except ValueError:
        return None


def _read_request(request: JSONObject) -> tuple[str, object]:
    """The ``credential_configuration_id`` and the one ``jwt`` proof of a request (§8.2)."""
    if not isinstance(request, dict):
        raise MalformedInputError(Code.MALFORMED, "a credential request is a JSON object")
    if "credential_identifier" in request:
        raise MalformedInputError(
            Code.MALFORMED, "credential_identifier is not used: no identifiers were issued"
        )
    if "credential_response_encryption" in request:
        raise MalformedInputError(Code.MALFORMED, "response encryption is not supported")
    configuration_id = request.get("credential_configuration_id")
    if not isinstance(configuration_id, str) or not configuration_id:
        raise MalformedInputError(Code.MALFORMED, "credential_configuration_id is required")
    proofs = request.get("proofs")
    if proofs is None:
        raise VerificationError(Code.INVALID_PROOF, "proofs is required", reason="proofs_missing")
    if not isinstance(proofs, dict) or len(proofs) != 1:
        raise VerificationError(
            Code.INVALID_PROOF, "proofs holds exactly one proof type", reason="malformed"
        )
    jwts = proofs.get("jwt")
    if jwts is None:
        raise VerificationError(
            Code.INVALID_PROOF, "the jwt proof type is the one supported", reason="proof_type"
        )
    if not isinstance(jwts, list) or not jwts:
        raise VerificationError(
            Code.INVALID_PROOF, "proofs.jwt is a non-empty array", reason="malformed"
        )
    if len(jwts) > 1:
        raise MalformedInputError(Code.MALFORMED, "one proof per request: no batch issuance")
    return configuration_id, jwts[0]
