"""Reliability tier, through real DAG runs: faults, reruns, concurrency, secrets.

Each test drives ``ringback-dev dags test`` in a child process (Airflow's dag.test: task instances,
retries, XComs, Asset events) against simulators this process controls. ``make reliability``
runs these with the mapper fuzzing and the 90-day backfill; ``make test`` runs all but the
backfill.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from pathlib import Path

import pytest
import yaml

from airflow_harness import (
    DATA_TABLES,
    ROOT,
    SOURCE_OF,
    Pipeline,
    harness_sources,
    migrate,
    staged_per_day,
    truth_per_day,
)

from helpers import connect, table_rows

pytestmark = [pytest.mark.reliability, pytest.mark.slow]

D1 = dt.date(2026, 11, 10)
D3 = dt.date(2026, 11, 12)


@pytest.fixture(scope="module")
def airflow_home(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("airflow")
    migrate(home)
    return home


def test_sources_file(tmp_path: Path, **options_by_provider: dict) -> Path:
    """The harness's sources with tighter client limits, so faults exhaust them quickly."""
    sources = harness_sources(**options_by_provider)
    for source in sources["sources"]:
        source.setdefault("timeout_seconds", 2)
        source.setdefault("max_attempts", 4)
    path = tmp_path / "sources.yaml"
    path.write_text(yaml.safe_dump(sources))
    return path


test_sources_file.__test__ = False  # a helper, not a test


@pytest.fixture
def pipeline(airflow_home, tmp_path):
    made: list[Pipeline] = []

    def make(**kwargs) -> Pipeline:
        workdir = tmp_path / f"run{len(made)}"
        workdir.mkdir()
        p = Pipeline(airflow_home, workdir, **kwargs)
        made.append(p)
        return p

    yield make
    for p in made:
        p.stop()


# -- faults ----------------------------------------------------------------------------------
FAULT_PLAN = {
    # A 429 storm longer than the client's 4 attempts: the task fails, Airflow retries it.
    "ringostat": [("http_429", 5), ("truncate", 1), ("http_500", 2)],
    "binotel": [("http_503", 2), ("slow", 1), ("provider_error", 2), ("truncate", 1)],
    # A repeated record goes last: a fault on the same page would make the client fetch it again.
    "callrail": [("http_500", 1), ("truncate", 1), ("slow", 1), ("duplicate_across_pages", 1)],
    "twilio": [("http_429", 3), ("http_503", 1), ("duplicate_across_pages", 1)],
}


def test_faults_are_survived_and_staging_matches_the_ground_truth(pipeline, tmp_path):
    p = pipeline(
        sources_file=test_sources_file(
            tmp_path, callrail={"per_page": 40, "paging": "offset"}, twilio={"page_size": 150}
        )
    )
    planned = 0
    for provider, faults in FAULT_PLAN.items():
        for kind, times in faults:
            p.sims[provider].faults.add(kind, times=times, seconds=3.0)
            planned += times
    code, output = p.run_dags(D1, D3)
    assert code == 0, output[-6000:]

    injected = {name: list(sim.faults.injected) for name, sim in p.sims.items()}
    assert sum(len(v) for v in injected.values()) == planned, injected
    # The storm outlasted the client's attempts: Airflow retried the task, and it went through.
    assert re.search(
        r"ringback_ingest_ringostat_main .* success .*retried: \{'extract': [2-4]\}", output
    )

    # A record changes at the provider after it was loaded: the next run's re-pull fixes it.
    binotel = p.sims["binotel"]
    changed = next(
        c
        for c in binotel.generator.day(D3).calls
        if c.status == "missed" and c.seen_by_telephony and c.direction == "inbound"
    )
    binotel.changes[changed.call_id] = {"status": "answered", "talk_seconds": 77}
    code, output = p.run_dags(D3 + dt.timedelta(days=1), D3 + dt.timedelta(days=1))
    assert code == 0, output[-6000:]

    last = D3 + dt.timedelta(days=1)
    for provider in SOURCE_OF:
        assert staged_per_day(p, provider) == truth_per_day(p, provider, D1, last), provider
    with connect(p.warehouse_url, read_only=True) as wh:
        row = wh.query(
            "SELECT status, talk_seconds FROM staging.calls WHERE call_key = @k",
            {"k": f"binotel:demo-company:{20_000_000 + int(changed.call_id)}"},
        ).to_pylist()
        repeated = wh.query(
            "SELECT provider, COUNT(*) AS n FROM raw.call_records "
            "GROUP BY load_id, provider, provider_call_id HAVING COUNT(*) > 1"
        ).to_pylist()
        leads = wh.query("SELECT COUNT(*) AS n FROM marts.attributed_leads").to_pylist()[0]
    assert row == [{"status": "answered", "talk_seconds": 77}]
    # Both paging providers did deliver a record twice (raw keeps what arrived), yet staging
    # above holds each call once.
    assert sorted(r["provider"] for r in repeated) == ["callrail", "twilio"]
    assert leads["n"] > 0


