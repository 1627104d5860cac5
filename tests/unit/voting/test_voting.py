"""Voting identity on the ledger: one person, one vote, in every way we could think of.

Runs on SQLite and PostgreSQL (the ``civic`` fixture). Double voting is tried from the same
wallet, a second wallet, a re-issued credential, the same voter key and a re-signed ballot;
every refusal is asserted by its stable code. The live tally is compared with the
independent recount from the log (:func:`seoul_vc.voting.tally_from_log`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from voting_civic import DISCLOSE, Civic, pseudonym_value

from seoul_vc import Code, Issuer, PrivateKey, SeoulVCError
from seoul_vc.ledger.entry import sign_entry, signer_did
from seoul_vc.voting import (
    cast,
    check_ballot_receipt,
    close,
    derive_nullifier,
    get_poll,
    recount,
    sign_ballot,
    tally,
)


def code_of(excinfo: pytest.ExceptionInfo[SeoulVCError]) -> Code:
    return excinfo.value.code


def test_registered_voter_casts_and_tally_matches_recount(civic: Civic) -> None:
    """Three residents vote; the live tally equals the recount from the log."""
    keys = [civic.register(civic.citizen())[0] for _ in range(3)]
    for key, choice in zip(keys, ["yes", "no", "yes"], strict=True):
        cast(civic.ledger, key, "park", choice, clock=civic.clock)
    live = tally(civic.ledger, "park")
    assert (live.counts, live.registered, live.ballots, live.closed) == ((2, 1), 3, 3, False)
    assert recount(civic.ledger, "park") == live


def test_second_registration_from_same_wallet_is_refused(civic: Civic) -> None:
    """The same credential registering again, with a new voter key: nullifier_used."""
    person = civic.citizen()
    civic.register(person)
    with pytest.raises(SeoulVCError) as excinfo:
        civic.register(person)
    assert code_of(excinfo) is Code.NULLIFIER_USED


def test_second_wallet_with_reissued_credential_is_refused(civic: Civic) -> None:
    """A second wallet holding a re-issued credential of the same person: nullifier_used."""
    person = civic.citizen()
    civic.register(person)
    second = civic.reissue(person, wallet=PrivateKey.generate())
    with pytest.raises(SeoulVCError) as excinfo:
        civic.register(second)
    assert code_of(excinfo) is Code.NULLIFIER_USED


def test_reissued_credential_in_same_wallet_is_refused(civic: Civic) -> None:
    """A re-issued credential (new salts, new signature, same pseudonym): nullifier_used."""
    person = civic.citizen()
    civic.register(person)
    with pytest.raises(SeoulVCError) as excinfo:
        civic.register(civic.reissue(person))
    assert code_of(excinfo) is Code.NULLIFIER_USED


def test_credential_from_another_trusted_issuer_keeps_the_nullifier(civic: Civic) -> None:
    """The nullifier depends on the pseudonym only, not on which credential carried it."""
    person = civic.citizen()
    _, first = civic.register(person)
    assert first.nullifier == derive_nullifier(
        civic.secret, "park", str(person.subject["personPseudonym"])
    )


def test_one_voter_key_cannot_register_twice(civic: Civic) -> None:
    """Two people registering the same voter key: already_registered."""
    key, _ = civic.register(civic.citizen())
    with pytest.raises(SeoulVCError) as excinfo:
        civic.register(civic.citizen(), voter_key=key)
    assert code_of(excinfo) is Code.ALREADY_REGISTERED


def test_second_ballot_is_refused(civic: Civic) -> None:
    """A registered voter's second ballot, for the same or another option: already_voted."""
    key, _ = civic.register(civic.citizen())
    cast(civic.ledger, key, "park", "yes", clock=civic.clock)
    civic.clock.advance(timedelta(seconds=1))
    for choice in ("yes", "no"):
        with pytest.raises(SeoulVCError) as excinfo:
            cast(civic.ledger, key, "park", choice, clock=civic.clock)
        assert code_of(excinfo) is Code.ALREADY_VOTED
    assert tally(civic.ledger, "park").ballots == 1


