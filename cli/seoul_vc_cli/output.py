"""How commands speak: human text by default, one JSON object with ``--json``.

Every command prints exactly one JSON document to stdout in ``--json`` mode:
``{"ok": true, ...result}`` on success, ``{"ok": false, "error": {code, family, message,
details}}`` on failure. The ``error.code`` values are the stable :class:`seoul_vc.Code` names.
"""

from __future__ import annotations

import json
import sys
from contextvars import ContextVar
from typing import Annotated, Any

import typer

__all__ = ["JsonOption", "emit", "json_mode", "set_json_mode"]

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
