"""S-Coin mileage on the ledger: integer amounts, no negative balance, idempotent retries.

Runs on SQLite and PostgreSQL (the ``town`` fixture). Refusals are asserted by code.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from mileage_town import Town

from seoul_vc import Code, PrivateKey, SeoulVCError
from seoul_vc.ledger.entry import sign_entry


def refused(excinfo: pytest.ExceptionInfo[SeoulVCError]) -> Code:
    return excinfo.value.code


def fund(town: Town, key: PrivateKey, coins: int, tag: str = "fund") -> None:
    """Accrue eco points to ``key``'s account and convert them all to S-Coin."""
    town.accounts.accrue(
        town.eco, programme="eco", account=town.did(key), amount=coins, idempotency_key=tag
    )
    town.accounts.convert(key, programme="eco", points=coins, idempotency_key=tag)


def test_points_accrue_convert_and_are_spent(town: Town) -> None:
    """Accrue 500 eco, convert 300, spend 120 at transit: 180 S-Coin and 200 points left."""
    alice = town.did(town.alice)
    town.accounts.accrue(town.eco, programme="eco", account=alice, amount=500, idempotency_key="a")
    town.accounts.convert(town.alice, programme="eco", points=300, idempotency_key="c")
    town.accounts.spend(town.alice, merchant="tmoney", amount=120, idempotency_key="s")
    balance = town.accounts.balance(alice)
    assert (balance.coins, balance.points) == (180, {"eco": 200})
    merchant = town.accounts.merchant("tmoney")
    assert (merchant.pending, merchant.pending_spends, merchant.spent) == (120, 1, 120)


def test_programme_rate_converts_exactly(town: Town) -> None:
    """Health converts 10 points to 1 S-Coin; 25 points would leave a fraction: rate_mismatch."""
    alice = town.did(town.alice)
    town.accounts.accrue(
        town.health, programme="health", account=alice, amount=100, idempotency_key="h"
    )
    with pytest.raises(SeoulVCError) as excinfo:
        town.accounts.convert(town.alice, programme="health", points=25, idempotency_key="c1")
    assert refused(excinfo) is Code.RATE_MISMATCH
    town.accounts.convert(town.alice, programme="health", points=30, idempotency_key="c2")
    balance = town.accounts.balance(alice)
    assert (balance.coins, balance.points) == (3, {"health": 70})


def test_conversion_at_a_rate_other_than_the_programmes_is_refused(town: Town) -> None:
    """A raw convert claiming 1:1 on the 10:1 programme: rate_mismatch."""
    town.accounts.accrue(
        town.health,
        programme="health",
        account=town.did(town.alice),
        amount=10,
        idempotency_key="h",
    )
    body = {"programme": "health", "points": 10, "coins": 10, "key": "k"}
    with pytest.raises(SeoulVCError) as excinfo:
        town.ledger.append(sign_entry("mileage.convert", body, town.alice, time=town.now()))
    assert refused(excinfo) is Code.RATE_MISMATCH


def test_rate_change_applies_to_later_conversions(town: Town) -> None:
    """The office re-rates eco to 2:1; the next conversion uses the new rate."""
    fund(town, town.alice, 0 + 10)
    town.accounts.accrue(
        town.eco, programme="eco", account=town.did(town.alice), amount=10, idempotency_key="x"
    )
    town.accounts.register_programme(
        town.office, "eco", authority=town.did(town.eco), points=2, coins=1
    )
    town.accounts.convert(town.alice, programme="eco", points=10, idempotency_key="y")
    assert town.accounts.balance(town.did(town.alice)).coins == 15


@pytest.mark.parametrize("operation", ["spend", "transfer", "convert"])
def test_overdraft_is_refused(town: Town, operation: str) -> None:
    """Spending, transferring or converting more than the balance: insufficient_balance."""
    fund(town, town.alice, 50)
    operations = {
        "spend": lambda: town.accounts.spend(
            town.alice, merchant="gift", amount=51, idempotency_key="o"
        ),
        "transfer": lambda: town.accounts.transfer(
            town.alice, to=town.did(town.bob), amount=51, idempotency_key="o"
        ),
        "convert": lambda: town.accounts.convert(
            town.alice, programme="eco", points=1, idempotency_key="o"
        ),
    }
    with pytest.raises(SeoulVCError) as excinfo:
        operations[operation]()
    assert refused(excinfo) is Code.INSUFFICIENT_BALANCE
    assert town.accounts.balance(town.did(town.alice)).coins == 50


def test_transfer_moves_coins_between_accounts(town: Town) -> None:
    """Alice sends Bob 20 of her 50; Bob spends them."""
    fund(town, town.alice, 50)
    town.accounts.transfer(town.alice, to=town.did(town.bob), amount=20, idempotency_key="t")
    town.accounts.spend(town.bob, merchant="gift", amount=20, idempotency_key="s")
    assert town.accounts.balance(town.did(town.alice)).coins == 30
    assert town.accounts.balance(town.did(town.bob)).coins == 0


