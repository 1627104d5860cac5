"""The status application: every published status list version, anchored on the ledger.

``status.publish`` (granted per signer by the authority app) records one published status list
token without any personal data::

    {"uri": "https://status.seoul.example/lists/3f2a/status",
     "version": 7,
     "sha256": "<64 lowercase hex digits: SHA-256 of the exact token's ASCII bytes>",
     "size": 131072,
     "bits": 2}

``bits`` is the width of an entry (1 for a W3C Bitstring Status List; 1, 2, 4 or 8 for an
IETF Token Status List) and ``size`` the number of entries. Versions of one URI must increase,
and a URI belongs to the signer who first published it, so an issuer cannot put two lists
under one version, roll a URI back, or publish over another agency's list. Verifiers in
anchored mode (:mod:`seoul_vc.ledger.anchor`) accept a fetched list only if its hash is the
latest one recorded here for its URI.

State: ``list/<uri>`` -> ``{"version", "sha256", "index", "signer"}`` (``index`` is the
entry's position in the log, for inclusion proofs).

Example:
    >>> from seoul_vc.keys import PrivateKey
    >>> from seoul_vc.ledger.apps.status import PUBLISH, StatusApp
    >>> from seoul_vc.ledger.entry import sign_entry
    >>> body = {"uri": "https://status.example/1", "version": 1, "sha256": "00" * 32,
    ...         "size": 131072, "bits": 1}
    >>> StatusApp().validate(sign_entry(PUBLISH, body, PrivateKey.generate(), time=0))
"""

from __future__ import annotations

import re
from typing import Final

from seoul_vc._json import JSONValue
from seoul_vc.errors import Code, MalformedInputError, PolicyError, StateConflictError
from seoul_vc.ledger.app import StateReader, StateWrites
from seoul_vc.ledger.entry import Entry

__all__ = ["PUBLISH", "StatusApp", "state_key"]

PUBLISH: Final = "status.publish"
_MEMBERS: Final = frozenset({"uri", "version", "sha256", "size", "bits"})
_SHA256_HEX: Final = re.compile(r"[0-9a-f]{64}")
_MAX_URI: Final = 2048
_MAX_VERSION: Final = 2**53 - 1
#: 2**32 entries: far past any list Limits lets a verifier inflate.
_MAX_SIZE: Final = 2**32


def state_key(uri: str) -> str:
    """Return the state key holding the latest anchored version of ``uri``."""
    return f"list/{uri}"


def _int(value: object, field: str, low: int, high: int) -> int:
    if type(value) is not int or not low <= value <= high:
        raise MalformedInputError(
            Code.MALFORMED, f"{field} is an integer in {low}..{high}", field=field
        )
    return value


class StatusApp:
    """Published status list versions; see the module docstring."""

    name = "status"
    record_types: frozenset[str] = frozenset({PUBLISH})
    open_record_types: frozenset[str] = frozenset()

    def validate(self, entry: Entry) -> None:
        """Check the body's shape.

        Raises:
            MalformedInputError: ``malformed`` naming the field.
        """
        body = entry.body
        if set(body) != _MEMBERS:
            raise MalformedInputError(
                Code.MALFORMED, "status.publish is exactly uri/version/sha256/size/bits"
            )
        uri = body["uri"]
        if (
            not isinstance(uri, str)
            or not 0 < len(uri) <= _MAX_URI
            or not uri.isascii()
            or not uri.isprintable()
            or " " in uri
        ):
            raise MalformedInputError(Code.MALFORMED, "uri is a URI", field="uri")
        _int(body["version"], "version", 1, _MAX_VERSION)
        sha = body["sha256"]
        if not isinstance(sha, str) or _SHA256_HEX.fullmatch(sha) is None:
            raise MalformedInputError(
                Code.MALFORMED, "sha256 is 64 lowercase hex digits", field="sha256"
            )
        _int(body["size"], "size", 1, _MAX_SIZE)
        if body["bits"] not in (1, 2, 4, 8) or type(body["bits"]) is not int:
            raise MalformedInputError(Code.MALFORMED, "bits is 1, 2, 4 or 8", field="bits")

    def apply(self, state: StateReader, entry: Entry, index: int) -> StateWrites:
        """Record the version as the URI's latest.

        Raises:
            StateConflictError: ``conflict`` for a version not above the latest one.
            PolicyError: ``untrusted_signer`` if another signer owns the URI.
        """
        body = entry.body
        uri = str(body["uri"])
        version = body["version"]
        current = state.get(self.name, state_key(uri))
        if isinstance(current, dict):
            if current.get("signer") != entry.signer:
                raise PolicyError(
                    Code.UNTRUSTED_SIGNER, "another signer publishes this status list"
                )
            latest = current.get("version")
            if isinstance(latest, int) and isinstance(version, int) and version <= latest:
                raise StateConflictError(
                    Code.CONFLICT,
                    "a status list version must be above the latest anchored one",
                    latest=latest,
                )
        value: dict[str, JSONValue] = {
            "version": version,
            "sha256": body["sha256"],
            "index": index,
            "signer": entry.signer,
        }
        return {state_key(uri): value}
