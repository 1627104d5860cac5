"""W3C Bitstring Status List v1.0: entries, the encoded list, the status list credential.

* ``BitstringStatusListEntry`` (§2.1) sits in a VC's ``credentialStatus``: ``type``,
  ``statusPurpose``, ``statusListIndex`` (a base-10 integer *in a string*) and
  ``statusListCredential`` (the list's URL); ``statusSize`` defaults to 1. This module reads
  the index as canonical ASCII decimal only (``_encoding.parse_decimal``): ``int()`` would
  take ``"+1"``, ``" 1"``, ``"1_000"`` and Arabic-Indic digits.
* ``encodedList`` (§2.2) is the multibase base64url (prefix ``u``, no padding) of the GZIP
  (RFC 1952) of the bitstring, at least 16 KiB uncompressed. Index 0 is the left-most bit of
  the bitstring (§2.2; Security Considerations, "Bitstring Encoding"): the most significant
  bit of byte 0, so index ``i`` is bit ``7 - i % 8`` of byte ``i // 8``.
* The ``BitstringStatusListCredential`` (§2.2) is a VC whose subject is a
  ``BitstringStatusList`` with ``statusPurpose`` (one or more strings), ``encodedList`` and
  an optional ``ttl`` in milliseconds; seoul_vc secures it as ``vc+jwt`` (VC-JOSE-COSE §3.1.1),
  as §3.6 "Securing Algorithms" advises (the same securing mechanism as the credentials it serves).

Inflation is bounded (:mod:`seoul_vc.status._inflate`); the herd-privacy minimum, purposes
and ranges are checked by the verifier (:mod:`seoul_vc.status.check`, the spec's §3.2
"Validate Algorithm").

Example:
    >>> from seoul_vc.status.bitstring import bit_at, decode_bitstring, encode_bitstring
    >>> bits = bytearray(16 * 1024)
    >>> bits[0] = 0x80  # index 0 is the left-most bit
    >>> encoded = encode_bitstring(bytes(bits))
    >>> encoded[0]
    'u'
    >>> decoded = decode_bitstring(encoded)
    >>> (bit_at(decoded, 0), bit_at(decoded, 1), len(decoded) * 8)
    (1, 0, 131072)
"""

from __future__ import annotations

import gzip
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Final

from seoul_vc._encoding import b64url_decode, b64url_encode, parse_decimal
from seoul_vc._json import JSONObject, JSONValue
from seoul_vc.errors import Code, MalformedInputError, PolicyError, SeoulVCError, error_for
from seoul_vc.limits import Limits
from seoul_vc.status._inflate import inflate

__all__ = [
    "ENTRY_TYPE",
    "LIST_CREDENTIAL_TYPE",
    "LIST_TYPE",
    "BitstringStatusListCredential",
    "BitstringStatusListEntry",
    "StatusPurpose",
    "bit_at",
    "decode_bitstring",
    "encode_bitstring",
    "format_status_list_credential",
    "parse_status_entries",
    "parse_status_list_credential",
]

ENTRY_TYPE: Final = "BitstringStatusListEntry"
LIST_CREDENTIAL_TYPE: Final = "BitstringStatusListCredential"
LIST_TYPE: Final = "BitstringStatusList"
_V2_CONTEXT: Final = "https://www.w3.org/ns/credentials/v2"
_DEFAULT_LIMITS: Final = Limits()
#: Status entries one credential may carry (one per purpose, and a few spare).
_MAX_ENTRIES: Final = 8
_MAX_URL: Final = 2048
#: ``statusListIndex`` digits: 2**64 has 20, far past any list we would inflate.
_MAX_INDEX_DIGITS: Final = 20


class StatusPurpose(StrEnum):
    """The purposes this library issues and checks (§2.1 ``statusPurpose``)."""

    REVOCATION = "revocation"
    """Cancels the credential's validity; not reversible."""
    SUSPENSION = "suspension"
    """Temporarily prevents acceptance; reversible."""


def encode_bitstring(bitstring: bytes) -> str:
    """Return the ``encodedList`` of a bitstring: ``u`` + base64url(GZIP(bitstring)).

    GZIP at level 9 with a zero modification time, so one bitstring has one encoding.
    """
    return "u" + b64url_encode(gzip.compress(bitstring, compresslevel=9, mtime=0))


def decode_bitstring(encoded: object, *, limits: Limits = _DEFAULT_LIMITS) -> bytes:
    """Expand an ``encodedList`` into its bitstring (§3.4 Bitstring Expansion Algorithm).

    Raises:
        MalformedInputError: ``malformed`` for a non-string, a missing ``u`` multibase prefix
            or corrupt GZIP; ``invalid_encoding`` for non-canonical base64url; ``too_large``
            past ``Limits.max_status_list_bytes`` encoded or
            ``Limits.max_status_list_decompressed_bytes`` inflated.
    """
    if not isinstance(encoded, str) or not encoded.startswith("u"):
        raise MalformedInputError(
            Code.MALFORMED, "encodedList is multibase base64url text (prefix u)"
        )
    if len(encoded) > limits.max_status_list_bytes:
        raise MalformedInputError(
            Code.TOO_LARGE, "encodedList is too large", limit=limits.max_status_list_bytes
        )
    compressed = b64url_decode(encoded[1:], what="encodedList")
    return inflate(
        compressed,
        container="gzip",
        max_bytes=limits.max_status_list_decompressed_bytes,
        what="encodedList",
    )


