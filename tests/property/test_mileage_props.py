"""Mileage invariants over random operation sequences (hypothesis).

Two levels:

* the pure application (:class:`~seoul_vc.ledger.apps.mileage.MileageApp`) over an in-memory
  state, many sequences: after every operation its state equals an independent model's
  (balances, merchant totals, which operations were refused and with which code); no
  balance is ever negative; S-Coin is conserved (minted = held + spent); each merchant's
  settled total equals the spends its settlements covered; and replaying the accepted
  entries from empty state gives the same state again (state is a pure replay of the log);
* the real :class:`~seoul_vc.ledger.log.Ledger` on SQLite through
  :class:`~seoul_vc.mileage.MileageAccounts`, fewer sequences: retries (same idempotency key,
  re-signed) apply once, balances equal the model, and ``Ledger.rebuild`` changes nothing.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seoul_vc import Code, FixedClock, Ledger, PrivateKey, SeoulVCError
from seoul_vc._json import JSONValue
from seoul_vc.ledger.apps.mileage import MileageApp
from seoul_vc.ledger.entry import Entry, sign_entry, signer_did
from seoul_vc.mileage import MileageAccounts

T0 = 1_767_225_600
T = TypeVar("T")
ACCOUNTS = [PrivateKey.generate() for _ in range(3)]
DIDS = [signer_did(k.public_key) for k in ACCOUNTS]
AUTHORITY = PrivateKey.generate()
OFFICE = PrivateKey.generate()
RATES = {"eco": (1, 1), "health": (10, 1)}
MERCHANTS = ("tmoney", "gift")
KEYS = st.sampled_from(["k1", "k2", "k3", "k4", "k5", "k6"])


def attempt(call: Callable[[], T]) -> tuple[T | None, Code | None]:
    """Run ``call``; return its result, or ``None`` and the code it was refused with."""
    try:
        return call(), None
    except SeoulVCError as exc:
        return None, exc.code


class MemoryState:
    """A StateReader over a dict: the application's namespace only."""

    def __init__(self) -> None:
        self.values: dict[str, JSONValue] = {}

    def get(self, app: str, key: str) -> JSONValue | None:
        assert app == "mileage"
        return self.values.get(key)

    def apply(self, writes: Any) -> None:
        for key, value in writes.items():
            if value is None:
                self.values.pop(key, None)
            else:
                self.values[key] = value


def setup_entries() -> list[Entry]:
    entries = [
        sign_entry(
            "mileage.programme",
            {
                "programme": name,
                "authority": signer_did(AUTHORITY.public_key),
                "points": points,
                "coins": coins,
            },
            OFFICE,
            time=T0,
        )
        for name, (points, coins) in RATES.items()
    ]
    entries += [
        sign_entry("mileage.merchant", {"merchant": m, "kind": "voucher"}, OFFICE, time=T0)
        for m in MERCHANTS
    ]
    return entries


@dataclass
class Model:
    """An independent account book: what the rules say should happen."""

    points: dict[tuple[str, str], int] = field(default_factory=dict)
    coins: dict[str, int] = field(default_factory=dict)
    pending: dict[str, list[int]] = field(default_factory=lambda: {m: [0, 0] for m in MERCHANTS})
    spent: dict[str, int] = field(default_factory=lambda: dict.fromkeys(MERCHANTS, 0))
    settled: dict[str, int] = field(default_factory=lambda: dict.fromkeys(MERCHANTS, 0))
    periods: set[tuple[str, str]] = field(default_factory=set)
    keys: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    minted: int = 0

    def run(self, signer: str, kind: str, body: dict[str, Any]) -> Code | None:
        """Apply an operation to the model; return the refusal code, or None."""
        slot = (signer, body["key"])
        identity = (kind, repr(sorted(body.items())))
        if slot in self.keys:
            return (
                Code.ALREADY_APPLIED if self.keys[slot] == identity else Code.IDEMPOTENCY_KEY_REUSED
            )
        code = self._run(signer, kind, body)
        if code is None:
            self.keys[slot] = identity
        return code

    def _run(self, signer: str, kind: str, body: dict[str, Any]) -> Code | None:
        if kind == "accrue":
            slot = (body["account"], body["programme"])
            self.points[slot] = self.points.get(slot, 0) + body["amount"]
        elif kind == "convert":
            rate_points, rate_coins = RATES[body["programme"]]
            if body["points"] * rate_coins != body["coins"] * rate_points:
                return Code.RATE_MISMATCH
            slot = (signer, body["programme"])
            if self.points.get(slot, 0) < body["points"]:
                return Code.INSUFFICIENT_BALANCE
            self.points[slot] -= body["points"]
            self.coins[signer] = self.coins.get(signer, 0) + body["coins"]
            self.minted += body["coins"]
        elif kind in ("spend", "transfer"):
            if self.coins.get(signer, 0) < body["amount"]:
                return Code.INSUFFICIENT_BALANCE
            self.coins[signer] -= body["amount"]
            if kind == "transfer":
                self.coins[body["to"]] = self.coins.get(body["to"], 0) + body["amount"]
            else:
                self.pending[body["merchant"]][0] += body["amount"]
                self.pending[body["merchant"]][1] += 1
                self.spent[body["merchant"]] += body["amount"]
        else:
            merchant = body["merchant"]
            if (merchant, body["period"]) in self.periods:
                return Code.ALREADY_EXISTS
            if [body["amount"], body["spends"]] != self.pending[merchant]:
                return Code.SETTLEMENT_MISMATCH
            self.periods.add((merchant, body["period"]))
            self.settled[merchant] += body["amount"]
            self.pending[merchant] = [0, 0]
        return None

    def expected_state(self) -> dict[str, JSONValue]:
        """The balances and merchant records the application should hold."""
        out: dict[str, JSONValue] = {}
        for (account, programme), amount in self.points.items():
            if amount:
                out[f"points/{account}/{programme}"] = amount
        for account, amount in self.coins.items():
            if amount:
                out[f"coins/{account}"] = amount
        for m in self.pending:
            out[f"merchant/{m}"] = {
                "kind": "voucher",
                "pending": self.pending[m][0],
                "pending_spends": self.pending[m][1],
                "spent": self.spent[m],
                "settled": self.settled[m],
            }
        return out


