"""SD-JWT VC issuer keys from JWT VC Issuer Metadata, fetched over guarded HTTPS.

The room for the web-based key discovery mechanism of SD-JWT VC: draft-ietf-oauth-sd-jwt-vc,
editor's copy of -19 (github.com/oauth-wg/oauth-sd-jwt-vc at f50f0a4, August 2026), §2.5
"Issuer Verification Key Discovery and Validation", §3 "Retrieving Documents and Resources
via HTTP" and §4 "JWT VC Issuer Metadata". The issuer side is
:func:`issuer_metadata_document`; the verifier side is :class:`IssuerMetadataResolver`, which
:class:`~seoul_vc.credentials.verify.Verifier` uses for a ``dc+sd-jwt`` whose ``iss`` is an
HTTPS URL (``Verifier(issuer_metadata=...)``).

The rules, as the draft states them:

* ``iss`` is a case-sensitive HTTPS URL with a host, optionally a port and a path, and no
  query or fragment (§4); userinfo is not among the components it allows, so it is refused.
* The metadata lives at ``/.well-known/jwt-vc-issuer`` inserted between the host and the
  path, after removing any terminating ``/`` of the path (§4.1):
  ``https://example.com/tenant/1234`` -> ``https://example.com/.well-known/jwt-vc-issuer/
  tenant/1234``; ``https://example.com`` and ``https://example.com/`` ->
  ``https://example.com/.well-known/jwt-vc-issuer``.
* The response is ``application/json`` (§4.2; other declared media types are refused) with
  ``issuer`` identical to ``iss`` — otherwise the response MUST NOT be used (§4.3,
  ``issuer_mismatch``) — and exactly one of ``jwks`` (a JWK Set) or ``jwks_uri`` (an HTTPS
  URL of one, fetched with the same guard, ``application/jwk-set+json`` or
  ``application/json``; RFC 7517 §8.5.1).
* The JWS ``kid`` selects the key (§4.2 recommends it). Without a ``kid`` the set must hold
  exactly one key.

What this module adds, failing closed:

* Every fetch is :class:`seoul_vc._net.GuardedFetcher`: HTTPS only, no loopback, private or
  other special addresses (§7.1 "Server-Side Request Forgery"), same-origin redirects up to
  ``Limits.issuer_metadata_max_redirects``, one deadline, a byte bound, no decompression.
* Each JWK passes :meth:`seoul_vc.keys.PublicKey.from_jwk`: private members
  (``private_key_material``), small-order Ed25519 points (``weak_key``), ``use`` other than
  ``sig`` and ``alg`` outside EdDSA/ES256 (``invalid_key``) refuse the whole document. Keys of
  other types (RSA, other curves) are ignored as RFC 7517 §5 asks, unless they carry private
  members; a ``kid`` naming one fails with ``unsupported_algorithm``. At most
  ``Limits.max_issuer_keys`` keys; two supported keys may not share a ``kid``.
* Optionally only the issuers the caller names are ever fetched (``issuers=``): the draft's
  advice against phoning home to unknown issuers (§8.3 "Issuer Phone-Home").
* A small thread-safe cache: at most ``Limits.issuer_metadata_cache_entries`` issuers, each
  reused for ``Limits.issuer_metadata_cache_ttl`` (default 5 minutes). It does *not* follow
  the server's ``Cache-Control`` (§3 defers to RFC 9111): a rotated key is seen within the
  TTL, whatever the server asks. Failures are not cached.

Not supported: the inline ``x5c`` mechanism of §2.5 (keys never come from the token; the
verifier refuses ``jwk``, ``jku``, ``x5u`` and ``x5c`` headers), and signed metadata.

Example:
    >>> from seoul_vc.credentials.metadata import issuer_metadata_url
    >>> issuer_metadata_url("https://example.com/tenant/1234")
    'https://example.com/.well-known/jwt-vc-issuer/tenant/1234'
    >>> issuer_metadata_url("https://example.com:8443/")
    'https://example.com:8443/.well-known/jwt-vc-issuer'
"""

from __future__ import annotations

import ipaddress
import re
import ssl
import threading
from collections import OrderedDict
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Final
from urllib.parse import unquote_to_bytes

