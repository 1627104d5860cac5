"""C2SP tlog-witness over HTTP: the witness role's ``add-checkpoint`` and a log's push.

Two live services on loopback: the city's log, and a witness agency running the service's
``witness`` role for the log's key. The log pushes its checkpoints
(:func:`~seoul_vc.ledger.tlog_witness.push_checkpoint`, and ``seoul-vc ledger push``); the
witness answers with the statuses the spec names (https://c2sp.org/tlog-witness): 200 and a
cosignature line, 409 ``text/x.tlog.size`` for another old size, 404 an unknown origin, 403
no trusted signature, 400 a bad request, 422 a bad proof, 409 a fork.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from live_service import LiveService, problem, publish

from https_server import LocalCA
from seoul_vc.errors import ConfigurationError
from seoul_vc.keys import PrivateKey
from seoul_vc.ledger import tlog
from seoul_vc.ledger.bundle import format_cosigner_key
from seoul_vc.ledger.checkpoint import (
    Checkpoint,
    CosignerKey,
    WitnessPolicy,
    open_checkpoint,
    sign_checkpoint,
)
from seoul_vc.ledger.note import NoteSigner, format_verifier_key
from seoul_vc.ledger.tlog_witness import SIZE_MEDIA_TYPE, encode_request, push_checkpoint

StartService = Callable[..., LiveService]
ADD = "/witness/v1/add-checkpoint"
WITNESS_NAME = "witness.nhis.seoul.example"


class Pair:
    """The log service, the witness service and the witness's key."""

    def __init__(self, log: LiveService, witness: LiveService, key: CosignerKey) -> None:
        self.log, self.witness, self.key = log, witness, key
        self.policy = WitnessPolicy(witnesses=(key.verifier,), threshold=1)

    @property
    def prefix(self) -> str:
        return self.witness.url + "/witness/v1"

    def push(self, old_size: int = 0) -> tuple[int, int]:
        """Push the log's latest checkpoint; (the witness's previous size, the size)."""
        with self.log.service.network.fetcher() as fetcher:
            pushed = push_checkpoint(
                self.log.service.ledger,
                self.prefix,
                log_key=self.log.service.log_signer.verifier,
                witness=self.key.verifier,
                fetcher=fetcher,
                old_size=old_size,
            )
        return pushed.old_size, pushed.checkpoint.size

    def served(self) -> Checkpoint:
        """The log's served checkpoint, opened under the witness policy (1 of 1)."""
        note = self.log.client.get("/ledger/v1/checkpoint").text
        return open_checkpoint(
            note,
            origin=self.log.config.origin,
            log_key=self.log.service.log_signer.verifier,
            witnesses=self.policy,
        ).checkpoint


@pytest.fixture
def pair(start_service: StartService, tmp_path: Path) -> Pair:
    """A log service, and a witness service serving its key (state in tmp_path)."""
    log = start_service("log")
    key = PrivateKey.generate("EdDSA")
    key.save(tmp_path / "witness.jwk")
    witness = start_service(
        "witness",
        witness={
            "key": str(tmp_path / "witness.jwk"),
            "name": WITNESS_NAME,
            "state": str(tmp_path / "witness-state.json"),
            "logs": [format_verifier_key(log.service.log_signer.verifier)],
        },
    )
    return Pair(log, witness, CosignerKey(WITNESS_NAME, key))


def _checkpoint(live: LiveService) -> str:
    response = live.client.get("/ledger/v1/checkpoint")
    assert response.status_code == 200, response.text
    return response.text


def test_the_log_pushes_and_stores_the_cosignature_then_follows_with_a_proof(
    pair: Pair,
) -> None:
    """First push from 0; after growth the witness says its size (409) and the retry proves."""
    publish(pair.log, 2)
    _checkpoint(pair.log)
    assert pair.push() == (0, 3)
    assert pair.served().size == 3  # the log now serves it cosigned, 1 of 1
    publish(pair.log, 4)
    _checkpoint(pair.log)
    assert pair.push() == (3, 7)  # asked from 0, told 3, proved 3 -> 7
    assert pair.served().size == 7
    assert pair.push(old_size=7) == (7, 7)  # the same tree again: cosigned afresh


def _post(live: LiveService, body: bytes) -> httpx.Response:
    return live.client.post(ADD, content=body, headers={"content-type": "text/plain"})


