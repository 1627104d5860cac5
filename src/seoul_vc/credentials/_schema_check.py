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
_DATE_RE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)


def _is_string(value: object) -> bool:
    return isinstance(value, str)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


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
    """A failed check: the JSON Pointer path (as a list) and the keyword."""

    def __init__(self, path: list[str], keyword: str) -> None:
        super().__init__(keyword)
        self.path, self.keyword = path, keyword


Check = Callable[[Any, list[str]], None]


def _fail(path: list[str], keyword: str) -> SchemaError:
    return SchemaError(list(path), keyword)


def _is_type(value: Any, name: str) -> bool:
    if name == "string":
        return isinstance(value, str)
    if name == "boolean":
        return isinstance(value, bool)
    if name == "null":
        return value is None
    if name == "object":
        return isinstance(value, dict)
    if name == "array":
        return isinstance(value, list)
    if isinstance(value, bool):
        return False
    if name == "integer":
        return isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if name == "number":
        return isinstance(value, int | float)
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
        isinstance(a, int | float) and isinstance(b, int | float) and a == b
    )


def _is_date(value: str) -> bool:
    if not _DATE_RE.fullmatch(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def compile_schema(root: Mapping[str, Any]) -> Callable[[Any], None]:
    """Compile ``root``; the result raises :class:`SchemaError` on the first failure.

    Raises:
        UnsupportedSchema: for a keyword or ``$ref`` outside the supported subset.
    """
    defs = root.get("$defs", {})
    compiled_defs: dict[str, Check] = {}

    def ref(target: str) -> Check:
        if not target.startswith("#/$defs/") or target[8:] not in defs:
            raise UnsupportedSchema(f"$ref {target}")
        name = target[8:]

        def check(value: Any, path: list[str]) -> None:
            compiled_defs[name](value, path)

        return check

    def build(schema: Any) -> Check:
        if schema is True:
            return lambda value, path: None
        if schema is False:

            def never(value: Any, path: list[str]) -> None:
                raise _fail(path, "false")

            return never
        if not isinstance(schema, dict):
            raise UnsupportedSchema("schema is not an object")
        checks: list[Check] = []
        for key, arg in schema.items():
            if key in _ANNOTATIONS or key in ("then",):
                continue
            if key == "$ref":
                checks.append(ref(arg))
            elif key == "type":
                names = arg if isinstance(arg, list) else [arg]
                for n in names:
                    _is_type(None, n)  # refuses unknown type names at compile time

                def type_check(value: Any, path: list[str], names: list[str] = names) -> None:
                    if not any(_is_type(value, n) for n in names):
                        raise _fail(path, "type")

                checks.append(type_check)
            elif key == "enum":

                def enum_check(value: Any, path: list[str], options: list[Any] = arg) -> None:
                    if not any(_equal(value, o) for o in options):
                        raise _fail(path, "enum")

                checks.append(enum_check)
            elif key == "const":

                def const_check(value: Any, path: list[str], want: Any = arg) -> None:
                    if not _equal(value, want):
                        raise _fail(path, "const")

                checks.append(const_check)
            elif key in _BOUNDS:
                applies, low = _BOUNDS[key]

                def bound_check(
                    value: Any,
                    path: list[str],
                    bound: float = arg,
                    applies: Callable[[Any], bool] = applies,
                    low: bool = low,
                    key: str = key,
                ) -> None:
                    if applies(value):
                        size = len(value) if isinstance(value, str) else value
                        if size < bound if low else size > bound:
                            raise _fail(path, key)

                checks.append(bound_check)
            elif key == "pattern":
                regex = re.compile(arg)

                def pattern_check(
                    value: Any, path: list[str], regex: re.Pattern[str] = regex
                ) -> None:
                    if isinstance(value, str) and regex.search(value) is None:
                        raise _fail(path, "pattern")

                checks.append(pattern_check)
            elif key == "format":
                if arg != "date":
                    raise UnsupportedSchema(f"format {arg}")

                def date_check(value: Any, path: list[str]) -> None:
                    if isinstance(value, str) and not _is_date(value):
                        raise _fail(path, "format")

                checks.append(date_check)
            elif key == "required":

                def required_check(value: Any, path: list[str], names: list[str] = arg) -> None:
                    if isinstance(value, dict):
                        for name in names:
                            if name not in value:
                                raise _fail([*path, name], "required")

                checks.append(required_check)
            elif key == "properties":
                props = {name: build(sub) for name, sub in arg.items()}

                def properties_check(
                    value: Any,
                    path: list[str],
                    props: dict[str, Check] = props,
                ) -> None:
                    if isinstance(value, dict):
                        for name in sorted(value):
                            sub = props.get(name)
                            if sub is not None:
                                sub(value[name], [*path, name])

                checks.append(properties_check)
            elif key == "additionalProperties":
                declared = frozenset(schema.get("properties", {}))
                extra = build(arg)

                def additional_check(
                    value: Any,
                    path: list[str],
                    declared: frozenset[str] = declared,
                    extra: Check = extra,
                ) -> None:
                    if isinstance(value, dict):
                        for name in sorted(value):
                            if name not in declared:
                                try:
                                    extra(value[name], [*path, name])
                                except SchemaError as exc:
                                    raise _fail([*path, name], "additionalProperties") from exc

                checks.append(additional_check)
            elif key == "not":
                inner = build(arg)

                def not_check(value: Any, path: list[str], inner: Check = inner) -> None:
                    try:
                        inner(value, path)
                    except SchemaError:
                        return
                    raise _fail(path, "not")

                checks.append(not_check)
            elif key == "if":
                condition = build(arg)
                then = build(schema.get("then", True))
                if "else" in schema:
                    raise UnsupportedSchema("else")

                def if_check(
                    value: Any,
                    path: list[str],
                    condition: Check = condition,
                    then: Check = then,
                ) -> None:
                    try:
                        condition(value, path)
                    except SchemaError:
                        return
                    then(value, path)

                checks.append(if_check)
            else:
                raise UnsupportedSchema(f"keyword {key}")

        def run_all(value: Any, path: list[str], checks: list[Check] = checks) -> None:
            for check in checks:
                check(value, path)

        return run_all

    for name, sub in defs.items():
        compiled_defs[name] = build(sub)
    top = build(root)

    def validate(value: Any) -> None:
        top(value, [])

    return validate
