"""Who may act on a wallet: its PIN, with delays after failures and a lock after five.

Part of :mod:`seoul_vc.wallet.wallet`: :class:`_WalletPIN` checks the PIN that authorises
the citizen's own acts (see the module docstring there), counting failures, imposing
:data:`PIN_DELAYS` and locking after :data:`MAX_PIN_FAILURES`; it also changes the PIN.
The PIN is checked against a scrypt verifier sealed under the wallet's data key
(:func:`~seoul_vc.wallet.vault.check_pin`); it is never a key.
"""

from __future__ import annotations

from typing import Final

from seoul_vc import _json
from seoul_vc.errors import Code, PolicyError, StateConflictError, UnavailableError
from seoul_vc.wallet._store import _json_record, _WalletRecords
from seoul_vc.wallet.vault import check_pin, hash_pin

__all__ = ["MAX_PIN_FAILURES", "PIN_DELAYS", "check_not_locked"]

#: Wrong PINs in a row after which the wallet locks for good (restore a backup to recover).
MAX_PIN_FAILURES: Final = 5
#: Seconds to wait before the next PIN try after 1, 2, 3 and 4 wrong PINs in a row.
PIN_DELAYS: Final = (0, 5, 30, 120)
#: Times one PIN try is judged again when concurrent tries on its wallet keep changing the
#: count before it is recorded (each round is one scrypt).
_PIN_RACES: Final = 4


class _WalletPIN(_WalletRecords):
    """The PIN checks of a :class:`~seoul_vc.wallet.WalletService`."""

    # -- unlocking ---------------------------------------------------------------------------
    def _authorise(self, wallet_id: str, pin: str) -> None:
        """Check the PIN; count failures, impose delays, lock after five.

        scrypt (tens of milliseconds) runs outside any transaction: a write transaction is
        serialized across the whole store, so holding one for it would queue every wallet's
        PIN check behind every other. The check reads the PIN state, runs scrypt, then
        records the outcome in a short write transaction only if that state is unchanged;
        if another try (or a PIN change) came in between, this try is judged again against
        the new state, so concurrent tries are counted one by one, as sequential ones are.
        A right PIN with no failures to clear writes nothing.

        Raises:
            PolicyError: ``unlock_failed``.
            StateConflictError: ``wallet_locked`` (with ``retry_after`` while waiting).
            UnavailableError: ``unavailable`` when tries on this wallet keep racing.
        """
        for _ in range(_PIN_RACES):
            now = self._now()
            with self._store.read() as tx:
                key, row = self._data_key(tx, wallet_id)
            state = (str(row[1]), int(row[2]), int(row[3]))
            sealed, failures, failed_at = state
            check_not_locked(failures, failed_at, now)
            right = check_pin(pin, _json_record(key.open(sealed, context=f"{wallet_id}/pin")))
            if right and not failures:
                return
            with self._store.write() as tx:
                _, current = self._data_key(tx, wallet_id)
                if (str(current[1]), int(current[2]), int(current[3])) != state:
                    continue  # another try came in between: judge this one again
                tx.execute(
                    "UPDATE {p}wallet_wallets SET failures = ?, failed_at = ? WHERE wallet_id = ?",
                    (0, failed_at, wallet_id) if right else (failures + 1, now, wallet_id),
                )
            if right:
                return
            raise PolicyError(Code.UNLOCK_FAILED, "the PIN does not unlock the wallet")
        raise UnavailableError(Code.UNAVAILABLE, "too many PIN tries at once on this wallet")

    def change_pin(self, wallet_id: str, pin: str, new_pin: str) -> None:
        """Replace the PIN (the old one authorises; a wrong one counts as a failure)."""
        self._authorise(wallet_id, pin)
        verifier = hash_pin(new_pin, self._pin_cost)
        with self._store.write() as tx:
            key, _ = self._data_key(tx, wallet_id)
            sealed = key.seal(_json.canonical(verifier), context=f"{wallet_id}/pin")
            tx.execute(
                "UPDATE {p}wallet_wallets SET pin = ?, failures = 0 WHERE wallet_id = ?",
                (sealed, wallet_id),
            )


def check_not_locked(failures: int, failed_at: int, now: int) -> None:
    """Refuse a PIN try on a locked wallet, or before the wait after the last failure.

    Raises:
        StateConflictError: ``wallet_locked`` (with ``retry_after`` while waiting).
    """
    if failures >= MAX_PIN_FAILURES:
        raise StateConflictError(
            Code.WALLET_LOCKED, "the wallet is locked; restore it from a backup"
        )
    if failures and now < failed_at + PIN_DELAYS[failures - 1]:
        raise StateConflictError(
            Code.WALLET_LOCKED,
            "wait before the next PIN try",
            retry_after=failed_at + PIN_DELAYS[failures - 1] - now,
        )