account_index = st.integers(0, len(ACCOUNTS) - 1)
amounts = st.integers(1, 60)
operations = st.one_of(
    st.tuples(st.just("accrue"), account_index, st.sampled_from(sorted(RATES)), amounts, KEYS),
    st.tuples(st.just("convert"), account_index, st.sampled_from(sorted(RATES)), amounts, KEYS),
    st.tuples(st.just("spend"), account_index, st.sampled_from(MERCHANTS), amounts, KEYS),
    st.tuples(st.just("transfer"), account_index, account_index, amounts, KEYS),
    st.tuples(st.just("settle"), st.sampled_from(MERCHANTS), st.sampled_from(["p1", "p2", "p3"]),
              st.integers(-1, 1), KEYS),
    st.tuples(st.just("retry"), st.integers(0, 200)),
)  # fmt: skip


def to_operation(
    model: Model, op: tuple[Any, ...]
) -> tuple[PrivateKey, str, dict[str, Any]] | None:
    """Turn a drawn tuple into (signing key, kind, body); None for an impossible transfer."""
    kind = op[0]
    if kind == "accrue":
        return AUTHORITY, kind, {"programme": op[2], "account": DIDS[op[1]], "amount": op[3],
                                 "key": op[4]}  # fmt: skip
    if kind == "convert":
        rate_points, rate_coins = RATES[op[2]]
        coins = op[3] * rate_coins // rate_points
        if coins == 0:
            coins = 1  # a conversion the rate does not allow: refused with rate_mismatch
        return ACCOUNTS[op[1]], kind, {"programme": op[2], "points": op[3], "coins": coins,
                                       "key": op[4]}  # fmt: skip
    if kind == "spend":
        return ACCOUNTS[op[1]], kind, {"merchant": op[2], "amount": op[3], "key": op[4]}
    if kind == "transfer":
        if op[1] == op[2]:
            return None
        return ACCOUNTS[op[1]], kind, {"to": DIDS[op[2]], "amount": op[3], "key": op[4]}
    amount, spends = model.pending[op[1]]
    # Usually the true totals; sometimes one off, which must be refused.
    return OFFICE, kind, {"merchant": op[1], "period": op[2], "amount": max(0, amount + op[3]),
                          "spends": spends, "key": op[4]}  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(operations, max_size=40))
def test_application_state_follows_the_model_and_replays(ops: list[tuple[Any, ...]]) -> None:
    """Random operations: state equals the model, never negative, conserved, replayable."""
    app, state, model = MileageApp(), MemoryState(), Model()
    accepted: list[Entry] = []
    for entry in setup_entries():
        app.validate(entry)
        state.apply(app.apply(state, entry, len(accepted)))
        accepted.append(entry)
    done: list[tuple[PrivateKey, str, dict[str, Any]]] = []
    for step, op in enumerate(ops):
        if op[0] == "retry":
            if not done:
                continue
            operation: tuple[PrivateKey, str, dict[str, Any]] | None = done[op[1] % len(done)]
        else:
            operation = to_operation(model, op)
        if operation is None:
            continue
        key, kind, body = operation
        done.append(operation)
        # Every attempt is signed afresh (a new time): a retry is never the same entry.
        entry = sign_entry(f"mileage.{kind}", body, key, time=T0 + 1 + step)
        expected = model.run(entry.signer, kind, body)
        app.validate(entry)
        writes, refusal = attempt(lambda e=entry: app.apply(state, e, len(accepted)))
        assert refusal is expected, (kind, body)
        if writes is None:
            continue
        state.apply(writes)
        accepted.append(entry)
        balances = {k: v for k, v in state.values.items() if k.startswith(("coins/", "points/"))}
        assert all(isinstance(v, int) and v > 0 for v in balances.values())
    live = {
        k: v for k, v in state.values.items() if k.startswith(("coins/", "points/", "merchant/"))
    }
    assert live == model.expected_state()
    held = sum(v for k, v in state.values.items() if k.startswith("coins/"))
    assert model.minted == held + sum(model.spent.values())
    for m in MERCHANTS:
        record = state.values[f"merchant/{m}"]
        assert isinstance(record, dict)
        assert record["settled"] + record["pending"] == record["spent"]
    replayed = MemoryState()
    for index, entry in enumerate(accepted):
        replayed.apply(app.apply(replayed, entry, index))
    assert replayed.values == state.values


