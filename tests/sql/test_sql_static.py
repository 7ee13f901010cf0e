"""Static checks of sql/: schemas, BigQuery parsing, transpile traps, partition filters, lint."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp

from ringback import analyses, catalog, models
from ringback.settings import load_settings
from ringback.warehouse.duckdb import to_duckdb_sql

ROOT = Path(__file__).resolve().parents[2]
MODELS = catalog.models_in_order()
SETTINGS = {
    "all_history": load_settings(),
    "finite_window": load_settings({"uniqueness_window_days": 30}),
}
CONTRACT_COLUMNS = [
    "business_id",
    "call_key",
    "system",
    "provider",
    "account_id",
    "provider_call_id",
    "direction",
    "customer_number",
    "company_number",
    "started_at",
    "wait_seconds",
    "talk_seconds",
    "status",
    "traffic_source",
    "traffic_medium",
    "campaign",
    "keyword",
    "landing_page",
    "gclid",
    "ga_client_id",
    "call_date",
    "load_id",
    # Who answered or placed the call, after the contract's columns.
    "employee_id",
    "employee_name",
    # The vendors' own verdicts, after those.
    "vendor_first_call",
    "vendor_target_call",
    "vendor_lead_status",
    "vendor_value",
    "vendor_tags",
    "vendor_spam",
]
MART_COLUMNS = {
    "marts.attributed_leads": [
        "business_id",
        "lead_id",
        "lead_call_key",
        "attributed_call_key",
        "attribution_type",
        "customer_hash",
        "lead_at",
        "lead_date",
        "attributed_at",
        "attributed_date",
        "traffic_source",
        "traffic_medium",
        "campaign",
        "keyword",
        "talk_seconds",
        "recovery_seconds",
    ],
    "marts.missed_calls": [
        "business_id",
        "call_key",
        "customer_hash",
        "missed_at",
        "missed_date",
        "traffic_source",
        "traffic_medium",
        "campaign",
        "keyword",
        "outcome",
        "recovered_by_call_key",
        "recovery_seconds",
    ],
    "marts.call_reconciliation": [
        "business_id",
        "report_date",
        "calltracking_calls",
        "telephony_calls",
        "matched_calls",
        "only_in_calltracking",
        "only_in_telephony_untracked",
        "only_in_telephony_tracked",
        "unmatched_ratio",
        "is_mismatch",
        "mismatch_reason",
    ],
    "marts.unmatched_calls": [
        "business_id",
        "call_key",
        "system",
        "report_date",
        "company_number",
        "customer_hash",
        "started_at",
        "reason",
    ],
}


def rendered(mode: str) -> list[tuple[str, str]]:
    return [(t.ref, models.render(t, SETTINGS[mode])) for t in MODELS]


def test_business_id_comes_first_and_clusters_every_staging_table_and_mart():
    # The table contract: business_id (STRING, required) first, and the first clustering column.
    for table in catalog.tables().values():
        if table.layer in ("staging", "marts"):
            first = table.columns[0]
            assert (first.name, first.type, first.required) == ("business_id", "STRING", True)
            assert table.clustering[:1] == ("business_id",), table.ref
    for view in catalog.views().values():
        assert view.column_names[0] == "business_id", view.ref


def test_staging_calls_is_exactly_the_contract_in_order():
    # An outside suite may insert positionally: the contract's columns in its order, and the
    # columns issues added after them at the end (never in between).
    assert catalog.table("staging.calls").column_names == CONTRACT_COLUMNS


@pytest.mark.parametrize("ref", sorted(MART_COLUMNS))
def test_marts_keep_the_contract_columns(ref):
    have = catalog.table(ref).column_names
    assert [c for c in have if c in MART_COLUMNS[ref]] == MART_COLUMNS[ref]


def test_marts_hold_no_phone_numbers():
    for table in catalog.tables().values():
        if table.layer == "marts":
            assert "customer_number" not in table.column_names, table.ref
            assert table.labels.get("contains_pii") != "true", table.ref


def test_every_column_is_documented_and_partitioned_models_say_how():
    for table in catalog.tables().values():
        assert table.description, table.ref
        assert all(c.description for c in table.columns), table.ref
        if table.write_mode == "partitions":
            assert table.partition_field in table.column_names


@pytest.mark.parametrize("mode", sorted(SETTINGS))
def test_models_parse_as_bigquery_and_transpile_to_duckdb(mode):
    for ref, sql in rendered(mode):
        tree = sqlglot.parse_one(sql, read="bigquery")
        assert isinstance(tree, exp.Query), ref
        duck, params = to_duckdb_sql(sql)
        day = dt.date(2026, 1, 1)
        window = models.RebuildWindow.for_run(day, day, SETTINGS[mode])
        assert duck and params <= set(models.query_params(window, SETTINGS[mode])), ref


@pytest.mark.parametrize("name", analyses.names())
def test_analyses_parse_as_bigquery_transpile_to_duckdb_and_read_the_contract(name):
    """The summary's, the report's and the headline's queries: BigQuery SQL over the analytics
    views and the operational tables, never over the marts or the restricted staging rows
    (the quarantine counts and the per-day call counts excepted)."""
    sql = analyses.sql(name)
    tree = sqlglot.parse_one(sql, read="bigquery")
    assert isinstance(tree, exp.Query), name
    duck, params = to_duckdb_sql(sql)
    assert duck, name
    assert bool(params) == ("@" in sql), name
    read = {f"{t.db}.{t.name}" for t in tree.find_all(exp.Table) if t.db}
    allowed = {"staging.calls_quarantine", "staging.crm_leads_quarantine", "staging.calls"}
    if name == "lead_sensitivity":  # the what-if grid recomputes the rules from staging
        allowed |= {"staging.primary_calls", "staging.unified_calls", "staging.business_settings"}
    assert {r for r in read if not r.startswith(("analytics.", "raw."))} <= allowed, name


@pytest.mark.parametrize("mode", sorted(SETTINGS))
def test_models_avoid_known_transpilation_traps(mode):
    # The traps BigQuery-to-DuckDB transpiling is known for, plus two found here: sqlglot
    # drops the parentheses of DIV(a - b, n)
    # for DuckDB, and TIMESTAMP_DIFF differs on sub-second values (handled by truncating
    # started_at to seconds in unified_calls).
    banned = {
        r"\bDECLARE\b": "procedural script",
        r"ARRAY_AGG\([^)]*\bLIMIT\b": "ARRAY_AGG(... LIMIT n)",
        r"\bDIV\s*\(": "DIV(...) transpiles without parentheses",
        r"\bPARTITION\s+BY\s+DATE": "partitioning DDL",
        r"\bCLUSTER\s+BY\b": "clustering DDL",
        r"\bTIMESTAMP\s*\([^)]*,": "TIMESTAMP(x, tz) has no DuckDB form",
    }
    for ref, sql in rendered(mode):
        for pattern, why in banned.items():
            assert not re.search(pattern, sql, re.IGNORECASE), f"{ref}: {why}"


def test_div_trap_is_real():
    # If a sqlglot upgrade fixes this, the ban above can go.
    duck = sqlglot.transpile("SELECT DIV(a - b, 1000)", read="bigquery", write="duckdb")[0]
    assert duck.replace(" ", "") != "SELECT(a-b)//1000"


@pytest.mark.parametrize("mode", sorted(SETTINGS))
def test_partitioned_inputs_are_filtered_on_their_partition_column(mode):
    """The BigQuery bytes-scanned guard: no query reads a whole partitioned table."""
    partitioned = {t.ref: t.partition_field for t in catalog.tables().values() if t.partition_field}
    for ref, sql in rendered(mode):
        tree = sqlglot.parse_one(sql, read="bigquery")
        for table in tree.find_all(exp.Table):
            name = f"{table.db}.{table.name}"
            if name not in partitioned:
                continue
            select = table.find_ancestor(exp.Select)
            where = select.args.get("where") if select else None
            columns = {c.name for c in where.find_all(exp.Column)} if where else set()
            assert partitioned[name] in columns, (
                f"{ref} reads {name} without a filter on {partitioned[name]}"
            )


def test_every_model_declares_exactly_the_tables_its_sql_reads():
    """``depends_on`` wires the marts DAG's tasks: it must be the SQL's own table references
    (bigquery-etl checks the same), or a model could run before what it reads."""
    import sqlglot

    from ringback import catalog, models
    from ringback.settings import load_settings

    settings = load_settings()
    for table in catalog.models_in_order():
        tree = sqlglot.parse_one(models.render(table, settings), read="bigquery")
        # A table named with its layer is a table; a bare name is a CTE.
        read = {f"{t.db}.{t.name}" for t in tree.find_all(sqlglot.exp.Table) if t.db}
        assert read - {table.ref} == set(table.depends_on) - {table.ref}, table.ref
