"""The values of the voting room: a poll, its tally, a registration, a ballot receipt.

Part of :mod:`seoul_vc.voting`, which re-exports every public name here: :class:`Poll` (a
poll as its ``voting.open`` entry states it), :class:`Tally` (turnout and counts),
:class:`RegistrationChallenge` and :class:`Registration` (a voter put on a poll's roll),
:class:`BallotReceipt` (where a ballot is in the log), the :data:`Nullifier` type and the
claim holding the person pseudonym (:data:`PSEUDONYM_CLAIM`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final, NewType

from seoul_vc._json import JSONObject, JSONValue
from seoul_vc.errors import Code, InternalError
from seoul_vc.ledger.apps.eligibility import EligibilityRule
from seoul_vc.ledger.apps.voting import OPEN
from seoul_vc.ledger.entry import Entry

Nullifier = NewType("Nullifier", str)
"""A poll-scoped nullifier: 64 lowercase hex digits."""

#: The residency claim holding the issuer-assigned person pseudonym (schemas/residency).
PSEUDONYM_CLAIM: Final = "personPseudonym"


@dataclass(frozen=True, slots=True, kw_only=True)
class Poll:
    """A poll as its ``voting.open`` entry states it.

    Attributes:
        poll_id: the poll's id (1 to 64 of ``A-Za-z0-9._-``).
        question: the question put to voters.
        options: the answers, in ballot order (a ballot's ``choice`` indexes them).
        opens_at: ballots are accepted from this time (aware UTC)...
        closes_at: ...until just before this one, or until the poll is closed.
        rule: who may register.
        registrar: the DID that signs this poll's registrations.
        credential_type: the credential a registration presents.
        proposer: the DID that opened the poll (``None`` before it is on the ledger).
    """

    poll_id: str
    question: str
    options: tuple[str, ...]
    opens_at: datetime
    closes_at: datetime
    rule: EligibilityRule
    registrar: str
    credential_type: str = "ResidencyCredential"
    proposer: str | None = None

    def to_body(self) -> JSONObject:
        """Return the ``voting.open`` body."""
        return {
            "poll": self.poll_id,
            "question": self.question,
            "options": list(self.options),
            "opens_at": int(self.opens_at.timestamp()),
            "closes_at": int(self.closes_at.timestamp()),
            "rule": self.rule.to_json(),
            "credential_type": self.credential_type,
            "registrar": self.registrar,
        }

    @classmethod
    def from_entry(cls, entry: Entry) -> Poll:
        """Read a poll from its (validated) ``voting.open`` entry."""
        body = entry.body
        options = body["options"]
        if entry.type != OPEN or not isinstance(options, list):
            raise InternalError(Code.INTERNAL, "not a voting.open entry")
        return cls(
            poll_id=str(body["poll"]),
            question=str(body["question"]),
            options=tuple(str(o) for o in options),
            opens_at=_at(body["opens_at"]),
            closes_at=_at(body["closes_at"]),
            rule=EligibilityRule.from_json(body["rule"]),
            registrar=str(body["registrar"]),
            credential_type=str(body["credential_type"]),
            proposer=entry.signer,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Tally:
    """Turnout and counts of a poll.

    Attributes:
        poll_id: the poll.
        options: the answers; ``counts[i]`` ballots chose ``options[i]``.
        counts: ballots per option.
        registered: voters on the roll.
        ballots: ballots cast (the turnout).
        closed: whether the poll was closed.
    """

    poll_id: str
    options: tuple[str, ...]
    counts: tuple[int, ...]
    registered: int
    ballots: int
    closed: bool

    def to_json(self) -> JSONObject:
        """Return the tally as JSON."""
        return {
            "poll": self.poll_id,
            "options": list(self.options),
            "counts": list(self.counts),
            "registered": self.registered,
            "ballots": self.ballots,
            "closed": self.closed,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class RegistrationChallenge:
    """What the wallet binds its presentation to: the audience and a single-use nonce."""

    aud: str
    nonce: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Registration:
    """A recorded registration: the voter key is on the poll's roll under ``nullifier``."""

    poll_id: str
    voter: str
    nullifier: Nullifier
    index: int
    duplicate: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class BallotReceipt:
    """A voter's receipt: where their ballot is in the log, and the tree head after it.

    Attributes:
        poll_id: the poll.
        choice: the option index voted for.
        index: the ballot entry's index in the log.
        leaf_hash: the RFC 9162 leaf hash of the ballot entry's bytes.
        entry: the ballot entry's canonical bytes.
        size: the tree size right after the append.
        root_hash: the root at ``size``.
    """

    poll_id: str
    choice: int
    index: int
    leaf_hash: bytes
    entry: bytes
    size: int
    root_hash: bytes

    def to_json(self) -> JSONObject:
        """Return the receipt as JSON (hashes in hex)."""
        return {
            "poll": self.poll_id,
            "choice": self.choice,
            "index": self.index,
            "leaf_hash": self.leaf_hash.hex(),
            "size": self.size,
            "root_hash": self.root_hash.hex(),
        }


def _at(value: JSONValue) -> datetime:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InternalError(Code.INTERNAL, "a poll time is not an integer")
    return datetime.fromtimestamp(value, UTC)
