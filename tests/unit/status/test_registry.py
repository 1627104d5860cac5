"""The issuer's registry: random indexes without reuse, lists that fill, status changes, publish.

Small lists (64 entries, with the herd-privacy minimum lowered to match) make "fill" cheap;
every test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import hashlib
import statistics
from collections.abc import Iterator
from datetime import timedelta

import pytest

from seoul_vc.clock import FixedClock
from seoul_vc.credentials import Issuer
from seoul_vc.errors import Code, SeoulVCError
from seoul_vc.jose import decode_jwt
from seoul_vc.keys import PrivateKey
from seoul_vc.limits import Limits
from seoul_vc.status.bitstring import bit_at, parse_status_list_credential
from seoul_vc.status.registry import StatusRegistry
from seoul_vc.status.token_list import StatusType, decode_status_list, status_at

BASE = "https://status.seoul.example/lists"
SMALL = Limits(min_status_list_entries=64)


@pytest.fixture
def registry(registry_url: str, clock: FixedClock) -> Iterator[StatusRegistry]:
    reg = StatusRegistry(
        registry_url,
        issuer=Issuer(PrivateKey.generate(), clock=clock),
        base_url=BASE,
        list_size=64,
        limits=SMALL,
    )
    yield reg
    reg.close()


def test_indexes_are_never_reused_and_lists_fill_before_a_new_one_opens(
    registry: StatusRegistry,
) -> None:
    """200 allocations: 64 distinct indexes per list, 3 full lists and a fourth in use."""
    slots = [registry.allocate("dc+sd-jwt") for _ in range(70)]
    slots += registry.allocate_many("dc+sd-jwt", 130)
    by_list: dict[str, list[int]] = {}
    for slot in slots:
        by_list.setdefault(slot.list_id, []).append(slot.index)
    sizes = sorted(len(v) for v in by_list.values())
    assert sizes == [8, 64, 64, 64]
    for indexes in by_list.values():
        assert len(set(indexes)) == len(indexes)
        assert all(0 <= i < 64 for i in indexes)
    full = [v for v in by_list.values() if len(v) == 64]
    assert all(sorted(v) == list(range(64)) for v in full)


def test_allocation_order_is_not_index_order(registry: StatusRegistry) -> None:
    """Indexes come in random order: not sorted, and uncorrelated with issuance order."""
    indexes = [s.index for s in registry.allocate_many("vc+jwt", 64)]
    assert indexes != sorted(indexes)
    # Spearman-like check: rank correlation of a uniform shuffle of 64 is ~N(0, 1/63).
    assert abs(statistics.correlation(range(64), indexes)) < 0.5


def test_list_ids_are_random(registry: StatusRegistry) -> None:
    """List identifiers are random hex, telling nothing of how many lists came before."""
    first = registry.allocate_many("dc+sd-jwt", 65)
    ids = {s.list_id for s in first}
    assert len(ids) == 2
    assert all(len(i) == 16 and int(i, 16) >= 0 for i in ids)


def test_status_claims_have_the_shape_of_each_format(registry: StatusRegistry) -> None:
    """The vc formats get two BitstringStatusListEntry values, dc+sd-jwt one status_list."""
    vc = registry.allocate("vc+sd-jwt").status_claim()
    assert isinstance(vc, list)
    assert [e["statusPurpose"] for e in vc] == ["revocation", "suspension"]  # type: ignore[index]
    assert vc[0]["statusListIndex"] == vc[1]["statusListIndex"]  # type: ignore[index]
    token = registry.allocate("dc+sd-jwt").status_claim()
    assert set(token["status_list"]) == {"idx", "uri"}  # type: ignore[index,arg-type]


def test_revoke_suspend_reinstate_transitions(registry: StatusRegistry) -> None:
    """Suspension is reversible; revocation is final; repeating a change is a no-op."""
    slot = registry.allocate("dc+sd-jwt")
    registry.suspend(slot)
    registry.suspend(slot)
    assert registry.status_of(slot) is StatusType.SUSPENDED
    registry.reinstate(slot)
    assert registry.status_of(slot) is StatusType.VALID
    registry.suspend(slot)
    registry.revoke(slot)
    registry.revoke(slot)
    assert registry.status_of(slot) is StatusType.INVALID
    for change in (registry.reinstate, registry.suspend):
        with pytest.raises(SeoulVCError) as caught:
            change(slot)
        assert caught.value.code is Code.CONFLICT


def test_changes_accept_the_credentials_status_value(registry: StatusRegistry) -> None:
    """revoke() takes what the credential carries, for both kinds of list."""
    for fmt in ("vc+jwt", "dc+sd-jwt"):
        slot = registry.allocate(fmt)
        registry.revoke(slot.status_claim())
        assert registry.status_of(slot) is StatusType.INVALID


def test_unknown_indexes_and_lists_are_not_found(registry: StatusRegistry) -> None:
    """An index never handed out, or another registry's list, is not_found."""
    slot = registry.allocate("dc+sd-jwt")
    other = (slot.index + 1) % 64
    for claim in (
        {"status_list": {"idx": other, "uri": slot.uris[0]}},
        {"status_list": {"idx": 0, "uri": "https://elsewhere.example/x/status"}},
    ):
        with pytest.raises(SeoulVCError) as caught:
            registry.revoke(claim)
        assert caught.value.code is Code.NOT_FOUND


