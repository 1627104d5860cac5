"""The compiled schema checker agrees with jsonschema (2020-12, format assertion on).

Subjects are the schemas' examples mutated at random: fields dropped, retyped, replaced by
odd strings, numbers, dates and nested values. For each, both must agree on valid/invalid.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from seoul_vc.credentials._schema_check import SchemaError, compile_schema
from seoul_vc.credentials.schemas import SCHEMA_NAMES, load_schema

ODD_STRINGS = [
    "",
    "2024-02-30",
    "2024-02-29",
    "1996-03-14",
    "04039",
    "0403",
    "\uff11\uff12\uff13\uff14\uff15",  # fullwidth digits
    "did:key:z6Mk",
    "employee",
    "medicalAid",
    "graduation",
    "Kim",
    "김",
    "a\u0000b",
    "2021-9-1",
    "x" * 300,
    "did:web:city.seoul.example",
]
ODD_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(ODD_STRINGS),
    st.text(max_size=12),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(
        st.sampled_from(["family", "given", "latin", "x"]), st.text(max_size=4), max_size=3
    ),
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            out += _paths(child, (*prefix, key))
    return out


def _mutate(subject: dict[str, Any], data: st.DataObject) -> Any:
    subject = copy.deepcopy(subject)
    for _ in range(data.draw(st.integers(min_value=0, max_value=3))):
        paths = [p for p in _paths(subject) if p]
        if not paths:
            break
        path = data.draw(st.sampled_from(paths))
        parent = subject
        for step in path[:-1]:
            parent = parent[step]
        if data.draw(st.booleans()):
            del parent[path[-1]]
        else:
            parent[path[-1]] = data.draw(ODD_VALUES)
    if data.draw(st.integers(min_value=0, max_value=9)) == 0:
        subject[data.draw(st.sampled_from(["extra", "residentRegistrationNumber"]))] = "1"
    return subject


@pytest.mark.parametrize("name", SCHEMA_NAMES)
@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_compiled_checker_agrees_with_jsonschema(name: str, data: st.DataObject) -> None:
    """Valid for one iff valid for the other, on mutated example subjects."""
    schema = load_schema(name)
    reference = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    check = compile_schema(schema)
    examples = schema["examples"]
    assert isinstance(examples, list)
    subject = _mutate(data.draw(st.sampled_from(examples)), data)
    expected = reference.is_valid(subject)
    try:
        check(subject)
    except SchemaError:
        assert not expected, subject
    else:
        assert expected, subject


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_examples_pass_and_a_missing_required_field_is_named(name: str) -> None:
    """Every example passes; dropping a required field names exactly that field."""
    schema = load_schema(name)
    check = compile_schema(schema)
    examples = schema["examples"]
    assert isinstance(examples, list)
    for example in examples:
        check(example)
    required = schema["required"]
    assert isinstance(required, list)
    broken = {k: v for k, v in examples[0].items() if k != required[-1]}
    with pytest.raises(SchemaError) as info:
        check(broken)
    assert info.value.path == [required[-1]]
    assert info.value.keyword == "required"
