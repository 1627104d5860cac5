"""The mileage application: programme points, S-Coin, spending, transfer, settlement.

Room: mileage (the integrated "S-Coin" mileage, plan item 2-3). Amounts are integers (points
and S-Coin units) from 1 to 2**53 - 1 (I-JSON, RFC 7493 §2.2); no balance ever goes
negative; every money-moving operation carries an idempotency ``key`` and applies at most
once per signer and key. Accounts are pseudonymous: an account *is* a self-certifying DID
(did:key or did:jwk) whose key the citizen's wallet holds — no personal data on the ledger.

Record types, who signs them, and their bodies:

* ``mileage.programme`` (grant ``mileage.programme``, the city's mileage administrator):
  ``{"programme": NAME, "authority": DID, "points": int, "coins": int}`` registers or
  updates a programme (eco, car-free, etax, health, homepage...): the DID that accrues its
  points and its conversion rate, ``points`` programme points to ``coins`` S-Coin (1:1 by
  default). ``NAME`` is 1 to 32 of ``a-z0-9_-``, starting with a letter.
* ``mileage.merchant`` (grant ``mileage.merchant``): ``{"merchant": ID, "kind": KIND}``
  registers a merchant where S-Coin is spent; ``KIND`` is ``transit`` (card top-up),
  ``voucher``, ``donation`` or ``local_tax``.
* ``mileage.accrue`` (grant ``mileage.accrue``, and the signer must be the programme's
  authority): ``{"programme": NAME, "account": DID, "amount": int, "key": KEY}``.
* ``mileage.convert`` (signed by the account): ``{"programme": NAME, "points": int,
  "coins": int, "key": KEY}`` — exact at the current rate (``points * rate.coins ==
  coins * rate.points``), so the signer approves the outcome and nothing is rounded.
* ``mileage.spend`` (signed by the account): ``{"merchant": ID, "amount": int, "key": KEY}``.
* ``mileage.transfer`` (signed by the account): ``{"to": DID, "amount": int, "key": KEY}``.
* ``mileage.settle`` (grant ``mileage.settle``): ``{"merchant": ID, "period": ID,
  "amount": int, "spends": int, "key": KEY}`` — must equal the merchant's unsettled spend
  total and count exactly; it then starts the next period from zero. A period settles once.

State (``mileage`` namespace), all derived by replaying the log:

* ``programmes`` -> sorted names; ``programme/<NAME>`` -> ``{"authority", "points", "coins"}``;
* ``merchant/<ID>`` -> ``{"kind", "pending", "pending_spends", "spent", "settled"}``;
* ``settlement/<ID>/<PERIOD>`` -> index of the settlement entry;
* ``points/<DID>/<NAME>`` and ``coins/<DID>`` -> balances (absent means 0);
* ``idem/<signer DID>/<KEY>`` -> ``{"index", "op"}``: where the operation with this key was
  applied and the SHA-256 of its canonical ``{type, body}``. A retry of the same operation
  (re-signed, e.g. with a new time) is refused with ``already_applied`` naming that index,
  which :class:`seoul_vc.mileage.MileageAccounts` reports as a duplicate, not a failure.

Example:
    >>> from seoul_vc.ledger.apps.mileage import MileageApp
    >>> sorted(MileageApp().open_record_types)
    ['mileage.convert', 'mileage.spend', 'mileage.transfer']
"""

from __future__ import annotations

import hashlib
import re
from typing import Final

from seoul_vc import _json
from seoul_vc._json import JSONValue
from seoul_vc.errors import (
    Code,
    InternalError,
    MalformedInputError,
    PolicyError,
    StateConflictError,
)
from seoul_vc.ledger.app import StateReader, StateWrites
from seoul_vc.ledger.apps._body import malformed as _malformed
from seoul_vc.ledger.apps._body import match as _match
from seoul_vc.ledger.entry import Entry, public_key_of_signer

__all__ = [
    "ACCRUE",
    "CONVERT",
    "MAX_AMOUNT",
    "MERCHANT",
    "MERCHANT_KINDS",
    "PROGRAMME",
    "SETTLE",
    "SPEND",
    "TRANSFER",
    "MileageApp",
    "coins_key",
    "operation_digest",
    "points_key",
]

PROGRAMME: Final = "mileage.programme"
MERCHANT: Final = "mileage.merchant"
ACCRUE: Final = "mileage.accrue"
CONVERT: Final = "mileage.convert"
SPEND: Final = "mileage.spend"
TRANSFER: Final = "mileage.transfer"
SETTLE: Final = "mileage.settle"
#: The largest amount and balance: I-JSON integers are exact below 2**53 (RFC 7493 §2.2).
MAX_AMOUNT: Final = 2**53 - 1
MERCHANT_KINDS: Final = frozenset({"transit", "voucher", "donation", "local_tax"})
_NAME_RE: Final = re.compile(r"[a-z][a-z0-9_-]{0,31}")
_ID_RE: Final = re.compile(r"[A-Za-z0-9._:-]{1,64}")
_KEY_RE: Final = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_BODIES: Final[dict[str, frozenset[str]]] = {
    PROGRAMME: frozenset({"programme", "authority", "points", "coins"}),
    MERCHANT: frozenset({"merchant", "kind"}),
    ACCRUE: frozenset({"programme", "account", "amount", "key"}),
    CONVERT: frozenset({"programme", "points", "coins", "key"}),
    SPEND: frozenset({"merchant", "amount", "key"}),
    TRANSFER: frozenset({"to", "amount", "key"}),
    SETTLE: frozenset({"merchant", "period", "amount", "spends", "key"}),
}


