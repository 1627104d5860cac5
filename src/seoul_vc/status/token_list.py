"""IETF Token Status List (draft-ietf-oauth-status-list): the status claim and the list.

* The Referenced Token (here an SD-JWT VC, ``dc+sd-jwt``) carries ``"status": {"status_list":
  {"idx": n, "uri": "https://..."}}`` (§6.2): ``idx`` a non-negative JSON integer, ``uri`` the
  Status List Token's URI. A number that is not an integer (``1.0``), a boolean, a string
  or a negative value is refused.
* The Status List (§4.1) packs one ``bits``-wide status (1, 2, 4 or 8) per index into a byte
  array, *from the least significant bit up*: index ``i`` occupies bits
  ``(i * bits) % 8 ...`` of byte ``(i * bits) // 8`` (§4.1 step 3, §11.1). The array is
  compressed with DEFLATE in the ZLIB format (RFC 1950, §4.1 step 4) and carried as
  unpadded base64url in ``lst`` (§4.2), beside ``bits``.
* The Status List Token (§5.1) is a JWT with ``typ: statuslist+jwt`` and claims ``sub`` (its
  own URI, equal to the referenced ``uri``), ``iat``, ``exp`` and ``ttl`` (seconds) and
  ``status_list``.
* Status values (§7.1): 0x00 VALID, 0x01 INVALID, 0x02 SUSPENDED; 0x03 and 0x0C-0x0F are
  application specific.

Example:
    >>> from seoul_vc.status.token_list import decode_status_list, status_at
    >>> lst = decode_status_list({"bits": 1, "lst": "eNrbuRgAAhcBXQ"})  # §4.1's example
    >>> lst.data.hex(), [status_at(lst.data, 1, i) for i in range(8)]
    ('b9a3', [1, 0, 0, 1, 1, 1, 0, 1])
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum
from typing import Final

from seoul_vc._encoding import b64url_decode, b64url_encode
from seoul_vc._json import JSONObject, JSONValue
from seoul_vc.errors import Code, MalformedInputError, SeoulVCError, error_for
from seoul_vc.limits import Limits
from seoul_vc.status._inflate import inflate

__all__ = [
    "BITS",
    "STATUS_LIST_TYP",
    "StatusListReference",
    "StatusType",
    "TokenStatusList",
    "decode_status_list",
    "encode_status_list",
    "parse_status_claim",
    "set_status",
    "status_at",
]

#: The ``bits`` values a Status List may use (§4.1 step 1).
BITS: Final = frozenset({1, 2, 4, 8})
#: The JWT ``typ`` of a Status List Token (§5.1).
STATUS_LIST_TYP: Final = "statuslist+jwt"
_DEFAULT_LIMITS: Final = Limits()
_MAX_IDX: Final = 2**53 - 1  # I-JSON integers (RFC 7493 §2.2)
_MAX_URI: Final = 2048


class StatusType(IntEnum):
    """Registered status values (draft-ietf-oauth-status-list §7.1)."""

    VALID = 0x00
    INVALID = 0x01
    SUSPENDED = 0x02


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenStatusList:
    """An inflated Status List: its width and packed bytes.

    Attributes:
        bits: bits per status (1, 2, 4 or 8).
        data: the packed byte array.
    """

    bits: int
    data: bytes

    @property
    def size(self) -> int:
        """The number of statuses the array holds."""
        return len(self.data) * 8 // self.bits


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusListReference:
    """The ``status.status_list`` claim of a Referenced Token (§6.2)."""

    idx: int
    uri: str

    def to_json(self) -> JSONObject:
        """Return the ``status`` claim's value."""
        return {"status_list": {"idx": self.idx, "uri": self.uri}}


def status_at(data: bytes, bits: int, index: int) -> int:
    """Return the status at ``index`` of a packed array of ``bits``-wide statuses (§4.1).

    Raises:
        MalformedInputError: ``status_index_invalid`` past the end of the array.
    """
    position = index * bits
    if index < 0 or position >= len(data) * 8:
        raise _index_error("idx is outside the status list", index=index)
    return (data[position >> 3] >> (position & 7)) & ((1 << bits) - 1)