from seoul_vc._encoding import parse_decimal
from seoul_vc._json import JSONObject, JSONValue, loads_object
from seoul_vc._net import Closing, GuardedFetcher
from seoul_vc.clock import Clock, SystemClock
from seoul_vc.errors import (
    Code,
    ConfigurationError,
    MalformedInputError,
    NotFoundError,
    PolicyError,
    SeoulVCError,
    VerificationError,
    error_for,
)
from seoul_vc.keys import PublicKey
from seoul_vc.limits import Limits

__all__ = [
    "WELL_KNOWN_PATH",
    "IssuerMetadata",
    "IssuerMetadataResolver",
    "issuer_metadata_document",
    "issuer_metadata_url",
]

#: The well-known URI suffix (draft §4, registered by its IANA section).
WELL_KNOWN_PATH: Final = "/.well-known/jwt-vc-issuer"
_MAX_URL_CHARS: Final = 2048
_MAX_HOST_CHARS: Final = 253
_LABEL_RE: Final = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
# A last label that URL parsers and resolvers may read as an IPv4 number (127.1, 0x7f000001).
_NUMERIC_LABEL_RE: Final = re.compile(r"[0-9]+|0[xX][0-9A-Fa-f]*")
# RFC 3986 §3.3 pchar, with percent-escapes checked separately.
_SEGMENT_RE: Final = re.compile(r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@]|%[0-9A-Fa-f]{2})+")
# Bytes a path segment may not smuggle in through percent-encoding (as in did:web).
_FORBIDDEN_PATH_BYTES: Final = frozenset(b"/?#\\%") | frozenset(range(0x20)) | {0x7F}
_SUPPORTED_KEY_TYPES: Final = frozenset({("OKP", "Ed25519"), ("EC", "P-256")})
# RFC 7517 §9.2 / RFC 7518 §6: members that only a private or symmetric key has.
_PRIVATE_MEMBERS: Final = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
_METADATA_MEDIA_TYPES: Final = frozenset({"application/json"})
_JWKS_MEDIA_TYPES: Final = frozenset({"application/jwk-set+json", "application/json"})
_METADATA: Final = "JWT VC issuer metadata"
_JWKS: Final = "issuer JWK Set"


def _malformed(message: str, **details: str | int) -> MalformedInputError:
    return MalformedInputError(Code.MALFORMED, message, **details)


# -- the URL rule ------------------------------------------------------------------------------


def _check_host(host: str) -> None:
    if "%" in host:  # no percent-encoded names and no IPv6 zone identifiers
        raise _malformed("the issuer's host may not contain %")
    if host.startswith("["):
        if not host.endswith("]"):
            raise _malformed("the issuer's IPv6 host is not bracketed")
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            raise _malformed("the issuer's IPv6 host is not an address") from None
        return
    if not host or len(host) > _MAX_HOST_CHARS:
        raise _malformed("the issuer's host is empty or too long")
    labels = host.split(".")
    if not all(_LABEL_RE.fullmatch(label) for label in labels):
        raise _malformed("the issuer's host is a DNS name of letter-digit-hyphen labels")
    if _NUMERIC_LABEL_RE.fullmatch(labels[-1]):
        # Only a dotted quad in its one canonical spelling is an IPv4 host; 127.1,
        # 0x7f000001 and 2130706433 are read as addresses by some parsers and not others.
        try:
            canonical = str(ipaddress.IPv4Address(host)) == host
        except ValueError:
            canonical = False
        if not canonical:
            raise _malformed("the issuer's host is neither a DNS name nor a dotted IPv4 address")


def _check_port(port: str) -> None:
    try:
        number = parse_decimal(port, what="port", max_digits=5)
    except MalformedInputError:
        raise _malformed("the issuer's port is a canonical decimal") from None
    if not 1 <= number <= 65535:
        raise _malformed("the issuer's port is between 1 and 65535")


def _check_segment(segment: str) -> None:
    if _SEGMENT_RE.fullmatch(segment) is None:
        raise _malformed("an issuer path segment is empty or has characters a URL path may not")
    decoded = unquote_to_bytes(segment)
    if decoded in (b".", b".."):
        raise _malformed("an issuer path segment may not be . or ..")
    if not _FORBIDDEN_PATH_BYTES.isdisjoint(decoded):
        raise _malformed("an issuer path segment may not encode / ? # \\ % or controls")


