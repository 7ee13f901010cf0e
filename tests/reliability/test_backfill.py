"""90 days through Airflow's own backfill: scheduler, dag-processor and api-server for real.

``make reliability`` runs this (minutes, so not in ``make test``). It starts the Airflow services
on a fresh SQLite metadata DB with the LocalExecutor, creates a backfill per ingestion DAG with
``airflow backfill create`` (two runs at a time), lets the marts DAG follow the sources' Assets,
and waits. Then: every run succeeded, staging holds each provider's ground truth for every day,
the marts cover the whole range, and no two tasks of the ``ringback_warehouse`` pool overlapped
(one writer on the DuckDB file). The wall time is printed for the release notes.

While it runs, BACKFILL_LOAD (default 1) local processes keep the CPU busy (each busy 60 ms in
every 100 ms), as a shared machine would: the marts must cover every date all the same.

BACKFILL_DAYS (default 90) and BACKFILL_SOURCES (default ringostat_main,binotel_main) change
the size.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import socket
import sqlite3
import subprocess
import sys
import time
import zoneinfo
from pathlib import Path

import pytest
import yaml

from airflow_harness import AIRFLOW, ROOT, Pipeline, migrate, staged_per_day, truth_per_day
from ringback import history
from ringback.settings import load_settings
from ringback_dev import measurements

from helpers import connect

pytestmark = [pytest.mark.reliability, pytest.mark.backfill, pytest.mark.slow]

DAYS = int(os.environ.get("BACKFILL_DAYS", "90"))
SOURCES = os.environ.get("BACKFILL_SOURCES", "ringostat_main,binotel_main").split(",")
LAST = dt.date(2026, 11, 1)
FIRST = LAST - dt.timedelta(days=DAYS - 1)
TIMEOUT_SECONDS = float(os.environ.get("BACKFILL_TIMEOUT", "5400"))
LOAD_PROCESSES = int(os.environ.get("BACKFILL_LOAD", "1"))
# A bounded load: busy 60 ms, idle 40 ms, until killed or orphaned (a killed pytest runs no
# finally: the burner notices its parent is gone and stops).
BURN = """
import os, time
parent = os.getppid()
while os.getppid() == parent:
    end = time.perf_counter() + 0.06
    while time.perf_counter() < end:
        pass
    time.sleep(0.04)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def local_midnight(day: dt.date) -> str:
    """The start of a local day as the logical date of that day's run (UTC offset included)."""
    tz = zoneinfo.ZoneInfo(load_settings().reporting_time_zone)
    return dt.datetime.combine(day, dt.time(), tzinfo=tz).isoformat()


def runs_by_state(db: Path) -> dict[tuple[str, str, str], int]:
    """(dag id, run type, state) -> runs."""
    with sqlite3.connect(db) as con:
        rows = con.execute(
            "SELECT dag_id, run_type, state, COUNT(*) FROM dag_run GROUP BY 1, 2, 3"
        ).fetchall()
    return {(d, t, s): n for d, t, s, n in rows}


def pool_overlaps(db: Path) -> tuple[int, int]:
    """(tasks that ran in the warehouse pool, pairs of them whose run times overlapped)."""
    with sqlite3.connect(db) as con:
        spans = con.execute(
            "SELECT start_date, end_date FROM task_instance "
            "WHERE pool = 'ringback_warehouse' AND state = 'success' ORDER BY start_date"
        ).fetchall()
    parsed = [(dt.datetime.fromisoformat(a), dt.datetime.fromisoformat(b)) for a, b in spans]
    overlaps = sum(1 for (_, end), (start, _) in itertools.pairwise(parsed) if start < end)
    return len(parsed), overlaps