def test_retried_ballot_entry_counts_once(civic: Civic) -> None:
    """The very same ballot entry appended twice is one ballot (a duplicate receipt)."""
    key, _ = civic.register(civic.citizen())
    entry = sign_ballot(key, "park", 0, time=civic.now())
    first = civic.ledger.append(entry)
    again = civic.ledger.append(entry)
    assert (again.index, again.duplicate) == (first.index, True)
    assert tally(civic.ledger, "park").counts == (1, 0)


def test_unregistered_key_cannot_vote(civic: Civic) -> None:
    """A ballot from a key not on the roll: not_registered."""
    with pytest.raises(SeoulVCError) as excinfo:
        cast(civic.ledger, PrivateKey.generate(), "park", "yes", clock=civic.clock)
    assert code_of(excinfo) is Code.NOT_REGISTERED


def test_wallet_key_itself_cannot_vote(civic: Civic) -> None:
    """The citizen's wallet key is not the voter key: its ballot is not_registered."""
    person = civic.citizen()
    civic.register(person)
    with pytest.raises(SeoulVCError) as excinfo:
        cast(civic.ledger, person.wallet, "park", "yes", clock=civic.clock)
    assert code_of(excinfo) is Code.NOT_REGISTERED


def test_registration_in_one_poll_gives_no_vote_in_another(civic: Civic) -> None:
    """Voter keys are poll-scoped: registered in park, refused in bus."""
    civic.open("bus")
    key, _ = civic.register(civic.citizen())
    with pytest.raises(SeoulVCError) as excinfo:
        cast(civic.ledger, key, "bus", "yes", clock=civic.clock)
    assert code_of(excinfo) is Code.NOT_REGISTERED


def test_nullifiers_are_unlinkable_across_polls(civic: Civic) -> None:
    """One person registers in two polls under two different nullifiers."""
    civic.open("bus")
    person = civic.citizen()
    _, park = civic.register(person)
    _, bus = civic.register(person, poll="bus")
    assert park.nullifier != bus.nullifier


def test_ledger_holds_nothing_that_identifies_the_voter(civic: Civic) -> None:
    """Neither the pseudonym, the wallet DID nor a disclosed claim appears in any entry."""
    person = civic.citizen()
    key, _ = civic.register(person)
    cast(civic.ledger, key, "park", "no", clock=civic.clock)
    log = b"".join(civic.ledger.entry(i).to_bytes() for i in range(civic.ledger.size))
    for secret in (
        str(person.subject["personPseudonym"]),
        signer_did(person.wallet.public_key),
        str(person.subject["birthDate"]),
        str(person.subject["address"]["dong"]),
    ):
        assert secret.encode() not in log


def test_ballot_before_window_is_refused(civic: Civic) -> None:
    """A poll opening tomorrow refuses today's ballot: poll_not_open."""
    now = civic.clock.now()
    civic.open("later", opens_at=now + timedelta(days=1), closes_at=now + timedelta(days=2))
    key, _ = civic.register(civic.citizen(), poll="later")
    with pytest.raises(SeoulVCError) as excinfo:
        cast(civic.ledger, key, "later", "yes", clock=civic.clock)
    assert code_of(excinfo) is Code.POLL_NOT_OPEN


def test_ballot_after_window_is_refused(civic: Civic) -> None:
    """A ballot timed after closes_at: poll_closed, even before the close entry."""
    key, _ = civic.register(civic.citizen())
    civic.clock.advance(timedelta(days=8))
    with pytest.raises(SeoulVCError) as excinfo:
        cast(civic.ledger, key, "park", "yes", clock=civic.clock)
    assert code_of(excinfo) is Code.POLL_CLOSED


