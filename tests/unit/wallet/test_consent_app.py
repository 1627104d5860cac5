"""The consent application on the ledger: shapes, signer checks and the view budget."""

from __future__ import annotations

from pathlib import Path

import pytest

from seoul_vc import Code, FixedClock, Ledger, PrivateKey, SeoulVCError
from seoul_vc.ledger.apps.consent import (
    GRANT,
    MAX_REFUSALS,
    MAX_STRANGER_REFUSALS,
    REFUSAL,
    VIEW,
    WITHDRAW,
)
from seoul_vc.ledger.entry import sign_entry, signer_did

CONSENT = "AAAAAAAAAAAAAAAAAAAAAA"
HASH = "B" * 43
VERIFIER = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"


@pytest.fixture
def ledger(tmp_path: Path, clock: FixedClock) -> Ledger:
    """A ledger with its genesis."""
    log = Ledger.open(f"sqlite:{tmp_path / 'l.db'}", clock=clock)
    log.genesis(origin="consent.test", operator=PrivateKey.generate())
    return log


def _now(clock: FixedClock) -> int:
    return int(clock.now().timestamp())


def _grant(ledger: Ledger, holder: PrivateKey, clock: FixedClock, **body: object) -> None:
    fields: dict[str, object] = {
        "consent": CONSENT,
        "verifier": VERIFIER,
        "credentials": [{"ref": HASH, "claims": ["address.district"]}],
        "max_views": 2,
        "expires_at": _now(clock) + 3600,
    }
    fields.update(body)
    ledger.append(sign_entry(GRANT, fields, holder, time=_now(clock)))  # type: ignore[arg-type]


def _view(ledger: Ledger, key: PrivateKey, clock: FixedClock, k: int, nonce: str = HASH) -> None:
    body = {"consent": CONSENT, "view": k, "verifier": VERIFIER, "nonce_hash": nonce}
    ledger.append(sign_entry(VIEW, body, key, time=_now(clock)))


def _code(fn: object, *args: object, **kwargs: object) -> Code:
    with pytest.raises(SeoulVCError) as caught:
        fn(*args, **kwargs)  # type: ignore[operator]
    return caught.value.code


def test_budget_order_and_exhaustion(ledger: Ledger, clock: FixedClock) -> None:
    """Views 1 and 2 pass; a stale number is view_out_of_order; a third is consent_exhausted."""
    holder = PrivateKey.generate("ES256")
    _grant(ledger, holder, clock)
    _view(ledger, holder, clock, 1, "C" * 43)
    assert _code(_view, ledger, holder, clock, 1, "D" * 43) == Code.VIEW_OUT_OF_ORDER
    _view(ledger, holder, clock, 2, "D" * 43)
    assert _code(_view, ledger, holder, clock, 3, "E" * 43) == Code.CONSENT_EXHAUSTED


def test_only_the_holder_pseudonym_signs(ledger: Ledger, clock: FixedClock) -> None:
    """Another key cannot view, withdraw or record refusals for the consent."""
    holder, other = PrivateKey.generate("ES256"), PrivateKey.generate("ES256")
    _grant(ledger, holder, clock)
    assert _code(_view, ledger, other, clock, 1) == Code.UNTRUSTED_SIGNER
    entry = sign_entry(WITHDRAW, {"consent": CONSENT}, other, time=_now(clock))
    assert _code(ledger.append, entry) == Code.UNTRUSTED_SIGNER


def test_unknown_consent_and_duplicate_grant(ledger: Ledger, clock: FixedClock) -> None:
    """A view of nothing is unknown_consent; a second grant of one id is conflict."""
    holder = PrivateKey.generate()
    assert _code(_view, ledger, holder, clock, 1) == Code.UNKNOWN_CONSENT
    _grant(ledger, holder, clock)
    assert _code(_grant, ledger, holder, clock, max_views=3) == Code.CONFLICT


