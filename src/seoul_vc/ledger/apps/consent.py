"""The consent application: grants, withdrawals, views with a budget, and refusals.

Room: consent (plan item 2-2, "the receiving agency may view only what the citizen consented
to, only as many times as the record allows"). Every record is signed by the consent's
*holder pseudonym*: a fresh did:jwk (ES256) or did:key the citizen's wallet makes for this
one consent, so the log links no two consents of one citizen, and no consent to the holder
key the credentials are bound to. The grant fixes that pseudonym; later records of the
consent must carry the same signer, so nobody else (not even the log operator) can spend,
withdraw or pad a citizen's budget.

Record types and bodies — hashes, ids, DIDs of agencies, claim *names*, counts; never a
claim value:

* ``consent.grant``::

      {"consent": ID, "verifier": DID, "credentials": [{"ref": HASH, "claims": [PATH, ...]}],
       "max_views": int, "expires_at": int}

  ``ID`` is 22 base64url characters (128 random bits); ``HASH`` is 43 base64url characters,
  the wallet's salted reference of a credential (:func:`seoul_vc.wallet.consent.credential_ref`);
  ``PATH`` a claim path as :func:`seoul_vc.credentials.sd_jwt.format_claim_path` writes it.
* ``consent.withdraw``: ``{"consent": ID}``.
* ``consent.view``: ``{"consent": ID, "view": k, "verifier": DID, "nonce_hash": HASH}`` —
  "view k of consent c by verifier v for nonce hash h". Signed by the holder pseudonym: the
  wallet service signs it with the pseudonym key it keeps in the citizen's vault, because
  the same service must then sign the presentation's KB-JWT with the holder key anyway. The
  application refuses it, inside the append transaction, with ``unknown_consent``,
  ``consent_withdrawn``, ``consent_expired`` (entry time at or past ``expires_at``),
  ``wrong_verifier``, ``nonce_replayed`` (this nonce hash was viewed under this consent
  before), ``consent_exhausted`` (``max_views`` reached) and, when a concurrent view took
  number k first, ``view_out_of_order`` (the wallet re-reads and retries).
* ``consent.refusal``: ``{"consent": ID, "verifier": DID, "nonce_hash": HASH,
  "reason": CODE}`` — a refused view attempt, so that the citizen's history of refusals is
  on the log too (``reason`` is one of the refusal codes above or ``revoked``/``suspended``).
  A consent records at most :data:`MAX_REFUSALS`, and those of other verifiers than its own
  only while it has fewer than :data:`MAX_STRANGER_REFUSALS`, and one refusal per request
  (nonce hash), so a replayed request adds no second record; past that the application
  refuses the entry with ``refusals_full``. Consent ids are public and anyone can sign a
  request with a fresh did:key, so without the bound a stream of such requests would add
  entries for good; checked here, inside the append transaction, concurrent refusals
  cannot overshoot it.

Entry times may not go backwards within a consent by more than :data:`BACKDATE_TOLERANCE`
seconds (``conflict``): concurrent writers sign before they append, so the order of times
and of appends may differ by a little, but a view cannot be backdated far behind the last
recorded event to slip under the expiry.

State (``consent`` namespace): ``c/<ID>`` -> ``{"holder", "verifier", "max_views",
"expires_at", "views", "withdrawn", "granted", "last_time", "refusals"}``;
``n/<ID>/<HASH>`` -> index of the view that used that nonce hash;
``r/<ID>/<HASH>`` -> index of the refusal recorded for that nonce hash.

Example:
    >>> from seoul_vc.ledger.apps.consent import ConsentApp
    >>> sorted(ConsentApp().record_types)
    ['consent.grant', 'consent.refusal', 'consent.view', 'consent.withdraw']
"""

from __future__ import annotations

import re
from typing import Final

from seoul_vc._json import JSONObject, JSONValue
from seoul_vc.errors import (
    Code,
    InternalError,
    PolicyError,
    StateConflictError,
)
from seoul_vc.ledger.app import StateReader, StateWrites
from seoul_vc.ledger.apps._body import bounded_int as _int
from seoul_vc.ledger.apps._body import malformed as _malformed
from seoul_vc.ledger.apps._body import match as _match
from seoul_vc.ledger.apps._body import members as _members
from seoul_vc.ledger.entry import Entry

__all__ = [
    "BACKDATE_TOLERANCE",
    "GRANT",
    "MAX_REFUSALS",
    "MAX_STRANGER_REFUSALS",
    "MAX_VIEWS",
    "REFUSAL",
    "REFUSAL_REASONS",
    "VIEW",
    "WITHDRAW",
    "ConsentApp",
    "consent_key",
]

