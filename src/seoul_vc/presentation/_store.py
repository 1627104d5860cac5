"""The table of OpenID4VP verifier sessions: configuration, rows and outcomes.

Part of :mod:`seoul_vc.presentation`: :class:`_SessionStore` is the base of
:class:`~seoul_vc.presentation.PresentationSessions` (whose docstring lists the
arguments). It holds the verifier's configuration (its signing key and DID, the
``client_id`` ``decentralized_identifier:<DID>`` of its Request Objects, OpenID4VP 1.0 §5,
and what each response is checked with) and the sessions' table
(:func:`seoul_vc._tables.open_table_store`: SQLite, or PostgreSQL for several servers):
one row a request, with its ``nonce``, ``state``, DCQL query, Request Object and expiry,
and, once a response was processed, its outcome.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Final

from seoul_vc import _json
from seoul_vc._json import JSONObject
from seoul_vc._tables import TableStore, one_row, open_table_store
from seoul_vc.clock import Clock, SystemClock
from seoul_vc.credentials import StatusSource, TrustPolicy
from seoul_vc.credentials.issuer import did_of, kid_of
from seoul_vc.did import Resolver
from seoul_vc.errors import Code, ConfigurationError, NotFoundError
from seoul_vc.keys import PrivateKey
from seoul_vc.limits import Limits
from seoul_vc.presentation._values import ReceiptPolicy
from seoul_vc.wallet.request import CLIENT_ID_PREFIX

_REQUEST_ID_RE: Final = re.compile(r"[A-Za-z0-9_-]{22}")
_DEFAULT_LIFETIME: Final = timedelta(minutes=10)
_DEFAULT_RETENTION: Final = timedelta(hours=1)
_MAX_LIFETIME: Final = timedelta(hours=1)

_DDL: Final = (
    """CREATE TABLE IF NOT EXISTS {p}presentation_sessions (
        request_id TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        client_id TEXT NOT NULL,
        nonce TEXT NOT NULL,
        state TEXT NOT NULL,
        query TEXT NOT NULL,
        request_object TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        status TEXT NOT NULL,
        outcome TEXT,
        completed_at BIGINT
    )""",
)


@dataclass(frozen=True, slots=True)
class _Row:
    owner: str
    client_id: str
    nonce: str
    state: str
    query: str
    request_object: str
    expires_at: int
    status: str
    outcome: str | None
    completed_at: int | None


class _SessionStore:
    """The configuration and table of :class:`~seoul_vc.presentation.PresentationSessions`."""

    def __init__(
        self,
        store_url: str,
        *,
        key: PrivateKey,
        response_uri: Callable[[str], str],
        trust: TrustPolicy,
        did: str | None = None,
        kid: str | None = None,
        request_uri: Callable[[str], str] | None = None,
        resolver: Resolver | None = None,
        status: StatusSource | None = None,
        receipts: ReceiptPolicy | None = None,
        clock: Clock | None = None,
        limits: Limits | None = None,
        lifetime: timedelta = _DEFAULT_LIFETIME,
        retention: timedelta = _DEFAULT_RETENTION,
    ) -> None:
        if not timedelta(seconds=30) <= lifetime <= _MAX_LIFETIME:
            raise ConfigurationError(Code.BAD_ARGUMENT, "lifetime is 30 s to one hour")
        if retention < timedelta(0):
            raise ConfigurationError(Code.BAD_ARGUMENT, "retention is not negative")
        self._key = key
        self.did = did or did_of(key.public_key)
        self._kid = kid or kid_of(self.did, key.public_key)
        self.client_id = CLIENT_ID_PREFIX + self.did
        self._response_uri = response_uri
        self._request_uri = request_uri
        self._trust = trust
        self._resolver = resolver
        self._status = status
        self._receipts = receipts
        self._clock = clock or SystemClock()
        self._limits = limits or Limits()
        self._lifetime = lifetime
        self._retention = int(retention.total_seconds())
        self._store: TableStore = open_table_store(
            store_url, ddl=_DDL, name="presentation sessions", default_schema="seoul_vc_service"
        )

    def close(self) -> None:
        """Close the store."""
        self._store.close()

    def _now(self) -> int:
        return int(self._clock.now().timestamp())

    def _row(self, request_id: str) -> _Row:
        if _REQUEST_ID_RE.fullmatch(request_id) is None:
            raise NotFoundError(Code.NOT_FOUND, "no such presentation request")
        with self._store.read() as tx:
            r = one_row(
                tx,
                "SELECT owner, client_id, nonce, state, query, request_object, expires_at, "
                "status, outcome, completed_at FROM {p}presentation_sessions "
                "WHERE request_id = ?",
                (request_id,),
                "no such presentation request",
            )
        return _Row(
            owner=str(r[0]),
            client_id=str(r[1]),
            nonce=str(r[2]),
            state=str(r[3]),
            query=str(r[4]),
            request_object=str(r[5]),
            expires_at=int(r[6]),
            status=str(r[7]),
            outcome=None if r[8] is None else str(r[8]),
            completed_at=None if r[9] is None else int(r[9]),
        )

    def _finish(self, request_id: str, status: str, outcome: JSONObject) -> None:
        with self._store.write() as tx:
            tx.execute(
                "UPDATE {p}presentation_sessions SET status = ?, outcome = ?, completed_at = ? "
                "WHERE request_id = ? AND status = 'processing'",
                (status, _json.canonical(outcome).decode(), self._now(), request_id),
            )
