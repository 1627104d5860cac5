r"""``seoul-vc wallet``: the Seoul Citizen Card wallet service, from the command line.

Every command opens the wallet store, the ledger and the master key named by the group's
options (or their environment variables)::

    seoul-vc wallet master-key --out master.key
    export SEOUL_VC_WALLET_STORE=sqlite:wallets.db SEOUL_VC_WALLET_MASTER_KEY=master.key
    export SEOUL_VC_WALLET_LEDGER=sqlite:seoul-vc-ledger.db SEOUL_VC_WALLET_LOG_KEY=log.jwk
    export SEOUL_VC_WALLET_TRUST=trust.json SEOUL_VC_WALLET_PIN=482913
    seoul-vc wallet create                         # prints the wallet id and holder key
    seoul-vc wallet receive WALLET residency.sdjwt
    seoul-vc request create --key agency.jwk --vct VCT --claim address.district --out req.jwt
    seoul-vc wallet consent grant WALLET req.jwt --views 3 --days 30 --claim address.district
    seoul-vc wallet present WALLET CONSENT req2.jwt --out shown.txt --receipt-out receipt.json
    seoul-vc verify shown.txt --trust trust.json --request req2.jwt --receipt receipt.json \
        --origin ORIGIN --log-vkey VKEY --unwitnessed
    seoul-vc wallet history WALLET

The PIN comes from ``--pin`` or ``SEOUL_VC_WALLET_PIN``; it authorises the citizen's acts
(list, show, history, consent grant, list and withdraw), never a verifier's view.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer

from seoul_vc import Code, ConfigurationError, Ledger, PrivateKey, TrustRegistry
from seoul_vc.credentials.issuer import did_of
from seoul_vc.ledger.note import NoteSigner
from seoul_vc.wallet import LocalMasterKey, WalletService
from seoul_vc_cli.output import JsonOption, emit, read_input, set_json_mode

app = typer.Typer(
    help="The Citizen Card wallet: credentials, consents with a view budget, history.",
    no_args_is_help=True,
)
consent_app = typer.Typer(help="Grant, list and withdraw consents.", no_args_is_help=True)
app.add_typer(consent_app, name="consent")

MAX_TOKEN_BYTES = 256 * 1024


@dataclass
class _Settings:
    store: str
    ledger: str
    master_key: Path | None
    log_key: Path | None
    trust: Path | None


_SETTINGS: list[_Settings] = []


@app.callback()
def _configure(
    store: Annotated[
        str,
        typer.Option("--store", envvar="SEOUL_VC_WALLET_STORE", help="Wallet store URL."),
    ] = "sqlite:seoul-vc-wallets.db",
    ledger: Annotated[
        str,
        typer.Option("--ledger", envvar="SEOUL_VC_WALLET_LEDGER", help="Ledger URL."),
    ] = "sqlite:seoul-vc-ledger.db",
    master_key: Annotated[
        Path | None,
        typer.Option("--master-key", envvar="SEOUL_VC_WALLET_MASTER_KEY", help="Master key file."),
    ] = None,
    log_key: Annotated[
        Path | None,
        typer.Option(
            "--log-key",
            envvar="SEOUL_VC_WALLET_LOG_KEY",
            help="The log's Ed25519 note key (private JWK): signs receipts' checkpoints.",
        ),
    ] = None,
    trust: Annotated[
        Path | None,
        typer.Option("--trust", envvar="SEOUL_VC_WALLET_TRUST", help="Trust registry JSON."),
    ] = None,
) -> None:
    """Configure the wallet service for the command that follows."""
    _SETTINGS[:] = [_Settings(store, ledger, master_key, log_key, trust)]


PinOption = Annotated[
    str, typer.Option("--pin", envvar="SEOUL_VC_WALLET_PIN", help="The wallet's PIN.")
]
WalletArg = Annotated[str, typer.Argument(metavar="WALLET", help="The wallet id.")]


@contextmanager
def _service() -> Iterator[WalletService]:
    settings = _SETTINGS[0]
    if settings.master_key is None:
        raise ConfigurationError(Code.BAD_ARGUMENT, "give --master-key FILE")
    master = LocalMasterKey.from_text(
        read_input(settings.master_key, max_bytes=1024, what="master key").decode("ascii")
    )
    if settings.ledger.startswith("sqlite:"):
        path = Path(settings.ledger.removeprefix("sqlite:"))
        if not path.exists():
            raise ConfigurationError(
                Code.BAD_ARGUMENT, "no ledger there: create it with seoul-vc ledger init"
            )
    ledger = Ledger.open(settings.ledger)
    log_key = PrivateKey.load(settings.log_key) if settings.log_key else PrivateKey.generate()
    trust = (
        TrustRegistry.from_file(settings.trust)
        if settings.trust is not None
        else TrustRegistry.from_json({"issuers": [{"id": "did:web:none.invalid", "types": ["-"]}]})
    )
    service = WalletService(
        settings.store,
        ledger=ledger,
        master_key=master,
        trust=trust,
        log_signer=NoteSigner(ledger.origin, log_key),
    )
    try:
        yield service
    finally:
        service.close()
        ledger.close()


def _text(path: str, what: str) -> str:
    return read_input(path, max_bytes=MAX_TOKEN_BYTES, what=what).decode("ascii").strip()


@app.command("master-key")
def master_key_cmd(
    out: Annotated[Path, typer.Option("--out", help="Write the new master key here.")],
    json_output: JsonOption = False,
) -> None:
    """Generate a deployment master key (keep it in the deployment's secret store)."""
    set_json_mode(json_output)
    if out.exists():
        raise ConfigurationError(Code.BAD_ARGUMENT, "the file exists; not overwritten")
    out.write_text(LocalMasterKey.generate().to_text() + "\n", encoding="ascii")
    out.chmod(0o600)
    emit({"path": str(out)}, f"wrote master key to {out}")


@app.command("create")
def create(
    pin: PinOption,
    alg: Annotated[str, typer.Option("--alg", help="Holder key: ES256 or EdDSA.")] = "ES256",
    json_output: JsonOption = False,
) -> None:
    """Create a wallet; print its id, holder DID and holder public JWK."""
    set_json_mode(json_output)
    with _service() as service:
        wallet = service.create(pin, alg=alg)
        key = wallet.holder_public_key
    result = {"wallet": wallet.id, "holder": did_of(key), "holder_jwk": key.to_jwk()}
    emit(result, f"wallet {wallet.id}\nholder {result['holder']}")


@app.command("holder-key")
def holder_key(
    wallet: WalletArg,
    out: Annotated[Path, typer.Option("--out", help="Write the public JWK here.")],
    json_output: JsonOption = False,
) -> None:
    """Write the wallet's holder public JWK (for an issuer to bind credentials to)."""
    set_json_mode(json_output)
    with _service() as service:
        key = service.holder_public_key(wallet)
    out.write_text(json.dumps(key.to_jwk()) + "\n", encoding="ascii")
    emit({"path": str(out), "holder": did_of(key)}, f"wrote holder key to {out}")


@app.command("receive")
def receive(
    wallet: WalletArg,
    credential: Annotated[str, typer.Argument(metavar="FILE", help="The credential; - stdin.")],
    json_output: JsonOption = False,
) -> None:
    """Verify a credential (signature, issuer, schema, status) and store it encrypted."""
    set_json_mode(json_output)
    with _service() as service:
        held = service.receive(wallet, _text(credential, "credential"))
    emit(held.to_json(), f"received {held.type} as {held.id}")


@app.command("list")
def list_cmd(wallet: WalletArg, pin: PinOption, json_output: JsonOption = False) -> None:
    """List the wallet's credentials (types and issuers, no claims)."""
    set_json_mode(json_output)
    with _service() as service:
        held = service.credentials(wallet, pin)
    lines = [f"{h.id}  {h.type}  {h.issuer}{'  REVOKED' if h.revoked else ''}" for h in held]
    emit({"credentials": [h.to_json() for h in held]}, "\n".join(lines) or "(no credentials)")


@app.command("show")
def show(
    wallet: WalletArg,
    credential: Annotated[str, typer.Argument(metavar="CREDENTIAL", help="The credential id.")],
    pin: PinOption,
    json_output: JsonOption = False,
) -> None:
    """Show one credential with every claim it holds."""
    set_json_mode(json_output)
    with _service() as service:
        shown = service.show(wallet, pin, credential)
    emit({"credential": shown}, json.dumps(shown, ensure_ascii=False, indent=2))


@app.command("history")
def history(wallet: WalletArg, pin: PinOption, json_output: JsonOption = False) -> None:
    """Show the history, checked against its chain and the ledger."""
    set_json_mode(json_output)
    with _service() as service:
        events = service.history(wallet, pin)
    lines = []
    for event in events:
        when = datetime.fromtimestamp(event.at, UTC).isoformat()
        d = event.details
        extra = ""
        if event.kind == "view":
            extra = f" {d.get('view')} of {d.get('max_views')} by {d.get('verifier')}"
        elif event.kind == "refusal":
            extra = f" {d.get('reason')} for {d.get('verifier')}"
        elif "consent" in d:
            extra = f" {d.get('consent')} to {d.get('verifier')}"
        lines.append(f"{event.seq:>4} {when} {event.kind}{extra}")
    emit({"events": [e.to_json() for e in events]}, "\n".join(lines) or "(no events)")


@consent_app.command("grant")
def consent_grant(
    wallet: WalletArg,
    request: Annotated[str, typer.Argument(metavar="REQUEST", help="The signed request file.")],
    pin: PinOption,
    views: Annotated[int, typer.Option("--views", min=1, help="How many views.")],
    days: Annotated[float, typer.Option("--days", help="Valid for this many days.")] = 30.0,
    claim: Annotated[
        list[str] | None,
        typer.Option(
            "--claim",
            metavar="[QUERY:]PATH",
            help="A claim to consent to (repeat); default: everything asked.",
        ),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Show what a verifier asks, and grant a consent to (a subset of) it."""
    set_json_mode(json_output)
    token = _text(request, "request")
    with _service() as service:
        req = service.open_request(token)
        chosen: dict[str, list[str]] | None = None
        if claim:
            chosen = {}
            for item in claim:
                query, sep, path = item.rpartition(":")
                query_id = query if sep else req.credentials[0].id
                chosen.setdefault(query_id, []).append(path)
        expires = datetime.now(UTC) + timedelta(days=days)
        grant = service.grant(
            wallet, pin, token, max_views=views, expires_at=expires, claims=chosen
        )
    result = grant.to_json()
    emit(result, f"consent {grant.consent_id}: {views} views for {req.verifier} ({req.purpose})")


@consent_app.command("list")
def consent_list(wallet: WalletArg, pin: PinOption, json_output: JsonOption = False) -> None:
    """List consents with views used and whether withdrawn."""
    set_json_mode(json_output)
    with _service() as service:
        consents = service.consents(wallet, pin)
    lines = [
        f"{c['consent_id']}  {c['views']}/{c['max_views']}  {c['verifier']}"
        f"{'  WITHDRAWN' if c['withdrawn'] else ''}"
        for c in consents
    ]
    emit({"consents": consents}, "\n".join(lines) or "(no consents)")


@consent_app.command("withdraw")
def consent_withdraw(
    wallet: WalletArg,
    consent: Annotated[str, typer.Argument(metavar="CONSENT", help="The consent id.")],
    pin: PinOption,
    json_output: JsonOption = False,
) -> None:
    """Withdraw a consent on the ledger: no further views."""
    set_json_mode(json_output)
    with _service() as service:
        index = service.withdraw(wallet, pin, consent)
    emit({"consent": consent, "ledger_index": index}, f"withdrew {consent} (entry {index})")


@app.command("present")
def present_cmd(
    wallet: WalletArg,
    consent: Annotated[str, typer.Argument(metavar="CONSENT", help="The consent id.")],
    request: Annotated[str, typer.Argument(metavar="REQUEST", help="The verifier's request.")],
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the presentation (vp_token) here.")
    ] = None,
    receipt_out: Annotated[
        Path | None, typer.Option("--receipt-out", help="Write the view receipt here.")
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Serve one view: record it on the ledger, then present exactly the consented claims.

    With one credential under the consent, --out holds the SD-JWT presentation itself;
    with several, the OpenID4VP vp_token JSON object.
    """
    set_json_mode(json_output)
    with _service() as service:
        shown = service.view(wallet, consent, _text(request, "request"))
    tokens = [t for ts in shown.vp_token.values() for t in ts]
    body = tokens[0] if len(tokens) == 1 else json.dumps(shown.vp_token)
    if out is not None:
        out.write_text(body + "\n", encoding="ascii")
    if receipt_out is not None:
        receipt_out.write_text(shown.receipt.to_json() + "\n", encoding="utf-8")
    result = {**shown.to_json(), "view": shown.view, "max_views": shown.max_views}
    emit(result, f"view {shown.view} of {shown.max_views}" + ("" if out else f"\n{body}"))
