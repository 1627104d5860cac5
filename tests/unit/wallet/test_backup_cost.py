"""Backups: the scrypt cost a backup names is bounded before anything is derived.

A backup carries its own scrypt cost in its protected header (``kdf``), so a crafted file
could name N = 2^20, r = 32 (4 GiB) or p = 16. ``open_backup`` refuses a cost past 256 MiB
(128·N·r) or a work N·r·p past 2^23 with ``backup_too_costly``, without calling scrypt;
``seal_backup`` refuses to write what the opener would refuse; and restoring checks every
record of a decrypted backup, since the passphrase is whoever restores it.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from wallet_world import PIN, World

from seoul_vc import Code, FixedClock, SeoulVCError
from seoul_vc._encoding import b64url_decode, b64url_encode
from seoul_vc.wallet import vault
from seoul_vc.wallet.vault import (
    BACKUP_SCRYPT,
    MAX_BACKUP_SCRYPT_MEMORY,
    MAX_BACKUP_SCRYPT_WORK,
    ScryptParams,
    open_backup,
    seal_backup,
)

PASSPHRASE = "correct horse battery staple"
#: A cheap cost for backups whose cost is not the point of the test.
CHEAP = ScryptParams(n=2**10, r=8, p=1)
Scrypt = Callable[..., bytes]


@pytest.fixture
def scrypt_calls(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Record every scrypt call of the vault (still deriving, so real backups open)."""
    calls: list[dict[str, Any]] = []
    real: Scrypt = hashlib.scrypt

    def spy(password: bytes, **kwargs: Any) -> bytes:
        calls.append(kwargs)
        return real(password, **kwargs)

    monkeypatch.setattr(vault.hashlib, "scrypt", spy)
    return calls


