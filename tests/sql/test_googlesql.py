"""BigQuery's own analyzer (GoogleSQL / ZetaSQL) accepts every statement ringback sends it.

The DuckDB warehouse and the BigQuery emulator both execute on DuckDB, so neither proves that
BigQuery accepts a query. These tests analyse, with the GoogleSQL analyzer BigQuery is built on,
against a catalog made from every ``schema.yaml``: every model query, analytics view and
analysis, and every statement a representative run sends the warehouse (loads from the provider
simulators, model builds with mart validation, a full refresh, a one-business run, the report,
the summary, the sensitivity grid, the export's reads), plus the statements only the BigQuery
backend sends (swap scripts, row access policies, the upgrade to businesses). Parameters are
typed as the BigQuery backend binds them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from ringback import catalog, export, figures, ingest, models, report, sensitivity, summary
from ringback.settings import load_settings
from ringback_dev.googlesql import (
    Refused,
    backend_statements,
    googlesql,
    recorded_statements,
    unfiltered_partition_reads,
)

from helpers import (
    build,
    connect,
    load_calls,
    load_crm,
    load_deleted,
    runtime_of,
    sql_case,
    start_simulators,
    stop_simulators,
)

CASES = Path(__file__).resolve().parents[1] / "sql"
# The statements' texts do not depend on the rows, only on the code path: cases that take the
# CRM path, the report's and the history fold's.
SCENARIO_CASES = (
    "analyst_views",
    "crm_categories_and_window_edges",
    "business_history_before_one_day_run",
)


def _refusals(statements) -> list[str]:
    engine, seen, out = googlesql(), set(), []
    for statement in statements:
        if statement.key() in seen:
            continue
        seen.add(statement.key())
        try:
            statement.analyze(engine)
        except Refused as exc:
            out.append(f"{statement.origin}: {exc}\n    {statement.sql.strip()[:400]}")
    return out


def test_every_analytics_view_is_accepted_with_the_columns_its_schema_lists():
    engine = googlesql()
    assert engine.view_refusals == {}
    for ref, view in catalog.views().items():
        types = {c.name: c.type for c in view.columns}
        assert [name for name, _ in engine.view_columns[ref]] == view.column_names, ref
        # GoogleSQL's own type for each column (a view's JSON column is read as such)
        wrong = {n: t for n, t in engine.view_columns[ref] if types[n] != t}
        assert not wrong, f"{ref}: GoogleSQL types {wrong}, schema.yaml {types}"


@pytest.mark.parametrize("match_rounds", [1, 3])
def test_every_model_query_is_accepted_and_returns_its_schema(match_rounds):
    settings = load_settings({"match_rounds": match_rounds})
    window = models.RebuildWindow(dt.date(2026, 11, 1), dt.date(2026, 11, 7))
    engine = googlesql()
    for scope in (None, ("kyiv_clinic",)):
        params = models.query_params(window, settings)
        params |= {"all_businesses": scope is None, "business_ids": list(scope or ())}
        for table in catalog.models_in_order():
            try:
                columns = engine.output_columns(models.render(table, settings), params)
            except Refused as exc:
                pytest.fail(f"{table.ref}: {exc}")
            assert columns == [(c.name, c.type) for c in table.columns], table.ref


def test_the_backends_own_statements_are_accepted_and_filter_required_partitions():
    assert _refusals(backend_statements()) == []
    unfiltered = {
        s.sql: reads for s in backend_statements() if (reads := unfiltered_partition_reads(s.sql))
    }
    assert unfiltered == {}


def test_a_read_without_its_partition_filter_is_found():
    assert unfiltered_partition_reads(
        "SELECT COUNT(*) FROM staging.calls WHERE business_id = @b"
    ) == ["staging.calls"]
    assert (
        unfiltered_partition_reads(
            "SELECT c.call_key FROM staging.unified_calls AS u "
            "JOIN staging.calls AS c ON c.call_key = u.ct_call_key AND c.call_date = @d "
            "WHERE u.call_date BETWEEN @lo AND @hi"
        )
        == []
    )
    assert unfiltered_partition_reads(
        "SELECT c.call_key FROM staging.unified_calls AS u "
        "JOIN staging.calls AS c ON c.call_key = u.ct_call_key WHERE u.call_date = @d"
    ) == ["staging.calls"]


def test_a_reads_columns_and_partitions_are_found_for_its_bytes():
    from ringback_dev.scan_bytes import reads

    day = dt.date(2026, 11, 10)
    (read,) = reads(
        "SELECT c.call_key, c.talk_seconds FROM staging.calls AS c "
        "WHERE c.call_date BETWEEN DATE_SUB(@d, INTERVAL 2 DAY) AND @d AND c.status = 'missed'",
        {"d": day},
    )
    assert read.table == "staging.calls"
    assert read.columns == {"call_key", "talk_seconds", "call_date", "status"}
    assert (read.first, read.last) == (day - dt.timedelta(days=2), day)
    # a bound inside an OR prunes nothing; a bound on another column is no partition bound
    (read,) = reads("SELECT * FROM staging.calls WHERE call_date >= @d OR status = 'x'", {"d": day})
    assert (read.first, read.last) == (None, None) and len(read.columns) == 30


@pytest.fixture
def simulators(monkeypatch):
    sims = start_simulators(monkeypatch, dt.datetime(2026, 11, 23, 6, 0, tzinfo=dt.UTC), 12)
    yield sims
    stop_simulators(sims)


def _case_run(tmp_path: Path, name: str) -> None:
    """A fixture case built the ways the pipeline builds (validated, full refresh, one business),
    then read by everything that reads the marts."""
    settings, config, rows, start, end, only = sql_case(CASES / name, {"validate_marts": True})
    url = f"duckdb://{tmp_path}/{name}.duckdb"
    settings = dataclasses.replace(settings, warehouse_url=url)
    runtime = runtime_of(settings, config)
    with connect(url, settings=settings) as wh:
        wh.init()
        load_calls(wh, rows)
        load_deleted(wh, CASES / name, rows)
        load_crm(wh, CASES / name, settings, config)
        build(wh, settings, start, end, config=config, businesses=only)
        build(wh, settings, start, end, config=config, full_refresh=True)
        business = sorted({r["business_id"] for r in rows})[0]
        build(wh, settings, end, end, config=config, businesses=[business])
        report.gather(wh, start, end, business)
        figures.vendor_comparison(wh, start, end)
        sensitivity.compute(wh, start, end, (30, 45), (12, 24))
    summary.summary_sections(runtime, start, end)
    export.run_export(runtime, start, end)


def test_every_statement_a_run_sends_is_accepted(tmp_path, simulators, warehouse_url):
    with recorded_statements() as statements:
        for name in SCENARIO_CASES:
            _case_run(tmp_path, name)
        settings = load_settings({"warehouse_url": warehouse_url, "validate_marts": True})
        runtime = runtime_of(settings)
        for source_id in ("ringostat_main", "hubspot_main"):
            ingest.run_extract(runtime, source_id, dt.date(2026, 11, 20))
        with connect(warehouse_url) as wh:
            models.run_models(wh, runtime, dt.date(2026, 11, 20), dt.date(2026, 11, 20))
    # The run reached what it should: every model built, every kind of write made.
    origins = {s.origin for s in statements}
    assert {f"model {t.ref}" for t in catalog.models_in_order()} <= origins
    written = {o.split(" ")[-1] for o in origins if o.startswith("write")}
    assert {t.ref for t in catalog.tables().values() if t.kind == "model"} <= written
    assert {"staging.calls", "staging.crm_leads", "raw.loads", "raw.validation_results"} <= written
    assert _refusals(statements) == []
    # BigQuery refuses a read of a table with require_partition_filter that does not filter
    # its partition column. The DuckDB backend's own writes are not what BigQuery is sent
    # (its upserts need no date bound): the backend's statements are checked below.
    unfiltered = {
        s.sql: reads
        for s in statements
        if not s.origin.startswith("write") and (reads := unfiltered_partition_reads(s.sql))
    }
    assert unfiltered == {}


def test_the_sensitivity_analysis_gives_googlesqls_rows(warehouse):
    """``sql/analyses/lead_sensitivity.sql`` (not a model, so not checked by the SQL cases) in
    GoogleSQL's reference engine over the built case: the same cells as on DuckDB. Its grid
    has cells where the one missed call is not recovered: a COUNTIF over NULLs only, 0 in
    GoogleSQL, and 0 on DuckDB only because the transpiler makes it so)."""
    from ringback.settings import project_root
    from ringback_dev.googlesql import comparable

    case = CASES / "callback_attempt_after_window"  # a callback 25 h after the missed call
    settings, config, rows, start, end, only = sql_case(case)
    load_calls(warehouse, rows)
    build(warehouse, settings, start, end, config=config, businesses=only)
    params = {
        "start_date": start,
        "end_date": end,
        "recovery_end_date": end + dt.timedelta(days=3),
        "talk_thresholds": [30, 45, 600],
        "recovery_windows": [60, 86400, 100800],
        "min_talk_threshold": 30,
        "max_recovery_window": 100800,
        "short_abandons": [0, 6],
        "all_businesses": True,
        "business_ids": [],
    }
    sql = (project_root() / "sql" / "analyses" / "lead_sensitivity.sql").read_text()
    contents = {
        ref: warehouse.query(f"SELECT * FROM {ref}").to_pylist()
        for ref in ("staging.primary_calls", "staging.unified_calls", "staging.business_settings")
    }
    duck = warehouse.query(sql, params).to_pylist()
    assert comparable(duck) == comparable(googlesql().execute(sql, params, contents))
    # the 90 s callback counts in the 28 h windows with thresholds 30 and 45 (each twice: the
    # grid's two short-abandon thresholds move no lead); the missed call rang 5 s (the case's
    # default), so a 6 s threshold makes it a short hang-up.
    assert len(duck) == 18 and sum(r["callback_leads"] for r in duck) == 4
    assert {r["short_abandon_seconds"]: r["abandoned_short"] for r in duck} == {0: 0, 6: 1}
