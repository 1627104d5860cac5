"""Part of :mod:`seoul_vc.credentials.verify`: what a verifier is given to consult.

A :class:`StatusSource` checks status entries, an :data:`IssuerKeySource` finds the keys of
``dc+sd-jwt`` issuers named by HTTPS URLs, and a :class:`NonceStore` hands out single-use
nonces and spends them; :class:`MemoryNonceStore` is the in-process default. Public as
:class:`seoul_vc.credentials.verify.StatusSource` and its neighbours.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Final, Protocol

from seoul_vc._json import JSONValue
from seoul_vc.clock import Clock, SystemClock
from seoul_vc.errors import Code, StateConflictError, UnavailableError
from seoul_vc.keys import PublicKey
from seoul_vc.limits import Limits

_DEFAULT_LIMITS: Final = Limits()


class StatusSource(Protocol):
    """Checks a credential's status entry (:class:`seoul_vc.status.StatusChecker`)."""

    def check(self, status: JSONValue, *, issuer: str | None) -> None:
        """Return if the credential is valid; raise ``revoked``/``suspended`` otherwise.

        ``status`` is ``credentialStatus`` (VC formats) or ``status`` (SD-JWT VC); ``issuer``
        is the credential's issuer, who must also have signed the status list.
        """
        ...


IssuerKeySource = Callable[[str, str | None], PublicKey]
"""``(iss, kid) -> key``: issuer metadata lookup for SD-JWT VC with an HTTPS ``iss``."""


class NonceStore(Protocol):
    """Single-use nonces: each may be spent once while it lives."""

    def issue(self) -> str:
        """Return a fresh nonce that this store will accept once."""
        ...

    def spend(self, nonce: str) -> None:
        """Spend ``nonce``; raise ``nonce_replayed`` if it was spent (or never issued)."""
        ...


class MemoryNonceStore:
    """An in-process, thread-safe nonce store with TTL and a hard bound on entries.

    Only nonces it issued are accepted (``require_issued``, the default), so an attacker
    cannot pick one; a spent nonce is remembered until it expires. When full, expired
    entries are dropped first; if it is still full, issuing fails with ``unavailable``
    rather than forgetting nonces that could then be replayed.
    """

    def __init__(
        self,
        *,
        limits: Limits = _DEFAULT_LIMITS,
        require_issued: bool = True,
        clock: Clock | None = None,
    ) -> None:
        self._clock = clock or SystemClock()
        self._ttl = limits.nonce_ttl.total_seconds()
        self._max = limits.max_nonces
        self._require_issued = require_issued
        self._entries: OrderedDict[str, tuple[float, bool]] = OrderedDict()
        self._lock = threading.Lock()

    def _prune(self, now: float) -> None:
        while self._entries:
            nonce, (expires, _) = next(iter(self._entries.items()))
            if expires > now:
                break
            del self._entries[nonce]

    def issue(self) -> str:
        """Return a fresh 128-bit nonce, usable once within the TTL."""
        nonce = secrets.token_urlsafe(16)
        now = self._clock.now().timestamp()
        with self._lock:
            self._prune(now)
            if len(self._entries) >= self._max:
                raise UnavailableError(Code.UNAVAILABLE, "too many outstanding nonces; retry")
            self._entries[nonce] = (now + self._ttl, False)
        return nonce

    def spend(self, nonce: str) -> None:
        """Spend a nonce once.

        Raises:
            StateConflictError: ``nonce_replayed`` if spent before, expired or unknown.
            UnavailableError: ``unavailable`` when full of live nonces.
        """
        now = self._clock.now().timestamp()
        with self._lock:
            self._prune(now)
            entry = self._entries.get(nonce)
            if entry is None:
                if self._require_issued:
                    raise StateConflictError(
                        Code.NONCE_REPLAYED, "the nonce is unknown, expired or already used"
                    )
                if len(self._entries) >= self._max:
                    raise UnavailableError(Code.UNAVAILABLE, "the nonce store is full; retry")
                self._entries[nonce] = (now + self._ttl, True)
                return
            if entry[1]:
                raise StateConflictError(Code.NONCE_REPLAYED, "the nonce was already used")
            self._entries[nonce] = (entry[0], True)