def stop(services: list[subprocess.Popen]) -> None:
    for proc in services:
        proc.terminate()
    for proc in services:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_ninety_days_through_airflow_backfill(tmp_path, capsys):
    home = tmp_path / "airflow"
    home.mkdir()
    sources = yaml.safe_load((ROOT / "config/sources.yaml").read_text())
    sources["sources"] = [s for s in sources["sources"] if s["id"] in SOURCES]
    sources_file = tmp_path / "sources.yaml"
    sources_file.write_text(yaml.safe_dump(sources))
    p = Pipeline(home, tmp_path, sources_file=sources_file)
    port = free_port()
    p.extra_env.update(
        {
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": "4",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__API_AUTH__JWT_SECRET": "backfill-test-only",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        }
    )
    env = p.env()
    migrate(home)
    db = home / "airflow.db"

    def start(name: str, *args: str) -> subprocess.Popen:
        return subprocess.Popen(
            [AIRFLOW, name, *args],
            env=env,
            cwd=tmp_path,
            stdout=open(tmp_path / f"{name}.log", "w"),
            stderr=subprocess.STDOUT,
        )

    # SQLite takes one writer at a time: `backfill create` inserting 90 runs met "database is
    # locked" next to the scheduler, and once next to the dag-processor. So the dag-processor
    # runs alone until the DAGs are serialised, stops, the backfills are created with nothing
    # else running, and only then do the services start.
    dag_ids = [f"ringback_ingest_{s}" for s in SOURCES]
    services = [start("dag-processor")]
    began = time.monotonic()
    try:
        deadline = time.monotonic() + 300
        while True:
            listed = subprocess.run(
                [AIRFLOW, "dags", "list", "-o", "plain"], env=env, capture_output=True, text=True
            ).stdout
            if all(d in listed for d in [*dag_ids, "ringback_build_marts"]):
                break
            assert time.monotonic() < deadline, listed
            time.sleep(3)
        stop(services)
        services = []
        # Runs of a paused DAG stay queued, backfill runs too: unpause. The scheduler then also
        # makes the latest daily run of each (catchup is off); its days lie outside the range.
        for dag_id in [*dag_ids, "ringback_build_marts"]:
            subprocess.run([AIRFLOW, "dags", "unpause", dag_id], env=env, capture_output=True)
        began = time.monotonic()
        for dag_id in dag_ids:
            created = subprocess.run(
                [AIRFLOW, "backfill", "create", "--dag-id", dag_id, "--max-active-runs", "2",
                 "--from-date", local_midnight(FIRST), "--to-date", local_midnight(LAST)],
                env=env, capture_output=True, text=True,
            )  # fmt: skip
            assert created.returncode == 0, created.stderr[-3000:]
        services = [start("api-server", "--port", str(port)), start("dag-processor")]
        services.append(start("scheduler"))
        services += [subprocess.Popen([sys.executable, "-c", BURN]) for _ in range(LOAD_PROCESSES)]

        deadline = time.monotonic() + TIMEOUT_SECONDS
        while True:
            states = runs_by_state(db)
            done = all(states.get((d, "backfill", "success"), 0) == DAYS for d in dag_ids)
            failed = {k: n for k, n in states.items() if k[2] == "failed"}
            assert not failed, (failed, (tmp_path / "scheduler.log").read_text()[-3000:])
            unfinished = sum(n for (_, _, s), n in states.items() if s != "success")
            if done and not unfinished:
                break
            assert time.monotonic() < deadline, states
            time.sleep(5)
        took = time.monotonic() - began
    finally:
        stop(services)
        p.stop()

    states = runs_by_state(db)
    tasks, overlaps = pool_overlaps(db)
    marts_runs = sum(n for (d, _, _), n in states.items() if d == "ringback_build_marts")
    with capsys.disabled():
        print(
            f"\nbackfill: {DAYS} days x {len(SOURCES)} sources "
            f"({sum(states.get((d, 'backfill', 'success'), 0) for d in dag_ids)} backfill runs, "
            f"{marts_runs} asset-triggered marts runs) in {took:.0f} s "
            f"({took / DAYS:.1f} s per day); {tasks} warehouse-pool tasks, {overlaps} overlapping"
        )
    # For `make bench`, which judges the backfill's time per day without running it again.
    measurements.record(
        "backfill",
        days=DAYS,
        sources=len(SOURCES),
        seconds=round(took, 1),
        seconds_per_day=round(took / DAYS, 1),
        marts_runs=marts_runs,
        background_load_processes=LOAD_PROCESSES,
    )
    assert overlaps == 0
    for source_id in SOURCES:
        provider = next(s["provider"] for s in sources["sources"] if s["id"] == source_id)
        truth = truth_per_day(p, provider, FIRST, LAST)
        staged = staged_per_day(p, provider)
        staged = {d: n for d, n in staged.items() if d <= max(truth)}  # not the latest run's
        assert staged == truth, provider
    with connect(p.warehouse_url, read_only=True) as wh:
        dates = wh.query(
            "SELECT COUNT(DISTINCT report_date) AS n FROM marts.call_reconciliation "
            "WHERE report_date BETWEEN @a AND @b",
            {"a": FIRST, "b": LAST},
        ).to_pylist()[0]["n"]
        # Every business's every date with inbound calls, in the reconciliation and the hourly
        # handling mart; and nothing staged that the marts do not reflect.
        staged = wh.query(
            "SELECT DISTINCT business_id, call_date FROM staging.unified_calls "
            "WHERE call_date BETWEEN @a AND @b AND direction = 'inbound'",
            {"a": FIRST, "b": LAST},
        ).to_pylist()
        missing = {}
        for ref, column in (
            ("marts.call_reconciliation", "report_date"),
            ("marts.call_handling_hourly", "call_date"),
        ):
            built = {
                (r["business_id"], r[column])
                for r in wh.query(
                    f"SELECT DISTINCT business_id, {column} FROM {ref} "
                    f"WHERE {column} BETWEEN @a AND @b",
                    {"a": FIRST, "b": LAST},
                ).to_pylist()
            }
            missing[ref] = sorted(
                (r["business_id"], r["call_date"])
                for r in staged
                if (r["business_id"], r["call_date"]) not in built
            )
        gaps = history.gaps(wh, dt.datetime.now(dt.UTC))
    assert dates == DAYS
    assert missing == {"marts.call_reconciliation": [], "marts.call_handling_hourly": []}
    assert gaps == []
