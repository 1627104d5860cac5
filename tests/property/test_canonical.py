"""The fast JCS path gives byte-for-byte what the general RFC 8785 implementation gives."""

from __future__ import annotations

import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from seoul_vc._json import canonical

SAFE = 2**53 - 1
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-SAFE, max_value=SAFE)
    | st.text(st.characters(exclude_categories=("Cs",)), max_size=12),
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.dictionaries(
            st.text(st.characters(exclude_categories=("Cs",)), max_size=6), inner, max_size=5
        )
    ),
    max_leaves=25,
)


@settings(max_examples=400, deadline=None)
@given(json_values)
def test_canonical_matches_rfc8785_reference(value: object) -> None:
    """For any JSON of strings, safe integers, booleans and null, both paths agree."""
    assert canonical(value) == bytes(rfc8785.dumps(value))  # type: ignore[arg-type]


def test_supplementary_plane_keys_sort_by_utf16_code_units() -> None:
    """RFC 8785 §3.2.3 orders keys by UTF-16 units; U+10000 sorts before U+E000 there."""
    value = {"\U00010000": 1, "\ue000": 2}
    assert canonical(value) == bytes(rfc8785.dumps(value))
    assert canonical(value).index("\U00010000".encode()) < canonical(value).index("\ue000".encode())


def test_floats_take_the_general_path() -> None:
    """Numbers with fractions use ES6 formatting (RFC 8785 §3.2.2.3): 1.0 is written 1."""
    assert canonical({"a": 1.0, "b": 1e21}) == b'{"a":1,"b":1e+21}'
