"""A non-editable wheel ships the library, the CLI, py.typed and the JSON Schemas."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_wheel_ships_schemas_cli_and_type_marker(tmp_path: Path) -> None:
    """Building the wheel puts schemas/ under seoul_vc/schemas next to both packages."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--quiet",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = tmp_path.glob("seoul_vc-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    schemas = {p.name for p in (ROOT / "schemas").glob("*.schema.json")}
    assert schemas, "the repository has schemas to ship"
    assert {f"seoul_vc/schemas/{name}" for name in schemas} <= names
    assert {"seoul_vc/py.typed", "seoul_vc_cli/app.py", "seoul_vc/jose.py"} <= names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "seoul-vc = seoul_vc_cli.app:run" in zipfile.ZipFile(wheel).read(entry_points).decode()
