r"""``seoul-vc mileage``: programme points, S-Coin, spending, transfer and settlement.

A walk through (the operator granted ``mileage.programme``, ``mileage.merchant`` and
``mileage.settle`` to the city's mileage office, ``mileage.accrue`` to each programme)::

    seoul-vc mileage programme --key office.jwk --name eco --authority did:key:z6Mk...(eco)
    seoul-vc mileage merchant --key office.jwk --id tmoney --kind transit
    seoul-vc mileage accrue --key eco.jwk --programme eco --account did:key:... --amount 500 \
        --idempotency-key eco-2026-01-000123
    seoul-vc mileage convert --key citizen.jwk --programme eco --points 300
    seoul-vc mileage spend --key citizen.jwk --merchant tmoney --amount 120
    seoul-vc mileage transfer --key citizen.jwk --to did:key:... --amount 50
    seoul-vc mileage balance did:key:...
    seoul-vc mileage settle --key office.jwk --merchant tmoney --period 2026-01

An account is the did:key (or did:jwk) of the citizen's key. Every operation takes an
``--idempotency-key``: run it again with the same key after a timeout or crash and it applies
once (the output says ``duplicate``). Without one, a random key is made and printed.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated

import typer

from seoul_vc import Code, ConfigurationError, PrivateKey
from seoul_vc.ledger.entry import signer_did
from seoul_vc.mileage import MAX_AMOUNT, MileageAccounts, MileageReceipt
from seoul_vc_cli.ledger_common import DEFAULT_DB, DbOption
from seoul_vc_cli.ledger_common import open_ledger as _ledger
from seoul_vc_cli.output import JsonOption, emit, set_json_mode

app = typer.Typer(
    help="Mileage and S-Coin: accrue, convert, spend, transfer, balance, settle.",
    no_args_is_help=True,
)

KeyOption = Annotated[Path, typer.Option("--key", metavar="FILE", help="The signer's private JWK.")]
AmountOption = Annotated[
    int, typer.Option("--amount", min=1, max=MAX_AMOUNT, help="A whole number of units.")
]
IdempotencyOption = Annotated[
    str | None,
    typer.Option(
        "--idempotency-key",
        metavar="KEY",
        help="Apply at most once per key (1 to 128 of A-Za-z0-9._:-; default: a new one).",
    ),
]


def _key(given: str | None) -> str:
    return given if given is not None else secrets.token_urlsafe(16)


def _done(receipt: MileageReceipt, summary: str) -> None:
    note = " (already applied: nothing changed)" if receipt.duplicate else ""
    emit(
        dict(receipt.to_json()),
        f"{summary}{note}\nentry            {receipt.index}\n"
        f"idempotency key  {receipt.idempotency_key}",
    )


@app.command("programme")
def programme_cmd(
    key: KeyOption,
    name: Annotated[str, typer.Option("--name", help="The programme (eco, car-free, etax...).")],
    authority: Annotated[
        str, typer.Option("--authority", metavar="DID", help="The DID that accrues its points.")
    ],
    points: Annotated[int, typer.Option("--points", min=1, help="Rate: these points...")] = 1,
    coins: Annotated[int, typer.Option("--coins", min=1, help="...make these S-Coin.")] = 1,
    db: DbOption = DEFAULT_DB,
    json_output: JsonOption = False,
) -> None:
    """Register or update a programme: its accruing authority and its S-Coin rate."""
    set_json_mode(json_output)
    signer = PrivateKey.load(key)
    with _ledger(db) as ledger:
        receipt = MileageAccounts(ledger).register_programme(
            signer, name, authority=authority, points=points, coins=coins
        )
    _done(receipt, f"programme {name}: {points} points -> {coins} S-Coin")


@app.command("merchant")
def merchant_cmd(
    key: KeyOption,
    merchant: Annotated[str, typer.Option("--id", metavar="ID", help="The merchant's id.")],
    kind: Annotated[str, typer.Option("--kind", help="transit, voucher, donation or local_tax.")],
    db: DbOption = DEFAULT_DB,
    json_output: JsonOption = False,
) -> None:
    """Register a merchant where S-Coin can be spent."""
    set_json_mode(json_output)
    signer = PrivateKey.load(key)
    with _ledger(db) as ledger:
        receipt = MileageAccounts(ledger).register_merchant(signer, merchant, kind=kind)
    _done(receipt, f"merchant {merchant} ({kind})")


@app.command("accrue")
def accrue_cmd(
    key: KeyOption,
    programme: Annotated[str, typer.Option("--programme", help="The programme's name.")],
    account: Annotated[str, typer.Option("--account", metavar="DID", help="The account.")],
    amount: AmountOption,
    idempotency_key: IdempotencyOption = None,
    db: DbOption = DEFAULT_DB,
    json_output: JsonOption = False,
) -> None:
    """Accrue programme points to an account (signed by the programme's authority)."""
    set_json_mode(json_output)
    signer = PrivateKey.load(key)
    with _ledger(db) as ledger:
        receipt = MileageAccounts(ledger).accrue(
            signer,
            programme=programme,
            account=account,
            amount=amount,
            idempotency_key=_key(idempotency_key),
        )
    _done(receipt, f"accrued {amount} {programme} points")


@app.command("convert")
def convert_cmd(
    key: KeyOption,
    programme: Annotated[str, typer.Option("--programme", help="The programme's name.")],
    points: Annotated[
        int, typer.Option("--points", min=1, max=MAX_AMOUNT, help="Points to convert.")
    ],
    idempotency_key: IdempotencyOption = None,
    db: DbOption = DEFAULT_DB,
    json_output: JsonOption = False,
) -> None:
    """Convert the account's programme points to S-Coin at the programme's rate."""
    set_json_mode(json_output)
    signer = PrivateKey.load(key)
    with _ledger(db) as ledger:
        receipt = MileageAccounts(ledger).convert(
            signer, programme=programme, points=points, idempotency_key=_key(idempotency_key)
        )
    _done(receipt, f"converted {points} {programme} points")


@app.command("spend")
def spend_cmd(
    key: KeyOption,
    merchant: Annotated[str, typer.Option("--merchant", metavar="ID", help="The merchant.")],
    amount: AmountOption,
    idempotency_key: IdempotencyOption = None,
    db: DbOption = DEFAULT_DB,
    json_output: JsonOption = False,
) -> None:
    """Spend the account's S-Coin at a registered merchant."""
    set_json_mode(json_output)
    signer = PrivateKey.load(key)
    with _ledger(db) as ledger:
        receipt = MileageAccounts(ledger).spend(
            signer, merchant=merchant, amount=amount, idempotency_key=_key(idempotency_key)
        )
    _done(receipt, f"spent {amount} S-Coin at {merchant}")


@app.command("transfer")
def transfer_cmd(
    key: KeyOption,
    to: Annotated[str, typer.Option("--to", metavar="DID", help="The receiving account.")],
    amount: AmountOption,
    idempotency_key: IdempotencyOption = None,
    db: DbOption = DEFAULT_DB,
    json_output: JsonOption = False,
) -> None:
    """Transfer S-Coin to another account."""
    set_json_mode(json_output)
    signer = PrivateKey.load(key)
    with _ledger(db) as ledger:
        receipt = MileageAccounts(ledger).transfer(
            signer, to=to, amount=amount, idempotency_key=_key(idempotency_key)
        )
    _done(receipt, f"transferred {amount} S-Coin")


@app.command("balance")
def balance_cmd(
    account: Annotated[
        str | None,
        typer.Argument(metavar="DID", help="The account (default: the DID of --key)."),
    ] = None,
    key: Annotated[
        Path | None, typer.Option("--key", metavar="FILE", help="The account's private JWK.")
    ] = None,
    db: DbOption = DEFAULT_DB,
    json_output: JsonOption = False,
) -> None:
    """Print an account's S-Coin and programme points."""
    set_json_mode(json_output)
    if account is not None and key is None:
        did = account
    elif account is None and key is not None:
        did = signer_did(PrivateKey.load(key).public_key)
    else:
        raise ConfigurationError(Code.BAD_ARGUMENT, "give an account DID or --key FILE")
    with _ledger(db) as ledger:
        balance = MileageAccounts(ledger).balance(did)
    lines = [f"account  {did}", f"S-Coin   {balance.coins}"]
    lines += [f"{name:<8} {points} points" for name, points in sorted(balance.points.items())]
    emit(dict(balance.to_json()), "\n".join(lines))


@app.command("settle")
def settle_cmd(
    key: KeyOption,
    merchant: Annotated[str, typer.Option("--merchant", metavar="ID", help="The merchant.")],
    period: Annotated[
        str, typer.Option("--period", metavar="ID", help="The period's id, e.g. 2026-01.")
    ],
    idempotency_key: IdempotencyOption = None,
    db: DbOption = DEFAULT_DB,
    json_output: JsonOption = False,
) -> None:
    """Settle a merchant's unsettled spends as one period; print the total and count."""
    set_json_mode(json_output)
    signer = PrivateKey.load(key)
    with _ledger(db) as ledger:
        done = MileageAccounts(ledger).settle(
            signer, merchant=merchant, period=period, idempotency_key=_key(idempotency_key)
        )
    note = " (already settled: nothing changed)" if done.duplicate else ""
    emit(
        dict(done.to_json()),
        f"settled {merchant} for {period}: {done.amount} S-Coin in {done.spends} spends{note}\n"
        f"entry            {done.index}",
    )