def issuer_metadata_url(iss: str) -> str:
    """Return the URL of the JWT VC Issuer Metadata of an HTTPS issuer identifier.

    Implements draft-ietf-oauth-sd-jwt-vc §4 and §4.1 (editor's copy of -19): ``iss`` is an
    HTTPS URL with a host, an optional port and an optional path, no userinfo, query or
    fragment; any terminating ``/`` of the path is removed and ``/.well-known/jwt-vc-issuer``
    is inserted between the host (and port) and the path. The host is a DNS name, a dotted
    IPv4 address or a bracketed IPv6 address (which addresses may be contacted is the fetch's
    decision); path segments may not be ``.``/``..`` or percent-encode ``/``, ``?``, ``#``,
    ``%``, a backslash or control characters.

    Args:
        iss: the ``iss`` claim, exactly as the credential carries it.

    Returns:
        ``https://host[:port]/.well-known/jwt-vc-issuer[/path]``.

    Raises:
        PolicyError: ``insecure_transport`` for an ``http:`` URL.
        MalformedInputError: ``malformed`` for anything else that is not such an HTTPS URL;
            ``too_large`` past 2,048 characters.
    """
    if not isinstance(iss, str):
        raise _malformed("the issuer identifier is not text")
    if len(iss) > _MAX_URL_CHARS:
        raise MalformedInputError(
            Code.TOO_LARGE, f"the issuer identifier exceeds {_MAX_URL_CHARS} characters"
        )
    if not iss.isascii() or any(ch <= " " or ch == "\x7f" for ch in iss):
        raise _malformed("the issuer identifier has non-ASCII, space or control characters")
    if iss[:7].lower() == "http://":
        raise PolicyError(Code.INSECURE_TRANSPORT, "an issuer identifier URL uses HTTPS")
    if not iss.startswith("https://"):
        raise _malformed("the issuer identifier is not an https: URL")
    if "?" in iss or "#" in iss:
        raise _malformed("an issuer identifier has no query or fragment")
    authority, slash, path = iss[len("https://") :].partition("/")
    if "@" in authority:
        raise _malformed("an issuer identifier has no userinfo")
    host, port = authority, None
    if authority.startswith("["):
        close = authority.find("]")
        host = authority[: close + 1] if close >= 0 else authority
        rest = authority[len(host) :]
        if rest:
            if not rest.startswith(":"):
                raise _malformed("the issuer's authority is not host[:port]")
            port = rest[1:]
    elif ":" in authority:
        host, _, port = authority.partition(":")
    _check_host(host)
    if port is not None:
        _check_port(port)
    # §4.1: "any terminating / MUST be removed" before inserting the well-known string.
    path = (slash + path).rstrip("/")
    if path:
        for segment in path[1:].split("/"):
            _check_segment(segment)
    return f"https://{authority}{WELL_KNOWN_PATH}{path}"


# -- the metadata and its keys ---------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class IssuerMetadata:
    """An issuer's validated JWT VC Issuer Metadata: its identifier and signing keys.

    Attributes:
        issuer: the issuer identifier, identical to the credential's ``iss``.
        keys: the supported keys of its JWK Set with their ``kid`` (``None`` if absent).
        jwks_uri: where the JWK Set was fetched from, or ``None`` if given by value.
        unsupported_kids: ``kid`` values of keys of types this library does not verify.
    """

    issuer: str
    keys: tuple[tuple[str | None, PublicKey], ...]
    jwks_uri: str | None = None
    unsupported_kids: frozenset[str] = frozenset()

    def key_for(self, kid: str | None) -> PublicKey:
        """Return the key that the JWS ``kid`` names (draft §4.2).

        Without a ``kid`` the JWK Set must hold exactly one key.

        Raises:
            NotFoundError: ``not_found`` if no key has this ``kid`` (or the set is empty).
            VerificationError: ``unsupported_algorithm`` if the ``kid`` names a key of a
                type this library does not verify.
            MalformedInputError: ``malformed`` without a ``kid`` when the set holds several
                keys.
        """
        if kid is None:
            if len(self.keys) == 1 and not self.unsupported_kids:
                return self.keys[0][1]
            if not self.keys:
                raise NotFoundError(Code.NOT_FOUND, "the issuer publishes no key we can use")
            raise _malformed(
                "the credential names no kid and its issuer publishes several keys",
                keys=len(self.keys) + len(self.unsupported_kids),
            )
        for key_id, key in self.keys:
            if key_id == kid:
                return key
        if kid in self.unsupported_kids:
            raise VerificationError(
                Code.UNSUPPORTED_ALGORITHM, "the issuer's key for this kid is of another type"
            )
        raise NotFoundError(Code.NOT_FOUND, "the issuer metadata has no key with this kid")


