"""The ledger API: checkpoints, entries, RFC 9162 proofs, proof bundles, witness cosignatures.

Room: service (surface). Always mounted, under ``/ledger/v1/``; reading needs no credential
(the ledger holds no personal data by design), and a witness is authenticated by its
cosignature alone. See ``docs/service-ledger.md`` for the walk-through.

* ``GET checkpoint``: the latest checkpoint, a C2SP tlog-checkpoint signed note
  (``text/plain; charset=utf-8``, ``Cache-Control: public, max-age=5``) with every witness
  cosignature collected so far. **When a new checkpoint is signed.** The newest stored one
  is served as it is unless the log has grown past it and either it already carries the
  witness quorum (``ledger.witness_threshold`` of ``ledger.witnesses``; always, with no
  witnesses configured), or it has been served for :data:`CHECKPOINT_PATIENCE` seconds
  without reaching the quorum. So witnesses always have a stable target (under a steady
  stream of appends the checkpoint does not run away from them), a published tree head
  gains its cosignatures as fast as the witnesses poll, and a silent witness holds new
  checkpoints back by at most the patience. Signing the same tree head again keeps the
  cosignatures already stored (:meth:`~seoul_vc.ledger.log.Ledger.checkpoint`).
* ``GET entries?start=&end=``: entries ``start`` to ``end - 1`` as JSON objects (their
  RFC 8785 form is the Merkle leaf), at most :data:`MAX_PAGE` per request; ``end`` is
  optional, and a page is cut short at the page bound or the end of the log (as RFC 6962
  §4.6 allows), so a client continues from the returned ``end``. ``start >= end`` is a 400
  ``malformed``; a ``start`` at or past the log's size is a 404 ``not_found``.
* ``GET proofs/inclusion?index=&size=`` and ``GET proofs/consistency?first=&second=``:
  RFC 9162 §2.1.3 / §2.1.4 proofs, hashes in standard base64 as in checkpoints. A proof for
  a given tree size never changes, so it is cacheable for a day. ``index >= size`` or
  ``first > second`` is a 400 ``malformed``; a size past the log's is a 404 ``not_found``.
* ``GET proofs/bundle?index=``: a :class:`~seoul_vc.ledger.bundle.ProofBundle` (entry,
  inclusion proof, the served cosigned checkpoint) that verifies offline; a 409
  ``conflict`` with ``Retry-After`` while the served checkpoint does not cover the entry yet.
* ``POST cosignatures``: a witness sends the served checkpoint with its cosignature line
  (``text/plain``); see :meth:`~seoul_vc.ledger.log.Ledger.add_cosignatures` for the
  checks. Answers with the checkpoint as now served. The witness side of this API is
  :func:`seoul_vc.ledger.witness_client.cosign_remote_log`. The C2SP tlog-witness
  ``add-checkpoint`` call goes the other way (a log pushes to a witness's endpoint): the
  log's side is :func:`seoul_vc.ledger.tlog_witness.push_checkpoint`, a witness's is the
  service's ``witness`` role (:mod:`seoul_vc.service.routes.witness`).

Integer query parameters are ASCII decimal digits without sign, spaces, underscores or
leading zeros, at most ``2**53 - 1`` (I-JSON integers, RFC 7493 §2.2); a parameter given
twice, a missing one or one the operation does not take is a 400 ``malformed``.
"""

from __future__ import annotations

import base64
import re
import threading
from typing import Final

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from seoul_vc._json import JSONObject, JSONValue
from seoul_vc.errors import (
    Code,
    MalformedInputError,
    NotFoundError,
    PolicyError,
    SeoulVCError,
    StateConflictError,
)
from seoul_vc.ledger.bundle import make_bundle
from seoul_vc.ledger.checkpoint import WitnessPolicy, open_checkpoint
from seoul_vc.ledger.note import MAX_NOTE_BYTES
from seoul_vc.service._http import json_response, read_body
from seoul_vc.service.context import Service
from seoul_vc.service.openapi import Section
from seoul_vc.service.routes.ledger_openapi import (
    DECIMAL_PATTERN,
    MAX_PAGE,
    MAX_QUERY_INT,
    SCHEMAS,
    TAGS,
    ledger_paths,
)

__all__ = ["CHECKPOINT_PATIENCE", "MAX_PAGE", "section"]

