"""The ledger API's contract: its OpenAPI document and the bounds its requests keep.

Part of :mod:`seoul_vc.service.routes.ledger`, which serves these routes and checks query
parameters against the same bounds; they live here so the document and the checks cannot
drift.
"""

from __future__ import annotations

from typing import Final

from seoul_vc.ledger.note import MAX_NOTE_BYTES
from seoul_vc.service.openapi import OpenAPI, json_response_spec, problems

__all__ = ["DECIMAL_PATTERN", "MAX_PAGE", "MAX_QUERY_INT", "SCHEMAS", "TAGS", "ledger_paths"]

#: Most entries one ``GET entries`` returns.
MAX_PAGE: Final = 256
#: The largest integer a query parameter may hold: I-JSON's (RFC 7493 §2.2).
MAX_QUERY_INT: Final = 2**53 - 1
#: An integer query parameter: ASCII decimal digits without sign or leading zeros.
DECIMAL_PATTERN: Final = "^(0|[1-9][0-9]{0,15})$"
_B64_HASH_PATTERN: Final = "^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$"

TAGS: Final = [
    {
        "name": "ledger",
        "description": (
            "The Merkle-log ledger: C2SP checkpoints, entries, RFC 9162 proofs, "
            "offline proof bundles and witness cosignatures"
        ),
    }
]


def _int_param(name: str, description: str, *, required: bool = True) -> OpenAPI:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "description": description
        + " An ASCII decimal without sign or leading zeros, at most 2^53 - 1.",
        "schema": {"type": "string", "pattern": DECIMAL_PATTERN, "maxLength": 16},
    }


_COUNT: Final[OpenAPI] = {"type": "integer", "minimum": 0, "maximum": MAX_QUERY_INT}
_HASHES: Final[OpenAPI] = {
    "type": "array",
    "maxItems": 128,
    "items": {"type": "string", "pattern": _B64_HASH_PATTERN},
    "description": "32-byte hashes in standard base64, RFC 9162 order.",
}
_NOTE: Final[OpenAPI] = {
    "type": "string",
    "maxLength": MAX_NOTE_BYTES,
    "description": "A C2SP signed note: checkpoint text, a blank line, signature lines.",
}

SCHEMAS: Final[OpenAPI] = {
    "LedgerEntry": {
        "type": "object",
        "description": (
            "A ledger entry; its RFC 8785 canonical JSON is the Merkle leaf "
            "(leaf hash SHA-256(0x00 || bytes), RFC 9162 §2.1.1)."
        ),
        "additionalProperties": False,
        "required": ["type", "body", "signer", "time", "sig"],
        "properties": {
            "type": {"type": "string", "pattern": "^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)+$"},
            "body": {"type": "object"},
            "signer": {"type": "string", "pattern": "^did:(key|jwk):"},
            "time": {"type": "integer", "minimum": 0},
            "sig": {"type": "string", "pattern": "^[A-Za-z0-9_-]+$"},
        },
    },
    "LedgerEntriesPage": {
        "type": "object",
        "additionalProperties": False,
        "required": ["start", "end", "size", "entries"],
        "properties": {
            "start": _COUNT,
            "end": {**_COUNT, "description": "One past the last entry returned."},
            "size": {**_COUNT, "description": "The log's size when the page was read."},
            "entries": {
                "type": "array",
                "minItems": 1,
                "maxItems": MAX_PAGE,
                "items": {"$ref": "#/components/schemas/LedgerEntry"},
            },
        },
    },
    "InclusionProof": {
        "type": "object",
        "additionalProperties": False,
        "required": ["index", "size", "inclusion_proof"],
        "properties": {"index": _COUNT, "size": _COUNT, "inclusion_proof": _HASHES},
    },
    "ConsistencyProof": {
        "type": "object",
        "additionalProperties": False,
        "required": ["first", "second", "consistency_proof"],
        "properties": {"first": _COUNT, "second": _COUNT, "consistency_proof": _HASHES},
    },
    "ProofBundle": {
        "type": "object",
        "description": "seoul_vc proof bundle v1 (seoul_vc.ledger.bundle), verifiable offline.",
        "additionalProperties": False,
        "required": ["version", "entry", "index", "inclusion_proof", "checkpoint"],
        "properties": {
            "version": {"const": 1},
            "entry": {
                "type": "string",
                "pattern": "^[A-Za-z0-9_-]+$",
                "description": "base64url (unpadded) of the entry's canonical bytes.",
            },
            "index": _COUNT,
            "inclusion_proof": _HASHES,
            "checkpoint": _NOTE,
        },
    },
}


