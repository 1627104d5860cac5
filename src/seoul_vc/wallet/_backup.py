"""The contents of a backup: what :meth:`~seoul_vc.wallet.WalletService.export` writes.

Part of :mod:`seoul_vc.wallet.wallet`: a restored backup's plaintext is only as
trustworthy as its passphrase, which whoever restores chooses, so :func:`_backup_contents`
checks every record against the shape export writes (the holder key, credentials and
consents by record id, the history events in order) before anything is stored. The
encryption and its scrypt bounds are :func:`~seoul_vc.wallet.vault.seal_backup` and
:func:`~seoul_vc.wallet.vault.open_backup`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final

from seoul_vc import _json
from seoul_vc._json import JSONObject, JSONValue
from seoul_vc.errors import Code, MalformedInputError
from seoul_vc.keys import PrivateKey
from seoul_vc.wallet.consent import ConsentGrant
from seoul_vc.wallet.history import EVENT_KINDS
from seoul_vc.wallet.vault import MAX_BACKUP_BYTES

_BACKUP_VERSION: Final = 1
#: Record ids a backup may carry: those :func:`~seoul_vc.wallet.consent.new_id` makes.
_RECORD_ID: Final = re.compile(r"[A-Za-z0-9_-]{1,64}")

_Records = list[tuple[str, JSONObject]]


def _damaged(what: str) -> MalformedInputError:
    return MalformedInputError(Code.MALFORMED, f"the backup's {what} is not as exported")


def _backup_contents(
    plaintext: bytes,
) -> tuple[PrivateKey, _Records, _Records, list[JSONObject]]:
    """The holder key, credentials, consents and events of a decrypted backup, checked.

    Raises:
        MalformedInputError: the first record that does not have the shape of
            :meth:`WalletService.export`.
    """
    obj = _json.loads_object(plaintext, max_bytes=MAX_BACKUP_BYTES, max_depth=16, what="backup")
    if set(obj) != {"version", "holder", "credentials", "consents", "events"}:
        raise _damaged("top level")
    holder, events = obj["holder"], obj["events"]
    if obj["version"] != _BACKUP_VERSION or not isinstance(holder, dict):
        raise _damaged("version or holder key")
    credentials = _backup_records(obj["credentials"], "credential", _check_credential)
    consents = _backup_records(obj["consents"], "consent", _check_consent)
    if not isinstance(events, list):
        raise _damaged("history")
    for seq, event in enumerate(events, start=1):
        if not (
            isinstance(event, dict)
            and set(event) == {"seq", "kind", "at", "details"}
            and event["seq"] == seq
            and _is_int(event["at"])
            and event["kind"] in EVENT_KINDS
            and isinstance(event["details"], dict)
        ):
            raise _damaged("history")
    checked = [e for e in events if isinstance(e, dict)]
    return PrivateKey.from_jwk(holder), credentials, consents, checked


def _backup_records(
    items: JSONValue, kind: str, check: Callable[[str, JSONObject], None]
) -> _Records:
    if not isinstance(items, list):
        raise _damaged(f"{kind} list")
    out: _Records = []
    for item in items:
        if not (isinstance(item, dict) and set(item) == {"id", "record"}):
            raise _damaged(kind)
        rid, record = item["id"], item["record"]
        if not (isinstance(rid, str) and _RECORD_ID.fullmatch(rid) and isinstance(record, dict)):
            raise _damaged(kind)
        check(rid, record)
        out.append((rid, record))
    if len({rid for rid, _ in out}) != len(out):
        raise _damaged(f"{kind} list")
    return out


def _is_int(value: JSONValue) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_credential(rid: str, record: JSONObject) -> None:
    """A credential record as :meth:`WalletService.receive` writes it."""
    if not (
        record.get("id") == rid
        and all(isinstance(record.get(k), str) for k in ("type", "vct", "issuer", "token"))
        and _is_int(record.get("received_at"))
        and isinstance(record.get("revoked", False), bool)
    ):
        raise _damaged("credential")


def _check_consent(rid: str, record: JSONObject) -> None:
    """A consent record as :meth:`WalletService.grant` writes it (grant and pseudonym)."""
    texts = ("consent_id", "verifier", "client_id", "purpose", "holder")
    items, pseudonym = record.get("items"), record.get("pseudonym")
    if not (
        record.get("consent_id") == rid
        and all(isinstance(record.get(k), str) for k in texts)
        and all(_is_int(record.get(k)) for k in ("max_views", "expires_at", "granted_index"))
        and isinstance(pseudonym, dict)
        and isinstance(items, list)
        and all(
            isinstance(i, dict)
            and all(isinstance(i.get(k), str) for k in ("query_id", "credential_id", "ref"))
            and isinstance(i.get("claims"), list)
            for i in items
        )
    ):
        raise _damaged("consent")
    PrivateKey.from_jwk(pseudonym)
    ConsentGrant.from_json(record)  # raises for a claim path that does not parse
