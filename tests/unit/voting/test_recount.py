"""The independent recount (tally_from_log) over hand-made logs, without the ledger.

The recount re-implements the poll's rules, so a log that breaks them — as a buggy
application or an edited database would leave it — is reported, not counted.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from seoul_vc import Code, PrivateKey, SeoulVCError
from seoul_vc.ledger.entry import Entry, sign_entry, signer_did
from seoul_vc.voting import EligibilityRule, Poll, tally_from_log

T0 = 1_767_225_600
PROPOSER, REGISTRAR, VOTER, OTHER = (PrivateKey.generate() for _ in range(4))


def _open() -> Entry:
    poll = Poll(
        poll_id="p",
        question="q?",
        options=("a", "b"),
        opens_at=datetime.fromtimestamp(T0, UTC),
        closes_at=datetime.fromtimestamp(T0, UTC) + timedelta(hours=1),
        rule=EligibilityRule.from_json({"claim": "ageOver14", "equals": True}),
        registrar=signer_did(REGISTRAR.public_key),
    )
    return sign_entry("voting.open", poll.to_body(), PROPOSER, time=T0)


def _register(voter: PrivateKey, nullifier: str = "11" * 32, time: int = T0 + 1) -> Entry:
    body = {"poll": "p", "nullifier": nullifier, "voter": signer_did(voter.public_key)}
    return sign_entry("voting.register", body, REGISTRAR, time=time)


def _cast(voter: PrivateKey, choice: int, time: int = T0 + 2) -> Entry:
    return sign_entry("voting.cast", {"poll": "p", "choice": choice}, voter, time=time)


def _count(entries: list[Entry]) -> object:
    return tally_from_log(enumerate(entries), "p")


def test_recount_counts_a_valid_log() -> None:
    """Open, two registrations, two ballots, a close: counted as the rules say."""
    log = [
        _open(),
        _register(VOTER),
        _register(OTHER, "22" * 32),
        _cast(VOTER, 1),
        _cast(OTHER, 1),
        sign_entry("voting.close", {"poll": "p"}, PROPOSER, time=T0 + 3),
    ]
    tally = tally_from_log(enumerate(log), "p")
    assert (tally.counts, tally.registered, tally.ballots, tally.closed) == ((0, 2), 2, 2, True)


@pytest.mark.parametrize(
    "log",
    [
        pytest.param(
            [_open(), _register(VOTER), _cast(VOTER, 0), _cast(VOTER, 1)], id="2nd-ballot"
        ),
        pytest.param([_open(), _register(VOTER), _register(OTHER)], id="nullifier-reused"),
        pytest.param([_open(), _cast(VOTER, 0)], id="unregistered"),
        pytest.param([_open(), _register(VOTER), _cast(VOTER, 0, T0 - 5)], id="early"),
        pytest.param([_open(), _register(VOTER), _cast(VOTER, 0, T0 + 3600)], id="late"),
        pytest.param([_open(), _register(VOTER), _cast(VOTER, 2)], id="no-such-option"),
        pytest.param([_register(VOTER)], id="before-open"),
        pytest.param([_open(), _open()], id="opened-twice"),
        pytest.param(
            [
                _open(),
                _register(VOTER),
                sign_entry("voting.close", {"poll": "p"}, REGISTRAR, time=T0 + 2),
                _cast(VOTER, 0, T0 + 3),
            ],
            id="after-close",
        ),
        pytest.param(
            [
                _open(),
                sign_entry(
                    "voting.register",
                    {"poll": "p", "nullifier": "33" * 32, "voter": signer_did(VOTER.public_key)},
                    OTHER,
                    time=T0 + 1,
                ),
            ],
            id="not-the-registrar",
        ),
        pytest.param(
            [_open(), sign_entry("voting.close", {"poll": "p"}, OTHER, time=T0 + 1)],
            id="closed-by-stranger",
        ),
    ],
)
def test_recount_reports_a_log_that_breaks_the_rules(log: list[Entry]) -> None:
    """Any entry the poll's rules refuse is reported as ledger_tampered, with its index."""
    with pytest.raises(SeoulVCError) as excinfo:
        _count(log)
    assert excinfo.value.code is Code.LEDGER_TAMPERED
    assert excinfo.value.details["index"] == len(log) - 1


def test_recount_checks_signatures() -> None:
    """A ballot whose body was changed after signing: invalid_signature."""
    ballot = _cast(VOTER, 0)
    forged = Entry(
        type=ballot.type,
        body={"poll": "p", "choice": 1},
        signer=ballot.signer,
        time=ballot.time,
        sig=ballot.sig,
    )
    with pytest.raises(SeoulVCError) as excinfo:
        _count([_open(), _register(VOTER), forged])
    assert excinfo.value.code is Code.INVALID_SIGNATURE


def test_recount_of_a_poll_never_opened() -> None:
    """unknown_poll."""
    with pytest.raises(SeoulVCError) as excinfo:
        tally_from_log(iter([]), "p")
    assert excinfo.value.code is Code.UNKNOWN_POLL
