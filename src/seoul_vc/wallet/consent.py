"""Consent grants and view receipts, as recorded through :mod:`seoul_vc.ledger.apps.consent`.

Room: wallet consent. A :class:`ConsentGrant` is what the citizen agreed to: which
credentials (by the Credential Query of the request they answer), which claims of each (a
subset of those asked), how many views, until when, for which verifier. On the ledger it is
a ``consent.grant`` entry signed by a fresh per-consent pseudonym key, holding only ids,
salted credential references, claim paths and numbers (:meth:`ConsentGrant.ledger_body`).

A :class:`ViewReceipt` proves one view: two offline proof bundles
(:mod:`seoul_vc.ledger.bundle`) against one checkpoint — the ``consent.view`` entry ("view k
of consent c by verifier v for nonce hash h") and the ``consent.grant`` it spends from — so
the verifier learns k of N and the consented claims without trusting the wallet.

Example:
    >>> from seoul_vc.wallet.consent import nonce_hash
    >>> len(nonce_hash("n-0S6_WzA2Mj"))
    43
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Final

from seoul_vc import _json
from seoul_vc._encoding import b64url_encode
from seoul_vc._json import JSONObject, JSONValue
from seoul_vc.credentials.sd_jwt import ClaimPath, format_claim_path, parse_claim_path
from seoul_vc.errors import Code, ConfigurationError, MalformedInputError, VerificationError
from seoul_vc.ledger.apps.consent import GRANT, VIEW
from seoul_vc.ledger.bundle import ProofBundle, verify_bundle
from seoul_vc.ledger.checkpoint import WitnessPolicy
from seoul_vc.ledger.entry import Entry
from seoul_vc.ledger.note import NoteVerifier

__all__ = [
    "RECEIPT_VERSION",
    "ConsentGrant",
    "ConsentItem",
    "VerifiedView",
    "ViewReceipt",
    "credential_ref",
    "new_consent_id",
    "nonce_hash",
]

RECEIPT_VERSION: Final = 1
_MAX_RECEIPT_BYTES: Final = 600 * 1024


def new_id(size: int) -> str:
    """Return ``size`` random bytes as base64url that never begins with ``-``.

    Ids are typed as command-line arguments, where a leading ``-`` reads as an option; a
    draw that starts with one is redrawn (the id keeps its length and format).
    """
    while True:
        value = b64url_encode(secrets.token_bytes(size))
        if not value.startswith("-"):
            return value


def new_consent_id() -> str:
    """Return a fresh consent id: 128 random bits, 22 base64url characters."""
    return new_id(16)


def nonce_hash(nonce: str) -> str:
    """Return the ledger's name of a verifier nonce: base64url SHA-256 with a domain prefix."""
    return b64url_encode(hashlib.sha256(b"seoul-vc/consent-nonce/v1\n" + nonce.encode()).digest())


