"""Strict encodings: base64url (RFC 4648 §5, §3.5), multibase base58btc, varints, decimals."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from seoul_vc._encoding import (
    b64url_decode,
    b64url_decode_each,
    b64url_encode,
    decode_multibase_base58btc,
    decode_varint_prefix,
    encode_multibase_base58btc,
    parse_decimal,
)
from seoul_vc.errors import Code, SeoulVCError

B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def refused(fn, *args, **kwargs) -> Code:  # type: ignore[no-untyped-def]
    """Call ``fn`` and return the code of the SeoulVCError it must raise."""
    with pytest.raises(SeoulVCError) as info:
        fn(*args, **kwargs)
    return info.value.code


# -- base64url ----------------------------------------------------------------------------


def test_b64url_encode_has_no_padding() -> None:
    """Encoding drops the '=' padding (RFC 7515 §2)."""
    assert b64url_encode(b"\xfb\xff") == "-_8"


def test_b64url_decode_accepts_url_safe_alphabet() -> None:
    """'-' and '_' decode to the values 62 and 63."""
    assert b64url_decode("-_8") == b"\xfb\xff"


def test_b64url_decode_accepts_empty_text() -> None:
    """The empty text is the encoding of the empty byte string."""
    assert b64url_decode("") == b""


@pytest.mark.parametrize("text", ["AA==", "AAA=", "AA=", "QQ=="])
def test_b64url_padding_is_refused(text: str) -> None:
    """Padding characters are refused (RFC 7515 §2: base64url without padding)."""
    assert refused(b64url_decode, text) == Code.INVALID_ENCODING


@pytest.mark.parametrize("text", ["+_8", "-/8", "ab+c", "ab/c"])
def test_b64url_standard_alphabet_is_refused(text: str) -> None:
    """'+' and '/' of the standard alphabet are refused (RFC 4648 §5)."""
    assert refused(b64url_decode, text) == Code.INVALID_ENCODING


@pytest.mark.parametrize("text", [" AAAA", "AAAA ", "AA AA", "AAAA\n", "\tAAAA", "AA\r\nAA"])
def test_b64url_whitespace_is_refused(text: str) -> None:
    """Whitespace anywhere is refused rather than skipped (RFC 4648 §3.3)."""
    assert refused(b64url_decode, text) == Code.INVALID_ENCODING


@pytest.mark.parametrize("text", ["A", "AAAAA", "AAAAAAAAA"])
def test_b64url_length_one_mod_four_is_refused(text: str) -> None:
    """A length of 1 mod 4 cannot come from any byte string."""
    assert refused(b64url_decode, text) == Code.INVALID_ENCODING


@pytest.mark.parametrize("text", ["AB", "AP", "AR", "AAAAAB", "_x"])
def test_b64url_nonzero_trailing_bits_with_two_chars_left_are_refused(text: str) -> None:
    """With 2 characters left, the last one's 4 unused bits must be zero (RFC 4648 §3.5)."""
    assert refused(b64url_decode, text) == Code.INVALID_ENCODING


@pytest.mark.parametrize("text", ["AAB", "AAC", "AAD", "AAAAAAB", "__9"])
def test_b64url_nonzero_trailing_bits_with_three_chars_left_are_refused(text: str) -> None:
    """With 3 characters left, the last one's 2 unused bits must be zero (RFC 4648 §3.5)."""
    assert refused(b64url_decode, text) == Code.INVALID_ENCODING


@pytest.mark.parametrize("text", ["AA", "AQ", "Ag", "Aw", "AAA", "AAE", "AAI"])
def test_b64url_zero_trailing_bits_are_accepted(text: str) -> None:
    """Canonical spellings whose unused bits are zero decode."""
    assert b64url_encode(b64url_decode(text)) == text


@pytest.mark.parametrize("text", ["AAA\u00e9", "\uff21\uff21", "AA\x00A", "AA.A"])
def test_b64url_non_alphabet_characters_are_refused(text: str) -> None:
    """Non-ASCII look-alikes, NUL and '.' are outside the alphabet."""
    assert refused(b64url_decode, text) == Code.INVALID_ENCODING


def test_b64url_bytes_input_is_refused() -> None:
    """Only text is decoded; bytes are refused rather than guessed at."""
    assert refused(b64url_decode, b"AAAA") == Code.INVALID_ENCODING


@given(st.binary(max_size=200))
def test_b64url_round_trips(data: bytes) -> None:
    """decode(encode(b)) == b for every byte string."""
    assert b64url_decode(b64url_encode(data)) == data


