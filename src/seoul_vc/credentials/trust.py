"""The issuer trust registry: which issuer may issue which credential type.

A verifier trusts a credential only if its issuer may issue its type ("the Ministry of the
Interior and Safety issues ResidencyCredential"). :class:`TrustPolicy` is the seam: the file
registry here now, the ledger's authority state (``ledger.apps.authority``) later. An empty
registry is refused, so a misconfigured verifier cannot trust nobody by accident and then be
"fixed" by a wildcard.

File format (JSON)::

    {"issuers": [{"id": "did:key:z6Mk...", "name": "Ministry of the Interior and Safety",
                  "types": ["ResidencyCredential"]}]}

Example:
    >>> from seoul_vc.credentials.trust import TrustRegistry
    >>> registry = TrustRegistry.from_json(
    ...     {"issuers": [{"id": "did:example:moi", "types": ["ResidencyCredential"]}]}
    ... )
    >>> registry.may_issue("did:example:moi", "ResidencyCredential")
    True
    >>> registry.may_issue("did:example:moi", "IncomeCredential")
    False
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

from seoul_vc import _json
from seoul_vc.errors import Code, ConfigurationError, MalformedInputError

__all__ = ["TrustPolicy", "TrustRegistry"]


class TrustPolicy(Protocol):
    """Decides whether an issuer may issue a credential type."""

    def may_issue(self, issuer: str, credential_type: str) -> bool:
        """Return True if ``issuer`` (a DID or issuer URL) may issue ``credential_type``."""
        ...


class TrustRegistry:
    """A static registry: issuer identifier -> credential types it may issue.

    Raises:
        ConfigurationError: ``bad_argument`` for an empty registry.
    """

    def __init__(self, issuers: Mapping[str, frozenset[str]], names: Mapping[str, str]) -> None:
        if not issuers:
            raise ConfigurationError(Code.BAD_ARGUMENT, "a trust registry needs an issuer")
        self._issuers = dict(issuers)
        self.names = dict(names)

    def may_issue(self, issuer: str, credential_type: str) -> bool:
        """Return True if the registry lists ``credential_type`` for ``issuer``."""
        return credential_type in self._issuers.get(issuer, frozenset())

    @classmethod
    def from_json(cls, data: object) -> TrustRegistry:
        """Build a registry from its parsed JSON form (see the module docstring).

        Raises:
            MalformedInputError: ``malformed`` naming the bad member.
            ConfigurationError: ``bad_argument`` for an empty registry.
        """
        if not isinstance(data, dict) or set(data) != {"issuers"}:
            raise MalformedInputError(Code.MALFORMED, "a trust registry is {issuers: [...]}")
        entries = data["issuers"]
        if not isinstance(entries, list):
            raise MalformedInputError(Code.MALFORMED, "issuers is a list", field="issuers")
        issuers: dict[str, frozenset[str]] = {}
        names: dict[str, str] = {}
        for i, entry in enumerate(entries):
            if not isinstance(entry, dict) or not set(entry) <= {"id", "name", "types"}:
                raise MalformedInputError(Code.MALFORMED, "bad issuer entry", index=i)
            ident, types, name = entry.get("id"), entry.get("types"), entry.get("name", "")
            if not isinstance(ident, str) or not ident or len(ident) > 2048:
                raise MalformedInputError(Code.MALFORMED, "issuer id is a string", index=i)
            if not isinstance(name, str):
                raise MalformedInputError(Code.MALFORMED, "issuer name is a string", index=i)
            if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
                raise MalformedInputError(Code.MALFORMED, "types is a list of names", index=i)
            if ident in issuers:
                raise MalformedInputError(Code.MALFORMED, "an issuer is listed twice", index=i)
            issuers[ident] = frozenset(str(t) for t in types)
            names[ident] = name
        return cls(issuers, names)

    @classmethod
    def from_file(
        cls, path: str | os.PathLike[str], *, max_bytes: int = 1024 * 1024
    ) -> TrustRegistry:
        """Read a registry file.

        Raises:
            ConfigurationError: ``unreadable_input`` if the file cannot be read.
            MalformedInputError: as :meth:`from_json`, and JSON bound codes.
        """
        try:
            with Path(path).open("rb") as handle:
                raw = handle.read(max_bytes + 1)
        except OSError as exc:
            raise ConfigurationError(
                Code.UNREADABLE_INPUT, "the trust registry file cannot be read"
            ) from exc
        return cls.from_json(
            _json.loads(raw, max_bytes=max_bytes, max_depth=8, what="trust registry")
        )
