"""The authority application: genesis, and who may sign which record types.

* ``authority.genesis`` (index 0 only): ``{"origin": str, "operator": DID, "grants":
  {DID: [record types]}}``, signed by the operator. It names the log and its operator and
  grants the first authorities — e.g. the Ministry of the Interior may sign
  ``status.publish``; the same table answers "may DID X issue ResidencyCredential?" through
  credential-type grants (``credential.ResidencyCredential``).
* ``authority.grant`` / ``authority.revoke``: ``{"subject": DID, "record_types": [...]}``,
  signed by the operator only.

State: ``origin``, ``operator``, and ``grants/<DID>`` -> sorted list of granted types.
"""

from __future__ import annotations

import re
from typing import Final

from seoul_vc._json import JSONValue
from seoul_vc.errors import (
    Code,
    InternalError,
    MalformedInputError,
    PolicyError,
    StateConflictError,
)
from seoul_vc.ledger.app import StateReader, StateWrites
from seoul_vc.ledger.entry import Entry

__all__ = ["GENESIS", "AuthorityApp", "granted_types"]

GENESIS: Final = "authority.genesis"
GRANT: Final = "authority.grant"
REVOKE: Final = "authority.revoke"
_GRANTABLE_RE: Final = re.compile(r"[a-z][a-z0-9_]*\.[A-Za-z][A-Za-z0-9_.]*")
_MAX_TYPES: Final = 64


def _types(value: object, field: str) -> list[str]:
    if (
        not isinstance(value, list)
        or not value
        or len(value) > _MAX_TYPES
        or not all(isinstance(t, str) and _GRANTABLE_RE.fullmatch(t) for t in value)
        or len(set(value)) != len(value)
    ):
        raise MalformedInputError(
            Code.MALFORMED, "record types: a non-empty list of distinct <app>.<Name>", field=field
        )
    return sorted(value)


def _did(value: object, field: str) -> str:
    if not isinstance(value, str) or not value.startswith("did:") or len(value) > 2048:
        raise MalformedInputError(Code.MALFORMED, "a DID is expected", field=field)
    return value


def granted_types(state: StateReader, did: str) -> frozenset[str]:
    """Return the record types ``did`` may sign, per the authority state."""
    value = state.get("authority", f"grants/{did}")
    return frozenset(str(t) for t in value) if isinstance(value, list) else frozenset()


class AuthorityApp:
    """Genesis and signer grants; see the module docstring."""

    name = "authority"
    record_types: frozenset[str] = frozenset({GENESIS, GRANT, REVOKE})
    # Genesis has no granting authority yet; grants and revokes are checked against the
    # operator in apply(). The core's generic grant check does not apply to these types.
    open_record_types: frozenset[str] = frozenset({GENESIS, GRANT, REVOKE})

    def validate(self, entry: Entry) -> None:
        """Check body shapes (see the module docstring).

        Raises:
            MalformedInputError: ``malformed`` naming the field.
        """
        body = entry.body
        if entry.type == GENESIS:
            if set(body) != {"origin", "operator", "grants"}:
                raise MalformedInputError(Code.MALFORMED, "genesis is origin/operator/grants")
            origin = body["origin"]
            if not isinstance(origin, str) or not 0 < len(origin) <= 256 or "\n" in origin:
                raise MalformedInputError(Code.MALFORMED, "origin is one line", field="origin")
            _did(body["operator"], "operator")
            grants = body["grants"]
            if not isinstance(grants, dict) or len(grants) > 1024:
                raise MalformedInputError(Code.MALFORMED, "grants is an object", field="grants")
            for did, types in grants.items():
                _did(did, "grants")
                _types(types, "grants")
            if body["operator"] != entry.signer:
                raise MalformedInputError(
                    Code.MALFORMED, "genesis is signed by its operator", field="operator"
                )
        else:
            if set(body) != {"subject", "record_types"}:
                raise MalformedInputError(Code.MALFORMED, "grant is subject/record_types")
            _did(body["subject"], "subject")
            _types(body["record_types"], "record_types")

    def apply(self, state: StateReader, entry: Entry, index: int) -> StateWrites:
        """Apply genesis, a grant or a revocation.

        Raises:
            StateConflictError: ``conflict`` for a second genesis or a genesis not at 0.
            PolicyError: ``untrusted_signer`` if a grant or revoke is not by the operator.
        """
        body = entry.body
        operator = state.get(self.name, "operator")
        if entry.type == GENESIS:
            if index != 0 or operator is not None:
                raise StateConflictError(Code.CONFLICT, "genesis is the first entry, once")
            writes: dict[str, JSONValue | None] = {
                "origin": body["origin"],
                "operator": body["operator"],
            }
            grants = body["grants"]
            if not isinstance(grants, dict):  # validate() ran first; this cannot happen
                raise InternalError(Code.INTERNAL, "genesis grants were not validated")
            for did, types in grants.items():
                writes[f"grants/{did}"] = _types(types, "grants")
            return writes
        if operator is None:
            raise StateConflictError(Code.CONFLICT, "the log has no genesis yet")
        if entry.signer != operator:
            raise PolicyError(Code.UNTRUSTED_SIGNER, "only the operator grants or revokes")
        subject = str(body["subject"])
        current = set(granted_types(state, subject))
        changed = set(_types(body["record_types"], "record_types"))
        updated = current | changed if entry.type == GRANT else current - changed
        return {f"grants/{subject}": sorted(updated) if updated else None}