def test_retry_with_same_key_applies_once(town: Town) -> None:
    """The same spend, re-signed later with the same key: a duplicate of the first."""
    fund(town, town.alice, 50)
    first = town.accounts.spend(town.alice, merchant="gift", amount=10, idempotency_key="r")
    town.clock.advance(timedelta(seconds=5))
    again = town.accounts.spend(town.alice, merchant="gift", amount=10, idempotency_key="r")
    assert (again.index, again.duplicate, first.duplicate) == (first.index, True, False)
    assert town.accounts.balance(town.did(town.alice)).coins == 40
    assert town.accounts.merchant("gift").pending_spends == 1


def test_identical_entry_appended_twice_applies_once(town: Town) -> None:
    """The very same signed accrual entry appended twice: one accrual."""
    body = {"programme": "eco", "account": town.did(town.alice), "amount": 5, "key": "k"}
    entry = sign_entry("mileage.accrue", body, town.eco, time=town.now())
    assert town.ledger.append(entry).duplicate is False
    assert town.ledger.append(entry).duplicate is True
    assert town.accounts.balance(town.did(town.alice)).points == {"eco": 5}


def test_key_reused_for_another_operation_is_refused(town: Town) -> None:
    """A key already used for a different amount: idempotency_key_reused."""
    fund(town, town.alice, 50)
    town.accounts.spend(town.alice, merchant="gift", amount=10, idempotency_key="r")
    with pytest.raises(SeoulVCError) as excinfo:
        town.accounts.spend(town.alice, merchant="gift", amount=11, idempotency_key="r")
    assert refused(excinfo) is Code.IDEMPOTENCY_KEY_REUSED


def test_keys_are_scoped_to_their_signer(town: Town) -> None:
    """Alice and Bob may both use key 1: different signers, different operations."""
    fund(town, town.alice, 5, "a")
    fund(town, town.bob, 5, "b")
    town.accounts.spend(town.alice, merchant="gift", amount=1, idempotency_key="1")
    assert (
        town.accounts.spend(town.bob, merchant="gift", amount=1, idempotency_key="1").duplicate
        is False
    )


def test_accrual_by_another_programmes_authority_is_refused(town: Town) -> None:
    """Eco's authority accruing health points: untrusted_signer."""
    with pytest.raises(SeoulVCError) as excinfo:
        town.accounts.accrue(
            town.eco,
            programme="health",
            account=town.did(town.alice),
            amount=5,
            idempotency_key="x",
        )
    assert refused(excinfo) is Code.UNTRUSTED_SIGNER


def test_accrual_without_grant_is_refused(town: Town) -> None:
    """A programme authority whose accrue grant was never given: untrusted_signer."""
    stranger = PrivateKey.generate()
    town.accounts.register_programme(town.office, "homepage", authority=town.did(stranger))
    with pytest.raises(SeoulVCError) as excinfo:
        town.accounts.accrue(
            stranger,
            programme="homepage",
            account=town.did(town.alice),
            amount=5,
            idempotency_key="x",
        )
    assert refused(excinfo) is Code.UNTRUSTED_SIGNER


def test_citizen_cannot_register_programmes(town: Town) -> None:
    """A programme registration without the grant: untrusted_signer."""
    with pytest.raises(SeoulVCError) as excinfo:
        town.accounts.register_programme(town.alice, "free", authority=town.did(town.alice))
    assert refused(excinfo) is Code.UNTRUSTED_SIGNER


def test_unknown_merchant_and_programme_are_refused(town: Town) -> None:
    """Spending at an unregistered merchant, accruing to an unregistered programme."""
    fund(town, town.alice, 5)
    with pytest.raises(SeoulVCError) as excinfo:
        town.accounts.spend(town.alice, merchant="casino", amount=1, idempotency_key="x")
    assert refused(excinfo) is Code.UNKNOWN_MERCHANT
    with pytest.raises(SeoulVCError) as excinfo:
        town.accounts.accrue(
            town.eco,
            programme="lottery",
            account=town.did(town.alice),
            amount=1,
            idempotency_key="x",
        )
    assert refused(excinfo) is Code.UNKNOWN_PROGRAMME


def test_settlement_matches_the_spends(town: Town) -> None:
    """Two spends then a settlement: total and count match; the next period starts at 0."""
    fund(town, town.alice, 50)
    town.accounts.spend(town.alice, merchant="tmoney", amount=7, idempotency_key="1")
    town.accounts.spend(town.alice, merchant="tmoney", amount=8, idempotency_key="2")
    done = town.accounts.settle(
        town.office, merchant="tmoney", period="2026-01", idempotency_key="p1"
    )
    assert (done.amount, done.spends, done.duplicate) == (15, 2, False)
    merchant = town.accounts.merchant("tmoney")
    assert (merchant.pending, merchant.pending_spends, merchant.settled) == (0, 0, 15)
    again = town.accounts.settle(
        town.office, merchant="tmoney", period="2026-01", idempotency_key="p1"
    )
    assert (again.index, again.duplicate, again.amount) == (done.index, True, 15)
    with pytest.raises(SeoulVCError) as excinfo:
        town.accounts.settle(town.office, merchant="tmoney", period="2026-01", idempotency_key="p2")
    assert refused(excinfo) is Code.ALREADY_EXISTS


