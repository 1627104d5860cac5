"""Integrated mileage and S-Coin: accrue, convert, spend, transfer, settle (plan item 2-3).

Room: mileage. The record types and their rules live in
:mod:`seoul_vc.ledger.apps.mileage`; :class:`MileageAccounts` is the API above them.

* Five city programmes (eco, car-free, ETAX, citizen health, homepage) are *authorities*:
  each is registered with the DID that accrues its points and its conversion rate to
  S-Coin (1:1 by default), and its signer must also hold the ``mileage.accrue`` grant.
* An account is a pseudonymous, self-certifying DID (did:key or did:jwk) whose key the
  citizen's wallet holds; the citizen signs their own conversions, spends and transfers.
  No personal data is on the ledger.
* Amounts are integers; no balance goes negative, under any number of concurrent writers,
  because every check runs inside the ledger's append transaction.
* Every operation carries an idempotency key: a retry (re-signed or not) applies once and
  comes back as a receipt with ``duplicate=True`` and the original index.
* Balances and settlements are derived state: :meth:`~seoul_vc.ledger.log.Ledger.rebuild`
  replays the log to the same values.

Example:
    >>> import os, tempfile
    >>> from seoul_vc.keys import PrivateKey
    >>> from seoul_vc.ledger.entry import signer_did
    >>> from seoul_vc.ledger.log import Ledger
    >>> from seoul_vc.mileage import MileageAccounts
    >>> operator, eco, citizen = (PrivateKey.generate() for _ in range(3))
    >>> account = signer_did(citizen.public_key)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     ledger = Ledger.open("sqlite:" + os.path.join(tmp, "ledger.db"))
    ...     _ = ledger.genesis(origin="mileage.seoul.example", operator=operator, grants={
    ...         signer_did(operator.public_key): ["mileage.programme", "mileage.merchant"],
    ...         signer_did(eco.public_key): ["mileage.accrue"]})
    ...     accounts = MileageAccounts(ledger)
    ...     _ = accounts.register_programme(operator, "eco", authority=signer_did(eco.public_key))
    ...     _ = accounts.register_merchant(operator, "tmoney", kind="transit")
    ...     _ = accounts.accrue(eco, programme="eco", account=account, amount=500,
    ...                         idempotency_key="eco-2026-01-0001")
    ...     _ = accounts.convert(citizen, programme="eco", points=300, idempotency_key="c1")
    ...     _ = accounts.spend(citizen, merchant="tmoney", amount=120, idempotency_key="s1")
    ...     again = accounts.spend(citizen, merchant="tmoney", amount=120, idempotency_key="s1")
    ...     balance = accounts.balance(account)
    ...     ledger.close()
    >>> (balance.coins, balance.points, again.duplicate)
    (180, {'eco': 200}, True)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from seoul_vc._json import JSONObject, JSONValue
from seoul_vc.clock import Clock, SystemClock
from seoul_vc.errors import Code, InternalError, StateConflictError
from seoul_vc.keys import PrivateKey
from seoul_vc.ledger.apps.mileage import (
    ACCRUE,
    CONVERT,
    MAX_AMOUNT,
    MERCHANT,
    MERCHANT_KINDS,
    PROGRAMME,
    SETTLE,
    SPEND,
    TRANSFER,
    coins_key,
    points_key,
)
from seoul_vc.ledger.entry import sign_entry, signer_did

if TYPE_CHECKING:
    from seoul_vc.ledger.log import Ledger

__all__ = [
    "MAX_AMOUNT",
    "MERCHANT_KINDS",
    "PROGRAMMES",
    "Balance",
    "Merchant",
    "MileageAccounts",
    "MileageReceipt",
    "Programme",
    "Settlement",
]

#: The city's five mileage programmes (eco, car-free, ETAX, citizen health, homepage).
PROGRAMMES: Final = ("eco", "car-free", "etax", "health", "homepage")
_APP: Final = "mileage"
_SETTLE_ATTEMPTS: Final = 5


@dataclass(frozen=True, slots=True, kw_only=True)
class MileageReceipt:
    """The outcome of one operation.

    Attributes:
        type: the record type (``mileage.spend``...).
        index: the log index where the operation was applied.
        duplicate: a retry: the operation had been applied before at ``index``.
        idempotency_key: the operation's key (``None`` for registrations).
    """

    type: str
    index: int
    duplicate: bool
    idempotency_key: str | None = None

    def to_json(self) -> JSONObject:
        """Return the receipt as JSON."""
        return {
            "type": self.type,
            "index": self.index,
            "duplicate": self.duplicate,
            "idempotency_key": self.idempotency_key,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Balance:
    """An account's S-Coin and its points per programme (programmes with points only)."""

    account: str
    coins: int
    points: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> JSONObject:
        """Return the balance as JSON."""
        points: dict[str, JSONValue] = dict(self.points)
        return {"account": self.account, "coins": self.coins, "points": points}


