"""DID resolution behind one :func:`resolve`: did:key, did:jwk and did:web.

:func:`resolve` returns a ``pydid.DIDDocument``; :func:`resolve_verification_method` turns a
DID URL (a JWS ``kid``) into a :class:`VerificationMethod` with a validated key, checked to
be listed under the verification relationship the caller needs (``assertionMethod`` for
issuers, DID Core §5.3.2).

Resolvers are injected where they matter (``Verifier(resolver=...)``); the module-level
default resolves did:key and did:jwk locally and did:web over HTTPS with the safe defaults of
:class:`seoul_vc.did.web.WebResolver`, behind a TTL cache.

Example:
    >>> from seoul_vc.did import resolve, resolve_verification_method
    >>> from seoul_vc.did.key import did_key
    >>> from seoul_vc.keys import PrivateKey
    >>> key = PrivateKey.generate().public_key
    >>> did = did_key(key)
    >>> str(resolve(did).id) == did
    True
    >>> resolve_verification_method(f"{did}#{did[8:]}").public_key == key
    True
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from seoul_vc.clock import Clock, SystemClock
from seoul_vc.did.document import VerificationMethod, find_verification_method, parse_did_document
from seoul_vc.did.jwk import did_jwk_document, public_key_from_did_jwk
from seoul_vc.did.key import did_key_document, public_key_from_did_key
from seoul_vc.did.syntax import DID, method_of, parse_did, split_did_url
from seoul_vc.errors import Code, MalformedInputError, NotFoundError
from seoul_vc.keys import PublicKey
from seoul_vc.limits import Limits

if TYPE_CHECKING:
    from pydid import DIDDocument

    from seoul_vc.did.web import WebResolver

__all__ = [
    "DID",
    "CachingResolver",
    "MethodResolver",
    "Resolver",
    "VerificationMethod",
    "default_resolver",
    "resolve",
    "resolve_verification_method",
    "self_certifying_key",
]


@runtime_checkable
class Resolver(Protocol):
    """Anything that turns a DID into its document."""

    def resolve(self, did: str) -> DIDDocument:
        """Return the DID document of ``did``.

        Raises:
            SeoulVCError: any family; ``not_found`` when the DID has no document.
        """
        ...


class MethodResolver:
    """Resolves did:key and did:jwk locally and did:web through ``web`` (if given).

    Args:
        web: the did:web resolver; ``None`` refuses did:web (an offline verifier).
        limits: bounds applied to DIDs.
    """

    def __init__(self, *, web: WebResolver | None = None, limits: Limits | None = None) -> None:
        self._web = web
        self._limits = limits or Limits()

    def resolve(self, did: str) -> DIDDocument:
        """Resolve ``did``.

        Raises:
            MalformedInputError: ``invalid_did`` for bad syntax or an unsupported method; key
                errors for did:key/did:jwk.
            PolicyError, UnavailableError, NotFoundError: from did:web.
        """
        parsed = parse_did(did, max_bytes=self._limits.max_did_bytes)
        method = method_of(parsed)
        if method == "key":
            return parse_did_document(did_key_document(parsed), did=parsed)
        if method == "jwk":
            return parse_did_document(did_jwk_document(parsed), did=parsed)
        if method == "web" and self._web is not None:
            return self._web.resolve(parsed)
        raise MalformedInputError(Code.INVALID_DID, "unsupported DID method", method=method[:32])


class CachingResolver:
    """A thread-safe TTL + LRU cache in front of another resolver; failures are not cached.

    Args:
        inner: the resolver to cache.
        limits: ``resolver_cache_ttl`` and ``resolver_cache_entries``.
        clock: the time source (its monotonic counter measures the TTL).
    """

    def __init__(
        self, inner: Resolver, *, limits: Limits | None = None, clock: Clock | None = None
    ) -> None:
        limits = limits or Limits()
        self._inner = inner
        self._ttl = limits.resolver_cache_ttl.total_seconds()
        self._max = limits.resolver_cache_entries
        self._clock = clock or SystemClock()
        self._entries: OrderedDict[str, tuple[float, DIDDocument]] = OrderedDict()
        self._lock = threading.Lock()

    def resolve(self, did: str) -> DIDDocument:
        """Return the cached document if younger than the TTL, else resolve and cache it."""
        now = self._clock.monotonic()
        with self._lock:
            hit = self._entries.get(did)
            if hit is not None and now - hit[0] < self._ttl:
                self._entries.move_to_end(did)
                return hit[1]
        doc = self._inner.resolve(did)
        with self._lock:
            self._entries[did] = (now, doc)
            self._entries.move_to_end(did)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)
        return doc

    def clear(self) -> None:
        """Forget every cached document."""
        with self._lock:
            self._entries.clear()


_default: CachingResolver | None = None
_default_lock = threading.Lock()


def default_resolver() -> CachingResolver:
    """Return the process-wide default resolver (did:key, did:jwk, did:web; cached)."""
    global _default
    with _default_lock:
        if _default is None:
            from seoul_vc.did.web import WebResolver

            _default = CachingResolver(MethodResolver(web=WebResolver()))
        return _default


def resolve(did: str, *, resolver: Resolver | None = None) -> DIDDocument:
    """Resolve ``did`` to its DID document (a ``pydid.DIDDocument``).

    Raises:
        MalformedInputError: ``invalid_did``, ``too_large``, key errors.
        VerificationError: ``did_mismatch`` if a did:web document names another DID.
        PolicyError, UnavailableError, NotFoundError: from did:web.
    """
    return (resolver or default_resolver()).resolve(did)


def resolve_verification_method(
    did_url: str,
    *,
    resolver: Resolver | None = None,
    relationship: str | None = "assertionMethod",
) -> VerificationMethod:
    """Resolve a DID URL such as a JWS ``kid`` to a verification method and its key.

    Args:
        did_url: ``did:...#fragment``.
        resolver: the resolver to use (default: :func:`default_resolver`).
        relationship: the relationship the method must be listed under; ``None`` for any.

    Raises:
        MalformedInputError, VerificationError, PolicyError, UnavailableError: as
            :func:`resolve`.
        NotFoundError: ``not_found`` if the document has no such method.
    """
    did, _ = split_did_url(did_url)
    doc = resolve(did, resolver=resolver)
    return find_verification_method(doc, did_url, relationship=relationship)


@functools.lru_cache(maxsize=4096)
def self_certifying_key(did_url: str) -> PublicKey | None:
    """Return the key of a did:key or did:jwk (DID or DID URL) without a DID document.

    A pure function of its argument, so results are cached (base58 or JSON decoding and
    point validation cost ~0.3 ms; every ledger entry and most presentations need one).

    Both methods derive their document from the DID itself, with one verification method:
    ``did:key:z...#z...`` (did:key §3.1.2) and ``did:jwk:...#0`` (did:jwk §2.2). So the key
    is a pure function of the DID; a DID URL's fragment must name that method. Returns
    ``None`` for other methods (resolve those).

    Raises:
        MalformedInputError: ``invalid_did`` and key errors for a bad DID.
        NotFoundError: ``not_found`` for a fragment that names no method of the document.
    """
    did, fragment = split_did_url(did_url) if "#" in did_url else (parse_did(did_url), None)
    if did.startswith("did:key:"):
        key = public_key_from_did_key(did)
        method_id = key.to_multikey()
    elif did.startswith("did:jwk:"):
        key = public_key_from_did_jwk(did)
        method_id = "0"
    else:
        return None
    if fragment is not None and fragment != method_id:
        raise NotFoundError(Code.NOT_FOUND, "the DID document has no such verification method")
    return key