@given(st.binary(max_size=200))
def test_b64url_encode_matches_the_standard_library(data: bytes) -> None:
    """Our encoding is the standard library's urlsafe encoding without padding."""
    assert b64url_encode(data) == base64.urlsafe_b64encode(data).decode().rstrip("=")


@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"))
def test_b64url_accepted_text_is_the_only_spelling(text: str) -> None:
    """Any text that decodes re-encodes to itself: there is one spelling per value."""
    canonical = (
        len(text) % 4 != 1
        and b64url_encode(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))) == text
    )
    if canonical:
        assert b64url_encode(b64url_decode(text)) == text
    else:
        assert refused(b64url_decode, text) == Code.INVALID_ENCODING


# -- multibase base58btc ------------------------------------------------------------------


def test_multibase_known_value_decodes() -> None:
    """'z' + base58btc of 'Hello World!' is 'z2NEpo7TZRRrLZSi2U' (multibase test vectors)."""
    assert decode_multibase_base58btc("z2NEpo7TZRRrLZSi2U") == b"Hello World!"


def test_multibase_known_value_encodes() -> None:
    """Encoding adds the 'z' prefix to the Bitcoin-alphabet text."""
    assert encode_multibase_base58btc(b"Hello World!") == "z2NEpo7TZRRrLZSi2U"


@pytest.mark.parametrize("text", ["f48656c6c6f", "Z2NEpo7TZRRrLZSi2U", "2NEpo7TZRRrLZSi2U", "u"])
def test_multibase_other_prefix_is_refused(text: str) -> None:
    """Only the base58btc prefix 'z' is accepted."""
    assert refused(decode_multibase_base58btc, text) == Code.INVALID_ENCODING


def test_multibase_prefix_alone_is_refused() -> None:
    """'z' with nothing after it is not a base58btc value."""
    assert refused(decode_multibase_base58btc, "z") == Code.INVALID_ENCODING


@pytest.mark.parametrize("bad", ["0", "O", "I", "l"])
def test_multibase_characters_outside_bitcoin_alphabet_are_refused(bad: str) -> None:
    """'0', 'O', 'I' and 'l' are not in the Bitcoin base58 alphabet."""
    assert refused(decode_multibase_base58btc, f"z2NEpo{bad}7TZ") == Code.INVALID_ENCODING


@pytest.mark.parametrize("text", ["z2NEpo7TZRRrLZSi2U ", " z2NE", "z2NE\n", "z2N+E", "z2N-E"])
def test_multibase_whitespace_and_punctuation_are_refused(text: str) -> None:
    """Whitespace and punctuation are refused rather than stripped."""
    assert refused(decode_multibase_base58btc, text) == Code.INVALID_ENCODING


def test_multibase_leading_ones_decode_to_leading_zero_bytes() -> None:
    """Each leading '1' is exactly one leading zero byte, so zero bytes have one spelling."""
    assert decode_multibase_base58btc("z11") == b"\x00\x00"
    assert decode_multibase_base58btc("z112") == b"\x00\x00\x01"


def test_multibase_leading_zero_bytes_encode_as_ones() -> None:
    """Leading zero bytes encode as '1's, never dropped."""
    assert encode_multibase_base58btc(b"\x00\x00\x01") == "z112"


def test_multibase_longer_than_max_chars_is_too_large() -> None:
    """Text past max_chars is refused before decoding."""
    assert refused(decode_multibase_base58btc, "z" + "2" * 20, max_chars=20) == Code.TOO_LARGE


def test_multibase_exactly_max_chars_is_accepted() -> None:
    """max_chars is inclusive."""
    text = encode_multibase_base58btc(b"\x01" * 10)
    assert decode_multibase_base58btc(text, max_chars=len(text)) == b"\x01" * 10


def test_multibase_bytes_input_is_refused() -> None:
    """Only text is decoded."""
    assert refused(decode_multibase_base58btc, b"z2NE") == Code.INVALID_ENCODING


@given(st.binary(min_size=1, max_size=100))
def test_multibase_round_trips(data: bytes) -> None:
    """decode(encode(b)) == b for non-empty b, leading zero bytes included."""
    assert decode_multibase_base58btc(encode_multibase_base58btc(data)) == data


@given(st.text(alphabet=B58_ALPHABET, min_size=1, max_size=60))
def test_multibase_every_accepted_text_re_encodes_to_itself(body: str) -> None:
    """No two spellings decode to the same bytes (canonical leading-zero handling)."""
    text = "z" + body
    assert encode_multibase_base58btc(decode_multibase_base58btc(text)) == text


