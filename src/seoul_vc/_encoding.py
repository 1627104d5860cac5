"""Strict encodings: base64url (RFC 7515 §2 / RFC 4648 §5), base58btc multibase, decimals.

Decoders here accept exactly one spelling of each value, so that a signature or a key has one
encoding and tokens are not malleable:

* base64url: only ``A-Z a-z 0-9 - _``, no padding, no whitespace, a length that is not 1 mod
  4, and zero unused trailing bits (RFC 4648 §3.5 "canonical encoding");
* base58btc: the Bitcoin alphabet only, multibase prefix ``z``, and a round trip that gives
  back the same text;
* decimal: ASCII ``0-9`` only, no sign, no underscores, no whitespace, no leading zeros —
  :func:`int` alone accepts ``" 42 "``, ``"1_000"``, ``"+7"`` and ``"١٢٣"``.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence

import base58

from seoul_vc.errors import Code, MalformedInputError

__all__ = [
    "B64URL_FROM_STD",
    "b64_hash_decode",
    "b64url_decode",
    "b64url_decode_each",
    "b64url_encode",
    "decode_multibase_base58btc",
    "decode_varint_prefix",
    "encode_multibase_base58btc",
    "parse_decimal",
]

_B64URL_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_B64URL_VALUE = {c: i for i, c in enumerate(_B64URL_ALPHABET)}
_B64URL_BYTES = _B64URL_ALPHABET.encode("ascii")
_B64URL_TO_STD = bytes.maketrans(b"-_", b"+/")
_PADDING = (b"", b"", b"==", b"=")
_B64_HASH_RE = re.compile(r"[A-Za-z0-9+/]{43}=")
_B58_RE = re.compile(r"[1-9A-HJ-NP-Za-km-z]+")
_DECIMAL_RE = re.compile(r"0|[1-9][0-9]*")


_STD_TO_B64URL = bytes.maketrans(b"+/", b"-_")
#: ``bytes.translate`` table from standard base64 to base64url (for encoders working in bulk).
B64URL_FROM_STD = _STD_TO_B64URL


def b64url_encode(data: bytes) -> str:
    """Encode ``data`` as unpadded base64url text."""
    # binascii directly: base64.urlsafe_b64encode adds two calls and a copy per value.
    encoded = binascii.b2a_base64(data, newline=False).translate(_STD_TO_B64URL)
    return encoded.rstrip(b"=").decode("ascii")


def b64url_decode(text: str, *, what: str = "value") -> bytes:
    """Decode unpadded, canonical base64url.

    Args:
        text: the encoded text.
        what: a name for the value, used in the error message (never the value itself).

    Raises:
        MalformedInputError: ``invalid_encoding`` for any character outside the URL-safe
            alphabet, padding, a length of 1 mod 4, or non-zero unused trailing bits.
    """
    if not isinstance(text, str):
        raise MalformedInputError(Code.INVALID_ENCODING, f"{what} is not text", field=what)
    # Deleting every alphabet byte leaves nothing only for pure base64url (no padding, no
    # whitespace, no "+/"): a C loop, several times faster than a regular expression.
    data = text.encode("ascii", "replace")
    if data.translate(None, _B64URL_BYTES):
        raise MalformedInputError(
            Code.INVALID_ENCODING, f"{what} is not unpadded base64url", field=what
        )
    rem = _remainder(text, what)
    try:
        # Validated above, so the standard decoder in strict mode sees only clean input.
        # (bytes.translate is ~5x faster than str.translate here.)
        return binascii.a2b_base64(data.translate(_B64URL_TO_STD) + _PADDING[rem])
    except binascii.Error as exc:  # pragma: no cover - excluded by the checks above
        raise MalformedInputError(
            Code.INVALID_ENCODING, f"{what} is not base64url", field=what
        ) from exc


def _remainder(text: str, what: str) -> int:
    """``len(text) % 4`` once the length and trailing bits are checked (alphabet already is).

    Raises:
        MalformedInputError: ``invalid_encoding`` for a length of 1 mod 4 or non-zero unused
            trailing bits: RFC 4648 §3.5 says several texts would decode to the same bytes.
    """
    rem = len(text) % 4
    if rem == 1:
        raise MalformedInputError(
            Code.INVALID_ENCODING, f"{what} has an impossible base64url length", field=what
        )
    if (rem == 2 and _B64URL_VALUE[text[-1]] & 0x0F) or (
        rem == 3 and _B64URL_VALUE[text[-1]] & 0x03
    ):
        raise MalformedInputError(
            Code.INVALID_ENCODING, f"{what} has non-canonical trailing bits", field=what
        )
    return rem


def b64url_decode_each(texts: Sequence[str], *, what: str = "value") -> list[bytes]:
    """Decode several texts as :func:`b64url_decode` does each, in fewer passes.

    The alphabet of all of them is checked in one pass and translated in one more; only the
    length and trailing-bit checks and the decoding itself are per text. For an SD-JWT's
    disclosures, decoded together.

    Raises:
        MalformedInputError: ``invalid_encoding``, as :func:`b64url_decode` for any text.
    """
    if not all(isinstance(text, str) for text in texts):
        raise MalformedInputError(Code.INVALID_ENCODING, f"{what} is not text", field=what)
    joined = "".join(texts).encode("ascii", "replace")
    if joined.translate(None, _B64URL_BYTES):
        raise MalformedInputError(
            Code.INVALID_ENCODING, f"{what} is not unpadded base64url", field=what
        )
    standard = joined.translate(_B64URL_TO_STD)
    out: list[bytes] = []
    start = 0
    for text in texts:
        end = start + len(text)
        rem = _remainder(text, what)
        out.append(binascii.a2b_base64(standard[start:end] + _PADDING[rem]))
        start = end
    return out


def b64_hash_decode(text: object, *, what: str = "hash") -> bytes:
    """Decode a 32-byte hash written in canonical padded standard base64 (RFC 4648 §4).

    This is how checkpoints (C2SP tlog-checkpoint) and RFC 6962-style JSON write hashes.

    Raises:
        MalformedInputError: ``invalid_encoding`` unless ``text`` is exactly 44 characters of
            standard base64 with one ``=`` and zero unused bits (RFC 4648 §3.5).
    """
    if not isinstance(text, str) or _B64_HASH_RE.fullmatch(text) is None:
        raise MalformedInputError(
            Code.INVALID_ENCODING, f"{what} is not padded base64 of 32 bytes", field=what
        )
    raw = base64.b64decode(text)  # the regex admits only alphabet characters
    if base64.b64encode(raw).decode("ascii") != text:
        raise MalformedInputError(
            Code.INVALID_ENCODING, f"{what} is not canonical base64", field=what
        )
    return raw


def encode_multibase_base58btc(data: bytes) -> str:
    """Encode ``data`` as multibase base58btc text (prefix ``z``)."""
    return "z" + base58.b58encode(data).decode("ascii")


def decode_multibase_base58btc(text: str, *, what: str = "value", max_chars: int = 512) -> bytes:
    """Decode multibase base58btc text (prefix ``z``, Bitcoin alphabet), canonically.

    Raises:
        MalformedInputError: ``too_large`` past ``max_chars``; ``invalid_encoding`` for another
            multibase prefix, characters outside the alphabet, or a non-canonical spelling.
    """
    if not isinstance(text, str):
        raise MalformedInputError(Code.INVALID_ENCODING, f"{what} is not text", field=what)
    if len(text) > max_chars:
        raise MalformedInputError(
            Code.TOO_LARGE, f"{what} is longer than {max_chars} characters", field=what
        )
    if not text.startswith("z") or _B58_RE.fullmatch(text, 1) is None:
        raise MalformedInputError(
            Code.INVALID_ENCODING, f"{what} is not multibase base58btc", field=what
        )
    data = bytes(base58.b58decode(text[1:]))
    if encode_multibase_base58btc(data) != text:
        raise MalformedInputError(
            Code.INVALID_ENCODING, f"{what} is not canonical base58btc", field=what
        )
    return data


def decode_varint_prefix(data: bytes, *, what: str = "value") -> tuple[int, bytes]:
    """Split an unsigned-varint (multiformats) prefix from ``data``.

    Returns:
        ``(value, rest)``.

    Raises:
        MalformedInputError: ``invalid_encoding`` if the varint is truncated, longer than
            9 bytes, or not minimally encoded (the multiformats spec forbids padding).
    """
    value = 0
    for i, byte in enumerate(data[:9]):
        value |= (byte & 0x7F) << (7 * i)
        if not byte & 0x80:
            if byte == 0 and i > 0:
                break  # a trailing 0x00 group means the varint was not minimal
            return value, data[i + 1 :]
    raise MalformedInputError(Code.INVALID_ENCODING, f"{what} has a bad varint", field=what)


def parse_decimal(text: str, *, what: str = "value", max_digits: int = 20) -> int:
    """Parse a non-negative base-10 integer spelt canonically in ASCII.

    Raises:
        MalformedInputError: ``invalid_encoding`` for signs, whitespace, underscores,
            non-ASCII digits or leading zeros; ``too_large`` past ``max_digits`` digits.
    """
    if not isinstance(text, str):
        raise MalformedInputError(Code.INVALID_ENCODING, f"{what} is not text", field=what)
    if len(text) > max_digits:
        raise MalformedInputError(
            Code.TOO_LARGE, f"{what} has more than {max_digits} digits", field=what
        )
    if _DECIMAL_RE.fullmatch(text) is None:
        raise MalformedInputError(
            Code.INVALID_ENCODING, f"{what} is not a canonical ASCII decimal", field=what
        )
    return int(text)
