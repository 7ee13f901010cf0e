"""The benchmark runs end to end at a tiny scale (figures are judged by `make bench`, not here)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
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
        "full rebuild",
        "incremental day on 365 days",
        "incremental day on 30 days",
        "extract + validate + load",
        "per-call baseline (SQLite",
        "ours/baseline",
    ):
        assert step in out.stdout, step
    text = results.read_text()
    assert "| full rebuild (all models, 365 days) |" in text and "cores" in text