def test_close_freezes_the_poll(civic: Civic) -> None:
    """After the close, ballots and registrations are refused and the tally stays put."""
    voted, _ = civic.register(civic.citizen())
    late, _ = civic.register(civic.citizen())
    cast(civic.ledger, voted, "park", "yes", clock=civic.clock)
    final = close(civic.ledger, civic.proposer, "park", clock=civic.clock)
    assert final.closed
    with pytest.raises(SeoulVCError) as excinfo:
        cast(civic.ledger, late, "park", "no", clock=civic.clock)
    assert code_of(excinfo) is Code.POLL_CLOSED
    with pytest.raises(SeoulVCError) as excinfo:
        civic.register(civic.citizen())
    assert code_of(excinfo) is Code.POLL_CLOSED
    assert tally(civic.ledger, "park") == final == recount(civic.ledger, "park")


def test_closing_twice_is_refused(civic: Civic) -> None:
    """A second close: poll_closed."""
    close(civic.ledger, civic.proposer, "park", clock=civic.clock)
    with pytest.raises(SeoulVCError) as excinfo:
        close(civic.ledger, civic.registrar_key, "park", clock=civic.clock)
    assert code_of(excinfo) is Code.POLL_CLOSED


def test_stranger_cannot_close(civic: Civic) -> None:
    """A close signed by neither proposer nor registrar: untrusted_signer."""
    with pytest.raises(SeoulVCError) as excinfo:
        close(civic.ledger, PrivateKey.generate(), "park", clock=civic.clock)
    assert code_of(excinfo) is Code.UNTRUSTED_SIGNER


def test_presentation_for_another_voter_key_is_refused(civic: Civic) -> None:
    """A presentation bound to voter A cannot register voter B: audience_mismatch."""
    person = civic.citizen()
    voter_a = signer_did(PrivateKey.generate().public_key)
    voter_b = signer_did(PrivateKey.generate().public_key)
    shown, nonce = civic.present(person, voter_a)
    with pytest.raises(SeoulVCError) as excinfo:
        civic.registrar.register(civic.ledger, "park", shown, voter=voter_b, nonce=nonce)
    assert code_of(excinfo) is Code.AUDIENCE_MISMATCH


def test_replayed_presentation_is_refused(civic: Civic) -> None:
    """The same presentation submitted twice: nonce_replayed."""
    person = civic.citizen()
    voter = signer_did(PrivateKey.generate().public_key)
    shown, nonce = civic.present(person, voter)
    civic.registrar.register(civic.ledger, "park", shown, voter=voter, nonce=nonce)
    with pytest.raises(SeoulVCError) as excinfo:
        civic.registrar.register(civic.ledger, "park", shown, voter=voter, nonce=nonce)
    assert code_of(excinfo) is Code.NONCE_REPLAYED


@pytest.mark.parametrize(
    ("disclose", "expected"),
    [
        (("address.district", "personPseudonym"), Code.CLAIMS_NOT_DISCLOSED),
        (("address.district", "ageOver14"), Code.CLAIMS_NOT_DISCLOSED),
        ((*DISCLOSE, "birthDate"), Code.EXCESS_DISCLOSURE),
        ((*DISCLOSE, "address.dong"), Code.EXCESS_DISCLOSURE),
    ],
)
def test_registration_discloses_exactly_what_the_rule_needs(
    civic: Civic, disclose: tuple[str, ...], expected: Code
) -> None:
    """Missing claims and claims the rule does not read are both refused."""
    person = civic.citizen()
    voter = signer_did(PrivateKey.generate().public_key)
    shown, nonce = civic.present(person, voter, disclose=disclose)
    with pytest.raises(SeoulVCError) as excinfo:
        civic.registrar.register(civic.ledger, "park", shown, voter=voter, nonce=nonce)
    assert code_of(excinfo) is expected


