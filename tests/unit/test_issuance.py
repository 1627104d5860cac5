"""The issuer's OpenID4VCI state: single use, expiry, transaction codes, races, sealing."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from seoul_vc.clock import FixedClock
from seoul_vc.credentials import Issuer, TrustRegistry, Verifier, present
from seoul_vc.credentials.oid4vci import PRE_AUTHORIZED_GRANT, format_key_proof
from seoul_vc.credentials.schemas import example_subject
from seoul_vc.errors import (
    Code,
    ConfigurationError,
    MalformedInputError,
    NotFoundError,
    PolicyError,
    SeoulVCError,
    StateConflictError,
)
from seoul_vc.issuance import MAX_TX_CODE_TRIES, CreatedOffer, IssuanceService
from seoul_vc.keys import PrivateKey
from seoul_vc.status import DirectorySource, StatusChecker, StatusRegistry, StatusType

IDENTIFIER = "https://vc.seoul.example"
BASE = IDENTIFIER + "/status"


@dataclass
class World:
    service: IssuanceService
    registry: StatusRegistry
    issuer: Issuer
    clock: FixedClock
    folder: Path


def _open(url: str, status_url: str, clock: FixedClock, folder: Path) -> World:
    issuer = Issuer(PrivateKey.generate(), clock=clock)
    registry = StatusRegistry(status_url, issuer=issuer, base_url=BASE)
    service = IssuanceService(
        url, issuer=issuer, credential_issuer=IDENTIFIER, status=registry, clock=clock
    )
    return World(service, registry, issuer, clock, folder)


@pytest.fixture
def world(tmp_path: Path, clock: FixedClock) -> Iterator[World]:
    """An issuer on SQLite with a status registry and a fixed clock."""
    opened = _open(
        f"sqlite:{tmp_path / 'issuer.db'}", f"sqlite:{tmp_path / 'status.db'}", clock, tmp_path
    )
    yield opened
    opened.service.close()
    opened.registry.close()


def _form(created: CreatedOffer, tx_code: str | None = None) -> dict[str, str]:
    form = {
        "grant_type": PRE_AUTHORIZED_GRANT,
        "pre-authorized_code": created.offer.pre_authorized_code,
    }
    code = tx_code if tx_code is not None else created.tx_code
    if code is not None:
        form["tx_code"] = code
    return form


def _request(world: World, holder: PrivateKey, configuration: str, nonce: str) -> dict[str, Any]:
    now = int(world.clock.now().timestamp())
    proof = format_key_proof(holder, audience=IDENTIFIER, nonce=nonce, iat=now)
    return {"credential_configuration_id": configuration, "proofs": {"jwt": [proof]}}


def _raises(code: Code, call: Callable[[], object]) -> SeoulVCError:
    with pytest.raises(SeoulVCError) as caught:
        call()
    assert caught.value.code is code
    return caught.value


def test_issued_credential_verifies_with_its_published_status(world: World) -> None:
    """The whole library flow; the credential and its status list verify under the issuer."""
    created = world.service.create_offer("IncomeCredential", example_subject("income"))
    token = world.service.token(_form(created))
    holder = PrivateKey.generate("ES256")
    issued = world.service.credential(
        token.access_token, _request(world, holder, "IncomeCredential", world.service.nonce())
    )
    assert issued.format == "dc+sd-jwt"
    assert world.registry.status_of(issued.status) is StatusType.VALID
    world.registry.write_to(world.folder / "lists", world.registry.publish(everything=True))
    checker = StatusChecker(
        source=DirectorySource(world.folder / "lists", base_url=BASE), clock=world.clock
    )
    trust = TrustRegistry.from_json(
        {"issuers": [{"id": world.issuer.did, "types": ["IncomeCredential"]}]}
    )
    verifier = Verifier(trust=trust, status=checker, clock=world.clock)
    nonce = verifier.new_nonce()
    now = int(world.clock.now().timestamp())
    shown = present(issued.credential, holder, aud="a", nonce=nonce, iat=now)
    assert verifier.check(shown, aud="a", nonce=nonce).error is None
    state = world.service.offer_state(created.offer_id)
    assert (state.state, state.status) == ("issued", issued.status)


def test_vc_jwt_profile_gets_bitstring_entries(world: World) -> None:
    """<Type>_vc+jwt issues a vc+jwt whose credentialStatus are two Bitstring entries."""
    created = world.service.create_offer("ResidencyCredential_vc+jwt", example_subject("residency"))
    token = world.service.token(_form(created))
    issued = world.service.credential(
        token.access_token,
        _request(world, PrivateKey.generate(), "ResidencyCredential_vc+jwt", world.service.nonce()),
    )
    assert issued.format == "vc+jwt"
    assert isinstance(issued.status, list)
    assert [entry["statusPurpose"] for entry in issued.status] == ["revocation", "suspension"]  # type: ignore[index]


def test_every_secret_is_stored_hashed_and_the_subject_sealed(world: World) -> None:
    """No code, tx_code, token, nonce or claim value appears in the store's bytes."""
    subject = example_subject("residency")
    created = world.service.create_offer("ResidencyCredential", subject, tx_code=True)
    assert created.tx_code is not None
    token = world.service.token(_form(created))
    nonce = world.service.nonce()
    stored = b"".join(p.read_bytes() for p in world.folder.glob("issuer.db*"))
    for secret in (created.offer.pre_authorized_code, created.tx_code, token.access_token, nonce):
        assert secret.encode() not in stored
    assert b"Seo-yeon" not in stored
    assert "마포구".encode() not in stored