def bit_at(bitstring: bytes, index: int) -> int:
    """Return the bit at ``index``, index 0 being the left-most bit (§2.2).

    Raises:
        MalformedInputError: ``status_index_invalid`` outside the bitstring.
    """
    if not 0 <= index < len(bitstring) * 8:
        raise _index_error("statusListIndex is outside the status list", index=index)
    return (bitstring[index >> 3] >> (7 - (index & 7))) & 1


def _index_error(message: str, **details: str | int) -> SeoulVCError:
    return error_for(Code.STATUS_INDEX_INVALID, message, **details)


@dataclass(frozen=True, slots=True, kw_only=True)
class BitstringStatusListEntry:
    """A ``credentialStatus`` entry of type ``BitstringStatusListEntry`` (§2.1).

    Attributes:
        purpose: ``statusPurpose``.
        index: ``statusListIndex``, parsed.
        list_url: ``statusListCredential``.
        id: the optional entry ``id``.
    """

    purpose: str
    index: int
    list_url: str
    id: str | None = None

    def to_json(self) -> JSONObject:
        """Return the entry as VC DM JSON (``statusListIndex`` as a base-10 string)."""
        out: dict[str, JSONValue] = {}
        if self.id is not None:
            out["id"] = self.id
        out.update(
            {
                "type": ENTRY_TYPE,
                "statusPurpose": self.purpose,
                "statusListIndex": str(self.index),
                "statusListCredential": self.list_url,
            }
        )
        return out

    @classmethod
    def from_json(cls, value: JSONValue) -> BitstringStatusListEntry:
        """Parse one entry strictly.

        Raises:
            MalformedInputError: ``malformed`` for a wrong shape or type;
                ``status_index_invalid`` for an index that is not canonical ASCII decimal.
            PolicyError: ``status_unchecked`` for a ``statusSize`` other than 1 (this
                library reads 1-bit entries only; larger sizes carry messages, not validity).
        """
        if not isinstance(value, Mapping):
            raise MalformedInputError(Code.MALFORMED, "a status entry is an object")
        if value.get("type") != ENTRY_TYPE:
            raise MalformedInputError(
                Code.MALFORMED, "the status entry is not a BitstringStatusListEntry"
            )
        purpose = value.get("statusPurpose")
        if not isinstance(purpose, str) or not 0 < len(purpose) <= 64:
            raise MalformedInputError(
                Code.MALFORMED, "statusPurpose is a string", field="statusPurpose"
            )
        url = value.get("statusListCredential")
        if not isinstance(url, str) or not 0 < len(url) <= _MAX_URL:
            raise MalformedInputError(
                Code.MALFORMED, "statusListCredential is a URL", field="statusListCredential"
            )
        size = value.get("statusSize", 1)
        if type(size) is not int or size != 1:
            raise PolicyError(
                Code.STATUS_UNCHECKED, "only 1-bit status entries are checked", field="statusSize"
            )
        ident = value.get("id")
        if ident is not None and (not isinstance(ident, str) or ident == url):
            raise MalformedInputError(
                Code.MALFORMED, "an entry id is a URL other than the list's", field="id"
            )
        return cls(
            purpose=purpose, index=parse_index(value.get("statusListIndex")), list_url=url, id=ident
        )


def parse_index(value: object) -> int:
    """Parse ``statusListIndex``: a base-10 integer >= 0 in a string, ASCII digits only.

    Raises:
        MalformedInputError: ``status_index_invalid`` for anything else (a JSON number,
            signs, spaces, underscores, leading zeros, non-ASCII digits, too many digits).
    """
    if not isinstance(value, str):
        raise _index_error("statusListIndex is a base-10 integer in a string")
    try:
        return parse_decimal(value, what="statusListIndex", max_digits=_MAX_INDEX_DIGITS)
    except MalformedInputError as exc:
        raise _index_error("statusListIndex is not a canonical ASCII decimal") from exc


def parse_status_entries(value: JSONValue) -> tuple[BitstringStatusListEntry, ...]:
    """Parse ``credentialStatus``: one entry object, or a non-empty list of them.

    Raises:
        MalformedInputError, PolicyError: as :meth:`BitstringStatusListEntry.from_json`;
            ``too_large`` for more than 8 entries.
    """
    items = value if isinstance(value, list) else [value]
    if not items:
        raise MalformedInputError(Code.MALFORMED, "credentialStatus is empty")
    if len(items) > _MAX_ENTRIES:
        raise MalformedInputError(Code.TOO_LARGE, "too many status entries", limit=_MAX_ENTRIES)
    return tuple(BitstringStatusListEntry.from_json(item) for item in items)


