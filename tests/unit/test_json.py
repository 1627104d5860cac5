"""Bounded I-JSON parsing (RFC 7493) and JCS output (RFC 8785)."""

from __future__ import annotations

import json
import struct
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from seoul_vc._json import canonical, dumps, loads, loads_object
from seoul_vc.errors import Code, SeoulVCError

BIG = 1 << 20


def load(data: bytes | str, *, max_bytes: int = BIG, max_depth: int = 32) -> object:
    return loads(data, max_bytes=max_bytes, max_depth=max_depth)


def refused(data: bytes | str, *, max_bytes: int = BIG, max_depth: int = 32) -> Code:
    """Parse ``data`` and return the code of the SeoulVCError it must raise."""
    with pytest.raises(SeoulVCError) as info:
        load(data, max_bytes=max_bytes, max_depth=max_depth)
    return info.value.code


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


# -- duplicate member names (RFC 7493 §2.3) -----------------------------------------------


def test_duplicate_top_level_member_is_refused() -> None:
    """A repeated member name at the top level is duplicate_key."""
    assert refused('{"a": 1, "a": 2}') == Code.DUPLICATE_KEY


def test_duplicate_nested_member_is_refused() -> None:
    """A repeated member name inside a nested object is duplicate_key."""
    assert refused('{"outer": [{"x": {"b": 1, "b": 1}}]}') == Code.DUPLICATE_KEY


def test_duplicate_member_spelt_with_an_escape_is_refused() -> None:
    r"""'a' and its escape '\u0061' are the same member name after decoding."""
    assert refused('{"a": 1, "\\u0061": 2}') == Code.DUPLICATE_KEY


def test_same_member_name_in_sibling_objects_is_accepted() -> None:
    """Equal names in different objects are not duplicates."""
    assert load('[{"a": 1}, {"a": 2}]') == [{"a": 1}, {"a": 2}]


# -- depth --------------------------------------------------------------------------------


def test_depth_equal_to_limit_is_accepted() -> None:
    """Nesting exactly max_depth deep parses."""
    assert load(nested(32), max_depth=32) is not None


def test_depth_one_past_limit_is_too_deep() -> None:
    """Nesting max_depth + 1 deep is too_deep."""
    assert refused(nested(33), max_depth=32) == Code.TOO_DEEP


def test_mixed_object_and_array_depth_counts_both() -> None:
    """Objects and arrays both count toward the depth."""
    assert refused('{"a": [{"b": [1]}]}', max_depth=3) == Code.TOO_DEEP
    assert load('{"a": [{"b": [1]}]}', max_depth=4) == {"a": [{"b": [1]}]}


def test_hundred_thousand_open_brackets_are_refused_fast() -> None:
    """100,000 '[' are too_deep without a RecursionError, well within a second."""
    start = time.perf_counter()
    assert refused("[" * 100_000) == Code.TOO_DEEP
    assert time.perf_counter() - start < 1.0


def test_hundred_thousand_balanced_brackets_are_too_deep() -> None:
    """A balanced 100,000-deep array is too_deep, not a RecursionError."""
    assert refused(nested(100_000)) == Code.TOO_DEEP


def test_deep_objects_are_refused() -> None:
    """Deeply nested objects are too_deep too."""
    assert refused('{"a":' * 1000 + "1" + "}" * 1000) == Code.TOO_DEEP


def test_brackets_inside_strings_do_not_count() -> None:
    """'[' and '{' inside string values are not nesting."""
    text = json.dumps(["[" * 100 + "{" * 100])
    assert load(text, max_depth=1) == ["[" * 100 + "{" * 100]


def test_brackets_after_escaped_quote_inside_string_do_not_count() -> None:
    """An escaped quote does not end the string, so the brackets after it stay text."""
    text = '["\\"' + "[" * 50 + '"]'
    assert load(text, max_depth=1) == ['"' + "[" * 50]


# -- size ---------------------------------------------------------------------------------


def test_bytes_over_max_bytes_are_too_large() -> None:
    """A bytes input longer than max_bytes is too_large."""
    assert refused(b'"' + b"a" * 100 + b'"', max_bytes=101) == Code.TOO_LARGE


def test_bytes_of_exactly_max_bytes_are_accepted() -> None:
    """max_bytes is inclusive."""
    assert load(b'"' + b"a" * 99 + b'"', max_bytes=101) == "a" * 99


def test_str_over_max_bytes_in_characters_is_too_large() -> None:
    """A str with more characters than max_bytes is too_large."""
    assert refused('"' + "a" * 100 + '"', max_bytes=50) == Code.TOO_LARGE


def test_str_of_multibyte_characters_is_measured_in_utf8_bytes() -> None:
    """60 characters of 3 UTF-8 bytes each exceed a 100-byte bound."""
    text = '"' + "\uc11c" * 60 + '"'  # 서: 3 bytes in UTF-8
    assert len(text) <= 100
    assert refused(text, max_bytes=100) == Code.TOO_LARGE


