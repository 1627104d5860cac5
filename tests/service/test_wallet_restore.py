"""Restoring a wallet from a backup over HTTP: ``POST /wallet/v1/wallets/restore``.

A citizen exports a backup with ``POST /backup`` and restores it under a new PIN as a new
wallet holding the same credentials. A backup naming a scrypt cost past the library's bounds
is refused with ``backup_too_costly`` before anything is derived; a wrong passphrase is
``unlock_failed``; malformed bodies are problems that use none of the client's quota;
restores count against the per-client creation quota; and at most
``RESTORES_AT_ONCE`` derive at once, the next refused with 429 and ``Retry-After``.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from live_service import LiveService, basic, create_wallet, problem, receive_residency

from seoul_vc.service import _auth
from seoul_vc.service.routes import wallet as wallet_routes
from seoul_vc.wallet import CitizenWallet, WalletService

API = "/wallet/v1"
RESTORE = f"{API}/wallets/restore"
PIN = "739164"
NEW_PIN = "246810"
PASSPHRASE = "correct horse battery staple"
StartService = Callable[..., LiveService]


def _export(live: LiveService, wallet_id: str) -> str:
    response = live.client.post(
        f"{API}/backup", json={"passphrase": PASSPHRASE}, headers=basic(wallet_id, PIN)
    )
    assert response.status_code == 200, response.text
    return str(response.json()["backup"])


def _restore(live: LiveService, backup: str, **changes: str) -> httpx.Response:
    body = {"backup": backup, "passphrase": PASSPHRASE, "pin": NEW_PIN, **changes}
    return live.client.post(RESTORE, json=body)


def _with_kdf(token: str, **kdf: int) -> str:
    """The backup with members of its header's scrypt cost replaced (its tag now stale)."""
    encoded, rest = token.split(".", 1)
    header = json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
    header["kdf"].update(kdf)
    text = base64.urlsafe_b64encode(json.dumps(header).encode()).rstrip(b"=").decode()
    return text + "." + rest


@pytest.fixture
def exported(live_service: LiveService) -> tuple[str, str, str]:
    """A wallet with one credential and its backup: (wallet id, credential id, backup)."""
    wallet_id = create_wallet(live_service, PIN)
    credential_id = receive_residency(live_service, wallet_id, PIN)
    return wallet_id, credential_id, _export(live_service, wallet_id)


def test_exported_backup_restores_with_its_credentials_under_the_new_pin(
    live_service: LiveService, exported: tuple[str, str, str]
) -> None:
    """Export over HTTP, restore over HTTP: a new wallet id, same holder, same credentials."""
    live = live_service
    wallet_id, credential_id, backup = exported
    restored = _restore(live, backup)
    assert restored.status_code == 201, restored.text
    assert restored.headers["cache-control"] == "no-store"
    created = restored.json()
    assert set(created) == {"wallet_id", "holder_did", "holder_jwk"}
    new_id = created["wallet_id"]
    assert new_id != wallet_id
    original = live.client.get(f"{API}/credentials", headers=basic(wallet_id, PIN)).json()
    assert created["holder_jwk"] == _holder_jwk(live, wallet_id)
    listed = live.client.get(f"{API}/credentials", headers=basic(new_id, NEW_PIN))
    assert listed.status_code == 200, listed.text
    assert listed.json() == original
    assert [c["id"] for c in listed.json()["credentials"]] == [credential_id]
    problem(live.client.get(f"{API}/credentials", headers=basic(new_id, PIN)), 401, "unlock_failed")


def _holder_jwk(live: LiveService, wallet_id: str) -> dict[str, Any]:
    assert live.service.wallets is not None
    return dict(live.service.wallets.holder_public_key(wallet_id).to_jwk())


