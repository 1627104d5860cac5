r"""Bounded, streaming inflation of GZIP (RFC 1952) and ZLIB (RFC 1950) data.

Both status list formats compress their list with DEFLATE (RFC 1951): the W3C Bitstring Status
List in a GZIP member, the IETF Token Status List in a ZLIB stream. A few kilobytes of DEFLATE
can stand for a thousand times as many bytes (a run of zeros costs about two bits per 258
bytes), so the list is never inflated in one call: input is fed in slices and output is
drawn in chunks, and inflation stops with ``too_large`` as soon as the output would pass the
bound. Memory stays within the bound plus one chunk whatever the input claims.

Exactly one stream is accepted: it must end (``eof``, so a truncated stream is refused), the
container's checksum must match (GZIP CRC-32 and ISIZE, ZLIB Adler-32, both checked by
zlib), and nothing may follow it (no second GZIP member, no trailing bytes).

Example:
    >>> import gzip
    >>> from seoul_vc.status._inflate import inflate
    >>> inflate(gzip.compress(b"\x00" * 16), container="gzip", max_bytes=16, what="list")
    b'\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00'
    >>> inflate(gzip.compress(b"\x00" * 17), container="gzip", max_bytes=16, what="list")
    Traceback (most recent call last):
    seoul_vc.errors.MalformedInputError: too_large: the list inflates past 16 bytes
"""

from __future__ import annotations

import zlib
from typing import Final, Literal

from seoul_vc.errors import Code, MalformedInputError

__all__ = ["inflate"]

#: Compressed bytes handed to zlib at once.
_IN_SLICE: Final = 16 * 1024
#: Inflated bytes drawn from zlib at once.
_OUT_CHUNK: Final = 256 * 1024
#: zlib window bits: a GZIP wrapper only (16 + 15) or a ZLIB wrapper only (15); never the
#: auto-detecting 32 + 15, so one format cannot pass for the other.
_WBITS: Final = {"gzip": 16 + zlib.MAX_WBITS, "zlib": zlib.MAX_WBITS}


def inflate(data: bytes, *, container: Literal["gzip", "zlib"], max_bytes: int, what: str) -> bytes:
    """Inflate one GZIP member or ZLIB stream, refusing output past ``max_bytes``.

    Args:
        data: the compressed bytes.
        container: ``gzip`` (RFC 1952) or ``zlib`` (RFC 1950).
        max_bytes: the largest inflated size accepted.
        what: names the data in error messages.

    Returns:
        The inflated bytes.

    Raises:
        MalformedInputError: ``too_large`` as soon as the output passes ``max_bytes``;
            ``malformed`` for a corrupt, truncated or checksum-failing stream, or bytes after
            its end.

    Cost: O(len(data) + output); memory at most ``max_bytes`` plus one 256 KiB chunk.
    """
    inflater = zlib.decompressobj(_WBITS[container])
    out = bytearray()
    try:
        for start in range(0, len(data), _IN_SLICE):
            pending = data[start : start + _IN_SLICE]
            while True:
                asked = min(_OUT_CHUNK, max_bytes - len(out) + 1)
                chunk = inflater.decompress(pending, asked)
                out += chunk
                if len(out) > max_bytes:
                    raise _too_large(what, max_bytes)
                pending = inflater.unconsumed_tail
                # A full chunk may leave output inside zlib even with no input left: ask again.
                if inflater.eof or (not pending and len(chunk) < asked):
                    break
            if inflater.eof:
                if inflater.unused_data or start + _IN_SLICE < len(data):
                    raise MalformedInputError(
                        Code.MALFORMED, f"the {what} has bytes after its compressed stream"
                    )
                break
        # Everything was drawn above; flush() only confirms the stream state.
        tail = inflater.flush()
    except zlib.error as exc:
        raise MalformedInputError(
            Code.MALFORMED, f"the {what} is not valid {container.upper()} data"
        ) from exc
    out += tail
    if len(out) > max_bytes:
        raise _too_large(what, max_bytes)
    if not inflater.eof:
        raise MalformedInputError(Code.MALFORMED, f"the {what}'s compressed stream is truncated")
    return bytes(out)


def _too_large(what: str, limit: int) -> MalformedInputError:
    return MalformedInputError(
        Code.TOO_LARGE, f"the {what} inflates past {limit} bytes", limit=limit
    )
