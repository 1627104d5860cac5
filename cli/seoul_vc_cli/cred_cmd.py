"""``seoul-vc issue | present | verify``: credentials from the command line.

``verify`` exits 0 for a valid presentation and prints only the disclosed claims (with
``--json`` the whole report: every check and its outcome); it exits 1 with the first failing
check's code otherwise.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from seoul_vc import (
    Code,
    ConfigurationError,
    FixedClock,
    Issuer,
    MalformedInputError,
    PrivateKey,
    PublicKey,
    TrustRegistry,
    Verifier,
    _json,
    load_public_key,
    present,
)
from seoul_vc._json import JSONValue
from seoul_vc.credentials import CREDENTIAL_TYPES, IssuerMetadataResolver, MemoryNonceStore
from seoul_vc.did import self_certifying_key
from seoul_vc.status.bitstring import parse_status_entries
from seoul_vc.status.token_list import parse_status_claim
from seoul_vc_cli.output import (
    JsonOption,
    emit,
    json_mode,
    parse_json_object,
    read_input,
    set_json_mode,
)

__all__ = ["issue_cmd", "present_cmd", "verify_cmd"]

MAX_SUBJECT_BYTES = 64 * 1024
MAX_CREDENTIAL_BYTES = 256 * 1024


class FormatChoice(StrEnum):
    """Securing formats."""

    VC_JWT = "vc+jwt"
    VC_SD_JWT = "vc+sd-jwt"
    DC_SD_JWT = "dc+sd-jwt"


TypeChoice = StrEnum("TypeChoice", {name: name for name in CREDENTIAL_TYPES})  # type: ignore[misc]


def _time(text: str | None, option: str) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigurationError(
            Code.BAD_ARGUMENT, f"{option} is an ISO 8601 date-time with a zone"
        ) from None
    if moment.tzinfo is None:
        raise ConfigurationError(Code.BAD_ARGUMENT, f"{option} needs a time zone (e.g. Z)")
    return moment.astimezone(UTC)


def _public_key(value: str) -> PublicKey:
    """A public key from a did:key/did:jwk DID or from a public JWK file."""
    key = self_certifying_key(value) if value.startswith("did:") else None
    return key if key is not None else load_public_key(value)


def _text(source: str, what: str) -> str:
    data = read_input(source, max_bytes=MAX_CREDENTIAL_BYTES, what=what)
    try:
        return data.decode("ascii").strip()
    except UnicodeDecodeError:
        raise MalformedInputError(Code.MALFORMED, f"the {what} is not ASCII") from None


def issue_cmd(
    key: Annotated[Path, typer.Option("--key", help="The issuer's private JWK file.")],
    type_: Annotated[TypeChoice, typer.Option("--type", help="The credential type.")],
    subject: Annotated[
        str, typer.Option("--subject", metavar="FILE", help="Subject JSON file; - reads stdin.")
    ],
    format_: Annotated[
        FormatChoice, typer.Option("--format", help="The securing format.")
    ] = FormatChoice.DC_SD_JWT,
    holder: Annotated[
        str | None,
        typer.Option("--holder", help="Bind to the holder: did:key/did:jwk or public JWK file."),
    ] = None,
    disclosable: Annotated[
        list[str] | None,
        typer.Option(
            "--disclosable",
            metavar="PATH",
            help="Override the type's selectively disclosable claims (repeat), e.g. "
            "address.district.",
        ),
    ] = None,
    valid_from: Annotated[
        str | None, typer.Option("--valid-from", help="ISO 8601 date-time (default: now).")
    ] = None,
    valid_until: Annotated[
        str | None, typer.Option("--valid-until", help="ISO 8601 (default: a year later).")
    ] = None,
    did: Annotated[
        str | None, typer.Option("--did", help="Issuer DID (default: did:key/did:jwk of key).")
    ] = None,
    kid: Annotated[str | None, typer.Option("--kid", help="Key DID URL (did:web issuers).")] = None,
    status: Annotated[
        str | None,
        typer.Option(
            "--status",
            metavar="FILE",
            help="The credential's status entry, from `seoul-vc status create` (its --out "
            "file or its --json output); it must fit the format.",
        ),
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write the credential here.")] = None,
    json_output: JsonOption = False,
) -> None:
    """Issue a credential: the subject is validated against the type's schema first."""
    set_json_mode(json_output)
    private = PrivateKey.load(key)
    raw = read_input(subject, max_bytes=MAX_SUBJECT_BYTES, what="subject")
    claims = parse_json_object(raw, "subject")
    issuer = Issuer(private, did=did, kid=kid)
    token = issuer.issue(
        str(type_.value),
        claims,
        format=format_.value,
        holder=_public_key(holder) if holder is not None else None,
        disclosable=disclosable if disclosable else None,
        valid_from=_time(valid_from, "--valid-from"),
        valid_until=_time(valid_until, "--valid-until"),
        status=_status_entry(status, format_) if status is not None else None,
    )
    if out is not None:
        out.write_text(token + "\n", encoding="ascii")
    emit(
        {"credential": token, "format": format_.value, "issuer": issuer.did},
        token if out is None else f"wrote {format_.value} credential to {out}",
    )