def points_key(account: str, programme: str) -> str:
    """Return the state key of an account's points in a programme."""
    return f"points/{account}/{programme}"


def coins_key(account: str) -> str:
    """Return the state key of an account's S-Coin balance."""
    return f"coins/{account}"


def operation_digest(entry: Entry) -> str:
    """Return the hex SHA-256 of ``{type, body}`` in RFC 8785 form: the operation's identity.

    The signer's time and signature are left out, so a re-signed retry is the same operation.
    """
    return hashlib.sha256(_json.canonical({"type": entry.type, "body": entry.body})).hexdigest()


def _amount(value: object, field: str, *, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= MAX_AMOUNT:
        raise _malformed(f"{field} is an integer from {minimum} to 2**53 - 1", field)
    return value


def _usable_signer(did: str) -> bool:
    """Whether ``did`` is a did:key/did:jwk whose key can sign."""
    try:
        public_key_of_signer(did)
    except MalformedInputError:
        return False
    return True


def _account(value: object, field: str) -> str:
    # An account must be able to sign its own spends, or points accrued to it are lost.
    if not isinstance(value, str) or len(value) > 2048 or not _usable_signer(value):
        raise _malformed(f"{field} is an account DID (did:key or did:jwk)", field)
    return value


def _balance(state: StateReader, key: str) -> int:
    value = state.get("mileage", key)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InternalError(Code.INTERNAL, "a mileage balance in state is not a count")
    return value


def _int(value: JSONValue | None) -> int:
    """Read an integer this application validated or wrote before."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InternalError(Code.INTERNAL, "a mileage amount is not an integer")
    return value


def _stored(value: JSONValue | None) -> JSONValue | None:
    """A zero balance is stored as absent, so replayed and live state compare equal."""
    return None if value == 0 else value


def _credit(balance: int, amount: int) -> int:
    if balance + amount > MAX_AMOUNT:
        raise StateConflictError(Code.CONFLICT, "the balance would exceed 2**53 - 1")
    return balance + amount


def _debit(balance: int, amount: int, what: str) -> int:
    if amount > balance:
        raise StateConflictError(
            Code.INSUFFICIENT_BALANCE, f"the account holds too few {what}", needed=amount
        )
    return balance - amount


def _record(state: StateReader, slot: str, what: Code) -> dict[str, JSONValue]:
    value = state.get("mileage", slot)
    if not isinstance(value, dict):
        raise StateConflictError(what, f"no {slot.split('/', 1)[0]} by that name")
    return dict(value)


class MileageApp:
    """Programmes, merchants, balances and settlement; see the module docstring."""

    name = "mileage"
    record_types: frozenset[str] = frozenset(_BODIES)
    # The account's own key signs these; apply() needs no grant, the signer *is* the account.
    open_record_types: frozenset[str] = frozenset({CONVERT, SPEND, TRANSFER})

    def validate(self, entry: Entry) -> None:
        """Check body shapes (see the module docstring), statelessly.

        Raises:
            MalformedInputError: ``malformed`` naming the field.
        """
        body = entry.body
        names = _BODIES[entry.type]
        if set(body) != names:
            raise MalformedInputError(Code.MALFORMED, f"{entry.type} is {'/'.join(sorted(names))}")
        if "key" in body:
            _match(body["key"], _KEY_RE, "key", "1 to 128 of A-Za-z0-9._:-")
        if "programme" in body:
            _match(body["programme"], _NAME_RE, "programme", "a programme name")
        if "merchant" in body:
            _match(body["merchant"], _ID_RE, "merchant", "1 to 64 of A-Za-z0-9._:-")
        if entry.type == PROGRAMME:
            _account(body["authority"], "authority")
            _amount(body["points"], "points")
            _amount(body["coins"], "coins")
        elif entry.type == MERCHANT:
            if body["kind"] not in MERCHANT_KINDS:
                raise _malformed("kind is transit, voucher, donation or local_tax", "kind")
        elif entry.type == ACCRUE:
            _account(body["account"], "account")
            _amount(body["amount"], "amount")
        elif entry.type == CONVERT:
            _amount(body["points"], "points")
            _amount(body["coins"], "coins")
        elif entry.type == TRANSFER:
            if _account(body["to"], "to") == entry.signer:
                raise _malformed("a transfer goes to another account", "to")
            _amount(body["amount"], "amount")
        elif entry.type == SPEND:
            _amount(body["amount"], "amount")
        else:
            _match(body["period"], _ID_RE, "period", "1 to 64 of A-Za-z0-9._:-")
            _amount(body["amount"], "amount", minimum=0)
            _amount(body["spends"], "spends", minimum=0)

    def apply(self, state: StateReader, entry: Entry, index: int) -> StateWrites:
        """Apply one operation, or refuse it.

        Raises:
            StateConflictError: ``already_applied`` (same key, same operation: details
                ``index``), ``idempotency_key_reused``, ``insufficient_balance``,
                ``unknown_programme``, ``unknown_merchant``, ``rate_mismatch``,
                ``settlement_mismatch``, ``already_exists`` (period settled),
                ``conflict`` (a balance past 2**53 - 1).
            PolicyError: ``untrusted_signer`` for an accrual not by the programme's authority.
        """
        body = entry.body
        if entry.type == PROGRAMME:
            return self._programme(state, entry)
        if entry.type == MERCHANT:
            slot = f"merchant/{body['merchant']}"
            current = state.get(self.name, slot)
            record: dict[str, JSONValue] = (
                dict(current)
                if isinstance(current, dict)
                else {"pending": 0, "pending_spends": 0, "spent": 0, "settled": 0}
            )
            record["kind"] = body["kind"]
            return {slot: record}
        idem = f"idem/{entry.signer}/{body['key']}"
        digest = operation_digest(entry)
        earlier = state.get(self.name, idem)
        if isinstance(earlier, dict):
            if earlier.get("op") == digest:
                raise StateConflictError(
                    Code.ALREADY_APPLIED,
                    "this operation was applied before",
                    index=_int(earlier.get("index")),
                )
            raise StateConflictError(
                Code.IDEMPOTENCY_KEY_REUSED, "the key was used for another operation"
            )
        writes = self._operation(state, entry, index)
        writes[idem] = {"index": index, "op": digest}
        return writes

    def _programme(self, state: StateReader, entry: Entry) -> StateWrites:
        body = entry.body
        name = str(body["programme"])
        listed = state.get(self.name, "programmes")
        names = {str(n) for n in listed} if isinstance(listed, list) else set()
        writes: dict[str, JSONValue | None] = {
            f"programme/{name}": {
                "authority": body["authority"],
                "points": body["points"],
                "coins": body["coins"],
            }
        }
        if name not in names:
            writes["programmes"] = sorted(names | {name})
        return writes

    def _operation(
        self, state: StateReader, entry: Entry, index: int
    ) -> dict[str, JSONValue | None]:
        body = entry.body
        if entry.type == ACCRUE:
            programme = _record(state, f"programme/{body['programme']}", Code.UNKNOWN_PROGRAMME)
            if programme["authority"] != entry.signer:
                raise PolicyError(
                    Code.UNTRUSTED_SIGNER, "only the programme's authority accrues its points"
                )
            slot = points_key(str(body["account"]), str(body["programme"]))
            return {slot: _credit(_balance(state, slot), _int(body["amount"]))}
        if entry.type == CONVERT:
            programme = _record(state, f"programme/{body['programme']}", Code.UNKNOWN_PROGRAMME)
            points, coins = _int(body["points"]), _int(body["coins"])
            rate_points = _int(programme["points"])
            rate_coins = _int(programme["coins"])
            if points * rate_coins != coins * rate_points:
                raise StateConflictError(
                    Code.RATE_MISMATCH,
                    "points and coins differ from the programme's rate",
                    rate_points=rate_points,
                    rate_coins=rate_coins,
                )
            slot = points_key(entry.signer, str(body["programme"]))
            wallet = coins_key(entry.signer)
            return {
                slot: _stored(_debit(_balance(state, slot), points, "points")),
                wallet: _credit(_balance(state, wallet), coins),
            }
        amount = _int(body["amount"])
        if entry.type == TRANSFER:
            source, target = coins_key(entry.signer), coins_key(str(body["to"]))
            return {
                source: _stored(_debit(_balance(state, source), amount, "S-Coin")),
                target: _credit(_balance(state, target), amount),
            }
        slot = f"merchant/{body['merchant']}"
        merchant = _record(state, slot, Code.UNKNOWN_MERCHANT)
        pending = _int(merchant["pending"])
        pending_spends = _int(merchant["pending_spends"])
        if entry.type == SPEND:
            wallet = coins_key(entry.signer)
            merchant["pending"] = _credit(pending, amount)
            merchant["pending_spends"] = pending_spends + 1
            merchant["spent"] = _credit(_int(merchant["spent"]), amount)
            debited = _debit(_balance(state, wallet), amount, "S-Coin")
            return {wallet: _stored(debited), slot: merchant}
        period_slot = f"settlement/{body['merchant']}/{body['period']}"
        if state.get(self.name, period_slot) is not None:
            raise StateConflictError(Code.ALREADY_EXISTS, "this period is already settled")
        if amount != pending or body["spends"] != pending_spends:
            raise StateConflictError(
                Code.SETTLEMENT_MISMATCH,
                "the settlement differs from the unsettled spends",
                pending=pending,
                pending_spends=pending_spends,
            )
        merchant["pending"] = 0
        merchant["pending_spends"] = 0
        merchant["settled"] = _credit(_int(merchant["settled"]), amount)
        return {slot: merchant, period_slot: index}
