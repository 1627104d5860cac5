"""Shape checks shared by the applications' record bodies (consent, voting, mileage).

Room: ledger applications. Every check raises ``MalformedInputError`` ``malformed`` naming
the field, never the value: a body that fails here is refused before any state is read.
"""

from __future__ import annotations

import re

from seoul_vc._json import JSONObject
from seoul_vc.errors import Code, MalformedInputError

__all__ = ["bounded_int", "malformed", "match", "members"]


def malformed(message: str, field: str) -> MalformedInputError:
    """The error of a malformed body field."""
    return MalformedInputError(Code.MALFORMED, message, field=field)


def members(body: JSONObject, names: set[str], what: str) -> None:
    """Require ``body`` to have exactly the members ``names``."""
    if set(body) != names:
        raise MalformedInputError(Code.MALFORMED, f"{what} is {'/'.join(sorted(names))}")


def match(value: object, pattern: re.Pattern[str], field: str, what: str) -> str:
    """Require a string that ``pattern`` matches whole; ``what`` describes it."""
    if not isinstance(value, str) or pattern.fullmatch(value) is None:
        raise malformed(f"{field} is {what}", field)
    return value


def bounded_int(value: object, field: str, low: int, high: int) -> int:
    """Require an integer (not a bool) in ``[low, high]``."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise malformed(f"{field} is an integer in [{low}, {high}]", field)
    return value