#: Seconds a checkpoint without the witness quorum is served before a newer one is signed.
CHECKPOINT_PATIENCE: Final = 60.0
NOTE_TYPE: Final = "text/plain; charset=utf-8"
CHECKPOINT_CACHE: Final = "public, max-age=5"
IMMUTABLE_CACHE: Final = "public, max-age=86400, immutable"
#: Seconds a client waits before asking again for a bundle the checkpoint does not cover.
BUNDLE_RETRY_AFTER: Final = 5

_DECIMAL_RE: Final = re.compile(DECIMAL_PATTERN[1:-1])


def _query_ints(
    request: Request, required: tuple[str, ...], optional: tuple[str, ...] = ()
) -> dict[str, int]:
    """Parse the integer query parameters of an operation strictly (see the module docstring).

    Raises:
        MalformedInputError: ``malformed`` naming the parameter.
    """
    allowed = (*required, *optional)
    params = request.query_params
    for name in params:
        if name not in allowed:
            raise MalformedInputError(
                Code.MALFORMED, "unknown query parameter", parameter=name[:64]
            )
    values: dict[str, int] = {}
    for name in allowed:
        given = params.getlist(name)
        if not given:
            if name in required:
                raise MalformedInputError(
                    Code.MALFORMED, "a query parameter is missing", parameter=name
                )
            continue
        if len(given) > 1:
            raise MalformedInputError(
                Code.MALFORMED, "a query parameter is repeated", parameter=name
            )
        text = given[0]
        # int() alone would take "+1", " 1", "1_0" and non-ASCII digits such as "١٢".
        if _DECIMAL_RE.fullmatch(text) is None or int(text) > MAX_QUERY_INT:
            raise MalformedInputError(
                Code.MALFORMED,
                "a query parameter is a canonical ASCII decimal up to 2**53 - 1",
                parameter=name,
            )
        values[name] = int(text)
    return values


class _Publisher:
    """Decides which checkpoint ``GET checkpoint`` serves (the rule in the module docstring).

    Per process: when the checkpoint of a size was first served here, and whether a stored
    note meets the witness policy (cached by its text, as its signatures are checked).
    """

    def __init__(self, service: Service) -> None:
        self._service = service
        self._lock = threading.Lock()
        self._first_served: tuple[int, float] | None = None
        self._status: tuple[str, int | None, bool] | None = None

    def _now(self) -> float:
        return self._service.clock.now().timestamp()

    def inspect(self, note: str) -> tuple[int | None, bool]:
        """The stored note's size (None if our log key did not sign it) and its quorum."""
        with self._lock:
            if self._status is not None and self._status[0] == note:
                return self._status[1], self._status[2]
        service = self._service
        size: int | None
        try:
            opened = open_checkpoint(
                note,
                origin=service.config.origin,
                log_key=service.log_signer.verifier,
                witnesses=WitnessPolicy.unwitnessed(),
            )
            size = opened.checkpoint.size
            open_checkpoint(
                note,
                origin=service.config.origin,
                log_key=service.log_signer.verifier,
                witnesses=service.witness_policy,
            )
            witnessed = True
        except PolicyError:
            witnessed = False
        except SeoulVCError:
            size, witnessed = None, False
        with self._lock:
            self._status = (note, size, witnessed)
        return size, witnessed

    def current(self) -> str:
        """The checkpoint to serve now, signing a new one if the rule says so."""
        ledger = self._service.ledger
        note = ledger.latest_checkpoint()
        if note is not None:
            size, witnessed = self.inspect(note)
            if size is not None:
                # Timed per tree head, not per note: a cosignature that arrives without
                # completing the quorum must not restart the patience.
                waited = self._served_for(size)
                if ledger.size <= size or not (witnessed or waited >= CHECKPOINT_PATIENCE):
                    return note
        return ledger.checkpoint(self._service.log_signer)

    def _served_for(self, size: int) -> float:
        """Seconds since this process first served the checkpoint of ``size``."""
        now = self._now()
        with self._lock:
            if self._first_served is None or self._first_served[0] != size:
                self._first_served = (size, now)
            return now - self._first_served[1]


def _no_entry(what: str, **details: int) -> NotFoundError:
    return NotFoundError(Code.NOT_FOUND, f"the log is not that large: {what}", **details)


