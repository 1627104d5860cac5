"""``seoul-vc serve`` and ``seoul-vc serve-init``: run the HTTP service.

    seoul-vc serve-init deploy/ --public-url https://vc.seoul.example   # keys, config, tokens
    seoul-vc serve --config deploy/service.json [--host 127.0.0.1] [--port 8443] \
        [--tls-cert cert.pem --tls-key key.pem]

The service listens on loopback unless ``--host`` says otherwise. Without TLS options it
speaks plain HTTP and must sit behind a TLS-terminating proxy whose address is
``public_url``. Needs the ``server`` extra: ``pip install "seoul-vc[server]"``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from seoul_vc import Code, ConfigurationError
from seoul_vc_cli.output import JsonOption, emit, set_json_mode

__all__ = ["serve", "serve_init"]

ConfigOption = Annotated[
    Path,
    typer.Option(
        "--config",
        metavar="FILE",
        envvar="SEOUL_VC_SERVICE_CONFIG",
        help="The service configuration (written by serve-init).",
    ),
]


def _need_server() -> None:
    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as exc:
        raise ConfigurationError(
            Code.BAD_ARGUMENT, 'the service needs the server extra: pip install "seoul-vc[server]"'
        ) from exc


def serve_init(
    folder: Annotated[Path, typer.Argument(help="A new folder for the deployment.")],
    public_url: Annotated[
        str, typer.Option("--public-url", help="The service's public https URL.")
    ],
    origin: Annotated[
        str | None, typer.Option("--origin", help="The ledger's origin (default: the host).")
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Write a deployment folder: keys, master key, trust registry, config; print API tokens.

    The tokens are shown once: the config keeps only their SHA-256 digests.
    """
    set_json_mode(json_output)
    from seoul_vc.service.config import init_config

    path, tokens = init_config(folder, public_url=public_url, origin=origin)
    lines = [f"wrote {path}", "agency API tokens (shown once; store them as secrets):"]
    lines += [f"  {role:<9} {token}" for role, token in tokens.items()]
    emit({"config": str(path), "tokens": tokens}, "\n".join(lines))


def serve(
    config: ConfigOption = Path("service.json"),
    host: Annotated[str, typer.Option("--host", help="The address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="The port.")] = 8443,
    tls_cert: Annotated[
        Path | None, typer.Option("--tls-cert", metavar="FILE", help="TLS certificate chain.")
    ] = None,
    tls_key: Annotated[
        Path | None, typer.Option("--tls-key", metavar="FILE", help="TLS private key.")
    ] = None,
) -> None:
    """Run the HTTP service (OpenID4VCI, OpenID4VP, wallet backend, status lists, ledger)."""
    _need_server()
    if (tls_cert is None) != (tls_key is None):
        raise ConfigurationError(Code.BAD_ARGUMENT, "give both --tls-cert and --tls-key")
    import uvicorn

    from seoul_vc.service import Service, ServiceConfig, create_app

    service = Service(ServiceConfig.load(config))
    try:
        app = create_app(service)
        typer.echo(f"seoul-vc service {service.public_url} listening on {host}:{port}", err=True)
        uvicorn.run(
            app,
            host=host,
            port=port,
            ssl_certfile=str(tls_cert) if tls_cert else None,
            ssl_keyfile=str(tls_key) if tls_key else None,
            log_level="info",
            access_log=False,  # the service logs one structured line per request itself
            lifespan="off",
            server_header=False,
        )
    finally:
        service.close()
