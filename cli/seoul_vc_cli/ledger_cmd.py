r"""``seoul-vc ledger``: run the Merkle-log ledger, its checkpoints, witnesses and proofs.

A walk through, in one folder (the database defaults to ``sqlite:seoul-vc-ledger.db``)::

    seoul-vc ledger init --origin ledger.seoul.example --operator-key operator.jwk \
        --grant did:key:z6Mk...=credential.ResidencyCredential
    seoul-vc ledger append --key operator.jwk --type authority.grant --body grant.json
    seoul-vc ledger checkpoint --log-key log.jwk --out cp.note --json    # prints log_vkey
    seoul-vc ledger cosign --witness-key w1.jwk --name w1.example --log-vkey VKEY \
        --state w1.state --checkpoint cp.note --out cp1.note --json      # prints witness_vkey
    seoul-vc ledger prove 1 --checkpoint cp1.note --out entry1.bundle
    seoul-vc ledger verify-proof entry1.bundle --origin ledger.seoul.example \
        --log-vkey VKEY --witness W1VKEY
    seoul-vc ledger audit

``verify-proof`` opens no database and no network connection. Every other command takes
``--db sqlite:PATH`` (or a ``postgresql://`` URL). Refusals raise the library's errors, which
the application turns into exit codes in one place (see :mod:`seoul_vc_cli.app`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from seoul_vc import (
    Code,
    ConfigurationError,
    MalformedInputError,
    NotFoundError,
    PrivateKey,
    ProofBundle,
    StorageError,
    SystemClock,
    verify_bundle,
)
from seoul_vc.ledger.bundle import (
    MAX_BUNDLE_BYTES,
    format_cosigner_key,
    make_bundle,
)
from seoul_vc.ledger.checkpoint import (
    CosignerKey,
    WitnessPolicy,
    open_checkpoint,
    parse_checkpoint,
)
from seoul_vc.ledger.entry import MAX_ENTRY_BYTES, Entry, sign_entry, signer_did
from seoul_vc.ledger.note import (
    MAX_NOTE_BYTES,
    NoteSigner,
    format_verifier_key,
    open_note,
)
from seoul_vc.ledger.tlog import leaf_hash
from seoul_vc.ledger.witness import Witness
from seoul_vc_cli.ledger_common import (
    DEFAULT_DB,
    DbOption,
    OutOption,
)
from seoul_vc_cli.ledger_common import open_ledger as _ledger
from seoul_vc_cli.ledger_common import parse_log_vkey as _log_vkey
from seoul_vc_cli.ledger_common import parse_witness_vkey as _witness_vkey
from seoul_vc_cli.ledger_push import push as _push
from seoul_vc_cli.output import JsonOption, emit, parse_json_object, set_json_mode
from seoul_vc_cli.output import read_input as _read

app = typer.Typer(
    help="Run the append-only ledger: entries, checkpoints, witnesses, offline proofs.",
    no_args_is_help=True,
)
app.command("push")(_push)

# -- helpers -----------------------------------------------------------------------------------


def _read_note(source: Path) -> str:
    data = _read(source, max_bytes=MAX_NOTE_BYTES, what="checkpoint")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedInputError(Code.MALFORMED, "the checkpoint is not UTF-8") from exc


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(
            Code.UNREADABLE_INPUT, f"cannot write {path.name}: {exc.strerror}"
        ) from exc


def _emit_note(result: dict[str, Any], note: str, out: Path | None, saved: str) -> None:
    """Print a note, or write it to ``out`` and print ``saved`` (a one-line summary)."""
    if out is None:
        emit(result, note.rstrip("\n"))
        return
    _write(out, note)
    result["file"] = str(out)
    emit(result, saved)


def _parse_grants(grants: list[str]) -> dict[str, list[str]]:
    """Parse ``DID=type1,type2`` arguments, merging repeated DIDs."""
    out: dict[str, list[str]] = {}
    for text in grants:
        did, sep, types = text.rpartition("=")
        record_types = [t for t in types.split(",") if t]
        if not sep or not did or not record_types:
            raise ConfigurationError(
                Code.BAD_ARGUMENT, "--grant is DID=type1,type2", argument=text[:80]
            )
        merged = out.setdefault(did, [])
        merged.extend(t for t in record_types if t not in merged)
    return out


def _receipt_lines(result: dict[str, Any]) -> str:
    return "\n".join(
        [
            f"index       {result['index']}"
            + ("  (already in the log)" if result["duplicate"] else ""),
            f"leaf hash   {result['leaf_hash']}",
            f"tree size   {result['size']}",
            f"root hash   {result['root_hash']}",
        ]
    )


# -- commands ----------------------------------------------------------------------------------


@app.command("init")
def init(
    origin: Annotated[
        str, typer.Option("--origin", help="The log's name, one line (e.g. ledger.seoul.example).")
    ],
    operator_key: Annotated[
        Path, typer.Option("--operator-key", metavar="FILE", help="The operator's private JWK.")
    ],
    grant: Annotated[
        list[str] | None,
        typer.Option(
            "--grant",
            metavar="DID=TYPE,...",
            help="Let DID sign these record types (repeatable).",
        ),
    ] = None,
    db: DbOption = DEFAULT_DB,
    json_output: JsonOption = False,
) -> None:
    """Create the ledger: append the genesis entry signed by the operator."""
    set_json_mode(json_output)
    grants = _parse_grants(grant or [])
    operator = PrivateKey.load(operator_key)
    with _ledger(db, create=True) as ledger:
        receipt = ledger.genesis(origin=origin, operator=operator, grants=grants)
    result = {
        "origin": origin,
        "operator": signer_did(operator.public_key),
        "grants": grants,
        "index": receipt.index,
        "leaf_hash": receipt.leaf_hash.hex(),
        "size": receipt.size,
        "root_hash": receipt.root_hash.hex(),
        "duplicate": receipt.duplicate,
    }
    emit(
        result,
        f"created ledger {origin} (operator {result['operator']})\n" + _receipt_lines(result),
    )


@app.command("append")
def append(
    key: Annotated[Path, typer.Option("--key", metavar="FILE", help="The signer's private JWK.")],
    type_: Annotated[
        str, typer.Option("--type", metavar="TYPE", help="The record type, <app>.<verb>.")
    ],
    body: Annotated[
        str,
        typer.Option("--body", metavar="FILE", help="The body, a JSON object file; - reads stdin."),
    ],
    db: DbOption = DEFAULT_DB,
    json_output: JsonOption = False,
) -> None:
    """Sign an entry with --key and append it; print the receipt."""
    set_json_mode(json_output)
    signing_key = PrivateKey.load(key)
    document = parse_json_object(_read(body, max_bytes=MAX_ENTRY_BYTES, what="body"), "body")
    now = int(SystemClock().now().timestamp())
    entry = sign_entry(type_, document, signing_key, time=now)
    # Re-read the entry as any verifier will (bounded depth, canonical form) before it is
    # appended for good.
    Entry.from_bytes(entry.to_bytes())
    with _ledger(db) as ledger:
        receipt = ledger.append(entry)
    result = {
        "index": receipt.index,
        "leaf_hash": receipt.leaf_hash.hex(),
        "size": receipt.size,
        "root_hash": receipt.root_hash.hex(),
        "duplicate": receipt.duplicate,
        "type": entry.type,
        "signer": entry.signer,
    }
    emit(result, _receipt_lines(result))


@app.command("show")
def show(
    index: Annotated[
        int | None,
        typer.Argument(min=0, help="The entry to show; without it, the tree head."),
    ] = None,
    db: DbOption = DEFAULT_DB,
    json_output: JsonOption = False,
) -> None:
    """Show an entry, or the tree head (origin, size, root)."""
    set_json_mode(json_output)
    with _ledger(db) as ledger:
        if index is None:
            origin = ledger.origin
            size = ledger.size
            root = ledger.root(size).hex()
            head = {"origin": origin, "size": size, "root_hash": root}
            emit(head, f"origin      {origin}\ntree size   {size}\nroot hash   {root}")
            return
        entry = ledger.entry(index)
    data = entry.to_bytes()
    result = {"index": index, "leaf_hash": leaf_hash(data).hex(), "entry": entry.to_json()}
    human = f"entry {index}  leaf hash {result['leaf_hash']}\n" + json.dumps(
        entry.to_json(), indent=2, ensure_ascii=False
    )
    emit(result, human)


@app.command("checkpoint")
def checkpoint(
    log_key: Annotated[
        Path,
        typer.Option("--log-key", metavar="FILE", help="The log's Ed25519 note key (private JWK)."),
    ],
    out: OutOption = None,
    db: DbOption = DEFAULT_DB,
    json_output: JsonOption = False,
) -> None:
    """Sign the current tree head as a C2SP checkpoint (key name = origin); print the note."""
    set_json_mode(json_output)
    private = PrivateKey.load(log_key)
    with _ledger(db) as ledger:
        signer = NoteSigner(ledger.origin, private)
        note = ledger.checkpoint(signer)
    cp = parse_checkpoint(open_note(note, [signer.verifier]).text)
    vkey = format_verifier_key(signer.verifier)
    result = {
        "origin": cp.origin,
        "size": cp.size,
        "root_hash": cp.root_hash.hex(),
        "log_vkey": vkey,
        "note": note,
    }
    _emit_note(
        result, note, out, f"checkpoint of size {cp.size} written to {out}\nlog vkey    {vkey}"
    )


@app.command("cosign")
def cosign(
    witness_key: Annotated[
        Path,
        typer.Option("--witness-key", metavar="FILE", help="The witness's Ed25519 private JWK."),
    ],
    name: Annotated[str, typer.Option("--name", help="The witness's key name.")],
    log_vkey: Annotated[
        str,
        typer.Option(
            "--log-vkey", metavar="VKEY", help="The log's note vkey (its name is the origin)."
        ),
    ],
    state: Annotated[
        Path,
        typer.Option(
            "--state", metavar="FILE", help="The witness's memory: latest cosigned tree per log."
        ),
    ],
    checkpoint_file: Annotated[
        Path,
        typer.Option("--checkpoint", metavar="FILE", help="The log-signed checkpoint note."),
    ],
    old_size: Annotated[
        int | None,
        typer.Option(
            "--old-size",
            min=0,
            help="Prove consistency from this size (default: the last size this witness cosigned).",
        ),
    ] = None,
    out: OutOption = None,
    db: DbOption = DEFAULT_DB,
    json_output: JsonOption = False,
) -> None:
    """Cosign a checkpoint as a witness, only if it extends what this witness cosigned before.

    When the log grew, the consistency proof is read from --db.
    """
    set_json_mode(json_output)
    key = CosignerKey(name, PrivateKey.load(witness_key))
    log = _log_vkey(log_vkey)
    note = _read_note(checkpoint_file)
    witness = Witness(key, logs={log.name: log}, state_path=state)
    # The log's signature is checked before the checkpoint is read (C2SP tlog-witness).
    cp = parse_checkpoint(open_note(note, [log]).text)
    if cp.origin != log.name:
        raise NotFoundError(
            Code.NOT_FOUND, "the checkpoint's origin is not the log key's name", origin=cp.origin
        )
    last = witness.latest(cp.origin)
    start = old_size if old_size is not None else (None if last is None else last.size)
    proof = None
    if start is not None and start < cp.size:
        with _ledger(db) as ledger:
            proof = ledger.prove_consistency(start, cp.size)
    cosigned = witness.cosign(note, proof)
    vkey = format_cosigner_key(key.verifier)
    result: dict[str, Any] = {
        "origin": cp.origin,
        "size": cp.size,
        "old_size": start,
        "witness": name,
        "witness_vkey": vkey,
        "note": cosigned,
    }
    _emit_note(
        result,
        cosigned,
        out,
        f"cosigned checkpoint of size {cp.size} written to {out}\nwitness vkey {vkey}",
    )


@app.command("prove")
def prove(
    index: Annotated[int, typer.Argument(min=0, help="The entry to prove.")],
    checkpoint_file: Annotated[
        Path,
        typer.Option(
            "--checkpoint", metavar="FILE", help="The (cosigned) checkpoint to prove against."
        ),
    ],
    out: OutOption = None,
    db: DbOption = DEFAULT_DB,
    json_output: JsonOption = False,
) -> None:
    """Write an offline proof bundle: entry, inclusion proof and cosigned checkpoint."""
    set_json_mode(json_output)
    note = _read_note(checkpoint_file)
    with _ledger(db) as ledger:
        bundle = make_bundle(ledger, index, note)
    text = bundle.to_json()
    result: dict[str, Any] = {"index": index, "proof_hashes": len(bundle.proof.hashes)}
    if out is not None:
        _write(out, text + "\n")
        result["file"] = str(out)
        human = f"proof bundle for entry {index} written to {out}"
    else:
        result["bundle"] = json.loads(text)
        human = text
    emit(result, human)


@app.command("verify-proof")
def verify_proof(
    bundle_file: Annotated[
        str, typer.Argument(metavar="BUNDLE", help="The proof bundle file; - reads stdin.")
    ],
    origin: Annotated[str, typer.Option("--origin", help="The log the bundle must come from.")],
    log_vkey: Annotated[
        str, typer.Option("--log-vkey", metavar="VKEY", help="The log's note vkey.")
    ],
    witness: Annotated[
        list[str] | None,
        typer.Option(
            "--witness",
            metavar="VKEY",
            help="A trusted witness's vkey name+hex8+base64(0x04||key) (repeatable).",
        ),
    ] = None,
    threshold: Annotated[
        int | None,
        typer.Option(
            "--threshold", min=1, help="How many of the witnesses must cosign (default: all)."
        ),
    ] = None,
    unwitnessed: Annotated[
        bool,
        typer.Option(
            "--unwitnessed",
            help="Trust the log's signature alone, without witnesses (weaker: a log could "
            "show you a forked history).",
        ),
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Verify a proof bundle fully offline; print the entry it proves.

    Opens no database and no network connection.
    """
    set_json_mode(json_output)
    log = _log_vkey(log_vkey)
    witnesses = tuple(_witness_vkey(text) for text in witness or [])
    if unwitnessed == bool(witnesses) or (unwitnessed and threshold is not None):
        raise ConfigurationError(
            Code.BAD_ARGUMENT, "give --witness VKEY (repeatable), or --unwitnessed alone"
        )
    policy = (
        WitnessPolicy.unwitnessed()
        if unwitnessed
        else WitnessPolicy(
            witnesses=witnesses, threshold=len(witnesses) if threshold is None else threshold
        )
    )
    bundle = ProofBundle.from_json(
        _read(bundle_file, max_bytes=MAX_BUNDLE_BYTES, what="proof bundle")
    )
    entry = verify_bundle(bundle, origin=origin, log_key=log, witnesses=policy)
    # Verified above; opened again only to report the tree head and who cosigned it.
    opened = open_checkpoint(bundle.checkpoint, origin=origin, log_key=log, witnesses=policy)
    cosigned_by = [c.witness.name for c in opened.cosignatures]
    result = {
        "index": bundle.index,
        "leaf_hash": leaf_hash(bundle.entry).hex(),
        "type": entry.type,
        "signer": entry.signer,
        "time": entry.time,
        "origin": opened.checkpoint.origin,
        "size": opened.checkpoint.size,
        "root_hash": opened.checkpoint.root_hash.hex(),
        "cosigned_by": cosigned_by,
        "entry": entry.to_json(),
    }
    human = "\n".join(
        [
            f"verified    entry {bundle.index} of {origin} (tree size {opened.checkpoint.size})",
            f"type        {entry.type}",
            f"signer      {entry.signer}",
            f"time        {entry.time}",
            f"leaf hash   {result['leaf_hash']}",
            f"root hash   {result['root_hash']}",
            "cosigned by " + (", ".join(cosigned_by) or "(no witnesses required)"),
        ]
    )
    emit(result, human)


