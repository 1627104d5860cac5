"""DID and DID URL syntax (DID Core 1.0 §3.1, §3.2), checked before any method runs.

Example:
    >>> from seoul_vc.did.syntax import split_did_url
    >>> split_did_url("did:web:city.seoul.example#key-1")
    ('did:web:city.seoul.example', 'key-1')
"""

from __future__ import annotations

import re
from typing import Final, NewType

from seoul_vc.errors import Code, MalformedInputError

__all__ = ["DID", "method_of", "parse_did", "split_did_url"]

DID = NewType("DID", str)

# did = "did:" method-name ":" method-specific-id
# method-name = 1*method-char (%x61-7A / DIGIT); method-specific-id = *( *idchar ":" ) 1*idchar
# idchar = ALPHA / DIGIT / "." / "-" / "_" / pct-encoded
_IDCHAR: Final = r"(?:[A-Za-z0-9._-]|%[0-9A-Fa-f]{2})"
_DID_RE: Final = re.compile(rf"did:([a-z0-9]+):((?:{_IDCHAR}*:)*{_IDCHAR}+)")
# A fragment per RFC 3986 §3.5: pchar / "/" / "?"; we accept no path or query on DID URLs
# used as key references, which is all seoul_vc needs (a "kid" or a method id).
_FRAGMENT_RE: Final = re.compile(r"(?:[A-Za-z0-9._~!$&'()*+,;=:@/?-]|%[0-9A-Fa-f]{2})*")
DEFAULT_MAX_DID_BYTES: Final = 2048


def parse_did(text: str, *, max_bytes: int = DEFAULT_MAX_DID_BYTES) -> DID:
    """Check that ``text`` is a syntactically valid DID (no path, query or fragment).

    Raises:
        MalformedInputError: ``too_large`` past ``max_bytes``; ``invalid_did`` otherwise.
    """
    if not isinstance(text, str):
        raise MalformedInputError(Code.INVALID_DID, "a DID must be text")
    if len(text) > max_bytes:
        raise MalformedInputError(Code.TOO_LARGE, "DID is too long", limit=max_bytes)
    if _DID_RE.fullmatch(text) is None:
        raise MalformedInputError(Code.INVALID_DID, "not a valid DID (DID Core §3.1)")
    return DID(text)


def split_did_url(text: str, *, max_bytes: int = DEFAULT_MAX_DID_BYTES) -> tuple[DID, str]:
    """Split a DID URL of the form ``did#fragment`` into the DID and the fragment.

    Raises:
        MalformedInputError: ``too_large`` or ``invalid_did`` (also for a missing or empty
            fragment, a path or a query).
    """
    if not isinstance(text, str):
        raise MalformedInputError(Code.INVALID_DID, "a DID URL must be text")
    if len(text) > max_bytes:
        raise MalformedInputError(Code.TOO_LARGE, "DID URL is too long", limit=max_bytes)
    did, sep, fragment = text.partition("#")
    if not sep or not fragment or _FRAGMENT_RE.fullmatch(fragment) is None:
        raise MalformedInputError(Code.INVALID_DID, "a key reference is a DID URL with a fragment")
    return parse_did(did, max_bytes=max_bytes), fragment


def method_of(did: DID) -> str:
    """Return the method name of a parsed DID (``key``, ``jwk``, ``web``...)."""
    return did.split(":", 2)[1]
