"""did:web resolution over HTTPS, with no way to reach private addresses by default.

The room for the did:web method (W3C CCG *did:web Method Specification*): the strict DID to
URL rule of "Method-specific identifier" and "Read (Resolve)", and one guarded HTTPS fetch.

URL rule ("Read (Resolve)", steps 1-5): ``did:web:example.com`` becomes
``https://example.com/.well-known/did.json``; ``did:web:example.com%3A8443:user:alice``
becomes ``https://example.com:8443/user/alice/did.json``. The spec forbids IP addresses
("Method-specific identifier"), so the host must be a DNS name of LDH labels.

Threat model. A did:web DID usually arrives inside something untrusted (a credential's
``iss``, a JWS ``kid``), so the party who chose the DID chooses where the verifier connects:

* *Server-side request forgery.* The DID may name, directly or through DNS, a loopback,
  private, link-local (cloud metadata at 169.254.169.254) or otherwise special address. IP
  literals are refused by the URL rule, including the numeric forms browsers read as IPv4
  (``2130706433``, ``0x7f000001``, ``0177.0.0.1``, ``127.1``). Every address a name resolves
  to is vetted *when connecting*, and the socket is opened to that vetted address itself, so
  a second DNS answer (DNS rebinding) cannot slip in between check and use.
* *Authority and path confusion.* Percent-encoding in the host is refused except the one
  ``%3A`` before the port, so ``did:web:host%40127.0.0.1`` cannot become the userinfo
  ``host@127.0.0.1``; path segments may not be ``.``/``..`` or hide ``/``, ``?``, ``#`` or
  a backslash in percent-encoding, so one user's DID cannot resolve another's document
  ("Optional Path Considerations").
* *Downgrade.* HTTPS only, with certificate and host name verification; redirects are
  followed only to the same origin (scheme, host, port) and at most
  ``Limits.did_web_max_redirects`` times; no environment proxies, ``.netrc`` or cookies.
* *Exhaustion.* One deadline (``Limits.did_web_timeout``) covers DNS, connect, TLS and every
  read, so a server trickling a byte a second fails in about the timeout; the body is
  streamed and cut at ``Limits.max_did_document_bytes``; compressed bodies are refused (no
  decompression bombs); JSON depth is bounded by ``Limits.max_json_depth``.

Out of scope: a compromised web host or certificate authority, and DNS spoofing beyond what
TLS verification catches ("Security and privacy considerations", "DNS Considerations").

Example:
    >>> from seoul_vc.did.web import did_web_url
    >>> did_web_url("did:web:example.com%3A8443:user:alice")
    'https://example.com:8443/user/alice/did.json'
"""

from __future__ import annotations

import ipaddress
import re
import socket
import ssl
import threading
import time
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from http.cookiejar import CookieJar, DefaultCookiePolicy
from types import TracebackType
from typing import TYPE_CHECKING, Final
from urllib.parse import unquote_to_bytes

import httpcore
import httpx

from seoul_vc._encoding import parse_decimal
from seoul_vc._json import loads_object
from seoul_vc.did.document import parse_did_document
from seoul_vc.did.syntax import DID, parse_did
from seoul_vc.errors import (
    Code,
    ConfigurationError,
    InternalError,
    MalformedInputError,
    NotFoundError,
    PolicyError,
    UnavailableError,
)
from seoul_vc.limits import Limits

if TYPE_CHECKING:
    from pydid import DIDDocument

__all__ = ["GuardedBackend", "WebResolver", "check_public_address", "did_web_url"]

# -- the URL rule ----------------------------------------------------------------------------

_LABEL_RE: Final = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
# A last label that WHATWG URL parsing (and so browsers and many resolvers) reads as an IPv4
# number: all decimal digits (also octal with a leading 0), or 0x-hex, even "0x" alone.
_NUMERIC_LABEL_RE: Final = re.compile(r"[0-9]+|0x[0-9a-f]*")
_PORT_SEPARATOR_RE: Final = re.compile(r"%3[aA]")
_MAX_HOST_CHARS: Final = 253
# Bytes a path segment may not smuggle in through percent-encoding: separators and
# delimiters that a server decoding the path would act on, a second round of escaping, and
# control characters.
_FORBIDDEN_PATH_BYTES: Final = frozenset(b"/?#\\%") | frozenset(range(0x20)) | {0x7F}


