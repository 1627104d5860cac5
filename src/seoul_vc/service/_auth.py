"""Who may call what: agency bearer tokens and the citizen's wallet id and PIN.

Room: service (surface).

* **Agency systems** (issuing and receiving agencies) send ``Authorization: Bearer <token>``
  (RFC 6750 §2.1); the configuration holds the tokens' SHA-256 digests per role.
* **The Citizen Card app** sends ``Authorization: Basic`` of ``wallet_id:PIN`` (RFC 7617
  §2), over TLS, on each act the PIN authorises. The service never stores or logs it.
  Credentials that are missing or do not decode answer 401 ``unauthorized``; a PIN that does
  not unlock answers 401 ``unlock_failed``; both carry ``WWW-Authenticate: Basic`` (RFC 9110
  §11.6.1, §15.5.2) and ``details.scheme = "Basic"``.
* **Wrong PINs are limited twice.** Per citizen by the wallet itself (waits of
  :data:`~seoul_vc.wallet.wallet.PIN_DELAYS` as 409 ``wallet_locked`` with ``Retry-After``,
  then a lock for good); per client here (:class:`~seoul_vc.service._http.FailureLimiter`
  keyed by the peer address, 429 ``rate_limited``): a client spraying one PIN over many
  wallets is stopped. A try in progress counts against the client until it ends, so
  concurrent requests cannot outrun the count. A successful PIN does not reset the
  client's count, or an attacker holding one wallet could reset it between guesses.
* **An unknown wallet id answers exactly like a wrong PIN**: the same code, status, message
  and headers, after the same scrypt cost, with the same waits and lock (kept in memory per
  unknown id), and it counts against the client. The wallet id is thus half of the secret:
  a guesser cannot learn which ids exist.
* **Wallet creation is limited per client** (:func:`count_creation`), since each creation
  costs a scrypt hash and a row.

Routes call :func:`as_citizen` (the PIN-checking call runs in a worker thread, so scrypt
never blocks the event loop); :func:`pin_attempt` is the same policy as a context manager
for code that runs the library call itself.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import Final, NoReturn, TypeVar

import anyio.to_thread
from anyio import CapacityLimiter
from starlette.requests import Request

from seoul_vc._json import JSONObject
from seoul_vc.errors import (
    Code,
    ConfigurationError,
    PolicyError,
    SeoulVCError,
)
from seoul_vc.service._http import FailureLimiter, client_key, require_bearer
from seoul_vc.service.config import RoleConfig
from seoul_vc.service.context import Service
from seoul_vc.wallet import WalletService
from seoul_vc.wallet.vault import ScryptParams, check_pin, hash_pin
from seoul_vc.wallet.wallet import check_not_locked

__all__ = [
    "BASIC_SCHEME",
    "CREATIONS_PER_CLIENT",
    "CREATION_WINDOW_SECONDS",
    "agency",
    "as_citizen",
    "citizen",
    "count_creation",
    "pin_attempt",
    "wallets",
]

T = TypeVar("T")

#: The ``details.scheme`` of citizen authentication problems (selects the Basic challenge).
BASIC_SCHEME: Final = "Basic"
#: Wallets one client may create (or restore) per window.
CREATIONS_PER_CLIENT: Final = 10
CREATION_WINDOW_SECONDS: Final = 3600.0
_MAX_BASIC: Final = 512
#: Wallet ids are base64url (:func:`seoul_vc.wallet.consent.new_id`); anything else is unknown.
_WALLET_ID: Final = re.compile(r"[A-Za-z0-9_-]{8,64}")
_MAX_PHANTOMS: Final = 100_000


def agency(request: Request, role: RoleConfig | None) -> str:
    """Require an agency API token of ``role``; return its digest (for logs and ownership).

    Raises:
        PolicyError: ``unauthorized``.
    """
    if role is None:
        raise PolicyError(Code.UNAUTHORIZED, "a valid bearer token is required")
    return require_bearer(request, role.api_tokens)


def wallets(service: Service) -> WalletService:
    """The wallet service, or a clear error when this deployment does not run the wallet."""
    if service.wallets is None:
        raise ConfigurationError(Code.BAD_ARGUMENT, "this service does not run the wallet")
    return service.wallets


def _unauthorized(message: str) -> PolicyError:
    return PolicyError(Code.UNAUTHORIZED, message, scheme=BASIC_SCHEME)


def citizen(request: Request) -> tuple[str, str]:
    """The ``(wallet_id, pin)`` of the request's Basic credentials (RFC 7617 §2).

    The user-id is the wallet id, which never holds a colon; the password is the PIN, which
    may (the first colon splits them).

    Raises:
        PolicyError: ``unauthorized`` (401, Basic challenge) for missing or malformed
            credentials.
    """
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    value = value.strip(" ")
    if scheme.lower() != "basic" or not value or len(value) > _MAX_BASIC:
        raise _unauthorized("the wallet id and PIN are required (Basic)")
    try:
        text = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise _unauthorized("the Basic credentials do not decode") from exc
    wallet_id, sep, pin = text.partition(":")
    if not sep or not wallet_id or not pin:
        raise _unauthorized("the Basic credentials are wallet_id:PIN")
    return wallet_id, pin


class _CitizenGuard:
    """One service's citizen-authentication state: unknown ids' tries, creations per client."""

    def __init__(self) -> None:
        self.creations = FailureLimiter(
            max_failures=CREATIONS_PER_CLIENT, window=CREATION_WINDOW_SECONDS
        )
        self._salt = secrets.token_bytes(32)
        self._phantoms: dict[str, tuple[int, int]] = {}
        self._dummy: JSONObject | None = None
        self._lock = threading.Lock()

    def _verifier(self) -> JSONObject:
        # A PIN verifier of the wallet service's cost, so an unknown id costs a real try.
        with self._lock:
            if self._dummy is None:
                self._dummy = hash_pin(secrets.token_urlsafe(12), ScryptParams())
            return self._dummy

    def unknown_wallet(self, service: Service, key: str, wallet_id: str, pin: str) -> NoReturn:
        """Answer a try on an unknown wallet id as the wallet would answer a wrong PIN."""
        name = hmac.new(self._salt, wallet_id.encode("utf-8", "replace"), hashlib.sha256)
        digest = name.hexdigest()
        now = int(service.clock.now().timestamp())
        with self._lock:
            failures, failed_at = self._phantoms.get(digest, (0, 0))
        check_not_locked(failures, failed_at, now)  # the wallet's own check, as it is
        check_pin(pin, self._verifier())
        with self._lock:
            if digest not in self._phantoms and len(self._phantoms) >= _MAX_PHANTOMS:
                for old in list(self._phantoms)[: _MAX_PHANTOMS // 10]:
                    del self._phantoms[old]
            self._phantoms[digest] = (failures + 1, now)
        service.pin_limiter.fail(key)
        raise _pin_refused()


_GUARDS: Final[weakref.WeakKeyDictionary[Service, _CitizenGuard]] = weakref.WeakKeyDictionary()
_GUARDS_LOCK: Final = threading.Lock()


def _guard(service: Service) -> _CitizenGuard:
    with _GUARDS_LOCK:
        guard = _GUARDS.get(service)
        if guard is None:
            guard = _GUARDS[service] = _CitizenGuard()
        return guard


def _pin_refused() -> PolicyError:
    return PolicyError(
        Code.UNLOCK_FAILED, "the wallet id and PIN do not unlock a wallet", scheme=BASIC_SCHEME
    )


def _wallet_exists(service: Service, wallet_id: str) -> bool:
    try:
        wallets(service).holder_public_key(wallet_id)
    except SeoulVCError as exc:
        if exc.code is Code.NOT_FOUND:
            return False
        raise
    return True


def _judge(service: Service, key: str, wallet_id: str, pin: str, exc: SeoulVCError) -> NoReturn:
    """Re-raise a PIN-authorised act's error as the citizen API answers it."""
    if exc.code is Code.UNLOCK_FAILED:
        service.pin_limiter.fail(key)
        raise _pin_refused() from exc
    if exc.code is Code.NOT_FOUND and not _wallet_exists(service, wallet_id):
        _guard(service).unknown_wallet(service, key, wallet_id, pin)
    raise exc


