"""Eligibility rules: a small declarative language over disclosed credential claims.

Room: voting (mVoting, plan item 2-1). A poll names who may vote as a rule over the claims a
registration presentation discloses, e.g. "registered in Mapo-gu or Seodaemun-gu, and at
least 14 years old"::

    {"all": [{"claim": "address.district", "in": ["마포구", "서대문구"]},
             {"claim": "ageOver14", "equals": true}]}

The grammar, as JSON (nothing is evaluated as code; each node is an object with exactly the
members listed):

* ``{"all": [rule, ...]}`` — every sub-rule holds (1 to 16 of them);
* ``{"any": [rule, ...]}`` — at least one holds (1 to 16);
* ``{"not": rule}`` — the sub-rule does not hold;
* ``{"claim": PATH, "equals": SCALAR}`` — the claim equals the value;
* ``{"claim": PATH, "in": [SCALAR, ...]}`` — the claim is one of the values (1 to 256);
* ``{"claim": PATH, "at_least": INT}`` / ``{"claim": PATH, "at_most": INT}`` — an integer
  claim is at least / at most the bound.

``PATH`` is a dotted path into the credential subject (``address.district``: 1 to 8
segments of ASCII letters, digits and ``_``). A ``SCALAR`` is a string (at most 256
characters), an integer (an I-JSON one, below 2**53 in magnitude, RFC 7493 §2.2) or a
boolean. Comparisons are strict about types: ``true`` never equals ``1``. A rule holds at
most 64 nodes and nests at most 8 deep. A claim that is absent makes its comparison false;
the registrar refuses a presentation that does not disclose every claim the rule names
before evaluating it (:meth:`EligibilityRule.claims`).

Example:
    >>> from seoul_vc.ledger.apps.eligibility import EligibilityRule
    >>> rule = EligibilityRule.from_json({"all": [
    ...     {"claim": "address.district", "in": ["마포구"]},
    ...     {"claim": "ageOver14", "equals": True}]})
    >>> sorted(rule.claims())
    ['address.district', 'ageOver14']
    >>> rule.evaluate({"address": {"district": "마포구"}, "ageOver14": True})
    True
    >>> rule.evaluate({"address": {"district": "종로구"}, "ageOver14": True})
    False
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from seoul_vc._json import JSONObject, JSONValue
from seoul_vc.errors import Code, MalformedInputError

__all__ = ["MAX_RULE_DEPTH", "MAX_RULE_NODES", "EligibilityRule"]

#: Deepest nesting of rule nodes (a leaf alone is depth 1).
MAX_RULE_DEPTH: Final = 8
#: Most nodes (combinators and comparisons) one rule may hold.
MAX_RULE_NODES: Final = 64
_MAX_CHILDREN: Final = 16
_MAX_VALUES: Final = 256
_MAX_STRING: Final = 256
_MAX_INT: Final = 2**53 - 1
_SEGMENT_RE: Final = re.compile(r"[A-Za-z0-9_]{1,64}")
_MAX_SEGMENTS: Final = 8
_COMPARISONS: Final = ("equals", "in", "at_least", "at_most")

Scalar = str | int | bool


def _malformed(message: str, **details: str | int) -> MalformedInputError:
    return MalformedInputError(Code.MALFORMED, f"eligibility rule: {message}", **details)


def _path(value: object) -> tuple[str, ...]:
    if not isinstance(value, str):
        raise _malformed("a claim path is a string", field="claim")
    segments = tuple(value.split("."))
    if len(segments) > _MAX_SEGMENTS or not all(_SEGMENT_RE.fullmatch(s) for s in segments):
        raise _malformed("a claim path is 1 to 8 dotted names", field="claim")
    return segments


def _scalar(value: object) -> Scalar:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        if abs(value) > _MAX_INT:
            raise _malformed("integers stay below 2**53", field="value")
        return value
    if isinstance(value, str):
        if len(value) > _MAX_STRING:
            raise _malformed("strings are at most 256 characters", field="value")
        return value
    raise _malformed("values are strings, integers or booleans", field="value")


def _bound(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or abs(value) > _MAX_INT:
        raise _malformed("a bound is an integer below 2**53", field="value")
    return value


def _same(left: JSONValue, right: Scalar) -> bool:
    """Strict equality: the JSON types must match (``true`` is not ``1``)."""
    return type(left) is type(right) and left == right


@dataclass(frozen=True, slots=True)
class _Node:
    op: str
    path: tuple[str, ...] = ()
    values: tuple[Scalar, ...] = ()
    children: tuple[_Node, ...] = ()


class _Parser:
    def __init__(self) -> None:
        self.nodes = 0

    def parse(self, value: object, depth: int) -> _Node:
        self.nodes += 1
        if self.nodes > MAX_RULE_NODES:
            raise MalformedInputError(
                Code.TOO_LARGE, "eligibility rule has too many nodes", limit=MAX_RULE_NODES
            )
        if depth > MAX_RULE_DEPTH:
            raise MalformedInputError(
                Code.TOO_DEEP, "eligibility rule nests too deep", limit=MAX_RULE_DEPTH
            )
        if not isinstance(value, dict):
            raise _malformed("each rule is a JSON object")
        keys = set(value)
        if keys in ({"all"}, {"any"}):
            (op,) = keys
            items = value[op]
            if not isinstance(items, list) or not 0 < len(items) <= _MAX_CHILDREN:
                raise _malformed(f"{op} takes 1 to 16 rules", field=op)
            return _Node(op, children=tuple(self.parse(item, depth + 1) for item in items))
        if keys == {"not"}:
            return _Node("not", children=(self.parse(value["not"], depth + 1),))
        if "claim" not in keys or len(keys) != 2:
            raise _malformed("a rule is all/any/not, or claim with one comparison")
        (op,) = keys - {"claim"}
        if op not in _COMPARISONS:
            raise _malformed("unknown comparison", field=op[:32])
        path = _path(value["claim"])
        operand = value[op]
        if op == "equals":
            return _Node(op, path, (_scalar(operand),))
        if op == "in":
            if not isinstance(operand, list) or not 0 < len(operand) <= _MAX_VALUES:
                raise _malformed("in takes 1 to 256 values", field="in")
            return _Node(op, path, tuple(_scalar(v) for v in operand))
        return _Node(op, path, (_bound(operand),))


def _lookup(claims: Mapping[str, JSONValue], path: tuple[str, ...]) -> tuple[bool, JSONValue]:
    current: JSONValue = dict(claims)
    for segment in path:
        if not isinstance(current, dict) or segment not in current:
            return False, None
        current = current[segment]
    return True, current


def _holds(node: _Node, claims: Mapping[str, JSONValue]) -> bool:
    if node.op == "all":
        return all(_holds(child, claims) for child in node.children)
    if node.op == "any":
        return any(_holds(child, claims) for child in node.children)
    if node.op == "not":
        return not _holds(node.children[0], claims)
    found, value = _lookup(claims, node.path)
    if not found:
        return False
    if node.op in ("equals", "in"):
        return any(_same(value, v) for v in node.values)
    if isinstance(value, bool) or not isinstance(value, int):
        return False
    bound = node.values[0]
    if not isinstance(bound, int):  # _bound() admitted integers only
        return False
    return value >= bound if node.op == "at_least" else value <= bound


def _claims(node: _Node, out: set[str]) -> None:
    if node.path:
        out.add(".".join(node.path))
    for child in node.children:
        _claims(child, out)


@dataclass(frozen=True, slots=True)
class EligibilityRule:
    """A parsed eligibility rule; build it with :meth:`from_json`.

    Attributes:
        document: the rule as JSON, exactly as parsed (it is stored on the ledger).
    """

    document: JSONObject
    _root: _Node

    @classmethod
    def from_json(cls, value: object) -> EligibilityRule:
        """Parse a rule within its bounds (see the module docstring).

        Raises:
            MalformedInputError: ``malformed`` naming the bad member; ``too_large`` past
                64 nodes; ``too_deep`` past 8 levels.
        """
        root = _Parser().parse(value, 1)
        if not isinstance(value, dict):  # _Parser refused non-objects already
            raise _malformed("each rule is a JSON object")
        return cls(dict(value), root)

    def to_json(self) -> JSONObject:
        """Return the rule's JSON document."""
        return self.document

    def claims(self) -> frozenset[str]:
        """Return the dotted claim paths the rule reads: what a presentation must disclose."""
        out: set[str] = set()
        _claims(self._root, out)
        return frozenset(out)

    def evaluate(self, claims: Mapping[str, JSONValue]) -> bool:
        """Return whether the disclosed ``claims`` satisfy the rule. Pure; never raises."""
        return _holds(self._root, claims)
