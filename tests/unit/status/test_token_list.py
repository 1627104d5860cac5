"""IETF Token Status List codec: the draft's vectors, bit order, bounds and the status claim."""

from __future__ import annotations

import json
import zlib
from pathlib import Path
from typing import Any

import pytest

from seoul_vc._encoding import b64url_decode, b64url_encode
from seoul_vc._json import JSONValue
from seoul_vc.errors import Code, SeoulVCError
from seoul_vc.limits import Limits
from seoul_vc.status.token_list import (
    StatusListReference,
    decode_status_list,
    encode_status_list,
    parse_status_claim,
    set_status,
    status_at,
)

VECTORS = json.loads(
    (Path(__file__).parents[2] / "vectors/token-status-list/vectors.json").read_text()
)


@pytest.mark.parametrize("vector", VECTORS["vectors"], ids=lambda v: v["name"])
def test_draft_vectors_decode_to_the_listed_statuses(vector: dict[str, Any]) -> None:
    """Every status the draft lists is read back, and every other index is VALID."""
    decoded = decode_status_list({"bits": vector["bits"], "lst": vector["lst"]})
    assert decoded.size == vector["size"]
    listed = {int(i): s for i, s in vector["statuses"].items()}
    nonzero = {
        i: status_at(decoded.data, decoded.bits, i)
        for i in range(decoded.size)
        if status_at(decoded.data, decoded.bits, i)
    }
    assert nonzero == {i: s for i, s in listed.items() if s}


@pytest.mark.parametrize("vector", VECTORS["vectors"][:2], ids=lambda v: v["name"])
def test_section_4_1_byte_arrays_and_compression_match_the_draft(vector: dict[str, Any]) -> None:
    """The LSB-first packing gives the draft's bytes, and ZLIB level 9 its compressed hex."""
    data = bytearray(len(bytes.fromhex(vector["bytes_hex"])))
    for index, value in vector["statuses"].items():
        set_status(data, vector["bits"], int(index), value)
    assert data.hex() == vector["bytes_hex"]
    encoded = encode_status_list(bytes(data), vector["bits"])
    assert b64url_decode(str(encoded["lst"])).hex() == vector["compressed_hex"]
    assert encoded["lst"] == vector["lst"]


def test_draft_status_list_token_claims_parse() -> None:
    """The example Status List Token's claims carry the §4.1 list under status_list."""
    payload = json.loads(b64url_decode(VECTORS["status_list_token"].split(".")[1]))
    assert payload["sub"] == "https://example.com/statuslists/1"
    decoded = decode_status_list(payload["status_list"])
    assert decoded.data.hex() == "b9a3"


@pytest.mark.parametrize("bits", [1, 2, 4, 8])
def test_every_width_round_trips(bits: int) -> None:
    """set_status then encode, decode and status_at give back each value at each width."""
    data = bytearray(64)
    size = 64 * 8 // bits
    values = {i: (i * 7 + 3) % (1 << bits) for i in range(0, size, 5)}
    for index, value in values.items():
        set_status(data, bits, index, value)
    decoded = decode_status_list(encode_status_list(bytes(data), bits))
    assert all(status_at(decoded.data, bits, i) == v for i, v in values.items())


@pytest.mark.parametrize("bits", [0, 3, 16, True, "1", 1.0, None])
def test_bits_other_than_1_2_4_8_are_refused(bits: object) -> None:
    """The bits member must be the JSON integer 1, 2, 4 or 8 (§4.2)."""
    lst = b64url_encode(zlib.compress(b"\x00" * 4))
    with pytest.raises(SeoulVCError) as caught:
        decode_status_list({"bits": bits, "lst": lst})  # type: ignore[dict-item]
    assert caught.value.code is Code.STATUS_LIST_INVALID


def test_gzip_data_is_not_accepted_for_zlib() -> None:
    """The lst member is ZLIB (RFC 1950); a GZIP wrapper is refused, not auto-detected."""
    import gzip

    with pytest.raises(SeoulVCError) as caught:
        decode_status_list({"bits": 1, "lst": b64url_encode(gzip.compress(b"\x00" * 16))})
    assert caught.value.code is Code.MALFORMED


def test_padded_base64_lst_is_refused() -> None:
    """The lst member is unpadded base64url (§4.2)."""
    lst = b64url_encode(zlib.compress(b"\x00")) + "="
    with pytest.raises(SeoulVCError) as caught:
        decode_status_list({"bits": 1, "lst": lst})
    assert caught.value.code is Code.INVALID_ENCODING


def test_a_list_inflating_past_the_bound_is_too_large() -> None:
    """Inflation stops at Limits.max_status_list_decompressed_bytes."""
    lst = b64url_encode(zlib.compress(bytes(4097), 9))
    limits = Limits(max_status_list_decompressed_bytes=4096)
    with pytest.raises(SeoulVCError) as caught:
        decode_status_list({"bits": 1, "lst": lst}, limits=limits)
    assert caught.value.code is Code.TOO_LARGE


def test_index_past_the_end_is_refused() -> None:
    """An index beyond the list cannot be read (§8.3 step 6)."""
    with pytest.raises(SeoulVCError) as caught:
        status_at(b"\x00\x00", 2, 8)
    assert caught.value.code is Code.STATUS_INDEX_INVALID


@pytest.mark.parametrize(
    "idx",
    [-1, 1.0, 1.5, True, "3", "٣", None, 2**53, [1], {"n": 1}],
    ids=repr,
)
def test_idx_that_is_not_a_non_negative_integer_is_refused(idx: object) -> None:
    """The idx member is a non-negative JSON integer (§6.2): no strings, floats, booleans."""
    claim: JSONValue = {"status_list": {"idx": idx, "uri": "https://s.example/1"}}  # type: ignore[dict-item]
    with pytest.raises(SeoulVCError) as caught:
        parse_status_claim(claim)
    assert caught.value.code is Code.STATUS_INDEX_INVALID


@pytest.mark.parametrize(
    "claim",
    [None, [], {"status_list": "x"}, {"status_list": {"idx": 0}}, {"other": {}}],
    ids=repr,
)
def test_malformed_status_claims_are_refused(claim: JSONValue) -> None:
    """The status claim needs a status_list object with idx and a uri string."""
    with pytest.raises(SeoulVCError) as caught:
        parse_status_claim(claim)
    assert caught.value.code is Code.MALFORMED


def test_status_claim_round_trips() -> None:
    """to_json and parse_status_claim are inverses."""
    ref = StatusListReference(idx=94567, uri="https://s.example/1")
    assert parse_status_claim(ref.to_json()) == ref
