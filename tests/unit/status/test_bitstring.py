"""W3C Bitstring Status List codec: the spec's example, bit order, entries and indexes."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from seoul_vc._encoding import b64url_encode
from seoul_vc.errors import Code, SeoulVCError
from seoul_vc.limits import Limits
from seoul_vc.status.bitstring import (
    BitstringStatusListEntry,
    bit_at,
    decode_bitstring,
    encode_bitstring,
    parse_status_entries,
    parse_status_list_credential,
)

VECTORS = json.loads(
    (Path(__file__).parents[2] / "vectors/bitstring-status-list/vectors.json").read_text()
)


def test_spec_example_list_decodes_to_16_kib_of_valid_entries() -> None:
    """The §2.2 example encodedList is 131,072 zero bits."""
    credential = parse_status_list_credential(VECTORS["status_list_credential"])
    assert len(credential.bitstring) * 8 == VECTORS["expected_bits"]
    assert not any(credential.bitstring)
    assert credential.purposes == {"revocation"}
    assert credential.issuer == "did:example:12345"


@pytest.mark.parametrize("entry", VECTORS["entries"], ids=lambda e: e["statusPurpose"])
def test_spec_example_entries_parse_and_round_trip(entry: dict[str, Any]) -> None:
    """§2.1's entries parse with their index as a number and serialise back unchanged."""
    parsed = BitstringStatusListEntry.from_json(entry)
    assert parsed.index == int(entry["statusListIndex"])
    assert parsed.to_json() == entry


def test_index_zero_is_the_left_most_bit() -> None:
    """Index 0 is the most significant bit of byte 0; index 9 the second bit of byte 1."""
    bits = bytearray(16 * 1024)
    bits[0], bits[1] = 0x80, 0x40
    decoded = decode_bitstring(encode_bitstring(bytes(bits)))
    assert [i for i in range(16) if bit_at(decoded, i)] == [0, 9]


def test_encoding_is_deterministic_gzip_with_the_u_prefix() -> None:
    """The encodedList is 'u' + unpadded base64url of GZIP (RFC 1952) with mtime 0."""
    encoded = encode_bitstring(bytes(16 * 1024))
    assert encoded == encode_bitstring(bytes(16 * 1024))
    assert encoded.startswith("uH4sI")  # base64url of the GZIP magic 1f 8b 08


@pytest.mark.parametrize(
    "encoded",
    ["", "H4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA", "z123", 5],
    ids=["empty", "no-prefix", "base58-prefix", "number"],
)
def test_encoded_list_without_the_u_prefix_is_refused(encoded: object) -> None:
    """Multibase base64url is the only encoding (§2.2)."""
    with pytest.raises(SeoulVCError) as caught:
        decode_bitstring(encoded)
    assert caught.value.code is Code.MALFORMED


def test_zlib_data_is_not_accepted_for_gzip() -> None:
    """The encodedList is GZIP; a ZLIB stream is refused, not auto-detected."""
    import zlib

    with pytest.raises(SeoulVCError) as caught:
        decode_bitstring("u" + b64url_encode(zlib.compress(bytes(16))))
    assert caught.value.code is Code.MALFORMED


def test_two_gzip_members_are_refused() -> None:
    """Exactly one GZIP member: a second one (or any trailing byte) is refused."""
    data = gzip.compress(bytes(8)) + gzip.compress(bytes(8))
    with pytest.raises(SeoulVCError) as caught:
        decode_bitstring("u" + b64url_encode(data))
    assert caught.value.code is Code.MALFORMED


def test_truncated_gzip_is_refused() -> None:
    """A stream that does not end (or whose CRC/ISIZE trailer is missing) is refused."""
    data = gzip.compress(bytes(1024))[:-6]
    with pytest.raises(SeoulVCError) as caught:
        decode_bitstring("u" + b64url_encode(data))
    assert caught.value.code is Code.MALFORMED


def test_oversized_encoded_list_is_refused_before_decoding() -> None:
    """The encoded text is bounded by Limits.max_status_list_bytes."""
    with pytest.raises(SeoulVCError) as caught:
        decode_bitstring("u" + "A" * 2000, limits=Limits(max_status_list_bytes=1000))
    assert caught.value.code is Code.TOO_LARGE


def _entry(index: object, **extra: object) -> dict[str, object]:
    return {
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": index,
        "statusListCredential": "https://example.com/credentials/status/3",
        **extra,
    }


@pytest.mark.parametrize(
    "index",
    ["-1", "+1", " 1", "1 ", "1_000", "01", "١٢٣", "１",  # noqa: RUF001
     "1e3", "0x10", "", "1.0",
     "9" * 21, 94567, -1, None, True],
    ids=repr,
)  # fmt: skip
def test_malformed_status_list_indexes_are_refused(index: object) -> None:
    """The statusListIndex is a base-10 integer >= 0 in a string, canonical ASCII digits only."""
    with pytest.raises(SeoulVCError) as caught:
        BitstringStatusListEntry.from_json(_entry(index))  # type: ignore[arg-type]
    assert caught.value.code is Code.STATUS_INDEX_INVALID


def test_index_outside_the_bitstring_is_refused() -> None:
    """RANGE_ERROR (§3.2): an index past the list is an error, not 'valid'."""
    with pytest.raises(SeoulVCError) as caught:
        bit_at(bytes(16 * 1024), 131072)
    assert caught.value.code is Code.STATUS_INDEX_INVALID


def test_status_size_other_than_one_is_not_checked() -> None:
    """Multi-bit entries carry messages, not validity: status_unchecked, failing closed."""
    with pytest.raises(SeoulVCError) as caught:
        BitstringStatusListEntry.from_json(_entry("5", statusSize=2))  # type: ignore[arg-type]
    assert caught.value.code is Code.STATUS_UNCHECKED


@pytest.mark.parametrize(
    "entry",
    [
        {"type": "StatusList2021Entry", "statusPurpose": "revocation"},
        _entry("1", statusPurpose=5),
        _entry("1", statusListCredential=None),
        _entry("1", id="https://example.com/credentials/status/3"),
    ],
    ids=["wrong-type", "purpose-number", "no-url", "id-is-the-list-url"],
)
def test_malformed_entries_are_refused(entry: dict[str, object]) -> None:
    """Entries are checked member by member (§2.1)."""
    with pytest.raises(SeoulVCError) as caught:
        BitstringStatusListEntry.from_json(entry)  # type: ignore[arg-type]
    assert caught.value.code is Code.MALFORMED


def test_credential_status_may_be_one_entry_or_a_list() -> None:
    """The credentialStatus is an object or an array of entries (VC DM 2.0 §4.10)."""
    assert len(parse_status_entries(_entry("1"))) == 1  # type: ignore[arg-type]
    assert len(parse_status_entries([_entry("1"), _entry("2")])) == 2  # type: ignore[list-item]
    with pytest.raises(SeoulVCError) as caught:
        parse_status_entries([])
    assert caught.value.code is Code.MALFORMED


@pytest.mark.parametrize(
    ("member", "value"),
    [
        ("type", ["VerifiableCredential"]),
        ("@context", ["https://www.w3.org/2018/credentials/v1"]),
        ("credentialSubject", {"type": "StatusList2021"}),
        ("issuer", 7),
        ("id", None),
    ],
)
def test_malformed_status_list_credentials_are_refused(member: str, value: object) -> None:
    """The list credential's context, types, subject type, issuer and id are checked."""
    document = dict(VECTORS["status_list_credential"])
    document[member] = value
    with pytest.raises(SeoulVCError) as caught:
        parse_status_list_credential(document)
    assert caught.value.code is Code.STATUS_LIST_INVALID
