"""HTTP plumbing shared by every route module: bounded bodies, strict forms, auth, replies.

Room: service (surface). Nothing here decides anything the library does not: it turns
requests into library calls and library results and errors into responses.

* Bodies are read with a hard bound (:func:`read_body`); JSON goes through the library's
  strict parser (duplicate keys, depth and size refused); ``application/x-www-form-urlencoded``
  bodies (OAuth 2.0 token requests, OpenID4VP ``direct_post``) are parsed strictly: a
  repeated parameter, bad percent-encoding or non-UTF-8 text is refused (RFC 6749 §3.1:
  "Request and response parameters MUST NOT be included more than once").
* Agency systems authenticate with bearer tokens (RFC 6750 §2.1) whose SHA-256 digests,
  never the tokens, are in the service configuration; comparison is constant-time.
* Every JSON reply carries ``Cache-Control: no-store`` unless a route says otherwise.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import ipaddress
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Final
from urllib.parse import unquote_to_bytes

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from seoul_vc import _json
from seoul_vc._json import JSONObject, JSONValue
from seoul_vc.errors import Code, MalformedInputError, PolicyError

__all__ = [
    "FailureLimiter",
    "client_key",
    "json_response",
    "read_body",
    "read_form",
    "read_json",
    "read_json_in_time",
    "require_bearer",
    "slot",
    "token_digest",
]

JSON_TYPE: Final = "application/json"
FORM_TYPE: Final = "application/x-www-form-urlencoded"
_MAX_FORM_FIELDS: Final = 32


async def read_body(
    request: Request, max_bytes: int, *, progress: Callable[[int], None] | None = None
) -> bytes:
    """Read the request body, refusing more than ``max_bytes`` (streamed, never buffered past).

    ``progress``, if given, is called with the bytes received so far after each chunk.

    Raises:
        MalformedInputError: ``too_large`` past the bound.
    """
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isascii() or not declared.isdigit()):
        raise MalformedInputError(Code.MALFORMED, "Content-Length is not a number")
    if declared is not None and int(declared) > max_bytes:
        raise MalformedInputError(Code.TOO_LARGE, "request body too large", limit=max_bytes)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise MalformedInputError(Code.TOO_LARGE, "request body too large", limit=max_bytes)
        chunks.append(chunk)
        if progress is not None:
            progress(size)
    return b"".join(chunks)


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def _require_json(request: Request) -> None:
    if _media_type(request) != JSON_TYPE:
        raise MalformedInputError(Code.MALFORMED, "the body must be application/json")


async def read_json(request: Request, max_bytes: int, *, max_depth: int = 16) -> JSONObject:
    """Read a JSON object body (``application/json``), strictly and within bounds.

    Raises:
        MalformedInputError: wrong media type, size, depth, duplicate keys, not an object.
    """
    _require_json(request)
    body = await read_body(request, max_bytes)
    return _json.loads_object(body, max_bytes=max_bytes, max_depth=max_depth, what="request body")


async def read_json_in_time(
    request: Request,
    max_bytes: int,
    *,
    grace: float,
    min_rate: int,
    max_quotes: int,
    max_depth: int = 1,
) -> JSONObject:
    """:func:`read_json` for a large body, which must name its length and keep arriving.

    The body may start ``grace`` seconds late, and then must keep up with ``min_rate``
    bytes a second: the next chunk is due ``grace + received / min_rate`` seconds after
    reading started. So a client that stalls or trickles (a slowloris) holds whatever the
    caller reserved for it for about ``grace`` seconds, not for the time its declared
    length would take. Before parsing, a body with more ``"`` than ``max_quotes`` (more
    strings than the request can hold) is refused, and the parse (``max_depth`` deep) runs
    in a worker thread: a large body neither stalls the event loop nor becomes millions of
    objects.

    Raises:
        MalformedInputError: as :func:`read_json`, ``malformed`` without a
            ``Content-Length`` (a streamed body could not be paced), or with too many strings.
        PolicyError: ``request_timeout`` when the body falls behind.
    """
    _require_json(request)
    if request.headers.get("content-length") is None:
        raise MalformedInputError(
            Code.MALFORMED, "this request must declare its Content-Length", field="content-length"
        )
    start = asyncio.get_running_loop().time()
    received = 0
    try:
        async with asyncio.timeout(grace) as deadline:

            def paced(size: int) -> None:
                nonlocal received
                received = size
                deadline.reschedule(start + grace + size / min_rate)

            body = await read_body(request, max_bytes, progress=paced)
    except TimeoutError:
        raise PolicyError(
            Code.REQUEST_TIMEOUT, "the request body fell behind", received=received
        ) from None
    if body.count(b'"') > max_quotes:
        raise MalformedInputError(
            Code.MALFORMED, "the body holds more strings than this request takes"
        )
    return await run_in_threadpool(
        _json.loads_object, body, max_bytes=max_bytes, max_depth=max_depth, what="request body"
    )


@contextlib.contextmanager
def slot(semaphore: threading.BoundedSemaphore, *, retry_after: int) -> Iterator[None]:
    """Hold one of ``semaphore``'s slots for the block, or refuse at once (429)."""
    if not semaphore.acquire(blocking=False):
        raise PolicyError(
            Code.RATE_LIMITED, "too many requests of this kind at once; retry",
            retry_after=retry_after,
        )  # fmt: skip
    try:
        yield
    finally:
        semaphore.release()