GRANT: Final = "consent.grant"
WITHDRAW: Final = "consent.withdraw"
VIEW: Final = "consent.view"
REFUSAL: Final = "consent.refusal"
#: How far (seconds) an entry's time may lag behind the consent's latest recorded time.
BACKDATE_TOLERANCE: Final = 120
#: The largest view budget one consent may carry.
MAX_VIEWS: Final = 10_000
#: Refusals one consent records (``consent.refusal`` entries) at most.
MAX_REFUSALS: Final = 256
#: Once a consent has this many refusals, those of other verifiers than its own are no
#: longer recorded: strangers fill only these first places, never those of its verifier.
MAX_STRANGER_REFUSALS: Final = 32
#: Codes a ``consent.refusal`` may record.
REFUSAL_REASONS: Final = frozenset(
    {
        Code.CONSENT_EXHAUSTED,
        Code.CONSENT_EXPIRED,
        Code.CONSENT_WITHDRAWN,
        Code.WRONG_VERIFIER,
        Code.NONCE_REPLAYED,
        Code.REVOKED,
        Code.SUSPENDED,
    }
)
_ID_RE: Final = re.compile(r"[A-Za-z0-9_-]{22}")
_HASH_RE: Final = re.compile(r"[A-Za-z0-9_-]{43}")
_PATH_RE: Final = re.compile(r"[A-Za-z_$][A-Za-z0-9_$-]*(?:\.[A-Za-z_$][A-Za-z0-9_$-]*|\[\d*\])*")
_MAX_CREDENTIALS: Final = 8
_MAX_CLAIMS: Final = 64
_MAX_TIME: Final = 2**53 - 1


def consent_key(consent: str) -> str:
    """Return the state key of a consent's record."""
    return f"c/{consent}"


def _did(value: object, field: str) -> str:
    if not isinstance(value, str) or not value.startswith("did:") or not 4 < len(value) <= 2048:
        raise _malformed("a DID is expected", field)
    return value


def _credentials(value: object) -> None:
    if not isinstance(value, list) or not 0 < len(value) <= _MAX_CREDENTIALS:
        raise _malformed(f"1 to {_MAX_CREDENTIALS} credentials", "credentials")
    refs: set[str] = set()
    for item in value:
        if not isinstance(item, dict) or set(item) != {"ref", "claims"}:
            raise _malformed("a credential is ref/claims", "credentials")
        refs.add(_match(item["ref"], _HASH_RE, "ref", "43 base64url characters"))
        claims = item["claims"]
        if not isinstance(claims, list) or not 0 < len(claims) <= _MAX_CLAIMS:
            raise _malformed(f"1 to {_MAX_CLAIMS} claim paths", "claims")
        for path in claims:
            if not isinstance(path, str) or len(path) > 512 or not _PATH_RE.fullmatch(path):
                raise _malformed("a claim path such as address.district", "claims")
        if len(set(claims)) != len(claims):
            raise _malformed("claim paths are distinct", "claims")
    if len(refs) != len(value):
        raise _malformed("credential refs are distinct", "credentials")


def _state_int(record: JSONObject, name: str) -> int:
    value = record.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InternalError(Code.INTERNAL, f"consent state {name} is not an integer")
    return value