def _status_entry(source: str, format_: FormatChoice) -> JSONValue:
    """The status entry in ``source``, checked against the format's kind of list.

    ``dc+sd-jwt`` takes a Token Status List ``status`` claim (draft-ietf-oauth-status-list
    §6.2); the W3C formats a ``credentialStatus`` of Bitstring Status List entries. Both
    outputs of ``seoul-vc status create`` are read: the entry itself, or the ``--json``
    object holding it under ``status``.

    Raises:
        MalformedInputError: unreadable JSON, or an entry of the other kind of list.
    """
    raw = read_input(source, max_bytes=MAX_SUBJECT_BYTES, what="status")
    entry = _json.loads(raw, max_bytes=MAX_SUBJECT_BYTES, max_depth=8, what="the status entry")
    if isinstance(entry, dict) and "field" in entry and "status" in entry:
        entry = entry["status"]
    if format_ is FormatChoice.DC_SD_JWT:
        parse_status_claim(entry)
    else:
        parse_status_entries(entry)
    return entry


def present_cmd(
    credential: Annotated[
        str, typer.Argument(metavar="CREDENTIAL", help="The credential file; - reads stdin.")
    ],
    holder_key: Annotated[Path, typer.Option("--holder-key", help="The holder's private JWK.")],
    aud: Annotated[str, typer.Option("--aud", help="The verifier's audience identifier.")],
    nonce: Annotated[str, typer.Option("--nonce", help="The verifier's nonce.")],
    disclose: Annotated[
        list[str] | None,
        typer.Option("--disclose", metavar="PATH", help="A claim to disclose (repeat)."),
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write the presentation here.")] = None,
    json_output: JsonOption = False,
) -> None:
    """Present a credential to a verifier, disclosing only the named claims."""
    set_json_mode(json_output)
    token = _text(credential, "credential")
    key = PrivateKey.load(holder_key)
    shown = present(token, key, disclose=disclose or [], aud=aud, nonce=nonce)
    if out is not None:
        out.write_text(shown + "\n", encoding="ascii")
    emit({"presentation": shown}, shown if out is None else f"wrote presentation to {out}")


def verify_cmd(
    presentation: Annotated[
        str, typer.Argument(metavar="FILE", help="The presentation or credential; - reads stdin.")
    ],
    trust: Annotated[
        Path | None, typer.Option("--trust", help="Trust registry JSON: who may issue what.")
    ] = None,
    issuer_key: Annotated[
        str | None,
        typer.Option("--issuer-key", help="Pin the issuer key: public JWK file or did:key/jwk."),
    ] = None,
    aud: Annotated[str | None, typer.Option("--aud", help="Expected audience.")] = None,
    nonce: Annotated[str | None, typer.Option("--nonce", help="Expected nonce.")] = None,
    now: Annotated[
        str | None, typer.Option("--now", help="Verify as of this ISO 8601 time.")
    ] = None,
    issuer_metadata: Annotated[
        bool,
        typer.Option(
            "--issuer-metadata/--no-issuer-metadata",
            help="Fetch the keys of dc+sd-jwt issuers named by an HTTPS URL from their JWT VC "
            "issuer metadata, for issuers listed in --trust only. Off by default: the token "
            "chooses the URL.",
        ),
    ] = False,
    receipt: Annotated[
        Path | None,
        typer.Option(
            "--receipt",
            metavar="FILE",
            help="A consented presentation's view receipt: checked with the presentation "
            "(needs --request, --origin, --log-vkey and --witness or --unwitnessed).",
        ),
    ] = None,
    request: Annotated[
        Path | None,
        typer.Option("--request", metavar="FILE", help="The request the view answers."),
    ] = None,
    origin: Annotated[str | None, typer.Option("--origin", help="The ledger's origin.")] = None,
    log_vkey: Annotated[
        str | None, typer.Option("--log-vkey", metavar="VKEY", help="The ledger's note vkey.")
    ] = None,
    witness: Annotated[
        list[str] | None,
        typer.Option("--witness", metavar="VKEY", help="A trusted witness vkey (repeatable)."),
    ] = None,
    threshold: Annotated[
        int | None, typer.Option("--threshold", min=1, help="Witnesses needed (default: all).")
    ] = None,
    unwitnessed: Annotated[
        bool, typer.Option("--unwitnessed", help="Trust the ledger's signature alone.")
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Verify a presentation: exit 0 with the disclosed claims, or 1 with the error code."""
    set_json_mode(json_output)
    if trust is None and issuer_key is None:
        raise ConfigurationError(Code.BAD_ARGUMENT, "give --trust REGISTRY or --issuer-key FILE")
    token = _text(presentation, "presentation")
    moment = _time(now, "--now")
    if receipt is not None:
        _verify_consented(
            token,
            receipt,
            trust=trust,
            issuer_key=issuer_key,
            moment=moment,
            request=request,
            origin=origin,
            log_vkey=log_vkey,
            witness=witness or [],
            threshold=threshold,
            unwitnessed=unwitnessed,
        )
        return
    # One presentation per run: the caller's nonce cannot have been issued by this process,
    # so the store accepts a nonce it did not issue, once. Replays across runs are the
    # calling system's to stop (it issued the nonce); the library's Verifier does both.
    registry = TrustRegistry.from_file(trust) if trust is not None else None
    # Only issuers the registry lists are ever fetched: no request goes to a URL that an
    # untrusted token made up (draft-ietf-oauth-sd-jwt-vc §8.3, "Issuer Phone-Home").
    metadata = (
        IssuerMetadataResolver(issuers=list(registry.names))
        if issuer_metadata and registry is not None
        else None
    )
    verifier = Verifier(
        trust=registry,
        issuer_key=_public_key(issuer_key) if issuer_key is not None else None,
        issuer_metadata=metadata,
        clock=FixedClock(moment) if moment is not None else None,
        nonces=MemoryNonceStore(require_issued=False),
    )
    try:
        report = verifier.check(token, aud=aud, nonce=nonce)
    finally:
        if metadata is not None:
            metadata.close()
    if report.error is not None:
        if json_mode():
            sys.stdout.write(json.dumps(report.to_json(), ensure_ascii=False, indent=2) + "\n")
            raise typer.Exit(report.error.exit_code)
        raise report.error
    emit(
        {k: v for k, v in report.to_json().items() if k != "ok"},
        json.dumps(report.claims, ensure_ascii=False, indent=2),
    )


def _verify_consented(
    token: str,
    receipt_file: Path,
    *,
    trust: Path | None,
    issuer_key: str | None,
    moment: datetime | None,
    request: Path | None,
    origin: str | None,
    log_vkey: str | None,
    witness: list[str],
    threshold: int | None,
    unwitnessed: bool,
) -> None:
    """Check a consented presentation with its view receipt, offline (wallet issue, item 5)."""
    from seoul_vc.ledger.bundle import parse_cosigner_key
    from seoul_vc.ledger.checkpoint import WitnessPolicy
    from seoul_vc.ledger.note import parse_verifier_key
    from seoul_vc.wallet import ViewReceipt, check_consented_presentation, open_request

    if request is None or origin is None or log_vkey is None:
        raise ConfigurationError(
            Code.BAD_ARGUMENT, "--receipt needs --request, --origin and --log-vkey"
        )
    if unwitnessed == bool(witness):
        raise ConfigurationError(Code.BAD_ARGUMENT, "give --witness VKEY, or --unwitnessed")
    try:
        log_key = parse_verifier_key(log_vkey)
        witnesses = tuple(parse_cosigner_key(text) for text in witness)
    except MalformedInputError as exc:
        raise ConfigurationError(Code.BAD_ARGUMENT, f"bad vkey ({exc.code})") from exc
    policy = (
        WitnessPolicy.unwitnessed()
        if unwitnessed
        else WitnessPolicy(
            witnesses=witnesses, threshold=len(witnesses) if threshold is None else threshold
        )
    )
    at = moment or datetime.now(UTC)
    req = open_request(_text(str(request), "request"), now=int(at.timestamp()))
    # One presentation answers the request's (first) Credential Query; a JSON object is a
    # whole OpenID4VP vp_token.
    shown: dict[str, list[str]] = {req.credentials[0].id: [token]}
    if token.startswith("{"):
        parsed = parse_json_object(token.encode(), "vp_token")
        shown = {str(k): [str(t) for t in v] for k, v in parsed.items() if isinstance(v, list)}
    registry = TrustRegistry.from_file(trust) if trust is not None else None
    verifier = Verifier(
        trust=registry,
        issuer_key=_public_key(issuer_key) if issuer_key is not None else None,
        clock=FixedClock(moment) if moment is not None else None,
        nonces=MemoryNonceStore(require_issued=False),
    )
    view = check_consented_presentation(
        shown,
        ViewReceipt.from_json(read_input(receipt_file, max_bytes=1024 * 1024, what="receipt")),
        verifier=verifier,
        verifier_did=req.verifier,
        client_id=req.client_id,
        nonce=req.nonce,
        origin=origin,
        log_key=log_key,
        witnesses=policy,
    )
    result = {
        "claims": view.claims,
        "consent": view.view.consent_id,
        "view": view.view.view,
        "max_views": view.view.max_views,
        "ledger_index": view.view.view_index,
    }
    emit(
        result,
        f"view {view.view.view} of {view.view.max_views} (consent {view.view.consent_id})\n"
        + json.dumps(view.claims, ensure_ascii=False, indent=2),
    )