async def read_form(request: Request, max_bytes: int) -> dict[str, str]:
    """Read an ``application/x-www-form-urlencoded`` body strictly (see the module docstring).

    Raises:
        MalformedInputError: wrong media type, size, a repeated or empty name, bad encoding.
    """
    if _media_type(request) != FORM_TYPE:
        raise MalformedInputError(Code.MALFORMED, f"the body must be {FORM_TYPE}")
    body = await read_body(request, max_bytes)
    return parse_form(body)


def parse_form(body: bytes) -> dict[str, str]:
    """Parse form-encoded bytes (WHATWG urlencoded) refusing repeats and bad encodings.

    >>> parse_form(b"grant_type=a%3Ab&tx_code=12+34")
    {'grant_type': 'a:b', 'tx_code': '12 34'}
    """
    fields: dict[str, str] = {}
    if not body:
        return fields
    for part in body.split(b"&"):
        if not part:
            continue
        name_raw, _, value_raw = part.partition(b"=")
        name, value = _form_text(name_raw), _form_text(value_raw)
        if not name:
            raise MalformedInputError(Code.MALFORMED, "a form field has no name")
        if name in fields:
            raise MalformedInputError(Code.MALFORMED, "a form field is repeated", field=name[:64])
        fields[name] = value
        if len(fields) > _MAX_FORM_FIELDS:
            raise MalformedInputError(Code.TOO_LARGE, "too many form fields")
    return fields


def _form_text(raw: bytes) -> str:
    if not raw.isascii():
        raise MalformedInputError(Code.INVALID_ENCODING, "form bodies are percent-encoded ASCII")
    plus = raw.replace(b"+", b" ")
    # Every '%' must start a two-hex-digit escape (unquote would pass "%zz" through).
    index = plus.find(b"%")
    while index != -1:
        escape = plus[index + 1 : index + 3]
        if len(escape) != 2 or not all(c in b"0123456789abcdefABCDEF" for c in escape):
            raise MalformedInputError(Code.INVALID_ENCODING, "bad percent-encoding in a form")
        index = plus.find(b"%", index + 3)
    try:
        return unquote_to_bytes(plus).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedInputError(Code.INVALID_ENCODING, "form text is not UTF-8") from exc


def json_response(
    body: JSONValue,
    status: int = 200,
    *,
    headers: Mapping[str, str] | None = None,
    media_type: str = JSON_TYPE,
) -> Response:
    """A JSON reply in the library's canonical encoding, ``no-store`` unless overridden."""
    out = {"cache-control": "no-store"}
    out.update(headers or {})
    return Response(_json.dumps(body), status_code=status, media_type=media_type, headers=out)


def token_digest(token: str) -> str:
    """The configuration form of an API token: ``sha256:`` and the hex digest of its text.

    >>> token_digest("secret")[:15]
    'sha256:2bb80d53'
    """
    return "sha256:" + hashlib.sha256(token.encode()).hexdigest()


