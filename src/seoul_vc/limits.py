"""Every size, depth, count and clock bound in one frozen value.

Untrusted input is parsed only within these bounds; each has a safe default and can be
tightened or widened per deployment by passing a new :class:`Limits` explicitly.

Example:
    >>> from seoul_vc.limits import Limits
    >>> Limits().max_json_depth
    32
    >>> Limits(max_token_bytes=8192).max_token_bytes
    8192
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

__all__ = ["Limits"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    """Bounds applied to untrusted input.

    Attributes:
        max_token_bytes: largest compact JWS / SD-JWT accepted, in bytes.
        max_json_bytes: largest JSON text parsed outside tokens (documents, key files).
        max_json_depth: deepest JSON nesting (objects and arrays) accepted.
        max_did_bytes: longest DID or DID URL accepted.
        max_did_document_bytes: largest DID document body fetched over did:web.
        did_web_timeout: connect/read timeout, and total deadline, of one did:web fetch.
        did_web_max_redirects: same-origin redirects followed by did:web before refusing.
        resolver_cache_ttl: how long a resolved DID document is reused.
        resolver_cache_entries: most DID documents a resolver cache keeps.
        clock_skew: leeway applied to ``iat``/``nbf``/``exp`` comparisons.
        max_disclosures: most SD-JWT disclosures one token may carry (and a quarter of the
            digests, decoys included, its payload may hold).
        kb_jwt_max_age: how old a Key Binding JWT's ``iat`` may be (RFC 9901 §7.3 step 5).
        nonce_ttl: how long a verifier's nonce stays usable, and is remembered once used.
        max_nonces: most nonces a verifier's in-memory nonce store tracks at once.
        max_issuer_metadata_bytes: largest JWT VC issuer metadata body, and largest JWK Set
            body fetched from its ``jwks_uri`` (SD-JWT VC issuer keys).
        max_issuer_keys: most keys an issuer's JWK Set may hold.
        issuer_metadata_timeout: deadline of one issuer metadata fetch (and again of the
            ``jwks_uri`` fetch), redirects included.
        issuer_metadata_max_redirects: same-origin redirects followed before refusing.
        issuer_metadata_cache_ttl: how long fetched issuer metadata and keys are reused.
        issuer_metadata_cache_entries: most issuers an issuer metadata cache keeps.
        max_status_list_bytes: largest status list token fetched or read (a signed
            ``BitstringStatusListCredential`` or ``statuslist+jwt``), in bytes.
        max_status_list_decompressed_bytes: largest status list after GZIP/ZLIB inflation;
            inflation stops and fails at this bound (decompression bombs).
        min_status_list_entries: fewest entries a status list may have: herd privacy
            (W3C Bitstring Status List, "Revocation Bitstring Length"; 131,072 = 16 KiB
            of 1-bit entries).
        status_list_timeout: deadline of one status list fetch, redirects included.
        status_list_max_redirects: same-origin redirects followed before refusing.
        status_list_default_ttl: how long a fetched list is reused when it names no ``ttl``.
        status_list_max_ttl: the longest a fetched list is reused, whatever its ``ttl`` says.
        status_list_cache_bytes: most decoded status list bytes a verifier keeps cached.
    """

    max_token_bytes: int = 64 * 1024
    max_json_bytes: int = 1024 * 1024
    max_json_depth: int = 32
    max_did_bytes: int = 2048
    max_did_document_bytes: int = 256 * 1024
    did_web_timeout: timedelta = timedelta(seconds=5)
    did_web_max_redirects: int = 3
    resolver_cache_ttl: timedelta = timedelta(minutes=5)
    resolver_cache_entries: int = 4096
    clock_skew: timedelta = timedelta(seconds=60)
    max_disclosures: int = 256
    kb_jwt_max_age: timedelta = timedelta(minutes=5)
    nonce_ttl: timedelta = timedelta(minutes=10)
    max_nonces: int = 100_000
    # -- SD-JWT VC issuer metadata (credentials.metadata) --
    max_issuer_metadata_bytes: int = 64 * 1024
    max_issuer_keys: int = 16
    issuer_metadata_timeout: timedelta = timedelta(seconds=5)
    issuer_metadata_max_redirects: int = 3
    issuer_metadata_cache_ttl: timedelta = timedelta(minutes=5)
    issuer_metadata_cache_entries: int = 1024
    # -- status lists (seoul_vc.status) --
    max_status_list_bytes: int = 1024 * 1024
    max_status_list_decompressed_bytes: int = 16 * 1024 * 1024
    min_status_list_entries: int = 131_072
    status_list_timeout: timedelta = timedelta(seconds=5)
    status_list_max_redirects: int = 3
    status_list_default_ttl: timedelta = timedelta(minutes=5)
    status_list_max_ttl: timedelta = timedelta(days=1)
    status_list_cache_bytes: int = 64 * 1024 * 1024
