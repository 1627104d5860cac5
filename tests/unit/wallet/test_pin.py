"""The PIN authorises and locks out: increasing delays, locked after five wrong tries.

Time moves only through the injected FixedClock: nothing sleeps.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from wallet_world import PIN, World

from seoul_vc import Code, SeoulVCError
from seoul_vc.wallet.wallet import MAX_PIN_FAILURES, PIN_DELAYS


def _code(fn: object, *args: object) -> Code | None:
    try:
        fn(*args)  # type: ignore[operator]
    except SeoulVCError as exc:
        return exc.code
    return None


def test_wrong_pin_is_refused_with_one_opaque_code(world: World) -> None:
    """A wrong PIN is unlock_failed; the right one then works."""
    wallet = world.service.create(PIN)
    assert _code(wallet.credentials, "000000") == Code.UNLOCK_FAILED
    assert wallet.credentials(PIN) == []


def test_delays_grow_and_fifth_failure_locks(world: World) -> None:
    """Each failure imposes a longer wait; tries inside it are refused without counting."""
    wallet = world.service.create(PIN)
    for failures in range(1, MAX_PIN_FAILURES):
        assert _code(wallet.credentials, "000000") == Code.UNLOCK_FAILED
        delay = PIN_DELAYS[failures - 1]
        if delay:
            assert _code(wallet.credentials, PIN) == Code.WALLET_LOCKED
            world.clock.advance(timedelta(seconds=delay))
    assert list(PIN_DELAYS) == sorted(PIN_DELAYS)
    assert _code(wallet.credentials, "000000") == Code.UNLOCK_FAILED
    world.clock.advance(timedelta(days=365))
    assert _code(wallet.credentials, PIN) == Code.WALLET_LOCKED


def test_right_pin_resets_the_count(world: World) -> None:
    """Four failures, a success, then four more: still not locked."""
    wallet = world.service.create(PIN)
    for _ in range(2):
        for _ in range(MAX_PIN_FAILURES - 1):
            assert _code(wallet.credentials, "000000") == Code.UNLOCK_FAILED
            world.clock.advance(timedelta(minutes=10))
        assert wallet.credentials(PIN) == []


def test_pin_change_needs_the_old_pin(world: World) -> None:
    """Change the PIN; the old one stops working."""
    wallet = world.service.create(PIN)
    assert _code(wallet.change_pin, "999999", "111111") == Code.UNLOCK_FAILED
    wallet.change_pin(PIN, "111111")
    assert wallet.credentials("111111") == []
    assert _code(wallet.credentials, PIN) == Code.UNLOCK_FAILED


def test_views_need_no_pin_but_grants_do(world: World) -> None:
    """A locked wallet's consent still serves views; granting needs the PIN."""
    wallet, _ = world.citizen()
    consent = world.grant(wallet)
    for _ in range(MAX_PIN_FAILURES):
        _code(wallet.credentials, "000000")
        world.clock.advance(timedelta(minutes=10))
    token, nonce = world.request()
    assert world.check(wallet.view(consent, token), nonce).view.view == 1
    with pytest.raises(SeoulVCError) as caught:
        world.grant(wallet)
    assert caught.value.code == Code.WALLET_LOCKED


def _at_once(fn: object, args: list[tuple[object, ...]]) -> list[Code | None]:
    """Run ``fn(*a)`` for each ``a`` in threads released together; their codes."""
    barrier = threading.Barrier(len(args))

    def one(a: tuple[object, ...]) -> Code | None:
        barrier.wait()
        return _code(fn, *a)

    with ThreadPoolExecutor(len(args)) as pool:
        return list(pool.map(one, args))


def test_concurrent_wrong_tries_are_counted_as_sequential_ones(world: World) -> None:
    """Four wrong PINs at once: two count (no wait after the first), two meet the wait."""
    wallet = world.service.create(PIN)
    codes = _at_once(wallet.credentials, [("000000",)] * 4)
    assert sorted(codes) == sorted([Code.UNLOCK_FAILED] * 2 + [Code.WALLET_LOCKED] * 2)
    world.clock.advance(timedelta(seconds=PIN_DELAYS[1]))
    assert wallet.credentials(PIN) == []


def test_concurrent_right_tries_all_pass(world: World) -> None:
    wallet = world.service.create(PIN)
    assert _code(wallet.credentials, "000000") == Code.UNLOCK_FAILED  # one to clear
    assert _at_once(wallet.credentials, [(PIN,)] * 4) == [None] * 4


def test_a_right_pin_with_nothing_to_clear_takes_no_write_transaction(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Scrypt never runs inside a write transaction, which would queue every wallet's check."""
    wallet = world.service.create(PIN)
    store = world.service._store
    writes: list[int] = []
    real = store.write

    def counting() -> object:
        writes.append(1)
        return real()

    monkeypatch.setattr(store, "write", counting)
    assert wallet.credentials(PIN) == []
    assert writes == []
    assert _code(wallet.credentials, "000000") == Code.UNLOCK_FAILED
    assert len(writes) == 1  # the failure, recorded in a short transaction after scrypt
