"""Part of :mod:`seoul_vc._net`: the address guard, the deadline and the guarded transport.

:func:`check_public_address` refuses every non-public address; a context-variable deadline
cuts every DNS lookup, connect, TLS handshake, read and write of the fetch in progress;
:class:`GuardedBackend` resolves once, vets every address and connects to a vetted one (no
DNS-rebinding window); ``_GuardedTransport`` puts httpx over an httpcore pool on that
backend, HTTPS only, with transport failures mapped to ``unavailable``. Public as
:func:`seoul_vc._net.check_public_address` and :class:`seoul_vc._net.GuardedBackend`.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from typing import Final

import httpcore
import httpx

from seoul_vc.errors import Code, InternalError, PolicyError, UnavailableError

__all__ = ["GuardedBackend", "check_public_address"]

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