def test_pre_authorized_code_is_single_use_and_replay_revokes_its_token(world: World) -> None:
    """RFC 6749 §4.1.2 applied to the pre-authorized code."""
    created = world.service.create_offer("IncomeCredential", example_subject("income"))
    token = world.service.token(_form(created))
    error = _raises(Code.INVALID_GRANT, lambda: world.service.token(_form(created)))
    assert error.details["reason"] == "used"
    request = _request(world, PrivateKey.generate(), "IncomeCredential", world.service.nonce())
    _raises(Code.UNAUTHORIZED, lambda: world.service.credential(token.access_token, request))
    assert world.service.offer_state(created.offer_id).state == "invalidated"


def test_codes_tokens_and_nonces_expire(world: World) -> None:
    """The offer, the access token and the c_nonce each stop working at their expiry."""
    expiring = world.service.create_offer(
        "IncomeCredential", example_subject("income"), expires_in=timedelta(seconds=30)
    )
    nonce = world.service.nonce()
    world.clock.advance(timedelta(seconds=30))
    error = _raises(Code.INVALID_GRANT, lambda: world.service.token(_form(expiring)))
    assert error.details["reason"] == "expired"
    assert world.service.offer_state(expiring.offer_id).state == "expired"
    world.clock.advance(timedelta(minutes=10))  # the nonce's life (Limits.nonce_ttl)
    fresh = world.service.create_offer("IncomeCredential", example_subject("income"))
    token = world.service.token(_form(fresh))
    request = _request(world, PrivateKey.generate(), "IncomeCredential", nonce)
    _raises(Code.INVALID_NONCE, lambda: world.service.credential(token.access_token, request))
    world.clock.advance(timedelta(minutes=5))  # the token's life
    request = _request(world, PrivateKey.generate(), "IncomeCredential", world.service.nonce())
    _raises(Code.UNAUTHORIZED, lambda: world.service.credential(token.access_token, request))
    assert world.service.offer_state(fresh.offer_id).state == "expired"


def test_transaction_code_tries_are_limited(world: World) -> None:
    """Wrong codes count; the last allowed wrong one invalidates the offer (§13.6.3)."""
    created = world.service.create_offer(
        "IncomeCredential", example_subject("income"), tx_code=True
    )
    assert created.tx_code is not None
    assert created.tx_code.isdigit()
    assert len(created.tx_code) == 6
    wrong = "000000" if created.tx_code != "000000" else "111111"
    _raises(Code.MALFORMED, lambda: world.service.token(_form(created, tx_code="")))
    for _ in range(MAX_TX_CODE_TRIES - 1):
        error = _raises(Code.INVALID_GRANT, lambda: world.service.token(_form(created, wrong)))
        assert error.details["reason"] == "tx_code"
    error = _raises(Code.INVALID_GRANT, lambda: world.service.token(_form(created, wrong)))
    assert error.details["reason"] == "tx_code_exhausted"
    _raises(Code.INVALID_GRANT, lambda: world.service.token(_form(created)))


