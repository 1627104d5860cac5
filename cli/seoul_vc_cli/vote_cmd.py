r"""``seoul-vc vote``: polls with one person, one vote (mVoting) on the ledger.

A walk through (the ledger's operator granted ``voting.open`` to the proposer and
``voting.register`` to the registrar at ``seoul-vc ledger init``)::

    seoul-vc vote open --key proposer.jwk --poll park-2026 --question "Build the park?" \
        --option yes --option no --closes-at 2026-02-01T00:00:00Z --rule rule.json \
        --registrar did:key:z6Mk...
    seoul-vc key new --out voter.jwk                       # a fresh key for this poll only
    seoul-vc vote challenge --poll park-2026 --voter did:key:z6Mk...(voter)
    seoul-vc present residency.sdjwt --holder-key wallet.jwk --aud AUD --nonce NONCE \
        --disclose address.district --disclose ageOver14 --disclose personPseudonym \
        --out shown.txt
    seoul-vc vote register shown.txt --key registrar.jwk --secret registrar.secret \
        --trust trust.json --poll park-2026 --voter did:key:z6Mk...(voter) --nonce NONCE
    seoul-vc vote cast --voter-key voter.jwk --poll park-2026 --choice yes
    seoul-vc vote tally --poll park-2026 --recount
    seoul-vc vote close --key proposer.jwk --poll park-2026

The registrar's secret file holds 32 or more random bytes as unpadded base64url on one line
(``python -c "import secrets; print(secrets.token_urlsafe(32))"``); keep it for the poll's
life. ``register`` accepts the nonce it is given once per run: a replayed presentation gets
nowhere, since its audience names one voter key and the person's nullifier is already used.
"""

from __future__ import annotations

import base64
import json
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from seoul_vc import (
    Code,
    ConfigurationError,
    InternalError,
    MalformedInputError,
    PrivateKey,
    TrustRegistry,
    Verifier,
)
from seoul_vc.credentials import MemoryNonceStore
from seoul_vc.ledger.entry import signer_did
from seoul_vc.voting import (
    Registrar,
    Tally,
    cast,
    close,
    get_poll,
    log_entries,
    open_poll,
    registration_audience,
    tally,
    tally_from_log,
)
from seoul_vc_cli.ledger_common import DEFAULT_DB, DbOption
from seoul_vc_cli.ledger_common import open_ledger as _ledger
from seoul_vc_cli.output import JsonOption, emit, parse_json_object, read_input, set_json_mode

app = typer.Typer(
    help="Polls with one person, one vote: open, register, cast, tally, close.",
    no_args_is_help=True,
)

MAX_RULE_BYTES = 16 * 1024
MAX_PRESENTATION_BYTES = 256 * 1024
MAX_SECRET_BYTES = 1024

PollOption = Annotated[str, typer.Option("--poll", metavar="ID", help="The poll's id.")]
KeyOption = Annotated[Path, typer.Option("--key", metavar="FILE", help="The signer's private JWK.")]


