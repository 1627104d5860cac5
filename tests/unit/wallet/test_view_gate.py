"""A view resolves no DID for a request that cannot be the consent's.

``WalletService.view`` needs no PIN and consent ids are on the public ledger, so the library
loads the consent and holds the request's claimed verifier (``client_id``, unverified)
against it before anything is resolved: no caller can make the service fetch the did:web
document of a host the consent does not name. Runs on SQLite and PostgreSQL (``world``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from wallet_world import ASKED, FAST_PIN, PIN, RESIDENCY, World

from https_server import did_document
from seoul_vc import Code, PrivateKey, SeoulVCError
from seoul_vc.did import MethodResolver
from seoul_vc.did.document import parse_did_document
from seoul_vc.wallet import CredentialQuery, WalletService, create_request
from seoul_vc.wallet.request import claimed_verifier

AGENCY_WEB = "did:web:agency.seoul.example"
STRANGER_WEB = "did:web:stranger.example"


class RecordingResolver:
    """Serves the did:web documents it is given (others locally) and records every call."""

    def __init__(self, documents: dict[str, dict[str, object]]) -> None:
        self.calls: list[str] = []
        self.documents = documents
        self.local = MethodResolver()

    def resolve(self, did: str) -> Any:
        self.calls.append(did)
        if did in self.documents:
            return parse_did_document(self.documents[did], did=did)  # type: ignore[arg-type]
        return self.local.resolve(did)


@pytest.fixture
def agency_web_key() -> PrivateKey:
    """The key of the agency's did:web."""
    return PrivateKey.generate()


@pytest.fixture
def resolver(agency_web_key: PrivateKey) -> RecordingResolver:
    """A resolver that knows the agency's did:web and records every resolution."""
    return RecordingResolver({AGENCY_WEB: did_document(AGENCY_WEB, agency_web_key.public_key)})


@pytest.fixture
def service(world: World, resolver: RecordingResolver) -> Iterator[WalletService]:
    """The world's wallet store and ledger, served with the recording resolver."""
    wallets = WalletService(
        world.wallet_url,
        ledger=world.ledger,
        master_key=world.master_key,
        trust=world.trust,
        log_signer=world.log,
        resolver=resolver,
        clock=world.clock,
        pin_cost=FAST_PIN,
    )
    yield wallets
    wallets.close()


def _request(world: World, key: PrivateKey, *, did: str, kid: str | None = None) -> str:
    query = CredentialQuery(id="residency", vct_values=(RESIDENCY.vct,), claims=ASKED)
    return create_request(
        key,
        nonce=world.agency.new_nonce(),
        purpose="Youth housing: residency in Seoul",
        credentials=(query,),
        iat=int(world.clock.now().timestamp()),
        did=did,
        kid=kid or f"{did}#key-1",
    )


def _code(call: Any, *args: object) -> Code:
    with pytest.raises(SeoulVCError) as caught:
        call(*args)
    return caught.value.code


def test_request_of_another_did_web_verifier_is_refused_without_resolving(
    world: World, service: WalletService, resolver: RecordingResolver
) -> None:
    """A consent to agency A; a request naming did:web B is wrong_verifier, B is never fetched."""
    wallet, _ = world.citizen()
    consent = world.grant(wallet)
    forged = _request(world, PrivateKey.generate(), did=STRANGER_WEB)
    assert _code(service.view, wallet.id, consent, forged) == Code.WRONG_VERIFIER
    assert resolver.calls == []


def test_refusal_before_verification_is_recorded_nowhere(
    world: World, service: WalletService
) -> None:
    """An unverified request is not attributable: no ledger refusal, no history event."""
    wallet, _ = world.citizen()
    consent = world.grant(wallet)
    forged = _request(world, PrivateKey.generate(), did=STRANGER_WEB)
    _code(service.view, wallet.id, consent, forged)
    state = world.ledger.state("consent", f"c/{consent}")
    assert isinstance(state, dict)
    assert state["refusals"] == 0
    assert [e.kind for e in wallet.history(PIN)] == ["credential_received", "consent_granted"]


def test_view_of_unknown_consent_resolves_nothing(
    world: World, service: WalletService, resolver: RecordingResolver
) -> None:
    """An unknown consent (or wallet) is unknown_consent before the request is resolved."""
    wallet, _ = world.citizen()
    consent = world.grant(wallet)
    forged = _request(world, PrivateKey.generate(), did=STRANGER_WEB)
    assert _code(service.view, wallet.id, "A" * 22, forged) == Code.UNKNOWN_CONSENT
    assert _code(service.view, "B" * 16, consent, forged) == Code.UNKNOWN_CONSENT
    assert resolver.calls == []


def test_request_keyed_to_another_did_than_its_client_id_resolves_nothing(
    world: World, service: WalletService, resolver: RecordingResolver
) -> None:
    """Claiming the consent's verifier with a did:web kid is did_mismatch, nothing fetched."""
    wallet, _ = world.citizen()
    consent = world.grant(wallet)
    forged = _request(
        world, PrivateKey.generate(), did=world.agency_did, kid=f"{STRANGER_WEB}#key-1"
    )
    assert _code(service.view, wallet.id, consent, forged) == Code.DID_MISMATCH
    assert resolver.calls == []


def test_consents_own_did_web_verifier_is_resolved_and_served(
    world: World,
    service: WalletService,
    resolver: RecordingResolver,
    agency_web_key: PrivateKey,
) -> None:
    """The gate passes the consent's own did:web verifier: resolved, view 1 served."""
    wallet, _ = world.citizen()
    kid = f"{AGENCY_WEB}#{agency_web_key.public_key.to_multikey()}"  # its Multikey method
    grant = service.grant(
        wallet.id,
        PIN,
        _request(world, agency_web_key, did=AGENCY_WEB, kid=kid),
        claims={"residency": ["address.district"]},
        max_views=2,
        expires_at=world.clock.now() + timedelta(days=1),
    )
    resolver.calls.clear()
    forged = _request(world, PrivateKey.generate(), did=STRANGER_WEB)
    assert _code(service.view, wallet.id, grant.consent_id, forged) == Code.WRONG_VERIFIER
    shown = service.view(
        wallet.id, grant.consent_id, _request(world, agency_web_key, did=AGENCY_WEB, kid=kid)
    )
    assert (shown.view, shown.max_views) == (1, 2)
    assert resolver.calls == [AGENCY_WEB]


def test_claimed_verifier_is_the_client_id_did_or_none() -> None:
    """The unverified client_id DID of a readable request; None for an unreadable one."""
    token = create_request(
        PrivateKey.generate(),
        nonce="n-0S6_WzA2Mj",
        purpose="youth housing",
        credentials=(CredentialQuery(id="q", vct_values=("v",), claims=(("a",),)),),
        iat=1767225600,
        did=STRANGER_WEB,
        kid=f"{STRANGER_WEB}#key-1",
    )
    assert claimed_verifier(token) == STRANGER_WEB
    assert claimed_verifier("not.a.jwt") is None
