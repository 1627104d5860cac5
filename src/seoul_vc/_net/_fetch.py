"""Part of :mod:`seoul_vc._net`: the fetcher, what it returns and how it reads a body.

:class:`GuardedFetcher` runs each GET or POST under one deadline over the guarded transport
of :mod:`._guard`, follows only same-origin redirects and reads bodies streamed up to a byte
bound, refusing compressed ones; :class:`Fetched` and :class:`Answer` are what it returns,
:class:`Closing` the ``with`` support it shares with the resolvers built on it. Public as
the same names of :mod:`seoul_vc._net`.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from http.cookiejar import CookieJar, DefaultCookiePolicy
from types import TracebackType
from typing import Final, Self, TypeVar

import httpcore
import httpx

from seoul_vc._net._guard import (
    _DEADLINE,
    _TRANSPORT_ERRORS,
    _budget,
    _GuardedTransport,
    _unavailable,
)
from seoul_vc.errors import (
    Code,
    ConfigurationError,
    MalformedInputError,
    NotFoundError,
    PolicyError,
    SeoulVCError,
    UnavailableError,
)

__all__ = ["FETCH_ERRORS", "Answer", "Closing", "Fetched", "GuardedFetcher"]

_T = TypeVar("_T")

# -- the fetcher -------------------------------------------------------------------------------

_REDIRECTS: Final = frozenset({301, 302, 303, 307, 308})
_GONE: Final = frozenset({404, 410})

#: What escapes httpx and httpcore for a peer that fails us, besides SeoulVCError.
FETCH_ERRORS: Final = (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError, *_TRANSPORT_ERRORS)


def _default_ssl_context() -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def _origin(url: httpx.URL) -> tuple[str, bytes, int]:
    return (url.scheme, url.raw_host.lower(), url.port or 443)


@dataclass(frozen=True, slots=True)
class Fetched:
    """A fetched body and the media type its server declared (lowercase, no parameters)."""

    body: bytes
    media_type: str


@dataclass(frozen=True, slots=True)
class Answer:
    """A POST's answer: its status, bounded body and declared media type (lowercase)."""

    status: int
    body: bytes
    media_type: str


