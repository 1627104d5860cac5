"""The status registry's configuration and store, and the lists' kinds and URIs.

Part of :mod:`seoul_vc.status.registry`: :class:`_RegistryBase` is the base of
:class:`~seoul_vc.status.StatusRegistry` (whose docstring lists the arguments). It checks the
configuration (a list size of at least the herd-privacy minimum, an ``https`` base URL, a
validity and a ttl), opens the registry's tables (:mod:`seoul_vc.status._store`), reads the
issuer's clock, and maps a list URI back to the list it names. The kinds of list, their
entry widths and a list's URIs (``<base>/<id>/<revocation|suspension>`` or
``<base>/<id>/status``) are shared by allocation and publishing, so they live here too.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Final, Literal

from seoul_vc.credentials.issuer import Issuer
from seoul_vc.errors import Code, ConfigurationError, NotFoundError
from seoul_vc.limits import Limits
from seoul_vc.status._store import open_registry_store
from seoul_vc.status.anchoring import Anchor
from seoul_vc.status.bitstring import StatusPurpose

ListKind = Literal["bitstring", "token"]
#: Entry width of each kind of list, in bits.
_BITS: Final[Mapping[str, int]] = {"bitstring": 1, "token": 2}
_PURPOSES: Final = (StatusPurpose.REVOCATION, StatusPurpose.SUSPENSION)
_DEFAULT_LIMITS: Final = Limits()


class _RegistryBase:
    """The configuration and store of a :class:`~seoul_vc.status.StatusRegistry`."""

    def __init__(
        self,
        url: str,
        *,
        issuer: Issuer,
        base_url: str,
        list_size: int | None = None,
        validity: timedelta = timedelta(days=1),
        ttl: timedelta = timedelta(minutes=5),
        anchor: Anchor | None = None,
        limits: Limits | None = None,
    ) -> None:
        limits = limits or _DEFAULT_LIMITS
        size = limits.min_status_list_entries if list_size is None else list_size
        if size < limits.min_status_list_entries or size % 8 or size > 2**31:
            raise ConfigurationError(
                Code.BAD_ARGUMENT,
                "a list has a multiple of 8 entries, at least the herd-privacy minimum",
                minimum=limits.min_status_list_entries,
            )
        if not base_url.startswith("https://") or any(c in base_url for c in "?# \n"):
            raise ConfigurationError(
                Code.BAD_ARGUMENT, "base_url is an https URL without query or fragment"
            )
        if validity <= timedelta(0) or not timedelta(seconds=1) <= ttl <= validity:
            raise ConfigurationError(
                Code.BAD_ARGUMENT, "validity is positive and ttl between 1 s and validity"
            )
        self._store = open_registry_store(url)
        self._issuer = issuer
        self._base = base_url.rstrip("/")
        self._size = size
        self._validity = validity
        self._ttl = ttl
        self._anchor = anchor

    def close(self) -> None:
        """Close the database."""
        self._store.close()

    def _now(self) -> int:
        return int(self._issuer.clock.now().timestamp())

    def _list_of(self, uri: str) -> str:
        prefix = self._base + "/"
        rest = uri[len(prefix) :] if uri.startswith(prefix) else ""
        list_id, _, leaf = rest.partition("/")
        if leaf not in ("revocation", "suspension", "status") or not list_id:
            raise NotFoundError(Code.NOT_FOUND, "the status list is not one of this registry's")
        return list_id


def _uris(kind: ListKind, base: str, list_id: str) -> tuple[str, ...]:
    if kind == "token":
        return (f"{base}/{list_id}/status",)
    return tuple(f"{base}/{list_id}/{p.value}" for p in _PURPOSES)
