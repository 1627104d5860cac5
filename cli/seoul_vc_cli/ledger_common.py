"""What the ``ledger`` commands share: the database option and opening it, vkey options.

Used by :mod:`seoul_vc_cli.ledger_cmd`, :mod:`seoul_vc_cli.ledger_push` and
:mod:`seoul_vc_cli.mileage_cmd`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer

from seoul_vc import Code, ConfigurationError, Ledger, MalformedInputError, NotFoundError
from seoul_vc.ledger.bundle import parse_cosigner_key
from seoul_vc.ledger.checkpoint import CosignerVerifier
from seoul_vc.ledger.note import NoteVerifier, parse_verifier_key

DEFAULT_DB = "sqlite:seoul-vc-ledger.db"

DbOption = Annotated[
    str,
    typer.Option(
        "--db",
        metavar="URL",
        help="The ledger database: sqlite:PATH or postgresql://... "
        "(default: seoul-vc-ledger.db in the current folder).",
    ),
]
KeyFile = Annotated[Path, typer.Option(metavar="FILE", help="A private JWK file.")]
OutOption = Annotated[
    Path | None, typer.Option("--out", metavar="FILE", help="Write the result to FILE.")
]


@contextlib.contextmanager
def open_ledger(db: str, *, create: bool = False) -> Iterator[Ledger]:
    """Open the ledger at ``db``; only ``init`` may create a new SQLite file."""
    if not create and db.startswith("sqlite:"):
        path = Path(db.removeprefix("sqlite:"))
        if not path.exists():
            raise NotFoundError(
                Code.NOT_FOUND,
                f"no ledger database at {path}; create one with `seoul-vc ledger init`",
            )
    ledger = Ledger.open(db)
    try:
        yield ledger
    finally:
        ledger.close()


def parse_log_vkey(text: str) -> NoteVerifier:
    """Read a ``--log-vkey`` (C2SP note vkey)."""
    try:
        return parse_verifier_key(text)
    except MalformedInputError as exc:
        raise ConfigurationError(
            Code.BAD_ARGUMENT, f"--log-vkey is not a note vkey name+hex8+base64 ({exc.code})"
        ) from exc


def parse_witness_vkey(text: str) -> CosignerVerifier:
    """Read a ``--witness`` (C2SP cosigner vkey)."""
    try:
        return parse_cosigner_key(text)
    except MalformedInputError as exc:
        raise ConfigurationError(
            Code.BAD_ARGUMENT, f"--witness is not a witness vkey name+hex8+base64 ({exc.code})"
        ) from exc