def _note_response(description: str) -> OpenAPI:
    return json_response_spec(description, _NOTE, "text/plain")


def ledger_paths() -> OpenAPI:
    """The ledger API's paths: the checkpoint, entries, proofs, bundles and cosignatures."""

    def get(
        operation_id: str,
        summary: str,
        ok: OpenAPI,
        parameters: list[OpenAPI],
        *statuses: int,
    ) -> OpenAPI:
        operation: OpenAPI = {
            "tags": ["ledger"],
            "summary": summary,
            "operationId": operation_id,
            "responses": {"200": ok, **problems(*statuses, 503)},
        }
        if parameters:
            operation["parameters"] = parameters
        return {"get": operation}

    def ref(name: str) -> OpenAPI:
        return {"$ref": f"#/components/schemas/{name}"}

    return {
        "/ledger/v1/checkpoint": get(
            "getLedgerCheckpoint",
            "The latest checkpoint with the witness cosignatures collected so far",
            _note_response("A C2SP tlog-checkpoint signed note"),
            [],
        ),
        "/ledger/v1/entries": get(
            "getLedgerEntries",
            f"A page of entries (at most {MAX_PAGE}) in index order",
            json_response_spec("Entries start to end - 1", ref("LedgerEntriesPage")),
            [
                _int_param("start", "The first entry's index."),
                _int_param(
                    "end",
                    f"One past the last index wanted (default and bound: start + {MAX_PAGE}).",
                    required=False,
                ),
            ],
            400,
            404,
        ),
        "/ledger/v1/proofs/inclusion": get(
            "getLedgerInclusionProof",
            "RFC 9162 inclusion proof of an entry in the tree of a given size",
            json_response_spec("The inclusion proof", ref("InclusionProof")),
            [
                _int_param("index", "The entry's index (below size)."),
                _int_param("size", "The tree size, as in a checkpoint."),
            ],
            400,
            404,
        ),
        "/ledger/v1/proofs/consistency": get(
            "getLedgerConsistencyProof",
            "RFC 9162 consistency proof between two tree sizes",
            json_response_spec("The consistency proof", ref("ConsistencyProof")),
            [
                _int_param("first", "The older tree size."),
                _int_param("second", "The newer tree size (at least first)."),
            ],
            400,
            404,
        ),
        "/ledger/v1/proofs/bundle": get(
            "getLedgerProofBundle",
            "An entry, its inclusion proof and the served cosigned checkpoint, for offline use",
            json_response_spec("The proof bundle", ref("ProofBundle")),
            [_int_param("index", "The entry's index.")],
            400,
            404,
            409,
        ),
        "/ledger/v1/cosignatures": {
            "post": {
                "tags": ["ledger"],
                "summary": "A witness submits its cosignature of the latest checkpoint",
                "description": (
                    "The body is the checkpoint note as served, signed by the log, with the "
                    "witness's C2SP tlog-cosignature v1 line(s). Every signature line must "
                    "be the log's or a configured witness's and verify."
                ),
                "operationId": "postLedgerCosignatures",
                "requestBody": {
                    "required": True,
                    "content": {"text/plain": {"schema": _NOTE}},
                },
                "responses": {
                    "200": _note_response("The checkpoint as now served"),
                    **problems(400, 403, 409, 413, 422, 503),
                },
            }
        },
    }