def test_str_of_multibyte_characters_within_bound_is_accepted() -> None:
    """The same characters fit a bound that counts their UTF-8 bytes."""
    text = '"' + "\uc11c" * 60 + '"'
    assert load(text, max_bytes=182) == "\uc11c" * 60


# -- numbers and constants (RFC 7493 §2.2) ------------------------------------------------


@pytest.mark.parametrize("text", ["NaN", "Infinity", "-Infinity", "[NaN]", '{"a": Infinity}'])
def test_non_finite_constants_are_malformed(text: str) -> None:
    """NaN and Infinity are not JSON (RFC 8259 §6)."""
    assert refused(text) == Code.MALFORMED


@pytest.mark.parametrize("text", ["1e400", "-1e400", "[1.5e309]"])
def test_numbers_overflowing_a_double_are_malformed(text: str) -> None:
    """Numbers that round to infinity are refused (RFC 7493 §2.2)."""
    assert refused(text) == Code.MALFORMED


def test_integer_with_five_thousand_digits_is_malformed() -> None:
    """A huge integer literal is refused, not turned into a big int or a crash."""
    assert refused("1" * 5000) == Code.MALFORMED


# -- strings and Unicode (RFC 7493 §2.1) --------------------------------------------------


@pytest.mark.parametrize(
    "text", ['"\\ud800"', '"\\udc00"', '"\\udc00\\ud800"', '"\\ud800\\u0041"', '{"\\ud800": 1}']
)
def test_lone_surrogate_escapes_are_malformed(text: str) -> None:
    """Unpaired surrogate escapes are not Unicode scalar values (RFC 7493 §2.1)."""
    assert refused(text) == Code.MALFORMED


def test_lone_surrogate_in_upper_case_escape_is_malformed() -> None:
    r"""'\uD800' is refused like '\ud800'."""
    assert refused('"\\uD800"') == Code.MALFORMED


def test_paired_surrogate_escapes_are_accepted() -> None:
    """A high surrogate followed by a low one is one character (U+1F600)."""
    assert load('"\\ud83d\\ude00"') == "\U0001f600"


def test_escaped_backslash_before_u_d800_is_accepted() -> None:
    r"""'\\ud800' is a backslash and the letters 'ud800', not a surrogate."""
    assert load('"\\\\ud800"') == "\\ud800"


def test_lone_surrogate_character_in_str_input_is_malformed() -> None:
    """A Python str holding a raw lone surrogate is not valid Unicode."""
    assert refused('"\ud800"') == Code.MALFORMED


@pytest.mark.parametrize(
    "data",
    [b'"\xff"', b'"\xc0\xaf"', b'"\xed\xa0\x80"', b'"\xe2\x82"', b"\x80"],
    ids=["ff", "overlong", "encoded-surrogate", "truncated", "continuation"],
)
def test_invalid_utf8_bytes_are_malformed(data: bytes) -> None:
    """Invalid, overlong or surrogate UTF-8 sequences are refused (RFC 8259 §8.1)."""
    assert refused(data) == Code.MALFORMED


def test_valid_utf8_bytes_are_accepted() -> None:
    """UTF-8 text parses to the same characters."""
    assert load('{"\uc11c\uc6b8": "\U0001f600"}'.encode()) == {"\uc11c\uc6b8": "\U0001f600"}


# -- syntax -------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["{} {}", "{}x", "1 2", '"a" "b"', "[] ]", "{}\x00"])
def test_trailing_data_is_malformed(text: str) -> None:
    """Anything but whitespace after the value is refused."""
    assert refused(text) == Code.MALFORMED


def test_surrounding_json_whitespace_is_accepted() -> None:
    """Space, tab, LF and CR around the value are allowed (RFC 8259 §2)."""
    assert load(" \t\r\n{}\n ") == {}


@pytest.mark.parametrize("text", ["", " ", "{", "[1,]", "{'a': 1}", '{"a" 1}', "tru", "\u00a0{}"])
def test_invalid_syntax_is_malformed(text: str) -> None:
    """Empty input, unclosed values, trailing commas, quotes and non-JSON spaces are refused."""
    assert refused(text) == Code.MALFORMED


def test_loads_object_accepts_an_object() -> None:
    """loads_object returns the top-level object."""
    assert loads_object('{"a": 1}', max_bytes=BIG, max_depth=4) == {"a": 1}


@pytest.mark.parametrize("text", ["[]", '"a"', "1", "null", "true"])
def test_loads_object_refuses_non_objects(text: str) -> None:
    """A top-level array, string, number or literal is malformed for loads_object."""
    with pytest.raises(SeoulVCError) as info:
        loads_object(text, max_bytes=BIG, max_depth=4)
    assert info.value.code == Code.MALFORMED


@given(
    st.recursive(
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text(),
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
        ),
        max_leaves=20,
    )
)
def test_dumps_then_loads_round_trips(value: object) -> None:
    """loads(dumps(v)) == v for finite JSON values."""
    assert load(dumps(value)) == value  # type: ignore[arg-type]


# -- canonical (RFC 8785) -----------------------------------------------------------------


