"""The ``seoul-vc`` application: command groups and the one place errors become exit codes.

Exit codes: 0 ok; 1 rejected (malformed, failed verification, refused by policy or state);
2 bad usage or unreadable input; 3 not found; 4 storage or unavailable; 5 internal error
(a bug: the traceback is printed only with ``--debug``).
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import traceback
from types import ModuleType
from typing import Final

import typer

from seoul_vc import SeoulVCError
from seoul_vc_cli.output import json_mode

__all__ = ["app", "build_app", "main"]

# typer vendors click (typer._click) and raises its classes: Exit and Abort are public, and
# every usage error derives from TyperException.
_EXIT: tuple[type[BaseException], ...] = (typer.Exit,)
_ABORT: tuple[type[BaseException], ...] = (typer.Abort,)
_USAGE: tuple[type[BaseException], ...] = (typer.TyperException,)

#: Command groups: name -> the module whose ``app`` they are, in help order.
_GROUPS: Final = {
    "key": "key_cmd",
    "did": "did_cmd",
    "ledger": "ledger_cmd",
    "vote": "vote_cmd",
    "mileage": "mileage_cmd",
    "status": "status_cmd",
    "wallet": "wallet_cmd",
    "request": "request_cmd",
}
#: Top-level commands: name -> (module, function).
_COMMANDS: Final = {
    "issue": ("cred_cmd", "issue_cmd"),
    "present": ("cred_cmd", "present_cmd"),
    "verify": ("cred_cmd", "verify_cmd"),
    "demo": ("demo", "demo"),
    "serve": ("serve_cmd", "serve"),
    "serve-init": ("serve_cmd", "serve_init"),
}


def _module(name: str) -> ModuleType:
    return importlib.import_module(f"seoul_vc_cli.{name}")


def build_app(only: str | None = None) -> typer.Typer:
    """The ``seoul-vc`` app with every command, or with only the command or group ``only``.

    Each group's module imports the parts of the library it drives; a run imports only the
    module of the command it runs, so ``seoul-vc key new`` does not load the ledger, the
    wallet or the HTTP client (about a second of imports on every run otherwise).
    """
    app = typer.Typer(
        name="seoul-vc",
        help="Verifiable credentials, DID wallets and a Merkle-log ledger for Seoul's "
        "paperless administration.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
    )
    for name, module in _GROUPS.items():
        if only in (None, name):
            app.add_typer(_module(module).app, name=name)
    for name, (module, function) in _COMMANDS.items():
        if only in (None, name):
            app.command(name)(getattr(_module(module), function))
    if only in _COMMANDS:
        # A Typer app of one command and no callback runs that command without its name;
        # an empty callback keeps it a group, so the argument list is parsed the same way.
        app.callback()(lambda: None)
    return app


app: typer.Typer  # every command; built on first access by __getattr__ below


def __getattr__(name: str) -> typer.Typer:
    """``app``: the whole application (docs, tests), built on first access (PEP 562)."""
    if name != "app":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()["app"] = built = build_app()
    return built


def __dir__() -> list[str]:
    return sorted({*globals(), "app"})


def _invoked(args: list[str]) -> str | None:
    """The command or group ``args`` run, if it names one; None for help or a typo."""
    first = args[0] if args else None
    return first if first in _GROUPS or first in _COMMANDS else None


def _report(error: dict[str, object], exit_code: int) -> int:
    if json_mode():
        sys.stdout.write(json.dumps({"ok": False, "error": error}, ensure_ascii=False) + "\n")
    else:
        typer.echo(f"error [{error['code']}]: {error['message']}", err=True)
    return exit_code


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code (the console script exits with it)."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args or os.environ.get("SEOUL_VC_DEBUG") == "1"
    args = [a for a in args if a != "--debug"]
    try:
        application = build_app(_invoked(args))
        result = application(args=args, prog_name="seoul-vc", standalone_mode=False)
    except SeoulVCError as exc:
        return _report(exc.to_json(), exc.exit_code)
    except _EXIT as exc:
        return int(getattr(exc, "exit_code", 0) or 0)
    except _ABORT:
        typer.echo("aborted", err=True)
        return 130
    except _USAGE as exc:
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:  # pragma: no cover - every click/typer usage error has show()
            typer.echo(str(exc), err=True)
        return 2
    except Exception as exc:  # noqa: BLE001 - the last line of defence: never a bare traceback
        if debug:
            traceback.print_exc()
        return _report(
            {
                "code": "internal",
                "family": "internal",
                "message": f"unexpected {type(exc).__name__}; rerun with --debug and report it",
                "details": {},
            },
            5,
        )
    return result if isinstance(result, int) else 0


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
