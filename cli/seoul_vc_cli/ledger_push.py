r"""``seoul-vc ledger push``: ask a C2SP tlog-witness witness to cosign the latest checkpoint.

Registered on the ``ledger`` group by :mod:`seoul_vc_cli.ledger_cmd`::

    seoul-vc ledger push --witness-url https://witness.nhis.example/witness/v1 \
        --witness W1VKEY --log-vkey VKEY [--old-size N] [--ca-file ca.pem]

The checkpoint is the latest one stored (``seoul-vc ledger checkpoint`` signs one); the
cosignature that comes back is verified under ``--witness`` and stored with it, so later
proof bundles carry it (:func:`seoul_vc.ledger.tlog_witness.push_checkpoint`).
"""

from __future__ import annotations

import ssl
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer

from seoul_vc import Code, ConfigurationError
from seoul_vc_cli.ledger_common import (
    DEFAULT_DB,
    DbOption,
    open_ledger,
    parse_log_vkey,
    parse_witness_vkey,
)
from seoul_vc_cli.output import JsonOption, emit, set_json_mode

WitnessUrl = Annotated[
    str,
    typer.Option(
        "--witness-url",
        metavar="URL",
        help="The witness's submission prefix (https://...; /add-checkpoint is added).",
    ),
]
WitnessVkey = Annotated[
    str, typer.Option("--witness", metavar="VKEY", help="The witness's cosigner vkey.")
]
LogVkey = Annotated[
    str,
    typer.Option(
        "--log-vkey",
        metavar="VKEY",
        help="The log's note vkey (its name is the origin).",
    ),
]
OldSize = Annotated[
    int,
    typer.Option(
        "--old-size",
        min=0,
        help="The size the witness cosigned last, if known (default 0: the witness says).",
    ),
]
CaFile = Annotated[
    Path | None,
    typer.Option("--ca-file", metavar="FILE", help="Trust this CA bundle for the witness."),
]
PrivateAddresses = Annotated[
    bool,
    typer.Option(
        "--allow-private-addresses",
        help="Let the witness URL reach loopback and private addresses (closed networks).",
    ),
]
Timeout = Annotated[
    float, typer.Option("--timeout", min=1.0, max=120.0, help="Seconds per request.")
]


def push(
    witness_url: WitnessUrl,
    witness: WitnessVkey,
    log_vkey: LogVkey,
    old_size: OldSize = 0,
    ca_file: CaFile = None,
    allow_private_addresses: PrivateAddresses = False,
    timeout: Timeout = 10.0,
    db: DbOption = DEFAULT_DB,
    json_output: JsonOption = False,
) -> None:
    """Push the latest checkpoint to a witness (C2SP tlog-witness); store its cosignature."""
    from seoul_vc._net import GuardedFetcher
    from seoul_vc.ledger.bundle import format_cosigner_key
    from seoul_vc.ledger.tlog_witness import push_checkpoint

    set_json_mode(json_output)
    log_key, cosigner = parse_log_vkey(log_vkey), parse_witness_vkey(witness)
    context = None
    if ca_file is not None:
        try:
            context = ssl.create_default_context(cafile=str(ca_file))
        except (OSError, ssl.SSLError) as exc:
            raise ConfigurationError(Code.UNREADABLE_INPUT, "cannot read --ca-file") from exc
    fetcher = GuardedFetcher(
        timeout=timedelta(seconds=timeout),
        max_redirects=0,
        user_agent="seoul-vc ledger push",
        ssl_context=context,
        unsafe_allow_private_addresses=allow_private_addresses,
    )
    with fetcher, open_ledger(db) as ledger:
        pushed = push_checkpoint(
            ledger,
            witness_url,
            log_key=log_key,
            witness=cosigner,
            fetcher=fetcher,
            old_size=old_size,
        )
    result = {
        "origin": pushed.checkpoint.origin,
        "size": pushed.checkpoint.size,
        "witness": cosigner.name,
        "witness_vkey": format_cosigner_key(cosigner),
        "old_size": pushed.old_size,
        "note": pushed.note,
    }
    emit(
        result,
        f"{cosigner.name} cosigned the checkpoint of size {pushed.checkpoint.size} "
        f"(it had cosigned size {pushed.old_size}); stored with the checkpoint",
    )
