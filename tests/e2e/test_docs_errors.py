"""docs/errors.md is generated from the Code enum and must be current."""

from __future__ import annotations

import runpy
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_errors_doc_is_current() -> None:
    """Regenerating docs/errors.md gives the committed file, one row per code."""
    generator = runpy.run_path(str(ROOT / "tools" / "gen_errors_doc.py"))
    expected = generator["render"]()
    assert (ROOT / "docs" / "errors.md").read_text(encoding="utf-8") == expected


def test_every_code_is_documented() -> None:
    """Each Code member has a one-line meaning in the generated table."""
    from seoul_vc.errors import Code

    generator = runpy.run_path(str(ROOT / "tools" / "gen_errors_doc.py"))
    descriptions = generator["code_descriptions"]()
    assert {c.value for c in Code} <= set(descriptions)
