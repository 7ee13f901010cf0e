"""The benchmark runs end to end at a tiny scale (figures are judged by `make bench`, not here)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.reliability  # a long tier: make reliability
@pytest.mark.slow
def test_bench_prints_every_figure_and_appends_results(tmp_path):
    results = tmp_path / "results.md"
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "ringback_dev.bench",
            "--calls",
            "3000",
            "--baseline-calls",
            "300",
            "--results",
            str(results),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    for step in (
        "full-row DuckDB sort",
        "keys only:",
        "full rebuild: `models run --full-refresh`",
        "full rebuild / full-row sort",
        "one-day `models run` on 365 days of history",
        "its SQL",
        "365-day / 30-day",
        "one source-day `ringback extract`",
        "per-call baseline (SQLite",
        "ours/baseline",
        "90-day Airflow backfill",
        "`make demo` (set-up included)",
    ):
        assert step in out.stdout, step
    # every target is printed with a verdict
    for target in (
        "<= 4,096 MB, no spill",
        "<= 3x",
        "<= 3 s",
        "<= 1 s",
        "<= 1.2",
        "<= 8 s",
        ">= 10x",
        "<= 10 s/day",
        "<= 120 s",
    ):
        assert target in out.stdout, target
    assert "met" in out.stdout or "missed" in out.stdout
    # the rebuild's peak is put on the model that reached it
    assert re.search(r"the peak reached in [\w. ]+ \([0-9,]+ -> [0-9,]+ MB\)", out.stdout)
    # the callback marts' share of the one-day run, each measured (a model that did not run
    # would print 0.00 s)
    for mart in ("missed_call_followups", "call_handling_hourly"):
        assert re.search(rf"{mart} [0-9.]+ s", out.stdout), mart
    # the long commands' figures are what their last run recorded, or a pointer to run them
    assert re.search(r"s/day \(|run `make reliability`", out.stdout)
    text = results.read_text()
    assert "| step | figure | target | verdict | note |" in text and "cores" in text
    assert "| full rebuild: `models run --full-refresh`, 365 days |" in text


def test_recorded_figures_are_judged_with_when_and_where_they_were_measured(tmp_path, monkeypatch):
    from ringback_dev import bench, measurements

    monkeypatch.setenv("RINGBACK_HOME", str(tmp_path))
    missing = {f.step: f for f in bench.recorded_figures()}
    assert all(f.figure == "not measured in this checkout" for f in missing.values())
    measurements.record(
        "backfill", days=90, sources=9, seconds=1800.0, seconds_per_day=20.0, marts_runs=52,
        background_load_processes=1,
    )  # fmt: skip
    measurements.record("demo", seconds=100.0, airflow_seconds=80.0)
    (backfill, demo) = bench.recorded_figures()
    assert backfill.figure.startswith("20.0 s/day")
    assert backfill.verdict == "missed: 2.0x the target"
    assert demo.verdict == "met" and "recorded " in demo.note


def test_the_peak_is_put_on_the_model_that_raised_the_high_water_mark():
    from ringback_dev.bench import _model_seconds, _peak_model

    stdout = (
        "built 3 models for 2026-01-01..2026-12-31:\n"
        "  staging.unified_calls              1000 rows    9.50 s    2,100 MB high-water\n"
        "  marts.crm_leads                      10 rows    4.25 s    8,300 MB high-water\n"
        "  marts.crm_reconciliation              5 rows    1.00 s    8,366 MB high-water\n"
    )
    assert _peak_model(stdout) == "the peak reached in marts.crm_leads (2,100 -> 8,300 MB)"
    logged = "INFO ringback.models: prepared the run (memory high-water 2090 MB)\n"
    assert _peak_model(stdout, logged) == (
        "the peak reached in marts.crm_leads (2,100 -> 8,300 MB)"
    )
    early = "INFO ringback.models: prepared the run (memory high-water 8250 MB)\n"
    assert _peak_model(stdout, early) == "the peak reached in the preparation (0 -> 8,250 MB)"
    assert _model_seconds(stdout, "marts.crm_leads") == 4.25
    assert _peak_model("no models") == ""