def _parse_jwks(
    jwks: JSONValue, *, issuer: str, jwks_uri: str | None, limits: Limits
) -> IssuerMetadata:
    """Validate a JWK Set (RFC 7517 §5) and import its keys strictly."""
    entries = jwks.get("keys") if isinstance(jwks, dict) else None
    if not isinstance(entries, list):
        raise _malformed("a JWK Set is an object with a keys array")
    if len(entries) > limits.max_issuer_keys:
        raise MalformedInputError(
            Code.TOO_LARGE,
            f"the issuer's JWK Set holds more than {limits.max_issuer_keys} keys",
            limit=limits.max_issuer_keys,
        )
    keys: list[tuple[str | None, PublicKey]] = []
    unsupported: set[str] = set()
    for index, jwk in enumerate(entries):
        if not isinstance(jwk, dict):
            raise _malformed("a JWK is an object", index=index)
        kid = jwk.get("kid")
        if kid is not None and (not isinstance(kid, str) or not kid):
            raise _malformed("a JWK kid is a non-empty string", index=index)
        if (jwk.get("kty"), jwk.get("crv")) not in _SUPPORTED_KEY_TYPES:
            # RFC 7517 §5: ignore keys of types we do not understand; a private or
            # symmetric key is never ignored, it is a published secret.
            if not _PRIVATE_MEMBERS.isdisjoint(jwk):
                raise MalformedInputError(
                    Code.PRIVATE_KEY_MATERIAL, "the issuer publishes private key members"
                )
            if kid is not None:
                unsupported.add(kid)
            continue
        try:
            key = PublicKey.from_jwk(jwk)
        except SeoulVCError as exc:
            raise error_for(exc.code, f"issuer key {index}: {exc.message}", index=index) from exc
        if kid is not None and any(kid == other for other, _ in keys):
            raise _malformed("two keys of the issuer's JWK Set share a kid", index=index)
        keys.append((kid, key))
    return IssuerMetadata(
        issuer=issuer,
        keys=tuple(keys),
        jwks_uri=jwks_uri,
        unsupported_kids=frozenset(unsupported - {k for k, _ in keys if k is not None}),
    )


def _check_jwks_uri(value: JSONValue) -> str:
    if not isinstance(value, str) or not value:
        raise _malformed("jwks_uri is a URL string")
    if len(value) > _MAX_URL_CHARS:
        raise MalformedInputError(Code.TOO_LARGE, "jwks_uri is too long")
    if not value.startswith("https://"):
        raise PolicyError(Code.INSECURE_TRANSPORT, "jwks_uri is fetched over HTTPS only")
    if not value.isascii() or any(ch <= " " or ch == "\x7f" for ch in value):
        raise _malformed("jwks_uri has non-ASCII, space or control characters")
    return value


