"""One guarded HTTPS GET for everything the library fetches from a party it does not trust.

did:web documents, SD-JWT VC issuer metadata and status lists all arrive from URLs that an
untrusted token chose, so they share one fetch with one threat model:

* *Server-side request forgery.* Every address a host name resolves to is vetted *when
  connecting* (loopback, private, link-local such as cloud metadata at 169.254.169.254, and
  every other special range are refused), and the socket is opened to that vetted address
  itself, so a second DNS answer (DNS rebinding) cannot slip in between check and use.
* *Downgrade.* HTTPS only, with certificate and host name verification; redirects are
  followed only to the same origin (scheme, host, port) and a bounded number of times; no
  environment proxies, ``.netrc`` or cookies.
* *Exhaustion.* One deadline covers DNS, connect, TLS and every read, so a server trickling a
  byte a second fails in about the timeout; the body is streamed and cut at a byte bound;
  compressed bodies are refused (no decompression bombs at the HTTP layer).

Example:
    >>> from seoul_vc._net import check_public_address
    >>> check_public_address("169.254.169.254")
    Traceback (most recent call last):
    seoul_vc.errors.PolicyError: address_refused: the host resolves to a non-public address
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timedelta
from http.cookiejar import CookieJar, DefaultCookiePolicy
from types import TracebackType
from typing import Final, Self, TypeVar

import httpcore
import httpx

from seoul_vc.errors import (
    Code,
    ConfigurationError,
    InternalError,
    MalformedInputError,
    NotFoundError,
    PolicyError,
    SeoulVCError,
    UnavailableError,
)

__all__ = [
    "FETCH_ERRORS",
    "Answer",
    "Fetched",
    "GuardedBackend",
    "GuardedFetcher",
    "check_public_address",
]

_T = TypeVar("_T")

# -- the address guard -----------------------------------------------------------------------

_IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Special-purpose ranges refused on top of what ``is_global`` says, because Python versions
# differ in which IANA registry entries they know (IANA IPv4/IPv6 Special-Purpose Address
# Registries, RFC 6890).
_REFUSED_NETWORKS: Final = tuple(
    ipaddress.ip_network(net)
    for net in (
        "0.0.0.0/8",  # "this network" (RFC 791)
        "100.64.0.0/10",  # shared address space, carrier-grade NAT (RFC 6598)
        "192.0.0.0/24",  # IETF protocol assignments (RFC 6890)
        "192.88.99.0/24",  # deprecated 6to4 relay anycast (RFC 7526)
        "198.18.0.0/15",  # benchmarking (RFC 2544)
        "64:ff9b:1::/48",  # local-use IPv4/IPv6 translation (RFC 8215)
        "100::/64",  # discard-only (RFC 6666)
        "2001::/23",  # IETF protocol assignments, Teredo, benchmarking, ORCHID (RFC 2928)
        "2001:db8::/32",  # documentation (RFC 3849)
        "3fff::/20",  # documentation (RFC 9637)
        "5f00::/16",  # segment routing SIDs (RFC 9602)
        "fc00::/7",  # unique local (RFC 4193)
        "fec0::/10",  # deprecated site-local (RFC 3879)
    )
)
_NAT64: Final = ipaddress.IPv6Network("64:ff9b::/96")  # well-known prefix (RFC 6052)


def _is_public(ip: _IPAddress) -> bool:
    if isinstance(ip, ipaddress.IPv6Address):
        # Forms that embed an IPv4 address reach that address: judge what they embed.
        if ip.ipv4_mapped is not None:
            return _is_public(ip.ipv4_mapped)
        if ip in _NAT64:
            return _is_public(ipaddress.IPv4Address(int(ip) & 0xFFFF_FFFF))
        if int(ip) >> 32 == 0:  # ::/96: unspecified, loopback, IPv4-compatible (RFC 4291)
            return False
        if ip.sixtofour is not None and not _is_public(ip.sixtofour):
            return False
        if ip.teredo is not None:  # also inside 2001::/23, so refused below in any case
            return False
        if ip.is_site_local:
            return False
    special = (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )
    return ip.is_global and not special and not any(ip in net for net in _REFUSED_NETWORKS)


def check_public_address(address: str) -> None:
    """Check that ``address`` is a globally reachable unicast IP address.

    Refused: loopback, private, link-local, multicast, reserved, unspecified, shared
    (100.64/10), documentation, benchmarking, unique-local and site-local ranges, and the
    IPv4-mapped, IPv4-compatible, 6to4, Teredo and NAT64 forms that embed such an address.

    Raises:
        PolicyError: ``address_refused``.
    """
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone index
    except ValueError as exc:
        raise PolicyError(Code.ADDRESS_REFUSED, "not an IP address") from exc
    if not _is_public(ip):
        raise PolicyError(
            Code.ADDRESS_REFUSED, "the host resolves to a non-public address", address=str(ip)
        )


# -- one deadline for the whole fetch ----------------------------------------------------------

# The monotonic time by which the current fetch must end. A context variable, so
# that concurrent resolutions in other threads keep their own deadlines, and pooled
# connections obey the deadline of whoever is using them now.
_DEADLINE: ContextVar[float | None] = ContextVar("seoul_vc_fetch_deadline", default=None)


def _budget(timeout: float | None, expired: type[Exception]) -> float | None:
    """Return ``timeout`` shortened to what is left of the deadline, or raise ``expired``."""
    deadline = _DEADLINE.get()
    if deadline is None:
        return timeout
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise expired("the fetch deadline has passed")
    return remaining if timeout is None else min(timeout, remaining)


class _DeadlineStream(httpcore.NetworkStream):
    """A network stream whose every read, write and TLS handshake ends by the deadline."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _budget(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _budget(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        budget = _budget(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, budget))

    def get_extra_info(self, info: str) -> object:
        return self._inner.get_extra_info(info)


