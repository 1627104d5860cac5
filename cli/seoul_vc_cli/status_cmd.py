r"""``seoul-vc status``: revocation and suspension lists, from the issuer's and verifier's side.

The issuer keeps a registry database (``--db``, default ``sqlite:seoul-vc-status.db``) and
signs lists with its key; lists are published under ``--base-url``::

    seoul-vc status create --key agency.jwk --base-url https://status.seoul.example/lists \
        --format dc+sd-jwt --out status.json          # the entry to put in the credential
    seoul-vc status revoke credential.txt --key agency.jwk --base-url https://...
    seoul-vc status suspend status.json ...; seoul-vc status reinstate status.json ...
    seoul-vc status publish --key agency.jwk --base-url https://... --out-dir www \
        --ledger sqlite:ledger.db --ledger-key agency.jwk --log-key log.jwk
    seoul-vc status check credential.txt                  # fetch over HTTPS
    seoul-vc status check credential.txt --dir www --base-url https://...   # local copy

``check`` prints each entry's state and exits 0 only if all are valid; a revoked or suspended
credential exits 1 with ``revoked``/``suspended`` (``--json``: ``error.code``).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from seoul_vc import (
    Code,
    ConfigurationError,
    Issuer,
    Ledger,
    MalformedInputError,
    PolicyError,
    PrivateKey,
)
from seoul_vc.jose import parse_compact
from seoul_vc.ledger.anchor import LedgerAnchor, LedgerAnchorCheck
from seoul_vc.ledger.bundle import parse_cosigner_key
from seoul_vc.ledger.checkpoint import WitnessPolicy
from seoul_vc.ledger.note import NoteSigner, parse_verifier_key
from seoul_vc.status import (
    DirectorySource,
    ListSource,
    StatusChecker,
    StatusRegistry,
    StatusType,
)
from seoul_vc_cli.output import JsonOption, emit, read_input, set_json_mode

app = typer.Typer(
    help="Status lists: allocate entries, revoke, suspend, reinstate, publish, check.",
    no_args_is_help=True,
)

DEFAULT_DB = "sqlite:seoul-vc-status.db"
_STATE_NAMES = {
    StatusType.VALID: "valid",
    StatusType.INVALID: "revoked",
    StatusType.SUSPENDED: "suspended",
}
MAX_INPUT_BYTES = 256 * 1024


class FormatChoice(StrEnum):
    """Securing formats (which kind of list serves them)."""

    VC_JWT = "vc+jwt"
    VC_SD_JWT = "vc+sd-jwt"
    DC_SD_JWT = "dc+sd-jwt"


DbOption = Annotated[
    str,
    typer.Option(
        "--db",
        metavar="URL",
        help="The status registry: sqlite:PATH or postgresql://... "
        "(default: seoul-vc-status.db in the current folder).",
    ),
]
KeyOption = Annotated[
    Path, typer.Option("--key", metavar="FILE", help="The issuer's private JWK (signs lists).")
]
BaseOption = Annotated[
    str,
    typer.Option("--base-url", metavar="URL", help="Where lists are published (https://...)."),
]
RefArgument = Annotated[
    str,
    typer.Argument(
        metavar="CREDENTIAL", help="A credential, or its status entry JSON; - reads stdin."
    ),
]


@contextlib.contextmanager
def _registry(db: str, key: Path, base_url: str) -> Iterator[StatusRegistry]:
    registry = StatusRegistry(db, issuer=Issuer(PrivateKey.load(key)), base_url=base_url)
    try:
        yield registry
    finally:
        registry.close()


def _payload_of(text: str) -> dict[str, Any]:
    """The claims of a credential (its issuer JWT), unverified: only to find its status."""
    jws = parse_compact(text.split("~", 1)[0])
    try:
        payload = json.loads(jws.payload)
    except ValueError as exc:
        raise MalformedInputError(Code.MALFORMED, "the credential payload is not JSON") from exc
    if not isinstance(payload, dict):
        raise MalformedInputError(Code.MALFORMED, "the credential payload is not an object")
    return payload


def _reference(source: str) -> tuple[Any, str | None]:
    """Return (status value, issuer) from a credential file or a status entry JSON file."""
    data = read_input(source, max_bytes=MAX_INPUT_BYTES, what="credential")
    try:
        text = data.decode("utf-8").strip()
    except UnicodeDecodeError as exc:
        raise MalformedInputError(Code.MALFORMED, "the input is not UTF-8") from exc
    if text.startswith(("{", "[")):
        try:
            return json.loads(text), None
        except ValueError as exc:
            raise MalformedInputError(Code.MALFORMED, "the status entry is not JSON") from exc
    payload = _payload_of(text)
    is_vc = "@context" in payload
    status = payload.get("credentialStatus" if is_vc else "status")
    if status is None:
        raise MalformedInputError(Code.MALFORMED, "the credential has no status entry")
    issuer = payload.get("issuer" if is_vc else "iss")
    if isinstance(issuer, dict):
        issuer = issuer.get("id")
    return status, issuer if isinstance(issuer, str) else None


@app.command("create")
def create(
    key: KeyOption,
    base_url: BaseOption,
    format_: Annotated[FormatChoice, typer.Option("--format", help="The credential's format.")],
    db: DbOption = DEFAULT_DB,
    out: Annotated[
        Path | None, typer.Option("--out", metavar="FILE", help="Write the entry JSON here.")
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Allocate a random status index for a new credential; print its status entry."""
    set_json_mode(json_output)
    with _registry(db, key, base_url) as registry:
        slot = registry.allocate(format_.value)
    claim = slot.status_claim()
    text = json.dumps(claim, indent=2)
    if out is not None:
        out.write_text(text + "\n", encoding="utf-8")
    field = "status" if format_ is FormatChoice.DC_SD_JWT else "credentialStatus"
    result = {"field": field, "status": claim, "list": slot.list_id, "index": slot.index}
    emit(result, text if out is None else f"wrote the {field} entry to {out}")


