"""Verifier sessions for OpenID4VP 1.0 over ``direct_post``: one request, one response.

Room: presentation (a receiving agency's side of OpenID4VP 1.0). A
:class:`PresentationSessions` service keeps each presentation request in its own table
(:func:`seoul_vc._tables.open_table_store`: SQLite, or PostgreSQL for several servers) and
runs the Response URI's checks:

1. **Create** (§5, §13.3 steps 1-4): a fresh ``nonce`` and ``state`` (256 random bits each,
   base64url: the §5.2 URL-safe alphabet), a request id (128 bits), the DCQL query (§6, the
   library's subset, :mod:`seoul_vc.wallet.request`) and an expiry are stored; the Request
   Object is signed once (``typ`` ``oauth-authz-req+jwt``, ``client_id``
   ``decentralized_identifier:<DID>``, ``response_mode`` ``direct_post``, ``response_uri``,
   ``state``) and served by reference (``request_uri``, §5.10 / RFC 9101 §5.2).
2. **Respond** (§8.2): the wallet POSTs ``vp_token`` (a JSON object: Credential Query id ->
   array of presentations, §8.1) and ``state``, or an error response (``error``, §8.5).
   Before anything is spent: the session must exist, its ``state`` must match (compared in
   constant time, §14.4.2: ``state_mismatch``) and the parameters must parse (``malformed``):
   a response that is not one does not use up the request.
3. **Claim, exactly once** (§13.3 step 10, §14.2): one serialized store transaction moves
   the session from ``pending`` to ``processing``; a second response — a replay of the same
   body or a concurrent answer, in any thread, process or server — finds it taken and is
   refused with :class:`~seoul_vc.errors.StateConflictError` ``already_answered``; an
   expired session is refused with ``expired``. This transition is the nonce's single use:
   the :class:`~seoul_vc.credentials.Verifier` each response is checked with gets a nonce
   store that accepts this session's nonce for every presentation of the response (a
   response may carry several presentations under one nonce, §14.2.2).
4. **Verify** (§8.6): every presentation in the library's one pipeline with ``aud`` = the
   ``client_id`` and the session's ``nonce`` (Appendix B.3.6: the KB-JWT's ``aud`` and
   ``nonce``): issuer signature and trust, validity, schema, status, holder binding. Then the
   answer against the query (§6.4, §14.11: the verifier never relies on the wallet): no
   presentation for a query that was not asked (``excess_disclosure``), one for each query
   that was (``query_not_answered``), of an asked ``vct`` in the ``dc+sd-jwt`` format
   (``wrong_type``), disclosing nothing outside the query's claim paths
   (``excess_disclosure``). A citizen may consent to fewer claims than asked: the result
   lists exactly what was disclosed.
5. **View receipts.** A Seoul Citizen Card wallet also sends ``view_receipt`` — an extra
   response parameter (§8.1 allows them; a verifier that does not know it ignores it): the
   :class:`~seoul_vc.wallet.consent.ViewReceipt` JSON proving on the ledger that this view
   (for this verifier and nonce) was recorded within the citizen's consent before anything
   was disclosed. When the sessions know the ledger (:class:`ReceiptPolicy`), a receipt is
   checked with :func:`~seoul_vc.wallet.present.check_consented_presentation`, and a bad
   one fails the response; the result then names the view (k of N).
6. **Result**: ``pending`` until answered; then ``complete`` with the disclosed claims per
   Credential Query, or ``failed`` with the first failing check's code (``source``
   ``verifier``) or the wallet's OAuth error (``source`` ``wallet``); ``expired`` when no
   answer came in time. Results are readable by the agency system that created the request
   (its ``owner`` tag), and are deleted ``retention`` after the request's expiry.

Example:
    >>> import os, tempfile
    >>> from seoul_vc import PrivateKey, TrustRegistry
    >>> from seoul_vc.presentation import PRESETS, PresentationSessions
    >>> key = PrivateKey.generate()
    >>> tmp = tempfile.mkdtemp()
    >>> sessions = PresentationSessions(
    ...     "sqlite:" + os.path.join(tmp, "service.db"), key=key,
    ...     response_uri=lambda rid: f"https://agency.example/responses/{rid}",
    ...     request_uri=lambda rid: f"https://agency.example/requests/{rid}",
    ...     trust=TrustRegistry.from_json({"issuers": [
    ...         {"id": "did:web:mois.example", "types": ["ResidencyCredential"]}]}))
    >>> session = sessions.create(PRESETS["residency_district"], purpose="Youth housing")
    >>> sessions.authorization_request(session.request_id)[:50]
    'openid4vp://?client_id=decentralized_identifier%3A'
    >>> sessions.result(session.request_id).status
    'pending'
    >>> sessions.close()
"""