def set_status(data: bytearray, bits: int, index: int, value: int) -> None:
    """Set the status at ``index`` in a packed array (the issuer's side of :func:`status_at`).

    Raises:
        MalformedInputError: ``status_index_invalid`` past the end of the array.
        ConfigurationError: ``bad_argument`` for a value that does not fit in ``bits``.
    """
    if not 0 <= value < (1 << bits):
        raise error_for(Code.BAD_ARGUMENT, "the status does not fit the list's width")
    position = index * bits
    if index < 0 or position >= len(data) * 8:
        raise _index_error("idx is outside the status list", index=index)
    mask = ((1 << bits) - 1) << (position & 7)
    byte = position >> 3
    data[byte] = (data[byte] & ~mask & 0xFF) | (value << (position & 7))


def encode_status_list(data: bytes, bits: int) -> JSONObject:
    """Return the JSON Status List (§4.2) of a packed array: ZLIB at level 9 (§4.1 step 4).

    Raises:
        ConfigurationError: ``bad_argument`` for ``bits`` other than 1, 2, 4 or 8.
    """
    if bits not in BITS:
        raise error_for(Code.BAD_ARGUMENT, "bits is 1, 2, 4 or 8")
    return {"bits": bits, "lst": b64url_encode(zlib.compress(data, 9))}


def decode_status_list(value: JSONValue, *, limits: Limits = _DEFAULT_LIMITS) -> TokenStatusList:
    """Read a JSON Status List (§4.2) and inflate it within the bounds.

    Raises:
        VerificationError: ``status_list_invalid`` for a bad shape or ``bits``.
        MalformedInputError: ``invalid_encoding`` for non-canonical base64url; ``too_large``
            past ``Limits.max_status_list_bytes`` encoded or
            ``Limits.max_status_list_decompressed_bytes`` inflated; ``malformed`` for data
            that is not one complete ZLIB stream.
    """
    if not isinstance(value, Mapping):
        raise _invalid("status_list is an object")
    bits = value.get("bits")
    if type(bits) is not int or bits not in BITS:
        raise _invalid("bits is 1, 2, 4 or 8")
    lst = value.get("lst")
    if not isinstance(lst, str):
        raise _invalid("lst is base64url text")
    if len(lst) > limits.max_status_list_bytes:
        raise MalformedInputError(
            Code.TOO_LARGE, "lst is too large", limit=limits.max_status_list_bytes
        )
    aggregation = value.get("aggregation_uri")
    if aggregation is not None and not isinstance(aggregation, str):
        raise _invalid("aggregation_uri is a string")
    data = inflate(
        b64url_decode(lst, what="lst"),
        container="zlib",
        max_bytes=limits.max_status_list_decompressed_bytes,
        what="status list",
    )
    return TokenStatusList(bits=bits, data=data)


def parse_status_claim(value: JSONValue) -> StatusListReference:
    """Read a Referenced Token's ``status`` claim (§6.2).

    Raises:
        MalformedInputError: ``malformed`` without a ``status_list`` object or a string
            ``uri``; ``status_index_invalid`` unless ``idx`` is an integer in 0..2**53-1.
    """
    if not isinstance(value, Mapping):
        raise MalformedInputError(Code.MALFORMED, "status is an object")
    reference = value.get("status_list")
    if not isinstance(reference, Mapping):
        raise MalformedInputError(
            Code.MALFORMED, "status has no status_list object", field="status_list"
        )
    idx = reference.get("idx")
    # bool is an int in Python, and 1.0 is not an integer in JSON's data model here.
    if type(idx) is not int or not 0 <= idx <= _MAX_IDX:
        raise _index_error("idx is a non-negative integer")
    uri = reference.get("uri")
    if not isinstance(uri, str) or not 0 < len(uri) <= _MAX_URI:
        raise MalformedInputError(Code.MALFORMED, "uri is a URI string", field="uri")
    return StatusListReference(idx=idx, uri=uri)


def _invalid(message: str) -> SeoulVCError:
    return error_for(Code.STATUS_LIST_INVALID, message)


def _index_error(message: str, **details: str | int) -> SeoulVCError:
    return error_for(Code.STATUS_INDEX_INVALID, message, **details)
