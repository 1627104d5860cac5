"""The ``seoul-vc`` application: command groups and the one place errors become exit codes.

Exit codes: 0 ok; 1 rejected (malformed, failed verification, refused by policy or state);
2 bad usage or unreadable input; 3 not found; 4 storage or unavailable; 5 internal error
(a bug: the traceback is printed only with ``--debug``).
"""

from __future__ import annotations

import json
import os
import sys
import traceback

import typer

from seoul_vc import SeoulVCError
from seoul_vc_cli import (
    cred_cmd,
    demo,
    did_cmd,
    key_cmd,
    ledger_cmd,
    mileage_cmd,
    request_cmd,
    serve_cmd,
    status_cmd,
    vote_cmd,
    wallet_cmd,
)
from seoul_vc_cli.output import json_mode

__all__ = ["app", "main"]

# typer vendors click (typer._click) and raises its classes: Exit and Abort are public, and
# every usage error derives from TyperException.
_EXIT: tuple[type[BaseException], ...] = (typer.Exit,)
_ABORT: tuple[type[BaseException], ...] = (typer.Abort,)
_USAGE: tuple[type[BaseException], ...] = (typer.TyperException,)

app = typer.Typer(
    name="seoul-vc",
    help="Verifiable credentials, DID wallets and a Merkle-log ledger for Seoul's "
    "paperless administration.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(key_cmd.app, name="key")
app.add_typer(did_cmd.app, name="did")
app.add_typer(ledger_cmd.app, name="ledger")
app.add_typer(vote_cmd.app, name="vote")
app.add_typer(mileage_cmd.app, name="mileage")
app.add_typer(status_cmd.app, name="status")
app.add_typer(wallet_cmd.app, name="wallet")
app.add_typer(request_cmd.app, name="request")
app.command("issue")(cred_cmd.issue_cmd)
app.command("present")(cred_cmd.present_cmd)
app.command("verify")(cred_cmd.verify_cmd)
app.command("demo")(demo.demo)
app.command("serve")(serve_cmd.serve)
app.command("serve-init")(serve_cmd.serve_init)


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
        result = app(args=args, prog_name="seoul-vc", standalone_mode=False)
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
