"""The voting application: polls, a voter roll of nullifiers, ballots, closing (mVoting).

Room: voting (plan item 2-1, "store the identity-check result on the ledger so each voter has
exactly one vote"). Record types, who signs them, and their bodies:

* ``voting.open`` — signed by a proposer holding the ``voting.open`` grant::

      {"poll": ID, "question": str, "options": [str, ...], "opens_at": int, "closes_at": int,
       "rule": RULE, "credential_type": str, "registrar": DID}

  ``ID`` is 1 to 64 of ``A-Za-z0-9._-``; 2 to 32 distinct options; times are POSIX seconds,
  the window is ``[opens_at, closes_at)``; ``RULE`` is an
  :class:`~seoul_vc.ledger.apps.eligibility.EligibilityRule`; ``registrar`` is the DID
  that will sign this poll's registrations.
* ``voting.register`` — signed by the poll's registrar, which must also hold the
  ``voting.register`` grant: ``{"poll": ID, "nullifier": HEX64, "voter": DID}``. The
  registrar verified an eligible residency presentation first; the nullifier is its
  poll-scoped HMAC of the person pseudonym (:func:`seoul_vc.voting.derive_nullifier`) and
  ``voter`` a fresh, poll-scoped did:key or did:jwk the citizen's wallet made. One nullifier
  and one voter key per registration, each at most once per poll.
* ``voting.cast`` — open to any signer; the application requires the signer to be a
  registered voter of the poll without a ballot: ``{"poll": ID, "choice": int}`` (the index
  of an option), inside the window and before the poll is closed.
* ``voting.close`` — signed by the poll's proposer or registrar: ``{"poll": ID}``. It
  freezes the poll: later registrations and ballots are refused.

State (``voting`` namespace):

* ``poll/<ID>``: ``{"opened": index, "proposer", "registrar", "options": n, "opens_at",
  "closes_at", "closed", "closed_at", "registered", "ballots", "counts": [n ints]}`` — the
  live turnout and tally, updated inside each append's transaction;
* ``nullifier/<ID>/<HEX64>`` -> index of its registration;
* ``voter/<ID>/<DID>`` -> ``{"registered": index, "ballot": index or null}``.

Nothing here identifies a person: the nullifier is keyed by the registrar's secret and
scoped to the poll, the voter key is fresh per poll. Ballot times are the signer's claim,
bounded by the ledger's future-time check; the ``voting.close`` entry is the authoritative
cut-off, so a proposer closes the poll when the window ends.

Example:
    >>> from seoul_vc.ledger.apps.voting import VotingApp
    >>> sorted(VotingApp().record_types)
    ['voting.cast', 'voting.close', 'voting.open', 'voting.register']
"""

from __future__ import annotations

import re
from typing import Final

from seoul_vc._json import JSONObject, JSONValue
from seoul_vc.errors import (
    Code,
    InternalError,
    MalformedInputError,
    PolicyError,
    StateConflictError,
)
from seoul_vc.ledger.app import StateReader, StateWrites
from seoul_vc.ledger.apps._body import malformed as _malformed
from seoul_vc.ledger.apps._body import members as _members
from seoul_vc.ledger.apps.eligibility import EligibilityRule
from seoul_vc.ledger.entry import Entry, public_key_of_signer

__all__ = [
    "CAST",
    "CLOSE",
    "MAX_OPTIONS",
    "OPEN",
    "POLL_ID_RE",
    "REGISTER",
    "VotingApp",
    "poll_key",
    "voter_key",
]

OPEN: Final = "voting.open"
REGISTER: Final = "voting.register"
CAST: Final = "voting.cast"
CLOSE: Final = "voting.close"
POLL_ID_RE: Final = re.compile(r"[A-Za-z0-9._-]{1,64}")
MAX_OPTIONS: Final = 32
_MAX_OPTION_CHARS: Final = 200
_MAX_QUESTION_CHARS: Final = 1000
_NULLIFIER_RE: Final = re.compile(r"[0-9a-f]{64}")
_TYPE_RE: Final = re.compile(r"[A-Za-z][A-Za-z0-9]{0,63}")
_MAX_TIME: Final = 2**53 - 1


def poll_key(poll: str) -> str:
    """Return the state key of a poll's record."""
    return f"poll/{poll}"


