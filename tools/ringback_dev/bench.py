"""``make bench``: figures, not timed tests, each printed beside its target.

Every figure comes from a fresh process: the ``ringback`` commands as a user runs them (process
start to exit, validation on) timed from outside with their peak RSS (``wait4``), and the
in-process steps (data generation, a bare DuckDB sort, the per-call baselines) in child
processes of their own. Figures of one run share the machine's state, so their ratios are fair.

Steps: generate N calls over 365 days straight into staging; a DuckDB sort of staging by
(business_id, customer_number, started_at), every column (the rebuild's yardstick) and the keys
only; the first one-day run on that year (it folds the year into the first-seen state); the full
rebuild; a one-day run on 365 and on 30 days of history (three runs each, the median); one
source-day ``ringback extract`` from a simulator that answers at once; the per-call baselines (a
key-value store with a transaction per call, and an in-process dict). The 90-day Airflow backfill
and ``make demo`` are judged from what their last run recorded (``ringback_dev.measurements``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ringback_dev import measurements

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
    crm = bench_data.crm_leads(rows)
    loads = catalog.table("raw.loads")
    window = (
        dt.datetime.combine(first, dt.time(), tzinfo=dt.UTC),
        dt.datetime.combine(LAST_DAY + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC),
    )
    with _runtime(db).connect() as wh:
        wh.init()
        wh.write(catalog.table("staging.calls"), rows)
        # The business's CRM: its leads, and one good load covering the history.
        wh.write(catalog.table("staging.crm_leads"), crm)
        wh.write(
            loads,
            loads.to_arrow(
                [
                    {
                        "load_id": "hubspot_bench:bench",
                        "source_id": "hubspot_bench",
                        "provider": "hubspot",
                        "load_date": LAST_DAY,
                        "window_start_at": window[0],
                        "window_end_at": window[1],
                        "requests": 0,
                        "received_records": crm.num_rows,
                        "staged_records": crm.num_rows,
                        "quarantined_records": 0,
                        "validation_success": True,
                        "validation_warnings": 0,
                        "started_at": window[1],
                        "finished_at": window[1],
                    }
                ]
            ),
        )
    return {
        "rows": rows.num_rows,
        "crm_leads": crm.num_rows,
        "seconds": time.perf_counter() - began,
    }


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


def step_extract(db: str, records: int) -> dict[str, Any]:
    """``ringback extract`` of one Ringostat day of about ``records`` records, as a user runs
    it, from a simulator in this process that has built the day before the clock starts."""
    from ringback_dev.simulators import RingostatSimulator, connection_uri
    from ringback_dev.simulators.journeys import JourneyGenerator

    config = Path(db).with_suffix(".sources.yaml")
    config.write_text(
        "sources:\n"
        "  - {id: ringostat_main, provider: ringostat, account_id: demo-project,"
        " time_zone: Europe/Kyiv}\n"
    )
    day = dt.date(2026, 11, 20)
    # ~1.43 Ringostat records per customer in the journey mix
    sim = RingostatSimulator(JourneyGenerator(seed=3, customers_per_day=int(records / 1.43)))
    sim.start("127.0.0.1", 0)
    sim._now = dt.datetime(2026, 11, 23, 6, tzinfo=dt.UTC)
    sim.generator.calls_between(dt.datetime(2026, 11, 18, tzinfo=dt.UTC), sim.now)
    env = {
        "RINGBACK_CONFIG": str(config),
        "AIRFLOW_CONN_RINGOSTAT_MAIN": connection_uri("ringostat", sim.base_url),
    }
    url = f"duckdb://{db}"
    try:
        _ringback("init", "--warehouse", url, env=env)
        run = _ringback(
            "extract",
            "--warehouse",
            url,
            "--source",
            "ringostat_main",
            "--date",
            str(day),
            "--set",
            "repull_days=0",
            env=env,
        )
    finally:
        sim.stop()
    received = int(re.search(r"received (\d+)", run.stdout).group(1))
    return {"seconds": run.seconds, "rows": received, "peak_mb": run.peak_mb}


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


def step_sort(db: str, keys_only: str = "") -> dict[str, Any]:
    """One bare DuckDB sort of staging.calls by the attribution walk's order, every column (the
    yardstick of a rebuild) or only the keys (the floor of one ordered pass)."""
    import duckdb

    columns = "business_id, customer_number, started_at" if keys_only else "*"
    con = duckdb.connect(db, read_only=True)
    began = time.perf_counter()
    con.execute(
        f"CREATE TEMP TABLE sorted AS SELECT {columns} FROM staging.calls "
        "ORDER BY business_id, customer_number, started_at"
    )
    return {"seconds": time.perf_counter() - began}


def step_import_gx() -> dict[str, Any]:
    began = time.perf_counter()
    import great_expectations  # noqa: F401

    return {"seconds": time.perf_counter() - began}


STEPS["sort"] = step_sort
STEPS["import_gx"] = step_import_gx


@dataclass
class Command:
    seconds: float
    peak_mb: float
    sql_seconds: float  # the models' own seconds, as the command prints them
    spill_mb: float
    stdout: str
    stderr: str = ""


def _ringback(*args: str, env: dict[str, str] | None = None, spill_dir: Path | None = None):
    """Run ``ringback ARGS`` as a user does; wall time, peak RSS and spill from outside."""
    script = Path(sys.executable).with_name("ringback")
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "ringback.cli"]
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        began = time.perf_counter()
        proc = subprocess.Popen(  # noqa: S603 - our own command
            [*cmd, *args], stdout=out, stderr=err, env={**os.environ, **(env or {})}
        )
        spill = 0
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if spill_dir is not None and spill_dir.exists():
                files = [f for f in spill_dir.rglob("*") if f.is_file()]
                spill = max(spill, sum(f.stat().st_size for f in files))
            time.sleep(0.05)
        took = time.perf_counter() - began
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"ringback {' '.join(args)} failed:\n{stderr[-3000:]}")
    sql = sum(float(m) for m in re.findall(r" rows\s+([0-9.]+) s\b", stdout, re.M))
    return Command(took, usage.ru_maxrss / 1024, sql, spill / 2**20, stdout, stderr)


def _median(runs: list[Command]) -> Command:
    return sorted(runs, key=lambda c: c.seconds)[len(runs) // 2]


@dataclass
class Figure:
    step: str
    figure: str
    target: str = ""
    verdict: str = ""  # "met" / "missed by ..." / "" (no target)
    note: str = ""


def _judge(value: float, limit: float, unit: str, *, at_least: bool = False) -> str:
    ok = value >= limit if at_least else value <= limit
    if ok:
        return "met"
    return (
        f"missed: {value / limit:.1f}x the target"
        if not at_least
        else (f"missed: {value:.1f}{unit} of {limit:g}{unit}")
    )


# -- the benchmark -----------------------------------------------------------------------------
def run(
    calls: int, baseline_calls: int, results_file: Path, memory_limit: str | None = None
) -> list[Figure]:
    rows: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="ringback-bench-") as tmp:
        year, month = f"{tmp}/year.duckdb", f"{tmp}/month.duckdb"
        first = LAST_DAY - dt.timedelta(days=364)
        env = {"RINGBACK_CONFIG": _bench_sources(tmp)}
        if memory_limit:
            env["RINGBACK_DUCKDB_MEMORY_LIMIT"] = memory_limit
        gen = _child("prepare", year, calls, 365)
        rows.append(
            Figure(
                f"generate {calls:,} calls over 365 days into staging",
                f"{gen['rows']:,} rows and {gen['crm_leads']:,} CRM leads "
                f"in {gen['seconds']:.1f} s",
            )
        )
        sort = _child("sort", year)
        keys = _child("sort", year, "keys")
        rows.append(
            Figure(
                "full-row DuckDB sort of staging.calls (business, number, started_at)",
                f"{sort['seconds']:.1f} s, peak {sort['peak_mb']:,.0f} MB",
                note=f"the rebuild's yardstick; keys only: {keys['seconds']:.1f} s, "
                f"peak {keys['peak_mb']:,.0f} MB (the floor of one ordered pass)",
            )
        )

        def models(db: str, lo: dt.date, hi: dt.date, *extra: str) -> Command:
            return _ringback(
                "models",
                "run",
                "--warehouse",
                f"duckdb://{db}",
                "--start",
                str(lo),
                "--end",
                str(hi),
                *extra,
                env=env,
                spill_dir=Path(f"{db}.tmp"),
            )

        cold = models(year, LAST_DAY, LAST_DAY)
        rows.append(
            Figure(
                "first one-day `models run` on a year no run covered (folds the year)",
                f"{cold.seconds:.1f} s, peak {cold.peak_mb:,.0f} MB",
                note="unified calls, first-seen, tracked numbers for 365 days",
            )
        )
        full = models(year, first, LAST_DAY, "--full-refresh")
        rows.append(
            Figure(
                "full rebuild: `models run --full-refresh`, 365 days",
                f"{full.seconds:.1f} s (models {full.sql_seconds:.1f} s), peak "
                f"{full.peak_mb:,.0f} MB, spill {full.spill_mb:,.0f} MB",
                f"<= {REBUILD_PEAK_MB:,} MB, no spill",
                "met"
                if full.peak_mb <= REBUILD_PEAK_MB and not full.spill_mb
                else f"missed: {full.peak_mb / REBUILD_PEAK_MB:.1f}x the memory, "
                f"spill {full.spill_mb:,.0f} MB",
                f"{gen['rows'] / full.seconds:,.0f} staging rows/s"
                + (f"; {peak_at}" if (peak_at := _peak_model(full.stdout, full.stderr)) else "")
                + (f"; DuckDB memory_limit {memory_limit}" if memory_limit else ""),
            )
        )
        rows.append(
            Figure(
                "full rebuild / full-row sort",
                f"{full.seconds / sort['seconds']:.1f}x",
                f"<= {REBUILD_OVER_SORT:g}x",
                _judge(full.seconds / sort["seconds"], REBUILD_OVER_SORT, "x"),
            )
        )
        # The what-if grid over the whole year, one query on staging (3 x 3 cells).
        grid = _ringback(
            "sensitivity",
            "--warehouse",
            f"duckdb://{year}",
            "--start",
            str(first),
            "--end",
            str(LAST_DAY),
            env=env,
        )
        rows.append(
            Figure(
                "`ringback sensitivity` over 365 days, 3 talk thresholds x 3 windows",
                f"{grid.seconds:.1f} s, peak {grid.peak_mb:,.0f} MB",
                note="one query over staging.primary_calls and unified_calls; writes nothing",
            )
        )
        year_runs = [models(year, LAST_DAY, LAST_DAY) for _ in range(3)]
        day = _median(year_runs)
        rows.append(
            Figure(
                "one-day `models run` on 365 days of history (median of 3)",
                f"{day.seconds:.2f} s, peak {day.peak_mb:,.0f} MB",
                f"<= {DAY_SECONDS:g} s",
                _judge(day.seconds, DAY_SECONDS, " s"),
                f"runs {', '.join(f'{c.seconds:.2f}' for c in year_runs)} s",
            )
        )
        rows.append(
            Figure(
                "its SQL (the models' own seconds, writes and audits included)",
                f"{day.sql_seconds:.2f} s",
                f"<= {DAY_SQL_SECONDS:g} s",
                _judge(day.sql_seconds, DAY_SQL_SECONDS, " s"),
                "rebuilds 4 days + look-ahead; of it "
                + ", ".join(
                    f"{ref.split('.')[1]} {_model_seconds(day.stdout, ref):.2f} s"
                    for ref in (*CALLBACK_MARTS, *CRM_MARTS)
                )
                + f" (the CRM marts over all {gen.get('crm_leads', 0):,} CRM leads)",
            )
        )
        _child("prepare", month, calls * 30 // 365, 30)
        models(month, LAST_DAY - dt.timedelta(days=29), LAST_DAY)
        month_day = _median([models(month, LAST_DAY, LAST_DAY) for _ in range(3)])
        ratio = day.sql_seconds / month_day.sql_seconds
        rows.append(
            Figure(
                "one-day run, 365-day / 30-day history (SQL)",
                f"{ratio:.2f} ({day.sql_seconds:.2f} / {month_day.sql_seconds:.2f} s)",
                "<= 1.2",
                _judge(ratio, 1.2, ""),
                f"end to end {day.seconds:.2f} / {month_day.seconds:.2f} s",
            )
        )
        ext = _child("extract", f"{tmp}/extract.duckdb", EXTRACT_RECORDS)
        gx = _child("import_gx")
        rows.append(
            Figure(
                f"one source-day `ringback extract` ({ext['rows']:,} records)",
                f"{ext['seconds']:.1f} s, peak {ext['peak_mb']:,.0f} MB",
                f"<= {EXTRACT_SECONDS:g} s",
                _judge(ext["seconds"], EXTRACT_SECONDS, " s"),
                f"of which importing Great Expectations {gx['seconds']:.1f} s (measured alone)",
            )
        )
        ours = gen["rows"] / full.seconds
        for store, label in (
            ("sqlite", "SQLite file, a transaction per call"),
            ("memory", "in-process dict, no I/O"),
        ):
            base = _child("baseline", year, baseline_calls, store)
            speed = base["rows"] / base["seconds"]
            rows.append(
                Figure(
                    f"per-call baseline ({label})",
                    f"{base['rows']:,} records in {base['seconds']:.1f} s",
                    f">= {OVER_DICT_LOOP:g}x" if store == "memory" else "",
                    _judge(ours / speed, OVER_DICT_LOOP, "x", at_least=True)
                    if store == "memory"
                    else "",
                    f"{speed:,.0f} records/s; ours/baseline = {ours / speed:,.1f}x",
                )
            )
    rows += recorded_figures()
    _report(rows, calls, results_file, memory_limit)
    return rows


def recorded_figures() -> list[Figure]:
    """The figures of the two long commands, as their last run in this checkout recorded them
    (ringback_dev.measurements): the benchmark judges them without running them again."""
    backfill, demo = measurements.latest("backfill"), measurements.latest("demo")
    rows = [
        Figure(
            "90-day Airflow backfill (`make reliability`), seconds per day",
            f"{backfill['seconds_per_day']:.1f} s/day ({backfill['seconds']:,.0f} s, "
            f"{backfill['days']} days x {backfill['sources']} sources)"
            if backfill
            else "not measured in this checkout",
            f"<= {BACKFILL_SECONDS_PER_DAY:g} s/day",
            _judge(backfill["seconds_per_day"], BACKFILL_SECONDS_PER_DAY, " s")
            if backfill
            else "run `make reliability`",
            f"recorded {backfill['at']} at {backfill['commit']}; "
            f"{backfill['marts_runs']} marts runs, with {backfill['background_load_processes']} "
            "CPU-burning process(es) beside it"
            if backfill
            else "",
        ),
        Figure(
            "`make demo` (set-up included)",
            f"{demo['seconds']:.0f} s (Airflow {demo['airflow_seconds']:.0f} s)"
            if demo
            else "not measured in this checkout",
            f"<= {DEMO_SECONDS:g} s",
            _judge(demo["seconds"], DEMO_SECONDS, " s") if demo else "run `make demo`",
            f"recorded {demo['at']} at {demo['commit']}; from a fresh clone the set-up "
            "also installs the environment"
            if demo
            else "",
        ),
    ]
    return rows


EXTRACT_RECORDS = 30_000
# The targets each figure is judged against.
REBUILD_OVER_SORT = 3  # a full rebuild within this many full-row sorts of staging.calls
REBUILD_PEAK_MB = 4096
DAY_SECONDS = 3  # a one-day `models run`, process start to exit, mart validation on
DAY_SQL_SECONDS = 1
EXTRACT_SECONDS = 8  # a source-day `ringback extract`, validation included
OVER_DICT_LOOP = 10  # set-based throughput over an in-process dict loop
BACKFILL_SECONDS_PER_DAY = 10
DEMO_SECONDS = 120
# The callback marts, whose share of a one-day run the benchmark reports.
CALLBACK_MARTS = ("marts.missed_call_followups", "marts.call_handling_hourly")
# The CRM marts: rebuilt whole by every run, so their share grows with the CRM.
CRM_MARTS = ("marts.crm_leads", "marts.crm_reconciliation")


def _model_seconds(stdout: str, ref: str) -> float:
    """A model's seconds from ``models run``'s output (0 when it did not run)."""
    found = re.search(rf"^\s+{re.escape(ref)}\s+\d+ rows\s+([0-9.]+) s\b", stdout, re.M)
    return float(found.group(1)) if found else 0.0


def _peak_model(stdout: str, stderr: str = "") -> str:
    """Which step of ``models run`` (its preparation, as logged, or a model) raised the memory
    high-water mark to (within 2% of) its peak, and from what: where to look when it misses."""
    prepared = re.search(r"prepared the run \(memory high-water ([0-9]+) MB\)", stderr)
    marks = [("the preparation", float(prepared.group(1)))] if prepared else []
    marks += [
        (ref, float(mb.replace(",", "")))
        for ref, mb in re.findall(
            r"^\s+(\S+)\s+\d+ rows\s+[0-9.]+ s\s+([0-9,]+) MB high-water$", stdout, re.M
        )
    ]
    if not marks:
        return ""
    top = marks[-1][1]
    before = 0.0
    for ref, mb in marks:
        if mb >= 0.98 * top:
            return f"the peak reached in {ref} ({before:,.0f} -> {mb:,.0f} MB)"
        before = mb
    return ""


def _bench_sources(tmp: str) -> str:
    """The generated rows' business ``default``, in Kyiv, with the global rule settings and
    opening hours (so the callback SLA is measured in business time, the costlier path)."""
    path = Path(tmp) / "sources.yaml"
    path.write_text(
        "businesses:\n"
        "  - id: default\n"
        "    time_zone: Europe/Kyiv\n"
        "    settings:\n"
        '      business_hours: {mon: "09:00-19:00", tue: "09:00-19:00", wed: "09:00-19:00",\n'
        '        thu: "09:00-19:00", fri: "09:00-19:00", sat: "10:00-15:00"}\n'
        "      holidays: [2026-01-01, 2026-01-07, 2026-12-25]\n"
        "sources: []\n"
    )
    return str(path)


def _report(rows: list[Figure], calls: int, results_file: Path, memory_limit: str | None) -> None:
    table = [("step", "figure", "target", "verdict", "note")] + [
        (r.step, r.figure, r.target, r.verdict, r.note) for r in rows
    ]
    widths = [max(len(r[i]) for r in table) for i in range(5)]
    print("\n".join(" | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in table))
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    limit = f", DuckDB memory_limit {memory_limit}" if memory_limit else ""
    results_file.parent.mkdir(parents=True, exist_ok=True)
    with results_file.open("a") as fh:
        fh.write(
            f"\n## {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {calls:,} calls "
            f"({machine}{limit})\n\n| step | figure | target | verdict | note |\n"
            "|---|---|---|---|---|\n"
        )
        fh.writelines(f"| {' | '.join(r)} |\n" for r in table[1:])


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
