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

The address guard, the deadline, the guarded backend and the httpx transport live in
:mod:`._guard`; :class:`GuardedFetcher`, :class:`Fetched`, :class:`Answer`, :class:`Closing`
and body reading in :mod:`._fetch`. This module re-exports their public names.

Example:
    >>> from seoul_vc._net import check_public_address
    >>> check_public_address("169.254.169.254")
    Traceback (most recent call last):
    seoul_vc.errors.PolicyError: address_refused: the host resolves to a non-public address
"""

from __future__ import annotations

from seoul_vc._net._fetch import FETCH_ERRORS, Answer, Fetched, GuardedFetcher
from seoul_vc._net._fetch import Closing as Closing
from seoul_vc._net._guard import GuardedBackend, check_public_address

__all__ = [
    "FETCH_ERRORS",
    "Answer",
    "Fetched",
    "GuardedBackend",
    "GuardedFetcher",
    "check_public_address",
]
