"""The verifier's StatusChecker against lists a registry published to a folder.

Lists are small (64 entries) with the herd-privacy minimum lowered to match, except where the
minimum itself is under test.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from seoul_vc._json import JSONValue
from seoul_vc.clock import FixedClock
from seoul_vc.credentials import Issuer
from seoul_vc.errors import Code, SeoulVCError
from seoul_vc.jose import encode_jwt
from seoul_vc.keys import PrivateKey
from seoul_vc.limits import Limits
from seoul_vc.status.check import DirectorySource, StatusChecker
from seoul_vc.status.registry import StatusAllocation, StatusRegistry

BASE = "https://status.seoul.example/lists"
SMALL = Limits(min_status_list_entries=64)


class CountingSource(DirectorySource):
    """A folder source that counts reads."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory, base_url=BASE)
        self.reads = 0

    def get(self, uri: str, *, accept: str, max_bytes: int) -> bytes:
        self.reads += 1
        return super().get(uri, accept=accept, max_bytes=max_bytes)


class World:
    def __init__(self, tmp: Path, clock: FixedClock) -> None:
        self.clock = clock
        self.www = tmp / "www"
        self.issuer = Issuer(PrivateKey.generate(), clock=clock)
        self.registry = StatusRegistry(
            f"sqlite:{tmp / 'status.db'}",
            issuer=self.issuer,
            base_url=BASE,
            list_size=64,
            limits=SMALL,
        )
        self.source = CountingSource(self.www)

    def publish(self) -> None:
        self.registry.write_to(self.www, self.registry.publish())

    def checker(self, limits: Limits = SMALL) -> StatusChecker:
        return StatusChecker(source=self.source, clock=self.clock, limits=limits)

    def check(self, claim: JSONValue, checker: StatusChecker | None = None) -> None:
        (checker or self.checker()).check(claim, issuer=self.issuer.did)


@pytest.fixture
def world(tmp_path: Path, clock: FixedClock) -> Iterator[World]:
    w = World(tmp_path, clock)
    yield w
    w.registry.close()


def _code(world: World, claim: JSONValue, checker: StatusChecker | None = None) -> Code:
    with pytest.raises(SeoulVCError) as caught:
        world.check(claim, checker)
    return caught.value.code


@pytest.mark.parametrize("fmt", ["vc+jwt", "dc+sd-jwt"])
def test_valid_revoked_and_suspended_are_told_apart(world: World, fmt: str) -> None:
    """Each kind of list reports valid, revoked and suspended entries as such."""
    valid, revoked, suspended = world.registry.allocate_many(fmt, 3)
    world.registry.revoke(revoked)
    world.registry.suspend(suspended)
    world.publish()
    world.check(valid.status_claim())
    assert _code(world, revoked.status_claim()) is Code.REVOKED
    assert _code(world, suspended.status_claim()) is Code.SUSPENDED


def test_a_list_signed_by_another_issuer_is_refused(world: World) -> None:
    """The list's signer must be the credential's issuer."""
    slot = world.registry.allocate("dc+sd-jwt")
    world.publish()
    with pytest.raises(SeoulVCError) as caught:
        world.checker().check(slot.status_claim(), issuer="did:key:z6MkOther")
    assert caught.value.code is Code.STATUS_LIST_INVALID


def test_a_forged_list_under_the_issuers_kid_fails_its_signature(world: World) -> None:
    """A list claiming the issuer's kid but signed by another key does not verify."""
    slot = world.registry.allocate("dc+sd-jwt")
    world.registry.revoke(slot)
    world.publish()
    path = world.www / slot.list_id / "status"
    genuine = path.read_text()
    import json

    from seoul_vc._encoding import b64url_decode

    claims = json.loads(b64url_decode(genuine.split(".")[1]))
    forged = encode_jwt(claims, PrivateKey.generate(), typ="statuslist+jwt", kid=world.issuer.kid)
    path.write_text(forged)
    assert _code(world, slot.status_claim()) is Code.INVALID_SIGNATURE


def test_a_list_served_at_another_url_is_refused(world: World) -> None:
    """A genuine list copied to another list's URL fails the sub/id check."""
    first = world.registry.allocate_many("dc+sd-jwt", 64)[0]
    second = world.registry.allocate("dc+sd-jwt")
    world.publish()
    shutil.copy(world.www / first.list_id / "status", world.www / second.list_id / "status")
    assert _code(world, second.status_claim()) is Code.STATUS_LIST_INVALID


def test_a_bitstring_list_served_at_another_url_is_refused(world: World) -> None:
    """The revocation list copied over the suspension list fails the id check."""
    slot = world.registry.allocate("vc+jwt")
    world.publish()
    folder = world.www / slot.list_id
    shutil.copy(folder / "revocation", folder / "suspension")
    assert _code(world, slot.status_claim()) is Code.STATUS_LIST_INVALID


