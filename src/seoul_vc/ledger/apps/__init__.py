"""The applications that ship with seoul_vc, and :func:`default_apps`."""

from __future__ import annotations

from seoul_vc.ledger.app import Application
from seoul_vc.ledger.apps.authority import AuthorityApp

__all__ = ["AuthorityApp", "default_apps"]


def default_apps() -> list[Application]:
    """Return one instance of every application seoul_vc ships."""
    return [AuthorityApp()]
