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
from collections.abc import Callable
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Final

from seoul_vc._json import JSONObject, JSONValue
from seoul_vc.credentials._schema_check import SchemaError, UnsupportedSchema, compile_schema
from seoul_vc.errors import Code, ConfigurationError, InternalError, MalformedInputError

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
def _checker(name: str, *, all_required: bool = True) -> Callable[[JSONValue], None]:
    """The compiled checker of a schema (``all_required=False``: ``required`` dropped)."""
    schema: JSONValue = load_schema(name)
    if not all_required:
        schema = _strip_required(schema)  # builds new containers; the cached schema is kept
    assert isinstance(schema, dict)  # noqa: S101 - a schema is an object
    try:
        return compile_schema(schema)
    except UnsupportedSchema as exc:
        # The shipped schemas use only the compiled subset; a test compiles each one.
        raise InternalError(
            Code.INTERNAL, "a credential schema uses an unsupported keyword"
        ) from exc


def _strip_required(node: JSONValue) -> JSONValue:
    # An "if" is a condition, not a requirement: its "required" stays, or an absent claim
    # would satisfy the condition and trigger its "then".
    if isinstance(node, dict):
        return {
            k: v if k == "if" else _strip_required(v) for k, v in node.items() if k != "required"
        }
    if isinstance(node, list):
        return [_strip_required(v) for v in node]
    return node


def validate_subject(name: str, subject: JSONValue, *, disclosed_only: bool = False) -> None:
    """Validate a credential subject against schema ``name``.

    Args:
        name: the schema's name.
        subject: the subject claims.
        disclosed_only: check only the claims present (a selective disclosure): every rule
            holds for them, but no claim is required.

    Raises:
        MalformedInputError: ``schema_violation`` with ``details["field"]`` the JSON Pointer
            of the first failing field and ``details["rule"]`` the keyword.
    """
    try:
        _checker(name, all_required=not disclosed_only)(subject)
    except SchemaError as exc:
        pointer = "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in exc.path)
        raise MalformedInputError(
            Code.SCHEMA_VIOLATION,
            "the credential subject does not match its schema",
            field=pointer or "/",
            rule=exc.keyword,
            schema=name,
        ) from None
