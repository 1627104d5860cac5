"""A restore's own body bound: ``max_restore_bytes``, its slot first, and a deadline.

A backup carries the wallet's whole history, so it outgrows the bound of every other body
(``max_body_bytes``): the restore route alone takes up to ``max_restore_bytes``. So that
large bodies cannot pile up in memory, a restore takes one of ``RESTORES_AT_ONCE`` slots
before its body is read, and the body must declare its length and arrive within
``RESTORE_GRACE_SECONDS`` plus its length over ``RESTORE_MIN_RATE``: a client trickling a
body (a slowloris) is answered 408 ``request_timeout`` and its slot is free again.
"""

from __future__ import annotations

import json
import logging
import socket
import ssl
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from live_service import LiveService, basic, create_wallet, problem, receive_residency

from https_server import LocalCA
from seoul_vc.errors import ConfigurationError
from seoul_vc.service import ServiceConfig, init_config
from seoul_vc.service.config import DEFAULT_MAX_RESTORE, MAX_RESTORE_CEILING
from seoul_vc.service.routes import wallet as wallet_routes

StartService = Callable[..., LiveService]
API = "/wallet/v1"
RESTORE = f"{API}/wallets/restore"
PIN = "739164"
NEW_PIN = "246810"
PASSPHRASE = "correct horse battery staple"


def _backup_past_the_body_bound(live: LiveService) -> tuple[str, list[str]]:
    """A wallet holding three credentials; its backup (longer than max_body_bytes), their ids."""
    wallet_id = create_wallet(live, PIN)
    held = [receive_residency(live, wallet_id, PIN) for _ in range(3)]
    response = live.client.post(
        f"{API}/backup", json={"passphrase": PASSPHRASE}, headers=basic(wallet_id, PIN)
    )
    assert response.status_code == 200, response.text
    backup = str(response.json()["backup"])
    assert len(backup) > live.config.max_body_bytes
    return backup, held


def test_a_backup_past_max_body_bytes_restores_and_other_routes_keep_their_bound(
    start_service: StartService,
) -> None:
    """The restore route takes bodies up to max_restore_bytes; every other, max_body_bytes."""
    live = start_service(max_body_bytes=8 * 1024, max_restore_bytes=256 * 1024)
    backup, held = _backup_past_the_body_bound(live)
    restored = live.client.post(
        RESTORE, json={"backup": backup, "passphrase": PASSPHRASE, "pin": NEW_PIN}
    )
    assert restored.status_code == 201, restored.text
    listed = live.client.get(
        f"{API}/credentials", headers=basic(restored.json()["wallet_id"], NEW_PIN)
    )
    assert sorted(c["id"] for c in listed.json()["credentials"]) == sorted(held)
    # A body of that size anywhere else is refused from its Content-Length.
    big = {"pin": PIN, "padding": "x" * len(backup)}
    body = problem(live.client.post(f"{API}/wallets", json=big), 413, "too_large")
    assert body["details"] == {"limit": 8 * 1024}


def test_restore_bodies_past_max_restore_bytes_are_refused(start_service: StartService) -> None:
    """Declared past the bound: 413 before reading; a body without a length: 400."""
    live = start_service(max_restore_bytes=4 * 1024)
    over = {"backup": "A" * 4096, "passphrase": PASSPHRASE, "pin": NEW_PIN}
    body = problem(live.client.post(RESTORE, json=over), 413, "too_large")
    assert body["details"] == {"limit": 4 * 1024}

    def streamed():  # type: ignore[no-untyped-def]  # no length: sent chunked
        yield json.dumps({"backup": "x", "passphrase": PASSPHRASE, "pin": NEW_PIN}).encode()

    headers = {"content-type": "application/json"}
    refused = live.client.post(RESTORE, content=streamed(), headers=headers)
    assert problem(refused, 400, "malformed")["details"] == {"field": "content-length"}


def _trickle(live: LiveService, local_ca: LocalCA, declared: int) -> ssl.SSLSocket:
    """A restore whose headers promise ``declared`` bytes, of which one arrives."""
    address = urlsplit(live.url)
    assert address.port is not None
    raw = socket.create_connection(("127.0.0.1", address.port), timeout=15)
    conn = local_ca.client_context().wrap_socket(raw, server_hostname=address.hostname)
    conn.sendall(
        (
            f"POST {RESTORE} HTTP/1.1\r\nHost: {address.netloc}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {declared}\r\n\r\n{{"
        ).encode()
    )
    return conn


