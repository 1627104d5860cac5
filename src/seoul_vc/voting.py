"""Voting identity: polls, eligibility, poll-scoped nullifiers, ballots, tally (mVoting).

Room: voting (plan item 2-1; DESIGN.md "Voting identity and mileage"). The record types and
their rules live in :mod:`seoul_vc.ledger.apps.voting`; this module is the API above them.

The flow, and who holds which secret:

1. A proposer opens a poll (:func:`open_poll`): question, options, window ``[opens_at,
   closes_at)``, an :class:`EligibilityRule` over credential claims, and the registrar DID.
2. The citizen's wallet makes a fresh, poll-scoped voter key and asks the registrar for a
   challenge (:meth:`Registrar.challenge`): a single-use nonce and an audience that names the
   registrar, the poll and the voter key (:func:`registration_audience`). It presents its
   residency credential bound to both (SD-JWT KB-JWT, RFC 9901 §4.3), disclosing exactly
   the claims the rule names plus ``personPseudonym``.
3. The registrar (:meth:`Registrar.register`) verifies the presentation with
   :class:`~seoul_vc.credentials.Verifier` (issuer trust, schema, status, holder binding,
   audience, nonce), refuses missing or extra claims and ineligible ones, derives the
   nullifier and appends ``voting.register {poll, nullifier, voter}``. Because the audience
   names the voter key, a presentation intercepted on its way cannot register another key.
4. The voter signs its ballot with the voter key (:func:`cast`); the ledger accepts one
   ballot per registered voter key inside the window and before the close.
5. Anyone reads the live :func:`tally` (state updated inside each append) or recounts it
   from the log alone (:func:`tally_from_log`); a voter checks their ballot's inclusion
   with its :class:`BallotReceipt` (:func:`check_ballot_receipt`, or offline against a
   cosigned checkpoint with :func:`check_ballot_bundle`).

**Nullifier.** ``HMAC-SHA256(secret, "seoul-vc/nullifier/v1" || 0x00 || len(poll) || poll
|| len(pseudonym) || pseudonym)`` (RFC 2104; lengths as 4-byte big-endian), hex. The person
pseudonym is issuer-assigned and kept across re-issued credentials and wallets, so one
person has one nullifier per poll — a second registration is refused with
``nullifier_used`` from a second wallet or a re-issued credential too — while the poll id
makes nullifiers of different polls unlinkable, and the registrar's secret keeps an
observer who knows pseudonyms from computing them.

**Trust assumptions** (documented in docs/voting.md): the registrar sees the pseudonym and
the voter key at registration, so a registrar that kept a log of them could link ballots
to pseudonyms; it must not, and the registrar secret must be kept and shared across
registrar instances for the poll's life (a changed secret would allow a second
registration). Ledger observers learn only nullifiers, voter keys, choices and times.

Example:
    >>> import os, tempfile
    >>> from datetime import UTC, datetime, timedelta
    >>> from seoul_vc.keys import PrivateKey
    >>> from seoul_vc.ledger.entry import signer_did
    >>> from seoul_vc.ledger.log import Ledger
    >>> from seoul_vc import voting
    >>> operator, proposer, registrar = (PrivateKey.generate() for _ in range(3))
    >>> now = datetime.now(UTC)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     ledger = Ledger.open("sqlite:" + os.path.join(tmp, "ledger.db"))
    ...     _ = ledger.genesis(origin="vote.seoul.example", operator=operator, grants={
    ...         signer_did(proposer.public_key): ["voting.open"],
    ...         signer_did(registrar.public_key): ["voting.register"]})
    ...     poll = voting.open_poll(ledger, proposer, poll_id="park-2026",
    ...         question="Build the park?", options=["yes", "no"],
    ...         opens_at=now - timedelta(minutes=1), closes_at=now + timedelta(days=7),
    ...         rule={"claim": "ageOver14", "equals": True},
    ...         registrar=signer_did(registrar.public_key))
    ...     tally = voting.tally(ledger, "park-2026")
    ...     ledger.close()
    >>> (tally.options, tally.counts, tally.ballots, tally.closed)
    (('yes', 'no'), (0, 0), 0, False)
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final, NewType

from seoul_vc._json import JSONObject, JSONValue
from seoul_vc.clock import Clock, SystemClock
from seoul_vc.credentials.verify import Verifier
from seoul_vc.errors import (
    Code,
    ConfigurationError,
    InternalError,
    MalformedInputError,
    PolicyError,
    StateConflictError,
    StorageError,
    VerificationError,
)
from seoul_vc.keys import PrivateKey
from seoul_vc.ledger import tlog
from seoul_vc.ledger.apps.eligibility import EligibilityRule
from seoul_vc.ledger.apps.voting import (
    CAST,
    CLOSE,
    OPEN,
    POLL_ID_RE,
    REGISTER,
    poll_key,
)
from seoul_vc.ledger.bundle import ProofBundle, verify_bundle
from seoul_vc.ledger.entry import Entry, public_key_of_signer, sign_entry, signer_did

if TYPE_CHECKING:
    from seoul_vc.ledger.checkpoint import WitnessPolicy
    from seoul_vc.ledger.log import Ledger, Receipt
    from seoul_vc.ledger.note import NoteVerifier

__all__ = [
    "PSEUDONYM_CLAIM",
    "BallotReceipt",
    "EligibilityRule",
    "Nullifier",
    "Poll",
    "Registrar",
    "Registration",
    "RegistrationChallenge",
    "Tally",
    "cast",
    "check_ballot_bundle",
    "check_ballot_receipt",
    "close",
    "derive_nullifier",
    "get_poll",
    "log_entries",
    "open_poll",
    "recount",
    "registration_audience",
    "sign_ballot",
    "tally",
    "tally_from_log",
]

Nullifier = NewType("Nullifier", str)
"""A poll-scoped nullifier: 64 lowercase hex digits."""

#: The residency claim holding the issuer-assigned person pseudonym (schemas/residency).
PSEUDONYM_CLAIM: Final = "personPseudonym"
_NULLIFIER_DOMAIN: Final = b"seoul-vc/nullifier/v1\x00"
_AUDIENCE_PREFIX: Final = "seoul-vc/vote/v1"
_MIN_SECRET_BYTES: Final = 32


# -- values ---------------------------------------------------------------------------------


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


# -- nullifiers and audiences ---------------------------------------------------------------


def _framed(text: str) -> bytes:
    data = text.encode("utf-8")
    return len(data).to_bytes(4, "big") + data


def derive_nullifier(secret: bytes, poll_id: str, pseudonym: str) -> Nullifier:
    """Derive the poll-scoped nullifier of a person pseudonym (see the module docstring).

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