def test_the_witness_answers_each_refusal_with_the_specs_status(pair: Pair) -> None:
    """409 size, 404 origin, 403 signature, 400 body and old size, 422 proof, 409 fork."""
    log, witness = pair.log, pair.witness
    publish(log, 3)
    note = _checkpoint(log)  # size 4
    empty = tlog.ConsistencyProof(hashes=())
    # Never cosigned: any old size but 0 is answered with 0.
    told = _post(witness, encode_request(2, empty, note))
    assert (told.status_code, told.headers["content-type"]) == (409, SIZE_MEDIA_TYPE)
    assert told.content == b"0\n"
    cosigned = _post(witness, encode_request(0, empty, note))
    assert cosigned.status_code == 200, cosigned.text
    assert cosigned.text.startswith(f"\u2014 {WITNESS_NAME} ")
    assert _post(witness, encode_request(0, empty, note)).content == b"4\n"
    # Another log's checkpoint, and this origin signed by another key.
    stranger = NoteSigner("other.log.example", PrivateKey.generate("EdDSA"))
    other = sign_checkpoint(Checkpoint(origin=stranger.name, size=1, root_hash=bytes(32)), stranger)
    problem(_post(witness, encode_request(0, empty, other)), 404, "not_found")
    forger = NoteSigner(log.config.origin, PrivateKey.generate("EdDSA"))
    forged = sign_checkpoint(Checkpoint(origin=forger.name, size=9, root_hash=bytes(32)), forger)
    problem(_post(witness, encode_request(4, empty, forged)), 403, "invalid_signature")
    # Bodies that do not parse, and an old size past the checkpoint's.
    problem(_post(witness, b"old 04\n\n" + note.encode()), 400, "malformed")
    problem(_post(witness, note.encode()), 400, "malformed")
    problem(_post(witness, encode_request(5, empty, note)), 400, "malformed")
    # Growth with a wrong proof, then another root at the cosigned size (a fork).
    publish(log, 2)
    grown = _checkpoint(log)  # size 6
    proof = log.service.ledger.prove_consistency(4, 6)
    bad = tlog.ConsistencyProof(hashes=(*proof.hashes[:-1], tlog.Hash(bytes(32))))
    problem(_post(witness, encode_request(4, bad, grown)), 422, "consistency_proof_invalid")
    short = tlog.ConsistencyProof(hashes=proof.hashes[:-1])
    problem(_post(witness, encode_request(4, short, grown)), 422, "proof_arguments_invalid")
    fork = sign_checkpoint(
        Checkpoint(origin=log.config.origin, size=4, root_hash=bytes(32)), log.service.log_signer
    )
    problem(_post(witness, encode_request(4, empty, fork)), 409, "log_fork_detected")
    # None of these moved the witness: a correct proof from 4 is cosigned.
    assert _post(witness, encode_request(4, proof, grown)).status_code == 200


def test_openapi_describes_add_checkpoint_only_where_the_role_runs(pair: Pair) -> None:
    """The witness service documents the operation; the log service has no such path."""
    document = pair.witness.client.get("/openapi.json").json()
    operation = document["paths"][ADD]["post"]
    assert operation["operationId"] == "addCheckpoint"
    assert operation["security"] == []
    assert set(operation["responses"]) == {"200", "400", "403", "404", "409", "413", "422", "503"}
    assert SIZE_MEDIA_TYPE in operation["responses"]["409"]["content"]
    assert ADD not in pair.log.client.get("/openapi.json").json()["paths"]
    problem(pair.log.client.post(ADD, content=b"old 0\n\n"), 404, "not_found")


def test_seoul_vc_ledger_push_stores_the_cosignature(
    pair: Pair, local_ca: LocalCA, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The CLI pushes the log's stored checkpoint and prints what the witness cosigned."""
    from seoul_vc_cli.app import main

    publish(pair.log, 1)
    _checkpoint(pair.log)
    ca_file = tmp_path / "ca.pem"
    ca_file.write_bytes(local_ca.ca_pem)
    args = [
        "ledger",
        "push",
        "--db",
        pair.log.config.stores["ledger"],
        "--witness-url",
        pair.prefix,
        "--witness",
        format_cosigner_key(pair.key.verifier),
        "--log-vkey",
        format_verifier_key(pair.log.service.log_signer.verifier),
        "--ca-file",
        str(ca_file),
        "--allow-private-addresses",
        "--json",
    ]
    capsys.readouterr()
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["size"], out["old_size"], out["witness"]) == (2, 0, WITNESS_NAME)
    assert pair.served().size == 2
    # A vkey of another witness: the answer carries no line of it, refused, exit 1.
    other = CosignerKey(WITNESS_NAME, PrivateKey.generate("EdDSA"))
    args[args.index("--witness") + 1] = format_cosigner_key(other.verifier)
    assert main(args) == 1
    error = json.loads(capsys.readouterr().out)["error"]
    assert (error["code"], error["message"]) == (
        "malformed",
        "the witness answered no cosignature of its key",
    )


def test_a_witness_config_naming_one_origin_twice_is_refused(
    start_service: StartService, tmp_path: Path
) -> None:
    """Two vkeys of one origin would silently keep one: the service does not start."""
    key = PrivateKey.generate("EdDSA")
    key.save(tmp_path / "witness.jwk")
    logs = [
        format_verifier_key(NoteSigner("ledger.seoul.example", PrivateKey.generate()).verifier)
        for _ in range(2)
    ]
    witness = {
        "key": str(tmp_path / "witness.jwk"),
        "name": WITNESS_NAME,
        "state": str(tmp_path / "state.json"),
        "logs": logs,
    }
    with pytest.raises(ConfigurationError) as info:
        start_service("witness", witness=witness)
    assert info.value.details == {"field": "witness.logs"}