def bearer_token(request: Request) -> str | None:
    """The RFC 6750 §2.1 bearer token of a request, or None."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token or " " in token.strip():
        return None
    return token.strip()


def require_bearer(request: Request, digests: Iterable[str]) -> str:
    """Check the request's bearer token against configured digests; return its digest.

    Raises:
        PolicyError: ``unauthorized`` for a missing or unknown token (one opaque code).
    """
    token = bearer_token(request)
    if token is None or len(token) > 512:
        raise PolicyError(Code.UNAUTHORIZED, "a valid bearer token is required")
    digest = token_digest(token)
    found = False
    for known in digests:
        found |= hmac.compare_digest(digest, known)
    if not found:
        raise PolicyError(Code.UNAUTHORIZED, "a valid bearer token is required")
    return digest


def client_key(request: Request) -> str:
    """The key failures are counted under for a client: its peer address (not logged).

    An IPv6 client is counted by its /64 network: one host is routinely given a whole
    /64 (RFC 6177), so counting single addresses would give it 2^64 budgets.
    """
    client = request.client
    return address_key(client.host) if client is not None else "unknown"


def address_key(host: str) -> str:
    """The limiter key of a peer address: itself for IPv4, its /64 network for IPv6.

    >>> address_key("203.0.113.7"), address_key("2001:db8:1:2:3:4:5:6")
    ('203.0.113.7', '2001:db8:1:2::/64')
    """
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is None:
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return (
        str(address.ipv4_mapped or address) if isinstance(address, ipaddress.IPv6Address) else host
    )


class FailureLimiter:
    """Counts failures per key in a sliding window; refuses a key past ``max_failures``.

    Used for PIN tries per client (the library limits them per citizen): a client spraying
    one PIN across many wallets is stopped here. In memory, per process.

    A try whose outcome is not known yet (a PIN being checked in a worker thread) is held
    with :meth:`reserve` and counts as a failure until :meth:`release`: otherwise a client
    sending many requests at once would have them all pass :meth:`check` before the first
    failure is recorded.

    >>> limiter = FailureLimiter(max_failures=2, window=60.0)
    >>> limiter.check("a"); limiter.fail("a"); limiter.fail("a")
    >>> limiter.blocked("a")
    True
    >>> limiter.reserve("b"); limiter.reserve("b"); limiter.blocked("b")
    True
    >>> limiter.release("b"); limiter.blocked("b")
    False
    """

    def __init__(self, *, max_failures: int, window: float, max_keys: int = 100_000) -> None:
        self._max, self._window, self._max_keys = max_failures, window, max_keys
        self._fails: dict[str, list[float]] = {}
        self._pending: dict[str, int] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> list[float]:
        kept = [t for t in self._fails.get(key, ()) if now - t < self._window]
        if kept:
            self._fails[key] = kept
        else:
            self._fails.pop(key, None)
        return kept

    def blocked(self, key: str) -> bool:
        """Whether ``key`` has used up its failures (and held tries) in the window."""
        with self._lock:
            recent = self._recent(key, time.monotonic())
            return len(recent) + self._pending.get(key, 0) >= self._max

    def _refuse_if_spent(self, key: str) -> None:
        # Under the lock: failures in the window plus tries still held.
        now = time.monotonic()
        recent = self._recent(key, now)
        if len(recent) + self._pending.get(key, 0) >= self._max:
            wait = max(1, int(self._window - (now - recent[0])) + 1) if recent else 1
            raise PolicyError(Code.RATE_LIMITED, "too many failures; wait", retry_after=wait)

    def check(self, key: str) -> None:
        """Raise if ``key`` is blocked.

        Raises:
            PolicyError: ``rate_limited`` with the seconds to wait.
        """
        with self._lock:
            self._refuse_if_spent(key)

    def reserve(self, key: str) -> None:
        """Check ``key`` and hold one try for it, counted as a failure until :meth:`release`.

        Raises:
            PolicyError: ``rate_limited`` with the seconds to wait.
        """
        with self._lock:
            self._refuse_if_spent(key)
            if key not in self._pending and len(self._pending) >= self._max_keys:
                raise PolicyError(Code.RATE_LIMITED, "too many tries at once; wait", retry_after=1)
            self._pending[key] = self._pending.get(key, 0) + 1

    @contextlib.contextmanager
    def holding(self, key: str) -> Iterator[None]:
        """:meth:`reserve` for the block, :meth:`release` after it.

        Raises:
            PolicyError: ``rate_limited`` with the seconds to wait.
        """
        self.reserve(key)
        try:
            yield
        finally:
            self.release(key)

    def release(self, key: str) -> None:
        """End a try held by :meth:`reserve` (record its failure with :meth:`fail` first)."""
        with self._lock:
            left = self._pending.get(key, 0) - 1
            if left > 0:
                self._pending[key] = left
            else:
                self._pending.pop(key, None)

    def fail(self, key: str) -> None:
        """Record one failure of ``key``."""
        with self._lock:
            now = time.monotonic()
            if key not in self._fails and len(self._fails) >= self._max_keys:
                # Bounded memory: forget the oldest keys first.
                for old in list(self._fails)[: self._max_keys // 10]:
                    del self._fails[old]
            self._fails.setdefault(key, []).append(now)

    def succeed(self, key: str) -> None:
        """Forget ``key``'s failures."""
        with self._lock:
            self._fails.pop(key, None)
