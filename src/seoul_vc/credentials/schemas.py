"""Credential subject schemas: ``schemas/*.schema.json`` (JSON Schema 2020-12), the truth.

The schemas ship inside the wheel as ``seoul_vc/schemas``; in a source checkout they are
read from the repository's ``schemas/`` folder. Each is compiled once, with format
assertion on (``date`` is checked, not only annotated), and a failure names the first
offending field by JSON Pointer — never its value, which may be personal data.

Example:
    >>> from seoul_vc.credentials.schemas import validate_subject, example_subject
    >>> validate_subject("income", example_subject("income"))
    >>> from seoul_vc.errors import MalformedInputError
    >>> try:
    ...     validate_subject("income", {**example_subject("income"), "householdSize": 0})
    ... except MalformedInputError as err:
    ...     print(err.code, err.details["field"])
    schema_violation /householdSize
"""

from __future__ import annotations

import copy
import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Final

from seoul_vc._json import JSONObject, JSONValue
from seoul_vc.errors import Code, ConfigurationError, MalformedInputError

__all__ = ["SCHEMA_NAMES", "example_subject", "load_schema", "schema_id", "validate_subject"]

#: The schemas shipped with the library.
SCHEMA_NAMES: Final = ("residency", "income", "certificate")


def _schema_dir() -> Path:
    packaged = Path(str(resources.files("seoul_vc"))) / "schemas"
    if packaged.is_dir():
        return packaged
    # A source checkout (editable install): the repository's schemas/ folder.
    return Path(__file__).resolve().parents[3] / "schemas"


@cache
def load_schema(name: str) -> JSONObject:
    """Return the parsed schema ``name`` (one of :data:`SCHEMA_NAMES`).

    Raises:
        ConfigurationError: ``bad_argument`` for an unknown name; ``unreadable_input`` if
            the installation lost its schema files.
    """
    if name not in SCHEMA_NAMES:
        raise ConfigurationError(Code.BAD_ARGUMENT, "no such credential schema", name=name)
    path = _schema_dir() / f"{name}.schema.json"
    try:
        schema: JSONObject = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigurationError(
            Code.UNREADABLE_INPUT, "a credential schema could not be read", name=name
        ) from exc
    return schema


def schema_id(name: str) -> str:
    """Return the schema's versioned ``$id`` (what ``credentialSchema.id`` references)."""
    value = load_schema(name)["$id"]
    assert isinstance(value, str)  # noqa: S101 - the shipped schemas carry an $id
    return value


def example_subject(name: str) -> JSONObject:
    """Return a copy of the schema's first ``examples`` subject, without its holder ``id``.

    The ``id`` is left out because an issuer sets it from the holder's key.
    """
    examples = load_schema(name)["examples"]
    assert isinstance(examples, list)  # noqa: S101 - the shipped schemas carry examples
    subject = copy.deepcopy(examples[0])
    assert isinstance(subject, dict)  # noqa: S101
    subject.pop("id", None)
    return subject


@cache
def _validator(name: str) -> Any:
    from jsonschema import Draft202012Validator  # imported on first use: ~40 ms

    schema = load_schema(name)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def validate_subject(name: str, subject: JSONValue) -> None:
    """Validate a credential subject against schema ``name``.

    Raises:
        MalformedInputError: ``schema_violation`` with ``details["field"]`` the JSON Pointer
            of the first failing field (by path order) and ``details["rule"]`` the keyword.
    """
    validator = _validator(name)
    errors = sorted(validator.iter_errors(subject), key=lambda e: [str(p) for p in e.path])
    if errors:
        first = errors[0]
        path = [str(p) for p in first.absolute_path]
        instance, rule = first.instance, first.validator
        # Name the field itself where the error sits on its parent object.
        if rule == "required" and isinstance(instance, dict):
            path += [k for k in first.validator_value if k not in instance][:1]
        elif rule in ("additionalProperties", "unevaluatedProperties") and isinstance(
            instance, dict
        ):
            declared = first.schema.get("properties", {})
            path += sorted(k for k in instance if k not in declared)[:1]
        pointer = "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in path)
        raise MalformedInputError(
            Code.SCHEMA_VIOLATION,
            "the credential subject does not match its schema",
            field=pointer or "/",
            rule=str(first.validator),
            schema=name,
        )
