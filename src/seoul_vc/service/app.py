"""The ASGI application: routes of every configured role, problem details, bounds and logs.

Room: service (surface). :func:`create_app` builds a Starlette app over a
:class:`~seoul_vc.service.context.Service`. Around every route:

* a body bound: a declared ``Content-Length`` past ``max_body_bytes`` is refused with 413
  before the body is read, and a streamed body is cut off at the bound; a route module may
  give one of its paths another bound (:attr:`~seoul_vc.service.openapi.Section.body_limits`:
  the wallet's restore, whose backup may be far larger than any other body);
* errors become RFC 9457 problems (:mod:`seoul_vc.service.problems`); Starlette's own 404
  and 405 too; a client that leaves before its body ends is logged as
  ``client_disconnected``, not as an error; anything unexpected is a logged 500 ``internal``
  without detail;
* one structured log line per request on the ``seoul_vc.service`` logger: method, route
  template (never the raw path or query), status, duration and error code. No body, no
  header, no client address, no identifier from the path: nothing personal.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from seoul_vc.errors import Code, InternalError, MalformedInputError, NotFoundError, SeoulVCError
from seoul_vc.service._http import json_response
from seoul_vc.service.context import Service
from seoul_vc.service.openapi import Section, build_document
from seoul_vc.service.problems import problem_response

__all__ = ["SECTIONS", "create_app"]

LOG: Final = logging.getLogger("seoul_vc.service")

#: The route modules, each ``module:function`` returning a Section for a Service.
SECTIONS: Final = (
    "seoul_vc.service.routes.public:section",
    "seoul_vc.service.routes.ledger:section",
    "seoul_vc.service.routes.issuer:section",
    "seoul_vc.service.routes.verifier:section",
    "seoul_vc.service.routes.wallet:section",
    "seoul_vc.service.routes.wallet_presentations:section",
    "seoul_vc.service.routes.wallet_offers:section",
    "seoul_vc.service.routes.witness:section",
)


def _load_sections(service: Service, names: Sequence[str]) -> list[Section]:
    import importlib

    sections = []
    for name in names:
        module_name, _, func = name.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue  # a role whose module is not installed in this build
        sections.append(getattr(module, func)(service))
    return sections


class _BodyLimit:
    """Refuse declared bodies past the bound; cut off streamed ones at it.

    The bound is ``max_bytes``, or ``per_path``'s for a path named there (exactly).
    """

    def __init__(self, app: ASGIApp, max_bytes: int, per_path: Mapping[str, int]) -> None:
        self.app, self.max_bytes, self.per_path = app, max_bytes, dict(per_path)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path, root = scope["path"], scope.get("root_path", "")
        if root and path.startswith(root):  # as Starlette's router matches, under a root path
            path = path[len(root) :]
        limit = self.per_path.get(path, self.max_bytes)
        for name, value in scope.get("headers", ()):
            if name == b"content-length" and (not value.isdigit() or int(value) > limit):
                error = MalformedInputError(
                    Code.TOO_LARGE if value.isdigit() else Code.MALFORMED,
                    "request body too large" if value.isdigit() else "bad Content-Length",
                    limit=limit,
                )
                await problem_response(error)(scope, receive, send)
                return
        seen = 0

        async def bounded() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise MalformedInputError(Code.TOO_LARGE, "request body too large", limit=limit)
            return message

        await self.app(scope, bounded, send)


class _AccessLog:
    """One JSON log line per request, without personal data (see the module docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record)
        finally:
            route = scope.get("route")
            LOG.info(
                json.dumps(
                    {
                        "event": "request",
                        "method": scope.get("method"),
                        "route": getattr(route, "path", None),
                        "status": status,
                        "ms": round((time.perf_counter() - start) * 1000, 2),
                        "code": scope.get("seoul_vc.error_code"),
                    }
                )
            )


def _on_error(request: Request, exc: Exception) -> Response:
    if isinstance(exc, SeoulVCError):
        request.scope["seoul_vc.error_code"] = str(exc.code)
        return problem_response(exc)
    if isinstance(exc, HTTPException):
        if exc.status_code == 404:
            error: SeoulVCError = NotFoundError(Code.NOT_FOUND, "no such resource")
        elif exc.status_code == 405:
            error = MalformedInputError(Code.MALFORMED, "method not allowed")
        else:
            error = MalformedInputError(Code.MALFORMED, "bad request")
        request.scope["seoul_vc.error_code"] = str(error.code)
        return problem_response(error, status=exc.status_code, headers=dict(exc.headers or {}))
    if isinstance(exc, ClientDisconnect):  # no one reads the answer; nothing went wrong here
        request.scope["seoul_vc.error_code"] = "client_disconnected"
        return problem_response(MalformedInputError(Code.MALFORMED, "the request ended early"))
    LOG.exception("internal error", exc_info=exc)
    request.scope["seoul_vc.error_code"] = "internal"
    return problem_response(InternalError(Code.INTERNAL, "internal error"))


def create_app(service: Service, *, sections: Sequence[str] = SECTIONS) -> Starlette:
    """Build the ASGI app over ``service`` (which the caller closes after the app stops)."""
    from seoul_vc import __version__

    parts = _load_sections(service, sections)
    document = build_document(service.public_url, __version__, parts)

    async def openapi(request: Request) -> Response:
        del request
        return json_response(document, headers={"cache-control": "public, max-age=300"})

    routes: list[BaseRoute] = [Route("/openapi.json", openapi, methods=["GET"])]
    for part in parts:
        routes.extend(part.routes)
    handlers: dict[Any, Callable[[Request, Exception], Response]] = {
        Exception: _on_error,
        HTTPException: _on_error,
        SeoulVCError: _on_error,
        # Its own key: Starlette re-raises whatever the Exception handler answers.
        ClientDisconnect: _on_error,
    }
    app = Starlette(routes=routes, exception_handlers=handlers)
    app.state.service = service
    app.state.openapi = document
    per_path = {path: limit for part in parts for path, limit in part.body_limits.items()}
    app.add_middleware(_BodyLimit, max_bytes=service.config.max_body_bytes, per_path=per_path)
    app.add_middleware(_AccessLog)
    return app