def test_token_form_rules(world: World) -> None:
    """grant_type, code and tx_code rules of §6.1/§6.3; unknown parameters ignored."""
    created = world.service.create_offer("IncomeCredential", example_subject("income"))
    form = _form(created)
    _raises(Code.MALFORMED, lambda: world.service.token({**form, "grant_type": ""}))
    _raises(Code.UNSUPPORTED_GRANT_TYPE, lambda: world.service.token({**form, "grant_type": "x"}))
    _raises(Code.MALFORMED, lambda: world.service.token({**form, "tx_code": "123456"}))
    _raises(Code.MALFORMED, lambda: world.service.token({**form, "authorization_details": "[]"}))
    _raises(Code.MALFORMED, lambda: world.service.token({**form, "client_id": "a\nb"}))
    assert world.service.token({**form, "scope": "ignored"}).expires_in == 300


def test_c_nonce_is_single_use_across_offers(world: World) -> None:
    """A c_nonce used once is invalid_nonce for every later request."""
    nonce = world.service.nonce()
    tokens = []
    for _ in range(2):
        created = world.service.create_offer("IncomeCredential", example_subject("income"))
        tokens.append(world.service.token(_form(created)).access_token)
    world.service.credential(
        tokens[0], _request(world, PrivateKey.generate(), "IncomeCredential", nonce)
    )
    request = _request(world, PrivateKey.generate(), "IncomeCredential", nonce)
    _raises(Code.INVALID_NONCE, lambda: world.service.credential(tokens[1], request))


def test_forged_nonces_are_refused(world: World) -> None:
    """A nonce not made by this issuer (or flipped by one bit) is invalid_nonce."""
    created = world.service.create_offer("IncomeCredential", example_subject("income"))
    token = world.service.token(_form(created)).access_token
    real = world.service.nonce()
    flipped = real[:-2] + ("A" if real[-2] != "A" else "B") + real[-1]
    for nonce in ("forged", flipped, "A" * 54):
        request = _request(world, PrivateKey.generate(), "IncomeCredential", nonce)
        _raises(Code.INVALID_NONCE, lambda r=request: world.service.credential(token, r))  # type: ignore[misc]


def test_offers_are_checked_when_made(world: World) -> None:
    """Unknown configuration, schema violations, an id in the subject, bad lifetimes."""
    service = world.service
    with pytest.raises(NotFoundError) as caught:
        service.create_offer("NoSuchCredential", {})
    assert caught.value.code is Code.UNKNOWN_CREDENTIAL_CONFIGURATION
    with pytest.raises(MalformedInputError) as bad:
        service.create_offer("IncomeCredential", {"incomeBracketPercent": "high"})
    assert bad.value.code is Code.SCHEMA_VIOLATION
    with pytest.raises(ConfigurationError):
        service.create_offer("IncomeCredential", {**example_subject("income"), "id": "did:x:1"})
    with pytest.raises(ConfigurationError):
        service.create_offer("IncomeCredential", example_subject("income"), expires_in=timedelta(0))


def test_status_changes_by_offer_and_by_claim(world: World) -> None:
    """set_status takes the offer id or the credential's status claim."""
    created = world.service.create_offer("IncomeCredential", example_subject("income"))
    token = world.service.token(_form(created))
    issued = world.service.credential(
        token.access_token,
        _request(world, PrivateKey.generate(), "IncomeCredential", world.service.nonce()),
    )
    assert world.service.set_status(created.offer_id, "suspend") is StatusType.SUSPENDED
    assert world.service.set_status(issued.status, "reinstate") is StatusType.VALID
    assert world.service.set_status(created.offer_id, "revoke") is StatusType.INVALID
    with pytest.raises(StateConflictError):
        world.service.set_status(created.offer_id, "reinstate")
    pending = world.service.create_offer("IncomeCredential", example_subject("income"))
    with pytest.raises(NotFoundError):
        world.service.set_status(pending.offer_id, "revoke")