@app.command("audit")
def audit(db: DbOption = DEFAULT_DB, json_output: JsonOption = False) -> None:
    """Recompute every hash and signature; exit 4 with ledger_tampered and the first bad index."""
    set_json_mode(json_output)
    with _ledger(db) as ledger:
        try:
            report = ledger.audit()
        except StorageError as exc:
            index = exc.details.get("index")
            if exc.code is not Code.LEDGER_TAMPERED or index is None:
                raise
            # The same error, with the index in the one line people read (scripts use details).
            raise StorageError(exc.code, f"{exc.message} at index {index}", **exc.details) from exc
    result = {
        "size": report.size,
        "root_hash": report.root_hash.hex(),
        "checkpoint_size": report.checkpoint_size,
    }
    checked = (
        "no checkpoint stored"
        if report.checkpoint_size is None
        else f"latest checkpoint (size {report.checkpoint_size}) matches"
    )
    emit(
        result,
        f"ledger intact: {report.size} entries\nroot hash   {result['root_hash']}\n{checked}",
    )


@app.command("rebuild")
def rebuild(db: DbOption = DEFAULT_DB, json_output: JsonOption = False) -> None:
    """Drop the derived state and replay every entry through its application."""
    set_json_mode(json_output)
    with _ledger(db) as ledger:
        replayed = ledger.rebuild()
    emit({"replayed": replayed}, f"rebuilt state from {replayed} entries")