def _invalid(message: str) -> MalformedInputError:
    return MalformedInputError(Code.INVALID_DID, message)


def _host(segment: str) -> tuple[str, int | None]:
    """Split the first method-specific-id segment into a lowercase DNS name and a port."""
    parts = _PORT_SEPARATOR_RE.split(segment)
    if len(parts) > 2:
        raise _invalid("a did:web host has at most one port")
    if any("%" in part for part in parts):
        # Only the port colon may be encoded: "%40" would otherwise turn the host into
        # userinfo ("host@127.0.0.1") for any parser that decodes the authority.
        raise _invalid("a did:web host may percent-encode only the port colon")
    name = parts[0].lower()
    port: int | None = None
    if len(parts) == 2:
        try:
            port = parse_decimal(parts[1], what="port", max_digits=5)
        except MalformedInputError as exc:
            raise _invalid("a did:web port is a canonical decimal") from exc
        if not 1 <= port <= 65535:
            raise _invalid("a did:web port is between 1 and 65535")
    if len(name) > _MAX_HOST_CHARS:
        raise _invalid(f"a did:web host has at most {_MAX_HOST_CHARS} characters")
    labels = name.split(".")
    if not all(_LABEL_RE.fullmatch(label) for label in labels):
        raise _invalid("a did:web host is a DNS name of letter-digit-hyphen labels")
    if _NUMERIC_LABEL_RE.fullmatch(labels[-1]):
        # The spec forbids IP addresses; a numeric last label is read as one by WHATWG URL
        # parsers (127.1, 0x7f000001, 2130706433), so it is refused in every form.
        raise _invalid("a did:web host may not be an IP address")
    if len(labels) < 2 and name != "localhost":
        raise _invalid("a did:web host is a fully qualified domain name")
    return name, port


def _check_path_segment(segment: str) -> None:
    if not segment:
        raise _invalid("a did:web path segment is empty")
    decoded = unquote_to_bytes(segment)
    if decoded in (b".", b".."):
        raise _invalid("a did:web path segment may not be . or ..")
    if not _FORBIDDEN_PATH_BYTES.isdisjoint(decoded):
        raise _invalid("a did:web path segment may not encode / ? # \\ % or controls")


def did_web_url(did: str) -> str:
    """Return the HTTPS URL of the DID document of a did:web DID.

    Implements "Read (Resolve)" steps 1-5 of the did:web Method Specification strictly: the
    host is a lowercase DNS name (never an IP address in any spelling), the only
    percent-encoding in it is the ``%3A`` before a port, and path segments are kept as
    written but may not be ``.``/``..`` or encode ``/``, ``?``, ``#``,
    ``%``, a backslash or control characters.

    Args:
        did: a did:web DID without path, query or fragment.

    Returns:
        ``https://host[:port]/.well-known/did.json`` for a bare host, else
        ``https://host[:port]/seg1/.../did.json``.

    Raises:
        MalformedInputError: ``invalid_did`` for anything but a valid did:web DID;
            ``too_large`` past the default DID length bound.
    """
    return _url(parse_did(did))


def _url(did: DID) -> str:
    method, _, specific = did[4:].partition(":")
    if method != "web":
        raise _invalid("not a did:web DID")
    host_segment, *path = specific.split(":")
    name, port = _host(host_segment)
    for segment in path:
        _check_path_segment(segment)
    authority = name if port is None else f"{name}:{port}"
    location = "/".join(path) if path else ".well-known"
    return f"https://{authority}/{location}/did.json"


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

# The monotonic time by which the current did:web fetch must end. A context variable, so
# that concurrent resolutions in other threads keep their own deadlines, and pooled
# connections obey the deadline of whoever is using them now.
_DEADLINE: ContextVar[float | None] = ContextVar("seoul_vc_did_web_deadline", default=None)


