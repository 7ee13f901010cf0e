"""The benchmark runs end to end at a tiny scale (figures are judged by `make bench`, not here)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.reliability, pytest.mark.slow]  # a long tier: make reliability


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
        "bare DuckDB sort",
        "full rebuild: `models run --full-refresh`",
        "full rebuild / bare sort",
        "one-day `models run` on 365 days of history",
        "its SQL",
        "365-day / 30-day",
        "one source-day `ringback extract`",
        "per-call baseline (SQLite",
        "ours/baseline",
    ):
        assert step in out.stdout, step
    # every target is printed with a verdict
    for target in ("<= 20 s, <= 4,096 MB, no spill", "<= 4x", "<= 3 s", "<= 0.5 s", "<= 1.2"):
        assert target in out.stdout, target
    assert "met" in out.stdout or "missed" in out.stdout
    # the callback marts' share of the one-day run, each measured (a model that did not run
    # would print 0.00 s)
    for mart in ("missed_call_followups", "call_handling_hourly"):
        assert re.search(rf"{mart} [0-9.]+ s", out.stdout), mart
    text = results.read_text()
    assert "| step | figure | target | verdict | note |" in text and "cores" in text
    assert "| full rebuild: `models run --full-refresh`, 365 days |" in text
