"""``seoul-vc did``: create did:key / did:jwk identifiers and resolve DIDs."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from seoul_vc import KeyAlgorithm, PrivateKey, did_jwk, did_key, load_public_key, resolve
from seoul_vc_cli.key_cmd import AlgOption, describe_public, new_private_key
from seoul_vc_cli.output import JsonOption, emit, set_json_mode

app = typer.Typer(help="Create and resolve decentralized identifiers.", no_args_is_help=True)


class Method(StrEnum):
    """DID methods that can be created locally."""

    KEY = "key"
    JWK = "jwk"


@app.command("create")
def create(
    method: Annotated[Method, typer.Option("--method", help="did:key or did:jwk.")] = Method.KEY,
    key: Annotated[
        Path | None, typer.Option("--key", help="Use this JWK file instead of a new key.")
    ] = None,
    alg: AlgOption = KeyAlgorithm.EDDSA,
    out: Annotated[
        Path | None, typer.Option("--out", help="For a new key: write it here (mode 0600).")
    ] = None,
    show_private: Annotated[
        bool, typer.Option("--show-private", help="For a new key: print the private JWK.")
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Create a did:key or did:jwk from a key file or from a new key."""
    set_json_mode(json_output)
    private: PrivateKey | None = None
    if key is not None:
        public = load_public_key(key)
    else:
        private = new_private_key(alg, out, show_private)
        public = private.public_key
    did: str = did_key(public) if method is Method.KEY else did_jwk(public)
    info = {**describe_public(public), "did": did}
    human = did
    if private is not None and show_private:
        info["private_jwk"] = private.private_jwk()
        human += f"\nprivate JWK {info['private_jwk']}"
    emit(info, human)


@app.command("resolve")
def resolve_cmd(
    did: Annotated[str, typer.Argument(help="The DID to resolve (did:key, did:jwk, did:web).")],
    json_output: JsonOption = False,
) -> None:
    """Resolve a DID and print its DID document."""
    set_json_mode(json_output)
    document = resolve(did).serialize()
    emit({"did": did, "document": document}, json.dumps(document, indent=2, ensure_ascii=False))
