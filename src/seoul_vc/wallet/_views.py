"""The view path: one view of a consent, appended to the ledger before anything is shown.

Part of :mod:`seoul_vc.wallet.wallet`: :class:`_WalletViews` serves a verifier's views
(no PIN: the consent is the authorisation, see the module docstring there) and returns a
:class:`ConsentedPresentation`.

A view (item 5 of the issue) runs: load the consent → hold the verifier the request
claims against the consent's, before any DID is resolved → verify the request's signature
and its verifier → check the held credentials' status → append ``consent.view`` (view k of
consent c by verifier v for nonce hash h), retrying with k+1 when a concurrent view took k
→ only then build the presentations of exactly the consented claims → a view receipt
against a fresh checkpoint. Each refusal of a verified request is appended as
``consent.refusal`` and written to the citizen's history, up to a bound per consent (see
:data:`MAX_RECORDED_REFUSALS`); a request refused before it was verified is recorded nowhere,
since nothing in it can be attributed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from seoul_vc import _json
from seoul_vc._json import JSONObject
from seoul_vc.did import self_certifying_key
from seoul_vc.errors import (
    Code,
    NotFoundError,
    PolicyError,
    SeoulVCError,
    StateConflictError,
    UnavailableError,
)
from seoul_vc.keys import PrivateKey
from seoul_vc.ledger.apps import consent as consent_app
from seoul_vc.ledger.apps.consent import REFUSAL, REFUSAL_REASONS, VIEW
from seoul_vc.ledger.bundle import make_bundle
from seoul_vc.ledger.checkpoint import parse_checkpoint
from seoul_vc.ledger.entry import sign_entry
from seoul_vc.wallet._consents import _consent_details, _WalletConsents
from seoul_vc.wallet._credentials import _WalletCredentials
from seoul_vc.wallet.consent import ConsentGrant, ViewReceipt, nonce_hash
from seoul_vc.wallet.present import build_presentation
from seoul_vc.wallet.request import PresentationRequest, claimed_verifier

__all__ = ["MAX_RECORDED_REFUSALS", "MAX_RECORDED_STRANGER_REFUSALS", "ConsentedPresentation"]

_MAX_VIEW_RETRIES: Final = 256
#: Refusals a consent records (ledger entry and history event); later ones are refused the
#: same way, unrecorded. The ledger's consent application holds the bounds
#: (:data:`~seoul_vc.ledger.apps.consent.MAX_REFUSALS`), inside its append transaction.
MAX_RECORDED_REFUSALS: Final = consent_app.MAX_REFUSALS
#: Past this many, refusals of other verifiers than the consent's are no longer recorded
#: (:data:`~seoul_vc.ledger.apps.consent.MAX_STRANGER_REFUSALS`).
MAX_RECORDED_STRANGER_REFUSALS: Final = consent_app.MAX_STRANGER_REFUSALS


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsentedPresentation:
    """What the wallet hands the verifier for one view.

    Attributes:
        vp_token: OpenID4VP 1.0 §8.1: Credential Query id -> presentations.
        receipt: the view receipt; view: k; max_views: N.
    """

    vp_token: dict[str, list[str]]
    receipt: ViewReceipt
    view: int
    max_views: int

    def to_json(self) -> JSONObject:
        """Return ``{"vp_token": ..., "receipt": ...}``."""
        receipt = _json.loads_object(
            self.receipt.to_json().encode(), max_bytes=1 << 20, max_depth=4
        )
        return {
            "vp_token": {k: list(v) for k, v in self.vp_token.items()},
            "receipt": receipt,
        }


class _WalletViews(_WalletConsents, _WalletCredentials):
    """The views of a :class:`~seoul_vc.wallet.WalletService`: a consent's budget spent."""

    # -- views ---------------------------------------------------------------------------------
    def view(self, wallet_id: str, consent_id: str, request: str) -> ConsentedPresentation:
        """Serve one view of a consent to the verifier that signed ``request``.

        Appends the view first; only after the ledger accepted it are the presentations
        built (see the module docstring). No PIN: the consent is the authorisation.

        Nothing is resolved for a request that cannot be the consent's: the consent is
        loaded first, and a request whose ``client_id`` (read unverified) names another
        verifier is refused before its DID could be resolved. A view needs no PIN and
        consent ids are on the public ledger, so otherwise anyone could make the service
        fetch the did:web document of any host. Another verifier's did:key or did:jwk
        request is verified first (that needs no I/O), so its refusal is recorded.

        Raises:
            StateConflictError: ``unknown_consent`` (before the request is read);
                ``consent_exhausted``, ``consent_expired``, ``consent_withdrawn``,
                ``nonce_replayed``.
            PolicyError: ``wrong_verifier`` (before any status check); ``revoked``/
                ``suspended`` for a held credential under the consent;
                ``excess_disclosure``.
            VerificationError: the request's signature and lifetime checks.
        """
        try:
            grant, pseudonym = self._consent(wallet_id, consent_id)
        except NotFoundError as exc:
            raise StateConflictError(Code.UNKNOWN_CONSENT, "no such consent") from exc
        claimed = claimed_verifier(request, limits=self._limits)
        if claimed is not None and claimed != grant.verifier and not _self_certifying(claimed):
            raise PolicyError(Code.WRONG_VERIFIER, "the consent names another verifier")
        req = self.open_request(request)
        hashed = nonce_hash(req.nonce)
        # Verified now, so recorded. The ledger checks the verifier of a view again; this
        # refuses a stranger before the credentials' status is looked up on its behalf.
        if req.verifier != grant.verifier:
            self._refuse(wallet_id, grant, pseudonym, req, hashed, Code.WRONG_VERIFIER)
            raise PolicyError(Code.WRONG_VERIFIER, "the consent names another verifier")
        # The status of what would be shown, before anything is spent.
        with self._store.read() as tx:
            key, _ = self._data_key(tx, wallet_id)
            records = {
                i.credential_id: self._get(tx, key, wallet_id, "credential", i.credential_id)
                for i in grant.items
            }
            holder = self._holder_key(tx, key, wallet_id)
        for item in grant.items:
            code = self._status_refusal(wallet_id, item.credential_id, records[item.credential_id])
            if code is not None:
                self._refuse(wallet_id, grant, pseudonym, req, hashed, code)
                raise PolicyError(code, "a credential under this consent is no longer valid")
        index, k = self._append_view(wallet_id, grant, pseudonym, req, hashed)
        # Only now, with the view on the ledger, is anything disclosed.
        now = self._now()
        vp_token = {
            item.query_id: [
                build_presentation(
                    str(records[item.credential_id]["token"]),
                    holder,
                    item.claims,
                    aud=req.client_id,
                    nonce=req.nonce,
                    iat=now,
                )
            ]
            for item in grant.items
        }
        note = self._checkpoint_covering(index)
        receipt = ViewReceipt(
            view=make_bundle(self.ledger, index, note),
            grant=make_bundle(self.ledger, grant.granted_index, note),
        )
        details = _consent_details(grant, index)
        details.update({"view": k, "nonce_hash": hashed})
        self._record_event(wallet_id, "view", details)
        return ConsentedPresentation(
            vp_token=vp_token, receipt=receipt, view=k, max_views=grant.max_views
        )

    def _append_view(
        self,
        wallet_id: str,
        grant: ConsentGrant,
        pseudonym: PrivateKey,
        req: PresentationRequest,
        hashed: str,
    ) -> tuple[int, int]:
        for _ in range(_MAX_VIEW_RETRIES):
            state = self.ledger.state("consent", f"c/{grant.consent_id}")
            views = state.get("views") if isinstance(state, dict) else None
            k = (views if isinstance(views, int) else 0) + 1
            body: JSONObject = {
                "consent": grant.consent_id,
                "view": k,
                "verifier": req.verifier,
                "nonce_hash": hashed,
            }
            try:
                receipt = self.ledger.append(sign_entry(VIEW, body, pseudonym, time=self._now()))
            except SeoulVCError as exc:
                if exc.code is Code.VIEW_OUT_OF_ORDER:
                    continue  # a concurrent view took number k; read the count again
                if exc.code in REFUSAL_REASONS:
                    self._refuse(wallet_id, grant, pseudonym, req, hashed, exc.code)
                raise
            return receipt.index, k
        raise UnavailableError(Code.UNAVAILABLE, "too many concurrent views; retry")

    def _refuse(
        self,
        wallet_id: str,
        grant: ConsentGrant,
        pseudonym: PrivateKey,
        req: PresentationRequest,
        hashed: str,
        code: Code,
    ) -> None:
        body: JSONObject = {
            "consent": grant.consent_id,
            "verifier": req.verifier,
            "nonce_hash": hashed,
            "reason": str(code),
        }
        try:
            receipt = self.ledger.append(sign_entry(REFUSAL, body, pseudonym, time=self._now()))
        except StateConflictError as exc:
            if exc.code is Code.REFUSALS_FULL:
                return  # past the ledger's bounds: refused all the same, unrecorded
            raise
        details = _consent_details(grant, receipt.index)
        details.update({"verifier": req.verifier, "reason": str(code), "nonce_hash": hashed})
        self._record_event(wallet_id, "refusal", details)

    def _checkpoint_covering(self, index: int) -> str:
        latest = self.ledger.latest_checkpoint()
        if latest is not None and self._witness is None:
            text = latest[: latest.find("\n\n") + 1]
            if parse_checkpoint(text).size > index:
                return latest
        # Not stored as the ledger's latest: witnesses cosign the published checkpoint, which
        # a stream of views must not keep replacing (the receipt carries its own note).
        note = self.ledger.checkpoint(self._log_signer, store=False)
        return self._witness(note) if self._witness is not None else note


def _self_certifying(did: str) -> bool:
    """Whether ``did`` is a valid did:key or did:jwk: its requests verify without any I/O."""
    try:
        return self_certifying_key(did) is not None
    except SeoulVCError:
        return False  # unreadable: held to the consent's verifier like any resolved DID
