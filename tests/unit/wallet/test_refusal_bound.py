"""A consent records a bounded number of refusals, and strangers only the first few of them.

Consent ids are public on the ledger and anyone can sign a request with a fresh did:key, so
without a bound every such request would add a ledger entry for good. Past the bounds the
request is refused exactly as before, just not recorded. The ledger's consent application
holds the bounds inside its append transaction, so concurrent refusals cannot overshoot
them. They are lowered here so the test stays small (the real ones are tested in
``test_consent_app.py``). Runs on SQLite and PostgreSQL (``world``).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from wallet_world import PIN, World

from seoul_vc import Code, PrivateKey, SeoulVCError
from seoul_vc.ledger.apps import consent as consent_app
from seoul_vc.wallet import wallet as wallet_module
from seoul_vc.wallet.wallet import CitizenWallet

STRANGERS = 3
ALL = 5


@pytest.fixture(autouse=True)
def small_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    """Bounds of 3 (strangers) and 5 (everyone), where the ledger's application reads them."""
    monkeypatch.setattr(consent_app, "MAX_STRANGER_REFUSALS", STRANGERS)
    monkeypatch.setattr(consent_app, "MAX_REFUSALS", ALL)


def _refused(world: World, wallet: CitizenWallet, consent: str, key: PrivateKey | None) -> Code:
    token, _ = world.request(key=key)
    with pytest.raises(SeoulVCError) as caught:
        world.service.view(wallet.id, consent, token)
    return caught.value.code


def _recorded(world: World, wallet: CitizenWallet, consent: str) -> tuple[int, int]:
    """Refusals on the ledger and in the citizen's history."""
    state = world.ledger.state("consent", f"c/{consent}")
    assert isinstance(state, dict)
    history = [e for e in wallet.history(PIN) if e.kind == "refusal"]
    return state["refusals"], len(history)


def test_the_wallet_names_the_ledgers_bounds() -> None:
    """The wallet's exported bounds are the ledger application's (256 and 32)."""
    assert wallet_module.MAX_RECORDED_REFUSALS == 256
    assert wallet_module.MAX_RECORDED_STRANGER_REFUSALS == 32


def test_strangers_fill_only_their_places(world: World) -> None:
    """Ten did:key strangers are all refused wrong_verifier; only the first three are recorded."""
    wallet, _ = world.citizen()
    consent = world.grant(wallet)
    codes = [_refused(world, wallet, consent, PrivateKey.generate()) for _ in range(10)]
    assert codes == [Code.WRONG_VERIFIER] * 10
    assert _recorded(world, wallet, consent) == (STRANGERS, STRANGERS)


def test_concurrent_strangers_do_not_overshoot_the_bound(world: World) -> None:
    """Twelve strangers at once: every one refused, exactly three recorded, history agrees."""
    wallet, _ = world.citizen()
    consent = world.grant(wallet)
    keys = [PrivateKey.generate() for _ in range(12)]
    with ThreadPoolExecutor(max_workers=6) as pool:
        codes = list(pool.map(lambda k: _refused(world, wallet, consent, k), keys))
    assert codes == [Code.WRONG_VERIFIER] * 12
    assert _recorded(world, wallet, consent) == (STRANGERS, STRANGERS)


def test_the_consents_verifier_is_recorded_after_strangers_up_to_the_bound(
    world: World,
) -> None:
    """After the strangers' places, the agency's own refusals fill the rest, then stop."""
    wallet, _ = world.citizen()
    consent = world.grant(wallet, max_views=1)
    for _ in range(STRANGERS + 2):
        _refused(world, wallet, consent, PrivateKey.generate())
    token, _ = world.request()
    world.service.view(wallet.id, consent, token)  # the one view of the budget
    codes = [_refused(world, wallet, consent, None) for _ in range(4)]
    assert codes == [Code.CONSENT_EXHAUSTED] * 4
    assert _recorded(world, wallet, consent) == (ALL, ALL)
    # A stranger is still refused, and still not recorded.
    assert _refused(world, wallet, consent, PrivateKey.generate()) == Code.WRONG_VERIFIER
    assert _recorded(world, wallet, consent) == (ALL, ALL)


def test_a_replayed_request_is_recorded_once(world: World) -> None:
    """The agency's request replayed five times: five refusals, one record (one per nonce)."""
    wallet, _ = world.citizen()
    consent = world.grant(wallet)
    token, _ = world.request()
    world.service.view(wallet.id, consent, token)  # the view that spends the nonce
    codes = []
    for _ in range(5):
        with pytest.raises(SeoulVCError) as caught:
            world.service.view(wallet.id, consent, token)
        codes.append(caught.value.code)
    assert codes == [Code.NONCE_REPLAYED] * 5
    assert _recorded(world, wallet, consent) == (1, 1)
