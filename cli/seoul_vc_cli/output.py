"""How commands speak: human text by default, one JSON object with ``--json``.

Every command prints exactly one JSON document to stdout in ``--json`` mode:
``{"ok": true, ...result}`` on success, ``{"ok": false, "error": {code, family, message,
details}}`` on failure. The ``error.code`` values are the stable :class:`seoul_vc.Code` names.
"""

from __future__ import annotations

import json
import sys
from contextvars import ContextVar
from pathlib import Path
from typing import Annotated, Any

import typer

from seoul_vc import Code, ConfigurationError, MalformedInputError, NotFoundError

__all__ = [
    "JsonOption",
    "emit",
    "json_mode",
    "parse_json_object",
    "read_input",
    "set_json_mode",
]

_JSON_MODE: ContextVar[bool] = ContextVar("seoul_vc_cli_json", default=False)

JsonOption = Annotated[
    bool, typer.Option("--json", help="Print one machine-readable JSON object to stdout.")
]


def set_json_mode(enabled: bool) -> None:
    """Record whether the running command was asked for JSON output."""
    _JSON_MODE.set(enabled)


def json_mode() -> bool:
    """Return whether the running command prints JSON."""
    return _JSON_MODE.get()


def emit(result: dict[str, Any], human: str) -> None:
    """Print ``result`` as JSON (``--json``) or ``human`` text."""
    if json_mode():
        sys.stdout.write(json.dumps({"ok": True, **result}, ensure_ascii=False, indent=2) + "\n")
    else:
        typer.echo(human)


def read_input(source: str | Path, *, max_bytes: int, what: str) -> bytes:
    """Read a file (``-`` for standard input) of at most ``max_bytes``."""
    try:
        if str(source) == "-":
            data = sys.stdin.buffer.read(max_bytes + 1)
        else:
            with Path(source).open("rb") as fh:
                data = fh.read(max_bytes + 1)
    except FileNotFoundError as exc:
        raise NotFoundError(Code.NOT_FOUND, f"no such {what} file: {source}") from exc
    except OSError as exc:
        raise ConfigurationError(
            Code.UNREADABLE_INPUT, f"cannot read the {what}: {exc.strerror}"
        ) from exc
    if len(data) > max_bytes:
        raise MalformedInputError(
            Code.TOO_LARGE, f"the {what} exceeds {max_bytes} bytes", limit=max_bytes
        )
    return data


class _DuplicateMemberError(ValueError):
    pass


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise _DuplicateMemberError
    return obj


def _refuse_constant(name: str) -> None:
    raise ValueError(name)


def parse_json_object(data: bytes, what: str) -> dict[str, Any]:
    """Parse a JSON object file strictly: UTF-8, no duplicate members, no NaN."""
    try:
        value = json.loads(
            data.decode("utf-8"),
            object_pairs_hook=_object_without_duplicates,
            parse_constant=_refuse_constant,
        )
    except _DuplicateMemberError:
        raise MalformedInputError(Code.DUPLICATE_KEY, f"the {what} repeats a member name") from None
    except RecursionError:
        raise MalformedInputError(Code.TOO_DEEP, f"the {what} nests too deeply") from None
    except ValueError as exc:  # also UnicodeDecodeError
        raise MalformedInputError(Code.MALFORMED, f"the {what} is not valid JSON") from exc
    if not isinstance(value, dict):
        raise MalformedInputError(Code.MALFORMED, f"the {what} is not a JSON object")
    return value
