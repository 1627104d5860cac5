"""The top-level package exports every public name it lists: the core eagerly, rooms lazily."""

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


def test_importing_the_package_does_not_import_the_rooms() -> None:
    """Errors, keys, limits and clocks only: no room, and not the HTTP client."""
    rooms = ("seoul_vc.wallet", "seoul_vc.voting", "seoul_vc.mileage", "seoul_vc.credentials",
             "seoul_vc.did", "seoul_vc.ledger", "seoul_vc.status", "httpx")  # fmt: skip
    code = f"import sys, seoul_vc; print(sorted(m for m in {rooms!r} if m in sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert out.strip() == "[]"


_FIRST_USE_AT_ONCE = """
import sys, threading
import seoul_vc
names = sys.argv[1:]
barrier = threading.Barrier(len(names))
errors = []
def touch(name):
    barrier.wait()
    try:
        getattr(seoul_vc, name)
    except Exception as exc:
        errors.append(repr(exc))
threads = [threading.Thread(target=touch, args=(n,)) for n in names]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(errors)
"""


@pytest.mark.parametrize("run", range(3))
def test_lazy_names_imported_by_many_threads_at_once(run: int) -> None:
    """Eight threads touching eight lazy names first, at once: no import deadlock or error.

    Each run is a fresh interpreter, where nothing of the rooms is imported yet.
    """
    names = ["Poll", "MileageAccounts", "WalletService", "Issuer", "StatusRegistry",
             "Ledger", "resolve", "ProofBundle"]  # fmt: skip
    proc = subprocess.run(
        [sys.executable, "-c", _FIRST_USE_AT_ONCE, *names],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_public_subpackages_are_attributes() -> None:
    """``seoul_vc.jose`` and ``seoul_vc.ledger`` resolve without an import; typos do not."""
    import seoul_vc

    assert seoul_vc.jose.__name__ == "seoul_vc.jose"  # type: ignore[attr-defined]
    assert seoul_vc.ledger.__name__ == "seoul_vc.ledger"  # type: ignore[attr-defined]
    with pytest.raises(AttributeError):
        _ = seoul_vc.no_such_room  # type: ignore[attr-defined]
