"""The witness role: C2SP tlog-witness ``add-checkpoint`` at ``/witness/v1/add-checkpoint``.

Room: service (surface). An agency that witnesses logs — the city's ledger, or any log that
speaks C2SP tlog-witness — runs the service with a ``witness`` section; logs then push their
checkpoints here (https://c2sp.org/tlog-witness; the submission prefix is
``<public_url>/witness/v1``). Every decision is :meth:`Witness.add_checkpoint
<seoul_vc.ledger.witness.Witness.add_checkpoint>`'s; this module maps its outcomes onto the
statuses the spec names:

* 200 ``text/plain``: the cosignature line (C2SP tlog-cosignature v1);
* 409 ``text/x.tlog.size``: the old size is not the size cosigned last, which is the body;
* 404 an origin this witness does not serve; 403 no trusted key signed the checkpoint;
* 400 a request that does not parse, or an old size past the checkpoint's;
* 422 a consistency proof that does not verify; 409 (a problem) another root at the same
  size (``log_fork_detected``): a log showing two trees.

As the spec says, requests carry no credentials: the log's signature on the checkpoint is
the authorisation. The state is written before the answer leaves (see the Witness).
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from seoul_vc.errors import Code, ConfigurationError, SeoulVCError
from seoul_vc.ledger.checkpoint import CosignerKey
from seoul_vc.ledger.note import parse_verifier_key
from seoul_vc.ledger.tlog_witness import (
    ADD_CHECKPOINT,
    MAX_REQUEST_BYTES,
    SIZE_MEDIA_TYPE,
    encode_size,
    parse_request,
)
from seoul_vc.ledger.witness import Witness
from seoul_vc.service._http import read_body
from seoul_vc.service.context import Service
from seoul_vc.service.openapi import OpenAPI, Section, problems
from seoul_vc.service.problems import problem_response

__all__ = ["PREFIX", "section"]

PREFIX: Final = "/witness/v1"
_TEXT: Final = "text/plain; charset=utf-8"
#: Where the spec's status differs from the code's family status.
_STATUS: Final = {Code.INVALID_SIGNATURE: 403, Code.LOG_FORK_DETECTED: 409}


def _witness(service: Service) -> Witness:
    config = service.config.witness
    assert config is not None  # noqa: S101 - section() builds this only for the role
    try:
        logs = [parse_verifier_key(vkey) for vkey in config.logs]
    except SeoulVCError as exc:
        raise ConfigurationError(
            Code.BAD_ARGUMENT, "a witness.logs vkey does not parse", field="witness.logs"
        ) from exc
    if len({log.name for log in logs}) != len(logs):
        raise ConfigurationError(
            Code.BAD_ARGUMENT, "witness.logs names one origin twice", field="witness.logs"
        )
    return Witness(
        CosignerKey(config.name, config.key),
        logs={log.name: log for log in logs},
        state_path=Path(config.state_path),
        clock=service.clock,
    )


def section(service: Service) -> Section:
    """The witness routes, when the configuration names the role."""
    if service.config.witness is None:
        return Section(routes=[], paths={})
    witness = _witness(service)

    async def add_checkpoint(request: Request) -> Response:
        body = await read_body(request, MAX_REQUEST_BYTES)
        try:
            parsed = parse_request(body)
            line = await run_in_threadpool(
                witness.add_checkpoint, parsed.old_size, parsed.proof, parsed.note
            )
        except SeoulVCError as exc:
            request.scope["seoul_vc.error_code"] = str(exc.code)
            if exc.code is Code.OLD_SIZE_MISMATCH:
                size = int(exc.details["size"])
                # Exactly the spec's type: Starlette would add a charset to a media_type.
                return Response(encode_size(size), 409, headers={"content-type": SIZE_MEDIA_TYPE})
            return problem_response(exc, status=_STATUS.get(exc.code))
        return Response(line.encode(), 200, headers={"content-type": _TEXT})

    path = PREFIX + ADD_CHECKPOINT
    return Section(
        routes=[Route(path, add_checkpoint, methods=["POST"])],
        paths={path: {"post": _operation(service)}},
        tags=[{"name": "witness", "description": "C2SP tlog-witness: cosigning logs' checkpoints"}],
        body_limits={path: MAX_REQUEST_BYTES},
    )


def _operation(service: Service) -> OpenAPI:
    config = service.config.witness
    assert config is not None  # noqa: S101 - only for the role
    text: OpenAPI = {"schema": {"type": "string", "maxLength": MAX_REQUEST_BYTES}}
    return {
        "tags": ["witness"],
        "summary": "Cosign a log's checkpoint that extends the last one cosigned",
        "operationId": "addCheckpoint",
        "security": [],
        "description": (
            "C2SP tlog-witness add-checkpoint (https://c2sp.org/tlog-witness). The body is "
            "`old <size>`, up to 63 base64 consistency proof lines, an empty line and the "
            "log-signed checkpoint. No credentials: the log's signature is checked against "
            f"the keys of the {len(config.logs)} log(s) this witness serves. 409 answers "
            "`text/x.tlog.size` (the size cosigned last, then a newline) when the old size "
            "is another, or a problem (log_fork_detected) for another root at the same size."
        ),
        "requestBody": {"required": True, "content": {"text/plain": text}},
        "responses": {
            "200": {
                "description": "This witness's cosignature line (C2SP tlog-cosignature v1)",
                "content": {"text/plain": {"schema": {"type": "string"}}},
            },
            **problems(400, 403, 404, 413, 422, 503),
            "409": {
                "description": "The old size is not the size cosigned last, or a fork",
                "content": {
                    SIZE_MEDIA_TYPE: {"schema": {"type": "string", "pattern": "^[0-9]+\\n$"}},
                    **problems(409)["409"]["content"],
                },
            },
        },
    }
