"""Views of a consent: exactly the consented claims, every refusal with its own code, history.

Runs on SQLite and PostgreSQL (the ``world`` fixture).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from wallet_world import PIN, World

from seoul_vc import Code, FixedClock, Issuer, PrivateKey, SeoulVCError
from seoul_vc.credentials.schemas import example_subject
from seoul_vc.status import DirectorySource, StatusChecker, StatusRegistry
from seoul_vc.wallet import disclosed_paths


def _refusal(world: World, wallet_view: object, *args: object) -> Code:
    with pytest.raises(SeoulVCError) as caught:
        wallet_view(*args)  # type: ignore[operator]
    return caught.value.code


def test_presentation_holds_only_consented_claims_when_more_were_asked(world: World) -> None:
    """The agency asked for name and birth date too; it sees district and ageOver19 only."""
    wallet, _ = world.citizen()
    consent = world.grant(wallet, ("address.district", "ageOver19"))
    token, nonce = world.request()
    shown = wallet.view(consent, token)
    (presentation,) = shown.vp_token["residency"]
    assert sorted(disclosed_paths(presentation)) == [("address", "district"), ("ageOver19",)]
    checked = world.check(shown, nonce)
    assert checked.claims["residency"] == {"address": {"district": "마포구"}, "ageOver19": True}
    assert (checked.view.view, checked.view.max_views) == (1, 3)


def test_fourth_view_of_three_is_refused_and_recorded(world: World) -> None:
    """Views 1-3 pass with k of N; the fourth is consent_exhausted, in the history too."""
    wallet, _ = world.citizen()
    consent = world.grant(wallet, max_views=3)
    for k in (1, 2, 3):
        token, nonce = world.request()
        assert world.check(wallet.view(consent, token), nonce).view.view == k
    token, _ = world.request()
    assert _refusal(world, wallet.view, consent, token) == Code.CONSENT_EXHAUSTED
    events = wallet.history(PIN)
    assert [e.details.get("view") for e in events if e.kind == "view"] == [1, 2, 3]
    assert [e.details["reason"] for e in events if e.kind == "refusal"] == ["consent_exhausted"]


def test_expired_consent_is_refused(world: World) -> None:
    """A view after expires_at is consent_expired."""
    wallet, _ = world.citizen()
    consent = world.grant(wallet, lifetime=timedelta(hours=1))
    world.clock.advance(timedelta(hours=2))
    token, _ = world.request()
    assert _refusal(world, wallet.view, consent, token) == Code.CONSENT_EXPIRED


def test_withdrawn_consent_is_refused(world: World) -> None:
    """A view after the citizen withdrew is consent_withdrawn."""
    wallet, _ = world.citizen()
    consent = world.grant(wallet)
    wallet.withdraw(PIN, consent)
    token, _ = world.request()
    assert _refusal(world, wallet.view, consent, token) == Code.CONSENT_WITHDRAWN


def test_other_verifier_is_refused(world: World) -> None:
    """Another agency's signed request cannot spend this agency's consent: wrong_verifier."""
    wallet, _ = world.citizen()
    consent = world.grant(wallet)
    token, _ = world.request(key=PrivateKey.generate(), nonce="other-agency-nonce-1")
    assert _refusal(world, wallet.view, consent, token) == Code.WRONG_VERIFIER


def test_replayed_nonce_is_refused(world: World) -> None:
    """The same request (same nonce) a second time is nonce_replayed, not a second view."""
    wallet, _ = world.citizen()
    consent = world.grant(wallet)
    token, _ = world.request()
    wallet.view(consent, token)
    assert _refusal(world, wallet.view, consent, token) == Code.NONCE_REPLAYED


def test_unsigned_or_tampered_request_is_refused(world: World) -> None:
    """A request whose signature fails is refused before anything is recorded."""
    wallet, _ = world.citizen()
    consent = world.grant(wallet)
    token, _ = world.request()
    head, payload, sig = token.split(".")
    tampered = f"{head}.{payload}.{sig[:-4]}AAAA"
    with pytest.raises(SeoulVCError) as caught:
        wallet.view(consent, tampered)
    assert caught.value.code in {Code.INVALID_SIGNATURE, Code.INVALID_ENCODING}
    assert world.ledger.state("consent", f"c/{consent}")["views"] == 0  # type: ignore[index]


def test_each_refusal_has_its_own_code_in_history(world: World) -> None:
    """Replay, wrong verifier, exhaustion, withdrawal: four codes, four history entries."""
    wallet, _ = world.citizen()
    consent = world.grant(wallet, max_views=1)
    token, _ = world.request()
    wallet.view(consent, token)
    codes = [_refusal(world, wallet.view, consent, token)]
    other, _ = world.request(key=PrivateKey.generate(), nonce="other-agency-nonce-2")
    codes.append(_refusal(world, wallet.view, consent, other))
    codes.append(_refusal(world, wallet.view, consent, world.request()[0]))
    wallet.withdraw(PIN, consent)
    codes.append(_refusal(world, wallet.view, consent, world.request()[0]))
    expected = ["nonce_replayed", "wrong_verifier", "consent_exhausted", "consent_withdrawn"]
    assert [str(c) for c in codes] == expected
    refusals = [e for e in wallet.history(PIN) if e.kind == "refusal"]
    assert [e.details["reason"] for e in refusals] == expected
    assert refusals[1].details["verifier"] != refusals[0].details["verifier"]


def test_consent_beyond_the_request_is_refused(world: World) -> None:
    """The citizen cannot consent to a claim the agency did not ask for."""
    wallet, _ = world.citizen()
    token, _ = world.request()
    with pytest.raises(SeoulVCError) as caught:
        wallet.grant(
            PIN,
            token,
            claims={"residency": ["personPseudonym"]},
            max_views=1,
            expires_at=world.clock.now() + timedelta(days=1),
        )
    assert caught.value.code == Code.CLAIM_NOT_REQUESTED


def test_receipt_for_another_nonce_is_refused(world: World) -> None:
    """The agency refuses a presentation whose receipt records another nonce."""
    wallet, _ = world.citizen()
    consent = world.grant(wallet)
    first = wallet.view(consent, world.request()[0])
    token, nonce = world.request()
    second = wallet.view(consent, token)
    swapped = type(second)(vp_token=second.vp_token, receipt=first.receipt, view=1, max_views=3)
    with pytest.raises(SeoulVCError) as caught:
        world.check(swapped, nonce)
    assert caught.value.code == Code.RECEIPT_MISMATCH


def test_history_lists_every_kind_of_event(world: World) -> None:
    """Received, granted, viewed (who, which claims, k of N), refused, withdrawn."""
    wallet, cid = world.citizen()
    consent = world.grant(wallet, max_views=1)
    wallet.view(consent, world.request()[0])
    with pytest.raises(SeoulVCError):
        wallet.view(consent, world.request()[0])
    wallet.withdraw(PIN, consent)
    events = wallet.history(PIN)
    kinds = [e.kind for e in events]
    assert kinds == [
        "credential_received",
        "consent_granted",
        "view",
        "refusal",
        "consent_withdrawn",
    ]
    view = events[2].details
    assert view["verifier"] == world.agency_did
    assert view["claims"] == {"residency": ["address.district", "ageOver19"]}
    assert (view["view"], view["max_views"]) == (1, 1)
    assert events[0].details["credential_id"] == cid


def test_revoked_credential_view_is_refused_and_recorded(
    urls: tuple[str, str], world_clock: FixedClock, tmp_path: Path
) -> None:
    """A credential revoked after the consent: the view is refused with revoked, in history."""
    base = "https://status.seoul.example/lists"
    lists = tmp_path / "lists"
    lists.mkdir()
    checker = StatusChecker(source=DirectorySource(str(lists), base_url=base), clock=world_clock)
    world = World(*urls, world_clock, status=checker)
    try:
        registry = StatusRegistry(
            f"sqlite:{tmp_path / 'status.db'}",
            issuer=world.ministry,
            base_url=base,
        )
        slot = registry.allocate("dc+sd-jwt")
        registry.write_to(str(lists), registry.publish())
        wallet, cid = world.citizen(status=slot.status_claim())  # type: ignore[arg-type]
        consent = world.grant(wallet)
        token, nonce = world.request()
        world.check(wallet.view(consent, token), nonce)
        world.clock.advance(timedelta(minutes=30))  # past the cached list's lifetime
        registry.revoke(slot)
        registry.write_to(str(lists), registry.publish())
        token, _ = world.request()
        with pytest.raises(SeoulVCError) as caught:
            wallet.view(consent, token)
        assert caught.value.code == Code.REVOKED
        events = wallet.history(PIN)
        assert [e.kind for e in events][-2:] == ["credential_revoked", "refusal"]
        assert events[-1].details["reason"] == "revoked"
        assert events[-2].details["credential_id"] == cid
        registry.close()
    finally:
        world.close()


def test_credential_from_untrusted_issuer_is_not_stored(world: World) -> None:
    """Receipt runs the pipeline: an issuer without authority is refused, nothing stored."""
    wallet = world.service.create(PIN)
    rogue = Issuer(PrivateKey.generate(), clock=world.clock)
    token = rogue.issue(
        "ResidencyCredential", example_subject("residency"), holder=wallet.holder_public_key
    )
    with pytest.raises(SeoulVCError) as caught:
        wallet.receive(token)
    assert caught.value.code == Code.UNTRUSTED_ISSUER
    assert wallet.credentials(PIN) == []


def test_credential_bound_to_another_key_is_not_stored(world: World) -> None:
    """A credential for another holder key is refused on receipt."""
    wallet = world.service.create(PIN)
    token = world.ministry.issue(
        "ResidencyCredential",
        example_subject("residency"),
        holder=PrivateKey.generate("ES256").public_key,
    )
    with pytest.raises(SeoulVCError) as caught:
        wallet.receive(token)
    assert caught.value.code == Code.BAD_ARGUMENT


def test_views_do_not_replace_the_checkpoint_witnesses_cosign(world: World) -> None:
    """Each receipt has its own covering checkpoint; the ledger's published one stays put."""
    wallet, _ = world.citizen()
    consent = world.grant(wallet, max_views=3)
    published = world.ledger.checkpoint(world.log)
    for k in (1, 2):
        token, nonce = world.request()
        shown = wallet.view(consent, token)
        assert world.check(shown, nonce).view.view == k
    assert world.ledger.latest_checkpoint() == published
    # The receipt's checkpoint covers the view, which the published one does not.
    assert shown.receipt.view.checkpoint != published