def _run(service: Service, key: str, wallet_id: str, pin: str, act: Callable[[str, str], T]) -> T:
    if _WALLET_ID.fullmatch(wallet_id) is None:
        _guard(service).unknown_wallet(service, key, wallet_id, pin)
    try:
        return act(wallet_id, pin)
    except SeoulVCError as exc:
        _judge(service, key, wallet_id, pin, exc)


def _begin(request: Request, service: Service) -> tuple[str, str, str]:
    # Credentials first: a request without any is 401 even from a rate-limited client.
    wallet_id, pin = citizen(request)
    key = client_key(request)
    # Held until the try ends (the caller releases it): concurrent tries count as failures
    # meanwhile, so a burst of requests cannot all pass before the first failure is counted.
    service.pin_limiter.reserve(key)
    return key, wallet_id, pin


async def as_citizen(
    request: Request,
    service: Service,
    act: Callable[[str, str], T],
    *,
    limiter: CapacityLimiter | None = None,
) -> T:
    """Run ``act(wallet_id, pin)`` for the request's citizen, in a worker thread.

    ``act`` is a library call the PIN authorises (it checks the PIN itself, slowly: scrypt).
    Its errors are answered as the module docstring says.

    Args:
        request: the request with Basic credentials.
        service: the running service.
        act: the PIN-authorised call.
        limiter: a capacity limiter for costly acts (default: the shared thread pool's).

    Raises:
        PolicyError: ``unauthorized``, ``unlock_failed`` (both 401), ``rate_limited`` (429).
        StateConflictError: ``wallet_locked`` (409, ``retry_after`` while waiting).
        SeoulVCError: whatever ``act`` refuses otherwise.
    """
    key, wallet_id, pin = _begin(request, service)
    call = partial(_run, service, key, wallet_id, pin, act)
    try:
        return await anyio.to_thread.run_sync(call, limiter=limiter)
    finally:
        service.pin_limiter.release(key)


@contextmanager
def pin_attempt(request: Request, service: Service) -> Iterator[tuple[str, str]]:
    """Run a PIN-authorised act, counting a wrong PIN against the client.

    Yields the ``(wallet_id, pin)``; errors of the block are answered as :func:`as_citizen`
    answers them. Prefer :func:`as_citizen`, which runs the slow PIN check off the event
    loop; with this form, run the library call in a thread yourself.

    Raises:
        PolicyError: ``unauthorized``, ``unlock_failed``, ``rate_limited``.
    """
    key, wallet_id, pin = _begin(request, service)
    try:
        yield wallet_id, pin
    except SeoulVCError as exc:
        _judge(service, key, wallet_id, pin, exc)
    finally:
        service.pin_limiter.release(key)


def count_creation(request: Request, service: Service) -> None:
    """Count one wallet creation by the request's client; refuse past the client's quota.

    Raises:
        PolicyError: ``rate_limited`` (429) with ``retry_after``.
    """
    limiter = _guard(service).creations
    key = client_key(request)
    limiter.check(key)
    limiter.fail(key)