def credential_ref(consent: str, credential: str) -> str:
    """Return a credential's reference in one consent: salted by the consent id.

    The hash covers the issuer-signed JWT (what every presentation of the credential
    carries), so the consented verifier can match the presentation against the grant, while
    the log links no two consents of one credential.
    """
    issuer_jwt = credential.split("~", 1)[0]
    data = f"seoul-vc/consent-credential/v1\n{consent}\n{issuer_jwt}".encode("ascii")
    return b64url_encode(hashlib.sha256(data).digest())


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsentItem:
    """One credential under a consent.

    Attributes:
        query_id: the request's Credential Query this credential answers.
        credential_id: the wallet's id of the credential.
        ref: :func:`credential_ref` of the credential in this consent.
        claims: the consented claim paths (a subset of those the query asked).
    """

    query_id: str
    credential_id: str
    ref: str
    claims: tuple[ClaimPath, ...]

    def to_json(self) -> JSONObject:
        """Return the item as JSON (wallet-private: the vault stores it)."""
        return {
            "query_id": self.query_id,
            "credential_id": self.credential_id,
            "ref": self.ref,
            "claims": [format_claim_path(p) for p in self.claims],
        }

    @classmethod
    def from_json(cls, obj: JSONObject) -> ConsentItem:
        """Read an item written by :meth:`to_json`."""
        claims = obj["claims"]
        assert isinstance(claims, list)  # noqa: S101 - the vault wrote it, authenticated
        return cls(
            query_id=str(obj["query_id"]),
            credential_id=str(obj["credential_id"]),
            ref=str(obj["ref"]),
            claims=tuple(parse_claim_path(str(p)) for p in claims),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsentGrant:
    """A consent the citizen granted.

    Attributes:
        consent_id: the consent's id on the ledger.
        verifier: the verifier's DID; ``client_id`` its OpenID4VP client id (KB-JWT ``aud``).
        purpose: the purpose the request stated.
        holder: the consent's pseudonym DID (signer of its ledger entries).
        items: the credentials and claims consented to.
        max_views: the view budget; expires_at: POSIX seconds after which no view is made.
        granted_index: the ``consent.grant`` entry's ledger index.
    """

    consent_id: str
    verifier: str
    client_id: str
    purpose: str
    holder: str
    items: tuple[ConsentItem, ...]
    max_views: int
    expires_at: int
    granted_index: int

    def ledger_body(self) -> JSONObject:
        """Return the ``consent.grant`` body: ids, references, claim paths, numbers."""
        return {
            "consent": self.consent_id,
            "verifier": self.verifier,
            "credentials": [
                {"ref": i.ref, "claims": [format_claim_path(p) for p in i.claims]}
                for i in self.items
            ],
            "max_views": self.max_views,
            "expires_at": self.expires_at,
        }

    def to_json(self) -> JSONObject:
        """Return the grant as JSON (wallet-private)."""
        return {
            "consent_id": self.consent_id,
            "verifier": self.verifier,
            "client_id": self.client_id,
            "purpose": self.purpose,
            "holder": self.holder,
            "items": [i.to_json() for i in self.items],
            "max_views": self.max_views,
            "expires_at": self.expires_at,
            "granted_index": self.granted_index,
        }

    @classmethod
    def from_json(cls, obj: JSONObject) -> ConsentGrant:
        """Read a grant written by :meth:`to_json`."""
        items = obj["items"]
        assert isinstance(items, list)  # noqa: S101 - the vault wrote it, authenticated
        max_views, expires_at, index = obj["max_views"], obj["expires_at"], obj["granted_index"]
        assert isinstance(max_views, int)  # noqa: S101
        assert isinstance(expires_at, int)  # noqa: S101
        assert isinstance(index, int)  # noqa: S101
        return cls(
            consent_id=str(obj["consent_id"]),
            verifier=str(obj["verifier"]),
            client_id=str(obj["client_id"]),
            purpose=str(obj["purpose"]),
            holder=str(obj["holder"]),
            items=tuple(ConsentItem.from_json(i) for i in items if isinstance(i, dict)),
            max_views=max_views,
            expires_at=expires_at,
            granted_index=index,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifiedView:
    """What a checked view receipt proves.

    Attributes:
        consent_id, verifier, view, max_views, expires_at: from the ledger entries.
        view_index, grant_index: the entries' ledger indexes.
        claims: consented claim paths by credential reference.
    """

    consent_id: str
    verifier: str
    view: int
    max_views: int
    expires_at: int
    view_index: int
    grant_index: int
    claims: dict[str, tuple[ClaimPath, ...]]


@dataclass(frozen=True, slots=True, kw_only=True)
class ViewReceipt:
    """The ledger's proof of one view: the view and grant entries, in one checkpoint.

    JSON form (version 1)::

        {"version": 1, "view": <ProofBundle JSON>, "grant": <ProofBundle JSON>}
    """

    view: ProofBundle
    grant: ProofBundle

    def to_json(self) -> str:
        """Return the receipt as canonical JSON text."""
        obj: JSONObject = {
            "version": RECEIPT_VERSION,
            "view": _json.loads_object(
                self.view.to_json().encode(), max_bytes=_MAX_RECEIPT_BYTES, max_depth=4
            ),
            "grant": _json.loads_object(
                self.grant.to_json().encode(), max_bytes=_MAX_RECEIPT_BYTES, max_depth=4
            ),
        }
        return _json.canonical(obj).decode()

    @classmethod
    def from_json(cls, data: str | bytes) -> ViewReceipt:
        """Parse a receipt, bounded.

        Raises:
            MalformedInputError: ``malformed``/``too_large`` and the bundle parse errors.
        """
        raw = data.encode() if isinstance(data, str) else data
        obj = _json.loads_object(raw, max_bytes=_MAX_RECEIPT_BYTES, max_depth=4, what="receipt")
        if set(obj) != {"version", "view", "grant"} or obj["version"] != RECEIPT_VERSION:
            raise MalformedInputError(Code.MALFORMED, "a receipt is version 1: view/grant")
        view, grant = obj["view"], obj["grant"]
        if not isinstance(view, dict) or not isinstance(grant, dict):
            raise MalformedInputError(Code.MALFORMED, "receipt bundles are objects")
        return cls(
            view=ProofBundle.from_json(_json.canonical(view)),
            grant=ProofBundle.from_json(_json.canonical(grant)),
        )

    def check(
        self,
        *,
        verifier: str,
        nonce: str,
        origin: str,
        log_key: NoteVerifier,
        witnesses: WitnessPolicy,
    ) -> VerifiedView:
        """Verify the receipt offline for ``verifier``'s request with ``nonce``.

        Steps: (1) both bundles verify against the log key and witness policy
        (:func:`~seoul_vc.ledger.bundle.verify_bundle`) under one checkpoint; (2) they are a
        ``consent.view`` and the ``consent.grant`` of the same consent, signed by the same
        pseudonym, the grant before the view; (3) both name ``verifier``; (4) the view's
        nonce hash is this nonce's; (5) k is within the budget and the view's time before
        the expiry.

        Raises:
            VerificationError: bundle errors; ``receipt_mismatch`` for any of (2)-(5).
            PolicyError: ``witness_quorum_not_met``.
        """
        # (1) Offline proofs, one tree head for both.
        view = verify_bundle(self.view, origin=origin, log_key=log_key, witnesses=witnesses)
        grant = verify_bundle(self.grant, origin=origin, log_key=log_key, witnesses=witnesses)
        if self.view.checkpoint != self.grant.checkpoint:
            raise _mismatch("the bundles are for different checkpoints")
        # (2) One consent, one pseudonym.
        if view.type != VIEW or grant.type != GRANT or self.grant.index >= self.view.index:
            raise _mismatch("a receipt is a consent.view and its earlier consent.grant")
        if view.body.get("consent") != grant.body.get("consent") or view.signer != grant.signer:
            raise _mismatch("the view does not spend from this grant")
        # (3) For this verifier, (4) this nonce.
        if view.body.get("verifier") != verifier or grant.body.get("verifier") != verifier:
            raise _mismatch("the consent or the view names another verifier")
        if view.body.get("nonce_hash") != nonce_hash(nonce):
            raise _mismatch("the view was recorded for another nonce")
        # (5) Within the budget and the expiry.
        k, max_views, expires_at = (
            view.body.get("view"),
            grant.body.get("max_views"),
            grant.body.get("expires_at"),
        )
        if not (isinstance(k, int) and isinstance(max_views, int) and isinstance(expires_at, int)):
            raise _mismatch("the entries lack view numbers")
        if not 1 <= k <= max_views or view.time >= expires_at:
            raise _mismatch("the view is outside the consent's budget or lifetime")
        return VerifiedView(
            consent_id=str(view.body["consent"]),
            verifier=verifier,
            view=k,
            max_views=max_views,
            expires_at=expires_at,
            view_index=self.view.index,
            grant_index=self.grant.index,
            claims=_grant_claims(grant),
        )


def _grant_claims(grant: Entry) -> dict[str, tuple[ClaimPath, ...]]:
    out: dict[str, tuple[ClaimPath, ...]] = {}
    credentials: JSONValue = grant.body.get("credentials")
    if not isinstance(credentials, list):
        raise _mismatch("the grant lists no credentials")
    for item in credentials:
        if not isinstance(item, dict) or not isinstance(item.get("claims"), list):
            raise _mismatch("the grant lists no credentials")
        claims = item["claims"]
        assert isinstance(claims, list)  # noqa: S101 - checked above
        try:
            out[str(item.get("ref"))] = tuple(parse_claim_path(str(p)) for p in claims)
        except ConfigurationError as exc:
            raise _mismatch("the grant's claim paths do not parse") from exc
    return out


def _mismatch(message: str) -> VerificationError:
    return VerificationError(Code.RECEIPT_MISMATCH, message)