def _change(verb: str, ref: str, db: str, key: Path, base_url: str) -> None:
    status, _ = _reference(ref)
    with _registry(db, key, base_url) as registry:
        getattr(registry, verb)(status)
        state = registry.status_of(status)
    name = _STATE_NAMES[state]
    emit({"state": name, "published": False}, f"{name} (`seoul-vc status publish` publishes it)")


@app.command("revoke")
def revoke(
    ref: RefArgument,
    key: KeyOption,
    base_url: BaseOption,
    db: DbOption = DEFAULT_DB,
    json_output: JsonOption = False,
) -> None:
    """Revoke a credential (final)."""
    set_json_mode(json_output)
    _change("revoke", ref, db, key, base_url)


@app.command("suspend")
def suspend(
    ref: RefArgument,
    key: KeyOption,
    base_url: BaseOption,
    db: DbOption = DEFAULT_DB,
    json_output: JsonOption = False,
) -> None:
    """Suspend a credential (reversible)."""
    set_json_mode(json_output)
    _change("suspend", ref, db, key, base_url)


@app.command("reinstate")
def reinstate(
    ref: RefArgument,
    key: KeyOption,
    base_url: BaseOption,
    db: DbOption = DEFAULT_DB,
    json_output: JsonOption = False,
) -> None:
    """Lift a suspension (a revoked credential stays revoked)."""
    set_json_mode(json_output)
    _change("reinstate", ref, db, key, base_url)