from __future__ import annotations

import hmac
import re
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Final, Literal

from seoul_vc import _json
from seoul_vc._json import JSONObject, JSONValue
from seoul_vc._tables import TableStore, open_table_store
from seoul_vc.clock import Clock, SystemClock
from seoul_vc.credentials import StatusSource, TrustPolicy, Verifier, sd_jwt
from seoul_vc.credentials.issuer import did_of, kid_of
from seoul_vc.credentials.sd_jwt import format_claim_path
from seoul_vc.credentials.types import credential_type
from seoul_vc.did import Resolver
from seoul_vc.errors import (
    Code,
    ConfigurationError,
    InternalError,
    MalformedInputError,
    NotFoundError,
    PolicyError,
    SeoulVCError,
    StateConflictError,
    VerificationError,
)
from seoul_vc.jose import parse_compact
from seoul_vc.keys import PrivateKey
from seoul_vc.ledger.checkpoint import WitnessPolicy
from seoul_vc.ledger.note import NoteVerifier
from seoul_vc.limits import Limits
from seoul_vc.wallet.consent import ViewReceipt
from seoul_vc.wallet.present import check_consented_presentation, disclosed_paths, is_under
from seoul_vc.wallet.request import (
    CLIENT_ID_PREFIX,
    CredentialQuery,
    create_request,
    parse_dcql,
)

__all__ = [
    "PRESETS",
    "RECEIPT_PARAMETER",
    "PresentationSession",
    "PresentationSessions",
    "ReceiptPolicy",
    "SessionResult",
]

#: The extra ``direct_post`` parameter carrying a Citizen Card view receipt (§8.1 allows it).
RECEIPT_PARAMETER: Final = "view_receipt"
_REQUEST_ID_RE: Final = re.compile(r"[A-Za-z0-9_-]{22}")
#: RFC 6749 §4.1.2.1: ``error`` is %x20-21 / %x23-5B / %x5D-7E.
_OAUTH_ERROR_RE: Final = re.compile(r"[\x20\x21\x23-\x5b\x5d-\x7e]{1,64}")
_DEFAULT_LIFETIME: Final = timedelta(minutes=10)
_DEFAULT_RETENTION: Final = timedelta(hours=1)
_MAX_LIFETIME: Final = timedelta(hours=1)
_MAX_RECEIPT_BYTES: Final = 600 * 1024

Status = Literal["pending", "processing", "complete", "failed", "expired"]

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


def _preset(type_name: str, query_id: str, *paths: tuple[str, ...]) -> tuple[CredentialQuery]:
    return (
        CredentialQuery(
            id=query_id, vct_values=(credential_type(type_name).vct,), claims=tuple(paths)
        ),
    )