def test_publish_signs_lists_that_say_what_the_registry_says(
    registry: StatusRegistry, clock: FixedClock
) -> None:
    """Token lists carry 2-bit VALID/INVALID/SUSPENDED; bitstring lists one bit per purpose."""
    revoked, suspended, valid = registry.allocate_many("dc+sd-jwt", 3)
    registry.revoke(revoked)
    registry.suspend(suspended)
    vc_revoked, vc_suspended = registry.allocate_many("vc+jwt", 2)
    registry.revoke(vc_revoked)
    registry.suspend(vc_suspended)
    published = {p.uri: p for p in registry.publish()}
    assert len(published) == 3
    key = registry._issuer.key.public_key
    token = published[revoked.uris[0]]
    assert token.sha256 == hashlib.sha256(token.token.encode()).digest()
    claims = decode_jwt(token.token, key, typ="statuslist+jwt").claims
    assert claims["sub"] == revoked.uris[0]
    assert claims["ttl"] == 300
    assert claims["exp"] == claims["iat"] + 86400  # type: ignore[operator]
    lst = decode_status_list(claims["status_list"])
    assert [status_at(lst.data, 2, s.index) for s in (revoked, suspended, valid)] == [1, 2, 0]
    for purpose_uri, expected in zip(vc_revoked.uris, ((1, 0), (0, 1)), strict=True):
        payload = decode_jwt(published[purpose_uri].token, key, typ="vc+jwt").claims
        credential = parse_status_list_credential(payload, limits=SMALL)
        assert credential.id == purpose_uri
        bits = (bit_at(credential.bitstring, vc_revoked.index),
                bit_at(credential.bitstring, vc_suspended.index))  # fmt: skip
        assert bits == expected


def test_publish_bumps_versions_only_of_changed_lists(registry: StatusRegistry) -> None:
    """A second publish with no change publishes nothing; a change publishes version 2."""
    slot = registry.allocate("dc+sd-jwt")
    assert [p.version for p in registry.publish()] == [1]
    assert registry.publish() == []
    registry.suspend(slot)
    assert [p.version for p in registry.publish()] == [2]
    assert registry.latest(slot.uris[0]).version == 2
    assert [p.version for p in registry.publish(everything=True)] == [3]


def test_write_to_lays_files_out_below_the_base_url(
    registry: StatusRegistry, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Published tokens land at <dir>/<list id>/<leaf>, byte for byte."""
    slot = registry.allocate("vc+jwt")
    out = tmp_path_factory.mktemp("www")
    published = registry.publish()
    paths = registry.write_to(out, published)
    assert sorted(p.relative_to(out).as_posix() for p in paths) == [
        f"{slot.list_id}/revocation",
        f"{slot.list_id}/suspension",
    ]
    assert paths[0].read_text() in {p.token for p in published}


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"list_size": 60}, "size"),
        ({"list_size": 32}, "size"),
        ({"base_url": "http://status.example"}, "base"),
        ({"base_url": "https://status.example?x=1"}, "base"),
        ({"ttl": timedelta(days=2)}, "ttl"),
    ],
)
def test_bad_configuration_is_refused(
    registry_url: str, kwargs: dict[str, object], field: str
) -> None:
    """List sizes below the minimum or not whole bytes, non-HTTPS base URLs, ttl > validity."""
    options: dict[str, object] = {"base_url": BASE, "list_size": 64, "limits": SMALL, **kwargs}
    with pytest.raises(SeoulVCError) as caught:
        StatusRegistry(registry_url, issuer=Issuer(PrivateKey.generate()), **options)  # type: ignore[arg-type]
    assert caught.value.code is Code.BAD_ARGUMENT


def test_default_lists_have_at_least_131072_entries(registry_url: str) -> None:
    """Herd privacy by default: a list never has fewer than 131,072 entries."""
    with pytest.raises(SeoulVCError):
        StatusRegistry(
            registry_url, issuer=Issuer(PrivateKey.generate()), base_url=BASE, list_size=65536
        )
