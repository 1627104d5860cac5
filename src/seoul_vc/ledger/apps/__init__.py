"""The applications that ship with seoul_vc, and :func:`default_apps`."""

from __future__ import annotations

from seoul_vc.ledger.app import Application
from seoul_vc.ledger.apps.authority import AuthorityApp
from seoul_vc.ledger.apps.consent import ConsentApp
from seoul_vc.ledger.apps.mileage import MileageApp
from seoul_vc.ledger.apps.status import StatusApp
from seoul_vc.ledger.apps.voting import VotingApp

__all__ = ["AuthorityApp", "ConsentApp", "MileageApp", "StatusApp", "VotingApp", "default_apps"]


def default_apps() -> list[Application]:
    """Return one instance of every application seoul_vc ships."""
    return [AuthorityApp(), VotingApp(), MileageApp(), StatusApp(), ConsentApp()]
