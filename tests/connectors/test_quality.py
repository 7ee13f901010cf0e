"""Great Expectations suites per layer: each family rejects or quarantines a crafted bad batch
and accepts a good one; marts are audited before they replace partitions; results are kept."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from ringback import audits, catalog, models, quality
from ringback.alerts import notify_failure
from ringback.settings import ConfigError, load_settings
from ringback_dev.simulators.crm_journeys import CrmGenerator, crm_staging_rows
from ringback_dev.simulators.journeys import JourneyGenerator, staging_rows

from helpers import build, connect, load_calls, load_crm_rows, runtime_of, table_rows

DAY = dt.date(2026, 11, 10)
START = dt.datetime(2026, 11, 9, 22, 0, tzinfo=dt.UTC)


def failed(report: dict) -> dict[tuple[str, str | None], str]:
    return {(f["expectation"], f["column"]): f["severity"] for f in report["failed"]}


# -- raw -----------------------------------------------------------------------------------------
def raw_frame(n: int = 200, disposition: str = "ANSWER") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "record_index": range(n),
            "provider_call_id": [str(1000 + i) for i in range(n)],
            "started_at": [START + dt.timedelta(minutes=i) for i in range(n)],
            "disposition": [disposition] * n,
            "in_window": [True] * n,
        }
    ).astype({"provider_call_id": "object"})


@pytest.mark.parametrize(
    ("provider", "disposition"),
    [
        ("ringostat", "PROPER"),
        ("binotel", "ANSWER"),
        ("callrail", "ANSWERED"),
        ("twilio", "COMPLETED"),
        ("zadarma", "NO ANSWER"),
        ("asterisk_csv", "CONGESTION"),
        ("asterisk_db", "ANSWERED"),
    ],
)
def test_raw_suites_accept_good_records(provider, disposition):
    report = quality.validate_raw(raw_frame(disposition=disposition), provider, "t")
    assert report["success"] and report["failed"] == []


def test_every_load_suite_has_a_derived_checkpoint_and_none_is_written_to_the_project():
    context = quality._context()
    suites = quality.load_suites()
    assert {"staging_calls", "staging_crm_leads", "raw_binotel"} <= set(suites)
    assert sorted(cp.name for cp in context.checkpoints.all()) == sorted(
        quality.checkpoint_name(s) for s in suites
    )
    for suite in suites:
        checkpoint = context.checkpoints.get(quality.checkpoint_name(suite))
        (definition,) = checkpoint.validation_definitions
        assert definition.suite.name == suite
    root = Path(quality.gx_root())
    assert not (root / "checkpoints").exists() and not (root / "validation_definitions").exists()


def test_raw_suite_families():
    frame = raw_frame()
    frame.loc[:9, "provider_call_id"] = None  # 5 % without an id: the format changed
    frame.loc[10, "provider_call_id"] = frame.loc[11, "provider_call_id"]
    frame.loc[12, "disposition"] = "TELEPORTED"
    frame.loc[13, "in_window"] = False
    frame.loc[14:30, "started_at"] = None
    report = quality.validate_raw(frame, "binotel", "t")
    got = failed(report)
    assert not report["success"]
    assert got[("expect_column_values_to_not_be_null", "provider_call_id")] == "critical"
    assert got[("expect_column_values_to_not_be_null", "started_at")] == "critical"
    assert got[("expect_column_values_to_be_unique", "provider_call_id")] == "warning"
    assert got[("expect_column_values_to_be_in_set", "disposition")] == "warning"
    assert got[("expect_column_values_to_be_in_set", "in_window")] == "warning"
    few = raw_frame()
    few.loc[0, "provider_call_id"] = None  # 0.5 %: quarantined by mapping, load goes on
    assert quality.validate_raw(few, "binotel", "t")["success"]


# -- staging -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def staged_frame() -> pd.DataFrame:
    settings = load_settings()
    rows = staging_rows(JourneyGenerator(seed=2, customers_per_day=20), DAY, DAY, settings.tz)
    frame = catalog.table("staging.calls").to_arrow(rows).to_pandas()
    frame["total_seconds"] = frame["talk_seconds"] + frame["wait_seconds"]
    frame["provider_status"] = "X"
    return frame


def test_staging_accepts_a_good_batch(staged_frame):
    report = quality.validate_staged_calls(staged_frame, load_settings(), "t", (1, 10**6))
    assert report["success"] and report["failed"] == []


@pytest.mark.parametrize(
    ("column", "value", "expectation"),
    [
        ("call_key", "dup", "expect_column_values_to_be_unique"),
        ("system", "crm", "expect_column_values_to_be_in_set"),
        ("direction", "sideways", "expect_column_values_to_be_in_set"),
        ("status", "teleported", "expect_column_values_to_be_in_set"),
        ("call_date", dt.date(2020, 1, 1), "expect_column_values_to_be_in_set"),
        ("started_at", None, "expect_column_values_to_not_be_null"),
    ],
)
def test_staging_batch_level_rules_fail_the_load(staged_frame, column, value, expectation):
    frame = staged_frame.copy()
    frame.loc[[0, 1], column] = value
    report = quality.validate_staged_calls(frame, load_settings(), "t")
    assert not report["success"]
    check_column = "call_date_matches_started_at" if column == "call_date" else column
    assert failed(report).get((expectation, check_column)) == "critical", failed(report)


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        ("customer_number", "0671234567", "invalid_customer_number"),
        ("talk_seconds", 10**6, "implausible_talk_time"),
        ("total_seconds", 0, "talk_exceeds_total"),
    ],
)
def test_staging_row_level_rules_name_rows_to_quarantine(staged_frame, column, value, reason):
    frame = staged_frame.copy()
    answered = frame.index[frame["talk_seconds"] > 0][:2]
    frame.loc[answered, column] = value
    if column == "talk_seconds":
        frame.loc[answered, "total_seconds"] = value
    report = quality.validate_staged_calls(frame, load_settings(), "t")
    assert report["success"]  # the rows go to quarantine, the load goes on
    assert sorted(report["row_failures"][reason]) == sorted(frame.loc[answered, "call_key"])
    entry = next(f for f in report["failed"] if f["quarantine_reason"] == reason)
    assert entry["severity"] == "quarantine"
    if column == "customer_number":
        assert entry["examples"] == []  # no phone numbers in reports


def test_staging_warnings_volume_and_empty(staged_frame):
    report = quality.validate_staged_calls(
        staged_frame, load_settings(), "t", (len(staged_frame) * 2, len(staged_frame) * 4)
    )
    assert report["success"]
    assert failed(report) == {("expect_table_row_count_to_be_between", None): "warning"}
    empty = quality.validate_staged_calls(staged_frame.iloc[0:0], load_settings(), "t")
    assert empty["success"] and empty["warnings"] >= 1


# -- marts ---------------------------------------------------------------------------------------
# Mart suites run in the warehouse (audits.py): the same GX suite files, compiled to one query.
@pytest.fixture(scope="module")
def built(tmp_path_factory):
    settings = load_settings()
    rows = staging_rows(
        JourneyGenerator(seed=4, customers_per_day=30), DAY, DAY + dt.timedelta(days=2), settings.tz
    )
    url = f"duckdb://{tmp_path_factory.mktemp('marts')}/warehouse.duckdb"
    now = dt.datetime.combine(DAY + dt.timedelta(days=4), dt.time(), tzinfo=dt.UTC)
    crm = crm_staging_rows(
        CrmGenerator(JourneyGenerator(seed=4, customers_per_day=30)),
        DAY,
        DAY + dt.timedelta(days=2),
        now,
        settings.tz,
    )
    with connect(url) as wh:
        wh.init()
        load_calls(wh, rows)
        load_crm_rows(wh, crm, now - dt.timedelta(days=6), now)
        build(wh, settings, DAY, DAY + dt.timedelta(days=2))
        yield wh


def mart(wh, name: str) -> pd.DataFrame:
    return wh.query(f"SELECT * FROM marts.{name}").to_pandas()


def audit_frame(wh, name: str, frame: pd.DataFrame) -> dict:
    """The mart's audit on rows held aside, as a model run holds its new rows."""
    table = catalog.table(f"marts.{name}")
    arrow = pa.Table.from_pandas(frame, preserve_index=False).cast(table.arrow_schema())
    wh.con.register("rows_aside", arrow)
    try:
        return audits.audit(wh, table, "rows_aside", "t", {"recovery_window_seconds": 86400})
    finally:
        wh.con.unregister("rows_aside")


