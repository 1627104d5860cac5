"""The citizen's history: credentials received, consents, views, refusals, revocations.

Room: wallet history. Each event is a vault record (encrypted under the wallet's data key,
like everything personal) and a link of a hash chain: the wallet's row keeps the chain head
``SHA-256(previous head || JCS(event))``, so a removed, reordered or replaced event breaks
the chain (``ledger_tampered``) and an edited one fails its authentication tag. Every event
about a consent — grant, withdrawal, view, refusal — also names its ledger entry
(``ledger_index``); reading the history checks each against the log (type, consent, view
number, signer), so the part of the history a verifier could dispute cannot be quietly
edited even by someone holding the master key. Credential receipts, deletions and
revocations stay off the public log (they would reveal what a citizen holds) and are
protected by the chain.

Example:
    >>> from seoul_vc.wallet.history import GENESIS_HEAD, HistoryEvent, chain_next
    >>> event = HistoryEvent(seq=1, kind="credential_received", at=1767225600, details={})
    >>> len(chain_next(GENESIS_HEAD, event))
    64
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Final, Literal

from seoul_vc import _json
from seoul_vc._json import JSONObject

__all__ = ["EVENT_KINDS", "GENESIS_HEAD", "EventKind", "HistoryEvent", "chain_next"]

EventKind = Literal[
    "credential_received",
    "credential_deleted",
    "credential_revoked",
    "consent_granted",
    "consent_withdrawn",
    "view",
    "refusal",
]
EVENT_KINDS: Final = frozenset(
    {
        "credential_received",
        "credential_deleted",
        "credential_revoked",
        "consent_granted",
        "consent_withdrawn",
        "view",
        "refusal",
    }
)
#: The chain head of a wallet without events.
GENESIS_HEAD: Final = "0" * 64
#: The ledger record type each consent event must match.
LEDGER_TYPE_OF: Final = {
    "consent_granted": "consent.grant",
    "consent_withdrawn": "consent.withdraw",
    "view": "consent.view",
    "refusal": "consent.refusal",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class HistoryEvent:
    """One event of a wallet's history.

    Attributes:
        seq: its position (1, 2, ...).
        kind: what happened.
        at: when (POSIX seconds, the wallet service's clock).
        details: who and what: ``credential_id``, ``type``, ``consent``, ``verifier``,
            ``claims`` (paths), ``view`` and ``max_views``, ``reason`` (a refusal code),
            ``ledger_index``. Never claim values.
    """

    seq: int
    kind: str
    at: int
    details: JSONObject = field(default_factory=dict)

    def to_json(self) -> JSONObject:
        """Return the event as JSON."""
        return {"seq": self.seq, "kind": self.kind, "at": self.at, "details": self.details}

    @classmethod
    def from_json(cls, obj: JSONObject) -> HistoryEvent:
        """Read an event written by :meth:`to_json` (from the authenticated vault)."""
        seq, at, details = obj["seq"], obj["at"], obj["details"]
        assert isinstance(seq, int)  # noqa: S101 - the authenticated vault wrote it
        assert isinstance(at, int)  # noqa: S101
        assert isinstance(details, dict)  # noqa: S101
        return cls(seq=seq, kind=str(obj["kind"]), at=at, details=details)


def chain_next(head: str, event: HistoryEvent) -> str:
    """Return the chain head after ``event`` (hex SHA-256 of head and the event's JCS)."""
    data = bytes.fromhex(head) + _json.canonical(event.to_json())
    return hashlib.sha256(data).hexdigest()
