"""Nothing readable at rest; wrong keys and damaged records fail clearly; no claims on the log.

These tests read the SQLite files' raw bytes (WAL included) after a full scenario.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from wallet_world import PIN, World

from seoul_vc import Code, FixedClock, SeoulVCError, SystemClock
from seoul_vc.credentials.schemas import example_subject
from seoul_vc.wallet import LocalMasterKey, WalletService
from seoul_vc.wallet.vault import open_backup

PASSPHRASE = "correct horse battery staple"


def _values(value: object) -> Iterator[str]:
    """Every scalar claim value of a subject, as the text it would be stored as."""
    if isinstance(value, dict):
        for child in value.values():
            yield from _values(child)
    elif isinstance(value, list):
        for child in value:
            yield from _values(child)
    elif isinstance(value, str):
        yield value


@pytest.fixture
def scenario(sqlite_urls: tuple[str, str], world_clock: FixedClock) -> Iterator[World]:
    """A full scenario: receive, grant, two views, a refusal, a withdrawal, a PIN change."""
    world = World(*sqlite_urls, world_clock)
    wallet, _ = world.citizen()
    consent = world.grant(wallet, max_views=2)
    for _ in range(2):
        token, nonce = world.request()
        world.check(wallet.view(consent, token), nonce)
    with pytest.raises(SeoulVCError):
        wallet.view(consent, world.request()[0])
    wallet.withdraw(PIN, consent)
    wallet.change_pin(PIN, "771122")
    wallet.change_pin("771122", PIN)
    world.wallet = wallet  # type: ignore[attr-defined]
    yield world
    world.close()


def _secrets(world: World) -> list[str]:
    """Claim values, the credential's parts, and every private key and data key we hold."""
    wallet = world.wallet  # type: ignore[attr-defined]
    backup = json.loads(open_backup(wallet.export(PIN, PASSPHRASE), PASSPHRASE))
    token = backup["credentials"][0]["record"]["token"]
    found = [v for v in _values(example_subject("residency")) if len(v) >= 4]
    found += [part for part in token.split("~") if part]  # issuer JWT and each disclosure
    found.append(backup["holder"]["d"])
    found += [c["record"]["pseudonym"]["d"] for c in backup["consents"]]
    return found


def _files(world: World) -> bytes:
    paths = [Path(url.removeprefix("sqlite:")) for url in (world.wallet_url,)]
    paths.append(paths[0].with_name("ledger.db"))
    data = b""
    for path in paths:
        for suffix in ("", "-wal"):
            candidate = Path(str(path) + suffix)
            if candidate.exists():
                data += candidate.read_bytes()
    return data


def test_database_files_hold_no_claim_value_or_key_material(scenario: World) -> None:
    """Scan every byte of the ledger and wallet files: no claim, token, disclosure or key."""
    data = _files(scenario)
    assert len(data) > 10_000
    secrets_found = _secrets(scenario)
    assert len(secrets_found) >= 8
    for secret in secrets_found:
        assert secret.encode("utf-8") not in data, "a secret is readable at rest"


def test_ledger_holds_no_claim_value_after_full_scenario(scenario: World) -> None:
    """Every ledger entry's bytes, and every consent state value, are free of claim values."""
    values = [v for v in _values(example_subject("residency")) if len(v) >= 2]
    ledger = scenario.ledger
    types = []
    for index in range(ledger.size):
        entry = ledger.entry(index)
        types.append(entry.type)
        text = entry.to_bytes().decode("utf-8")
        for value in values:
            assert value not in text
    assert types.count("consent.view") == 2
    assert types.count("consent.refusal") == 1


def test_wrong_master_key_is_a_clear_error(scenario: World) -> None:
    """Another master key: master_key_mismatch, never garbage."""
    other = WalletService(
        scenario.wallet_url,
        ledger=scenario.ledger,
        master_key=LocalMasterKey.generate(),
        trust=scenario.trust,
        log_signer=scenario.log,
        clock=SystemClock(),
    )
    try:
        with pytest.raises(SeoulVCError) as caught:
            other.credentials(scenario.wallet.id, PIN)  # type: ignore[attr-defined]
        assert caught.value.code == Code.MASTER_KEY_MISMATCH
        assert caught.value.exit_code == 2
    finally:
        other.close()


def _tamper(world: World, sql: str, *params: object) -> None:
    with sqlite3.connect(world.wallet_url.removeprefix("sqlite:")) as conn:
        conn.execute(sql, params)
    conn.close()


def test_corrupted_credential_record_is_a_clear_error(scenario: World) -> None:
    """One flipped character of a sealed credential: vault_record_corrupt."""
    wallet = scenario.wallet  # type: ignore[attr-defined]
    (body,) = (
        sqlite3.connect(scenario.wallet_url.removeprefix("sqlite:"))
        .execute("SELECT body FROM wallet_records WHERE kind = 'credential'")
        .fetchone()
    )
    pos = len(body) // 2
    flipped = body[:pos] + ("A" if body[pos] != "A" else "B") + body[pos + 1 :]
    _tamper(scenario, "UPDATE wallet_records SET body = ? WHERE kind = 'credential'", flipped)
    with pytest.raises(SeoulVCError) as caught:
        wallet.credentials(PIN)
    assert caught.value.code == Code.VAULT_RECORD_CORRUPT


def test_record_moved_to_another_row_is_refused(scenario: World) -> None:
    """A sealed record copied under another id does not open (its context is authenticated)."""
    wallet = scenario.wallet  # type: ignore[attr-defined]
    _tamper(
        scenario,
        "UPDATE wallet_records SET body = (SELECT body FROM wallet_records WHERE "
        "kind = 'event' AND record_id = '000000000001') WHERE kind = 'event' "
        "AND record_id = '000000000002'",
    )
    with pytest.raises(SeoulVCError) as caught:
        wallet.history(PIN)
    assert caught.value.code == Code.VAULT_RECORD_CORRUPT


def test_removed_history_event_is_detected(scenario: World) -> None:
    """Deleting a history event (even the last) breaks the chain: ledger_tampered."""
    wallet = scenario.wallet  # type: ignore[attr-defined]
    _tamper(
        scenario,
        "DELETE FROM wallet_records WHERE kind = 'event' AND record_id = "
        "(SELECT MAX(record_id) FROM wallet_records WHERE kind = 'event')",
    )
    with pytest.raises(SeoulVCError) as caught:
        wallet.history(PIN)
    assert caught.value.code == Code.LEDGER_TAMPERED


def test_backup_restores_into_a_new_wallet(scenario: World) -> None:
    """Export, restore with a new PIN: same credentials and history, old PIN not needed."""
    wallet = scenario.wallet  # type: ignore[attr-defined]
    backup = wallet.export(PIN, PASSPHRASE)
    restored = scenario.service.restore(backup, PASSPHRASE, "135790")
    assert restored.id != wallet.id
    assert [c.type for c in restored.credentials("135790")] == ["ResidencyCredential"]
    assert [e.kind for e in restored.history("135790")] == [e.kind for e in wallet.history(PIN)]
    with pytest.raises(SeoulVCError) as caught:
        scenario.service.restore(backup, "not the passphrase!", "135790")
    assert caught.value.code == Code.UNLOCK_FAILED