@pytest.mark.parametrize(
    ("district", "birth_date"),
    [("종로구", "1996-03-14"), ("마포구", "2020-05-05")],
)
def test_ineligible_resident_is_refused(civic: Civic, district: str, birth_date: str) -> None:
    """Another district, or younger than 14: not_eligible."""
    with pytest.raises(SeoulVCError) as excinfo:
        civic.register(civic.citizen(district=district, birth_date=birth_date))
    assert code_of(excinfo) is Code.NOT_ELIGIBLE


def test_credential_of_another_type_is_refused(civic: Civic) -> None:
    """An income credential cannot register for a residency poll: wrong_type."""
    person = civic.citizen(type_name="IncomeCredential")
    voter = signer_did(PrivateKey.generate().public_key)
    shown, nonce = civic.present(person, voter, disclose=["householdSize"])
    with pytest.raises(SeoulVCError) as excinfo:
        civic.registrar.register(civic.ledger, "park", shown, voter=voter, nonce=nonce)
    assert code_of(excinfo) is Code.WRONG_TYPE


def test_untrusted_issuer_is_refused(civic: Civic) -> None:
    """A residency credential from an issuer the registrar does not trust: untrusted_issuer."""
    forger = Issuer(PrivateKey.generate(), clock=civic.clock)
    with pytest.raises(SeoulVCError) as excinfo:
        civic.register(civic.citizen(issuer=forger))
    assert code_of(excinfo) is Code.UNTRUSTED_ISSUER


def test_registration_not_by_the_polls_registrar_is_refused(civic: Civic) -> None:
    """Another key granted voting.register cannot register in a poll naming another registrar."""
    other = PrivateKey.generate()
    civic.ledger.append(
        sign_entry(
            "authority.grant",
            {"subject": signer_did(other.public_key), "record_types": ["voting.register"]},
            civic.operator,
            time=civic.now(),
        )
    )
    body = {
        "poll": "park",
        "nullifier": "ab" * 32,
        "voter": signer_did(PrivateKey.generate().public_key),
    }
    with pytest.raises(SeoulVCError) as excinfo:
        civic.ledger.append(sign_entry("voting.register", body, other, time=civic.now()))
    assert code_of(excinfo) is Code.UNTRUSTED_SIGNER


def test_registration_without_grant_is_refused(civic: Civic) -> None:
    """A registrar named by a poll but without the voting.register grant: untrusted_signer."""
    rogue = PrivateKey.generate()
    now = civic.clock.now()
    civic.open("rogue", registrar=signer_did(rogue.public_key), closes_at=now + timedelta(days=1))
    body = {"poll": "rogue", "nullifier": "cd" * 32, "voter": signer_did(rogue.public_key)}
    with pytest.raises(SeoulVCError) as excinfo:
        civic.ledger.append(sign_entry("voting.register", body, rogue, time=civic.now()))
    assert code_of(excinfo) is Code.UNTRUSTED_SIGNER


def test_poll_id_in_use_is_refused(civic: Civic) -> None:
    """Opening a poll under an existing id: already_exists."""
    with pytest.raises(SeoulVCError) as excinfo:
        civic.open("park")
    assert code_of(excinfo) is Code.ALREADY_EXISTS


def test_unknown_poll_is_refused(civic: Civic) -> None:
    """Ballots and tallies for a poll never opened: unknown_poll."""
    with pytest.raises(SeoulVCError) as excinfo:
        cast(civic.ledger, PrivateKey.generate(), "nowhere", 0, clock=civic.clock)
    assert code_of(excinfo) is Code.UNKNOWN_POLL
    with pytest.raises(SeoulVCError) as excinfo:
        tally(civic.ledger, "nowhere")
    assert code_of(excinfo) is Code.UNKNOWN_POLL