def _budget(timeout: float | None, expired: type[Exception]) -> float | None:
    """Return ``timeout`` shortened to what is left of the deadline, or raise ``expired``."""
    deadline = _DEADLINE.get()
    if deadline is None:
        return timeout
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise expired("the did:web deadline has passed")
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
        worker = threading.Thread(target=run, name="seoul-vc-did-web-dns", daemon=True)
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
    the did:web fetch in progress. Unix sockets are refused.

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
        """Refuse: did:web only ever connects over TCP.

        Raises:
            PolicyError: ``address_refused``.
        """
        raise PolicyError(Code.ADDRESS_REFUSED, "did:web does not use Unix sockets")

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
        return UnavailableError(Code.UNAVAILABLE, "the did:web host did not answer in time")
    return UnavailableError(Code.UNAVAILABLE, "the did:web host could not be reached")


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
            raise PolicyError(Code.INSECURE_TRANSPORT, "did:web is fetched over HTTPS only")
        if not isinstance(request.stream, httpx.SyncByteStream):
            raise InternalError(Code.INTERNAL, "a did:web request body is not synchronous")
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


# -- the resolver ------------------------------------------------------------------------------

_REDIRECTS: Final = frozenset({301, 302, 303, 307, 308})
_GONE: Final = frozenset({404, 410})
_HEADERS: Final = {
    "Accept": "application/did+json, application/json;q=0.9",
    # Compressed bodies are refused: a small gzip body can inflate past any bound.
    "Accept-Encoding": "identity",
    "User-Agent": "seoul-vc did:web resolver",
}


def _default_ssl_context() -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2  # "In-transit Security"
    return context


def _origin(url: httpx.URL) -> tuple[str, bytes, int]:
    return (url.scheme, url.raw_host.lower(), url.port or 443)