def issuer_metadata_document(issuer_url: str, keys: Mapping[str, PublicKey]) -> JSONObject:
    """Build the JWT VC Issuer Metadata an agency publishes for its HTTPS issuer identifier.

    Serve the result as ``application/json`` at :func:`issuer_metadata_url` of
    ``issuer_url`` (draft §4.2), with a ``Cache-Control: max-age`` (§3) and
    ``X-Content-Type-Options: nosniff`` (§7.2). Keys are listed by value (``jwks``), each
    with its ``kid``, ``use: sig`` and ``alg``.

    Args:
        issuer_url: the issuer identifier, exactly as credentials carry it in ``iss``.
        keys: ``kid -> public key``: the kids the issuer puts in its JWS headers.

    Returns:
        ``{"issuer": issuer_url, "jwks": {"keys": [...]}}``.

    Raises:
        ConfigurationError: ``bad_argument`` for an identifier :func:`issuer_metadata_url`
            refuses, no keys, more than ``Limits().max_issuer_keys``, or an empty ``kid``.
    """
    try:
        issuer_metadata_url(issuer_url)
    except SeoulVCError as exc:
        raise ConfigurationError(
            Code.BAD_ARGUMENT, f"the issuer identifier is not usable: {exc.message}"
        ) from exc
    limit = Limits().max_issuer_keys
    if not keys or len(keys) > limit:
        raise ConfigurationError(Code.BAD_ARGUMENT, f"an issuer publishes 1 to {limit} keys")
    published: list[JSONValue] = []
    for kid, key in keys.items():
        if not kid:
            raise ConfigurationError(Code.BAD_ARGUMENT, "a kid is a non-empty string")
        published.append({**key.to_jwk(), "kid": kid, "use": "sig", "alg": key.alg.value})
    return {"issuer": issuer_url, "jwks": {"keys": published}}


# -- the resolver ------------------------------------------------------------------------------