def voter_key(poll: str, voter: str) -> str:
    """Return the state key of a voter's roll entry in a poll."""
    return f"voter/{poll}/{voter}"


def _poll_id(value: object) -> str:
    if not isinstance(value, str) or POLL_ID_RE.fullmatch(value) is None:
        raise _malformed("a poll id is 1 to 64 of A-Za-z0-9._-", "poll")
    return value


def _text(value: object, field: str, limit: int) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= limit or not value.strip():
        raise _malformed(f"{field} is a non-blank string of at most {limit} characters", field)
    return value


def _time(value: object, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _MAX_TIME:
        raise _malformed(f"{field} is POSIX seconds", field)
    return value


def _signer_did(value: object, field: str) -> str:
    if not isinstance(value, str) or len(value) > 2048:
        raise _malformed("a did:key or did:jwk is expected", field)
    try:
        public_key_of_signer(value)
    except MalformedInputError as exc:
        raise _malformed("a did:key or did:jwk is expected", field) from exc
    return value


def _int(value: JSONValue, what: str) -> int:
    """Read an integer back from state (written by this application)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InternalError(Code.INTERNAL, f"voting state {what} is not an integer")
    return value


class VotingApp:
    """Polls, voter rolls, ballots and closing; see the module docstring."""

    name = "voting"
    record_types: frozenset[str] = frozenset({OPEN, REGISTER, CAST, CLOSE})
    # A ballot is signed by the poll-scoped voter key, a close by the poll's proposer or
    # registrar: apply() checks both against the poll's state.
    open_record_types: frozenset[str] = frozenset({CAST, CLOSE})

    def validate(self, entry: Entry) -> None:
        """Check body shapes (see the module docstring), statelessly.

        Raises:
            MalformedInputError: ``malformed`` naming the field; the eligibility rule's
                ``too_large``/``too_deep``.
        """
        body = entry.body
        if entry.type == OPEN:
            _members(
                body,
                {"poll", "question", "options", "opens_at", "closes_at", "rule",
                 "credential_type", "registrar"},
                "voting.open",
            )  # fmt: skip
            _poll_id(body["poll"])
            _text(body["question"], "question", _MAX_QUESTION_CHARS)
            options = body["options"]
            if not isinstance(options, list) or not 2 <= len(options) <= MAX_OPTIONS:
                raise _malformed(f"options are 2 to {MAX_OPTIONS} strings", "options")
            texts = [_text(option, "options", _MAX_OPTION_CHARS) for option in options]
            if len(set(texts)) != len(texts):
                raise _malformed("options are distinct", "options")
            if _time(body["opens_at"], "opens_at") >= _time(body["closes_at"], "closes_at"):
                raise _malformed("the window closes after it opens", "closes_at")
            EligibilityRule.from_json(body["rule"])
            kind = body["credential_type"]
            if not isinstance(kind, str) or _TYPE_RE.fullmatch(kind) is None:
                raise _malformed("credential_type is a type name", "credential_type")
            _signer_did(body["registrar"], "registrar")
        elif entry.type == REGISTER:
            _members(body, {"poll", "nullifier", "voter"}, "voting.register")
            _poll_id(body["poll"])
            nullifier = body["nullifier"]
            if not isinstance(nullifier, str) or _NULLIFIER_RE.fullmatch(nullifier) is None:
                raise _malformed("a nullifier is 64 lowercase hex digits", "nullifier")
            _signer_did(body["voter"], "voter")
        elif entry.type == CAST:
            _members(body, {"poll", "choice"}, "voting.cast")
            _poll_id(body["poll"])
            choice = body["choice"]
            if isinstance(choice, bool) or not isinstance(choice, int):
                raise _malformed("choice is an option index", "choice")
            if not 0 <= choice < MAX_OPTIONS:
                raise _malformed("choice is an option index", "choice")
        else:
            _members(body, {"poll"}, "voting.close")
            _poll_id(body["poll"])

    def apply(self, state: StateReader, entry: Entry, index: int) -> StateWrites:
        """Open, register, cast or close.

        Raises:
            StateConflictError: ``already_exists`` (poll id taken), ``unknown_poll``,
                ``poll_closed``, ``poll_not_open``, ``nullifier_used``,
                ``already_registered``, ``not_registered``, ``already_voted``.
            PolicyError: ``untrusted_signer`` for a registration not by the poll's
                registrar or a close by neither proposer nor registrar.
            MalformedInputError: ``malformed`` for a choice past the poll's options.
        """
        body = entry.body
        poll_id = str(body["poll"])
        key = poll_key(poll_id)
        current = state.get(self.name, key)
        if entry.type == OPEN:
            if current is not None:
                raise StateConflictError(Code.ALREADY_EXISTS, "a poll with this id exists")
            options = body["options"]
            count = len(options) if isinstance(options, list) else 0
            return {
                key: {
                    "opened": index,
                    "proposer": entry.signer,
                    "registrar": body["registrar"],
                    "options": count,
                    "opens_at": body["opens_at"],
                    "closes_at": body["closes_at"],
                    "closed": False,
                    "closed_at": None,
                    "registered": 0,
                    "ballots": 0,
                    "counts": [0] * count,
                }
            }
        if not isinstance(current, dict):
            raise StateConflictError(Code.UNKNOWN_POLL, "no such poll", poll=poll_id)
        poll = dict(current)
        if poll["closed"] is True:
            raise StateConflictError(Code.POLL_CLOSED, "the poll is closed", poll=poll_id)
        if entry.type == CLOSE:
            if entry.signer not in (poll["proposer"], poll["registrar"]):
                raise PolicyError(
                    Code.UNTRUSTED_SIGNER, "only the proposer or the registrar closes a poll"
                )
            poll["closed"] = True
            poll["closed_at"] = entry.time
            return {key: poll}
        if entry.time >= _int(poll["closes_at"], "closes_at"):
            raise StateConflictError(Code.POLL_CLOSED, "the poll's window has ended")
        if entry.type == REGISTER:
            return self._register(state, entry, index, poll_id, poll)
        return self._cast(state, entry, index, poll_id, poll)

    def _register(
        self, state: StateReader, entry: Entry, index: int, poll_id: str, poll: JSONObject
    ) -> StateWrites:
        if entry.signer != poll["registrar"]:
            raise PolicyError(Code.UNTRUSTED_SIGNER, "only the poll's registrar registers")
        nullifier_slot = f"nullifier/{poll_id}/{entry.body['nullifier']}"
        if state.get(self.name, nullifier_slot) is not None:
            raise StateConflictError(
                Code.NULLIFIER_USED, "this person is already registered in this poll"
            )
        voter_slot = voter_key(poll_id, str(entry.body["voter"]))
        if state.get(self.name, voter_slot) is not None:
            raise StateConflictError(
                Code.ALREADY_REGISTERED, "this voter key is already registered in this poll"
            )
        poll["registered"] = _int(poll["registered"], "registered") + 1
        return {
            poll_key(poll_id): poll,
            nullifier_slot: index,
            voter_slot: {"registered": index, "ballot": None},
        }

    def _cast(
        self, state: StateReader, entry: Entry, index: int, poll_id: str, poll: JSONObject
    ) -> StateWrites:
        if entry.time < _int(poll["opens_at"], "opens_at"):
            raise StateConflictError(Code.POLL_NOT_OPEN, "the poll's window has not opened")
        choice = _int(entry.body["choice"], "choice")
        counts = poll["counts"]
        if not isinstance(counts, list):
            raise InternalError(Code.INTERNAL, "voting state counts is not a list")
        if choice >= len(counts):
            raise _malformed("choice is past the poll's options", "choice")
        voter_slot = voter_key(poll_id, entry.signer)
        roll = state.get(self.name, voter_slot)
        if not isinstance(roll, dict):
            raise StateConflictError(
                Code.NOT_REGISTERED, "the signer is not a registered voter of this poll"
            )
        if roll.get("ballot") is not None:
            raise StateConflictError(Code.ALREADY_VOTED, "this voter has already voted")
        counts = list(counts)
        counts[choice] = _int(counts[choice], "count") + 1
        poll["counts"] = counts
        poll["ballots"] = _int(poll["ballots"], "ballots") + 1
        return {
            poll_key(poll_id): poll,
            voter_slot: {"registered": roll.get("registered"), "ballot": index},
        }