def _at(value: JSONValue) -> datetime:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InternalError(Code.INTERNAL, "a poll time is not an integer")
    return datetime.fromtimestamp(value, UTC)


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


# -- the registrar -------------------------------------------------------------------------


def _leaf_paths(value: JSONValue, prefix: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
    if isinstance(value, dict) and value:
        for name, child in value.items():
            yield from _leaf_paths(child, (*prefix, name))
    else:
        yield prefix


def _has(claims: Mapping[str, JSONValue], path: tuple[str, ...]) -> bool:
    current: JSONValue = dict(claims)
    for segment in path:
        if not isinstance(current, dict) or segment not in current:
            return False
        current = current[segment]
    return True


class Registrar:
    """The city's poll registrar: verifies presentations, records nullifiers.

    Args:
        key: the registrar's signing key; its DID is named by the polls it registers for
            and must hold the ``voting.register`` grant.
        nullifier_secret: 32+ random bytes, kept secret and unchanged for each poll's life.
        verifier: verifies registration presentations (trust registry, status...). Its
            nonce store issues the challenges' nonces.
        clock: the time source of registration entries.

    Raises:
        ConfigurationError: ``bad_argument`` for a short secret.
    """

    def __init__(
        self,
        key: PrivateKey,
        *,
        nullifier_secret: bytes,
        verifier: Verifier,
        clock: Clock | None = None,
    ) -> None:
        if len(nullifier_secret) < _MIN_SECRET_BYTES:
            raise ConfigurationError(Code.BAD_ARGUMENT, "the nullifier secret needs 32+ bytes")
        self._key = key
        self._secret = nullifier_secret
        self._verifier = verifier
        self._clock = clock
        self.did = signer_did(key.public_key)

    def challenge(self, poll_id: str, voter: str) -> RegistrationChallenge:
        """Return the audience and a fresh single-use nonce for a registration.

        Raises:
            MalformedInputError: ``malformed`` for a bad poll id or voter DID.
        """
        _check_request(poll_id, voter)
        return RegistrationChallenge(
            aud=registration_audience(self.did, poll_id, voter),
            nonce=self._verifier.new_nonce(),
        )

    def register(
        self, ledger: Ledger, poll_id: str, presentation: str, *, voter: str, nonce: str
    ) -> Registration:
        """Verify a registration presentation and put ``voter`` on the poll's roll.

        Steps: (1) the poll exists, is open for registration and names this registrar;
        (2) the presentation verifies for the registration audience and ``nonce``
        (:meth:`Verifier.verify`: signature, trust, validity, schema, status, holder
        binding); (3) it is of the poll's credential type; (4) it discloses every claim
        the rule needs and the pseudonym, (5) and nothing else; (6) the rule holds;
        (7) the nullifier is derived and ``voting.register`` appended (the ledger refuses a
        used nullifier or voter key inside the append transaction).

        Raises:
            StateConflictError: ``unknown_poll``, ``poll_closed``, ``nullifier_used``,
                ``already_registered``, ``nonce_replayed``.
            PolicyError: ``untrusted_signer`` (another registrar's poll),
                ``claims_not_disclosed``, ``excess_disclosure``, ``not_eligible``, and the
                verifier's policy codes.
            VerificationError: ``wrong_type`` and the verifier's codes.
            MalformedInputError: a malformed presentation, poll id or voter DID.
        """
        # (1) The poll, as opened; the ledger checks the window and the close again.
        _check_request(poll_id, voter)
        state = _poll_state(ledger, poll_id)
        if state["closed"] is True:
            raise StateConflictError(Code.POLL_CLOSED, "the poll is closed", poll=poll_id)
        poll = get_poll(ledger, poll_id)
        if poll.registrar != self.did:
            raise PolicyError(Code.UNTRUSTED_SIGNER, "this poll names another registrar")
        # (2) The presentation, bound to this registrar, poll and voter key.
        aud = registration_audience(self.did, poll_id, voter)
        report = self._verifier.verify(presentation, aud=aud, nonce=nonce)
        # (3) Of the type the poll asks for.
        if report.credential_type != poll.credential_type:
            raise VerificationError(Code.WRONG_TYPE, "not the credential type the poll needs")
        claims = report.claims
        # (4) Every claim the rule reads, and the pseudonym, disclosed.
        needed = {tuple(path.split(".")) for path in poll.rule.claims()} | {(PSEUDONYM_CLAIM,)}
        for path in sorted(needed):
            if not _has(claims, path):
                raise PolicyError(
                    Code.CLAIMS_NOT_DISCLOSED,
                    "the presentation lacks a claim the poll needs",
                    claim=".".join(path),
                )
        # (5) Nothing more: a disclosed leaf must be a needed path or lie under one. The
        # subject ``id`` (the holder DID) is the binding itself and no format hides it.
        for leaf in _leaf_paths(dict(claims), ()):
            if leaf != ("id",) and not any(leaf[: len(p)] == p for p in needed):
                raise PolicyError(
                    Code.EXCESS_DISCLOSURE,
                    "the presentation discloses a claim the poll does not need",
                    claim=".".join(leaf)[:128],
                )
        # (6) Eligibility.
        if not poll.rule.evaluate(claims):
            raise PolicyError(Code.NOT_ELIGIBLE, "the disclosed claims do not meet the rule")
        # (7) The nullifier, recorded.
        pseudonym = claims[PSEUDONYM_CLAIM]
        if not isinstance(pseudonym, str):
            raise PolicyError(Code.CLAIMS_NOT_DISCLOSED, "the pseudonym is not a string")
        nullifier = derive_nullifier(self._secret, poll_id, pseudonym)
        entry = sign_entry(
            REGISTER,
            {"poll": poll_id, "nullifier": nullifier, "voter": voter},
            self._key,
            time=_now(self._clock),
        )
        receipt = ledger.append(entry)
        return Registration(
            poll_id=poll_id,
            voter=voter,
            nullifier=nullifier,
            index=receipt.index,
            duplicate=receipt.duplicate,
        )


def _check_request(poll_id: str, voter: str) -> None:
    if POLL_ID_RE.fullmatch(poll_id) is None:
        raise MalformedInputError(Code.MALFORMED, "a poll id is 1 to 64 of A-Za-z0-9._-")
    if len(voter) > 2048 or " " in voter:
        raise MalformedInputError(Code.MALFORMED, "the voter is a did:key or did:jwk")
    public_key_of_signer(voter)


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


# -- the independent recount ---------------------------------------------------------------


def _tampered(index: int, message: str) -> StorageError:
    return StorageError(Code.LEDGER_TAMPERED, f"recount: {message}", index=index)


def tally_from_log(
    entries: Iterable[tuple[int, Entry]], poll_id: str, *, verify_signatures: bool = True
) -> Tally:
    """Recount a poll from the log alone, independently of the voting application's state.

    Re-implements the poll's rules over ``(index, entry)`` pairs in log order: the first
    ``voting.open`` of the poll; registrations by its registrar, each nullifier and voter
    key once, before the close and the window's end; one ballot per registered key inside
    the window; the close by the proposer or registrar. An accepted entry that breaks a
    rule means the log or the application is wrong, so it is an error, not skipped.
    Authority grants are not re-checked (``Ledger.audit`` and ``Ledger.rebuild`` cover them).

    Raises:
        StateConflictError: ``unknown_poll`` if the poll was never opened.
        StorageError: ``ledger_tampered`` naming the first entry that breaks a rule.
        VerificationError: ``invalid_signature`` with ``verify_signatures``.
    """
    poll: Poll | None = None
    nullifiers: set[str] = set()
    voted: dict[str, bool] = {}
    counts: list[int] = []
    closed = False
    for index, entry in entries:
        if not entry.type.startswith("voting.") or entry.body.get("poll") != poll_id:
            continue
        if verify_signatures:
            entry.verify_signature()
        if entry.type == OPEN:
            if poll is not None:
                raise _tampered(index, "the poll is opened twice")
            poll = Poll.from_entry(entry)
            counts = [0] * len(poll.options)
            continue
        if poll is None:
            raise _tampered(index, "an entry before the poll was opened")
        if closed:
            raise _tampered(index, "an entry after the close")
        if entry.type == CLOSE:
            if entry.signer not in (poll.proposer, poll.registrar):
                raise _tampered(index, "closed by neither proposer nor registrar")
            closed = True
            continue
        if entry.time >= int(poll.closes_at.timestamp()):
            raise _tampered(index, "an entry after the window")
        if entry.type == REGISTER:
            nullifier, voter = str(entry.body["nullifier"]), str(entry.body["voter"])
            if entry.signer != poll.registrar or nullifier in nullifiers or voter in voted:
                raise _tampered(index, "a registration breaks the roll's rules")
            nullifiers.add(nullifier)
            voted[voter] = False
            continue
        choice = entry.body.get("choice")
        if (
            entry.signer not in voted
            or voted[entry.signer]
            or entry.time < int(poll.opens_at.timestamp())
            or isinstance(choice, bool)
            or not isinstance(choice, int)
            or not 0 <= choice < len(counts)
        ):
            raise _tampered(index, "a ballot breaks the poll's rules")
        voted[entry.signer] = True
        counts[choice] += 1
    if poll is None:
        raise StateConflictError(Code.UNKNOWN_POLL, "the poll is not in the log", poll=poll_id)
    return Tally(
        poll_id=poll_id,
        options=poll.options,
        counts=tuple(counts),
        registered=len(voted),
        ballots=sum(counts),
        closed=closed,
    )


def log_entries(ledger: Ledger, *, size: int | None = None) -> Iterator[tuple[int, Entry]]:
    """Yield ``(index, entry)`` for the first ``size`` entries (default: the current size)."""
    end = ledger.size if size is None else size
    for index in range(end):
        yield index, ledger.entry(index)


def recount(ledger: Ledger, poll_id: str, *, verify_signatures: bool = True) -> Tally:
    """Recount ``poll_id`` from every entry of ``ledger`` (:func:`tally_from_log`).

    Cost: one read and parse per entry of the whole log (and a signature check per entry
    of the poll with ``verify_signatures``).

    Raises:
        as :func:`tally_from_log`.
    """
    return tally_from_log(log_entries(ledger), poll_id, verify_signatures=verify_signatures)
