"""The verifier's side: fetch, verify, cache and read status lists (``StatusChecker``).

:class:`StatusChecker` is the :class:`~seoul_vc.credentials.verify.StatusSource` of the
verification pipeline's status step. Given a credential's ``credentialStatus`` (W3C
``BitstringStatusListEntry`` objects, for ``vc+jwt`` and ``vc+sd-jwt``) or ``status``
(``{"status_list": {"idx", "uri"}}``, for ``dc+sd-jwt``) and the credential's issuer, it:

1. parses the entry strictly: the index as canonical ASCII decimal (W3C) or a non-negative
   JSON integer (IETF), a purpose of ``revocation`` or ``suspension`` (anything else is
   ``status_unchecked``: this verifier cannot say what it means, so it fails closed);
2. takes the list from its cache, or fetches it — over HTTPS with
   :class:`~seoul_vc._net.GuardedFetcher` (no private addresses, same-origin redirects, a
   byte bound and one deadline), or from a local folder (:class:`DirectorySource`);
3. verifies it: compact JWS within ``Limits.max_status_list_bytes``, ``typ`` ``vc+jwt`` for a
   ``BitstringStatusListCredential`` (W3C §3.2) or ``statuslist+jwt`` (IETF §5.1), the key
   from the ``kid`` DID URL (or the issuer metadata source for HTTPS issuers), never from
   token headers; the signer, the list's ``issuer``/``iss`` and the credential's issuer must
   be one and the same; the list's ``id``/``sub`` must be the URL it was fetched for;
   ``validFrom``/``validUntil`` or ``exp`` against the clock;
4. in anchored mode, accepts the list only if the :class:`AnchorCheck` finds the SHA-256 of
   the exact token as the latest ledger-anchored version of its URL under a checkpoint the
   witness policy accepts (``status_list_not_anchored`` otherwise);
5. inflates it within ``Limits.max_status_list_decompressed_bytes`` (``too_large``) and
   refuses lists shorter than ``Limits.min_status_list_entries`` (``status_list_too_short``);
6. caches the *decoded* list until ``ttl`` (bounded by ``Limits.status_list_max_ttl``,
   ``Limits.status_list_default_ttl`` when absent) or the list's own expiry, whichever
   comes first, within ``Limits.status_list_cache_bytes``;
7. reads the entry: purpose among the list's purposes (``status_purpose_mismatch``), index
   inside the list (``status_index_invalid``), then ``revoked``/``suspended`` or passes.

A warm check is a dictionary lookup, an expiry comparison and a bit test.

Example:
    >>> from seoul_vc.status.check import StatusChecker
    >>> checker = StatusChecker()
    >>> checker.check({"status_list": {"idx": -1, "uri": "https://s.example/1"}},
    ...               issuer="did:example:1")
    Traceback (most recent call last):
    seoul_vc.errors.MalformedInputError: status_index_invalid: idx is a non-negative integer
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Final, Protocol
from urllib.parse import unquote

from seoul_vc import _json
from seoul_vc._json import JSONObject, JSONValue
from seoul_vc._net import GuardedFetcher
from seoul_vc.clock import Clock, SystemClock
from seoul_vc.did import Resolver, resolve_verification_method, self_certifying_key
from seoul_vc.did.syntax import split_did_url
from seoul_vc.errors import (
    Code,
    ConfigurationError,
    MalformedInputError,
    NotFoundError,
    PolicyError,
    SeoulVCError,
    error_for,
)
from seoul_vc.jose import CompactJWS, check_signature, parse_compact, typ_matches
from seoul_vc.keys import PublicKey
from seoul_vc.limits import Limits
from seoul_vc.status.anchoring import AnchorCheck
from seoul_vc.status.bitstring import (
    ENTRY_TYPE,
    BitstringStatusListEntry,
    StatusPurpose,
    parse_status_entries,
    parse_status_list_credential,
)
from seoul_vc.status.token_list import (
    STATUS_LIST_TYP,
    StatusType,
    decode_status_list,
    parse_status_claim,
)

__all__ = [
    "DirectorySource",
    "HTTPSSource",
    "ListSource",
    "StatusChecker",
    "StatusResult",
]

_DEFAULT_LIMITS: Final = Limits()
_ACCEPT: Final = {
    "bitstring": "application/vc+jwt",
    "token": "application/statuslist+jwt",
}


class ListSource(Protocol):
    """Where status list tokens come from."""

    def get(self, uri: str, *, accept: str, max_bytes: int) -> bytes:
        """Return the token published at ``uri``, at most ``max_bytes`` long.

        Raises:
            NotFoundError: ``not_found`` when nothing is published at ``uri``.
            UnavailableError: ``unavailable`` when the source cannot be reached.
            PolicyError: ``address_refused`` or ``insecure_transport`` for a refused URL.
            MalformedInputError: ``too_large`` past ``max_bytes``.
        """
        ...


class HTTPSSource:
    """Fetches lists over HTTPS with a :class:`~seoul_vc._net.GuardedFetcher`.

    Args:
        fetcher: the fetcher (default: one with ``Limits.status_list_timeout`` and
            ``Limits.status_list_max_redirects``, public addresses only).
        limits: the fetch bounds of the default fetcher.
    """

    def __init__(self, fetcher: GuardedFetcher | None = None, *, limits: Limits | None = None):
        limits = limits or _DEFAULT_LIMITS
        self._fetcher = fetcher or GuardedFetcher(
            timeout=limits.status_list_timeout,
            max_redirects=limits.status_list_max_redirects,
            user_agent="seoul-vc status",
        )

    def get(self, uri: str, *, accept: str, max_bytes: int) -> bytes:
        """GET ``uri`` (HTTPS only; see :meth:`GuardedFetcher.get`)."""
        return self._fetcher.get(uri, accept=accept, max_bytes=max_bytes, what="status list").body

    def close(self) -> None:
        """Close the fetcher's connections."""
        self._fetcher.close()


