"""did:web resolution over HTTPS, with no way to reach private addresses by default.

The room for the did:web method (W3C CCG *did:web Method Specification*): the strict DID to
URL rule of "Method-specific identifier" and "Read (Resolve)", and one guarded HTTPS fetch.

URL rule ("Read (Resolve)", steps 1-5): ``did:web:example.com`` becomes
``https://example.com/.well-known/did.json``; ``did:web:example.com%3A8443:user:alice``
becomes ``https://example.com:8443/user/alice/did.json``. The spec forbids IP addresses
("Method-specific identifier"), so the host must be a DNS name of LDH labels.

Threat model (the fetch itself is :mod:`seoul_vc._net`). A did:web DID usually arrives inside
something untrusted (a credential's ``iss``, a JWS ``kid``), so the party who chose the DID
chooses where the verifier connects:

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

import re
import ssl
from typing import TYPE_CHECKING, Final
from urllib.parse import unquote_to_bytes

from seoul_vc._encoding import parse_decimal
from seoul_vc._json import loads_object
from seoul_vc._net import Closing, GuardedBackend, GuardedFetcher, check_public_address
from seoul_vc.did.document import parse_did_document
from seoul_vc.did.syntax import DID, parse_did
from seoul_vc.errors import Code, ConfigurationError, MalformedInputError
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


# -- the resolver ------------------------------------------------------------------------------

_ACCEPT: Final = "application/did+json, application/json;q=0.9"


class WebResolver(Closing):
    """Resolves did:web DIDs over HTTPS, refusing private addresses and insecure transport.

    Thread-safe; keeps a small pool of keep-alive connections, so close it (or use it as a
    context manager) when done. The fetch itself is :class:`seoul_vc._net.GuardedFetcher`.

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
        self._fetcher = GuardedFetcher(
            timeout=self._limits.did_web_timeout,
            max_redirects=self._limits.did_web_max_redirects,
            user_agent="seoul-vc did:web resolver",
            ssl_context=ssl_context,
            unsafe_allow_private_addresses=unsafe_allow_private_addresses,
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
        if self._fetcher.closed:
            raise ConfigurationError(Code.BAD_ARGUMENT, "the did:web resolver is closed")
        fetched = self._fetcher.get(
            url,
            accept=_ACCEPT,
            max_bytes=self._limits.max_did_document_bytes,
            what="DID document",
        )
        data = loads_object(
            fetched.body,
            max_bytes=self._limits.max_did_document_bytes,
            max_depth=self._limits.max_json_depth,
            what="DID document",
        )
        return parse_did_document(data, did=parsed)

    def close(self) -> None:
        """Close pooled connections; later :meth:`resolve` calls fail with ``bad_argument``."""
        self._fetcher.close()
