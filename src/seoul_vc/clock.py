"""Time as an injected dependency, so every validity check is testable.

Example:
    >>> from datetime import UTC, datetime
    >>> from seoul_vc.clock import FixedClock
    >>> FixedClock(datetime(2026, 1, 1, tzinfo=UTC)).now().year
    2026
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable

from seoul_vc.errors import Code, ConfigurationError

__all__ = ["Clock", "FixedClock", "SystemClock"]


@runtime_checkable
class Clock(Protocol):
    """A source of the current time (aware UTC) and of a monotonic counter."""

    def now(self) -> datetime:
        """Return the current time as an aware UTC datetime."""
        ...

    def monotonic(self) -> float:
        """Return seconds from an arbitrary origin that never goes backwards."""
        ...


class SystemClock:
    """The machine's clock."""

    def now(self) -> datetime:
        """Return the current time as an aware UTC datetime."""
        return datetime.now(UTC)

    def monotonic(self) -> float:
        """Return :func:`time.monotonic`."""
        return time.monotonic()


class FixedClock:
    """A clock that stands still until moved; for tests and reproducible demos.

    Raises:
        ConfigurationError: ``bad_argument`` if ``at`` is a naive datetime.
    """

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ConfigurationError(Code.BAD_ARGUMENT, "FixedClock needs an aware datetime")
        self._at = at.astimezone(UTC)
        self._mono = 0.0

    def now(self) -> datetime:
        """Return the fixed time."""
        return self._at

    def monotonic(self) -> float:
        """Return the monotonic counter, moved only by :meth:`advance`."""
        return self._mono

    def advance(self, delta: timedelta) -> None:
        """Move the clock forward by ``delta``."""
        self._at += delta
        self._mono += delta.total_seconds()