class WebResolver:
    """Resolves did:web DIDs over HTTPS, refusing private addresses and insecure transport.

    Thread-safe; keeps a small pool of keep-alive connections, so close it (or use it as a
    context manager) when done.

    Args:
        limits: ``max_did_bytes``, ``max_did_document_bytes``, ``max_json_depth``,
            ``did_web_timeout`` (one deadline for the whole resolution, redirects included)
            and ``did_web_max_redirects``.
        ssl_context: the TLS client context; default: the system trust store, TLS >= 1.2.
            It must verify certificates and host names. httpcore sets its ALPN protocols.
        unsafe_allow_private_addresses: connect to loopback and private addresses too. For
            tests against a local server only; HTTPS and every other check stay on.

    Raises:
        ConfigurationError: ``bad_argument`` for an ``ssl_context`` that does not verify,
            or a non-positive timeout or negative redirect count.

    Example:
        >>> from seoul_vc.did.web import WebResolver
        >>> with WebResolver() as resolver:
        ...     resolver.resolve("did:web:127.0.0.1")
        Traceback (most recent call last):
        seoul_vc.errors.MalformedInputError: invalid_did: a did:web host may not be an IP address
    """

    def __init__(
        self,
        *,
        limits: Limits | None = None,
        ssl_context: ssl.SSLContext | None = None,
        unsafe_allow_private_addresses: bool = False,
    ) -> None:
        self._limits = limits or Limits()
        if self._limits.did_web_timeout.total_seconds() <= 0:
            raise ConfigurationError(Code.BAD_ARGUMENT, "did_web_timeout must be positive")
        if self._limits.did_web_max_redirects < 0:
            raise ConfigurationError(Code.BAD_ARGUMENT, "did_web_max_redirects is negative")
        context = ssl_context if ssl_context is not None else _default_ssl_context()
        if context.verify_mode != ssl.CERT_REQUIRED or not context.check_hostname:
            raise ConfigurationError(
                Code.BAD_ARGUMENT, "the TLS context must verify certificates and host names"
            )
        transport = _GuardedTransport(
            ssl_context=context, allow_private_addresses=unsafe_allow_private_addresses
        )
        self._client = httpx.Client(
            transport=transport,
            headers=_HEADERS,
            # A jar that accepts no cookie: a did:web host cannot tag the verifier.
            cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
            follow_redirects=False,
            trust_env=False,
            timeout=self._limits.did_web_timeout.total_seconds(),
        )

    def resolve(self, did: str) -> DIDDocument:
        """Fetch and validate the DID document of a did:web DID.

        Cost: one HTTPS GET, plus at most ``did_web_max_redirects`` same-origin redirects,
        all within ``did_web_timeout``.

        Returns:
            The document, whose ``id`` is ``did``.

        Raises:
            MalformedInputError: ``invalid_did`` (see :func:`did_web_url`), ``too_large``
                for a long DID or a body past ``max_did_document_bytes``, ``too_deep``,
                ``duplicate_key`` or ``malformed`` for bad JSON, a compressed body or an
                invalid DID document.
            VerificationError: ``did_mismatch`` if the document's ``id`` is not ``did``.
            PolicyError: ``address_refused`` if the host resolves to a non-public address;
                ``insecure_transport`` for a redirect off the origin or past the limit.
            NotFoundError: ``not_found`` for HTTP 404 or 410.
            UnavailableError: ``unavailable`` for other statuses, DNS, connection, TLS and
                protocol failures, and the deadline passing.
            ConfigurationError: ``bad_argument`` once the resolver is closed.
        """
        parsed = parse_did(did, max_bytes=self._limits.max_did_bytes)
        url = _url(parsed)
        if self._client.is_closed:
            raise ConfigurationError(Code.BAD_ARGUMENT, "the did:web resolver is closed")
        token = _DEADLINE.set(time.monotonic() + self._limits.did_web_timeout.total_seconds())
        try:
            body = self._fetch(httpx.URL(url))
        except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError, *_TRANSPORT_ERRORS) as exc:
            raise _unavailable(exc) from exc
        finally:
            _DEADLINE.reset(token)
        data = loads_object(
            body,
            max_bytes=self._limits.max_did_document_bytes,
            max_depth=self._limits.max_json_depth,
            what="DID document",
        )
        return parse_did_document(data, did=parsed)

    def _fetch(self, url: httpx.URL) -> bytes:
        origin = _origin(url)
        for _ in range(self._limits.did_web_max_redirects + 1):
            response = self._client.send(self._client.build_request("GET", url), stream=True)
            try:
                if response.status_code == 200:
                    return self._read_body(response)
                if response.status_code in _GONE:
                    raise NotFoundError(
                        Code.NOT_FOUND,
                        "no DID document at the did:web URL",
                        status=response.status_code,
                    )
                location = response.headers.get("location")
                if response.status_code not in _REDIRECTS or location is None:
                    raise UnavailableError(
                        Code.UNAVAILABLE,
                        "the did:web host answered with an unexpected status",
                        status=response.status_code,
                    )
                url = _same_origin_target(url, location, origin)
            finally:
                response.close()
        raise PolicyError(
            Code.INSECURE_TRANSPORT,
            "too many did:web redirects",
            limit=self._limits.did_web_max_redirects,
        )

    def _read_body(self, response: httpx.Response) -> bytes:
        limit = self._limits.max_did_document_bytes
        encoding = response.headers.get("content-encoding", "identity").strip().lower()
        if encoding not in ("", "identity"):
            raise MalformedInputError(Code.MALFORMED, "the DID document is compressed")
        declared = response.headers.get("content-length", "")
        if declared.isascii() and declared.isdigit() and int(declared) > limit:
            raise MalformedInputError(
                Code.TOO_LARGE, f"DID document exceeds {limit} bytes", limit=limit
            )
        body = bytearray()
        for chunk in response.iter_raw():
            body += chunk
            if len(body) > limit:
                raise MalformedInputError(
                    Code.TOO_LARGE, f"DID document exceeds {limit} bytes", limit=limit
                )
            _budget(None, httpcore.ReadTimeout)
        return bytes(body)

    def close(self) -> None:
        """Close pooled connections; later :meth:`resolve` calls fail with ``bad_argument``."""
        self._client.close()

    def __enter__(self) -> WebResolver:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _same_origin_target(
    current: httpx.URL, location: str, origin: tuple[str, bytes, int]
) -> httpx.URL:
    """Return the redirect target, if it stays on the origin of the first URL.

    Raises:
        PolicyError: ``insecure_transport`` for another scheme, host or port, or userinfo.
        UnavailableError: ``unavailable`` for a Location that is not a URL.
    """
    try:
        target = current.join(location)
    except httpx.InvalidURL as exc:
        raise UnavailableError(Code.UNAVAILABLE, "the did:web redirect is not a URL") from exc
    if _origin(target) != origin or target.userinfo:
        raise PolicyError(Code.INSECURE_TRANSPORT, "did:web redirects only within its origin")
    return target