ledger_operations = st.lists(
    st.one_of(
        st.tuples(st.just("accrue"), account_index, amounts, KEYS),
        st.tuples(st.just("convert"), account_index, amounts, KEYS),
        st.tuples(st.just("spend"), account_index, amounts, KEYS),
        st.tuples(st.just("transfer"), account_index, account_index, amounts, KEYS),
        st.tuples(st.just("settle"), KEYS),
    ),
    max_size=15,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ledger_operations)
def test_ledger_balances_match_model_and_survive_rebuild(ops: list[tuple[Any, ...]]) -> None:
    """On a real SQLite ledger: retries apply once, balances match, rebuild changes nothing."""
    clock = FixedClock(datetime.fromtimestamp(T0, UTC))
    with tempfile.TemporaryDirectory() as tmp:
        ledger = Ledger.open("sqlite:" + os.path.join(tmp, "l.db"), clock=clock)
        try:
            ledger.genesis(
                origin="props.seoul.example",
                operator=OFFICE,
                grants={
                    signer_did(OFFICE.public_key): ["mileage.programme", "mileage.merchant",
                                                    "mileage.settle"],
                    signer_did(AUTHORITY.public_key): ["mileage.accrue"],
                },
            )  # fmt: skip
            accounts = MileageAccounts(ledger, clock=clock)
            accounts.register_programme(OFFICE, "eco", authority=signer_did(AUTHORITY.public_key))
            accounts.register_merchant(OFFICE, "gift", kind="voucher")
            model = Model(pending={"gift": [0, 0]}, spent={"gift": 0}, settled={"gift": 0})
            for n, op in enumerate(ops):
                clock.advance(timedelta(seconds=1))
                _ledger_step(accounts, model, op, f"period-{n}")
            expected = model.expected_state()
            for did in DIDS:
                balance = accounts.balance(did)
                assert balance.coins == expected.get(f"coins/{did}", 0)
                assert balance.points.get("eco", 0) == expected.get(f"points/{did}/eco", 0)
                assert balance.coins >= 0
            before = [accounts.balance(d) for d in DIDS], accounts.merchant("gift")
            ledger.rebuild()
            assert ([accounts.balance(d) for d in DIDS], accounts.merchant("gift")) == before
        finally:
            ledger.close()


def _ledger_step(accounts: MileageAccounts, model: Model, op: tuple[Any, ...], period: str) -> None:
    kind = op[0]
    if kind == "settle":
        key = OFFICE
        body: dict[str, Any] = {"merchant": "gift", "period": period, "key": op[1]}
        slot = (signer_did(OFFICE.public_key), op[1])
        if slot in model.keys:
            return  # the model's settlement identity depends on totals; retries are tested above
        body.update(amount=model.pending["gift"][0], spends=model.pending["gift"][1])
        expected = model.run(signer_did(key.public_key), kind, body)
        result = accounts.settle(key, merchant="gift", period=period, idempotency_key=op[1])
        assert expected is None
        assert not result.duplicate
        return
    if kind == "accrue":
        key, body = AUTHORITY, {"programme": "eco", "account": DIDS[op[1]], "amount": op[2],
                                "key": op[3]}  # fmt: skip
        call = lambda: accounts.accrue(  # noqa: E731
            key, programme="eco", account=DIDS[op[1]], amount=op[2], idempotency_key=op[3]
        )
    elif kind == "convert":
        key, body = ACCOUNTS[op[1]], {"programme": "eco", "points": op[2], "coins": op[2],
                                      "key": op[3]}  # fmt: skip
        call = lambda: accounts.convert(  # noqa: E731
            key, programme="eco", points=op[2], idempotency_key=op[3]
        )
    elif kind == "spend":
        key, body = ACCOUNTS[op[1]], {"merchant": "gift", "amount": op[2], "key": op[3]}
        call = lambda: accounts.spend(  # noqa: E731
            key, merchant="gift", amount=op[2], idempotency_key=op[3]
        )
    else:
        if op[1] == op[2]:
            return
        key, body = ACCOUNTS[op[1]], {"to": DIDS[op[2]], "amount": op[3], "key": op[4]}
        call = lambda: accounts.transfer(  # noqa: E731
            key, to=DIDS[op[2]], amount=op[3], idempotency_key=op[4]
        )
    expected = model.run(signer_did(key.public_key), kind, body)
    receipt, refusal = attempt(call)
    if receipt is None:
        assert refusal is expected, (kind, body)
        return
    # A retry of an applied operation comes back as a duplicate, not as a refusal.
    assert expected in (None, Code.ALREADY_APPLIED), (kind, body, expected)
    assert receipt.duplicate is (expected is Code.ALREADY_APPLIED)
