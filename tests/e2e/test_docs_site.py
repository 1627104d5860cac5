"""The documentation site builds in strict mode, and its CLI reference is current."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REGENERATE = "python -m typer seoul_vc_cli.app utils docs --name seoul-vc --output docs/cli.md"


def test_cli_reference_is_current() -> None:
    """docs/cli.md is what typer generates from the app now (regenerate: see REGENERATE)."""
    generated = subprocess.run(
        [sys.executable, "-m", "typer", "seoul_vc_cli.app", "utils", "docs", "--name", "seoul-vc"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        timeout=120,
    ).stdout
    committed = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert committed.strip() == generated.strip(), f"stale docs/cli.md; run: {REGENERATE}"


def test_docs_build_strict(tmp_path: Path) -> None:
    """The site builds with mkdocs --strict: no broken link, nav entry or API reference."""
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    assert (tmp_path / "index.html").is_file()
    assert (tmp_path / "api" / "index.html").read_text(encoding="utf-8").count("Verifier") > 3
