"""The status of the credentials an issuing service gave out: allocation, changes, lists.

Part of :mod:`seoul_vc.issuance`: :class:`_IssuanceStatus` extends the service's store with
its :class:`~seoul_vc.status.StatusRegistry`. A credential's status entry is allocated
when it is issued (OpenID4VCI 1.0 §8; a Token Status List ``status`` for ``dc+sd-jwt``,
Appendix A.3, Bitstring Status List entries for ``vc+jwt``), publishing a list the first
time one of its entries is handed out, so the credential verifies at once. The agency
revokes, suspends or reinstates a credential by its offer id or status claim, publishes,
and serves each list's latest version, re-signed once it has lived half its validity.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final, Literal

from seoul_vc import _json
from seoul_vc._json import JSONValue
from seoul_vc.errors import (
    Code,
    ConfigurationError,
    NotFoundError,
    SeoulVCError,
    StorageError,
    UnavailableError,
    VerificationError,
)
from seoul_vc.issuance._store import _IssuanceStore
from seoul_vc.jose import parse_compact
from seoul_vc.limits import Limits
from seoul_vc.status import PublishedList, StatusRegistry, StatusType

__all__ = ["StatusAction"]

StatusAction = Literal["revoke", "suspend", "reinstate"]


class _IssuanceStatus(_IssuanceStore):
    """The status lists of an :class:`~seoul_vc.issuance.IssuanceService`."""

    # -- status -----------------------------------------------------------------------------------
    def _registry(self) -> StatusRegistry:
        if self._status is None:
            raise ConfigurationError(Code.BAD_ARGUMENT, "this issuer keeps no status lists")
        return self._status

    def _allocate(self, format: str) -> JSONValue | None:
        if self._status is None:
            return None
        allocation = self._status.allocate(format)
        try:
            self._status.latest(allocation.uris[0])
        except NotFoundError:
            # A new list: publish it now, so the credential's status can be checked at once.
            try:
                self._status.publish()
            except (StorageError, UnavailableError):
                raise
            except SeoulVCError as exc:
                # The ledger refused the anchor (a missing grant): the operator must act.
                raise UnavailableError(
                    Code.UNAVAILABLE, "a new status list could not be published"
                ) from exc
        return allocation.status_claim()

    def status_reference(self, offer_id: str) -> JSONValue:
        """Return the status claim of the credential issued for an offer.

        Raises:
            NotFoundError: ``not_found`` for an unknown offer, or one not issued (or issued
                without status).
        """
        state = self.offer_state(offer_id)
        if state.status is None:
            raise NotFoundError(Code.NOT_FOUND, "no credential with a status was issued for it")
        return state.status

    def set_status(self, ref: str | JSONValue, action: StatusAction) -> StatusType:
        """Revoke, suspend or reinstate a credential, by its offer id or its status claim.

        The change is published by the next :meth:`publish`.

        Raises:
            NotFoundError: ``not_found`` for an unknown offer or entry.
            StateConflictError: ``conflict`` (suspending or reinstating a revoked entry).
            MalformedInputError: a status claim that does not parse.
            ConfigurationError: ``bad_argument`` without a status registry.
        """
        registry = self._registry()
        claim = self.status_reference(ref) if isinstance(ref, str) else ref
        if action == "revoke":
            registry.revoke(claim)
        elif action == "suspend":
            registry.suspend(claim)
        else:
            registry.reinstate(claim)
        return registry.status_of(claim)

    def publish(self, *, everything: bool = False) -> list[PublishedList]:
        """Sign, anchor and store a new version of each changed list (or of all).

        Raises:
            ConfigurationError: ``bad_argument`` without a status registry.
            SeoulVCError: as :meth:`seoul_vc.status.StatusRegistry.publish`.
        """
        return self._registry().publish(everything=everything)

    def status_list(self, uri: str) -> PublishedList:
        """Return the latest version of a list, re-publishing first if it is half expired.

        Every list is re-signed once the one asked for has lived half its validity, so the
        lists of a quiet issuer never expire in verifiers' hands.

        Raises:
            NotFoundError: ``not_found`` for a list never published.
            ConfigurationError: ``bad_argument`` without a status registry.
        """
        registry = self._registry()
        latest = registry.latest(uri)
        if not self._stale(latest):
            return latest
        with self._refresh_lock:
            latest = registry.latest(uri)
            if self._stale(latest):
                registry.publish(everything=True)
                latest = registry.latest(uri)
        return latest

    def _stale(self, published: PublishedList) -> bool:
        payload = _json.loads_object(
            parse_compact(published.token, limits=_LIST_LIMITS).payload,
            max_bytes=_LIST_LIMITS.max_token_bytes,
            max_depth=16,
            what="status list",
        )
        start, end = payload.get("iat"), payload.get("exp")
        if "validFrom" in payload:
            start, end = _instant(payload.get("validFrom")), _instant(payload.get("validUntil"))
        if type(start) is not int or type(end) is not int:
            raise VerificationError(Code.STATUS_LIST_INVALID, "a published list has no window")
        return self._now() >= start + (end - start) // 2


_LIST_LIMITS: Final = Limits(max_token_bytes=Limits().max_status_list_bytes)


def _instant(value: JSONValue) -> int | None:
    if not isinstance(value, str):
        return None
    try:
        return int(datetime.fromisoformat(value).timestamp())
    except ValueError:
        return None