class DirectorySource:
    """Reads lists from a local folder that mirrors ``base_url`` (what the registry writes).

    ``<base_url>/<a>/<b>`` is read from ``<directory>/<a>/<b>``. URLs outside ``base_url``
    are ``not_found``; path segments must be plain names (no ``..``, no separators, no
    percent-escapes that decode to them).

    Args:
        directory: the folder.
        base_url: the URL prefix the folder stands for.
    """

    def __init__(self, directory: str | os.PathLike[str], *, base_url: str) -> None:
        self._root = Path(directory)
        self._base = base_url.rstrip("/") + "/"

    def get(self, uri: str, *, accept: str, max_bytes: int) -> bytes:
        """Read the file standing for ``uri``.

        Raises:
            NotFoundError: ``not_found`` outside ``base_url`` or without a file.
            MalformedInputError: ``too_large`` past ``max_bytes``.
            ConfigurationError: ``unreadable_input`` if the file cannot be read.
        """
        if not uri.startswith(self._base) or "?" in uri or "#" in uri:
            raise NotFoundError(Code.NOT_FOUND, "the status list is outside the local folder")
        segments = uri[len(self._base) :].split("/")
        for segment in segments:
            name = unquote(segment)
            if name in ("", ".", "..") or "/" in name or "\\" in name or "\x00" in name:
                raise NotFoundError(Code.NOT_FOUND, "the status list URL has a bad path")
        path = self._root.joinpath(*segments)
        try:
            with path.open("rb") as handle:
                data = handle.read(max_bytes + 1)
        except FileNotFoundError as exc:
            raise NotFoundError(Code.NOT_FOUND, "no status list at that URL") from exc
        except OSError as exc:
            raise ConfigurationError(
                Code.UNREADABLE_INPUT, "the status list file cannot be read"
            ) from exc
        if len(data) > max_bytes:
            raise MalformedInputError(Code.TOO_LARGE, "status list is too large", limit=max_bytes)
        return data


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusResult:
    """What one status entry says, for reporting (``seoul-vc status check``).

    Attributes:
        uri: the list's URL; index: the entry's index.
        purpose: ``revocation``/``suspension`` (W3C) or ``status`` (IETF).
        value: the raw status value (bit or Token Status List value).
        state: ``valid``, ``revoked`` or ``suspended``.
    """

    uri: str
    index: int
    purpose: str
    value: int
    state: str

    def to_json(self) -> JSONObject:
        """Return the result as JSON."""
        return {
            "uri": self.uri,
            "index": self.index,
            "purpose": self.purpose,
            "value": self.value,
            "state": self.state,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class _Cached:
    kind: str
    issuer: str
    purposes: frozenset[str]
    data: bytes
    bits: int
    expires_at: float
    sha256: bytes


class StatusChecker:
    """Checks status entries against fetched, verified, cached lists; see the module.

    Args:
        source: where lists come from (default: :class:`HTTPSSource`).
        anchor: anchored mode: accept only lists the ledger anchors (see :class:`AnchorCheck`).
        resolver: DID resolver for the lists' ``kid`` (did:key/did:jwk need none).
        issuer_keys: ``(iss, kid) -> key`` for issuers identified by an HTTPS URL.
        clock: the time source; limits: bounds and the herd-privacy minimum.
    """

    def __init__(
        self,
        *,
        source: ListSource | None = None,
        anchor: AnchorCheck | None = None,
        resolver: Resolver | None = None,
        issuer_keys: Callable[[str, str | None], PublicKey] | None = None,
        clock: Clock | None = None,
        limits: Limits | None = None,
    ) -> None:
        self._limits = limits or _DEFAULT_LIMITS
        self._source = source
        self._anchor = anchor
        self._resolver = resolver
        self._issuer_keys = issuer_keys
        self._clock = clock or SystemClock()
        self._cache: OrderedDict[str, _Cached] = OrderedDict()
        self._cached_bytes = 0
        self._lock = threading.Lock()
        # Parsing the list token may need more room than a credential.
        self._token_limits = replace(
            self._limits,
            max_token_bytes=max(self._limits.max_token_bytes, self._limits.max_status_list_bytes),
        )

    # -- the StatusSource protocol ----------------------------------------------------------
    def check(self, status: JSONValue, *, issuer: str | None = None) -> None:
        """Return if every status entry says valid; raise otherwise (fail closed).

        Args:
            status: ``credentialStatus`` or ``status`` of the credential.
            issuer: the credential's issuer, which must also have signed the list.

        Raises:
            PolicyError: ``revoked``, ``suspended``, ``status_unchecked`` (a purpose or kind
                this verifier does not read), ``status_list_too_short``,
                ``status_list_not_anchored``, ``address_refused``, ``insecure_transport``.
            MalformedInputError: ``status_index_invalid``, ``malformed``, ``too_large``.
            VerificationError: ``status_list_invalid``, ``status_purpose_mismatch``,
                ``invalid_signature`` and the other JWS codes.
            NotFoundError, UnavailableError: the list could not be had.
        """
        for result in self.results(status, issuer=issuer):
            if result.state == "revoked":
                raise PolicyError(Code.REVOKED, "the credential is revoked", index=result.index)
            if result.state == "suspended":
                raise PolicyError(Code.SUSPENDED, "the credential is suspended", index=result.index)

    def results(self, status: JSONValue, *, issuer: str | None) -> list[StatusResult]:
        """Return what each status entry says (see :meth:`check` for the errors)."""
        if not isinstance(issuer, str) or not issuer:
            raise error_for(Code.STATUS_LIST_INVALID, "the credential names no issuer")
        if isinstance(status, Mapping) and "status_list" in status:
            return [self._token_result(status, issuer)]
        if isinstance(status, Mapping | list) and _looks_bitstring(status):
            return [self._bitstring_result(entry, issuer) for entry in parse_status_entries(status)]
        raise PolicyError(Code.STATUS_UNCHECKED, "a status mechanism this verifier does not read")

    def _token_result(self, status: Mapping[str, JSONValue], issuer: str) -> StatusResult:
        reference = parse_status_claim(status)
        cached = self._list(reference.uri, "token", issuer)
        value = _read(cached, reference.idx)
        if value == StatusType.VALID:
            state = "valid"
        elif value == StatusType.INVALID:
            state = "revoked"
        elif value == StatusType.SUSPENDED:
            state = "suspended"
        else:
            # 0x03 and 0x0C-0x0F are application specific (§7.1): not ours to interpret.
            raise PolicyError(
                Code.STATUS_UNCHECKED, "a status value this verifier does not know", value=value
            )
        return StatusResult(
            uri=reference.uri, index=reference.idx, purpose="status", value=value, state=state
        )

    def _bitstring_result(self, entry: BitstringStatusListEntry, issuer: str) -> StatusResult:
        if entry.purpose not in (StatusPurpose.REVOCATION, StatusPurpose.SUSPENSION):
            raise PolicyError(
                Code.STATUS_UNCHECKED,
                "a status purpose this verifier does not check",
                purpose=entry.purpose[:32],
            )
        cached = self._list(entry.list_url, "bitstring", issuer)
        if entry.purpose not in cached.purposes:
            raise error_for(
                Code.STATUS_PURPOSE_MISMATCH,
                "the status list does not serve the entry's purpose",
                purpose=entry.purpose,
            )
        value = _read(cached, entry.index)
        state = "valid" if value == 0 else (
            "revoked" if entry.purpose == StatusPurpose.REVOCATION else "suspended"
        )  # fmt: skip
        return StatusResult(
            uri=entry.list_url, index=entry.index, purpose=entry.purpose, value=value, state=state
        )

    # -- lists ------------------------------------------------------------------------------
    def _list(self, uri: str, kind: str, issuer: str) -> _Cached:
        now = self._clock.now().timestamp()
        with self._lock:
            cached = self._cache.get(uri)
            if cached is not None and cached.expires_at > now and cached.kind == kind:
                self._cache.move_to_end(uri)
                if cached.issuer != issuer:
                    raise _invalid("the status list was issued by another issuer")
                return cached
        fresh = self._fetch(uri, kind, issuer, now)
        with self._lock:
            old = self._cache.pop(uri, None)
            if old is not None:
                self._cached_bytes -= len(old.data)
            self._cache[uri] = fresh
            self._cached_bytes += len(fresh.data)
            while self._cached_bytes > self._limits.status_list_cache_bytes and self._cache:
                _, evicted = self._cache.popitem(last=False)
                self._cached_bytes -= len(evicted.data)
        return fresh

    def _fetch(self, uri: str, kind: str, issuer: str, now: float) -> _Cached:
        source = self._source
        if source is None:
            source = self._source = HTTPSSource(limits=self._limits)
        body = source.get(uri, accept=_ACCEPT[kind], max_bytes=self._limits.max_status_list_bytes)
        try:
            token = body.decode("ascii").strip()
        except UnicodeDecodeError:
            raise MalformedInputError(Code.MALFORMED, "a status list token is ASCII") from None
        jws = parse_compact(token, limits=self._token_limits)
        typ = "vc+jwt" if kind == "bitstring" else STATUS_LIST_TYP
        if not typ_matches(jws.header.get("typ"), typ):
            raise _invalid(f"a status list here is a {typ} token")
        payload = _json.loads_object(
            jws.payload,
            max_bytes=self._limits.max_status_list_bytes,
            max_depth=self._limits.max_json_depth,
            what="status list",
        )
        # The issuer named inside must be the credential's before any key is looked up.
        named = _issuer_of(payload, kind)
        if named is not None and named != issuer:
            raise _invalid("the status list was issued by another issuer")
        check_signature(jws, self._key(jws, issuer), typ=typ)
        sha256 = hashlib.sha256(token.encode("ascii")).digest()
        if self._anchor is not None:
            self._anchor.check_anchored(uri=uri, sha256=sha256)
        skew = self._limits.clock_skew.total_seconds()
        if kind == "bitstring":
            credential = parse_status_list_credential(payload, limits=self._limits)
            if credential.id != uri:
                raise _invalid("the status list credential names another URL")
            _check_window(credential.valid_from, credential.valid_until, now, skew)
            ttl = None if credential.ttl_ms is None else credential.ttl_ms / 1000
            expiry = credential.valid_until
            data, bits, purposes = credential.bitstring, 1, credential.purposes
        else:
            if payload.get("sub") != uri:
                raise _invalid("the status list token's sub is not its URI")
            iat, exp, ttl_value = payload.get("iat"), payload.get("exp"), payload.get("ttl")
            if type(iat) is not int or (exp is not None and type(exp) is not int):
                raise _invalid("iat (and exp) are integer times")
            if ttl_value is not None and (type(ttl_value) is not int or ttl_value <= 0):
                raise _invalid("ttl is a positive integer of seconds")
            _check_window(iat, exp, now, skew)
            ttl = None if ttl_value is None else float(ttl_value)
            expiry = exp
            decoded = decode_status_list(payload.get("status_list"), limits=self._limits)
            data, bits, purposes = decoded.data, decoded.bits, frozenset({"status"})
        entries = len(data) * 8 // bits
        if entries < self._limits.min_status_list_entries:
            raise error_for(
                Code.STATUS_LIST_TOO_SHORT,
                "the status list is too short for herd privacy",
                entries=entries,
                minimum=self._limits.min_status_list_entries,
            )
        keep = min(
            ttl if ttl is not None else self._limits.status_list_default_ttl.total_seconds(),
            self._limits.status_list_max_ttl.total_seconds(),
        )
        expires_at = now + keep if expiry is None else min(now + keep, float(expiry))
        return _Cached(
            kind=kind,
            issuer=issuer,
            purposes=purposes,
            data=data,
            bits=bits,
            expires_at=expires_at,
            sha256=sha256,
        )

    def _key(self, jws: CompactJWS, issuer: str) -> PublicKey:
        kid = jws.kid
        if issuer.startswith("did:"):
            if kid is None or split_did_url(kid)[0] != issuer:
                raise _invalid("the status list is not signed by a key of the issuer")
            key = self_certifying_key(kid)
            if key is not None:
                return key
            return resolve_verification_method(kid, resolver=self._resolver).public_key
        if issuer.startswith("https://") and self._issuer_keys is not None:
            return self._issuer_keys(issuer, kid)
        raise PolicyError(Code.UNTRUSTED_ISSUER, "no way to find the status list issuer's key")

    def close(self) -> None:
        """Close the source's connections, if it holds any (the default HTTPS one does)."""
        close = getattr(self._source, "close", None)
        if callable(close):
            close()

    def clear(self) -> None:
        """Forget every cached list."""
        with self._lock:
            self._cache.clear()
            self._cached_bytes = 0


def _looks_bitstring(status: Mapping[str, JSONValue] | list[JSONValue]) -> bool:
    items = status if isinstance(status, list) else [status]
    return bool(items) and all(
        isinstance(item, Mapping) and item.get("type") == ENTRY_TYPE for item in items
    )


def _issuer_of(payload: JSONObject, kind: str) -> str | None:
    value = payload.get("issuer" if kind == "bitstring" else "iss")
    if isinstance(value, Mapping):
        value = value.get("id")
    if value is None and kind == "token":
        return None  # iss is optional in a Status List Token; the kid binds the signer
    if not isinstance(value, str):
        raise _invalid("the status list names no issuer")
    return value


def _read(cached: _Cached, index: int) -> int:
    position = index * cached.bits
    if position >= len(cached.data) * 8:
        raise error_for(
            Code.STATUS_INDEX_INVALID, "the index is outside the status list", index=index
        )
    byte = cached.data[position >> 3]
    if cached.kind == "bitstring":
        return (byte >> (7 - (position & 7))) & 1  # W3C: index 0 is the left-most bit
    return (byte >> (position & 7)) & ((1 << cached.bits) - 1)  # IETF: from the LSB up


def _check_window(start: int | None, end: int | None, now: float, skew: float) -> None:
    if start is not None and start > now + skew:
        raise _invalid("the status list is not valid yet")
    if end is not None and end <= now - skew:
        raise _invalid("the status list has expired")


def _invalid(message: str) -> SeoulVCError:
    return error_for(Code.STATUS_LIST_INVALID, message)