def test_too_costly_backup_is_a_problem_without_deriving(
    live_service: LiveService,
    exported: tuple[str, str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """N = 2^20, r = 32 and p = 16 backups: 400 backup_too_costly; scrypt never runs."""
    import hashlib

    from seoul_vc.wallet import vault

    calls: list[int] = []
    real = hashlib.scrypt

    def spy(password: bytes, **kwargs: Any) -> bytes:
        calls.append(kwargs["n"])
        return real(password, **kwargs)

    monkeypatch.setattr(vault.hashlib, "scrypt", spy)
    backup = exported[2]
    for kdf in ({"n": 2**20, "r": 32}, {"n": 2**17, "r": 8, "p": 16}):
        body = problem(_restore(live_service, _with_kdf(backup, **kdf)), 400, "backup_too_costly")
        assert body["family"] == "malformed"
        assert body["details"] == {"max_memory": 256 * 2**20, "max_work": 2**23}
    assert calls == []


def test_wrong_passphrase_is_unlock_failed(
    live_service: LiveService, exported: tuple[str, str, str]
) -> None:
    """A wrong passphrase, or a damaged backup: 403 unlock_failed, no Basic challenge."""
    backup = exported[2]
    wrong = _restore(live_service, backup, passphrase="not the passphrase")
    problem(wrong, 403, "unlock_failed")
    assert "www-authenticate" not in wrong.headers
    problem(_restore(live_service, backup[:-4] + "AAAA"), 403, "unlock_failed")
    problem(_restore(live_service, "not.a.backup.at.all"), 403, "unlock_failed")


def _oversized(live: LiveService) -> bytes:
    return b'{"backup": "' + b"A" * live.config.max_restore_bytes + b'", "pin": "1234"}'


def _body(**changes: object) -> dict[str, object]:
    """A restore body of the right shape (the backup is never reached) with ``changes``."""
    return {"backup": "x", "passphrase": PASSPHRASE, "pin": PIN, **changes}


_JSON = {"content-type": "application/json"}
_FORM = {"content-type": "application/x-www-form-urlencoded"}
_MALFORMED: dict[str, tuple[dict[str, str], bytes | dict[str, object], int, str]] = {
    "bad json": (_JSON, b'{"backup": ', 400, "malformed"),
    "duplicate keys": (_JSON, b'{"pin": "1234", "pin": "5678"}', 400, "duplicate_key"),
    "json array": (_JSON, b"[]", 400, "malformed"),
    "form body": (_FORM, b"pin=1234", 400, "malformed"),
    "oversized": (_JSON, b"", 413, "too_large"),
    "unknown field": ({}, _body(x=1), 400, "malformed"),
    "missing pin": ({}, {"backup": "x", "passphrase": PASSPHRASE}, 400, "malformed"),
    "missing backup": ({}, {"passphrase": PASSPHRASE, "pin": PIN}, 400, "malformed"),
    "backup not a string": ({}, _body(backup=7), 400, "malformed"),
    "empty backup": ({}, _body(backup=""), 400, "malformed"),
    "passphrase too short": ({}, _body(passphrase="short"), 400, "malformed"),
    "passphrase too long": ({}, _body(passphrase="p" * 1025), 400, "malformed"),
    "pin too short": ({}, _body(pin="12"), 400, "bad_argument"),
    "pin not printable": ({}, _body(pin="12\n34"), 400, "bad_argument"),
}


def test_malformed_restore_bodies_are_problems_that_use_no_quota(
    start_service: StartService,
) -> None:
    """Each malformed body is a problem with its code; none counts as a restore."""
    live = start_service(max_restore_bytes=64 * 1024)
    assert len(_MALFORMED) > _auth.CREATIONS_PER_CLIENT
    for case, (headers, content, status, code) in _MALFORMED.items():
        if case == "oversized":
            content = _oversized(live)
        if isinstance(content, dict):
            response = live.client.post(RESTORE, json=content, headers=headers)
        else:
            response = live.client.post(RESTORE, content=content, headers=headers)
        problem(response, status, code)
    # More malformed restores than the quota, and a wallet can still be created.
    create_wallet(live, PIN)


def test_restores_count_against_the_client_creation_quota(
    live_service: LiveService, exported: tuple[str, str, str]
) -> None:
    """Creations and restores (a wrong passphrase too) share CREATIONS_PER_CLIENT: then 429."""
    live = live_service
    backup = exported[2]  # the exported wallet was creation 1
    problem(_restore(live, backup, passphrase="not the passphrase"), 403, "unlock_failed")
    assert _restore(live, backup).status_code == 201
    for _ in range(_auth.CREATIONS_PER_CLIENT - 3):
        create_wallet(live, PIN)
    refused = _restore(live, backup)
    problem(refused, 429, "rate_limited")
    assert int(refused.headers["retry-after"]) > 0
    problem(live.client.post(f"{API}/wallets", json={"pin": PIN}), 429, "rate_limited")


@pytest.fixture
def held_restores(
    live_service: LiveService, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[threading.Event, list[str]]]:
    """Make the service's restores wait for an event; yield it and the log of entries."""
    wallets = live_service.service.wallets
    assert isinstance(wallets, WalletService)
    real = wallets.restore
    release = threading.Event()
    entered: list[str] = []

    def held(backup: str, passphrase: str, pin: str) -> CitizenWallet:
        entered.append(pin)
        assert release.wait(30)
        return real(backup, passphrase, pin)

    monkeypatch.setattr(wallets, "restore", held)
    yield release, entered
    release.set()


def test_restores_beyond_the_limit_at_once_get_429_and_the_loop_stays_free(
    live_service: LiveService,
    exported: tuple[str, str, str],
    held_restores: tuple[threading.Event, list[str]],
) -> None:
    """RESTORES_AT_ONCE restores in their worker threads; one more is 429 with Retry-After."""
    live = live_service
    release, entered = held_restores
    backup = exported[2]
    at_once = wallet_routes.RESTORES_AT_ONCE
    with ThreadPoolExecutor(at_once) as pool:
        running = [pool.submit(_restore, live, backup) for _ in range(at_once)]
        deadline = time.monotonic() + 30
        while len(entered) < at_once:
            assert time.monotonic() < deadline, "the restores did not start"
            time.sleep(0.01)
        # The restores run off the event loop: other requests are answered meanwhile.
        assert live.client.get("/health").status_code == 200
        refused = _restore(live, backup)
        problem(refused, 429, "rate_limited")
        assert int(refused.headers["retry-after"]) > 0
        assert len(entered) == at_once
        release.set()
        assert [f.result().status_code for f in running] == [201] * at_once
    # The slots are free again, and the refused restore used none of the quota.
    assert _restore(live, backup).status_code == 201


def test_openapi_documents_the_restore_operation(live_service: LiveService) -> None:
    """No credentials, the body's bounds, and every status the route answers."""
    document = live_service.client.get("/openapi.json").json()
    operation = document["paths"][RESTORE]["post"]
    assert operation["operationId"] == "restoreWallet"
    assert operation["security"] == []
    assert set(operation["responses"]) == {"201", "400", "403", "408", "413", "429", "503"}
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert schema["required"] == ["backup", "passphrase", "pin"]
    assert schema["properties"]["backup"]["maxLength"] == live_service.config.max_restore_bytes