def test_choice_past_the_options_is_refused(civic: Civic) -> None:
    """Option index 2 of a two-option poll: malformed; an unknown text: bad_argument."""
    key, _ = civic.register(civic.citizen())
    with pytest.raises(SeoulVCError) as excinfo:
        cast(civic.ledger, key, "park", 2, clock=civic.clock)
    assert code_of(excinfo) is Code.MALFORMED
    with pytest.raises(SeoulVCError) as excinfo:
        cast(civic.ledger, key, "park", "maybe", clock=civic.clock)
    assert code_of(excinfo) is Code.BAD_ARGUMENT


def test_receipt_proves_the_ballot_is_included(civic: Civic) -> None:
    """The voter's receipt checks against the grown log; an altered one does not."""
    key, _ = civic.register(civic.citizen())
    receipt = cast(civic.ledger, key, "park", "yes", clock=civic.clock)
    civic.register(civic.citizen())
    check_ballot_receipt(civic.ledger, receipt)
    from dataclasses import replace

    other = civic.ledger.entry(receipt.index - 1).to_bytes()
    from seoul_vc.ledger.tlog import leaf_hash

    forged = replace(receipt, entry=other, leaf_hash=leaf_hash(other))
    with pytest.raises(SeoulVCError) as excinfo:
        check_ballot_receipt(civic.ledger, forged)
    assert code_of(excinfo) is Code.INCLUSION_PROOF_INVALID


def test_rebuild_reproduces_the_live_tally(civic: Civic) -> None:
    """Dropping derived state and replaying the log gives the same tally and roll."""
    keys = [civic.register(civic.citizen())[0] for _ in range(2)]
    cast(civic.ledger, keys[0], "park", "no", clock=civic.clock)
    before = tally(civic.ledger, "park")
    civic.ledger.rebuild()
    assert tally(civic.ledger, "park") == before
    with pytest.raises(SeoulVCError) as excinfo:
        cast(civic.ledger, keys[0], "park", "yes", clock=civic.clock)
    assert code_of(excinfo) is Code.ALREADY_VOTED


def test_get_poll_returns_what_was_opened(civic: Civic) -> None:
    """The poll read back from the ledger equals the one opened."""
    assert get_poll(civic.ledger, "park") == civic.poll
    assert civic.poll.proposer == signer_did(civic.proposer.public_key)


def test_pseudonym_helper_makes_schema_valid_values(civic: Civic) -> None:
    """Fresh pseudonyms issue (the schema's pattern) and differ."""
    assert pseudonym_value() != pseudonym_value()
    civic.citizen(pseudonym=pseudonym_value())


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"options": ["yes", "yes"]}, Code.MALFORMED),
        ({"options": ["only"]}, Code.MALFORMED),
        ({"options": [f"o{n}" for n in range(33)]}, Code.MALFORMED),
        ({"options": ["yes", " "]}, Code.MALFORMED),
        ({"question": ""}, Code.MALFORMED),
        ({"poll_id": "a b"}, Code.MALFORMED),
        ({"poll_id": "x" * 65}, Code.MALFORMED),
        ({"registrar": "did:web:city.example"}, Code.MALFORMED),
        ({"rule": {"claim": "ageOver14", "regex": ".*"}}, Code.MALFORMED),
        ({"credential_type": "Residency Credential"}, Code.MALFORMED),
        ({"closes_at": datetime(2020, 1, 1, tzinfo=UTC)}, Code.MALFORMED),
        ({"closes_at": datetime(2099, 1, 1)}, Code.BAD_ARGUMENT),
    ],
)
def test_malformed_poll_is_refused(civic: Civic, overrides: dict[str, Any], expected: Code) -> None:
    """Duplicate or too few options, bad ids, registrars, rules, windows: refused."""
    arguments = dict(overrides)  # the parameter is shared by the sqlite and postgres runs
    poll_id = str(arguments.pop("poll_id", "bad"))
    with pytest.raises(SeoulVCError) as excinfo:
        civic.open(poll_id, **arguments)
    assert code_of(excinfo) is expected
