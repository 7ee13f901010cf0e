"""``make bench``: figures, not timed tests. Every step runs in a fresh process, so its wall time
and peak memory (ru_maxrss) are its own.

Steps: generate N calls over 365 days straight into staging; full model rebuild; incremental day
on top of 365 days and on top of 30 days of history at the same daily volume; extraction + load
throughput from the simulators; a per-call baseline (each record looked up and updated in a
key-value store, one transaction per call, as a webhook script would) on the same calls.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

LAST_DAY = dt.date(2026, 10, 31)


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _runtime(db: str):
    from ringback.runtime import Runtime

    return Runtime.load(
        {"validate_marts": False, "build_data_docs": False, "warehouse_url": f"duckdb://{db}"}
    )


# -- steps (run in a child process) ------------------------------------------------------------
def step_prepare(db: str, calls: int, days: int) -> dict[str, Any]:
    from ringback import catalog
    from ringback_dev import bench_data

    first = LAST_DAY - dt.timedelta(days=days - 1)
    began = time.perf_counter()
    # Daily loads arrive in date order, so the file is clustered by call_date and DuckDB's
    # row-group min/max lets incremental queries skip old days; load the year the same way.
    rows = bench_data.generate(calls, first, days).sort_by(
        [("call_date", "ascending"), ("started_at", "ascending")]
    )
    with _runtime(db).connect() as wh:
        wh.init()
        wh.write(catalog.table("staging.calls"), rows)
    return {"rows": rows.num_rows, "seconds": time.perf_counter() - began}


def step_models(db: str, start: str, end: str) -> dict[str, Any]:
    from ringback import models

    runtime = _runtime(db)
    with runtime.connect() as wh:
        began = time.perf_counter()
        results = models.run_models(
            wh, runtime, dt.date.fromisoformat(start), dt.date.fromisoformat(end)
        )
        took = time.perf_counter() - began
    return {"seconds": took, "rows": sum(r.rows for r in results)}


def step_extract(db: str) -> dict[str, Any]:
    from ringback import ingest, quality
    from ringback_dev.simulators import connection_uri, start_all
    from ringback_dev.simulators.journeys import JourneyGenerator

    quality._context()  # GX's one-off import (~8 s) is paid before the clock, once per process
    config = Path(db).with_suffix(".sources.yaml")
    config.write_text(
        "sources:\n"
        "  - {id: ringostat_main, provider: ringostat, account_id: demo-project,"
        " time_zone: Europe/Kyiv}\n"
        "  - {id: binotel_main, provider: binotel, account_id: demo-company,"
        " time_zone: Europe/Kyiv, request_interval_seconds: 0}\n"
    )
    os.environ["RINGBACK_CONFIG"] = str(config)
    sims = start_all(generator=JourneyGenerator(seed=3, customers_per_day=1500))
    for name, sim in sims.items():
        sim._now = dt.datetime(2026, 11, 23, 6, tzinfo=dt.UTC)
        os.environ[f"AIRFLOW_CONN_{name.upper()}_MAIN"] = connection_uri(name, sim.base_url)
    runtime = _runtime(db)
    # The simulators build their days lazily in this process: build them before the clock runs.
    for sim in sims.values():
        sim.generator.calls_between(dt.datetime(2026, 11, 10, tzinfo=dt.UTC), sim.now)
    received = 0
    began = time.perf_counter()
    try:
        for source in ("ringostat_main", "binotel_main"):
            received += ingest.run_extract(runtime, source, dt.date(2026, 11, 20)).received_records
    finally:
        for sim in sims.values():
            sim.stop()
    return {"seconds": time.perf_counter() - began, "rows": received}


def step_baseline(db: str, limit: int, store: str) -> dict[str, Any]:
    """The same rules, one call at a time, against a key-value store (a webhook script)."""
    with _runtime(db).connect(read_only=True) as wh:
        calls = wh.query(
            "SELECT call_key, system, direction, customer_number, started_at, status, "
            "talk_seconds, traffic_source FROM staging.calls ORDER BY started_at LIMIT @n",
            {"n": limit},
        ).to_pylist()
    if store == "sqlite":
        kv_path = Path(db).with_suffix(".kv.sqlite")
        kv_path.unlink(missing_ok=True)
        con = sqlite3.connect(kv_path)
        con.execute("CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT)")

        def get(k: str) -> Any:
            row = con.execute("SELECT v FROM kv WHERE k = ?", (k,)).fetchone()
            return json.loads(row[0]) if row else None

        def put(k: str, v: Any) -> None:
            con.execute("INSERT OR REPLACE INTO kv VALUES (?, ?)", (k, json.dumps(v)))

        def commit() -> None:
            con.commit()
    else:
        memory: dict[str, str] = {}

        def get(k: str) -> Any:
            return json.loads(memory[k]) if k in memory else None

        def put(k: str, v: Any) -> None:
            memory[k] = json.dumps(v)

        def commit() -> None:
            return None

    leads = 0
    began = time.perf_counter()
    for c in calls:
        number = c["customer_number"]
        at = c["started_at"].timestamp()
        if number:
            # Matching: the other system's record of the same call arrived within 120 s?
            recent = get(f"recent:{number}") or []
            twin = next(
                (
                    r
                    for r in recent
                    if r["system"] != c["system"]
                    and r["direction"] == c["direction"]
                    and abs(r["at"] - at) <= 120
                ),
                None,
            )
            if twin:
                recent.remove(twin)
                put(f"recent:{number}", recent)
                commit()
                continue  # the same call: already handled by its first record
            recent = [r for r in recent if at - r["at"] <= 120] + [
                {"system": c["system"], "direction": c["direction"], "at": at}
            ]
            put(f"recent:{number}", recent)
            conversation = c["status"] == "answered" and c["talk_seconds"] > 30
            missed = c["status"] != "answered" or c["talk_seconds"] == 0
            pending = get(f"missed:{number}")
            if pending and conversation and at - pending["at"] <= 86400:
                leads += 1
                put(f"missed:{number}", None)
            elif c["direction"] == "inbound" and get(f"first:{number}") is None:
                put(f"first:{number}", at)
                if conversation:
                    leads += 1
                elif missed:
                    put(f"missed:{number}", {"at": at, "source": c["traffic_source"]})
        commit()
    took = time.perf_counter() - began
    return {"seconds": took, "rows": len(calls), "leads": leads}


STEPS = {
    "prepare": step_prepare,
    "models": step_models,
    "extract": step_extract,
    "baseline": step_baseline,
}


def _child(step: str, *args: Any, env: dict[str, str] | None = None) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "ringback_dev.bench", "--step", step, *map(str, args)]
    out = subprocess.run(  # noqa: S603 - our own module
        cmd, capture_output=True, text=True, check=False, env={**os.environ, **(env or {})}
    )
    if out.returncode != 0:
        raise RuntimeError(f"bench step {step} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# -- the benchmark -----------------------------------------------------------------------------
def run(
    calls: int, baseline_calls: int, results_file: Path, memory_limit: str | None = None
) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    with tempfile.TemporaryDirectory(prefix="ringback-bench-") as tmp:
        year, month = f"{tmp}/year.duckdb", f"{tmp}/month.duckdb"
        first = LAST_DAY - dt.timedelta(days=364)
        gen = _child("prepare", year, calls, 365)
        rows.append(
            (
                f"generate {calls:,} calls over 365 days into staging",
                f"{gen['rows']:,} rows in {gen['seconds']:.1f} s",
                "",
            )
        )
        # A year loaded straight into staging (a backfill) that no models run has covered: the
        # first one-day run folds it into the first-seen state before building its day.
        cold = _child("models", year, LAST_DAY, LAST_DAY)
        rows.append(
            (
                "first one-day run on a year no run covered (folds the year first)",
                f"{cold['seconds']:.1f} s, peak {cold['peak_mb']:,.0f} MB",
                "unified calls, first-seen, tracked numbers for 365 days",
            )
        )
        full = _child("models", year, first, LAST_DAY)
        rows.append(
            (
                "full rebuild (all models, 365 days)",
                f"{full['seconds']:.1f} s, peak {full['peak_mb']:,.0f} MB",
                f"{gen['rows'] / full['seconds']:,.0f} staging rows/s",
            )
        )
        if memory_limit:
            capped = _child(
                "models", year, first, LAST_DAY, env={"RINGBACK_DUCKDB_MEMORY_LIMIT": memory_limit}
            )
            rows.append(
                (
                    f"full rebuild with DuckDB memory_limit {memory_limit}",
                    f"{capped['seconds']:.1f} s, peak {capped['peak_mb']:,.0f} MB",
                    "spills to disk beyond the limit",
                )
            )
        incr_year = _child("models", year, LAST_DAY, LAST_DAY)
        rows.append(
            (
                "incremental day on 365 days of history",
                f"{incr_year['seconds']:.2f} s, peak {incr_year['peak_mb']:,.0f} MB",
                "rebuilds 4 days + look-ahead",
            )
        )
        _child("prepare", month, calls * 30 // 365, 30)
        _child("models", month, LAST_DAY - dt.timedelta(days=29), LAST_DAY)
        incr_month = _child("models", month, LAST_DAY, LAST_DAY)
        rows.append(
            (
                "incremental day on 30 days of history",
                f"{incr_month['seconds']:.2f} s, peak {incr_month['peak_mb']:,.0f} MB",
                f"365-day / 30-day = {incr_year['seconds'] / incr_month['seconds']:.2f}",
            )
        )
        ext = _child("extract", f"{tmp}/extract.duckdb")
        rows.append(
            (
                "extract + validate + load from the simulators (2 sources, 4-day window)",
                f"{ext['rows']:,} records in {ext['seconds']:.1f} s",
                f"{ext['rows'] / ext['seconds']:,.0f} records/s",
            )
        )
        ours = gen["rows"] / full["seconds"]
        for store, label in (
            ("sqlite", "SQLite file, a transaction per call"),
            ("memory", "in-process dict, no I/O"),
        ):
            base = _child("baseline", year, baseline_calls, store)
            speed = base["rows"] / base["seconds"]
            rows.append(
                (
                    f"per-call baseline ({label})",
                    f"{base['rows']:,} records in {base['seconds']:.1f} s",
                    f"{speed:,.0f} records/s; ours/baseline = {ours / speed:,.1f}x",
                )
            )
    _report(rows, calls, results_file)
    return rows


def _report(rows: list[tuple[str, str, str]], calls: int, results_file: Path) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = [" | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    print("\n".join(lines))
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    results_file.parent.mkdir(parents=True, exist_ok=True)
    with results_file.open("a") as fh:
        fh.write(
            f"\n## {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {calls:,} calls "
            f"({machine})\n\n| step | figure | note |\n|---|---|---|\n"
        )
        fh.writelines(f"| {a} | {b} | {c} |\n" for a, b, c in rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ringback_dev.bench", description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--baseline-calls", type=int, default=50_000)
    parser.add_argument("--results", default="bench/results.md")
    parser.add_argument(
        "--memory-limit", help="also time a full rebuild under this DuckDB memory_limit, e.g. 6GB"
    )
    parser.add_argument("--step", help=argparse.SUPPRESS)
    parser.add_argument("args", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.step:
        fn = STEPS[args.step]
        typed = [int(a) if a.isdigit() else a for a in args.args]
        result = fn(*typed)
        result["peak_mb"] = _peak_mb()
        print(json.dumps(result))
        return 0
    run(args.calls, args.baseline_calls, Path(args.results), args.memory_limit)
    return 0


if __name__ == "__main__":
    sys.exit(main())
