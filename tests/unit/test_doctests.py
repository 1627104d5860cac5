"""Every docstring example in the library and the CLI runs and prints what it shows."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
from types import ModuleType

import pytest

import seoul_vc
import seoul_vc_cli


def _modules(package: ModuleType) -> list[str]:
    names = [package.__name__]
    for info in pkgutil.walk_packages(package.__path__, prefix=package.__name__ + "."):
        if not info.name.endswith(".__main__"):  # importing it runs the CLI
            names.append(info.name)
    return sorted(names)


MODULES = _modules(seoul_vc) + _modules(seoul_vc_cli)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    """The module's examples pass (a module without examples passes trivially)."""
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS, verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"


def test_examples_exist() -> None:
    """The rooms document themselves with examples: most modules carry at least one."""
    attempted = sum(
        doctest.testmod(importlib.import_module(n), verbose=False, report=False).attempted
        for n in MODULES
    )
    assert attempted >= 50