def test_settlement_that_differs_from_the_spends_is_refused(town: Town) -> None:
    """A raw settlement of 14 against 15 spent: settlement_mismatch."""
    fund(town, town.alice, 50)
    town.accounts.spend(town.alice, merchant="tmoney", amount=15, idempotency_key="1")
    for amount, spends in ((14, 1), (15, 2)):
        body = {"merchant": "tmoney", "period": "p", "amount": amount, "spends": spends, "key": "k"}
        with pytest.raises(SeoulVCError) as excinfo:
            town.ledger.append(sign_entry("mileage.settle", body, town.office, time=town.now()))
        assert refused(excinfo) is Code.SETTLEMENT_MISMATCH


def test_citizen_cannot_settle(town: Town) -> None:
    """A settlement signed without the settle grant: untrusted_signer."""
    with pytest.raises(SeoulVCError) as excinfo:
        town.accounts.settle(town.alice, merchant="tmoney", period="p", idempotency_key="k")
    assert refused(excinfo) is Code.UNTRUSTED_SIGNER


@pytest.mark.parametrize(
    ("record_type", "body"),
    [
        ("mileage.spend", {"merchant": "gift", "amount": 0, "key": "k"}),
        ("mileage.spend", {"merchant": "gift", "amount": -1, "key": "k"}),
        ("mileage.spend", {"merchant": "gift", "amount": True, "key": "k"}),
        ("mileage.spend", {"merchant": "gift", "amount": 1.5, "key": "k"}),
        ("mileage.spend", {"merchant": "gift", "amount": "1", "key": "k"}),
        ("mileage.spend", {"merchant": "gift", "amount": 2**53, "key": "k"}),
        ("mileage.spend", {"merchant": "gift", "amount": 1, "key": ""}),
        ("mileage.spend", {"merchant": "gift", "amount": 1, "key": "a/b"}),
        ("mileage.spend", {"merchant": "gift", "amount": 1}),
        ("mileage.spend", {"merchant": "gift", "amount": 1, "key": "k", "memo": "x"}),
        ("mileage.transfer", {"to": "did:web:example.com", "amount": 1, "key": "k"}),
        ("mileage.transfer", {"to": "alice", "amount": 1, "key": "k"}),
        ("mileage.convert", {"programme": "Eco", "points": 1, "coins": 1, "key": "k"}),
        ("mileage.merchant", {"merchant": "m", "kind": "casino"}),
    ],
)
def test_malformed_operation_is_refused(town: Town, record_type: str, body: Any) -> None:
    """Zero, negative, non-integer or oversized amounts, bad keys and DIDs: malformed."""
    with pytest.raises(SeoulVCError) as excinfo:
        town.ledger.append(sign_entry(record_type, body, town.alice, time=town.now()))
    assert refused(excinfo) is Code.MALFORMED


def test_transfer_to_oneself_is_refused(town: Town) -> None:
    """A transfer to the signer's own account: malformed."""
    fund(town, town.alice, 5)
    with pytest.raises(SeoulVCError) as excinfo:
        town.accounts.transfer(town.alice, to=town.did(town.alice), amount=1, idempotency_key="k")
    assert refused(excinfo) is Code.MALFORMED


def test_balance_past_the_json_integer_range_is_refused(town: Town) -> None:
    """Accruing past 2**53 - 1 in one account: conflict, nothing written."""
    alice = town.did(town.alice)
    town.accounts.accrue(
        town.eco, programme="eco", account=alice, amount=2**53 - 1, idempotency_key="1"
    )
    with pytest.raises(SeoulVCError) as excinfo:
        town.accounts.accrue(
            town.eco, programme="eco", account=alice, amount=1, idempotency_key="2"
        )
    assert refused(excinfo) is Code.CONFLICT
    assert town.accounts.balance(alice).points == {"eco": 2**53 - 1}


def test_rebuild_replays_balances_and_settlements(town: Town) -> None:
    """Dropping derived state and replaying the log gives the same balances and totals."""
    fund(town, town.alice, 40)
    town.accounts.transfer(town.alice, to=town.did(town.bob), amount=15, idempotency_key="t")
    town.accounts.spend(town.bob, merchant="gift", amount=5, idempotency_key="s")
    town.accounts.settle(town.office, merchant="gift", period="w1", idempotency_key="w1")
    town.accounts.spend(town.alice, merchant="gift", amount=3, idempotency_key="s")
    before = (
        [town.accounts.balance(town.did(k)) for k in (town.alice, town.bob)],
        town.accounts.merchant("gift"),
    )
    town.ledger.rebuild()
    after = (
        [town.accounts.balance(town.did(k)) for k in (town.alice, town.bob)],
        town.accounts.merchant("gift"),
    )
    assert after == before
    # Idempotency survives the replay too.
    assert town.accounts.spend(town.alice, merchant="gift", amount=3, idempotency_key="s").duplicate
