"""Revocation end to end on a real loopback HTTPS server, through the Verifier, anchored.

For each format (``vc+jwt`` in a ``vp+jwt``, ``vc+sd-jwt``, ``dc+sd-jwt``): issue with a status
entry from the registry -> present -> verify ok; revoke -> publish (signed, anchored on the
ledger and cosigned by a witness) -> serve -> verify fails with ``revoked``; suspend and
reinstate likewise (``suspended``, then ok again). The verifier runs in anchored mode: a
list whose hash is not the latest on the ledger (an older version, or a freshly signed list
that was never anchored) is refused with ``status_list_not_anchored``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from https_server import LocalCA, ServerState
from seoul_vc._net import GuardedFetcher
from seoul_vc.clock import FixedClock
from seoul_vc.credentials import Issuer, Verifier, present
from seoul_vc.credentials.schemas import example_subject
from seoul_vc.errors import Code
from seoul_vc.jose import encode_jwt
from seoul_vc.keys import PrivateKey
from seoul_vc.ledger.anchor import LedgerAnchor, LedgerAnchorCheck
from seoul_vc.ledger.checkpoint import CosignerKey, WitnessPolicy
from seoul_vc.ledger.entry import signer_did
from seoul_vc.ledger.log import Ledger
from seoul_vc.ledger.note import NoteSigner
from seoul_vc.ledger.witness import Witness
from seoul_vc.status import HTTPSSource, PublishedList, StatusChecker, StatusRegistry
from seoul_vc.status.registry import StatusAllocation

ORIGIN = "ledger.seoul.example/status-e2e"
AUD = "https://housing.seoul.example"


class City:
    """An issuing agency with a registry and a ledger, and a verifier in anchored mode."""

    def __init__(self, tmp: Path, server: ServerState, local_ca: LocalCA) -> None:
        self.server = server
        self.clock = FixedClock(datetime.now(UTC).replace(microsecond=0))
        self.agency = PrivateKey.generate()
        self.issuer = Issuer(self.agency, clock=self.clock)
        self.citizen = PrivateKey.generate("ES256")
        self.ledger = Ledger.open(f"sqlite:{tmp / 'ledger.db'}", clock=self.clock)
        self.ledger.genesis(
            origin=ORIGIN,
            operator=PrivateKey.generate(),
            grants={signer_did(self.agency.public_key): ["status.publish"]},
        )
        log = NoteSigner(ORIGIN, PrivateKey.generate())
        witness_key = CosignerKey("nhis.example/witness", PrivateKey.generate())
        witness = Witness(
            witness_key, logs={ORIGIN: log.verifier}, state_path=tmp / "w.json", clock=self.clock
        )
        self.anchor = LedgerAnchor(
            self.ledger, self.agency, log=log, witnesses=[witness], clock=self.clock
        )
        self.registry = StatusRegistry(
            f"sqlite:{tmp / 'status.db'}",
            issuer=self.issuer,
            base_url=f"https://localhost:{server.port}/lists",
            anchor=self.anchor,
        )
        fetcher = GuardedFetcher(
            timeout=timedelta(seconds=5),
            max_redirects=1,
            ssl_context=local_ca.client_context(),
            unsafe_allow_private_addresses=True,
        )
        self.checker = StatusChecker(
            source=HTTPSSource(fetcher),
            anchor=LedgerAnchorCheck(
                self.ledger,
                origin=ORIGIN,
                log_key=log.verifier,
                witnesses=WitnessPolicy(witnesses=(witness_key.verifier,), threshold=1),
                checkpoint=lambda: self.anchor.latest_checkpoint,
            ),
            clock=self.clock,
        )
        self.verifier = Verifier(
            issuer_key=self.agency.public_key, status=self.checker, clock=self.clock
        )
        self.fetcher = fetcher

    def serve(self, published: list[PublishedList]) -> None:
        for item in published:
            path = item.uri.split(f":{self.server.port}", 1)[1]
            self.server.serve(path, 200, item.token.encode(), Content_Type=item.media_type)

    def publish(self) -> list[PublishedList]:
        published = self.registry.publish()
        self.serve(published)
        # Past the 5-minute ttl, so the verifier fetches the new version.
        self.clock.advance(timedelta(minutes=6))
        return published

    def issue(self, fmt: str) -> tuple[str, StatusAllocation]:
        slot = self.registry.allocate(fmt)
        token = self.issuer.issue(
            "IncomeCredential",
            example_subject("income"),
            format=fmt,  # type: ignore[arg-type]
            holder=self.citizen.public_key,
            status=slot.status_claim(),
        )
        return token, slot

    def verify(self, token: str) -> Any:
        nonce = self.verifier.new_nonce()
        disclose = [] if "~" not in token else ["householdSize"]
        shown = present(
            token,
            self.citizen,
            disclose=disclose,
            aud=AUD,
            nonce=nonce,
            iat=int(self.clock.now().timestamp()),
        )
        return self.verifier.check(shown, aud=AUD, nonce=nonce)

    def close(self) -> None:
        self.fetcher.close()
        self.registry.close()
        self.ledger.close()


@pytest.fixture
def city(tmp_path: Path, server: ServerState, local_ca: LocalCA) -> Iterator[City]:
    c = City(tmp_path, server, local_ca)
    yield c
    c.close()


FORMATS = ["vc+jwt", "vc+sd-jwt", "dc+sd-jwt"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_issue_verify_revoke_publish_verify_fails_revoked(city: City, fmt: str) -> None:
    """Valid until revoked; after publish and fetch, the same credential fails `revoked`."""
    token, slot = city.issue(fmt)
    city.publish()
    report = city.verify(token)
    assert report.ok, report.error
    assert [c.outcome for c in report.checks if c.name == "status"] == ["passed"]
    city.registry.revoke(slot)
    published = city.publish()
    assert all(p.receipt is not None and p.receipt.bundle for p in published)
    report = city.verify(token)
    assert not report.ok
    assert report.error.code is Code.REVOKED


@pytest.mark.parametrize("fmt", FORMATS)
def test_suspend_then_reinstate(city: City, fmt: str) -> None:
    """Suspended fails with `suspended`; reinstated verifies again."""
    token, slot = city.issue(fmt)
    city.registry.suspend(slot)
    city.publish()
    report = city.verify(token)
    assert report.error is not None
    assert report.error.code is Code.SUSPENDED
    city.registry.reinstate(slot)
    city.publish()
    assert city.verify(token).ok


@pytest.mark.parametrize("fmt", FORMATS)
def test_anchored_mode_refuses_a_list_that_is_not_the_latest_anchored(city: City, fmt: str) -> None:
    """Serving the older (anchored, superseded) list, or a never-anchored one, is refused."""
    token, slot = city.issue(fmt)
    old = city.publish()
    city.registry.revoke(slot)
    city.publish()
    city.serve(old)  # the issuer tries to show this verifier the list from before
    city.clock.advance(timedelta(minutes=6))
    report = city.verify(token)
    assert report.error is not None
    assert report.error.code is Code.STATUS_LIST_NOT_ANCHORED


def test_anchored_mode_refuses_a_freshly_signed_unanchored_list(city: City) -> None:
    """A list the issuer signs but never anchors (valid signature, right URI) is refused."""
    token, slot = city.issue("dc+sd-jwt")
    city.publish()
    city.registry.revoke(slot)
    city.publish()
    # Re-sign an all-valid list for the same URI, skipping the registry and the ledger.
    from seoul_vc.status.token_list import encode_status_list

    now = int(city.clock.now().timestamp())
    claims = {
        "sub": slot.uris[0],
        "iss": city.issuer.did,
        "iat": now,
        "exp": now + 3600,
        "ttl": 300,
        "status_list": encode_status_list(bytes(131072 // 4), 2),
    }
    forged = encode_jwt(claims, city.agency, typ="statuslist+jwt", kid=city.issuer.kid)
    path = slot.uris[0].split(f":{city.server.port}", 1)[1]
    city.server.serve(path, 200, forged.encode(), Content_Type="application/statuslist+jwt")
    city.clock.advance(timedelta(minutes=6))
    report = city.verify(token)
    assert report.error is not None
    assert report.error.code is Code.STATUS_LIST_NOT_ANCHORED


def test_a_credential_with_status_but_no_checker_is_refused(city: City) -> None:
    """Fail closed: a verifier without a status source refuses credentials with status."""
    token, _ = city.issue("dc+sd-jwt")
    plain = Verifier(issuer_key=city.agency.public_key, clock=city.clock)
    nonce = plain.new_nonce()
    shown = present(
        token, city.citizen, disclose=[], aud=AUD, nonce=nonce,
        iat=int(city.clock.now().timestamp()),
    )  # fmt: skip
    report = plain.check(shown, aud=AUD, nonce=nonce)
    assert report.error is not None
    assert report.error.code is Code.STATUS_UNCHECKED