@pytest.fixture
def fake_scrypt(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Replace the vault's scrypt by a fast stand-in (SHA-256 of its inputs), recording calls."""
    calls: list[dict[str, Any]] = []

    def fake(password: bytes, **kwargs: Any) -> bytes:
        calls.append(kwargs)
        cost = f"{kwargs['n']}/{kwargs['r']}/{kwargs['p']}".encode()
        return hashlib.sha256(password + kwargs["salt"] + cost).digest()

    monkeypatch.setattr(vault.hashlib, "scrypt", fake)
    return calls


def _with_kdf(token: str, **kdf: object) -> str:
    """The backup ``token`` with members of its header's ``kdf`` replaced (tag now stale)."""
    encoded, rest = token.split(".", 1)
    header = json.loads(b64url_decode(encoded, what="header"))
    header["kdf"].update(kdf)
    return b64url_encode(json.dumps(header).encode()) + "." + rest


@pytest.mark.parametrize(
    "kdf",
    [
        # N = 2^20, r = 32: 4 GiB of scrypt memory.
        pytest.param({"n": 2**20, "r": 32}, id="n-2^20-r-32"),
        # p = 16 at the default N and r: 128 MiB, but work 2^24.
        pytest.param({"n": 2**17, "r": 8, "p": 16}, id="p-16"),
        # N = 2^19, r = 8, p = 1: work 2^22 is within bounds, 512 MiB of memory is not.
        pytest.param({"n": 2**19, "r": 8, "p": 1}, id="memory-alone"),
    ],
)
def test_backup_past_a_cost_bound_is_refused_without_deriving(
    scrypt_calls: list[dict[str, Any]], kdf: dict[str, int]
) -> None:
    """A backup naming a cost past either bound: backup_too_costly, scrypt never called."""
    token = _with_kdf(seal_backup(b"{}", PASSPHRASE, CHEAP), **kdf)
    scrypt_calls.clear()
    with pytest.raises(SeoulVCError) as caught:
        open_backup(token, PASSPHRASE)
    assert caught.value.code is Code.BACKUP_TOO_COSTLY
    assert caught.value.family == "malformed"
    assert scrypt_calls == [], "scrypt ran for a backup whose cost is refused"


def test_backup_cost_bounds_are_inclusive(fake_scrypt: list[dict[str, Any]]) -> None:
    """N = 2^18, r = 8, p = 4 (256 MiB, work 2^23) is derived: a wrong key, unlock_failed."""
    token = _with_kdf(seal_backup(b"{}", PASSPHRASE, CHEAP), n=2**18, r=8, p=4)
    fake_scrypt.clear()
    with pytest.raises(SeoulVCError) as caught:
        open_backup(token, PASSPHRASE)
    assert caught.value.code is Code.UNLOCK_FAILED
    assert [(c["n"], c["r"], c["p"]) for c in fake_scrypt] == [(2**18, 8, 4)]
    assert MAX_BACKUP_SCRYPT_MEMORY == 128 * 2**18 * 8
    assert MAX_BACKUP_SCRYPT_WORK == 2**18 * 8 * 4
    # hashlib refuses a maxmem past INT_MAX: what the bounds allow stays under it.
    assert fake_scrypt[0]["maxmem"] < 2**31 - 1


@pytest.mark.parametrize(
    "kdf",
    [
        {"n": 0},
        {"n": -(2**20), "r": -32},
        {"r": True},
        {"p": 1.5},
        {"n": "32768"},
        {"n": 3 * 2**10},
        {"salt": 7},
    ],
    ids=["n zero", "negative", "boolean r", "float p", "string n", "n not power of two", "salt"],
)
def test_backup_with_a_malformed_cost_is_unlock_failed(
    kdf: dict[str, object], scrypt_calls: list[dict[str, Any]]
) -> None:
    """A cost that is not positive integers (or N not a power of two) is a damaged backup."""
    token = _with_kdf(seal_backup(b"{}", PASSPHRASE, CHEAP), **kdf)
    scrypt_calls.clear()
    with pytest.raises(SeoulVCError) as caught:
        open_backup(token, PASSPHRASE)
    assert caught.value.code is Code.UNLOCK_FAILED
    assert scrypt_calls == []


def test_seal_then_open_round_trip_at_the_default_cost(
    scrypt_calls: list[dict[str, Any]],
) -> None:
    """A backup sealed at the default cost (N = 2^17, r = 8, p = 1) opens to its bytes."""
    token = seal_backup(b'{"version": 1}', PASSPHRASE)
    header = json.loads(b64url_decode(token.split(".", 1)[0], what="header"))
    assert {k: header["kdf"][k] for k in "nrp"} == {"n": 2**17, "r": 8, "p": 1}
    assert (BACKUP_SCRYPT.n, BACKUP_SCRYPT.r, BACKUP_SCRYPT.p) == (2**17, 8, 1)
    assert open_backup(token, PASSPHRASE) == b'{"version": 1}'
    assert [(c["n"], c["r"], c["p"]) for c in scrypt_calls] == [(2**17, 8, 1)] * 2
    with pytest.raises(SeoulVCError) as caught:
        open_backup(token, "not the passphrase")
    assert caught.value.code is Code.UNLOCK_FAILED


def test_seal_refuses_a_cost_the_opener_would_refuse(
    scrypt_calls: list[dict[str, Any]],
) -> None:
    """ScryptParams allows N = 2^20, r = 32, p = 16; a backup at that cost is not written."""
    with pytest.raises(SeoulVCError) as caught:
        seal_backup(b"{}", PASSPHRASE, ScryptParams(n=2**20, r=32, p=16))
    assert caught.value.code is Code.BAD_ARGUMENT
    assert scrypt_calls == []


def _powers() -> Iterator[int]:
    return (2**k for k in range(1, 21))


def test_every_cost_seal_accepts_is_one_open_accepts(fake_scrypt: list[dict[str, Any]]) -> None:
    """Over N = 2^1..2^20 and edge r, p: seal writes exactly the backups open derives."""
    written = 0
    for n, r, p in itertools.product(_powers(), (1, 2, 3, 8, 16, 31, 32), (1, 2, 4, 5, 16)):
        cost = ScryptParams(n=n, r=r, p=p)
        if cost.memory > MAX_BACKUP_SCRYPT_MEMORY or cost.work > MAX_BACKUP_SCRYPT_WORK:
            with pytest.raises(SeoulVCError) as refused:
                seal_backup(b"{}", PASSPHRASE, cost)
            assert refused.value.code is Code.BAD_ARGUMENT
            with pytest.raises(SeoulVCError) as caught:
                open_backup(_with_kdf(seal_backup(b"{}", PASSPHRASE, CHEAP), n=n, r=r, p=p), "x")
            assert caught.value.code is Code.BACKUP_TOO_COSTLY
            continue
        assert open_backup(seal_backup(b"{}", PASSPHRASE, cost), PASSPHRASE) == b"{}"
        written += 1
    assert 100 < written < 20 * 7 * 5


# -- restoring ---------------------------------------------------------------------------------


@pytest.fixture
def world(sqlite_urls: tuple[str, str], world_clock: FixedClock) -> Iterator[World]:
    """The city on SQLite (restores are store-independent; PostgreSQL runs test_at_rest)."""
    w = World(*sqlite_urls, world_clock)
    yield w
    w.close()


def test_normal_backup_restores_with_its_credentials(world: World) -> None:
    """Export at the default cost, restore under a new PIN: the same credentials."""
    wallet, credential_id = world.citizen()
    restored = world.service.restore(wallet.export(PIN, PASSPHRASE), PASSPHRASE, "246810")
    assert restored.id != wallet.id
    assert [c.id for c in restored.credentials("246810")] == [credential_id]
    assert restored.holder_public_key == wallet.holder_public_key


def test_restore_of_a_too_costly_backup_is_refused_without_deriving(
    world: World, scrypt_calls: list[dict[str, Any]]
) -> None:
    """WalletService.restore passes backup_too_costly through, before any scrypt."""
    token = _with_kdf(seal_backup(b"{}", PASSPHRASE, CHEAP), n=2**20, r=32)
    scrypt_calls.clear()
    with pytest.raises(SeoulVCError) as caught:
        world.service.restore(token, PASSPHRASE, "246810")
    assert caught.value.code is Code.BACKUP_TOO_COSTLY
    assert scrypt_calls == []


def test_restore_checks_the_new_pin_before_any_scrypt(
    world: World, scrypt_calls: list[dict[str, Any]]
) -> None:
    """A new PIN outside the rules is bad_argument, and the backup is never derived."""
    token = seal_backup(b"{}", PASSPHRASE, CHEAP)
    scrypt_calls.clear()
    with pytest.raises(SeoulVCError) as caught:
        world.service.restore(token, PASSPHRASE, "12")
    assert caught.value.code is Code.BAD_ARGUMENT
    assert scrypt_calls == []


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The decrypted contents of a real backup with a credential, a consent and events."""
    folder = tmp_path_factory.mktemp("exported")
    clock = FixedClock(datetime.now(UTC).replace(microsecond=0))
    source = World(f"sqlite:{folder / 'ledger.db'}", f"sqlite:{folder / 'wallet.db'}", clock)
    try:
        wallet, _ = source.citizen()
        source.grant(wallet)
        contents: dict[str, Any] = json.loads(
            open_backup(wallet.export(PIN, PASSPHRASE), PASSPHRASE)
        )
    finally:
        source.close()
    assert all(contents[name] for name in ("credentials", "consents", "events"))
    return contents


_DAMAGE: dict[str, Callable[[dict[str, Any]], object]] = {
    "not json": lambda b: None,  # replaced below
    "extra member": lambda b: b.update(extra=1),
    "other version": lambda b: b.update(version=2),
    "holder key not a key": lambda b: b.update(holder={"kty": "EC"}),
    "credential without id": lambda b: b["credentials"][0].pop("id"),
    "credential id with a slash": lambda b: b["credentials"][0].update(id="a/b"),
    "credential record without token": lambda b: b["credentials"][0]["record"].pop("token"),
    "credential record of another id": lambda b: b["credentials"][0]["record"].update(id="x"),
    "credentials repeated": lambda b: b["credentials"].append(b["credentials"][0]),
    "consent without pseudonym": lambda b: b["consents"][0]["record"].pop("pseudonym"),
    "consent with bad claim path": lambda b: b["consents"][0]["record"]["items"][0].update(
        claims=["a..b["]
    ),
    "consent max_views text": lambda b: b["consents"][0]["record"].update(max_views="3"),
    "event without seq": lambda b: b["events"][0].pop("seq"),
    "events out of order": lambda b: b["events"].reverse(),
    "event of unknown kind": lambda b: b["events"][0].update(kind="party"),
    "events not a list": lambda b: b.update(events={}),
}


@pytest.mark.parametrize("damage", sorted(_DAMAGE))
def test_restore_of_a_backup_with_damaged_contents_is_unlock_failed(
    world: World, exported: dict[str, Any], damage: str
) -> None:
    """A well-encrypted backup whose contents are not as exported: unlock_failed."""
    contents = copy.deepcopy(exported)
    _DAMAGE[damage](contents)
    plaintext = b"not json" if damage == "not json" else json.dumps(contents).encode()
    token = seal_backup(plaintext, PASSPHRASE, CHEAP)
    with pytest.raises(SeoulVCError) as caught:
        world.service.restore(token, PASSPHRASE, "246810")
    assert caught.value.code is Code.UNLOCK_FAILED


def test_restore_of_an_untouched_reencrypted_backup_succeeds(world: World) -> None:
    """Control for the damage cases: a backup's own contents, resealed cheaply, restore."""
    wallet, credential_id = world.citizen()
    world.grant(wallet)
    contents = open_backup(wallet.export(PIN, PASSPHRASE), PASSPHRASE)
    restored = world.service.restore(seal_backup(contents, PASSPHRASE, CHEAP), PASSPHRASE, "2468")
    assert [c.id for c in restored.credentials("2468")] == [credential_id]
    assert len(restored.consents("2468")) == 1
    kinds = [e.kind for e in restored.history("2468")]
    assert kinds == ["credential_received", "consent_granted"]