@app.command("publish")
def publish(
    key: KeyOption,
    base_url: BaseOption,
    db: DbOption = DEFAULT_DB,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out-dir", metavar="DIR", help="Write the signed lists below DIR."),
    ] = None,
    ledger: Annotated[
        str | None,
        typer.Option("--ledger", metavar="URL", help="Anchor every version on this ledger."),
    ] = None,
    ledger_key: Annotated[
        Path | None,
        typer.Option("--ledger-key", metavar="FILE", help="Signs status.publish (default: --key)."),
    ] = None,
    log_key: Annotated[
        Path | None,
        typer.Option("--log-key", metavar="FILE", help="The log's note key: sign a checkpoint."),
    ] = None,
    everything: Annotated[
        bool, typer.Option("--all", help="Publish every list, changed or not.")
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Sign a new version of every changed list; write and anchor it."""
    set_json_mode(json_output)
    with contextlib.ExitStack() as stack:
        anchor = None
        if ledger is not None:
            opened = Ledger.open(ledger)
            stack.callback(opened.close)
            signer = PrivateKey.load(ledger_key or key)
            log = NoteSigner(opened.origin, PrivateKey.load(log_key)) if log_key else None
            anchor = LedgerAnchor(opened, signer, log=log)
        registry = StatusRegistry(
            db, issuer=Issuer(PrivateKey.load(key)), base_url=base_url, anchor=anchor
        )
        stack.callback(registry.close)
        published = registry.publish(everything=everything)
        files = [] if out_dir is None else registry.write_to(out_dir, published)
    items = [p.to_json() for p in published]
    lines = [f"v{p.version}  {p.sha256.hex()[:16]}  {p.uri}" for p in published]
    emit(
        {"published": items, "files": [str(f) for f in files]},
        "\n".join(lines) if lines else "nothing changed; nothing published",
    )


@app.command("check")
def check(
    credential: RefArgument,
    issuer: Annotated[
        str | None,
        typer.Option("--issuer", help="The issuer (default: the credential's own iss/issuer)."),
    ] = None,
    directory: Annotated[
        Path | None,
        typer.Option("--dir", metavar="DIR", help="Read lists from DIR instead of HTTPS."),
    ] = None,
    base_url: Annotated[
        str | None, typer.Option("--base-url", metavar="URL", help="The URL DIR stands for.")
    ] = None,
    ledger: Annotated[
        str | None,
        typer.Option("--ledger", metavar="URL", help="Anchored mode: lists must be on it."),
    ] = None,
    origin: Annotated[str | None, typer.Option("--origin", help="The ledger's origin.")] = None,
    log_vkey: Annotated[
        str | None, typer.Option("--log-vkey", help="The ledger's note verifier key.")
    ] = None,
    witness: Annotated[
        list[str] | None,
        typer.Option("--witness", metavar="VKEY", help="A trusted witness (repeat; all of them)."),
    ] = None,
    checkpoint: Annotated[
        Path | None,
        typer.Option("--checkpoint", metavar="FILE", help="The cosigned checkpoint note."),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Check a credential's status entries; exit 1 if revoked or suspended."""
    set_json_mode(json_output)
    status, named = _reference(credential)
    who = issuer or named
    if who is None:
        raise ConfigurationError(Code.BAD_ARGUMENT, "give --issuer for a bare status entry")
    source: ListSource | None = None
    if directory is not None:
        if base_url is None:
            raise ConfigurationError(Code.BAD_ARGUMENT, "--dir needs --base-url")
        source = DirectorySource(directory, base_url=base_url)
    with contextlib.ExitStack() as stack:
        anchor = None
        if ledger is not None:
            if origin is None or log_vkey is None:
                raise ConfigurationError(
                    Code.BAD_ARGUMENT, "anchored mode needs --origin and --log-vkey"
                )
            opened = Ledger.open(ledger)
            stack.callback(opened.close)
            witnesses = tuple(parse_cosigner_key(w) for w in witness or [])
            policy = (
                WitnessPolicy(witnesses=witnesses, threshold=len(witnesses))
                if witnesses
                else WitnessPolicy.unwitnessed()
            )
            note = None
            if checkpoint is not None:
                note = read_input(checkpoint, max_bytes=MAX_INPUT_BYTES, what="checkpoint")
            anchor = LedgerAnchorCheck(
                opened,
                origin=origin,
                log_key=parse_verifier_key(log_vkey),
                witnesses=policy,
                checkpoint=(lambda: note.decode()) if note is not None else None,
            )
        checker = StatusChecker(source=source, anchor=anchor)
        results = checker.results(status, issuer=who)
    rows = [r.to_json() for r in results]
    bad = next((r for r in results if r.state != "valid"), None)
    if bad is not None:
        code = Code.REVOKED if bad.state == "revoked" else Code.SUSPENDED
        raise PolicyError(code, f"the credential is {bad.state}", index=bad.index)
    emit({"status": rows}, "\n".join(f"{r.state}  {r.purpose}  {r.uri}#{r.index}" for r in results))