@pytest.mark.parametrize("fmt", ["vc+jwt", "dc+sd-jwt"])
def test_an_expired_list_is_refused(world: World, fmt: str) -> None:
    """The validUntil / exp (one day) is checked against the verifier's clock."""
    slot = world.registry.allocate(fmt)
    world.publish()
    world.clock.advance(timedelta(days=1, minutes=2))
    assert _code(world, slot.status_claim()) is Code.STATUS_LIST_INVALID


@pytest.mark.parametrize("fmt", ["vc+jwt", "dc+sd-jwt"])
def test_a_list_below_the_herd_privacy_minimum_is_refused(world: World, fmt: str) -> None:
    """A verifier with the default minimum (131,072) refuses a 64-entry list."""
    slot = world.registry.allocate(fmt)
    world.publish()
    assert _code(world, slot.status_claim(), world.checker(Limits())) is Code.STATUS_LIST_TOO_SHORT


def test_an_entry_pointing_at_a_list_of_another_purpose_is_refused(world: World) -> None:
    """A suspension entry pointing at the revocation list: status_purpose_mismatch."""
    slot = world.registry.allocate("vc+jwt")
    world.publish()
    entry = slot.status_claim()[1]  # type: ignore[index]
    entry["statusListCredential"] = slot.uris[0]  # type: ignore[index]
    assert _code(world, entry) is Code.STATUS_PURPOSE_MISMATCH


@pytest.mark.parametrize("fmt", ["vc+jwt", "dc+sd-jwt"])
def test_an_index_past_the_list_is_refused(world: World, fmt: str) -> None:
    """Index 64 of a 64-entry list: status_index_invalid (RANGE_ERROR)."""
    slot = world.registry.allocate(fmt)
    world.publish()
    beyond = StatusAllocation(kind=slot.kind, list_id=slot.list_id, index=64, uris=slot.uris)
    assert _code(world, beyond.status_claim()) is Code.STATUS_INDEX_INVALID


@pytest.mark.parametrize(
    "claim",
    [
        [{"type": "BitstringStatusListEntry", "statusPurpose": "refresh",
          "statusListIndex": "1", "statusListCredential": f"{BASE}/x/revocation"}],
        {"type": "StatusList2021Entry"},
        {"other_mechanism": {}},
        "revoked?",
    ],
    ids=["refresh-purpose", "old-entry-type", "unknown-mechanism", "string"],
)  # fmt: skip
def test_status_this_verifier_cannot_read_fails_closed(world: World, claim: JSONValue) -> None:
    """Purposes and mechanisms it cannot interpret are status_unchecked, never 'valid'."""
    assert _code(world, claim) is Code.STATUS_UNCHECKED


def test_a_missing_list_is_not_found(world: World) -> None:
    """No list at the URL: not_found (the verifier cannot say valid)."""
    slot = world.registry.allocate("dc+sd-jwt")
    assert _code(world, slot.status_claim()) is Code.NOT_FOUND


def test_decoded_lists_are_cached_until_ttl(world: World) -> None:
    """Checks within ttl (5 min) read the folder once; after it, the list is fetched again."""
    first, second = world.registry.allocate_many("dc+sd-jwt", 2)
    world.publish()
    checker = world.checker()
    for _ in range(5):
        world.check(first.status_claim(), checker)
        world.check(second.status_claim(), checker)
    assert world.source.reads == 1
    world.registry.revoke(second)
    world.publish()
    world.check(second.status_claim(), checker)  # still the cached version
    world.clock.advance(timedelta(minutes=5, seconds=1))
    assert _code(world, second.status_claim(), checker) is Code.REVOKED
    assert world.source.reads == 2


def test_the_cache_is_bounded_in_bytes(world: World) -> None:
    """With room for one decoded list, alternating between two lists fetches every time."""
    first = world.registry.allocate_many("dc+sd-jwt", 64)[0]
    second = world.registry.allocate("dc+sd-jwt")
    world.publish()
    checker = world.checker(Limits(min_status_list_entries=64, status_list_cache_bytes=16))
    for _ in range(3):
        world.check(first.status_claim(), checker)
        world.check(second.status_claim(), checker)
    assert world.source.reads == 6


def test_a_credential_without_issuer_is_refused(world: World) -> None:
    """Without the credential's issuer the list's signer cannot be bound: refused."""
    slot = world.registry.allocate("dc+sd-jwt")
    with pytest.raises(SeoulVCError) as caught:
        world.checker().check(slot.status_claim(), issuer=None)
    assert caught.value.code is Code.STATUS_LIST_INVALID


@pytest.mark.parametrize(
    "url", [f"{BASE}/../etc/passwd", f"{BASE}/%2e%2e/x", "https://x.example/a"]
)
def test_the_folder_source_stays_inside_its_folder(world: World, url: str) -> None:
    """Paths that climb out, or URLs outside the base, are not_found."""
    claim: JSONValue = {"status_list": {"idx": 0, "uri": url}}
    assert _code(world, claim) is Code.NOT_FOUND