# -- reruns ----------------------------------------------------------------------------------
def test_the_same_day_three_times_gives_identical_tables(pipeline):
    p = pipeline()
    sums = []
    for _ in range(3):
        code, output = p.run_dags(D1, D1, ["ringostat_main", "binotel_main"])
        assert code == 0, output[-6000:]
        sums.append(p.checksums())
    assert sums[0] == sums[1] == sums[2]
    assert int(sums[0]["marts.attributed_leads"].split(":")[0]) > 0


# -- concurrency -----------------------------------------------------------------------------
def test_two_runs_for_different_dates_at_once_leave_a_consistent_warehouse(
    pipeline, tmp_path_factory
):
    """DuckDB takes one writer: each run waits for the warehouse lock instead of failing, and
    the result equals running the two dates one after the other.

    The second run gets its own Airflow metadata DB: dag.test() resets runs of the DAG it tests,
    so two of them cannot share one (the scheduler can; the backfill test shows the pool)."""
    other_home = tmp_path_factory.mktemp("airflow_second")
    migrate(other_home)
    reference = pipeline()
    for day in (D1, D1 + dt.timedelta(days=1)):
        code, output = reference.run_dags(day, day)
        assert code == 0, output[-6000:]

    p = pipeline()
    with connect(p.warehouse_url) as wh:  # hold the lock while both runs start
        wh.init()
        first = p.start_dags(D1, D1)
        second = p.start_dags(D1 + dt.timedelta(days=1), D1 + dt.timedelta(days=1), home=other_home)
        time.sleep(25)
    outputs = [child.communicate(timeout=900)[0] for child in (first, second)]
    assert [first.returncode, second.returncode] == [0, 0], [o[-4000:] for o in outputs]
    for output in outputs:
        assert "waiting for the writer lock" in output

    got, want = p.checksums(), reference.checksums()
    for ref in ("raw.call_records", "staging.calls", "staging.calls_quarantine"):
        assert got[ref] == want[ref], ref
    with connect(p.warehouse_url, read_only=True) as wh:
        loads = wh.query(
            "SELECT load_id, received_records, staged_records, quarantined_records FROM raw.loads"
        ).to_pylist()
    assert len(loads) == 10  # five sources (four of calls, HubSpot) x two dates, each once
    assert all(
        r["received_records"] == r["staged_records"] + r["quarantined_records"] for r in loads
    )
    # Each run built the marts from what staging held at its moment; the next run of the marts
    # (here: one for both dates) brings them to the same state as the sequential runs.
    for run in (p, reference):
        code, output = run.run_dags(D1, D1 + dt.timedelta(days=1), ["ringostat_main"])
        assert code == 0, output[-6000:]
    assert p.checksums() == reference.checksums()


def test_a_failed_validation_fails_its_task_once_without_a_retry(pipeline):
    """A failed validation is deterministic: AirflowFailException, no retry (a retry would find
    the same rows and record the failed load again). The failed load is recorded, staging is
    untouched."""
    p = pipeline(extra_env={"RINGBACK_MAX_QUARANTINE_RATIO": "0"})
    binotel = p.sims["binotel"]
    broken = [c for c in binotel.generator.day(D1).calls if c.seen_by_telephony][:3]
    for call in broken:  # a negative talk time is quarantined, and ratio 0 allows none
        binotel.changes[call.call_id] = {"talk_seconds": -5}
    code, output = p.run_dags(D1, D1, ["binotel_main"])
    assert code != 0, output[-6000:]
    (line,) = [x for x in output.splitlines() if x.startswith("  ringback_ingest_binotel_main")]
    assert " failed (" in line and "retried" not in line, line
    assert "AirflowFailException" in output and "quarantine_ratio" in output
    with connect(p.warehouse_url, read_only=True) as wh:
        loads = table_rows(wh, "raw.loads")
        staged = table_rows(wh, "staging.calls")
    assert [(r["source_id"], r["validation_success"]) for r in loads] == [("binotel_main", False)]
    assert staged == []