def _time(text: str, option: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigurationError(
            Code.BAD_ARGUMENT, f"{option} is an ISO 8601 date-time with a zone"
        ) from None
    if moment.tzinfo is None:
        raise ConfigurationError(Code.BAD_ARGUMENT, f"{option} needs a time zone (e.g. Z)")
    return moment.astimezone(UTC)


def _secret(path: Path) -> bytes:
    text = read_input(path, max_bytes=MAX_SECRET_BYTES, what="registrar secret").strip()
    try:
        if not text or b"=" in text:
            raise ValueError
        secret = base64.urlsafe_b64decode(text + b"=" * (-len(text) % 4))
        if base64.urlsafe_b64encode(secret).rstrip(b"=") != text:
            raise ValueError
    except ValueError:
        raise ConfigurationError(
            Code.BAD_ARGUMENT, "the registrar secret is unpadded base64url on one line"
        ) from None
    if len(secret) < 32:
        raise ConfigurationError(Code.BAD_ARGUMENT, "the registrar secret needs 32+ bytes")
    return secret


def _tally_lines(result: Tally, *, header: str) -> str:
    width = max(len(o) for o in result.options)
    lines = [
        header,
        f"registered  {result.registered}",
        f"ballots     {result.ballots}",
        f"closed      {'yes' if result.closed else 'no'}",
    ]
    lines += [
        f"  {o.ljust(width)}  {c}" for o, c in zip(result.options, result.counts, strict=True)
    ]
    return "\n".join(lines)


@app.command("open")
def open_cmd(
    key: KeyOption,
    poll: PollOption,
    question: Annotated[str, typer.Option("--question", help="The question put to voters.")],
    option: Annotated[
        list[str], typer.Option("--option", metavar="TEXT", help="An answer (repeat, 2 to 32).")
    ],
    closes_at: Annotated[
        str, typer.Option("--closes-at", metavar="ISO", help="End of the window (exclusive).")
    ],
    rule: Annotated[
        str,
        typer.Option("--rule", metavar="FILE", help="Eligibility rule JSON; - reads stdin."),
    ],
    registrar: Annotated[
        str, typer.Option("--registrar", metavar="DID", help="The DID that registers voters.")
    ],
    opens_at: Annotated[
        str | None,
        typer.Option("--opens-at", metavar="ISO", help="Start of the window (default: now)."),
    ] = None,
    credential_type: Annotated[
        str, typer.Option("--credential-type", help="The credential a registration presents.")
    ] = "ResidencyCredential",
    db: DbOption = DEFAULT_DB,
    json_output: JsonOption = False,
) -> None:
    """Open a poll: question, options, window, eligibility rule and registrar."""
    set_json_mode(json_output)
    signer = PrivateKey.load(key)
    document = parse_json_object(read_input(rule, max_bytes=MAX_RULE_BYTES, what="rule"), "rule")
    start = _time(opens_at, "--opens-at") if opens_at else datetime.now(UTC).replace(microsecond=0)
    with _ledger(db) as ledger:
        opened = open_poll(
            ledger,
            signer,
            poll_id=poll,
            question=question,
            options=option,
            opens_at=start,
            closes_at=_time(closes_at, "--closes-at"),
            rule=document,
            registrar=registrar,
            credential_type=credential_type,
        )
    claims = sorted(opened.rule.claims())
    result: dict[str, Any] = {
        "poll": opened.poll_id,
        "options": list(opened.options),
        "opens_at": opened.opens_at.isoformat(),
        "closes_at": opened.closes_at.isoformat(),
        "registrar": opened.registrar,
        "proposer": opened.proposer,
        "claims": claims,
    }
    emit(
        result,
        f"opened poll {opened.poll_id} until {result['closes_at']}\n"
        f"registrations disclose: {', '.join([*claims, 'personPseudonym'])}",
    )


@app.command("challenge")
def challenge_cmd(
    poll: PollOption,
    voter: Annotated[
        str, typer.Option("--voter", metavar="DID", help="The fresh, poll-scoped voter DID.")
    ],
    db: DbOption = DEFAULT_DB,
    json_output: JsonOption = False,
) -> None:
    """Print the audience and a fresh nonce a registration presentation is bound to."""
    set_json_mode(json_output)
    with _ledger(db) as ledger:
        opened = get_poll(ledger, poll)
    aud = registration_audience(opened.registrar, poll, voter)
    nonce = secrets.token_urlsafe(16)
    disclose = [*sorted(opened.rule.claims()), "personPseudonym"]
    emit(
        {"aud": aud, "nonce": nonce, "disclose": disclose},
        f"aud       {aud}\nnonce     {nonce}\ndisclose  {' '.join(disclose)}",
    )


@app.command("register")
def register_cmd(
    presentation: Annotated[
        str, typer.Argument(metavar="PRESENTATION", help="The presentation file; - reads stdin.")
    ],
    key: Annotated[
        Path, typer.Option("--key", metavar="FILE", help="The registrar's private JWK.")
    ],
    secret: Annotated[
        Path, typer.Option("--secret", metavar="FILE", help="The registrar's nullifier secret.")
    ],
    trust: Annotated[
        Path, typer.Option("--trust", metavar="FILE", help="Trust registry JSON: who issues what.")
    ],
    poll: PollOption,
    voter: Annotated[str, typer.Option("--voter", metavar="DID", help="The voter DID.")],
    nonce: Annotated[str, typer.Option("--nonce", help="The nonce the presentation is bound to.")],
    db: DbOption = DEFAULT_DB,
    json_output: JsonOption = False,
) -> None:
    """Verify a residency presentation and register the voter DID under its nullifier."""
    set_json_mode(json_output)
    data = read_input(presentation, max_bytes=MAX_PRESENTATION_BYTES, what="presentation")
    try:
        shown = data.decode("ascii").strip()
    except UnicodeDecodeError:
        raise MalformedInputError(Code.MALFORMED, "the presentation is not ASCII") from None
    verifier = Verifier(
        trust=TrustRegistry.from_file(trust), nonces=MemoryNonceStore(require_issued=False)
    )
    registrar = Registrar(PrivateKey.load(key), nullifier_secret=_secret(secret), verifier=verifier)
    with _ledger(db) as ledger:
        done = registrar.register(ledger, poll, shown, voter=voter, nonce=nonce)
    result = {
        "poll": done.poll_id,
        "voter": done.voter,
        "nullifier": done.nullifier,
        "index": done.index,
        "duplicate": done.duplicate,
    }
    emit(result, f"registered {done.voter} in poll {done.poll_id} (entry {done.index})")


@app.command("cast")
def cast_cmd(
    voter_key: Annotated[
        Path, typer.Option("--voter-key", metavar="FILE", help="The registered voter's JWK.")
    ],
    poll: PollOption,
    choice: Annotated[str, typer.Option("--choice", help="An option's text, or its index.")],
    receipt: Annotated[
        Path | None, typer.Option("--receipt", metavar="FILE", help="Write the receipt here.")
    ] = None,
    db: DbOption = DEFAULT_DB,
    json_output: JsonOption = False,
) -> None:
    """Cast a ballot signed by the voter key; print the receipt (index, leaf, root)."""
    set_json_mode(json_output)
    signer = PrivateKey.load(voter_key)
    with _ledger(db) as ledger:
        options = get_poll(ledger, poll).options
        picked: int | str = int(choice) if choice.isascii() and choice.isdigit() else choice
        if choice in options:
            picked = choice
        done = cast(ledger, signer, poll, picked)
    result: dict[str, Any] = {**done.to_json(), "option": options[done.choice]}
    if receipt is not None:
        try:
            receipt.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        except OSError as exc:
            raise ConfigurationError(
                Code.UNREADABLE_INPUT, f"cannot write {receipt.name}: {exc.strerror}"
            ) from exc
    emit(
        result,
        f"ballot for {result['option']!r} is entry {done.index}\n"
        f"leaf hash   {result['leaf_hash']}\ntree size   {done.size}\n"
        f"root hash   {result['root_hash']}\n"
        f"(prove it offline: seoul-vc ledger prove {done.index} --checkpoint CP)",
    )


@app.command("tally")
def tally_cmd(
    poll: PollOption,
    recount_log: Annotated[
        bool,
        typer.Option("--recount", help="Also recount from every log entry and compare."),
    ] = False,
    db: DbOption = DEFAULT_DB,
    json_output: JsonOption = False,
) -> None:
    """Print turnout and counts (live); with --recount, also recounted from the log."""
    set_json_mode(json_output)
    with _ledger(db) as ledger:
        size = ledger.size
        live = tally(ledger, poll)
        counted = None
        if recount_log:
            counted = tally_from_log(log_entries(ledger, size=size), poll)
            # Live state and the recount are of the same log only if nothing was appended
            # while they were read.
            comparable = ledger.size == size
    result: dict[str, Any] = dict(live.to_json())
    human = _tally_lines(live, header=f"poll {poll}")
    if counted is not None:
        result["recount"] = counted.to_json()
        result["recount_matches"] = counted == live if comparable else None
        if comparable and counted != live:
            raise InternalError(Code.INTERNAL, "the recount differs from the live tally")
        human += "\nrecount     " + ("matches" if comparable else "log grew meanwhile; rerun")
    emit(result, human)


@app.command("close")
def close_cmd(
    key: KeyOption,
    poll: PollOption,
    db: DbOption = DEFAULT_DB,
    json_output: JsonOption = False,
) -> None:
    """Close the poll (proposer or registrar): later ballots are refused. Print the tally."""
    set_json_mode(json_output)
    signer = PrivateKey.load(key)
    with _ledger(db) as ledger:
        final = close(ledger, signer, poll)
    emit(
        {**final.to_json(), "closed_by": signer_did(signer.public_key)},
        _tally_lines(final, header=f"closed poll {poll}"),
    )
