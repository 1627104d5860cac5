"""Eligibility rules: the declarative language, its bounds and strict comparisons."""

from __future__ import annotations

from typing import Any

import pytest

from seoul_vc import Code, SeoulVCError
from seoul_vc.ledger.apps.eligibility import EligibilityRule

AGE_FALSE = {"claim": "ageOver14", "equals": False}
AGE_TRUE = {"claim": "ageOver14", "equals": True}
MISSING = {"claim": "missing", "equals": 1}
RESIDENT = {"address": {"district": "마포구"}, "ageOver14": True, "incomeBracketPercent": 85}


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ({"claim": "address.district", "in": ["마포구", "중구"]}, True),
        ({"claim": "address.district", "in": ["중구"]}, False),
        ({"claim": "ageOver14", "equals": True}, True),
        ({"claim": "ageOver14", "equals": 1}, False),
        ({"claim": "incomeBracketPercent", "at_most": 100}, True),
        ({"claim": "incomeBracketPercent", "at_least": 100}, False),
        ({"claim": "ageOver14", "at_least": 0}, False),
        ({"claim": "address.dong", "equals": "서교동"}, False),
        ({"not": {"claim": "address.district", "equals": "중구"}}, True),
        (
            {
                "any": [
                    {"claim": "ageOver14", "equals": False},
                    {"claim": "ageOver14", "equals": True},
                ]
            },
            True,
        ),
        (
            {"all": [{"claim": "ageOver14", "equals": True}, {"claim": "missing", "equals": 1}]},
            False,
        ),
    ],
)
def test_rule_evaluates_as_written(rule: dict[str, Any], expected: bool) -> None:
    """Each construct evaluates strictly, and an absent claim makes a comparison false."""
    assert EligibilityRule.from_json(rule).evaluate(RESIDENT) is expected


def test_rule_lists_the_claims_it_reads() -> None:
    """claims() names every path under every combinator."""
    rule = EligibilityRule.from_json(
        {"any": [{"not": {"claim": "a.b", "equals": 1}}, {"claim": "c", "in": ["x"]}]}
    )
    assert rule.claims() == frozenset({"a.b", "c"})


def _deep(levels: int) -> dict[str, Any]:
    node: dict[str, Any] = {"claim": "x", "equals": 1}
    for _ in range(levels - 1):
        node = {"not": node}
    return node


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ([], Code.MALFORMED),
        ({}, Code.MALFORMED),
        ({"claim": "x"}, Code.MALFORMED),
        ({"claim": "x", "equals": 1, "in": [1]}, Code.MALFORMED),
        ({"claim": "x", "matches": ".*"}, Code.MALFORMED),
        ({"claim": "x", "equals": 1.5}, Code.MALFORMED),
        ({"claim": "x", "equals": None}, Code.MALFORMED),
        ({"claim": "x", "equals": {"a": 1}}, Code.MALFORMED),
        ({"claim": "x", "equals": 2**53}, Code.MALFORMED),
        ({"claim": "x", "equals": "s" * 257}, Code.MALFORMED),
        ({"claim": "x", "in": []}, Code.MALFORMED),
        ({"claim": "x", "in": list(range(257))}, Code.MALFORMED),
        ({"claim": "x", "at_least": True}, Code.MALFORMED),
        ({"claim": "", "equals": 1}, Code.MALFORMED),
        ({"claim": "a..b", "equals": 1}, Code.MALFORMED),
        ({"claim": "a.b.c.d.e.f.g.h.i", "equals": 1}, Code.MALFORMED),
        ({"claim": "__import__('os')", "equals": 1}, Code.MALFORMED),
        ({"claim": 7, "equals": 1}, Code.MALFORMED),
        ({"all": []}, Code.MALFORMED),
        ({"all": [{"claim": "x", "equals": 1}] * 17}, Code.MALFORMED),
        ({"all": {"claim": "x", "equals": 1}}, Code.MALFORMED),
        ({"all": [_deep(1)], "any": [_deep(1)]}, Code.MALFORMED),
        (_deep(9), Code.TOO_DEEP),
        ({"all": [{"all": [_deep(1)] * 16}] * 4}, Code.TOO_LARGE),
    ],
)
def test_bad_rule_is_refused(rule: object, expected: Code) -> None:
    """Malformed, oversized and over-deep rules are refused with their codes."""
    with pytest.raises(SeoulVCError) as excinfo:
        EligibilityRule.from_json(rule)
    assert excinfo.value.code is expected


def test_deepest_allowed_rule_parses() -> None:
    """Eight levels are accepted."""
    assert EligibilityRule.from_json(_deep(8)).evaluate({"x": 1}) is False


def test_hostile_nesting_is_refused_without_recursion_error() -> None:
    """A rule nested 100,000 deep is refused at depth 9, not by Python's recursion limit."""
    with pytest.raises(SeoulVCError) as excinfo:
        EligibilityRule.from_json(_deep(100_000))
    assert excinfo.value.code is Code.TOO_DEEP