def _answer(conn: ssl.SSLSocket) -> tuple[int, dict[str, object]]:
    """The status and problem body of the response on ``conn`` (the server closes it)."""
    data = b""
    with conn:
        while chunk := conn.recv(65536):
            data += chunk
            head, _, rest = data.partition(b"\r\n\r\n")
            if rest and rest.endswith(b"}"):
                break
    status = int(head.split(b" ", 2)[1])
    return status, json.loads(rest)


@pytest.mark.parametrize("bound", ["per client", "per process"])
def test_stalled_restores_hold_their_slots_only_until_they_fall_behind(
    start_service: StartService,
    local_ca: LocalCA,
    monkeypatch: pytest.MonkeyPatch,
    bound: str,
) -> None:
    """Bodies being read hold the slots (one more restore is 429); stalled ones are 408.

    Each stalled upload declares 16 MiB and sends one byte: it is cut off after the grace,
    not after the 266 s its declared length would take at the slowest rate.
    """
    monkeypatch.setattr(wallet_routes, "RESTORE_GRACE_SECONDS", 3.0)
    if bound == "per process":  # the client bound out of the way: the process's is met
        monkeypatch.setattr(wallet_routes, "RESTORE_UPLOADS_PER_CLIENT", 10)
        monkeypatch.setattr(wallet_routes, "RESTORE_UPLOADS_AT_ONCE", 2)
    reading: list[int] = []
    real_read = wallet_routes.read_json_in_time

    async def read(*args: Any, **kwargs: Any) -> Any:
        reading.append(1)
        return await real_read(*args, **kwargs)

    monkeypatch.setattr(wallet_routes, "read_json_in_time", read)
    live = start_service()
    wallet_id = create_wallet(live, PIN)
    receive_residency(live, wallet_id, PIN)
    backup = live.client.post(
        f"{API}/backup", json={"passphrase": PASSPHRASE}, headers=basic(wallet_id, PIN)
    ).json()["backup"]
    started = time.monotonic()
    slow = [_trickle(live, local_ca, 16 << 20) for _ in range(2)]
    try:
        while len(reading) < len(slow):  # both hold their slots and read their bodies
            assert time.monotonic() - started < 5, "the stalled restores were not read"
            time.sleep(0.01)
        whole = {"backup": backup, "passphrase": PASSPHRASE, "pin": NEW_PIN}
        busy = problem(live.client.post(RESTORE, json=whole), 429, "rate_limited")
        assert busy["details"]["retry_after"] > 0
        assert len(reading) == len(slow)  # refused before its body was read
        answers = [_answer(conn) for conn in slow]
    finally:
        for conn in slow:
            conn.close()
    late = [(status, body["code"]) for status, body in answers]
    assert late == [(408, "request_timeout")] * len(slow)
    assert time.monotonic() - started < 15  # the grace and a little, not 266 s
    assert live.client.post(RESTORE, json=whole).status_code == 201