# -- unsigned varint (multiformats) -------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "value", "rest"),
    [
        (b"\x00", 0, b""),
        (b"\x01", 1, b""),
        (b"\x7f", 127, b""),
        (b"\x80\x01", 128, b""),
        (b"\xed\x01key", 0xED, b"key"),
        (b"\x80\x24\x02", 0x1200, b"\x02"),
        (b"\xff" * 8 + b"\x7f", 2**63 - 1, b""),
    ],
)
def test_varint_minimal_encodings_decode(data: bytes, value: int, rest: bytes) -> None:
    """Minimal varints decode to their value and leave the rest (ed25519-pub 0xed, p256-pub)."""
    assert decode_varint_prefix(data) == (value, rest)


@pytest.mark.parametrize("data", [b"\x80\x00", b"\x81\x00", b"\xed\x81\x00", b"\x80\x80\x00"])
def test_varint_non_minimal_encoding_is_refused(data: bytes) -> None:
    """A trailing 0x00 group pads the varint; the unsigned-varint spec forbids it."""
    assert refused(decode_varint_prefix, data) == Code.INVALID_ENCODING


@pytest.mark.parametrize("data", [b"", b"\x80", b"\xed", b"\xff\xff"])
def test_varint_truncated_is_refused(data: bytes) -> None:
    """A varint whose last byte still has the continuation bit is truncated."""
    assert refused(decode_varint_prefix, data) == Code.INVALID_ENCODING


def test_varint_longer_than_nine_bytes_is_refused() -> None:
    """The unsigned-varint spec caps varints at 9 bytes (63 bits)."""
    assert refused(decode_varint_prefix, b"\xff" * 9 + b"\x01") == Code.INVALID_ENCODING


# -- canonical decimals -------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "-1",
        "+1",
        " 1",
        "1 ",
        "1\n",
        "1_000",
        "\u0661\u0662\u0663\u0664",  # Arabic-Indic digits: int() accepts them
        "\uff11\uff12",  # full-width digits
        "01",
        "00",
        "",
        "1.0",
        "1e3",
        "0x10",
    ],
)
def test_parse_decimal_refuses_non_canonical_spellings(text: str) -> None:
    """Signs, whitespace, underscores, non-ASCII digits, leading zeros and '' are refused."""
    assert refused(parse_decimal, text) == Code.INVALID_ENCODING


def test_parse_decimal_refuses_too_many_digits() -> None:
    """More than max_digits digits is too_large, checked before parsing."""
    assert refused(parse_decimal, "1" * 21) == Code.TOO_LARGE


def test_parse_decimal_refuses_a_huge_string_as_too_large() -> None:
    """A megabyte of digits is refused by length, never handed to int()."""
    assert refused(parse_decimal, "9" * 1_000_000) == Code.TOO_LARGE


def test_parse_decimal_accepts_exactly_max_digits() -> None:
    """max_digits is inclusive."""
    assert parse_decimal("9" * 20) == 10**20 - 1


def test_parse_decimal_respects_a_smaller_max_digits() -> None:
    """The caller's max_digits bound applies."""
    assert refused(parse_decimal, "1000", max_digits=3) == Code.TOO_LARGE


@pytest.mark.parametrize(("text", "value"), [("0", 0), ("42", 42), ("1000", 1000)])
def test_parse_decimal_accepts_canonical_decimals(text: str, value: int) -> None:
    """Plain ASCII decimals without leading zeros parse."""
    assert parse_decimal(text) == value


def test_parse_decimal_refuses_non_text() -> None:
    """An int or bytes is not a decimal spelling."""
    assert refused(parse_decimal, b"42") == Code.INVALID_ENCODING


@given(st.integers(min_value=0, max_value=10**20 - 1))
def test_parse_decimal_round_trips(value: int) -> None:
    """parse_decimal(str(n)) == n for every n with at most 20 digits."""
    assert parse_decimal(str(value)) == value


@given(st.lists(st.binary(max_size=40), max_size=6))
def test_b64url_decode_each_decodes_as_one_by_one(items: list[bytes]) -> None:
    texts = [b64url_encode(item) for item in items]
    assert b64url_decode_each(texts) == items


@pytest.mark.parametrize("bad", ["QQ=", "Q", "QR", "QUJ", "Q+", "a b", "é"], ids=repr)
def test_b64url_decode_each_refuses_what_b64url_decode_refuses(bad: str) -> None:
    assert refused(b64url_decode_each, ["QUJD", bad, "REVG"]) is refused(b64url_decode, bad)


def test_b64url_decode_each_keeps_empty_texts() -> None:
    assert b64url_decode_each(["QUJD", "", "REVG"]) == [b"ABC", b"", b"DEF"]


def test_b64url_decode_each_refuses_non_text() -> None:
    assert refused(b64url_decode_each, ["QUJD", b"QUJD"]) is Code.INVALID_ENCODING
