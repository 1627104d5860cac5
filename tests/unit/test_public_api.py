"""The top-level package exports every public name it lists, lower rooms eagerly, upper lazily."""

from __future__ import annotations

import subprocess
import sys

import pytest

import seoul_vc


@pytest.mark.parametrize("name", seoul_vc.__all__)
def test_every_listed_name_resolves(name: str) -> None:
    assert getattr(seoul_vc, name) is not None


def test_upper_rooms_are_the_rooms_own_classes() -> None:
    from seoul_vc.mileage import MileageAccounts
    from seoul_vc.status import StatusChecker, StatusRegistry
    from seoul_vc.voting import Poll
    from seoul_vc.wallet import CitizenWallet, WalletService

    assert seoul_vc.WalletService is WalletService
    assert seoul_vc.CitizenWallet is CitizenWallet
    assert seoul_vc.StatusRegistry is StatusRegistry
    assert seoul_vc.StatusChecker is StatusChecker
    assert seoul_vc.Poll is Poll
    assert seoul_vc.MileageAccounts is MileageAccounts


def test_unknown_names_raise_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        _ = seoul_vc.no_such_name  # type: ignore[attr-defined]


def test_importing_the_package_does_not_import_the_upper_rooms() -> None:
    code = (
        "import sys, seoul_vc; "
        "print(sorted(m for m in ('seoul_vc.wallet', 'seoul_vc.voting', 'seoul_vc.mileage') "
        "if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert out.strip() == "[]"
