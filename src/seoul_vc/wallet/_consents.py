"""Consents: a verifier's signed request, the consent granted to it, listing, withdrawal.

Part of :mod:`seoul_vc.wallet.wallet`: :class:`_WalletConsents` opens a verifier's signed
OpenID4VP request to show the citizen, and on the PIN grants a consent to it: the claims
asked and consented to, per Credential Query the held credential that answers it, a view
budget and an end, recorded on the ledger as ``consent.grant`` under a fresh pseudonym key
kept in the consent's record. It lists consents with their live ledger state and
withdraws them (``consent.withdraw``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import datetime

from seoul_vc._json import JSONObject, JSONValue
from seoul_vc.credentials.sd_jwt import ClaimPath, format_claim_path, parse_claim_path
from seoul_vc.errors import Code, ConfigurationError, NotFoundError, PolicyError
from seoul_vc.keys import KeyAlgorithm, PrivateKey
from seoul_vc.ledger.apps.consent import GRANT, WITHDRAW
from seoul_vc.ledger.entry import sign_entry, signer_did
from seoul_vc.wallet._pin import _WalletPIN
from seoul_vc.wallet.consent import ConsentGrant, ConsentItem, credential_ref, new_consent_id
from seoul_vc.wallet.request import PresentationRequest, open_request


class _WalletConsents(_WalletPIN):
    """The consents of a :class:`~seoul_vc.wallet.WalletService`."""

    # -- requests and consent ----------------------------------------------------------------
    def open_request(self, token: str) -> PresentationRequest:
        """Verify a verifier's signed request and return what it asks (to show the citizen)."""
        return open_request(token, now=self._now(), resolver=self._resolver, limits=self._limits)

    def grant(
        self,
        wallet_id: str,
        pin: str,
        request: str,
        *,
        max_views: int,
        expires_at: datetime | int,
        claims: Mapping[str, Sequence[ClaimPath | str]] | None = None,
        credentials: Mapping[str, str] | None = None,
    ) -> ConsentGrant:
        """Grant a consent to a verified request and record it on the ledger.

        Args:
            wallet_id: the wallet.
            pin: its PIN (authorises the grant).
            request: the verifier's signed request (checked again here).
            max_views: the view budget (1 to 10,000).
            expires_at: the end of the consent (a datetime or POSIX seconds).
            claims: per Credential Query id, the claims consented to (each one asked);
                default: every claim asked by every query.
            credentials: per Credential Query id, the credential id that answers it;
                default: the first held credential whose ``vct`` the query accepts.

        Raises:
            PolicyError: ``claim_not_requested`` for a query or claim the request did not
                ask; ``unlock_failed``.
            NotFoundError: ``not_found`` when no held credential answers a query.
            ConfigurationError: ``bad_argument`` for a bad budget or expiry.
        """
        self._authorise(wallet_id, pin)
        req = self.open_request(request)
        now = self._now()
        end = int(expires_at.timestamp()) if isinstance(expires_at, datetime) else expires_at
        if end <= now:
            raise ConfigurationError(Code.BAD_ARGUMENT, "expires_at must be in the future")
        if isinstance(max_views, bool) or not 1 <= max_views <= 10_000:
            raise ConfigurationError(Code.BAD_ARGUMENT, "max_views is 1 to 10,000")
        chosen = claims if claims is not None else {q.id: list(q.claims) for q in req.credentials}
        consent_id = new_consent_id()
        with self._store.read() as tx:
            key, _ = self._data_key(tx, wallet_id)
            held = self._all(tx, key, wallet_id, "credential")
        items: list[ConsentItem] = []
        for query_id, paths in chosen.items():
            query = req.query(query_id)
            if query is None:
                raise PolicyError(Code.CLAIM_NOT_REQUESTED, "no such Credential Query asked")
            wanted = [parse_claim_path(p) if isinstance(p, str) else tuple(p) for p in paths]
            if not wanted or any(p not in query.claims for p in wanted):
                raise PolicyError(Code.CLAIM_NOT_REQUESTED, "a consented claim was not asked")
            match = _match_credential(held, query.vct_values, (credentials or {}).get(query_id))
            items.append(
                ConsentItem(
                    query_id=query_id,
                    credential_id=match[0],
                    ref=credential_ref(consent_id, str(match[1]["token"])),
                    claims=tuple(dict.fromkeys(wanted)),
                )
            )
        pseudonym = PrivateKey.generate(KeyAlgorithm.ES256)
        draft = ConsentGrant(
            consent_id=consent_id,
            verifier=req.verifier,
            client_id=req.client_id,
            purpose=req.purpose,
            holder=signer_did(pseudonym.public_key),
            items=tuple(items),
            max_views=max_views,
            expires_at=end,
            granted_index=-1,
        )
        receipt = self.ledger.append(sign_entry(GRANT, draft.ledger_body(), pseudonym, time=now))
        grant = dataclasses.replace(draft, granted_index=receipt.index)
        with self._store.write() as tx:
            key, _ = self._data_key(tx, wallet_id)
            record = dict(grant.to_json())
            record["pseudonym"] = pseudonym.private_jwk()
            self._put(tx, key, wallet_id, "consent", consent_id, record)
            self._event(
                tx, key, wallet_id, "consent_granted", _consent_details(grant, receipt.index)
            )
        return grant

    def consents(self, wallet_id: str, pin: str) -> list[JSONObject]:
        """List the wallet's consents with their live ledger state (views used, withdrawn)."""
        self._authorise(wallet_id, pin)
        with self._store.read() as tx:
            key, _ = self._data_key(tx, wallet_id)
            records = self._all(tx, key, wallet_id, "consent")
        out: list[JSONObject] = []
        for consent_id, record in records:
            grant = ConsentGrant.from_json(record)
            state = self.ledger.state("consent", f"c/{consent_id}")
            info = dict(grant.to_json())
            info["views"] = state.get("views", 0) if isinstance(state, dict) else 0
            info["withdrawn"] = isinstance(state, dict) and state.get("withdrawn") is not None
            out.append(info)
        return out

    def withdraw(self, wallet_id: str, pin: str, consent_id: str) -> int:
        """Withdraw a consent on the ledger; return the ``consent.withdraw`` entry's index."""
        self._authorise(wallet_id, pin)
        grant, pseudonym = self._consent(wallet_id, consent_id)
        receipt = self.ledger.append(
            sign_entry(WITHDRAW, {"consent": consent_id}, pseudonym, time=self._now())
        )
        details = _consent_details(grant, receipt.index)
        self._record_event(wallet_id, "consent_withdrawn", details)
        return receipt.index

    def _consent(self, wallet_id: str, consent_id: str) -> tuple[ConsentGrant, PrivateKey]:
        with self._store.read() as tx:
            key, _ = self._data_key(tx, wallet_id)
            record = self._get(tx, key, wallet_id, "consent", consent_id)
        pseudonym = record["pseudonym"]
        assert isinstance(pseudonym, dict)  # noqa: S101 - written by grant()
        return ConsentGrant.from_json(record), PrivateKey.from_jwk(pseudonym)


def _consent_details(grant: ConsentGrant, index: int) -> dict[str, JSONValue]:
    return {
        "consent": grant.consent_id,
        "holder": grant.holder,
        "verifier": grant.verifier,
        "purpose": grant.purpose,
        "claims": {i.query_id: [format_claim_path(p) for p in i.claims] for i in grant.items},
        "max_views": grant.max_views,
        "expires_at": grant.expires_at,
        "ledger_index": index,
    }


def _match_credential(
    held: Sequence[tuple[str, JSONObject]], vcts: Sequence[str], wanted: str | None
) -> tuple[str, JSONObject]:
    for rid, obj in held:
        if (wanted is None or rid == wanted) and obj.get("vct") in vcts:
            if obj.get("revoked") is True:
                raise PolicyError(Code.REVOKED, "that credential was revoked")
            return rid, obj
    raise NotFoundError(Code.NOT_FOUND, "no held credential answers the query")
