"""Generate docs/errors.md from the Code enum (members and their docstrings) and FAMILY_OF.

Usage: ``python tools/gen_errors_doc.py > docs/errors.md``. CI checks the file is current.
"""

from __future__ import annotations

import ast
import itertools
from pathlib import Path

from seoul_vc.errors import FAMILY_OF, Code

ROOT = Path(__file__).resolve().parents[1]


def code_descriptions() -> dict[str, str]:
    """Return each Code member's docstring, read from the source of errors.py."""
    tree = ast.parse((ROOT / "src" / "seoul_vc" / "errors.py").read_text(encoding="utf-8"))
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Code")
    out: dict[str, str] = {}
    body = cls.body
    for node, after in itertools.pairwise(body):
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Constant)
            and isinstance(after, ast.Expr)
            and isinstance(after.value, ast.Constant)
        ):
            out[str(node.value.value)] = " ".join(str(after.value.value).split())
    return out


def render() -> str:
    """Return the markdown table of every error code."""
    descriptions = code_descriptions()
    lines = [
        "# Error codes",
        "",
        "Generated from `seoul_vc.errors.Code` by `tools/gen_errors_doc.py`; do not edit.",
        "The `code` is stable API: scripts match on it (`--json` output's `error.code`).",
        "",
        "| code | family | exit | HTTP | meaning |",
        "|---|---|---|---|---|",
    ]
    for code in Code:
        family = FAMILY_OF[code]
        lines.append(
            f"| `{code.value}` | {family.__name__} | {family.exit_code} | "
            f"{family.http_status} | {descriptions.get(code.value, '')} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render(), end="")