#: Named DCQL queries an agency can ask for without writing one.
PRESETS: Final[Mapping[str, tuple[CredentialQuery, ...]]] = {
    "residency_district": _preset(
        "ResidencyCredential", "residency", ("address", "district"), ("ageOver19",)
    ),
    "adult_resident": _preset("ResidencyCredential", "residency", ("ageOver19",)),
    "income_bracket": _preset(
        "IncomeCredential", "income", ("incomeBracketPercent",), ("householdSize",)
    ),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class ReceiptPolicy:
    """The ledger whose view receipts the verifier checks: origin, note key, witnesses."""

    origin: str
    log_key: NoteVerifier
    witnesses: WitnessPolicy


@dataclass(frozen=True, slots=True, kw_only=True)
class PresentationSession:
    """A created presentation request.

    Attributes:
        request_id: the session's id (128 random bits, base64url).
        request_object: the signed Request Object served at the ``request_uri``.
        client_id: ``decentralized_identifier:<DID>``.
        nonce, state: the session's fresh values (also inside the Request Object).
        credentials: the DCQL Credential Queries.
        created_at, expires_at: POSIX seconds.
    """

    request_id: str
    request_object: str
    client_id: str
    nonce: str
    state: str
    credentials: tuple[CredentialQuery, ...]
    created_at: int
    expires_at: int


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionResult:
    """What a session came to (see the module docstring, step 6).

    Attributes:
        request_id: the session.
        status: ``pending``, ``processing``, ``complete``, ``failed`` or ``expired``.
        claims: per Credential Query id, the disclosed claims (``complete`` only).
        error: the failing check's code, or the wallet's OAuth ``error`` (``failed`` only).
        error_source: ``verifier`` or ``wallet`` (``failed`` only).
        view: the checked view receipt (consent, k of N, ledger indexes), if one came.
        expires_at: the request's expiry; completed_at: when the response was processed.
    """

    request_id: str
    status: Status
    expires_at: int
    claims: dict[str, JSONObject] | None = None
    error: str | None = None
    error_source: Literal["verifier", "wallet"] | None = None
    view: JSONObject | None = None
    completed_at: int | None = None

    def to_json(self) -> JSONObject:
        """Return the result as JSON (absent members omitted)."""
        out: JSONObject = {
            "request_id": self.request_id,
            "status": self.status,
            "expires_at": self.expires_at,
        }
        if self.claims is not None:
            out["claims"] = {k: dict(v) for k, v in self.claims.items()}
        if self.error is not None:
            out["error"] = {"code": self.error, "source": self.error_source or "verifier"}
        if self.view is not None:
            out["view"] = dict(self.view)
        if self.completed_at is not None:
            out["completed_at"] = self.completed_at
        return out


class _SessionNonce:
    """A nonce store for one response: it accepts its session's nonce, for each presentation.

    Single use is the session's ``pending`` -> ``processing`` transition (durable, across
    processes), which happens before this store is made; here the nonce is only compared.
    """

    def __init__(self, nonce: str) -> None:
        self._nonce = nonce

    def issue(self) -> str:
        raise InternalError(Code.INTERNAL, "a session's nonce is issued with the session")

    def spend(self, nonce: str) -> None:
        if not hmac.compare_digest(nonce.encode(), self._nonce.encode()):
            raise StateConflictError(Code.NONCE_REPLAYED, "not this session's nonce")


@dataclass(frozen=True, slots=True)
class _Response:
    """A parsed ``direct_post`` body: a vp_token (and receipt) or the wallet's error."""

    vp_token: dict[str, list[str]] | None
    receipt: ViewReceipt | None
    error: str | None


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


def _malformed(message: str, field: str) -> MalformedInputError:
    return MalformedInputError(Code.MALFORMED, message, field=field)


class PresentationSessions:
    """A receiving agency's OpenID4VP sessions over one store; see the module docstring.

    Args:
        store_url: ``sqlite:PATH`` or ``postgresql://...[?schema=name]``.
        key: the verifier's signing key; did: its DID (default: did:key/did:jwk of the
            key); kid: the key's DID URL (required for did:web).
        response_uri: the Response URI of a request id (an ``https`` URL).
        request_uri: the ``request_uri`` of a request id (default: none; only the
            authorization request URL needs it, see :meth:`authorization_request`).
        trust: which issuer may issue which type; resolver: DID resolution of issuers;
            status: checks status entries (credentials with one are refused without it).
        receipts: the ledger view receipts are checked against (default: receipts are
            not checked, and a result names no view).
        clock: time source; limits: bounds.
        lifetime: how long a request waits for its response (default ten minutes).
        retention: how long a result stays readable after the request's expiry.

    Raises:
        ConfigurationError: ``bad_argument`` for a bad lifetime or retention.
    """

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

    # -- creating -----------------------------------------------------------------------------
    def create(
        self,
        credentials: Sequence[CredentialQuery],
        *,
        purpose: str,
        owner: str = "",
        lifetime: timedelta | None = None,
    ) -> PresentationSession:
        """Create a session and sign its Request Object (see the module docstring, step 1).

        Also deletes results past their retention.

        Args:
            credentials: the DCQL Credential Queries (the library's subset).
            purpose: the reason shown to the citizen.
            owner: a tag of the agency system that may read the result (an API token's
                digest, say); results are read back with the same tag.
            lifetime: overrides the default lifetime (30 s to one hour).

        Raises:
            MalformedInputError: ``malformed`` for queries outside the DCQL subset or a bad
                purpose.
            ConfigurationError: ``bad_argument`` for a bad lifetime.
        """
        life = lifetime if lifetime is not None else self._lifetime
        if not timedelta(seconds=30) <= life <= _MAX_LIFETIME:
            raise ConfigurationError(Code.BAD_ARGUMENT, "lifetime is 30 s to one hour")
        now = self._now()
        request_id = secrets.token_urlsafe(16)
        nonce, state = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        queries = tuple(credentials)
        token = create_request(
            self._key,
            nonce=nonce,
            purpose=purpose,
            credentials=queries,
            iat=now,
            lifetime=life,
            did=self.did,
            kid=self._kid,
            response_uri=self._response_uri(request_id),
            state=state,
        )
        expires_at = now + int(life.total_seconds())
        query = _json.canonical({"credentials": [q.to_json() for q in queries]}).decode()
        with self._store.write() as tx:
            tx.execute(
                "DELETE FROM {p}presentation_sessions WHERE expires_at < ?",
                (now - self._retention,),
            )
            tx.execute(
                "INSERT INTO {p}presentation_sessions (request_id, owner, client_id, nonce, "
                "state, query, request_object, created_at, expires_at, status) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending')",
                (request_id, owner, self.client_id, nonce, state, query, token, now, expires_at),
            )
        return PresentationSession(
            request_id=request_id,
            request_object=token,
            client_id=self.client_id,
            nonce=nonce,
            state=state,
            credentials=queries,
            created_at=now,
            expires_at=expires_at,
        )

    def authorization_request(self, request_id: str) -> str:
        """The ``openid4vp://`` Authorization Request by reference (RFC 9101 §5.2, §5.10).

        Only ``client_id``, ``request_uri`` and ``request_uri_method`` ``get``: everything
        else is in the signed Request Object, which the wallet must use alone (§5.10.1).

        Raises:
            ConfigurationError: ``bad_argument`` without a ``request_uri`` function.
        """
        from urllib.parse import urlencode

        if self._request_uri is None:
            raise ConfigurationError(Code.BAD_ARGUMENT, "these sessions have no request_uri")
        query = urlencode(
            {
                "client_id": self.client_id,
                "request_uri": self._request_uri(request_id),
                "request_uri_method": "get",
            }
        )
        return "openid4vp://?" + query

    # -- reading ------------------------------------------------------------------------------
    def _row(self, request_id: str) -> _Row:
        if _REQUEST_ID_RE.fullmatch(request_id) is None:
            raise NotFoundError(Code.NOT_FOUND, "no such presentation request")
        with self._store.read() as tx:
            rows = tx.execute(
                "SELECT owner, client_id, nonce, state, query, request_object, expires_at, "
                "status, outcome, completed_at FROM {p}presentation_sessions "
                "WHERE request_id = ?",
                (request_id,),
            )
        if not rows:
            raise NotFoundError(Code.NOT_FOUND, "no such presentation request")
        r = rows[0]
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

    def request_object(self, request_id: str) -> str:
        """The signed Request Object of a session waiting for its response.

        Raises:
            NotFoundError: ``not_found`` for an unknown id.
            StateConflictError: ``already_answered`` once a response came.
            VerificationError: ``expired`` past the session's expiry.
        """
        row = self._row(request_id)
        if row.status != "pending":
            raise StateConflictError(Code.ALREADY_ANSWERED, "the request was answered")
        if self._now() >= row.expires_at:
            raise VerificationError(Code.EXPIRED, "the request has expired")
        return row.request_object

    def result(self, request_id: str, *, owner: str = "") -> SessionResult:
        """The session's result (see the module docstring, step 6).

        Raises:
            NotFoundError: ``not_found`` for an unknown id, another owner's session, or a
                result past its retention.
        """
        row = self._row(request_id)
        if not hmac.compare_digest(row.owner.encode(), owner.encode()):
            raise NotFoundError(Code.NOT_FOUND, "no such presentation request")
        if row.status in ("pending", "processing"):
            status: Status = "expired" if self._now() >= row.expires_at else "pending"
            if status == "pending" and row.status == "processing":
                status = "processing"
            return SessionResult(request_id=request_id, status=status, expires_at=row.expires_at)
        outcome = _json.loads_object(
            (row.outcome or "{}").encode(), max_bytes=4 << 20, max_depth=32, what="outcome"
        )
        claims, error, view = outcome.get("claims"), outcome.get("error"), outcome.get("view")
        source = outcome.get("source")
        return SessionResult(
            request_id=request_id,
            status="complete" if row.status == "complete" else "failed",
            expires_at=row.expires_at,
            claims=(
                {str(k): v for k, v in claims.items() if isinstance(v, dict)}
                if isinstance(claims, dict)
                else None
            ),
            error=str(error) if isinstance(error, str) else None,
            error_source="wallet" if source == "wallet" else None if error is None else "verifier",
            view=view if isinstance(view, dict) else None,
            completed_at=row.completed_at,
        )

    # -- responding ---------------------------------------------------------------------------
    def respond(self, request_id: str, parameters: Mapping[str, str]) -> SessionResult:
        """Take the one ``direct_post`` response of a session (module docstring, steps 2-5).

        Args:
            request_id: the session (from the Response URI's path).
            parameters: the form-encoded response's parameters.

        Returns:
            The result: ``complete``, or ``failed`` with the wallet's error (an Authorization
            Error Response is processed successfully, §8.2).

        Raises:
            NotFoundError: ``not_found`` for an unknown session.
            VerificationError: ``state_mismatch``; ``expired``; the pipeline's codes
                (``audience_mismatch``, ``nonce_mismatch``, ``invalid_signature``...);
                ``wrong_type``; ``receipt_mismatch``.
            MalformedInputError: ``malformed`` for a response that does not parse.
            StateConflictError: ``already_answered`` for every response after the first.
            PolicyError: ``query_not_answered``, ``excess_disclosure``; trust and status.
        """
        row = self._row(request_id)
        # (2) The state first: an inadvertent or forged post learns nothing and spends nothing.
        state = parameters.get("state", "")
        if not hmac.compare_digest(state.encode(), row.state.encode()):
            raise VerificationError(
                Code.STATE_MISMATCH, "the response's state is not the request's"
            )
        response = self._parse(parameters)
        # (3) The one transition to 'processing', serialized across processes.
        now = self._now()
        with self._store.write() as tx:
            current = tx.execute(
                "SELECT status, expires_at FROM {p}presentation_sessions WHERE request_id = ?",
                (request_id,),
            )
            if not current or str(current[0][0]) != "pending":
                raise StateConflictError(Code.ALREADY_ANSWERED, "the request was answered")
            if now >= int(current[0][1]):
                raise VerificationError(Code.EXPIRED, "the request has expired")
            tx.execute(
                "UPDATE {p}presentation_sessions SET status = 'processing' WHERE request_id = ?",
                (request_id,),
            )
        if response.error is not None:
            outcome: JSONObject = {"error": response.error, "source": "wallet"}
            self._finish(request_id, "failed", outcome)
            return self.result(request_id, owner=row.owner)
        assert response.vp_token is not None  # noqa: S101 - _parse returns one of the two
        # (4)-(5) Verify; any failure is the outcome, stored before it is raised.
        try:
            outcome = self._verify(row, response.vp_token, response.receipt)
        except SeoulVCError as exc:
            self._finish(request_id, "failed", {"error": str(exc.code), "source": "verifier"})
            raise
        except BaseException:
            self._finish(request_id, "failed", {"error": str(Code.INTERNAL), "source": "verifier"})
            raise
        self._finish(request_id, "complete", outcome)
        return self.result(request_id, owner=row.owner)

    def _finish(self, request_id: str, status: str, outcome: JSONObject) -> None:
        with self._store.write() as tx:
            tx.execute(
                "UPDATE {p}presentation_sessions SET status = ?, outcome = ?, completed_at = ? "
                "WHERE request_id = ? AND status = 'processing'",
                (status, _json.canonical(outcome).decode(), self._now(), request_id),
            )

    def _parse(self, parameters: Mapping[str, str]) -> _Response:
        """Parse a ``direct_post`` body (§8.1, §8.2, §8.5); unknown parameters are ignored."""
        error, raw = parameters.get("error"), parameters.get("vp_token")
        if (error is None) == (raw is None):
            raise _malformed("a response carries vp_token or error", "vp_token")
        if error is not None:
            if _OAUTH_ERROR_RE.fullmatch(error) is None:
                raise _malformed("error is an RFC 6749 error code", "error")
            return _Response(None, None, error)
        assert raw is not None  # noqa: S101 - one of the two, checked above
        limits = self._limits
        value = _json.loads_object(
            raw.encode(), max_bytes=8 * limits.max_token_bytes, max_depth=2, what="vp_token"
        )
        if not 0 < len(value) <= 8:
            raise _malformed("vp_token holds 1 to 8 Credential Query ids", "vp_token")
        vp_token: dict[str, list[str]] = {}
        for query_id, presentations in value.items():
            # The subset never sets `multiple`: exactly one presentation per query (§8.1).
            if (
                not isinstance(presentations, list)
                or len(presentations) != 1
                or not isinstance(presentations[0], str)
                or not 0 < len(presentations[0]) <= limits.max_token_bytes
            ):
                raise _malformed("each query id maps to one presentation string", "vp_token")
            vp_token[query_id] = [presentations[0]]
        text = parameters.get(RECEIPT_PARAMETER)
        receipt = None
        if text is not None:
            if len(text) > _MAX_RECEIPT_BYTES:
                raise MalformedInputError(Code.TOO_LARGE, "the view receipt is too large")
            receipt = ViewReceipt.from_json(text)
        return _Response(vp_token, receipt, None)

    def _verify(
        self, row: _Row, vp_token: dict[str, list[str]], receipt: ViewReceipt | None
    ) -> JSONObject:
        queries = {
            q.id: q for q in parse_dcql(_json.loads(row.query, max_bytes=1 << 20, max_depth=8))
        }
        # The answer's shape against the query (§6.4): nothing unasked, everything asked.
        for query_id in vp_token:
            if query_id not in queries:
                raise PolicyError(
                    Code.EXCESS_DISCLOSURE, "a presentation answers no Credential Query asked"
                )
        for query_id in queries:
            if query_id not in vp_token:
                raise PolicyError(
                    Code.QUERY_NOT_ANSWERED,
                    "a Credential Query has no presentation",
                    query=query_id,
                )
        verifier = Verifier(
            trust=self._trust,
            resolver=self._resolver,
            status=self._status,
            nonces=_SessionNonce(row.nonce),
            clock=self._clock,
            limits=self._limits,
        )
        outcome: JSONObject = {}
        claims: dict[str, JSONValue] = {}
        if receipt is not None and self._receipts is not None:
            policy = self._receipts
            checked = check_consented_presentation(
                vp_token,
                receipt,
                verifier=verifier,
                verifier_did=row.client_id.removeprefix(CLIENT_ID_PREFIX),
                client_id=row.client_id,
                nonce=row.nonce,
                origin=policy.origin,
                log_key=policy.log_key,
                witnesses=policy.witnesses,
            )
            claims.update(checked.claims)
            view = checked.view
            outcome["view"] = {
                "consent_id": view.consent_id,
                "view": view.view,
                "max_views": view.max_views,
                "expires_at": view.expires_at,
                "view_index": view.view_index,
                "grant_index": view.grant_index,
            }
        else:
            # Every presentation in the one pipeline, bound to this client_id and nonce.
            for query_id, (shown,) in vp_token.items():
                claims[query_id] = verifier.verify(shown, aud=row.client_id, nonce=row.nonce).claims
        # Each presentation against its query: format, type, and no claim beyond the asked.
        for query_id, (shown,) in vp_token.items():
            query = queries[query_id]
            header, payload = self._issuer_jwt(shown)
            if header.get("typ") != "dc+sd-jwt" or payload.get("vct") not in query.vct_values:
                raise VerificationError(
                    Code.WRONG_TYPE,
                    "the credential is not of a type the query asked",
                    query=query_id,
                )
            for path in disclosed_paths(shown, limits=self._limits):
                if not is_under(path, query.claims):
                    raise PolicyError(
                        Code.EXCESS_DISCLOSURE,
                        "a presentation discloses a claim the query did not ask",
                        query=query_id,
                        claim=format_claim_path(path),
                    )
        outcome["claims"] = claims
        return outcome

    def _issuer_jwt(self, presentation: str) -> tuple[JSONObject, JSONObject]:
        """The issuer JWT's header and payload (the pipeline verified them already)."""
        limits = self._limits
        jws = parse_compact(sd_jwt.split(presentation, limits=limits).issuer_jwt, limits=limits)
        payload = _json.loads_object(
            jws.payload, max_bytes=limits.max_token_bytes, max_depth=limits.max_json_depth
        )
        return dict(jws.header), payload