class IssuerMetadataResolver(Closing):
    """Finds SD-JWT VC issuer keys in JWT VC Issuer Metadata over guarded HTTPS, with a cache.

    Pass it to ``Verifier(issuer_metadata=...)``; it is also a plain ``(iss, kid) -> key``
    callable. Thread-safe; keeps a small pool of keep-alive connections, so close it (or use
    it as a context manager) when done. Cost of a cache miss: one HTTPS GET for the metadata
    (and one more for a ``jwks_uri``), each within ``Limits.issuer_metadata_timeout``.

    Args:
        issuers: if given, the only issuer identifiers ever fetched; others are refused with
            ``untrusted_issuer`` before any network traffic (draft §8.3). An empty
            collection is refused.
        limits: ``max_issuer_metadata_bytes``, ``max_issuer_keys``, ``max_json_depth``,
            ``issuer_metadata_timeout``, ``issuer_metadata_max_redirects``,
            ``issuer_metadata_cache_ttl`` and ``issuer_metadata_cache_entries`` (a zero TTL
            or size turns the cache off).
        clock: the time source of the cache (its monotonic counter).
        ssl_context: the TLS client context; default: the system trust store, TLS >= 1.2.
            It must verify certificates and host names.
        unsafe_allow_private_addresses: connect to loopback and private addresses too. For
            tests against a local server only; HTTPS and every other check stay on.

    Raises:
        ConfigurationError: ``bad_argument`` for an empty ``issuers``, an ``ssl_context``
            that does not verify, or a non-positive timeout or negative redirect count.
    """

    def __init__(
        self,
        *,
        issuers: Collection[str] | None = None,
        limits: Limits | None = None,
        clock: Clock | None = None,
        ssl_context: ssl.SSLContext | None = None,
        unsafe_allow_private_addresses: bool = False,
    ) -> None:
        if issuers is not None and not issuers:
            raise ConfigurationError(Code.BAD_ARGUMENT, "an empty issuer allow-list trusts nobody")
        self._issuers = frozenset(issuers) if issuers is not None else None
        self._limits = limits or Limits()
        self._clock = clock or SystemClock()
        self._ttl = self._limits.issuer_metadata_cache_ttl.total_seconds()
        self._max_entries = self._limits.issuer_metadata_cache_entries
        self._cache: OrderedDict[str, tuple[float, IssuerMetadata]] = OrderedDict()
        self._lock = threading.Lock()
        self._fetcher = GuardedFetcher(
            timeout=self._limits.issuer_metadata_timeout,
            max_redirects=self._limits.issuer_metadata_max_redirects,
            user_agent="seoul-vc issuer metadata",
            ssl_context=ssl_context,
            unsafe_allow_private_addresses=unsafe_allow_private_addresses,
        )

    def issuer_key(self, iss: str, kid: str | None) -> PublicKey:
        """Return the key of issuer ``iss`` that the JWS ``kid`` names.

        Raises:
            SeoulVCError: as :meth:`metadata` and :meth:`IssuerMetadata.key_for`.
        """
        return self.metadata(iss).key_for(kid)

    def __call__(self, iss: str, kid: str | None) -> PublicKey:
        """Return :meth:`issuer_key` (the ``Verifier``'s ``(iss, kid) -> key`` seam)."""
        return self.issuer_key(iss, kid)

    def metadata(self, iss: str) -> IssuerMetadata:
        """Return the validated metadata of issuer ``iss``, from the cache or fetched.

        Raises:
            MalformedInputError: ``malformed`` for an ``iss`` that is not an HTTPS issuer
                URL, a response that is not ``application/json`` (JWK Set:
                ``application/jwk-set+json`` or ``application/json``), not a metadata
                object, with both or neither of ``jwks``/``jwks_uri``, or a bad JWK Set;
                ``too_large`` for a body past ``max_issuer_metadata_bytes`` or more than
                ``max_issuer_keys`` keys; ``too_deep``/``duplicate_key`` for bad JSON;
                ``private_key_material``, ``weak_key``, ``invalid_key`` or
                ``invalid_encoding`` for a key (the whole document is refused).
            VerificationError: ``issuer_mismatch`` if ``issuer`` is not identical to ``iss``.
            PolicyError: ``untrusted_issuer`` for an issuer outside ``issuers``;
                ``address_refused`` for a non-public address; ``insecure_transport`` for
                ``http:`` (``iss`` or ``jwks_uri``) or a redirect off the origin or past
                the limit.
            NotFoundError: ``not_found`` for HTTP 404 or 410.
            UnavailableError: ``unavailable`` for other statuses, network and TLS failures
                and the deadline.
            ConfigurationError: ``bad_argument`` once the resolver is closed.
        """
        url = issuer_metadata_url(iss)
        if self._issuers is not None and iss not in self._issuers:
            raise PolicyError(
                Code.UNTRUSTED_ISSUER, "this verifier fetches metadata of listed issuers only"
            )
        if self._fetcher.closed:
            raise ConfigurationError(Code.BAD_ARGUMENT, "the issuer metadata resolver is closed")
        now = self._clock.monotonic()
        with self._lock:
            cached = self._cache.get(iss)
            if cached is not None and cached[0] > now:
                self._cache.move_to_end(iss)
                return cached[1]
        metadata = self._fetch(url, iss)
        if self._ttl > 0 and self._max_entries > 0:
            with self._lock:
                self._cache[iss] = (now + self._ttl, metadata)
                self._cache.move_to_end(iss)
                while len(self._cache) > self._max_entries:
                    self._cache.popitem(last=False)
        return metadata

    def _get_json(self, url: str, accept: frozenset[str], what: str) -> JSONObject:
        limit = self._limits.max_issuer_metadata_bytes
        fetched = self._fetcher.get(
            url, accept=", ".join(sorted(accept)), max_bytes=limit, what=what
        )
        if fetched.media_type not in accept:
            raise _malformed(
                f"the {what} is not served as JSON", media_type=fetched.media_type[:64]
            )
        return loads_object(
            fetched.body, max_bytes=limit, max_depth=self._limits.max_json_depth, what=what
        )

    def _fetch(self, url: str, iss: str) -> IssuerMetadata:
        document = self._get_json(url, _METADATA_MEDIA_TYPES, _METADATA)
        issuer = document.get("issuer")
        if not isinstance(issuer, str):
            raise _malformed("the issuer metadata has no issuer string")
        # §4.3: not identical -> the response MUST NOT be used (no normalisation at all).
        if issuer != iss:
            raise VerificationError(
                Code.ISSUER_MISMATCH, "the issuer metadata names another issuer than iss"
            )
        if ("jwks" in document) == ("jwks_uri" in document):
            raise _malformed("the issuer metadata has exactly one of jwks and jwks_uri")
        if "jwks" in document:
            return _parse_jwks(document["jwks"], issuer=iss, jwks_uri=None, limits=self._limits)
        jwks_uri = _check_jwks_uri(document["jwks_uri"])
        jwks = self._get_json(jwks_uri, _JWKS_MEDIA_TYPES, _JWKS)
        return _parse_jwks(jwks, issuer=iss, jwks_uri=jwks_uri, limits=self._limits)

    def close(self) -> None:
        """Close pooled connections; later lookups fail with ``bad_argument``."""
        self._fetcher.close()