class Closing:
    """``with`` support for a holder of pooled connections: leaving the block calls ``close``.

    Subclasses define :meth:`close`; :class:`GuardedFetcher` and the resolvers built on one
    share this rather than each repeating the context-manager methods.
    """

    def close(self) -> None:
        """Release what the object holds; subclasses say what and extend this."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class GuardedFetcher(Closing):
    """HTTPS GETs and POSTs that refuse private addresses, insecure transport, big bodies.

    Thread-safe; keeps a small pool of keep-alive connections, so close it (or use it as a
    context manager) when done.

    Args:
        timeout: one deadline for a whole fetch, redirects included.
        max_redirects: same-origin redirects followed before refusing.
        user_agent: the User-Agent header.
        ssl_context: the TLS client context; default: the system trust store, TLS >= 1.2.
            It must verify certificates and host names.
        unsafe_allow_private_addresses: connect to loopback and private addresses too. For
            tests against a local server only; HTTPS and every other check stay on.

    Raises:
        ConfigurationError: ``bad_argument`` for an ``ssl_context`` that does not verify,
            a non-positive timeout or a negative redirect count.
    """

    def __init__(
        self,
        *,
        timeout: timedelta,
        max_redirects: int,
        user_agent: str = "seoul-vc",
        ssl_context: ssl.SSLContext | None = None,
        unsafe_allow_private_addresses: bool = False,
    ) -> None:
        if timeout.total_seconds() <= 0:
            raise ConfigurationError(Code.BAD_ARGUMENT, "the fetch timeout must be positive")
        if max_redirects < 0:
            raise ConfigurationError(Code.BAD_ARGUMENT, "the redirect limit is negative")
        context = ssl_context if ssl_context is not None else _default_ssl_context()
        if context.verify_mode != ssl.CERT_REQUIRED or not context.check_hostname:
            raise ConfigurationError(
                Code.BAD_ARGUMENT, "the TLS context must verify certificates and host names"
            )
        self._timeout = timeout.total_seconds()
        self._max_redirects = max_redirects
        transport = _GuardedTransport(
            ssl_context=context, allow_private_addresses=unsafe_allow_private_addresses
        )
        self._client = httpx.Client(
            transport=transport,
            headers={
                # Compressed bodies are refused: a small gzip body can inflate past any bound.
                "Accept-Encoding": "identity",
                "User-Agent": user_agent,
            },
            # A jar that accepts no cookie: a remote host cannot tag the caller.
            cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
            follow_redirects=False,
            trust_env=False,
            timeout=self._timeout,
        )

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._client.is_closed

    def get(self, url: str, *, accept: str, max_bytes: int, what: str) -> Fetched:
        """GET ``url`` and return its body, within the deadline and the byte bound.

        Args:
            url: an ``https`` URL.
            accept: the Accept header.
            max_bytes: the largest body accepted.
            what: names the document in error messages ("DID document", "status list").

        Raises:
            MalformedInputError: ``too_large`` for a body past ``max_bytes``; ``malformed``
                for a compressed body.
            PolicyError: ``address_refused`` if the host resolves to a non-public address;
                ``insecure_transport`` for a non-HTTPS URL, a redirect off the origin or
                past the limit.
            NotFoundError: ``not_found`` for HTTP 404 or 410.
            UnavailableError: ``unavailable`` for a URL that cannot be requested, other
                statuses, DNS, connection, TLS and protocol failures, and the deadline.
            ConfigurationError: ``bad_argument`` once the fetcher is closed.
        """
        return self._guarded(
            url,
            f"a {what} is fetched",
            lambda target: self._follow(target, accept, max_bytes, what),
        )

    def _guarded(self, url: str, verb: str, call: Callable[[httpx.URL], _T]) -> _T:
        """Run ``call`` on ``url`` under the deadline, HTTPS only, transport errors mapped."""
        if self._client.is_closed:
            raise ConfigurationError(Code.BAD_ARGUMENT, "the fetcher is closed")
        token = _DEADLINE.set(time.monotonic() + self._timeout)
        try:
            target = httpx.URL(url)
            if target.scheme != "https":
                raise PolicyError(Code.INSECURE_TRANSPORT, f"{verb} over HTTPS only")
            if target.userinfo:
                raise PolicyError(Code.INSECURE_TRANSPORT, f"{verb} to a URL without userinfo")
            return call(target)
        except SeoulVCError:
            raise
        except FETCH_ERRORS as exc:
            raise _unavailable(exc) from exc
        finally:
            _DEADLINE.reset(token)

    def _follow(self, url: httpx.URL, accept: str, max_bytes: int, what: str) -> Fetched:
        origin = _origin(url)
        headers = {"Accept": accept}
        for _ in range(self._max_redirects + 1):
            request = self._client.build_request("GET", url, headers=headers)
            response = self._client.send(request, stream=True)
            try:
                if response.status_code == 200:
                    body = _read_body(response, max_bytes, what)
                    media_type = response.headers.get("content-type", "")
                    return Fetched(body, media_type.split(";", 1)[0].strip().lower())
                if response.status_code in _GONE:
                    raise NotFoundError(
                        Code.NOT_FOUND, f"no {what} at the URL", status=response.status_code
                    )
                location = response.headers.get("location")
                if response.status_code not in _REDIRECTS or location is None:
                    raise UnavailableError(
                        Code.UNAVAILABLE,
                        f"the {what} host answered with an unexpected status",
                        status=response.status_code,
                    )
                url = _same_origin_target(url, location, origin, what)
            finally:
                response.close()
        raise PolicyError(
            Code.INSECURE_TRANSPORT, f"too many {what} redirects", limit=self._max_redirects
        )

    def post(
        self,
        url: str,
        *,
        body: bytes,
        content_type: str,
        accept: str,
        max_bytes: int,
        what: str,
        headers: Mapping[str, str] | None = None,
    ) -> Answer:
        """POST ``body`` to ``url`` once and return the answer, whatever its status.

        Protocol clients (OAuth 2.0 token requests, OpenID4VP ``direct_post``) read error
        bodies too, so every status is returned; redirects are never followed (a POST is
        not replayed elsewhere). The same address, transport, deadline and size rules as
        :meth:`get` apply.

        Raises:
            MalformedInputError: ``too_large``/``malformed`` for the answer's body.
            PolicyError: ``address_refused``, ``insecure_transport`` (not HTTPS, userinfo).
            UnavailableError: ``unavailable`` for transport failures and the deadline.
            ConfigurationError: ``bad_argument`` once the fetcher is closed.
        """
        sent = {"Accept": accept, "Content-Type": content_type, **(headers or {})}

        def send(target: httpx.URL) -> Answer:
            request = self._client.build_request("POST", target, headers=sent, content=body)
            response = self._client.send(request, stream=True)
            try:
                data = _read_body(response, max_bytes, what)
                media_type = response.headers.get("content-type", "")
                return Answer(
                    response.status_code, data, media_type.split(";", 1)[0].strip().lower()
                )
            finally:
                response.close()

        return self._guarded(url, f"a {what} is sent", send)

    def close(self) -> None:
        """Close pooled connections; later :meth:`get` calls fail with ``bad_argument``."""
        self._client.close()


def _read_body(response: httpx.Response, limit: int, what: str) -> bytes:
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("", "identity"):
        raise MalformedInputError(Code.MALFORMED, f"the {what} is compressed")
    declared = response.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise MalformedInputError(Code.TOO_LARGE, f"{what} exceeds {limit} bytes", limit=limit)
    body = bytearray()
    for chunk in response.iter_raw():
        body += chunk
        if len(body) > limit:
            raise MalformedInputError(Code.TOO_LARGE, f"{what} exceeds {limit} bytes", limit=limit)
        _budget(None, httpcore.ReadTimeout)
    return bytes(body)


def _same_origin_target(
    current: httpx.URL, location: str, origin: tuple[str, bytes, int], what: str
) -> httpx.URL:
    """Return the redirect target, if it stays on the origin of the first URL.

    Raises:
        PolicyError: ``insecure_transport`` for another scheme, host or port, or userinfo.
        UnavailableError: ``unavailable`` for a Location that is not a URL.
    """
    try:
        target = current.join(location)
    except httpx.InvalidURL as exc:
        raise UnavailableError(Code.UNAVAILABLE, f"the {what} redirect is not a URL") from exc
    if _origin(target) != origin or target.userinfo:
        raise PolicyError(Code.INSECURE_TRANSPORT, f"{what} redirects only within its origin")
    return target
