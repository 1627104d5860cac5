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

The package keeps one room a module: the sessions' values (``_values``), their table
(``_store``), the checks of a ``direct_post`` answer (``_answer``) and, here, the
service's operations; every public name is importable from here.

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
import secrets
from collections.abc import Mapping, Sequence
from datetime import timedelta

from seoul_vc import _json
from seoul_vc._json import JSONObject
from seoul_vc.errors import (
    Code,
    ConfigurationError,
    NotFoundError,
    SeoulVCError,
    StateConflictError,
    VerificationError,
)
from seoul_vc.presentation._answer import RECEIPT_PARAMETER, _SessionAnswers
from seoul_vc.presentation._store import _MAX_LIFETIME
from seoul_vc.presentation._values import (
    PRESETS,
    PresentationSession,
    ReceiptPolicy,
    SessionResult,
)
from seoul_vc.presentation._values import Status as Status
from seoul_vc.wallet.request import CredentialQuery, create_request

__all__ = [
    "PRESETS",
    "RECEIPT_PARAMETER",
    "PresentationSession",
    "PresentationSessions",
    "ReceiptPolicy",
    "SessionResult",
]


class PresentationSessions(_SessionAnswers):
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