def _lookup(host: str, port: int, timeout: float | None) -> list[str]:
    """Resolve ``host`` to its distinct addresses, giving up after ``timeout`` seconds.

    ``getaddrinfo`` has no timeout of its own and a hostile name server can stall it, so it
    runs in a daemon thread that is abandoned (it ends on the system resolver's timeout) when
    the deadline passes.
    """
    results: list[list[str]] = []
    errors: list[Exception] = []

    def run() -> None:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError, ValueError) as exc:
            errors.append(exc)
            return
        results.append(list(dict.fromkeys(str(info[4][0]) for info in infos)))

    if timeout is None:
        run()
    else:
        worker = threading.Thread(target=run, name="seoul-vc-dns", daemon=True)
        worker.start()
        worker.join(timeout)
        if worker.is_alive():
            raise httpcore.ConnectTimeout("DNS lookup timed out")
    if errors:
        raise httpcore.ConnectError("DNS lookup failed") from errors[0]
    if not results or not results[0]:
        raise httpcore.ConnectError("the host has no address")
    return results[0]


class GuardedBackend(httpcore.NetworkBackend):
    """An httpcore network backend that vets addresses at connect time.

    ``connect_tcp`` resolves the host once, refuses the connection if *any* address it
    resolves to fails :func:`check_public_address`, and then connects to a vetted address
    itself, so no second DNS answer is ever used (no DNS-rebinding window). TLS still uses
    the host name: httpcore calls ``start_tls(server_hostname=host)`` on the returned stream,
    so SNI and certificate name checks are unchanged. Streams returned obey the deadline of
    the fetch in progress. Unix sockets are refused.

    Args:
        allow_private_addresses: skip the address check (tests on loopback only).
    """

    def __init__(self, *, allow_private_addresses: bool = False) -> None:
        self._inner = httpcore.SyncBackend()
        self._allow_private = allow_private_addresses

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        """Resolve ``host``, vet every address, and connect to the first that answers.

        Raises:
            PolicyError: ``address_refused`` if any address is not public (unless allowed).
            httpcore.ConnectError, httpcore.ConnectTimeout: lookup or connection failures,
                for the transport to map.
        """
        addresses = _lookup(host, port, _budget(timeout, httpcore.ConnectTimeout))
        if not self._allow_private:
            for address in addresses:
                check_public_address(address)
        options = list(socket_options or ())
        failure: Exception | None = None
        for address in addresses:
            try:
                stream = self._inner.connect_tcp(
                    address,
                    port,
                    timeout=_budget(timeout, httpcore.ConnectTimeout),
                    local_address=local_address,
                    socket_options=options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
                continue
            return _DeadlineStream(stream)
        raise httpcore.ConnectError("no address of the host accepted a connection") from failure

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        """Refuse: fetches only ever connect over TCP.

        Raises:
            PolicyError: ``address_refused``.
        """
        raise PolicyError(Code.ADDRESS_REFUSED, "fetches do not use Unix sockets")

    def sleep(self, seconds: float) -> None:
        """Sleep (httpcore's retry back-off; unused, as retries are off)."""
        self._inner.sleep(seconds)


# -- the transport -------------------------------------------------------------------------------

# Everything httpcore, ssl and socket raise for a peer that fails us; mapped to `unavailable`.
_TRANSPORT_ERRORS: Final = (
    httpcore.TimeoutException,
    httpcore.NetworkError,
    httpcore.ProtocolError,
    httpcore.ProxyError,
    httpcore.UnsupportedProtocol,
    httpcore.ConnectionNotAvailable,
    ssl.SSLError,
    OSError,
)


def _unavailable(exc: BaseException) -> UnavailableError:
    if isinstance(exc, httpcore.TimeoutException | TimeoutError):
        return UnavailableError(Code.UNAVAILABLE, "the remote host did not answer in time")
    return UnavailableError(Code.UNAVAILABLE, "the remote host could not be reached")


class _ResponseStream(httpx.SyncByteStream):
    """An httpx body stream over an httpcore response, mapping failures to ``unavailable``."""

    def __init__(self, response: httpcore.Response) -> None:
        self._response = response

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self._response.iter_stream()
        except _TRANSPORT_ERRORS as exc:
            raise _unavailable(exc) from exc

    def close(self) -> None:
        try:
            self._response.close()
        except _TRANSPORT_ERRORS as exc:
            raise _unavailable(exc) from exc


class _GuardedTransport(httpx.BaseTransport):
    """An httpx transport over an httpcore pool whose connections go through GuardedBackend.

    HTTPS only (also below the redirect check), HTTP/1.1 only, no retries, no proxies, and
    every timeout cut to what is left of the fetch's deadline.
    """

    def __init__(self, *, ssl_context: ssl.SSLContext, allow_private_addresses: bool) -> None:
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context,
            max_connections=20,
            max_keepalive_connections=10,
            keepalive_expiry=5.0,
            http1=True,
            http2=False,
            retries=0,
            network_backend=GuardedBackend(allow_private_addresses=allow_private_addresses),
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.scheme != "https":
            raise PolicyError(Code.INSECURE_TRANSPORT, "fetches are over HTTPS only")
        if not isinstance(request.stream, httpx.SyncByteStream):
            raise InternalError(Code.INTERNAL, "a request body is not synchronous")
        requested = request.extensions.get("timeout", {})
        try:
            # The client's timeouts, each cut to what is left of the fetch's deadline.
            timeouts = {
                phase: _budget(requested.get(phase), httpcore.PoolTimeout)
                for phase in ("connect", "read", "write", "pool")
            }
            core_request = httpcore.Request(
                method=request.method,
                url=httpcore.URL(
                    scheme=request.url.raw_scheme,
                    host=request.url.raw_host,
                    port=request.url.port,
                    target=request.url.raw_path,
                ),
                headers=request.headers.raw,
                content=request.stream,
                # Only the timeouts are passed on: extensions such as "sni_hostname" would
                # change which name TLS verifies.
                extensions={"timeout": timeouts},
            )
            core_response = self._pool.handle_request(core_request)
        except _TRANSPORT_ERRORS as exc:
            raise _unavailable(exc) from exc
        return httpx.Response(
            status_code=core_response.status,
            headers=core_response.headers,
            stream=_ResponseStream(core_response),
            extensions=core_response.extensions,
        )

    def close(self) -> None:
        try:
            self._pool.close()
        except _TRANSPORT_ERRORS as exc:
            raise _unavailable(exc) from exc


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
