"""``seoul-vc request``: a receiving agency's signed presentation request (OpenID4VP 1.0).

::

    seoul-vc request create --key agency.jwk --purpose "Youth housing" \
        --vct https://schemas.seoul-vc.example/credentials/residency/v1 \
        --claim address.district --claim ageOver19 --out request.jwt
"""

from __future__ import annotations

import secrets
import time
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer

from seoul_vc import PrivateKey
from seoul_vc.credentials.sd_jwt import parse_claim_path
from seoul_vc.wallet import CredentialQuery, create_request
from seoul_vc_cli.output import JsonOption, emit, set_json_mode

app = typer.Typer(help="Presentation requests of a receiving agency.", no_args_is_help=True)


@app.command("create")
def create(
    key: Annotated[Path, typer.Option("--key", help="The agency's private JWK.")],
    vct: Annotated[str, typer.Option("--vct", help="The credential type (vct) asked for.")],
    claim: Annotated[
        list[str], typer.Option("--claim", metavar="PATH", help="A claim asked for (repeat).")
    ],
    purpose: Annotated[str, typer.Option("--purpose", help="Why, shown to the citizen.")],
    query_id: Annotated[str, typer.Option("--query-id", help="The Credential Query id.")] = (
        "credential"
    ),
    nonce: Annotated[
        str | None, typer.Option("--nonce", help="The nonce (default: 128 random bits).")
    ] = None,
    minutes: Annotated[int, typer.Option("--minutes", min=1, help="Lifetime.")] = 10,
    out: Annotated[Path | None, typer.Option("--out", help="Write the request here.")] = None,
    json_output: JsonOption = False,
) -> None:
    """Sign a request (JWT typ oauth-authz-req+jwt with a DCQL query); print it and its nonce."""
    set_json_mode(json_output)
    chosen = nonce or secrets.token_urlsafe(16)
    query = CredentialQuery(
        id=query_id, vct_values=(vct,), claims=tuple(parse_claim_path(c) for c in claim)
    )
    token = create_request(
        PrivateKey.load(key),
        nonce=chosen,
        purpose=purpose,
        credentials=(query,),
        iat=int(time.time()),
        lifetime=timedelta(minutes=minutes),
    )
    if out is not None:
        out.write_text(token + "\n", encoding="ascii")
    emit({"request": token, "nonce": chosen}, token if out is None else f"nonce {chosen}")
