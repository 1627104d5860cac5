"""RFC 9457 problem details: every refusal the service sends, with the library's error code.

Room: service (surface). A :class:`~seoul_vc.errors.SeoulVCError` becomes
``application/problem+json`` with ``type`` ``tag:seoul-vc,2026:error:<code>`` (a tag URI,
RFC 4151: stable, not dereferenced), ``title`` (the family), ``status``, ``detail`` (the
message: never claim values, tokens or PINs), ``code``, ``family`` and ``details``. The
HTTP status is the family's (:mod:`seoul_vc.errors`) except where HTTP has a better word:
``unauthorized`` 401 with ``WWW-Authenticate``, ``rate_limited`` 429, ``too_large`` 413,
``request_timeout`` 408,
and a ``bad_argument`` from a request is the client's fault (400). A problem with
``details.scheme`` ``Basic`` refuses HTTP Basic credentials (the citizen's wallet id and PIN):
``unlock_failed`` is then 401 too, and the challenge is ``Basic`` (RFC 9110 §11.6.1, RFC 7617
§2), not ``Bearer``. ``Retry-After`` follows
``details.retry_after`` and every 503. Anything else raised is a bug: 500 ``internal``,
logged with its traceback, sent without detail.
"""

from __future__ import annotations

from typing import Final

from starlette.responses import Response

from seoul_vc import _json
from seoul_vc.errors import Code, SeoulVCError

__all__ = ["PROBLEM_TYPE", "problem_response", "status_of"]

PROBLEM_TYPE: Final = "application/problem+json"
_TYPE_PREFIX: Final = "tag:seoul-vc,2026:error:"
_BASIC_CHALLENGE: Final = 'Basic realm="seoul-vc wallet", charset="UTF-8"'
_STATUS_OF_CODE: Final = {
    Code.UNAUTHORIZED: 401,
    Code.RATE_LIMITED: 429,
    Code.REQUEST_TIMEOUT: 408,
    Code.TOO_LARGE: 413,
    Code.BAD_ARGUMENT: 400,
    Code.UNREADABLE_INPUT: 400,
}
_TITLES: Final = {
    "malformed": "Malformed request",
    "verification": "Verification failed",
    "policy": "Refused by policy",
    "state": "Refused by the current state",
    "configuration": "Bad argument",
    "not_found": "Not found",
    "storage": "Storage failure",
    "unavailable": "Unavailable",
    "internal": "Internal error",
}


def status_of(error: SeoulVCError) -> int:
    """The HTTP status a library error is sent with."""
    if error.code is Code.UNLOCK_FAILED and error.details.get("scheme") == "Basic":
        return 401
    return _STATUS_OF_CODE.get(error.code, error.http_status)


def problem_response(
    error: SeoulVCError, *, status: int | None = None, headers: dict[str, str] | None = None
) -> Response:
    """The problem details reply for ``error``."""
    status = status or status_of(error)
    body: dict[str, object] = {
        "type": _TYPE_PREFIX + str(error.code),
        "title": _TITLES.get(error.family, "Error"),
        "status": status,
        "detail": error.message,
        "code": str(error.code),
        "family": error.family,
        "details": dict(error.details),
    }
    out = {"cache-control": "no-store"}
    retry = error.details.get("retry_after")
    if isinstance(retry, int) and retry >= 0:
        out["retry-after"] = str(retry)
    elif status == 503:
        out["retry-after"] = "1"
    if status == 401:
        basic = error.details.get("scheme") == "Basic"
        out["www-authenticate"] = _BASIC_CHALLENGE if basic else 'Bearer realm="seoul-vc"'
    out.update(headers or {})
    return Response(
        _json.dumps(body),  # type: ignore[arg-type]
        status_code=status,
        media_type=PROBLEM_TYPE,
        headers=out,
    )