class ConsentApp:
    """Consent grants, withdrawals, budgeted views and refusals; see the module docstring."""

    name = "consent"
    record_types: frozenset[str] = frozenset({GRANT, WITHDRAW, VIEW, REFUSAL})
    # Citizens hold no authority grants: apply() checks every record's signer against the
    # pseudonym its grant fixed.
    open_record_types: frozenset[str] = frozenset({GRANT, WITHDRAW, VIEW, REFUSAL})

    def validate(self, entry: Entry) -> None:
        """Check body shapes (see the module docstring).

        Raises:
            MalformedInputError: ``malformed`` naming the field.
        """
        body = entry.body
        if entry.type == GRANT:
            _members(
                body, {"consent", "verifier", "credentials", "max_views", "expires_at"}, "grant"
            )
            _did(body["verifier"], "verifier")
            _credentials(body["credentials"])
            _int(body["max_views"], "max_views", 1, MAX_VIEWS)
            _int(body["expires_at"], "expires_at", 0, _MAX_TIME)
        elif entry.type == WITHDRAW:
            _members(body, {"consent"}, "withdraw")
        elif entry.type == VIEW:
            _members(body, {"consent", "view", "verifier", "nonce_hash"}, "view")
            _int(body["view"], "view", 1, MAX_VIEWS)
            _did(body["verifier"], "verifier")
            _match(body["nonce_hash"], _HASH_RE, "nonce_hash", "43 base64url characters")
        else:
            _members(body, {"consent", "verifier", "nonce_hash", "reason"}, "refusal")
            _did(body["verifier"], "verifier")
            _match(body["nonce_hash"], _HASH_RE, "nonce_hash", "43 base64url characters")
            if body["reason"] not in {str(code) for code in REFUSAL_REASONS}:
                raise _malformed("reason is a refusal code", "reason")
        _match(body["consent"], _ID_RE, "consent", "22 base64url characters")

    def apply(self, state: StateReader, entry: Entry, index: int) -> StateWrites:
        """Apply a grant, a withdrawal, a view or a refusal.

        Raises:
            StateConflictError: ``conflict`` for a second grant of one id or a time that
                goes backwards; ``unknown_consent``; for views ``consent_withdrawn``,
                ``consent_expired``, ``nonce_replayed``, ``consent_exhausted``,
                ``view_out_of_order``; ``consent_withdrawn`` for a second withdrawal;
                ``refusals_full`` for a refusal past the bounds or of a request whose
                refusal is recorded already.
            PolicyError: ``untrusted_signer`` if the signer is not the consent's holder
                pseudonym; ``wrong_verifier`` for a view by another verifier.
        """
        body = entry.body
        consent = str(body["consent"])
        key = consent_key(consent)
        current = state.get(self.name, key)
        if entry.type == GRANT:
            if current is not None:
                raise StateConflictError(Code.CONFLICT, "this consent id was granted before")
            expires_at = _int(body["expires_at"], "expires_at", 0, _MAX_TIME)
            if expires_at <= entry.time:
                raise StateConflictError(Code.CONSENT_EXPIRED, "the consent expires at once")
            record: dict[str, JSONValue] = {
                "holder": entry.signer,
                "verifier": body["verifier"],
                "max_views": body["max_views"],
                "expires_at": expires_at,
                "views": 0,
                "refusals": 0,
                "withdrawn": None,
                "granted": index,
                "last_time": entry.time,
            }
            return {key: record}
        if not isinstance(current, dict):
            raise StateConflictError(Code.UNKNOWN_CONSENT, "no such consent", consent=consent)
        if entry.signer != current.get("holder"):
            raise PolicyError(Code.UNTRUSTED_SIGNER, "only the consent's holder signs for it")
        last_time = _state_int(current, "last_time")
        if entry.time < last_time - BACKDATE_TOLERANCE:
            raise StateConflictError(Code.CONFLICT, "entry time goes backwards in this consent")
        updated = dict(current)
        updated["last_time"] = max(entry.time, last_time)
        if entry.type == WITHDRAW:
            if current.get("withdrawn") is not None:
                raise StateConflictError(Code.CONSENT_WITHDRAWN, "already withdrawn")
            updated["withdrawn"] = index
            return {key: updated}
        if entry.type == REFUSAL:
            refusals = _state_int(current, "refusals")
            own = body["verifier"] == current.get("verifier")
            bound = MAX_REFUSALS if own else MAX_STRANGER_REFUSALS
            if refusals >= bound:
                raise StateConflictError(
                    Code.REFUSALS_FULL, "this consent records no more refusals", limit=bound
                )
            # Once per request: a replayed request (same nonce) adds no second record.
            refused_key = f"r/{consent}/{body['nonce_hash']}"
            if state.get(self.name, refused_key) is not None:
                raise StateConflictError(
                    Code.REFUSALS_FULL, "this request's refusal is recorded already"
                )
            updated["refusals"] = refusals + 1
            return {key: updated, refused_key: index}
        # A view: the checks below are the budget. They run inside the append transaction,
        # under the store's write lock, so no two concurrent views can both pass them.
        if current.get("withdrawn") is not None:
            raise StateConflictError(Code.CONSENT_WITHDRAWN, "the consent was withdrawn")
        if entry.time >= _state_int(current, "expires_at"):
            raise StateConflictError(Code.CONSENT_EXPIRED, "the consent has expired")
        if body["verifier"] != current.get("verifier"):
            raise PolicyError(Code.WRONG_VERIFIER, "the consent names another verifier")
        nonce_key = f"n/{consent}/{body['nonce_hash']}"
        if state.get(self.name, nonce_key) is not None:
            raise StateConflictError(Code.NONCE_REPLAYED, "this nonce was viewed before")
        views = _state_int(current, "views")
        max_views = _state_int(current, "max_views")
        if views >= max_views:
            raise StateConflictError(
                Code.CONSENT_EXHAUSTED, "the view budget is spent", max_views=max_views
            )
        if body["view"] != views + 1:
            raise StateConflictError(
                Code.VIEW_OUT_OF_ORDER, "another view took this number", next=views + 1
            )
        updated["views"] = views + 1
        return {key: updated, nonce_key: index}