@dataclass(frozen=True, slots=True, kw_only=True)
class Programme:
    """A registered programme: who accrues its points, and its rate to S-Coin."""

    name: str
    authority: str
    points: int
    coins: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Merchant:
    """A registered merchant and its spend totals.

    Attributes:
        merchant: its id; kind: transit, voucher, donation or local_tax.
        pending: S-Coin spent since the last settlement; pending_spends: how many spends.
        spent: all S-Coin ever spent there; settled: all S-Coin ever settled.
    """

    merchant: str
    kind: str
    pending: int
    pending_spends: int
    spent: int
    settled: int

    def to_json(self) -> JSONObject:
        """Return the merchant's totals as JSON."""
        return {
            "merchant": self.merchant,
            "kind": self.kind,
            "pending": self.pending,
            "pending_spends": self.pending_spends,
            "spent": self.spent,
            "settled": self.settled,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Settlement:
    """A merchant settlement entry: the period's total and count of spends."""

    merchant: str
    period: str
    amount: int
    spends: int
    index: int
    duplicate: bool

    def to_json(self) -> JSONObject:
        """Return the settlement as JSON."""
        return {
            "merchant": self.merchant,
            "period": self.period,
            "amount": self.amount,
            "spends": self.spends,
            "index": self.index,
            "duplicate": self.duplicate,
        }


def _int(value: JSONValue | None) -> int:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int):
        raise InternalError(Code.INTERNAL, "a mileage amount in state is not an integer")
    return value


