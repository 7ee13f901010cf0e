"""The BigQuery backend through the real google-cloud-bigquery client, against the local
emulator (a separate process). Run by `make test-bigquery`, which sets the emulator up."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from collections import Counter
from pathlib import Path

import pytest
import yaml

from bigquery_emulator import PROJECT, Emulator
from ringback import catalog, sensitivity
from ringback.settings import load_settings
from ringback.warehouse import connect
from ringback.warehouse.base import PartitionRange, WarehouseError
from ringback.warehouse.bigquery import job_scope

from helpers import (
    build,
    load_calls,
    load_crm,
    load_deleted,
    normalise,
    runtime_of,
    sql_case,
    staging_row,
)

pytestmark = pytest.mark.bigquery
CASES = Path(__file__).resolve().parents[1] / "sql"
# Cases that exercise every model: matching, primacy, recovery, reconciliation, time zones.
# The rules' semantics are judged by GoogleSQL's reference engine on all cases (make test);
# these prove the client, the jobs, the DDL and the audits on every model and view.
EQUIVALENCE_CASES = [
    "analyst_views",
    "reconciliation_thresholds_and_ties",
    "window_crosses_midnight",
    "dst_change",
    "retry_reaches_untracked_line",
    # Callbacks: opening hours and holidays, hours per employee.
    "callback_weekend_and_holiday",
    "call_handling_hourly_by_employee",
    # CRM: every category, the window's edges, one-to-one contention, a late deal, two businesses.
    "crm_categories_and_window_edges",
    "crm_two_leads_one_number_late_deal",
    # Businesses: zones, per-business settings, the no-match day, history no run covered.
    "business_day_boundary_by_zone",
    "business_settings_threshold_and_window",
    "business_reconciliation_no_match_day",
    "business_history_before_one_day_run",
    # A call the provider deleted: left out of every model.
    "soft_deleted_call_left_out",
    # Vendor flags, the spam rule and marts.vendor_comparison's causes.
    "vendor_comparison_causes_and_spam",
]
_prefix = itertools.count()
# The API answers with the legacy type names.
LEGACY = {"INTEGER": "INT64", "FLOAT": "FLOAT64", "BOOLEAN": "BOOL"}


@pytest.fixture
def emulator(tmp_path_factory):
    """An emulator of its own per test: its catalog look-ups (DuckDB's duckdb_tables() over
    every dataset) slow down with every table it holds. Shared by the module, 12 of 24 tests
    took 14.5 minutes on 2 workers; one each, all 24 took 14 (about 6 s to start)."""
    emu = Emulator(tmp_path_factory.mktemp("bq"))
    yield emu
    emu.stop()


def bq_settings_overrides() -> dict:
    """Datasets of their own per test, so tests share one emulator without meeting."""
    n = next(_prefix)
    names = {f"bigquery_{layer}_dataset": f"t{n}_{layer}" for layer in catalog.LAYERS}
    return {**names, "bigquery_analytics_dataset": f"t{n}_analytics"}


def bq_settings(**extra):
    """Datasets of their own per test, so tests share one emulator without meeting."""
    n = next(_prefix)
    names = {f"bigquery_{layer}_dataset": f"t{n}_{layer}" for layer in catalog.LAYERS}
    return load_settings({**names, "bigquery_analytics_dataset": f"t{n}_analytics"} | extra)


def rows_of(wh, ref: str) -> Counter:
    table = catalog.tables().get(ref) or catalog.views()[ref]
    filter_ = (
        f" WHERE {table.partition_field} IS NOT NULL"
        if getattr(table, "partition_field", None)
        else ""
    )
    got = wh.query(f"SELECT * FROM {ref}{filter_}").to_pylist()
    return Counter(tuple(sorted((k, normalise(v)) for k, v in r.items())) for r in got)


def _without(rows: Counter, drop: set[str]) -> Counter:
    return Counter(tuple(kv for kv in key if kv[0] not in drop) for key in rows.elements())


def test_init_creates_datasets_and_tables_as_sql_describes(emulator):
    from google.cloud import bigquery

    settings = bq_settings()
    with connect(emulator.url("EU"), settings=settings) as wh:
        created = wh.init()
        assert sorted(created) == sorted(catalog.tables())
        assert wh.init() == []  # idempotent
        client: bigquery.Client = wh.client
        ds = client.get_dataset(f"{PROJECT}.{settings.bigquery_marts_dataset}")
        assert ds.location == "EU" and ds.labels["layer"] == "marts"
        for table in catalog.tables().values():
            got = client.get_table(wh._ref(table.layer, table.name))
            assert got.description == table.description
            assert [
                (f.name, LEGACY.get(f.field_type, f.field_type), f.mode, f.description)
                for f in got.schema
            ] == [(c.name, c.type, c.mode, c.description) for c in table.columns], table.ref
            if table.partition_field:
                assert got.time_partitioning.field == table.partition_field
                assert got.time_partitioning.type_ == "DAY"
                assert bool(got.require_partition_filter) == table.require_partition_filter
            assert (got.clustering_fields or []) == list(table.clustering)
            assert got.labels == table.labels
        for view in catalog.views().values():
            got = client.get_table(wh._ref("analytics", view.name))
            assert got.table_type == "VIEW" and got.description == view.description
            assert [f.name for f in got.schema] == view.column_names


@pytest.mark.parametrize("case", EQUIVALENCE_CASES)
def test_models_on_bigquery_equal_duckdb(case, emulator, warehouse):
    """Every mart and view, built with mart validation on both sides, and the sensitivity grid."""
    validated = {"validate_marts": True}
    duck_settings, config, rows, start, end, only = sql_case(CASES / case, validated)
    load_calls(warehouse, rows)
    load_deleted(warehouse, CASES / case, rows)
    load_crm(warehouse, CASES / case, duck_settings, config)
    build(warehouse, duck_settings, start, end, config=config, businesses=only)
    settings, *_ = sql_case(CASES / case, bq_settings_overrides() | validated)
    with connect(emulator.url(), settings=settings) as bq:
        bq.init()
        table = catalog.table("staging.calls")
        bq.write(table, table.to_arrow(rows))
        load_deleted(bq, CASES / case, rows)
        load_crm(bq, CASES / case, settings, config)
        build(bq, settings, start, end, config=config, businesses=only)
        for ref in [*(t for t in catalog.tables() if t.startswith("marts.")), *catalog.views()]:
            assert rows_of(bq, ref) == rows_of(warehouse, ref), (case, ref)
        grid = ((30, 45), (12, 24))
        if only is None:  # the grid reads every business the build covered
            assert sensitivity.compute(bq, start, end, *grid) == sensitivity.compute(
                warehouse, start, end, *grid
            ), case


def test_init_upgrades_tables_from_before_businesses(emulator):
    """Tables laid out before businesses: re-created with business_id first (partitioning and
    clustering from sql/), every row kept in business `default`."""
    from google.cloud import bigquery

    settings = bq_settings()
    with connect(emulator.url(), settings=settings) as bq:
        client: bigquery.Client = bq.client
        for name in bq.names.values():
            client.create_dataset(f"{PROJECT}.{name}", exists_ok=True)
        calls = catalog.table("staging.calls")
        old = bigquery.Table(
            bq._ref("staging", "calls"),
            schema=[
                bigquery.SchemaField(c.name, c.type, "NULLABLE")
                for c in calls.columns
                if c.name != "business_id"
            ],
        )
        client.create_table(old)
        rows = [
            {k: v for k, v in staging_row(c, settings).items() if k != "business_id"}
            for c in yaml.safe_load((CASES / "analyst_views" / "input.yaml").read_text())["calls"]
        ]
        # Test set-up only (the backend itself loads Parquet files, never streams).
        assert client.insert_rows(client.get_table(old.reference), rows) == []
        added = bq.init()
        assert "staging.calls.business_id" in added
        got = client.get_table(bq._ref("staging", "calls"))
        assert [f.name for f in got.schema] == calls.column_names
        assert got.clustering_fields == list(calls.clustering)
        assert got.time_partitioning.field == "call_date"
        staged = bq.query(
            "SELECT business_id, call_key FROM staging.calls WHERE call_date IS NOT NULL"
        ).to_pylist()
        assert sorted(r["call_key"] for r in staged) == sorted(r["call_key"] for r in rows)
        assert {r["business_id"] for r in staged} == {"default"}
        assert bq.init() == []


def test_a_rerun_of_the_same_day_leaves_the_same_rows(emulator, monkeypatch):
    """Three DAG runs of one day (new runs, not retries: their jobs do run again)."""
    monkeypatch.setenv("AIRFLOW_CTX_DAG_ID", "ringback_build_marts")
    monkeypatch.setenv("AIRFLOW_CTX_TASK_ID", "build")
    settings = bq_settings()
    calls = yaml.safe_load((CASES / "analyst_views" / "input.yaml").read_text())["calls"]
    start, end = dt.date(2026, 11, 10), dt.date(2026, 11, 12)
    counts = []
    with connect(emulator.url(), settings=settings) as bq:
        bq.init()
        table = catalog.table("staging.calls")
        for n in range(3):
            monkeypatch.setenv("AIRFLOW_CTX_DAG_RUN_ID", f"manual__rerun_{n}")
            bq.write(table, table.to_arrow([staging_row(c, settings) for c in calls]))
            build(bq, settings, start, end)
            counts.append(
                {
                    ref: sum(rows_of(bq, ref).values())
                    for ref in catalog.tables()
                    if ref.startswith(("staging.", "marts."))
                }
            )
    assert counts[0] == counts[1] == counts[2]
    assert counts[0]["staging.calls"] == len(calls) and counts[0]["marts.attributed_leads"] == 4


def test_a_partition_write_outside_its_range_changes_nothing(emulator):
    settings = bq_settings()
    table = catalog.table("marts.call_reconciliation")
    with connect(emulator.url(), settings=settings) as bq:
        bq.init()
        row = {c: 0 for c in table.column_names} | {
            "business_id": "default",
            "report_date": dt.date(2026, 11, 10),
            "unmatched_ratio": 0.0,
            "is_mismatch": False,
            "mismatch_reason": None,
            "missing_sources": None,
        }
        day = PartitionRange(dt.date(2026, 11, 10), dt.date(2026, 11, 10))
        bq.write(table, table.to_arrow([row]), partitions=day)
        stray = row | {"report_date": dt.date(2026, 11, 11), "calltracking_calls": 9}
        with pytest.raises(WarehouseError, match="outside the partitions"):
            bq.write(table, table.to_arrow([row, stray]), partitions=day)
        assert [
            r["calltracking_calls"]
            for r in bq.query(
                "SELECT * FROM marts.call_reconciliation WHERE report_date IS NOT NULL"
            ).to_pylist()
        ] == [0]


def test_a_retried_task_does_not_run_its_jobs_twice(emulator, monkeypatch):
    """Same Airflow task and run (a retry): the load and swap jobs are found, not repeated."""
    monkeypatch.setenv("AIRFLOW_CTX_DAG_ID", "ringback_ingest_x")
    monkeypatch.setenv("AIRFLOW_CTX_TASK_ID", "publish")
    monkeypatch.setenv("AIRFLOW_CTX_DAG_RUN_ID", "scheduled__2026-11-10")
    settings = bq_settings()
    calls = yaml.safe_load((CASES / "analyst_views" / "input.yaml").read_text())["calls"]
    table = catalog.table("staging.calls")
    rows = table.to_arrow([staging_row(c, settings) for c in calls])
    with connect(emulator.url(), settings=settings) as bq:
        bq.init()
        bq.write(table, rows)
        jobs_before = {j.job_id for j in bq.client.list_jobs()}
        assert bq.write(table, rows) == len(calls)
        new = {j.job_id for j in bq.client.list_jobs()} - jobs_before
        assert not any(j.startswith(("ringback_load_", "ringback_swap_")) for j in new), new
        scope = job_scope()  # this DAG, task and run
        ours = [j for j in jobs_before if scope in j]
        assert sorted(j.split("_")[1] for j in ours) == ["load", "swap"]
        for j in ours:
            got = bq.client.get_job(j).labels
            assert got == {"app": "ringback", "dag": "ringback_ingest_x", "task": "publish"}
        assert sum(rows_of(bq, "staging.calls").values()) == len(calls)


def test_extract_validate_publish_into_bigquery_equals_duckdb(emulator, warehouse_url, monkeypatch):
    """One source's day, pulled from its simulator, published to both warehouses."""
    from ringback import ingest
    from ringback_dev import simulators
    from ringback_dev.simulators.journeys import JourneyGenerator

    n = next(_prefix)
    for layer in (*catalog.LAYERS, "analytics"):
        monkeypatch.setenv(f"RINGBACK_BIGQUERY_{layer.upper()}_DATASET", f"x{n}_{layer}")
    day = dt.date(2026, 11, 10)
    sims = simulators.start_all(generator=JourneyGenerator(seed=5, customers_per_day=30))
    try:
        for source, provider in (("ringostat_main", "ringostat"), ("binotel_main", "binotel")):
            uri = simulators.connection_uri(provider, sims[provider].base_url)
            monkeypatch.setenv(f"AIRFLOW_CONN_{source.upper()}", uri)
        settings = load_settings()
        bq_url = emulator.url()
        with connect(bq_url, settings=settings) as bq:
            bq.init()
        with connect(warehouse_url, settings=settings) as duck:
            duck.init()
        manifests = {}
        for url in (bq_url, warehouse_url):
            for source in ("ringostat_main", "binotel_main"):
                runtime = runtime_of(dataclasses.replace(settings, warehouse_url=url))
                m = ingest.run_extract(runtime, source, day)
                assert m.received_records == m.staged_records + m.quarantined_records
                manifests[url, source] = (m.received_records, m.staged_records)
    finally:
        for sim in sims.values():
            sim.stop()
    for source in ("ringostat_main", "binotel_main"):
        assert manifests[bq_url, source] == manifests[warehouse_url, source]
    with (
        connect(bq_url, settings=settings) as bq,
        connect(warehouse_url, settings=settings) as duck,
    ):
        for ref in ("staging.calls", "raw.loads", "staging.calls_quarantine"):
            drop = {"load_id", "extracted_at", "loaded_at"}
            if ref == "raw.loads":
                drop |= {"started_at", "finished_at"}  # when the loads ran
            assert _without(rows_of(bq, ref), drop) == _without(rows_of(duck, ref), drop), ref
