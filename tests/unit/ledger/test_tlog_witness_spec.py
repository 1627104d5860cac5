"""The C2SP tlog-witness spec's own example bodies, read and written byte for byte.

Vectors: ``tests/vectors/c2sp-tlog-witness/add-checkpoint.json`` (the spec's example
``add-checkpoint`` request and response; source in ``tests/vectors/SOURCES.md``). Their keys
are not published, so signatures are parsed here, not verified.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from seoul_vc.errors import Code, MalformedInputError
from seoul_vc.ledger.checkpoint import parse_checkpoint
from seoul_vc.ledger.note import keep_signatures
from seoul_vc.ledger.tlog_witness import encode_request, parse_request

VECTORS = Path(__file__).parents[2] / "vectors" / "c2sp-tlog-witness" / "add-checkpoint.json"


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return json.loads(VECTORS.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def test_the_spec_request_parses_and_encodes_back_to_the_same_bytes(spec: dict[str, Any]) -> None:
    """Old size, the four proof hashes and the checkpoint; re-encoded it is the same body."""
    body = spec["request"].encode()
    parsed = parse_request(body)
    assert parsed.old_size == spec["old_size"]
    assert [base64.b64encode(h).decode() for h in parsed.proof.hashes] == spec["proof"]
    text = parsed.note[: parsed.note.index("\n\n") + 1]
    checkpoint = parse_checkpoint(text)
    expected = spec["checkpoint"]
    assert (checkpoint.origin, checkpoint.size) == (expected["origin"], expected["size"])
    assert checkpoint.root_hash == base64.b64decode(expected["root_hash"])
    assert encode_request(parsed.old_size, parsed.proof, parsed.note) == body


def test_the_spec_response_lines_are_read_per_witness_key(spec: dict[str, Any]) -> None:
    """The answer's lines after the checkpoint: the client keeps those of the keys it knows."""
    note = parse_request(spec["request"].encode()).note
    lines = spec["response"].splitlines(keepends=True)
    w1_id = int.from_bytes(base64.b64decode(lines[0].split(" ")[2])[:4], "big")
    kept = keep_signatures(note + spec["response"], {("witness.example/w1", w1_id)})
    # w1's two lines carry two key IDs (two signature types): one is kept, by its ID.
    assert kept.endswith("\n\n" + lines[0])
    assert lines[1].split(" ")[1] == "witness.example/w1"
    unknown = {("witness.example/w3", w1_id)}
    with pytest.raises(MalformedInputError) as info:
        keep_signatures(note + spec["response"], unknown)
    assert info.value.code is Code.MALFORMED
