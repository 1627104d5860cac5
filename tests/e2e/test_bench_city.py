"""``benchmarks/bench_city.py`` at a tiny scale: every stage runs and its invariants hold.

One run of the script (``--scale 0.002``: 2,000 status entries, 3 wallets, 200 voters,
200 mileage accounts; about ten seconds) in a subprocess writes the JSON report the
tests read; ``run_all.py`` renders it as the report's city-scale section.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
STAGES = ("status", "consent", "poll", "mileage")


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], str]:
    folder = tmp_path_factory.mktemp("city")
    out = folder / "city.json"
    proc = subprocess.run(
        [
            sys.executable,
            str(BENCHMARKS / "bench_city.py"),
            "--scale",
            "0.002",
            "--json",
            str(out),
            "--tmp",
            str(folder),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(out.read_text(encoding="utf-8")), proc.stdout


def invariant(report: dict[str, Any], stage: str, name: str) -> dict[str, Any]:
    checked: dict[str, Any] = report["stages"][stage]["invariants"][name]
    return checked


def test_every_stage_reports_positive_counts_times_and_memory(
    city: tuple[dict[str, Any], str],
) -> None:
    """Each stage, and each of its steps, has a positive count, time and peak RSS."""
    report, _ = city
    assert tuple(report["stages"]) == STAGES
    for entry in report["stages"].values():
        assert entry["count"] > 0
        assert entry["seconds"] > 0
        assert entry["rate"] > 0
        assert entry["peak_rss_mb"] >= entry["baseline_rss_mb"] > 0
        assert entry["steps"]
        for step in entry["steps"]:
            assert step["count"] > 0, step
            assert step["seconds"] > 0, step


def test_every_invariant_held(city: tuple[dict[str, Any], str]) -> None:
    """No stage reports a broken invariant, and the report says so."""
    report, _ = city
    assert report["ok"] is True
    for entry in report["stages"].values():
        assert entry["invariants"]
        assert all(check["ok"] for check in entry["invariants"].values()), entry["invariants"]


def test_status_revokes_exactly_ten_percent(city: tuple[dict[str, Any], str]) -> None:
    """The published lists carry exactly 10% of the allocated entries as revoked."""
    report, _ = city
    total = report["sizes"]["credentials"]
    counted = invariant(report, "status", "revoked_in_published_lists")
    assert counted["actual"] == total // 10 == counted["expected"]
    assert report["stages"]["status"]["figures"]["revoked_fraction"] == pytest.approx(0.1)
    assert invariant(report, "status", "warm_check_mismatches")["actual"] == 0


def test_consent_counts_served_and_refused_views(city: tuple[dict[str, Any], str]) -> None:
    """Every view attempt is served or refused, and both refusal kinds are counted."""
    report, _ = city
    stage = report["stages"]["consent"]
    served, refused = stage["figures"]["views_served"], stage["figures"]["views_refused"]
    assert served == invariant(report, "consent", "views_served")["expected"] > 0
    assert refused > 0
    assert served + refused == stage["count"]
    assert invariant(report, "consent", "refused_consent_exhausted")["actual"] > 0
    assert invariant(report, "consent", "refused_revoked")["actual"] > 0


def test_poll_tally_equals_ballots_and_recount(city: tuple[dict[str, Any], str]) -> None:
    """The live tally counts every voter's ballot once, and the recount agrees."""
    report, _ = city
    voters = report["sizes"]["voters"]
    assert invariant(report, "poll", "tally_equals_ballots")["actual"] == voters
    assert invariant(report, "poll", "recount_equals_tally")["ok"] is True
    assert invariant(report, "poll", "refused_double_vote")["actual"] > 0


def test_mileage_conserves_s_coin(city: tuple[dict[str, Any], str]) -> None:
    """Coins minted equal coins held plus coins spent, after ten operations an account."""
    report, _ = city
    stage = report["stages"]["mileage"]
    figures = stage["figures"]
    assert stage["count"] == 10 * report["sizes"]["accounts"]
    assert figures["s_coin_minted"] > 0
    assert figures["s_coin_minted"] == figures["s_coin_in_accounts"] + figures["s_coin_spent"]
    assert invariant(report, "mileage", "s_coin_conserved")["ok"] is True


def test_markdown_table_has_a_row_per_stage(city: tuple[dict[str, Any], str]) -> None:
    """The printed table names the machine and has a headline row for every stage."""
    report, stdout = city
    assert f"SQLite {report['machine']['sqlite']}" in stdout
    assert "| stage | step | count | seconds | rate /s | peak Python MB | peak RSS MB |" in stdout
    for stage in STAGES:
        assert f"| **{stage}** | **whole stage" in stdout


def test_run_all_report_has_a_city_section(city: tuple[dict[str, Any], str]) -> None:
    """run_all.py renders the city run as its own section of the report."""
    report, _ = city
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import run_all
    finally:
        sys.path.remove(str(BENCHMARKS))
    text = run_all.markdown(
        {
            "date": report["date"],
            "machine": report["machine"],
            "quick": True,
            "benchmarks": {},
            "city": {"seconds": 1.0, "exit": 0, "report": report},
        }
    )
    assert "## City-scale scenario" in text
    for stage in STAGES:
        assert f"| **{stage}** |" in text