def test_claim_values_do_not_fit_the_grant_shape(ledger: Ledger, clock: FixedClock) -> None:
    """A grant carrying anything but claim paths (e.g. a value) is malformed."""
    holder = PrivateKey.generate()
    bad = [{"ref": HASH, "claims": ["address.district"], "values": ["마포구"]}]
    assert _code(_grant, ledger, holder, clock, credentials=bad) == Code.MALFORMED
    assert _code(_grant, ledger, holder, clock, secret="x") == Code.MALFORMED
    spaced = [{"ref": HASH, "claims": ["마포구 1"]}]
    assert _code(_grant, ledger, holder, clock, credentials=spaced) == Code.MALFORMED


def test_refusal_reason_must_be_a_refusal_code(ledger: Ledger, clock: FixedClock) -> None:
    """A refusal records one of the refusal codes, nothing free-form."""
    holder = PrivateKey.generate()
    _grant(ledger, holder, clock)
    body = {"consent": CONSENT, "verifier": VERIFIER, "nonce_hash": HASH, "reason": "hello"}
    entry = sign_entry(REFUSAL, body, holder, time=_now(clock))
    assert _code(ledger.append, entry) == Code.MALFORMED
    body["reason"] = "wrong_verifier"
    ledger.append(sign_entry(REFUSAL, body, holder, time=_now(clock)))
    state = ledger.state("consent", f"c/{CONSENT}")
    assert isinstance(state, dict)
    assert (state["refusals"], state["holder"]) == (1, signer_did(holder.public_key))


def test_state_replays_to_the_same_budget(ledger: Ledger, clock: FixedClock) -> None:
    """Rebuild replays grants and views to the same state."""
    holder = PrivateKey.generate()
    _grant(ledger, holder, clock)
    _view(ledger, holder, clock, 1)
    before = ledger.state("consent", f"c/{CONSENT}")
    ledger.rebuild()
    assert ledger.state("consent", f"c/{CONSENT}") == before


def test_refusals_are_bounded_and_strangers_fill_only_the_first_places(
    ledger: Ledger, clock: FixedClock
) -> None:
    """At the real bounds: 32 places for anyone, then only the consent's verifier, to 256."""
    holder = PrivateKey.generate()
    _grant(ledger, holder, clock)
    stranger = "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"

    nonces = iter(f"{n:043d}" for n in range(1000))  # distinct entries (same ones dedupe)

    def refuse(verifier: str) -> None:
        body = {"consent": CONSENT, "verifier": verifier, "nonce_hash": next(nonces)}
        body["reason"] = "wrong_verifier" if verifier == stranger else "consent_exhausted"
        ledger.append(sign_entry(REFUSAL, body, holder, time=_now(clock)))

    for _ in range(MAX_STRANGER_REFUSALS):
        refuse(stranger)
    assert _code(refuse, stranger) == Code.REFUSALS_FULL
    for _ in range(MAX_REFUSALS - MAX_STRANGER_REFUSALS):
        refuse(VERIFIER)
    assert _code(refuse, VERIFIER) == Code.REFUSALS_FULL
    assert _code(refuse, stranger) == Code.REFUSALS_FULL
    state = ledger.state("consent", f"c/{CONSENT}")
    assert isinstance(state, dict)
    assert state["refusals"] == MAX_REFUSALS == 256
    ledger.rebuild()
    assert ledger.state("consent", f"c/{CONSENT}") == state


def test_one_refusal_per_request(ledger: Ledger, clock: FixedClock) -> None:
    """A second refusal with the same nonce hash is refusals_full: replays add no record."""
    holder = PrivateKey.generate()
    _grant(ledger, holder, clock)
    body = {
        "consent": CONSENT,
        "verifier": VERIFIER,
        "nonce_hash": HASH,
        "reason": "nonce_replayed",
    }
    ledger.append(sign_entry(REFUSAL, body, holder, time=_now(clock)))
    body["reason"] = "consent_exhausted"  # another entry, the same request
    entry = sign_entry(REFUSAL, body, holder, time=_now(clock))
    assert _code(ledger.append, entry) == Code.REFUSALS_FULL
    state = ledger.state("consent", f"c/{CONSENT}")
    assert isinstance(state, dict)
    assert state["refusals"] == 1