class MileageAccounts:
    """Accounts, programmes and merchants on one ledger.

    Args:
        ledger: the ledger (its applications must include ``MileageApp``, the default).
        clock: the time source of the entries this object signs.
    """

    def __init__(self, ledger: Ledger, *, clock: Clock | None = None) -> None:
        self._ledger = ledger
        self._clock = clock or SystemClock()

    def _now(self) -> int:
        return int(self._clock.now().timestamp())

    def _submit(
        self, type_: str, body: JSONObject, signer: PrivateKey, key: str | None = None
    ) -> MileageReceipt:
        entry = sign_entry(type_, body, signer, time=self._now())
        try:
            receipt = self._ledger.append(entry)
        except StateConflictError as exc:
            earlier = exc.details.get("index")
            if exc.code is not Code.ALREADY_APPLIED or not isinstance(earlier, int):
                raise
            return MileageReceipt(type=type_, index=earlier, duplicate=True, idempotency_key=key)
        return MileageReceipt(
            type=type_, index=receipt.index, duplicate=receipt.duplicate, idempotency_key=key
        )

    # -- registrations -------------------------------------------------------------------------
    def register_programme(
        self, signer: PrivateKey, programme: str, *, authority: str, points: int = 1, coins: int = 1
    ) -> MileageReceipt:
        """Register or update a programme: its accruing authority and its rate.

        ``points`` programme points convert to ``coins`` S-Coin. Signed by a holder of the
        ``mileage.programme`` grant.

        Raises:
            MalformedInputError: a bad name, authority DID or rate.
            PolicyError: ``untrusted_signer`` without the grant.
        """
        body: JSONObject = {
            "programme": programme,
            "authority": authority,
            "points": points,
            "coins": coins,
        }
        return self._submit(PROGRAMME, body, signer)

    def register_merchant(self, signer: PrivateKey, merchant: str, *, kind: str) -> MileageReceipt:
        """Register a merchant (``transit``, ``voucher``, ``donation``, ``local_tax``).

        Raises:
            MalformedInputError: a bad id or kind.
            PolicyError: ``untrusted_signer`` without the ``mileage.merchant`` grant.
        """
        return self._submit(MERCHANT, {"merchant": merchant, "kind": kind}, signer)

    # -- operations ----------------------------------------------------------------------------
    def accrue(
        self, signer: PrivateKey, *, programme: str, account: str, amount: int, idempotency_key: str
    ) -> MileageReceipt:
        """Accrue programme points to an account; signed by the programme's authority.

        Raises:
            StateConflictError: ``unknown_programme``, ``idempotency_key_reused``.
            PolicyError: ``untrusted_signer`` if the signer is not the programme's authority
                or lacks the ``mileage.accrue`` grant.
            MalformedInputError: a bad account DID, amount or key.
        """
        body: JSONObject = {
            "programme": programme,
            "account": account,
            "amount": amount,
            "key": idempotency_key,
        }
        return self._submit(ACCRUE, body, signer, idempotency_key)

    def convert(
        self, signer: PrivateKey, *, programme: str, points: int, idempotency_key: str
    ) -> MileageReceipt:
        """Convert the signer's programme points to S-Coin at the programme's current rate.

        Raises:
            StateConflictError: ``rate_mismatch`` if ``points`` does not convert to a whole
                number of S-Coin (or the rate changed meanwhile), ``insufficient_balance``,
                ``unknown_programme``, ``idempotency_key_reused``.
        """
        rate = self.programme(programme)
        coins, rest = divmod(points * rate.coins, rate.points)
        if rest:
            raise StateConflictError(
                Code.RATE_MISMATCH,
                "these points do not convert to whole S-Coin",
                rate_points=rate.points,
                rate_coins=rate.coins,
            )
        body: JSONObject = {
            "programme": programme,
            "points": points,
            "coins": coins,
            "key": idempotency_key,
        }
        return self._submit(CONVERT, body, signer, idempotency_key)

    def spend(
        self, signer: PrivateKey, *, merchant: str, amount: int, idempotency_key: str
    ) -> MileageReceipt:
        """Spend the signer's S-Coin at a registered merchant.

        Raises:
            StateConflictError: ``insufficient_balance``, ``unknown_merchant``,
                ``idempotency_key_reused``.
        """
        body: JSONObject = {"merchant": merchant, "amount": amount, "key": idempotency_key}
        return self._submit(SPEND, body, signer, idempotency_key)

    def transfer(
        self, signer: PrivateKey, *, to: str, amount: int, idempotency_key: str
    ) -> MileageReceipt:
        """Transfer the signer's S-Coin to another account.

        Raises:
            StateConflictError: ``insufficient_balance``, ``idempotency_key_reused``.
            MalformedInputError: a transfer to oneself or to a bad DID.
        """
        body: JSONObject = {"to": to, "amount": amount, "key": idempotency_key}
        return self._submit(TRANSFER, body, signer, idempotency_key)

    def settle(
        self, signer: PrivateKey, *, merchant: str, period: str, idempotency_key: str
    ) -> Settlement:
        """Settle a merchant's unsettled spends as one period (grant ``mileage.settle``).

        Reads the pending total and count and appends them; the ledger checks they still
        match inside the append, and a spend that lands in between makes this read and try
        again (up to five times). A retry with the same key returns the earlier settlement.

        Raises:
            StateConflictError: ``unknown_merchant``, ``already_exists`` (period settled),
                ``settlement_mismatch`` under a sustained stream of spends.
            PolicyError: ``untrusted_signer`` without the grant.
        """
        done = self._ledger.state(_APP, f"idem/{signer_did(signer.public_key)}/{idempotency_key}")
        if isinstance(done, dict):
            return self._settlement_at(_int(done.get("index")))
        for attempt in range(_SETTLE_ATTEMPTS):
            totals = self.merchant(merchant)
            body: JSONObject = {
                "merchant": merchant,
                "period": period,
                "amount": totals.pending,
                "spends": totals.pending_spends,
                "key": idempotency_key,
            }
            try:
                receipt = self._submit(SETTLE, body, signer, idempotency_key)
            except StateConflictError as exc:
                if exc.code is Code.SETTLEMENT_MISMATCH and attempt + 1 < _SETTLE_ATTEMPTS:
                    continue
                raise
            if receipt.duplicate:
                return self._settlement_at(receipt.index)
            return Settlement(
                merchant=merchant,
                period=period,
                amount=totals.pending,
                spends=totals.pending_spends,
                index=receipt.index,
                duplicate=False,
            )
        raise InternalError(Code.INTERNAL, "settlement attempts ran out")  # pragma: no cover

    def _settlement_at(self, index: int) -> Settlement:
        body = self._ledger.entry(index).body
        return Settlement(
            merchant=str(body["merchant"]),
            period=str(body["period"]),
            amount=_int(body["amount"]),
            spends=_int(body["spends"]),
            index=index,
            duplicate=True,
        )

    # -- reading -------------------------------------------------------------------------------
    def programmes(self) -> list[str]:
        """Return the registered programme names, sorted."""
        names = self._ledger.state(_APP, "programmes")
        return [str(n) for n in names] if isinstance(names, list) else []

    def programme(self, name: str) -> Programme:
        """Return a registered programme.

        Raises:
            StateConflictError: ``unknown_programme``.
        """
        value = self._ledger.state(_APP, f"programme/{name}")
        if not isinstance(value, dict):
            raise StateConflictError(Code.UNKNOWN_PROGRAMME, "no programme by that name")
        return Programme(
            name=name,
            authority=str(value["authority"]),
            points=_int(value["points"]),
            coins=_int(value["coins"]),
        )

    def merchant(self, merchant: str) -> Merchant:
        """Return a registered merchant's totals.

        Raises:
            StateConflictError: ``unknown_merchant``.
        """
        value = self._ledger.state(_APP, f"merchant/{merchant}")
        if not isinstance(value, dict):
            raise StateConflictError(Code.UNKNOWN_MERCHANT, "no merchant by that id")
        return Merchant(
            merchant=merchant,
            kind=str(value["kind"]),
            pending=_int(value["pending"]),
            pending_spends=_int(value["pending_spends"]),
            spent=_int(value["spent"]),
            settled=_int(value["settled"]),
        )

    def balance(self, account: str) -> Balance:
        """Return an account's S-Coin and non-zero programme points (as of the last commit).

        Cost: one state read per registered programme, plus one.
        """
        points = {}
        for name in self.programmes():
            amount = _int(self._ledger.state(_APP, points_key(account, name)))
            if amount:
                points[name] = amount
        coins = _int(self._ledger.state(_APP, coins_key(account)))
        return Balance(account=account, coins=coins, points=points)
