"""Polls: nullifiers and audiences, reading, writing, and checking ballot receipts.

Part of :mod:`seoul_vc.voting`, which re-exports every public name here. Nullifiers and
audiences (:func:`derive_nullifier`, :func:`registration_audience`); reading the live
state (:func:`get_poll`, :func:`tally`); writing (:func:`open_poll`, :func:`sign_ballot`,
:func:`cast`, :func:`close`); and a voter's checks of their ballot's inclusion
(:func:`check_ballot_receipt` against the ledger, :func:`check_ballot_bundle` offline).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Final

from seoul_vc._json import JSONObject, JSONValue
from seoul_vc.clock import Clock, SystemClock
from seoul_vc.errors import (
    Code,
    ConfigurationError,
    InternalError,
    StateConflictError,
    VerificationError,
)
from seoul_vc.keys import PrivateKey
from seoul_vc.ledger import tlog
from seoul_vc.ledger.apps.eligibility import EligibilityRule
from seoul_vc.ledger.apps.voting import CAST, CLOSE, OPEN, poll_key
from seoul_vc.ledger.bundle import ProofBundle, verify_bundle
from seoul_vc.ledger.entry import Entry, sign_entry
from seoul_vc.voting._values import BallotReceipt, Nullifier, Poll, Tally

if TYPE_CHECKING:
    from seoul_vc.ledger.checkpoint import WitnessPolicy
    from seoul_vc.ledger.log import Ledger, Receipt
    from seoul_vc.ledger.note import NoteVerifier

_NULLIFIER_DOMAIN: Final = b"seoul-vc/nullifier/v1\x00"
_AUDIENCE_PREFIX: Final = "seoul-vc/vote/v1"
_MIN_SECRET_BYTES: Final = 32


# -- nullifiers and audiences ---------------------------------------------------------------


def _framed(text: str) -> bytes:
    data = text.encode("utf-8")
    return len(data).to_bytes(4, "big") + data


def derive_nullifier(secret: bytes, poll_id: str, pseudonym: str) -> Nullifier:
    """Derive the poll-scoped nullifier of a person pseudonym (see :mod:`seoul_vc.voting`).

    Raises:
        ConfigurationError: ``bad_argument`` for a secret shorter than 32 bytes.
    """
    if len(secret) < _MIN_SECRET_BYTES:
        raise ConfigurationError(Code.BAD_ARGUMENT, "the nullifier secret needs 32+ bytes")
    message = _NULLIFIER_DOMAIN + _framed(poll_id) + _framed(pseudonym)
    return Nullifier(hmac.new(secret, message, hashlib.sha256).hexdigest())


def registration_audience(registrar: str, poll_id: str, voter: str) -> str:
    """Return the ``aud`` a registration presentation is bound to.

    ``"seoul-vc/vote/v1 <registrar DID> <poll id> <voter DID>"``: none of the three can hold
    a space, so the string names exactly one (registrar, poll, voter key).
    """
    return f"{_AUDIENCE_PREFIX} {registrar} {poll_id} {voter}"


# -- reading -------------------------------------------------------------------------------


def _count(value: JSONValue) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InternalError(Code.INTERNAL, "a poll count is not an integer")
    return value


def _poll_state(ledger: Ledger, poll_id: str) -> JSONObject:
    state = ledger.state("voting", poll_key(poll_id))
    if not isinstance(state, dict):
        raise StateConflictError(Code.UNKNOWN_POLL, "no such poll", poll=poll_id[:64])
    return state


def get_poll(ledger: Ledger, poll_id: str) -> Poll:
    """Return the poll ``poll_id`` as opened.

    Raises:
        StateConflictError: ``unknown_poll``.
    """
    opened = _poll_state(ledger, poll_id)["opened"]
    if isinstance(opened, bool) or not isinstance(opened, int):
        raise InternalError(Code.INTERNAL, "poll state lacks its opening index")
    return Poll.from_entry(ledger.entry(opened))


def tally(ledger: Ledger, poll_id: str) -> Tally:
    """Return the live turnout and tally, as of the last commit. Cost: two state reads.

    Raises:
        StateConflictError: ``unknown_poll``.
    """
    state = _poll_state(ledger, poll_id)
    poll = get_poll(ledger, poll_id)
    counts = state["counts"]
    if not isinstance(counts, list):
        raise InternalError(Code.INTERNAL, "poll state counts is not a list")
    return Tally(
        poll_id=poll_id,
        options=poll.options,
        counts=tuple(_count(c) for c in counts),
        registered=_count(state["registered"]),
        ballots=_count(state["ballots"]),
        closed=state["closed"] is True,
    )


# -- writing -------------------------------------------------------------------------------


def _now(clock: Clock | None) -> int:
    return int((clock or SystemClock()).now().timestamp())


def open_poll(
    ledger: Ledger,
    key: PrivateKey,
    *,
    poll_id: str,
    question: str,
    options: Sequence[str],
    opens_at: datetime,
    closes_at: datetime,
    rule: EligibilityRule | Mapping[str, JSONValue],
    registrar: str,
    credential_type: str = "ResidencyCredential",
    clock: Clock | None = None,
) -> Poll:
    """Open a poll: append ``voting.open`` signed by ``key`` (granted ``voting.open``).

    Raises:
        MalformedInputError: a bad id, question, option list, window, rule or registrar.
        ConfigurationError: ``bad_argument`` for naive (zone-less) times.
        PolicyError: ``untrusted_signer`` without the grant.
        StateConflictError: ``already_exists`` for a poll id in use.
    """
    if opens_at.tzinfo is None or closes_at.tzinfo is None:
        raise ConfigurationError(Code.BAD_ARGUMENT, "poll times need a time zone")
    parsed = rule if isinstance(rule, EligibilityRule) else EligibilityRule.from_json(rule)
    poll = Poll(
        poll_id=poll_id,
        question=question,
        options=tuple(options),
        opens_at=opens_at,
        closes_at=closes_at,
        rule=parsed,
        registrar=registrar,
        credential_type=credential_type,
    )
    entry = sign_entry(OPEN, poll.to_body(), key, time=_now(clock))
    ledger.append(entry)
    return Poll.from_entry(entry)


def sign_ballot(key: PrivateKey, poll_id: str, choice: int, *, time: int) -> Entry:
    """Sign a ``voting.cast`` entry with the voter key (for batching callers)."""
    return sign_entry(CAST, {"poll": poll_id, "choice": choice}, key, time=time)


def _choice_index(ledger: Ledger, poll_id: str, choice: int | str) -> int:
    if isinstance(choice, int) and not isinstance(choice, bool):
        return choice
    options = get_poll(ledger, poll_id).options
    if choice not in options:
        raise ConfigurationError(Code.BAD_ARGUMENT, "no such option in this poll")
    return options.index(str(choice))


def _receipt(poll_id: str, choice: int, entry: Entry, receipt: Receipt) -> BallotReceipt:
    return BallotReceipt(
        poll_id=poll_id,
        choice=choice,
        index=receipt.index,
        leaf_hash=receipt.leaf_hash,
        entry=entry.to_bytes(),
        size=receipt.size,
        root_hash=receipt.root_hash,
    )


def cast(
    ledger: Ledger,
    voter_key: PrivateKey,
    poll_id: str,
    choice: int | str,
    *,
    clock: Clock | None = None,
) -> BallotReceipt:
    """Cast a ballot signed by the registered voter key; return the voter's receipt.

    ``choice`` is an option index or an option's text. Appending the very same entry again
    (a retry) returns the same receipt; a second, different ballot is refused.

    Raises:
        StateConflictError: ``unknown_poll``, ``not_registered``, ``already_voted``,
            ``poll_not_open``, ``poll_closed``.
        ConfigurationError: ``bad_argument`` for an option text the poll does not have.
        MalformedInputError: ``malformed`` for an index past the options.
    """
    index = _choice_index(ledger, poll_id, choice)
    entry = sign_ballot(voter_key, poll_id, index, time=_now(clock))
    return _receipt(poll_id, index, entry, ledger.append(entry))


def close(ledger: Ledger, key: PrivateKey, poll_id: str, *, clock: Clock | None = None) -> Tally:
    """Close the poll (signed by its proposer or registrar); return the final tally.

    Raises:
        StateConflictError: ``unknown_poll``; ``poll_closed`` if already closed.
        PolicyError: ``untrusted_signer`` for anyone else.
    """
    ledger.append(sign_entry(CLOSE, {"poll": poll_id}, key, time=_now(clock)))
    return tally(ledger, poll_id)


# -- receipts ------------------------------------------------------------------------------


def check_ballot_receipt(ledger: Ledger, receipt: BallotReceipt) -> None:
    """Check the ballot is in the ledger: an inclusion proof to the current root (RFC 9162).

    This trusts the ledger's answer for the root; :func:`check_ballot_bundle` checks
    against a checkpoint the log signed and witnesses cosigned, offline.

    Raises:
        VerificationError: ``inclusion_proof_invalid`` if the ballot is not where the
            receipt says; ``proof_arguments_invalid`` for an impossible index.
    """
    if tlog.leaf_hash(receipt.entry) != receipt.leaf_hash:
        raise VerificationError(Code.INCLUSION_PROOF_INVALID, "the receipt's entry is altered")
    size = ledger.size
    if receipt.index >= size:
        raise VerificationError(Code.PROOF_ARGUMENTS_INVALID, "the log is shorter than that")
    proof = ledger.prove_inclusion(receipt.index, size)
    tlog.check_inclusion(
        proof, size, tlog.Hash(ledger.root(size)), receipt.index, tlog.Hash(receipt.leaf_hash)
    )


def check_ballot_bundle(
    receipt: BallotReceipt,
    bundle: ProofBundle,
    *,
    origin: str,
    log_key: NoteVerifier,
    witnesses: WitnessPolicy,
) -> None:
    """Check, offline, that a proof bundle proves the receipt's ballot.

    Raises:
        VerificationError: the bundle's own codes (:func:`verify_bundle`), or
            ``inclusion_proof_invalid`` if it proves another entry.
        PolicyError: ``witness_quorum_not_met``.
    """
    verify_bundle(bundle, origin=origin, log_key=log_key, witnesses=witnesses)
    if bundle.index != receipt.index or bundle.entry != receipt.entry:
        raise VerificationError(Code.INCLUSION_PROOF_INVALID, "the bundle proves another entry")
