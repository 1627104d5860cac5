"""``seoul-vc key``: generate keys and show public keys."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from seoul_vc import (
    Code,
    ConfigurationError,
    KeyAlgorithm,
    PrivateKey,
    PublicKey,
    did_jwk,
    did_key,
    load_public_key,
)
from seoul_vc_cli.output import JsonOption, emit, set_json_mode

app = typer.Typer(help="Generate signing keys and show public keys.", no_args_is_help=True)

AlgOption = Annotated[
    KeyAlgorithm,
    typer.Option("--alg", help="EdDSA (Ed25519, agencies) or ES256 (P-256, phone hardware)."),
]


def describe_public(key: PublicKey) -> dict[str, object]:
    """Return the public facts of ``key`` shown by key and did commands."""
    return {
        "alg": key.alg.value,
        "thumbprint": key.thumbprint(),
        "public_jwk": key.to_jwk(),
        "did_key": did_key(key),
        "did_jwk": did_jwk(key),
    }


def human_public(info: dict[str, object]) -> str:
    """Format the facts of :func:`describe_public` for people."""
    return "\n".join(
        [
            f"algorithm   {info['alg']}",
            f"thumbprint  {info['thumbprint']}",
            f"did:key     {info['did_key']}",
            f"did:jwk     {info['did_jwk']}",
        ]
    )


def new_private_key(alg: KeyAlgorithm, out: Path | None, show_private: bool) -> PrivateKey:
    """Generate a key and store it in ``out`` (mode 0600), refusing to lose it silently."""
    if out is None and not show_private:
        raise ConfigurationError(
            Code.BAD_ARGUMENT,
            "a new private key must go somewhere: give --out FILE, or --show-private to print it",
        )
    key = PrivateKey.generate(alg)
    if out is not None:
        key.save(out)
    return key


@app.command("new")
def new(
    alg: AlgOption = KeyAlgorithm.EDDSA,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the private JWK here (mode 0600).")
    ] = None,
    show_private: Annotated[
        bool, typer.Option("--show-private", help="Also print the private JWK (a secret!).")
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Generate an Ed25519 or P-256 signing key."""
    set_json_mode(json_output)
    key = new_private_key(alg, out, show_private)
    info = describe_public(key.public_key)
    if out is not None:
        info["file"] = str(out)
    human = human_public(info) + (f"\nsaved to    {out} (mode 0600)" if out else "")
    if show_private:
        info["private_jwk"] = key.private_jwk()
        human += f"\nprivate JWK {info['private_jwk']}"
    emit(info, human)


@app.command("public")
def public(
    file: Annotated[Path, typer.Argument(help="A JWK file, private or public.")],
    json_output: JsonOption = False,
) -> None:
    """Show the public key (JWK, thumbprint, DIDs) of a key file; never the private part."""
    set_json_mode(json_output)
    info = describe_public(load_public_key(file))
    emit(info, human_public(info) + f"\npublic JWK  {info['public_jwk']}")
