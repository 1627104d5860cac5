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

from seoul_vc.ledger.apps.eligibility import EligibilityRule
from seoul_vc.voting._polls import (
    cast,
    check_ballot_bundle,
    check_ballot_receipt,
    close,
    derive_nullifier,
    get_poll,
    open_poll,
    registration_audience,
    sign_ballot,
    tally,
)
from seoul_vc.voting._recount import log_entries, recount, tally_from_log
from seoul_vc.voting._registrar import Registrar
from seoul_vc.voting._values import (
    PSEUDONYM_CLAIM,
    BallotReceipt,
    Nullifier,
    Poll,
    Registration,
    RegistrationChallenge,
    Tally,
)

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
