"""The issuing service's configuration, store and secrets: what it keeps, and how.

Part of :mod:`seoul_vc.issuance`: :class:`_IssuanceStore` is the base of
:class:`~seoul_vc.issuance.IssuanceService` (whose docstring lists the arguments). It
checks the configuration (the Credential Issuer Identifier, OpenID4VCI 1.0 §12.2.1; the
configurations offered, §12.2.4), opens the service's tables
(:func:`seoul_vc._tables.open_table_store`: offers, spent ``c_nonce`` digests, and the
secrets the store generates for itself), and holds how an offer is kept: pre-authorized
codes, access tokens and nonces only as their SHA-256, the transaction code only as
``HMAC-SHA256(code, tx_code)`` (§13.6.3), and the subject sealed (AES-256-GCM) under a
key derived from the code or token it waits for, forgotten once the offer is finished or
expired. :meth:`~_IssuanceStore.offer_state` reads what became of an offer.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from collections.abc import Mapping
from datetime import timedelta
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from seoul_vc import _json
from seoul_vc._encoding import b64url_decode, b64url_encode
from seoul_vc._json import JSONObject
from seoul_vc._tables import TableStore, Tx, one_row, open_table_store
from seoul_vc.clock import Clock
from seoul_vc.credentials.issuer import Issuer
from seoul_vc.credentials.oid4vci import (
    CredentialConfiguration,
    credential_issuer_metadata_url,
    seoul_configurations,
)
from seoul_vc.errors import (
    Code,
    ConfigurationError,
    SeoulVCError,
    StorageError,
)
from seoul_vc.issuance._messages import OfferState
from seoul_vc.limits import Limits
from seoul_vc.status import StatusRegistry

_MIN_OFFER_TTL: Final = timedelta(seconds=1)
_MAX_OFFER_TTL: Final = timedelta(days=7)
_SUBJECT_LABEL: Final = b"seoul-vc/issuance/subject/v1"

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


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


class _IssuanceStore:
    """The configuration, store and secrets of an :class:`~seoul_vc.issuance.IssuanceService`."""

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

    # -- the offers' rows -------------------------------------------------------------------------
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
            configuration_id, state, expires_at, token_expires_at, issued_at, status = one_row(
                tx,
                "SELECT configuration_id, state, expires_at, token_expires_at, issued_at, status "
                "FROM {p}issuance_offers WHERE offer_id = ?",
                (offer_id,),
                "no offer with this id",
            )
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