def test_model_runs_validate_every_mart_and_keep_the_results(built):
    results = {r["checkpoint"]: r for r in table_rows(built, "raw.validation_results")}
    assert set(results) == {
        f"marts_{n}_build"
        for n in (
            "attributed_leads",
            "missed_calls",
            "call_reconciliation",
            "unmatched_calls",
            "missed_call_followups",
            "call_handling_hourly",
            "crm_leads",
            "crm_reconciliation",
            "vendor_comparison",
            "reconciliation_incidents",
            "tracking_number_health",
        )
    }
    assert all(r["success"] for r in results.values())
    # The fixture's staging rows carry no vendor flags, so vendor_comparison has no rows here
    # (its causes-add-up checks run on every demo and end-to-end build).
    assert all(r["rows"] > 0 for c, r in results.items() if c != "marts_vendor_comparison_build")
    assert {r["evaluated"] for r in results.values()} == {3, 4, 5, 6, 7, 9}


def test_mart_audits_import_no_great_expectations(tmp_path):
    """A models run does not pay GX's import (seconds in every process before)."""
    code = (
        "import sys, datetime as dt\n"
        "from ringback.runtime import Runtime\n"
        "from ringback import models\n"
        f"rt = Runtime.load({{'warehouse_url': 'duckdb://{tmp_path}/w.duckdb'}})\n"
        "with rt.connect() as wh:\n"
        "    wh.init()\n"
        "    models.run_models(wh, rt, dt.date(2026, 11, 10), dt.date(2026, 11, 10))\n"
        "print('great_expectations' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip().splitlines()[-1] == "False"


@pytest.mark.parametrize(
    "name",
    ["attributed_leads", "missed_calls", "call_reconciliation", "crm_leads", "crm_reconciliation"],
)
def test_every_mart_expectation_compiles_to_sql(built, name):
    report = audit_frame(built, name, mart(built, name))
    assert report["success"] and report["rows"] > 0
    assert report["evaluated"] == len(audits.suite(f"marts.{name}"))


@pytest.mark.parametrize(
    ("name", "breaks", "expectation", "column"),
    [
        (
            "attributed_leads",
            lambda d: d.assign(lead_id=d["lead_id"].iloc[0]),
            "expect_compound_columns_to_be_unique",
            None,
        ),
        (
            "attributed_leads",
            lambda d: d.assign(customer_hash="+380671234567"),
            "expect_column_values_to_match_regex",
            "customer_hash",
        ),
        (
            "attributed_leads",
            lambda d: d.assign(recovery_seconds=90_000),
            "expect_column_values_to_be_between",
            "recovery_seconds",
        ),
        (
            "attributed_leads",
            lambda d: d.assign(talk_seconds=5),
            "expect_column_values_to_be_in_set",
            "lead_is_conversation",
        ),
        (
            "attributed_leads",
            lambda d: d.assign(
                lead_call_key=d["lead_call_key"] + "x", attribution_type="primary_call"
            ),
            "expect_column_values_to_be_in_set",
            "primary_has_no_recovery",
        ),
        (
            "attributed_leads",
            lambda d: d.assign(attribution_type="organic"),
            "expect_column_values_to_be_in_set",
            "attribution_type",
        ),
        (
            "missed_calls",
            lambda d: d.assign(outcome="lost"),
            "expect_column_values_to_be_in_set",
            "outcome",
        ),
        (
            "missed_calls",
            lambda d: d.assign(recovered_by_call_key=None, outcome="recovered_retry"),
            "expect_column_values_to_be_in_set",
            "recovered_iff_call",
        ),
        (
            "call_reconciliation",
            lambda d: d.assign(matched_calls=d["matched_calls"] + 1),
            "expect_column_values_to_be_in_set",
            "counts_add_up",
        ),
        (
            "call_reconciliation",
            lambda d: d.assign(mismatch_reason="untracked_number", is_mismatch=False),
            "expect_column_values_to_be_in_set",
            "reason_iff_mismatch",
        ),
        (
            "call_reconciliation",
            lambda d: d.assign(unmatched_ratio=1.5),
            "expect_column_values_to_be_between",
            "unmatched_ratio",
        ),
        (
            "crm_leads",
            lambda d: d.assign(lead_id=d["lead_id"].dropna().iloc[0]),
            "expect_column_values_to_be_in_set",
            "lead_matched_once",
        ),
        (
            "crm_leads",
            lambda d: d.assign(crm_delay_seconds=-7200),
            "expect_column_values_to_be_in_set",
            "delay_in_window",
        ),
        (
            "crm_leads",
            lambda d: d.assign(deal_won=True, deal_won_at=None),
            "expect_column_values_to_be_in_set",
            "won_iff_won_at",
        ),
        (
            "crm_reconciliation",
            lambda d: d.assign(matched=d["matched"] + 1),
            "expect_column_values_to_be_in_set",
            "counts_add_up",
        ),
        (
            "crm_reconciliation",
            lambda d: d.assign(mismatch_reason="crm_only_manual", is_mismatch=False),
            "expect_column_values_to_be_in_set",
            "reason_iff_mismatch",
        ),
        (
            "unmatched_calls",
            lambda d: d.assign(reason="aliens"),
            "expect_column_values_to_be_in_set",
            "reason",
        ),
    ],
)
def test_mart_suites_reject_broken_rows(built, name, breaks, expectation, column):
    good = mart(built, name)
    assert audit_frame(built, name, good)["success"]
    report = audit_frame(built, name, breaks(good))
    key = (expectation, column)
    assert not report["success"]
    assert failed(report).get(key) == "critical", failed(report)
    (entry,) = [f for f in report["failed"] if (f["expectation"], f["column"]) == key]
    assert entry["unexpected_count"] >= 1


def test_mart_audit_failures_show_up_to_five_examples(built):
    leads = mart(built, "attributed_leads")
    report = audit_frame(built, "attributed_leads", leads.assign(customer_hash="+380671234567"))
    (entry,) = report["failed"]
    assert entry["unexpected_count"] == len(leads)
    # customer_hash is not a PII column by name, so its (bad) values are shown: a hash column
    # holding a phone number is exactly what the operator must see.
    assert entry["examples"] == ["+380671234567"] * min(5, len(leads))


def test_a_mart_suite_with_a_type_the_warehouse_cannot_evaluate_is_refused(tmp_path, monkeypatch):
    (tmp_path / "expectations/expectations").mkdir(parents=True)
    (tmp_path / "expectations/expectations/marts_missed_calls.json").write_text(
        json.dumps({"expectations": [{"type": "expect_column_kl_divergence", "kwargs": {}}]})
    )
    monkeypatch.setenv("RINGBACK_HOME", str(tmp_path))
    audits.suite.cache_clear()
    try:
        with pytest.raises(ConfigError, match="expect_column_kl_divergence"):
            audits.suite("marts.missed_calls")
    finally:
        audits.suite.cache_clear()


def test_a_failed_mart_leaves_its_partitions_untouched(built):
    settings = load_settings()
    table = catalog.table("marts.attributed_leads")
    before = table_rows(built, table.ref, "lead_id")
    broken = models.render(table, settings) + "\nUNION ALL\n" + models.render(table, settings)
    window = models.RebuildWindow.for_run(DAY, DAY, settings)
    scope = models.BusinessScope(None, {"default": settings}, frozenset(), {})
    reports: list = []
    with pytest.raises(audits.ValidationFailed, match="partitions were not replaced"):
        built.run_model(
            table,
            broken,
            models.query_params(window, settings),
            models.PartitionRange(window.start, window.end),
            models._audit_for(built, table, settings, scope, window, reports),
        )
    assert table_rows(built, table.ref, "lead_id") == before
    assert reports and not reports[0]["success"]


@pytest.mark.serial  # the docs read every stored validation result, which other workers write
def test_data_docs_are_built_and_old_results_pruned(monkeypatch):
    frame = raw_frame()
    quality.validate_raw(frame, "binotel", "docs-test")
    stored = sorted(quality.validations_dir().rglob("*.json"), key=lambda p: p.stat().st_mtime)
    old = stored[-1]
    month_ago = old.stat().st_mtime - 31 * 86400
    os.utime(old, (month_ago, month_ago))
    monkeypatch.setenv("RINGBACK_BUILD_DATA_DOCS", "true")
    index = quality.update_data_docs(load_settings())
    assert not old.exists()
    assert index and Path(index).exists() and "raw_binotel" in Path(index).read_text()


def test_each_load_validation_is_named_by_source_run_date_and_load_id(monkeypatch):
    quality.validate_raw(raw_frame(), "binotel", "binotel_main:2026-11-22")
    name = "binotel_main 2026-11-22 load binotel_main:2026-11-22"
    stored = [p for p in quality.validations_dir().rglob("*.json") if name in p.parts]
    assert stored, "no validation result stored under the load's run name"
    monkeypatch.setenv("RINGBACK_BUILD_DATA_DOCS", "true")
    index = quality.update_data_docs(load_settings())
    assert index and name in Path(index).read_text()


# -- alerts --------------------------------------------------------------------------------------
class FakeTaskInstance:
    dag_id, task_id, try_number = "ringback_ingest_binotel_main", "validate", 2


def test_failure_alert_goes_to_the_slack_webhook(monkeypatch):
    received: list[dict] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv(
            "AIRFLOW_CONN_RINGBACK_SLACK",
            f"http://127.0.0.1:{server.server_address[1]}/services/T0/B0/secret",
        )
        error = quality.ValidationFailed(
            "binotel_main:2026-11-10: validation failed (critical "
            "expect_column_values_to_be_unique on call_key (2 rows))"
        )
        sent = notify_failure(
            {
                "task_instance": FakeTaskInstance(),
                "exception": error,
                "params": {"run_date": "2026-11-10"},
            }
        )
    finally:
        server.shutdown()
    assert sent and len(received) == 1
    text = received[0]["text"]
    assert "ringback_ingest_binotel_main.validate failed for 2026-11-10 (try 2)" in text
    assert "2 rows" in text and "Data Docs" in text and "secret" not in text


def test_failure_alert_without_slack_goes_to_the_log(caplog, capsys, monkeypatch):
    monkeypatch.delenv("AIRFLOW_CONN_RINGBACK_SLACK", raising=False)
    with caplog.at_level("ERROR"):
        assert not notify_failure(
            {"task_instance": FakeTaskInstance(), "exception": RuntimeError("boom")}
        )
    # Airflow, once imported, routes logging through structlog to stdout.
    logged = caplog.text + capsys.readouterr().out
    assert "validate failed" in logged and "boom" in logged


def test_volume_bounds_follow_the_median_of_the_last_14_good_loads(warehouse, warehouse_url):
    from ringback.ingest import volume_bounds

    loads = catalog.table("raw.loads")
    now = dt.datetime(2026, 11, 20, tzinfo=dt.UTC)
    rows = []
    for n in range(20):
        day = DAY - dt.timedelta(days=n + 1)
        rows.append(
            {
                "load_id": f"s:{day}",
                "source_id": "s",
                "provider": "binotel",
                "load_date": day,
                "window_start_at": now,
                "window_end_at": now,
                "requests": 1,
                "received_records": 100 + n,
                "staged_records": 100 + n if n < 14 else 5000,
                "quarantined_records": 0,
                "validation_success": n != 3,
                "validation_warnings": 0,
                "started_at": now,
                "finished_at": now,
            }
        )
    warehouse.write(loads, loads.to_arrow(rows))
    warehouse.close()
    # The 14 most recent good loads skip the failed one (n=3) and so reach n=14, an outlier of
    # 5,000 rows: 100, 101, 102, 104..113, 5000. The median (108) shrugs it off.
    runtime = runtime_of(load_settings({"warehouse_url": warehouse_url}))
    assert volume_bounds(runtime, "s", DAY) == (54, 217)
    assert volume_bounds(runtime, "other", DAY) is None  # no history: no bounds
