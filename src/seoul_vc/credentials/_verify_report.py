"""Part of :mod:`seoul_vc.credentials.verify`: the report of a run and the steps that fill it.

A run records each check of the pipeline (:data:`CHECKS`) as it passes, is skipped or fails;
:func:`step` runs one piece of a check and turns the first :class:`~seoul_vc.errors.SeoulVCError`
into a failed :class:`Check` and a :class:`FailedError` that stops the run. The run then
becomes a :class:`VerificationReport`. Public as :class:`seoul_vc.credentials.verify.Check`
and :class:`~seoul_vc.credentials.verify.VerificationReport`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Final, Literal

from seoul_vc._json import JSONObject, JSONValue
from seoul_vc.errors import SeoulVCError

#: The checks of the pipeline, in order (see :mod:`seoul_vc.credentials.verify`).
CHECKS: Final = (
    "parse",
    "signature",
    "disclosures",
    "validity",
    "issuer_authority",
    "schema",
    "status",
    "holder_binding",
    "audience",
    "nonce",
)
Outcome = Literal["passed", "failed", "skipped"]


@dataclass(frozen=True, slots=True)
class Check:
    """One check of the pipeline: its name, outcome, and code or note."""

    name: str
    outcome: Outcome
    code: str | None = None
    note: str | None = None

    def to_json(self) -> JSONObject:
        """Return the check as JSON."""
        out: dict[str, JSONValue] = {"name": self.name, "outcome": self.outcome}
        if self.code is not None:
            out["code"] = self.code
        if self.note is not None:
            out["note"] = self.note
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class VerificationReport:
    """The result of a verification: every check, the disclosed claims, the first error.

    Attributes:
        ok: all checks passed or were skipped by design.
        format: ``vc+jwt``, ``vp+jwt``, ``vc+sd-jwt`` or ``dc+sd-jwt``, once parsed.
        credential_type: the type (VC ``type`` or the known ``vct``'s name, else the vct).
        issuer: the issuer identifier.
        claims: the disclosed subject claims (empty on failure).
        checks: the checks run, in order.
        error: the first failure, or ``None``.
    """

    ok: bool
    format: str | None
    credential_type: str | None
    issuer: str | None
    claims: JSONObject = field(default_factory=dict)
    checks: tuple[Check, ...] = ()
    error: SeoulVCError | None = None

    def to_json(self) -> JSONObject:
        """Return the report as JSON (the CLI's ``--json`` output)."""
        out: dict[str, JSONValue] = {
            "ok": self.ok,
            "format": self.format,
            "type": self.credential_type,
            "issuer": self.issuer,
            "claims": self.claims,
            "checks": [c.to_json() for c in self.checks],
        }
        if self.error is not None:
            out["error"] = _error_json(self.error)
        return out


def _error_json(error: SeoulVCError) -> JSONObject:
    return {
        "code": str(error.code),
        "family": error.family,
        "message": error.message,
        "details": {k: v for k, v in error.details.items()},
    }


class Run:
    """Records checks as the pipeline runs."""

    def __init__(self) -> None:
        self.checks: list[Check] = []
        self.format: str | None = None
        self.type: str | None = None
        self.issuer: str | None = None

    def passed(self, name: str, note: str | None = None) -> None:
        """Record check ``name`` as passed."""
        self.checks.append(shared_check(name, "passed", note))

    def skipped(self, name: str, note: str) -> None:
        """Record check ``name`` as skipped, saying why."""
        self.checks.append(shared_check(name, "skipped", note))


@lru_cache(maxsize=256)
def shared_check(name: str, outcome: Outcome, note: str | None) -> Check:
    """A passed or skipped check: immutable, and the same few every run, so made once."""
    return Check(name, outcome, note=note)


class FailedError(Exception):
    """The first failing check of a run: its name and the error it raised."""

    def __init__(self, name: str, error: SeoulVCError) -> None:
        self.name, self.error = name, error


def step(run: Run, name: str, fn: Callable[[], Any]) -> Any:
    """Return ``fn()``; if it raises, record check ``name`` as failed and stop the run."""
    try:
        return fn()
    except SeoulVCError as exc:
        run.checks.append(Check(name, "failed", code=str(exc.code)))
        raise FailedError(name, exc) from exc
