"""Who may call what: agency bearer tokens and the citizen's wallet id and PIN.

Room: service (surface).

* **Agency systems** (issuing and receiving agencies) send ``Authorization: Bearer <token>``
  (RFC 6750 §2.1); the configuration holds the tokens' SHA-256 digests per role.
* **The Citizen Card app** sends ``Authorization: Basic`` of ``wallet_id:PIN`` (RFC 7617),
  over TLS, on each act the PIN authorises in the library (list, show, delete, grant,
  withdraw, history). The service never stores or logs it. Wrong PINs are limited per
  citizen by the wallet itself (delays, then a lock) and per client here
  (:class:`~seoul_vc.service._http.FailureLimiter`, keyed by the peer address): a client
  spraying one PIN over many wallets is stopped.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from contextlib import contextmanager

from starlette.requests import Request

from seoul_vc.errors import Code, ConfigurationError, PolicyError, SeoulVCError
from seoul_vc.service._http import client_key, require_bearer
from seoul_vc.service.config import RoleConfig
from seoul_vc.service.context import Service
from seoul_vc.wallet import WalletService

__all__ = ["agency", "citizen", "pin_attempt", "wallets"]

_MAX_BASIC = 512


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


def citizen(request: Request) -> tuple[str, str]:
    """The ``(wallet_id, pin)`` of the request's Basic credentials.

    Raises:
        PolicyError: ``unauthorized`` for missing or malformed credentials.
    """
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value or len(value) > _MAX_BASIC:
        raise PolicyError(Code.UNAUTHORIZED, "the wallet id and PIN are required (Basic)")
    try:
        text = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise PolicyError(Code.UNAUTHORIZED, "the Basic credentials do not decode") from exc
    wallet_id, sep, pin = text.partition(":")
    if not sep or not wallet_id or not pin:
        raise PolicyError(Code.UNAUTHORIZED, "the Basic credentials are wallet_id:PIN")
    return wallet_id, pin


@contextmanager
def pin_attempt(request: Request, service: Service) -> Iterator[tuple[str, str]]:
    """Run a PIN-authorised act, counting a wrong PIN against the client.

    Yields the ``(wallet_id, pin)``; a library ``unlock_failed`` counts as one failure of
    the client.

    Raises:
        PolicyError: ``rate_limited`` once the client used up its failures.
    """
    key = client_key(request)
    service.pin_limiter.check(key)
    wallet_id, pin = citizen(request)
    try:
        yield wallet_id, pin
    except SeoulVCError as exc:
        if exc.code is Code.UNLOCK_FAILED:
            service.pin_limiter.fail(key)
        raise