def test_lists_are_republished_when_half_expired(world: World) -> None:
    """Serving a list that has lived half its validity re-signs it first."""
    created = world.service.create_offer("IncomeCredential", example_subject("income"))
    token = world.service.token(_form(created))
    issued = world.service.credential(
        token.access_token,
        _request(world, PrivateKey.generate(), "IncomeCredential", world.service.nonce()),
    )
    assert isinstance(issued.status, dict)
    uri = issued.status["status_list"]["uri"]  # type: ignore[index,call-overload]
    first = world.service.status_list(uri)
    world.clock.advance(timedelta(hours=11))
    assert world.service.status_list(uri).version == first.version
    world.clock.advance(timedelta(hours=2))
    assert world.service.status_list(uri).version == first.version + 1


def test_an_https_issuer_offers_dc_sd_jwt_only(tmp_path: Path, clock: FixedClock) -> None:
    """An Issuer with an HTTPS issuer_id cannot sign vc+jwt, so it does not offer it."""
    issuer = Issuer(PrivateKey.generate(), issuer_id=IDENTIFIER, clock=clock)
    service = IssuanceService(
        f"sqlite:{tmp_path / 'i.db'}", issuer=issuer, credential_issuer=IDENTIFIER
    )
    try:
        assert {c.format for c in service.configurations.values()} == {"dc+sd-jwt"}
    finally:
        service.close()


def test_bad_construction_is_refused(tmp_path: Path) -> None:
    """The identifier is an https URL; lifetimes are bounded."""
    issuer = Issuer(PrivateKey.generate())
    url = f"sqlite:{tmp_path / 'i.db'}"
    with pytest.raises(ConfigurationError):
        IssuanceService(url, issuer=issuer, credential_issuer="http://vc.seoul.example")
    with pytest.raises(ConfigurationError):
        IssuanceService(
            url, issuer=issuer, credential_issuer=IDENTIFIER, token_ttl=timedelta(days=1)
        )


# -- races ----------------------------------------------------------------------------------------


def _race(count: int, call: Callable[[int], object]) -> list[object]:
    barrier = threading.Barrier(count)
    results: list[object] = [None] * count

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = call(i)
        except SeoulVCError as exc:
            results[i] = exc.code

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def _token_race(world: World) -> None:
    created = world.service.create_offer("IncomeCredential", example_subject("income"))
    results = _race(8, lambda _: world.service.token(_form(created)))
    winners = [r for r in results if not isinstance(r, Code)]
    assert len(winners) == 1
    assert sorted(set(map(str, results)) - {str(winners[0])}) == ["invalid_grant"]


def test_one_code_gives_one_token_under_a_race(world: World) -> None:
    """Eight threads redeem one code: exactly one gets a token."""
    _token_race(world)


def test_one_token_gives_one_credential_under_a_race(world: World) -> None:
    """Eight threads with one access token and their own proofs: one credential is issued."""
    created = world.service.create_offer("IncomeCredential", example_subject("income"))
    token = world.service.token(_form(created)).access_token
    requests = [
        _request(world, PrivateKey.generate(), "IncomeCredential", world.service.nonce())
        for _ in range(8)
    ]
    results = _race(8, lambda i: world.service.credential(token, requests[i]))
    issued = [r for r in results if not isinstance(r, Code)]
    assert len(issued) == 1
    assert {r for r in results if isinstance(r, Code)} == {Code.UNAUTHORIZED}


def test_one_code_gives_one_token_on_postgresql(
    pg_schema_url: str, tmp_path: Path, clock: FixedClock
) -> None:
    """The same race with the issuer's tables in PostgreSQL."""
    opened = _open(pg_schema_url, pg_schema_url, clock, tmp_path)
    try:
        _token_race(opened)
    finally:
        opened.service.close()
        opened.registry.close()


def test_refusals_have_their_families(world: World) -> None:
    """invalid_grant is a policy refusal, invalid_nonce a state conflict."""
    created = world.service.create_offer("IncomeCredential", example_subject("income"))
    world.service.token(_form(created))
    with pytest.raises(PolicyError):
        world.service.token(_form(created))
    token = world.service.token(
        _form(world.service.create_offer("IncomeCredential", example_subject("income")))
    )
    with pytest.raises(StateConflictError):
        world.service.credential(
            token.access_token, _request(world, PrivateKey.generate(), "IncomeCredential", "x")
        )