# -- secrets ---------------------------------------------------------------------------------
SECRETS = {
    "ringostat": ("demo-project", "rk-SECRET-4f1c9a-ringostat"),
    "binotel": ("bk-SECRET-77d2e0-key", "bs-SECRET-0b3e55-secret"),
    "callrail": ("", "ck-SECRET-c2a818-callrail"),
    "twilio": ("AC0000000000000000000000000000dead", "tk-SECRET-9e6b41-twilio"),
    "hubspot": ("", "hk-SECRET-31a7e2-hubspot"),
}


def test_api_keys_appear_in_no_log_table_or_file(pipeline, airflow_home):
    p = pipeline(credentials=dict(SECRETS))
    p.sims["ringostat"].auth_key = SECRETS["ringostat"][1]
    p.sims["binotel"].key, p.sims["binotel"].secret = SECRETS["binotel"]
    p.sims["callrail"].api_key = SECRETS["callrail"][1]
    p.sims["twilio"].auth_token = SECRETS["twilio"][1]
    p.sims["hubspot"].token = SECRETS["hubspot"][1]
    code, output = p.run_dags(D1, D1)
    assert code == 0, output[-6000:]

    # A refused key: the task fails; its error and the failure alert must not show the key.
    wrong = pipeline(credentials={**SECRETS, "callrail": ("", "ck-WRONG-SECRET-5d0f")})
    wrong.extra_env["RINGBACK_TASK_RETRIES"] = "0"
    failed_code, failed_output = wrong.run_dags(D1, D1, ["callrail_main"])
    assert failed_code != 0 and "refused the credentials" in failed_output

    secrets = [v for pair in SECRETS.values() for v in pair if "SECRET" in v]
    secrets += ["ck-WRONG-SECRET-5d0f"]
    secrets += [p.connection_uri(provider) for provider in SECRETS]
    texts = {"child output": output + failed_output}
    files = [
        f
        for folder in (airflow_home, p.workdir, wrong.workdir, ROOT / "expectations")
        for f in folder.rglob("*")
        if f.is_file()
    ]
    assert any(f.suffix == ".log" for f in files) or "[task]" in output  # logs were written
    for f in files:
        texts[str(f)] = f.read_bytes().decode("utf-8", "replace")
    for run in (p, wrong):
        if not (run.workdir / "warehouse.duckdb").exists():
            continue  # the refused run stopped at extract, before the warehouse
        with connect(run.warehouse_url, read_only=True) as wh:
            for ref in (*DATA_TABLES, "raw.loads", "raw.validation_results"):
                texts[f"{run.workdir.name}:{ref}"] = repr(
                    wh.query(f"SELECT * FROM {ref}").to_pylist()
                )
    leaks = [(where, s) for where, text in texts.items() for s in secrets if s in text]
    assert leaks == []
    assert len(texts) > 20


# -- PII -------------------------------------------------------------------------------------
def test_marts_hold_no_customer_number_only_salted_hashes(pipeline):
    p = pipeline()
    code, output = p.run_dags(D1, D1, ["ringostat_main", "binotel_main"])
    assert code == 0, output[-6000:]
    with connect(p.warehouse_url, read_only=True) as wh:
        numbers = {
            r["customer_number"]
            for r in wh.query(
                "SELECT DISTINCT customer_number FROM staging.calls "
                "WHERE customer_number IS NOT NULL"
            ).to_pylist()
        }
        digits = {n.lstrip("+") for n in numbers} | {n[-9:] for n in numbers}
        marts = {
            ref: repr(wh.query(f"SELECT * FROM {ref}").to_pylist())
            for ref in DATA_TABLES
            if ref.startswith("marts.")
        }
        hashes = wh.query("SELECT customer_hash FROM marts.attributed_leads").to_pylist()
    assert len(numbers) > 50
    for ref, text in marts.items():
        assert not [d for d in digits if d in text], ref
    assert all(re.fullmatch(r"[0-9a-f]{64}", h["customer_hash"]) for h in hashes)