def section(service: Service) -> Section:
    """The ledger routes (always mounted)."""
    ledger = service.ledger
    publisher = _Publisher(service)

    async def checkpoint(request: Request) -> Response:
        del request
        note = await run_in_threadpool(publisher.current)
        return Response(note, media_type=NOTE_TYPE, headers={"cache-control": CHECKPOINT_CACHE})

    async def entries(request: Request) -> Response:
        query = _query_ints(request, ("start",), ("end",))
        start = query["start"]
        end = query.get("end", start + MAX_PAGE)
        if start >= end:
            raise MalformedInputError(
                Code.MALFORMED, "start must be below end", start=start, end=end
            )

        def read() -> tuple[int, list[JSONValue]]:
            size = ledger.size
            if start >= size:
                raise _no_entry("start", start=start, size=size)
            page = ledger.entries(start, min(end, start + MAX_PAGE, size))
            return size, [entry.to_json() for entry in page]

        size, found = await run_in_threadpool(read)
        stop = start + len(found)
        body: JSONObject = {"start": start, "end": stop, "size": size, "entries": found}
        cache = IMMUTABLE_CACHE if stop == end else CHECKPOINT_CACHE
        return json_response(body, headers={"cache-control": cache})

    async def inclusion(request: Request) -> Response:
        query = _query_ints(request, ("index", "size"))
        index, size = query["index"], query["size"]
        if index >= size:
            raise MalformedInputError(
                Code.MALFORMED, "index must be below size", index=index, size=size
            )

        def prove() -> list[JSONValue]:
            current = ledger.size
            if size > current:
                raise _no_entry("size", size=size, current=current)
            return [_b64(h) for h in ledger.prove_inclusion(index, size).hashes]

        hashes = await run_in_threadpool(prove)
        body: JSONObject = {"index": index, "size": size, "inclusion_proof": hashes}
        return json_response(body, headers={"cache-control": IMMUTABLE_CACHE})

    async def consistency(request: Request) -> Response:
        query = _query_ints(request, ("first", "second"))
        first, second = query["first"], query["second"]
        if first > second:
            raise MalformedInputError(
                Code.MALFORMED, "first must not exceed second", first=first, second=second
            )

        def prove() -> list[JSONValue]:
            current = ledger.size
            if second > current:
                raise _no_entry("second", second=second, current=current)
            return [_b64(h) for h in ledger.prove_consistency(first, second).hashes]

        hashes = await run_in_threadpool(prove)
        body: JSONObject = {"first": first, "second": second, "consistency_proof": hashes}
        return json_response(body, headers={"cache-control": IMMUTABLE_CACHE})

    async def bundle(request: Request) -> Response:
        index = _query_ints(request, ("index",))["index"]

        def build() -> str:
            current = ledger.size
            if index >= current:
                raise _no_entry("index", index=index, size=current)
            note = publisher.current()
            size, _ = publisher.inspect(note)
            if size is None or index >= size:
                raise StateConflictError(
                    Code.CONFLICT,
                    "no checkpoint covers the entry yet; ask again after the witnesses cosign",
                    index=index,
                    retry_after=BUNDLE_RETRY_AFTER,
                )
            return make_bundle(ledger, index, note).to_json()

        text = await run_in_threadpool(build)
        return Response(
            text, media_type="application/json", headers={"cache-control": CHECKPOINT_CACHE}
        )

    async def cosignatures(request: Request) -> Response:
        media = request.headers.get("content-type", "")
        main, _, params = media.partition(";")
        charset = params.strip().lower().replace(" ", "")
        if main.strip().lower() != "text/plain" or charset not in ("", "charset=utf-8"):
            raise MalformedInputError(Code.MALFORMED, "the body must be text/plain; charset=utf-8")
        body = await read_body(request, MAX_NOTE_BYTES)
        try:
            note = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedInputError(Code.MALFORMED, "the body is not UTF-8") from exc

        def store() -> str:
            return ledger.add_cosignatures(
                note,
                log_key=service.log_signer.verifier,
                witnesses=service.witness_policy.witnesses,
            )

        stored = await run_in_threadpool(store)
        return Response(stored, media_type=NOTE_TYPE, headers={"cache-control": "no-store"})

    return Section(
        routes=[
            Route("/ledger/v1/checkpoint", checkpoint, methods=["GET"]),
            Route("/ledger/v1/entries", entries, methods=["GET"]),
            Route("/ledger/v1/proofs/inclusion", inclusion, methods=["GET"]),
            Route("/ledger/v1/proofs/consistency", consistency, methods=["GET"]),
            Route("/ledger/v1/proofs/bundle", bundle, methods=["GET"]),
            Route("/ledger/v1/cosignatures", cosignatures, methods=["POST"]),
        ],
        paths=ledger_paths(),
        schemas=SCHEMAS,
        tags=TAGS,
    )


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()