def test_canonical_sorts_keys_by_utf16_code_units() -> None:
    """RFC 8785 §3.2.3 example: keys sort by UTF-16 code units, so U+1F600 precedes U+FB33."""
    value = json.loads(
        '{"\\u20ac": "Euro Sign", "\\r": "Carriage Return",'
        ' "\\ufb33": "Hebrew Letter Dalet With Dagesh", "1": "One",'
        ' "\\ud83d\\ude00": "Emoji: Grinning Face", "\\u0080": "Control",'
        ' "\\u00f6": "Latin Small Letter O With Diaeresis"}'
    )
    expected = (
        '{"\\r":"Carriage Return","1":"One","\u0080":"Control",'
        '"\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign",'
        '"\U0001f600":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}'
    ).encode()
    assert canonical(value) == expected


def test_canonical_primitive_serialization_example() -> None:
    """RFC 8785 §3.2.2 example: numbers, string escapes and literals."""
    value = json.loads(
        '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],'
        ' "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",'
        ' "literals": [null, true, false]}'
    )
    expected = (
        '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        '"string":"\u20ac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    ).encode()
    assert canonical(value) == expected


@pytest.mark.parametrize(
    ("ieee_hex", "expected"),
    [
        ("0000000000000000", "0"),
        ("8000000000000000", "0"),
        ("0000000000000001", "5e-324"),
        ("8000000000000001", "-5e-324"),
        ("7fefffffffffffff", "1.7976931348623157e+308"),
        ("4340000000000000", "9007199254740992"),
        ("4430000000000000", "295147905179352830000"),
        ("44b52d02c7e14af6", "1e+23"),
        ("444b1ae4d6e2ef50", "1e+21"),
        ("444b1ae4d6e2ef4f", "999999999999999900000"),
        ("3eb0c6f7a0b5ed8d", "0.000001"),
        ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"),
        ("41b3de4355555555", "333333333.3333333"),
        ("becbf647612f3696", "-0.0000033333333333333333"),
        ("43143ff3c1cb0959", "1424953923781206.2"),
    ],
)
def test_canonical_number_serialization_samples(ieee_hex: str, expected: str) -> None:
    """RFC 8785 Appendix B samples: ES6 Number-to-String for IEEE 754 doubles (§3.2.2.3)."""
    (value,) = struct.unpack(">d", bytes.fromhex(ieee_hex))
    assert canonical(value) == expected.encode()


def test_canonical_writes_integral_float_without_fraction() -> None:
    """1.0 serialises as '1' (RFC 8785 §3.2.2.3)."""
    assert canonical(1.0) == b"1"


def test_canonical_switches_to_exponent_at_1e21() -> None:
    """1e20 is written in full, 1e21 as '1e+21' (RFC 8785 §3.2.2.3)."""
    assert canonical([1e20, 1e21]) == b"[100000000000000000000,1e+21]"


def test_canonical_escapes_controls_with_short_forms_and_lowercase_hex() -> None:
    r"""Controls use \b \t \n \f \r or lowercase \u00xx; DEL and U+2028 stay raw (§3.2.2.2)."""
    value = "\x00\x08\t\n\x0c\r\x1f\x7f\u2028"
    assert canonical(value) == ('"\\u0000\\b\\t\\n\\f\\r\\u001f\x7f\u2028"').encode()


def test_canonical_does_not_escape_solidus() -> None:
    """'/' is written unescaped (RFC 8785 §3.2.2.2)."""
    assert canonical("a/b") == b'"a/b"'


def test_canonical_has_no_whitespace() -> None:
    """No whitespace between tokens (RFC 8785 §3.2.1)."""
    assert canonical({"b": [1, 2], "a": {"c": None}}) == b'{"a":{"c":null},"b":[1,2]}'


def test_canonical_refuses_nan() -> None:
    """NaN has no JSON form: malformed."""
    with pytest.raises(SeoulVCError) as info:
        canonical(float("nan"))
    assert info.value.code == Code.MALFORMED


def test_canonical_refuses_integers_beyond_double_precision() -> None:
    """2**53 + 1 is not exactly representable in IEEE 754 (RFC 8785 §3.2.2.3): malformed."""
    with pytest.raises(SeoulVCError) as info:
        canonical(2**53 + 1)
    assert info.value.code == Code.MALFORMED


def test_canonical_accepts_largest_safe_integer() -> None:
    """2**53 - 1 is written exactly."""
    assert canonical(2**53 - 1) == b"9007199254740991"


def test_canonical_refuses_non_string_keys() -> None:
    """Object keys must be strings."""
    with pytest.raises(SeoulVCError) as info:
        canonical({1: "a"})  # type: ignore[dict-item]
    assert info.value.code == Code.MALFORMED


@given(
    st.dictionaries(
        st.text(max_size=6),
        st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text(max_size=6),
        max_size=8,
    )
)
def test_canonical_output_parses_back_to_the_same_value(value: dict[str, object]) -> None:
    """canonical() output is JSON that loads back to the input."""
    assert load(canonical(value)) == value  # type: ignore[arg-type]