def test_an_upload_that_keeps_up_may_outlast_the_grace(
    start_service: StartService, local_ca: LocalCA, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The deadline moves with each chunk: a slow but steady body is read to its end."""
    monkeypatch.setattr(wallet_routes, "RESTORE_GRACE_SECONDS", 1.5)
    monkeypatch.setattr(wallet_routes, "RESTORE_MIN_RATE", 1000)
    live = start_service()
    body = json.dumps({"backup": "A" * 5900, "passphrase": "short", "pin": NEW_PIN}).encode()
    conn = _trickle(live, local_ca, len(body))  # sends the first byte, "{"
    try:
        started = time.monotonic()
        for offset in range(1, len(body), 600):  # 600 bytes every 0.3 s: 2000 bytes a second
            time.sleep(0.3)
            conn.sendall(body[offset : offset + 600])
        # Past the grace; each chunk is due 1.5 s + 0.6 s per 600 bytes in: ample margin.
        assert time.monotonic() - started > 2.5
        status, answer = _answer(conn)
    finally:
        conn.close()
    assert (status, answer["code"]) == (400, "malformed")  # read whole: the short passphrase
    assert answer["details"] == {"field": "passphrase"}


@pytest.mark.parametrize(
    ("body", "code"),
    [
        # More strings than three members can hold: refused before it is parsed.
        (
            {
                "backup": "x",
                "passphrase": PASSPHRASE,
                "pin": NEW_PIN,
                **{str(n): "" for n in range(600)},
            },
            "malformed",
        ),
        # Anything nested: a restore body is one flat object.
        ({"backup": [[1]] * 1000, "passphrase": PASSPHRASE, "pin": NEW_PIN}, "too_deep"),
    ],
    ids=["many strings", "nested"],
)
def test_restore_bodies_of_the_wrong_shape_are_refused_cheaply(
    live_service: LiveService, body: dict[str, object], code: str
) -> None:
    """Bodies that cannot be a restore are refused before they become many objects."""
    refused = problem(live_service.client.post(RESTORE, json=body), 400, code)
    if code == "malformed":  # counted, not parsed: no unknown member named
        assert refused["detail"] == "the body holds more strings than this request takes"


def test_openapi_states_the_restore_bound(start_service: StartService) -> None:
    """The backup's maxLength follows max_restore_bytes, not max_body_bytes."""
    live = start_service(max_body_bytes=8 * 1024, max_restore_bytes=300 * 1024)
    operation = live.client.get("/openapi.json").json()["paths"][RESTORE]["post"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert schema["properties"]["backup"]["maxLength"] == 300 * 1024
    assert "max_restore_bytes" in operation["description"]


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        (None, DEFAULT_MAX_RESTORE),
        (1024, 1024),
        (MAX_RESTORE_CEILING, MAX_RESTORE_CEILING),
        (MAX_RESTORE_CEILING + 1, None),
        (1023, None),
        (True, None),
        ("16777216", None),
    ],
)
def test_max_restore_bytes_is_checked_in_the_config(
    tmp_path: Path, value: object, accepted: int | None
) -> None:
    """1 KiB to the largest backup plus 16 KiB; anything else names the field."""
    path, _ = init_config(tmp_path, public_url="https://vc.seoul.example")
    doc = json.loads(path.read_text())
    if value is not None:
        doc["max_restore_bytes"] = value
    if accepted is not None:
        assert ServiceConfig.from_json(doc, base=tmp_path).max_restore_bytes == accepted
        return
    with pytest.raises(ConfigurationError) as raised:
        ServiceConfig.from_json(doc, base=tmp_path)
    assert raised.value.details == {"field": "max_restore_bytes"}


def test_a_client_leaving_mid_body_is_logged_as_such_and_frees_its_slot(
    start_service: StartService, local_ca: LocalCA, caplog: pytest.LogCaptureFixture
) -> None:
    """No 500 and no traceback for a client that went away; its place is released.

    One after another, more than the client's places: each would be 429 if the ones before
    had kept theirs.
    """
    live = start_service()
    gone = wallet_routes.RESTORE_UPLOADS_PER_CLIENT + 1
    with caplog.at_level(logging.DEBUG):
        for n in range(gone):
            _trickle(live, local_ca, 1000).close()
            _wait_for_lines(caplog, n + 1)
        # Every place is free again: a restore is read (and refused for its passphrase).
        short = {"backup": "x", "passphrase": "short", "pin": NEW_PIN}
        problem(live.client.post(RESTORE, json=short), 400, "malformed")
        _wait_for_lines(caplog, gone + 1)  # a line is written once its answer is sent
    codes = [line["code"] for line in _access_lines(caplog, RESTORE)]
    assert codes == ["client_disconnected"] * gone + ["malformed"]
    # (The TLS layer may log the abrupt closes; the service itself logs no error.)
    ours = [r for r in caplog.records if r.name.startswith("seoul_vc")]
    assert not [r for r in ours if r.levelno >= logging.ERROR or r.exc_info]


def _wait_for_lines(caplog: pytest.LogCaptureFixture, count: int) -> None:
    deadline = time.monotonic() + 10
    while len(_access_lines(caplog, RESTORE)) < count:
        assert time.monotonic() < deadline, "the restores were not logged"
        time.sleep(0.02)


def _access_lines(caplog: pytest.LogCaptureFixture, route: str) -> list[dict[str, Any]]:
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "seoul_vc.service"]
    return [line for line in lines if line["route"] == route]
