"""A compiled checker for the JSON Schema 2020-12 subset our credential schemas use.

``jsonschema`` walks the schema on every call (~250 us per residency subject here), which is
more than both signature checks of a presentation together. This module turns a schema into
nested closures once, for exactly the keywords the shipped schemas use, and refuses to
compile a schema with any other keyword (the caller then keeps ``jsonschema``). A property
test checks it agrees with ``jsonschema`` (format assertion on) on mutated subjects.

Supported (JSON Schema 2020-12 Validation and Core): ``type``, ``enum``, ``const``,
``minLength``/``maxLength`` (code points), ``pattern`` (search, not anchored), ``minimum``/
``maximum``, ``format: date`` (RFC 3339 full-date, as ``jsonschema``'s format checker),
``properties``, ``required``, ``additionalProperties``, ``not``, ``if``/``then``, local
``$ref`` into ``$defs``; annotations (``title``, ``description``, ``examples``, ``$comment``,
``$id``, ``$schema``) are ignored.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any, Final

__all__ = ["SchemaError", "UnsupportedSchema", "compile_schema"]

_ANNOTATIONS: Final = frozenset(
    {"title", "description", "examples", "$comment", "$id", "$schema", "$defs"}
)
_NUMBER: Final = (int, float)  # made once: ``int | float`` builds a union per evaluation
_DATE_RE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)


def _is_string(value: object) -> bool:
    return isinstance(value, str)


def _is_number(value: object) -> bool:
    return isinstance(value, _NUMBER) and not isinstance(value, bool)


#: Bound keywords: which instances they apply to, and whether they are lower bounds. Lengths
#: count code points (2020-12 Validation §6.3.1), numbers compare as numbers (§6.2).
_BOUNDS: Final[dict[str, tuple[Callable[[object], bool], bool]]] = {
    "minLength": (_is_string, True),
    "maxLength": (_is_string, False),
    "minimum": (_is_number, True),
    "maximum": (_is_number, False),
}


class UnsupportedSchema(Exception):  # noqa: N818 - a signal to fall back, not an error
    """The schema uses a keyword this checker does not implement."""


class SchemaError(Exception):
    """A failed check: the JSON Pointer path (as a list) and the keyword.

    Checks raise it with an empty path; each enclosing ``properties`` check puts its member
    name in front on the way out, so a valid instance never pays for path bookkeeping.
    """

    def __init__(self, path: list[str], keyword: str) -> None:
        super().__init__(keyword)
        self.path, self.keyword = path, keyword


Check = Callable[[Any], None]


def _fail(keyword: str) -> SchemaError:
    return SchemaError([], keyword)


def _type_test(name: str) -> Callable[[Any], bool]:
    """The instance test of one ``type`` name (2020-12 Validation §6.1.1)."""
    if name == "string":
        return lambda value: isinstance(value, str)
    if name == "boolean":
        return lambda value: isinstance(value, bool)
    if name == "null":
        return lambda value: value is None
    if name == "object":
        return lambda value: isinstance(value, dict)
    if name == "array":
        return lambda value: isinstance(value, list)
    if name == "integer":
        return lambda value: (
            not isinstance(value, bool)
            and (isinstance(value, int) or (isinstance(value, float) and value.is_integer()))
        )
    if name == "number":
        return lambda value: not isinstance(value, bool) and isinstance(value, _NUMBER)
    raise UnsupportedSchema(f"type {name}")


def _equal(a: Any, b: Any) -> bool:
    # JSON equality: true is not 1, 1 equals 1.0; arrays and objects compare deeply.
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    return (type(a) is type(b) and a == b) or (
        isinstance(a, _NUMBER) and isinstance(b, _NUMBER) and a == b
    )


def _is_date(value: str) -> bool:
    if not _DATE_RE.fullmatch(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


#: Keywords a plain string schema may combine into one fused check.
_STRING_KEYWORDS: Final = frozenset({"type", "minLength", "maxLength", "pattern", "format", "not"})


def _string_check(schema: dict[str, Any]) -> Check | None:
    """Fuse a plain string schema into one check, or return ``None`` for any other schema.

    Plain: ``type: string`` with any of ``minLength``, ``maxLength``, ``pattern``,
    ``format: date`` and ``not: {"pattern": ...}``. The fused check reports the same first
    failure as separate checks would: ``type``, then the others in the schema's order (the
    others apply only to strings, so a non-string fails ``type`` wherever it is written).
    """
    keys = [k for k in schema if k not in _ANNOTATIONS]
    if schema.get("type") != "string" or not _STRING_KEYWORDS.issuperset(keys):
        return None
    forbidden = schema.get("not")
    if forbidden is not None and (
        not isinstance(forbidden, dict)
        or [k for k in forbidden if k not in _ANNOTATIONS] != ["pattern"]
    ):
        return None
    if schema.get("format", "date") != "date":
        raise UnsupportedSchema(f"format {schema['format']}")
    order = [k for k in keys if k != "type"]
    low: int = schema.get("minLength", 0)
    high: float = schema.get("maxLength", float("inf"))
    regex = re.compile(schema["pattern"]) if "pattern" in schema else None
    refused = re.compile(forbidden["pattern"]) if forbidden is not None else None
    date_format = "format" in schema

    def string_check(value: Any) -> None:
        if not isinstance(value, str):
            raise _fail("type")
        for key in order:
            if key == "minLength":
                if len(value) < low:
                    raise _fail(key)
            elif key == "maxLength":
                if len(value) > high:
                    raise _fail(key)
            elif key == "pattern":
                if regex.search(value) is None:  # type: ignore[union-attr]
                    raise _fail(key)
            elif key == "format":
                if date_format and not _is_date(value):
                    raise _fail(key)
            elif refused.search(value) is not None:  # type: ignore[union-attr]
                raise _fail("not")

    return string_check


def compile_schema(root: Mapping[str, Any]) -> Callable[[Any], None]:
    """Compile ``root``; the result raises :class:`SchemaError` on the first failure.

    Members of an object are checked in the schema's ``properties`` order, then the
    undeclared ones in sorted order, so the first failure reported does not depend on the
    order of the instance's members.

    Raises:
        UnsupportedSchema: for a keyword or ``$ref`` outside the supported subset.
    """
    defs = root.get("$defs", {})
    compiled_defs: dict[str, Check] = {}

    def ref(target: str) -> Check:
        if not target.startswith("#/$defs/") or target[8:] not in defs:
            raise UnsupportedSchema(f"$ref {target}")
        name = target[8:]
        if name in compiled_defs:  # compiled already: no indirection at run time
            return compiled_defs[name]

        def check(value: Any) -> None:
            compiled_defs[name](value)

        return check

    def build(schema: Any) -> Check:
        if schema is True:
            return lambda value: None
        if schema is False:

            def never(value: Any) -> None:
                raise _fail("false")

            return never
        if not isinstance(schema, dict):
            raise UnsupportedSchema("schema is not an object")
        fused = _string_check(schema)
        if fused is not None:
            return fused
        checks: list[Check] = []
        for key, arg in schema.items():
            if key in _ANNOTATIONS or key in ("then",):
                continue
            checks.append(build_keyword(schema, key, arg))
        if len(checks) == 1:
            return checks[0]

        def run_all(value: Any, checks: tuple[Check, ...] = tuple(checks)) -> None:
            for check in checks:
                check(value)

        return run_all

    def build_keyword(schema: dict[str, Any], key: str, arg: Any) -> Check:
        if key == "$ref":
            return ref(arg)
        if key == "type":
            tests = [_type_test(n) for n in (arg if isinstance(arg, list) else [arg])]
            if len(tests) == 1:
                test = tests[0]

                def type_check(value: Any, test: Callable[[Any], bool] = test) -> None:
                    if not test(value):
                        raise _fail("type")

                return type_check

            def types_check(value: Any, tests: list[Callable[[Any], bool]] = tests) -> None:
                if not any(test(value) for test in tests):
                    raise _fail("type")

            return types_check
        if key == "enum":

            def enum_check(value: Any, options: list[Any] = arg) -> None:
                if not any(_equal(value, o) for o in options):
                    raise _fail("enum")

            return enum_check
        if key == "const":

            def const_check(value: Any, want: Any = arg) -> None:
                if not _equal(value, want):
                    raise _fail("const")

            return const_check
        if key in _BOUNDS:
            applies, low = _BOUNDS[key]

            def bound_check(
                value: Any,
                bound: float = arg,
                applies: Callable[[Any], bool] = applies,
                low: bool = low,
                key: str = key,
            ) -> None:
                if applies(value):
                    size = len(value) if isinstance(value, str) else value
                    if size < bound if low else size > bound:
                        raise _fail(key)

            return bound_check
        if key == "pattern":
            regex = re.compile(arg)

            def pattern_check(value: Any, regex: re.Pattern[str] = regex) -> None:
                if isinstance(value, str) and regex.search(value) is None:
                    raise _fail("pattern")

            return pattern_check
        if key == "format":
            if arg != "date":
                raise UnsupportedSchema(f"format {arg}")

            def date_check(value: Any) -> None:
                if isinstance(value, str) and not _is_date(value):
                    raise _fail("format")

            return date_check
        if key == "required":

            def required_check(value: Any, names: list[str] = arg) -> None:
                if isinstance(value, dict):
                    for name in names:
                        if name not in value:
                            raise SchemaError([name], "required")

            return required_check
        if key == "properties":
            props = tuple((name, build(sub)) for name, sub in arg.items())

            def properties_check(value: Any, props: tuple[tuple[str, Check], ...] = props) -> None:
                if isinstance(value, dict):
                    for name, sub in props:
                        if name in value:
                            try:
                                sub(value[name])
                            except SchemaError as exc:
                                exc.path.insert(0, name)
                                raise

            return properties_check
        if key == "additionalProperties":
            declared = frozenset(schema.get("properties", {}))
            extra = build(arg)

            def additional_check(
                value: Any, declared: frozenset[str] = declared, extra: Check = extra
            ) -> None:
                if isinstance(value, dict) and not declared.issuperset(value):
                    for name in sorted(value):
                        if name not in declared:
                            try:
                                extra(value[name])
                            except SchemaError as exc:
                                raise SchemaError([name], "additionalProperties") from exc

            return additional_check
        if key == "not":
            inner = build(arg)

            def not_check(value: Any, inner: Check = inner) -> None:
                try:
                    inner(value)
                except SchemaError:
                    return
                raise _fail("not")

            return not_check
        if key == "if":
            condition = build(arg)
            then = build(schema.get("then", True))
            if "else" in schema:
                raise UnsupportedSchema("else")

            def if_check(value: Any, condition: Check = condition, then: Check = then) -> None:
                try:
                    condition(value)
                except SchemaError:
                    return
                then(value)

            return if_check
        raise UnsupportedSchema(f"keyword {key}")

    for name, sub in defs.items():
        compiled_defs[name] = build(sub)
    return build(root)
