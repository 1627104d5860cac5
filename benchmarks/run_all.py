"""Run every benchmark and write one report (markdown and JSON) naming the machine.

Usage: ``python benchmarks/run_all.py [--quick] [--out benchmarks/report] [--city-scale 1.0]
[--city-workers 1]``, or ``python benchmarks/run_all.py --rerun bench_x [...] --why "..."``

Each ``benchmarks/bench_*.py`` runs in its own process with ``--json`` (so one benchmark's
caches and allocations cannot flatter the next), one after another (never two at once: they
compare against raw floors measured in the same run, and a second process would skew both).
``--quick`` passes each script's small-size arguments, for a smoke run; a report meant to be
read is a full run. The report records the machine (CPU model, cores, memory, OS, Python,
SQLite), the date, each benchmark's figures and the ratios to the floors it measured.

``--rerun`` runs only the named scripts again and puts their figures into the existing
report in place of the old ones; the report then lists each rerun (when, which scripts,
why), so a reader knows which figures come from which run.

The city-scale scenario (``bench_city.py``) gets its own section, its table of stages with
time and peak memory; ``--city-scale`` passes its ``--scale`` through (1.0 by default, 0.01
with ``--quick``), ``--city-workers`` its ``--workers``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
#: The city-scale scenario: run after the others, reported in a section of its own.
CITY = "bench_city.py"
#: Arguments for a quick smoke run, per script (scripts not named run with their defaults).
QUICK: dict[str, list[str]] = {
    "bench_credentials.py": ["--seconds", "0.6"],
    "bench_http.py": ["--requests", "60", "--clients", "2"],
    "bench_jose.py": ["--seconds", "0.3"],
    "bench_ledger.py": ["--appends", "300", "--proof-size", "20000", "--audit-size", "2000"],
}


def machine() -> dict[str, Any]:
    """Describe the machine: CPU model, logical cores, memory, OS and Python."""
    cpu = platform.processor() or platform.machine()
    memory = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) // 1024 // 1024} GiB"
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory": memory,
        "os": platform.platform(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
    }


def run(script: Path, quick: bool, extra: list[str] | None = None) -> dict[str, Any]:
    """Run one benchmark script with --json; return its figures and wall time."""
    args = [sys.executable, str(script), "--json", *(QUICK.get(script.name, []) if quick else [])]
    args += extra or []
    started = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, check=False)  # noqa: S603 - our own scripts
    elapsed = time.perf_counter() - started
    entry: dict[str, Any] = {"seconds": round(elapsed, 1), "exit": done.returncode}
    try:
        entry["report"] = json.loads(done.stdout)
    except json.JSONDecodeError:
        entry["output"] = done.stdout[-4000:]
    if done.returncode != 0:
        entry["stderr"] = done.stderr[-4000:]
    return entry


def _flat(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, child in value.items():
            out.update(_flat(child, f"{prefix}{key}." if isinstance(child, dict) else prefix + key))
        return out
    return {prefix: value} if isinstance(value, int | float | str) else {}


def _figures(report: Any) -> dict[str, Any]:
    if isinstance(report, dict):
        for key in ("results", "figures"):
            if isinstance(report.get(key), dict):
                return _flat(report[key])
        return _flat({k: v for k, v in report.items() if k not in ("machine", "python")})
    return {}


def markdown(report: dict[str, Any]) -> str:
    """Render the report as markdown: the machine, then one table per benchmark."""
    m = report["machine"]
    lines = [
        "# Benchmark report",
        "",
        f"Measured {report['date']} on {m['cpu']} ({m['cores']} logical cores, "
        f"{m['memory']}), {m['os']}, Python {m['python']}, SQLite {m.get('sqlite', '?')}"
        + (" — quick smoke run, not for quoting." if report["quick"] else "."),
        "",
        "Each benchmark prints its figures beside the raw floor measured in the same run "
        "(see each script's docstring for what the floor is). Regenerate with "
        "`python benchmarks/run_all.py`.",
    ]
    for rerun in report.get("reruns", []):
        lines += [
            "",
            f"Rerun {rerun['date']} on the same machine: {', '.join(rerun['scripts'])} "
            f"({rerun['why']}); their figures below are from that run, the others are not.",
        ]
    for name, entry in report["benchmarks"].items():
        lines += ["", f"## {name}", "", f"Wall time {entry['seconds']} s, exit {entry['exit']}."]
        figures = _figures(entry.get("report"))
        if figures:
            lines += ["", "| figure | value |", "|---|---:|"]
            for key, value in figures.items():
                shown = f"{value:,.2f}" if isinstance(value, float) else f"{value}"
                lines.append(f"| {key} | {shown} |")
        elif "output" in entry:
            lines += ["", "```", entry["output"].strip(), "```"]
        if entry["exit"] != 0:
            lines += ["", "```", entry.get("stderr", "").strip(), "```"]
    if "city" in report:
        lines += ["", *city_section(report["city"])]
    return "\n".join(lines) + "\n"


def city_section(entry: dict[str, Any]) -> list[str]:
    """The city-scale scenario: its stages with time and peak memory (``bench_city.py``)."""
    # Imported only when there is a city run; it imports its neighbours from this folder.
    if str(HERE) not in sys.path:
        sys.path.insert(0, str(HERE))
    from bench_city import markdown_table

    city = entry.get("report")
    lines = ["## City-scale scenario", ""]
    if isinstance(city, dict) and "stages" in city:
        lines += [
            f"Scale {city['scale']} ({', '.join(f'{k} {v:,}' for k, v in city['sizes'].items())}),"
            f" {city['workers']} worker process(es) a stage, each stage in a fresh process;"
            f" wall time {entry['seconds']} s, exit {entry['exit']}. Regenerate with "
            f"`python benchmarks/bench_city.py --scale {city['scale']}`.",
            "",
            markdown_table(city).rstrip(),
        ]
    else:
        lines += [f"Wall time {entry['seconds']} s, exit {entry['exit']}."]
        if "output" in entry:
            lines += ["", "```", entry["output"].strip(), "```"]
    if entry["exit"] != 0:
        lines += ["", "```", entry.get("stderr", "").strip(), "```"]
    return lines


def rerun(out: Path, names: list[str], why: str) -> None:
    """Run ``names`` again and replace their entries in the report at ``out``."""
    report = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
    stems = [Path(name).stem for name in names]
    for stem in stems:
        script = HERE / f"{stem}.py"
        if not script.is_file() or script.name == CITY:
            sys.exit(f"{stem}: not a benchmark script this option reruns")
        print(f"running {script.name} ...", file=sys.stderr, flush=True)
        report["benchmarks"][stem] = run(script, report["quick"])
    report.setdefault("reruns", []).append(
        {"date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "scripts": stems, "why": why}
    )
    out.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    out.with_suffix(".md").write_text(markdown(report), encoding="utf-8")
    failed = [stem for stem in stems if report["benchmarks"][stem]["exit"] != 0]
    print(f"wrote {out}.md and {out}.json; failed: {failed or 'none'}", file=sys.stderr)
    sys.exit(1 if failed else 0)


def main() -> None:
    """Run everything and write ``<out>.md`` and ``<out>.json``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    parser.add_argument("--out", default=str(HERE / "report"), help="path without extension")
    parser.add_argument("--only", nargs="*", help="script names to run (default: all)")
    parser.add_argument(
        "--city-scale", type=float, help="bench_city.py --scale (default 1.0; 0.01 with --quick)"
    )
    parser.add_argument("--city-workers", type=int, default=1, help="bench_city.py --workers")
    parser.add_argument("--rerun", nargs="+", help="rerun these scripts into the existing report")
    parser.add_argument("--why", default="changed since the report", help="why (with --rerun)")
    args = parser.parse_args()
    if args.rerun:
        rerun(Path(args.out), args.rerun, args.why)
        return
    scripts = sorted(HERE.glob("bench_*.py"))
    if args.only:
        scripts = [s for s in scripts if s.name in args.only or s.stem in args.only]
    city = [s for s in scripts if s.name == CITY]
    scripts = [s for s in scripts if s.name != CITY]
    report: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "quick": args.quick,
        "benchmarks": {},
    }
    for script in scripts:
        print(f"running {script.name} ...", file=sys.stderr, flush=True)
        report["benchmarks"][script.stem] = run(script, args.quick)
    if city:
        scale = args.city_scale if args.city_scale is not None else 0.01 if args.quick else 1.0
        print(f"running {CITY} --scale {scale} ...", file=sys.stderr, flush=True)
        extra = ["--scale", str(scale), "--workers", str(args.city_workers)]
        report["city"] = run(city[0], False, extra)
    out = Path(args.out)
    out.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    out.with_suffix(".md").write_text(markdown(report), encoding="utf-8")
    failed = [name for name, entry in report["benchmarks"].items() if entry["exit"] != 0]
    if report.get("city", {}).get("exit", 0) != 0:
        failed.append(CITY)
    print(f"wrote {out}.md and {out}.json; failed: {failed or 'none'}", file=sys.stderr)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