@dataclass(frozen=True, slots=True, kw_only=True)
class BitstringStatusListCredential:
    """A parsed ``BitstringStatusListCredential`` (signature checked by the caller).

    Attributes:
        id: the credential's ``id`` (the URL it is published at).
        issuer: the ``issuer`` identifier.
        purposes: ``credentialSubject.statusPurpose``, as a set.
        bitstring: the expanded bitstring.
        valid_from: ``validFrom`` as POSIX seconds, if present.
        valid_until: ``validUntil`` as POSIX seconds, if present.
        ttl_ms: ``credentialSubject.ttl`` in milliseconds, if present.
    """

    id: str
    issuer: str
    purposes: frozenset[str]
    bitstring: bytes
    valid_from: int | None = None
    valid_until: int | None = None
    ttl_ms: int | None = None


def format_status_list_credential(
    *,
    id: str,
    issuer: str,
    purpose: str,
    bitstring: bytes,
    valid_from: datetime,
    valid_until: datetime,
    ttl_ms: int | None = None,
) -> JSONObject:
    """Return the JSON of a ``BitstringStatusListCredential`` (§2.2), ready to sign.

    The spec's 16 KiB minimum is the registry's to keep (``Limits.min_status_list_entries``,
    which verifiers enforce too).
    """
    subject: dict[str, JSONValue] = {
        "id": f"{id}#list",
        "type": LIST_TYPE,
        "statusPurpose": purpose,
        "encodedList": encode_bitstring(bitstring),
    }
    if ttl_ms is not None:
        subject["ttl"] = ttl_ms
    return {
        "@context": [_V2_CONTEXT],
        "id": id,
        "type": ["VerifiableCredential", LIST_CREDENTIAL_TYPE],
        "issuer": issuer,
        "validFrom": _iso(valid_from),
        "validUntil": _iso(valid_until),
        "credentialSubject": subject,
    }


def parse_status_list_credential(
    payload: Mapping[str, JSONValue], *, limits: Limits = _DEFAULT_LIMITS
) -> BitstringStatusListCredential:
    """Read a ``BitstringStatusListCredential``'s JSON (§2.2) and expand its list.

    Checks shape only: the caller checks the signature, the issuer, the URL, the validity
    period against its clock, purposes, length and index.

    Raises:
        VerificationError: ``status_list_invalid`` for a wrong context, type or shape.
        MalformedInputError: as :func:`decode_bitstring`.
    """
    context = payload.get("@context")
    if not isinstance(context, list) or context[:1] != [_V2_CONTEXT]:
        raise _invalid("a status list credential starts with the VC 2.0 context")
    types = payload.get("type")
    if not isinstance(types, list) or not {"VerifiableCredential", LIST_CREDENTIAL_TYPE} <= set(
        t for t in types if isinstance(t, str)
    ):
        raise _invalid("the credential is not a BitstringStatusListCredential")
    ident = payload.get("id")
    if not isinstance(ident, str):
        raise _invalid("a status list credential names its URL in id")
    issuer = payload.get("issuer")
    if isinstance(issuer, Mapping):
        issuer = issuer.get("id")
    if not isinstance(issuer, str):
        raise _invalid("a status list credential names its issuer")
    subject = payload.get("credentialSubject")
    if not isinstance(subject, Mapping) or subject.get("type") != LIST_TYPE:
        raise _invalid("credentialSubject is a BitstringStatusList")
    purposes = subject.get("statusPurpose")
    purpose_list = purposes if isinstance(purposes, list) else [purposes]
    if not purpose_list or not all(isinstance(p, str) and p for p in purpose_list):
        raise _invalid("statusPurpose is one or more strings")
    ttl = subject.get("ttl")
    if ttl is not None and (type(ttl) is not int or ttl < 0):
        raise _invalid("ttl is a non-negative integer of milliseconds")
    return BitstringStatusListCredential(
        id=ident,
        issuer=issuer,
        purposes=frozenset(str(p) for p in purpose_list),
        bitstring=decode_bitstring(subject.get("encodedList"), limits=limits),
        valid_from=_time(payload.get("validFrom"), "validFrom"),
        valid_until=_time(payload.get("validUntil"), "validUntil"),
        ttl_ms=ttl,
    )


def _invalid(message: str) -> SeoulVCError:
    return error_for(Code.STATUS_LIST_INVALID, message)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _time(value: JSONValue, name: str) -> int | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise _invalid(f"{name} is a date-time string")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise _invalid(f"{name} is an XML Schema date-time") from None
    if moment.tzinfo is None:
        raise _invalid(f"{name} needs a time zone")
    return int(moment.timestamp())
