"""extract -> validate -> publish against the simulators: counts, reruns, live calls, WAP."""

from __future__ import annotations

import datetime as dt
import hashlib

import pyarrow as pa
import pytest

from ringback import ingest
from ringback.settings import load_settings
from ringback_dev.simulators import connection_uri, start_all
from ringback_dev.simulators.journeys import JourneyGenerator

from helpers import connect, runtime_of, table_rows

RUN_DATE = dt.date(2026, 11, 20)


@pytest.fixture
def simulators(monkeypatch):
    def start(now: dt.datetime):
        sims = start_all(generator=JourneyGenerator(seed=5, customers_per_day=30))
        for sim in sims.values():
            sim._now = now
        for name, sim in sims.items():
            monkeypatch.setenv(
                f"AIRFLOW_CONN_{name.upper()}_MAIN", connection_uri(name, sim.base_url)
            )
        started.append(sims)
        return sims

    started: list = []
    yield start
    for sims in started:
        for sim in sims.values():
            sim.stop()


def staging_checksum(url: str) -> str:
    with connect(url, read_only=True) as wh:
        rows = table_rows(wh, "staging.calls", "call_key")
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def test_extract_loads_both_sources_and_counts_add_up(simulators, warehouse_url):
    simulators(dt.datetime(2026, 11, 23, 6, 0, tzinfo=dt.UTC))
    settings = load_settings({"warehouse_url": warehouse_url})
    for source_id in ("ringostat_main", "binotel_main"):
        manifest = ingest.run_extract(runtime_of(settings), source_id, RUN_DATE)
        assert manifest.received_records > 100
        assert manifest.received_records == manifest.staged_records + manifest.quarantined_records
    with connect(warehouse_url, read_only=True) as wh:
        loads = table_rows(wh, "raw.loads", "source_id")
        assert [r["validation_success"] for r in loads] == [True, True]
        raw = wh.query("SELECT count(*) AS n FROM raw.call_records").to_pylist()[0]["n"]
        assert raw == sum(r["received_records"] for r in loads)
        days = wh.query("SELECT DISTINCT call_date FROM staging.calls ORDER BY 1").to_pylist()
        assert [d["call_date"] for d in days] == [
            RUN_DATE - dt.timedelta(days=n) for n in (3, 2, 1, 0)
        ]


def test_rerunning_a_day_gives_the_same_staging(simulators, warehouse_url):
    simulators(dt.datetime(2026, 11, 23, 6, 0, tzinfo=dt.UTC))
    settings = load_settings({"warehouse_url": warehouse_url})
    ingest.run_extract(runtime_of(settings), "ringostat_main", RUN_DATE)
    first = staging_checksum(warehouse_url)
    ingest.run_extract(runtime_of(settings), "ringostat_main", RUN_DATE)
    ingest.run_extract(runtime_of(settings), "ringostat_main", RUN_DATE)
    assert staging_checksum(warehouse_url) == first
    with connect(warehouse_url, read_only=True) as wh:
        counts = wh.query("SELECT count(*) AS n FROM raw.call_records").to_pylist()[0]["n"]
        staged = wh.query("SELECT count(*) AS n FROM staging.calls").to_pylist()[0]["n"]
    assert counts == staged  # raw keeps one copy per (source, run date), not one per attempt


def test_live_calls_wait_in_quarantine_and_stage_on_the_next_pull(simulators, warehouse_url):
    sims = simulators(dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC))  # mid-morning in Kyiv
    settings = load_settings({"warehouse_url": warehouse_url})
    generator = sims["ringostat"].generator
    live = [
        c
        for c in generator.calls_between(
            dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC), sims["ringostat"].now
        )
        if c.ended_at > sims["ringostat"].now and c.seen_by_calltracking
    ]
    manifest = ingest.run_extract(runtime_of(settings), "ringostat_main", RUN_DATE)
    assert manifest.quarantine_reasons.get("call_in_progress", 0) == len(live)
    for sim in sims.values():
        sim._now = dt.datetime(2026, 11, 21, 6, 0, tzinfo=dt.UTC)
    ingest.run_extract(runtime_of(settings), "ringostat_main", RUN_DATE + dt.timedelta(days=1))
    with connect(warehouse_url, read_only=True) as wh:
        keys = {r["provider_call_id"] for r in table_rows(wh, "staging.calls")}
    assert all(f"{int(c.started_at.timestamp())}.{c.call_id[-5:]}" in keys for c in live)


def test_failed_validation_leaves_published_data_untouched(simulators, warehouse_url):
    simulators(dt.datetime(2026, 11, 23, 6, 0, tzinfo=dt.UTC))
    settings = load_settings({"warehouse_url": warehouse_url})
    ingest.run_extract(runtime_of(settings), "ringostat_main", RUN_DATE)
    before = staging_checksum(warehouse_url)

    rt = runtime_of(settings)
    load_id = ingest.extract(rt, rt.source("ringostat_main"), RUN_DATE + dt.timedelta(days=1))
    staged = rt.batches.read_table(load_id, "staged").to_pandas()
    staged.loc[1, "call_key"] = staged.loc[0, "call_key"]  # batch-level: keys must be unique
    staged.loc[2, "status"] = "teleported"  # batch-level: contract domain
    rt.batches.write_table(load_id, "staged", pa.Table.from_pandas(staged, preserve_index=False))
    report = ingest.validate(rt, load_id)
    assert not report.success
    failed = {(f["expectation"], f["column"]) for s in report.suites for f in s["failed"]}
    assert ("expect_column_values_to_be_unique", "call_key") in failed
    assert ("expect_column_values_to_be_in_set", "status") in failed
    with pytest.raises(ingest.ValidationFailed, match=r"staging\.calls was not changed"):
        ingest.publish(rt, load_id)
    assert staging_checksum(warehouse_url) == before
    with connect(warehouse_url, read_only=True) as wh:
        loads = table_rows(wh, "raw.loads", "load_date")
        results = table_rows(wh, "raw.validation_results", "validation_id")
    assert [r["validation_success"] for r in loads] == [True, False]
    assert {(r["checkpoint"], r["success"]) for r in results} == {
        ("raw_ringostat_load", True),
        ("staging_calls_load", True),
        ("staging_calls_load", False),
    } | {("raw_ringostat_load", True)}


def test_row_level_failures_are_quarantined_and_the_load_goes_on(simulators, warehouse_url):
    simulators(dt.datetime(2026, 11, 23, 6, 0, tzinfo=dt.UTC))
    settings = load_settings({"warehouse_url": warehouse_url})
    rt = runtime_of(settings)
    load_id = ingest.extract(rt, rt.source("ringostat_main"), RUN_DATE)
    staged = rt.batches.read_table(load_id, "staged").to_pandas()
    bad = {
        staged.loc[0, "call_key"]: "invalid_customer_number",
        staged.loc[1, "call_key"]: "talk_exceeds_total",
        staged.loc[2, "call_key"]: "implausible_talk_time",
    }
    staged.loc[0, "customer_number"] = "12345"
    staged.loc[1, "total_seconds"] = int(staged.loc[1, "talk_seconds"]) - 1
    staged.loc[1, "talk_seconds"] = max(int(staged.loc[1, "talk_seconds"]), 1)
    staged.loc[2, "talk_seconds"] = 100_000
    staged.loc[2, "total_seconds"] = 200_000
    rt.batches.write_table(load_id, "staged", pa.Table.from_pandas(staged, preserve_index=False))
    report = ingest.validate(rt, load_id)
    assert report.success and report.quarantined_by_expectations == 3
    manifest = ingest.publish(rt, load_id)
    assert manifest.received_records == manifest.staged_records + manifest.quarantined_records
    with connect(warehouse_url, read_only=True) as wh:
        quarantined = {r["provider_call_id"]: r for r in table_rows(wh, "staging.calls_quarantine")}
        staged_keys = {r["call_key"] for r in table_rows(wh, "staging.calls")}
    for key, reason in bad.items():
        assert key not in staged_keys
        row = quarantined[key.rsplit(":", 1)[1]]
        assert row["reason"] == reason and row["record"]  # the record as received comes along


def test_too_many_quarantined_records_stop_the_load(simulators, warehouse_url):
    simulators(dt.datetime(2026, 11, 23, 6, 0, tzinfo=dt.UTC))
    settings = load_settings({"warehouse_url": warehouse_url, "max_quarantine_ratio": 0.05})
    rt = runtime_of(settings)
    load_id = ingest.extract(rt, rt.source("binotel_main"), RUN_DATE)
    staged = rt.batches.read_table(load_id, "staged").to_pandas()
    staged.loc[: len(staged) // 10, "customer_number"] = "not-a-number"
    rt.batches.write_table(load_id, "staged", pa.Table.from_pandas(staged, preserve_index=False))
    report = ingest.validate(rt, load_id)
    assert not report.success and report.quarantine_ratio > 0.05
    assert report.failed[0]["expectation"] == "quarantine_ratio"


def test_publish_refuses_an_unvalidated_batch(simulators, warehouse_url):
    simulators(dt.datetime(2026, 11, 23, 6, 0, tzinfo=dt.UTC))
    rt = runtime_of(load_settings({"warehouse_url": warehouse_url}))
    load_id = ingest.extract(rt, rt.source("binotel_main"), RUN_DATE)
    with pytest.raises(ingest.ValidationFailed, match="never validated"):
        ingest.publish(rt, load_id)


def test_a_record_that_changes_between_pulls_lands_in_its_new_state(simulators, warehouse_url):
    sims = simulators(dt.datetime(2026, 11, 23, 6, 0, tzinfo=dt.UTC))
    settings = load_settings({"warehouse_url": warehouse_url})
    ingest.run_extract(runtime_of(settings), "binotel_main", RUN_DATE)
    generator = sims["binotel"].generator
    missed = next(
        c
        for c in generator.day(RUN_DATE).calls
        if c.status == "missed" and c.seen_by_telephony and c.direction == "inbound"
    )
    for sim in sims.values():  # the provider re-classifies the call: it was answered after all
        sim.changes[missed.call_id] = {"status": "answered", "talk_seconds": 77}
    ingest.run_extract(runtime_of(settings), "binotel_main", RUN_DATE + dt.timedelta(days=1))
    key = f"binotel:demo-company:{20_000_000 + int(missed.call_id)}"
    with connect(warehouse_url, read_only=True) as wh:
        rows = wh.query(
            "SELECT status, talk_seconds FROM staging.calls WHERE call_key = @k", {"k": key}
        ).to_pylist()
    assert rows == [{"status": "answered", "talk_seconds": 77}]


def test_duplicates_across_pages_are_quarantined_not_doubled(
    simulators, warehouse_url, tmp_path, monkeypatch
):
    sources = tmp_path / "sources.yaml"
    sources.write_text(
        "sources:\n  - {id: callrail_main, provider: callrail, account_id: ACC0000demo,\n"
        "     time_zone: America/New_York, default_region: US, per_page: 40, paging: offset}\n"
    )
    monkeypatch.setenv("RINGBACK_CONFIG", str(sources))
    sims = simulators(dt.datetime(2026, 11, 23, 6, 0, tzinfo=dt.UTC))
    settings = load_settings({"warehouse_url": warehouse_url})
    source = runtime_of(settings).source("callrail_main")
    sims["callrail"].faults.add("duplicate_across_pages")
    # The connector asks one day past the window (in case end_date is exclusive); here the
    # server reads it exclusive, so the doubled record is inside the window, not trimmed.
    sims["callrail"].end_date_inclusive = False
    clean = ingest.run_extract(runtime_of(settings), "callrail_main", RUN_DATE)
    assert clean.quarantine_reasons == {"duplicate_in_batch": 1}
    window_calls = [
        c
        for c in sims["callrail"].calls_between(
            ingest.Window.for_run(RUN_DATE, 3, source.tz).start_at,
            ingest.Window.for_run(RUN_DATE, 3, source.tz).end_at,
        )
        # The account's spam filter hides the robocallers (the simulator's hide_spam).
        if c.seen_by_calltracking and c.journey != "spam"
    ]
    assert clean.staged_records == len(window_calls)
    assert clean.received_records == clean.staged_records + 1


def test_an_ignored_twilio_window_stops_the_load(simulators, warehouse_url):
    """A server that ignores the date filter returns weeks of legs: quarantined, and the share of
    quarantined records stops the load instead of publishing a partial picture."""
    sims = simulators(dt.datetime(2026, 11, 23, 6, 0, tzinfo=dt.UTC))
    sims["twilio"].ignore_window = True
    settings = load_settings({"warehouse_url": warehouse_url})
    with pytest.raises(ingest.ValidationFailed, match="quarantine_ratio"):
        ingest.run_extract(runtime_of(settings), "twilio_main", RUN_DATE)
    with connect(warehouse_url, read_only=True) as wh:
        staged = wh.query("SELECT COUNT(*) AS n FROM staging.calls").to_pylist()[0]["n"]
        reasons = {r["reason"] for r in table_rows(wh, "staging.calls_quarantine")}
    assert staged == 0 and "outside_window" in reasons


def binotel_key(call) -> str:
    return f"binotel:demo-company:{20_000_000 + int(call.call_id)}"


def deleted_state(url: str) -> dict[str, bool]:
    with connect(url, read_only=True) as wh:
        rows = wh.query("SELECT call_key, is_deleted FROM staging.deleted_calls").to_pylist()
    return {r["call_key"]: r["is_deleted"] for r in rows}


def test_a_call_the_provider_deleted_is_soft_deleted_and_left_out_of_the_models(
    simulators, warehouse_url
):
    """Before: an upsert by key kept a call the provider had deleted, forever, in every mart."""
    from helpers import build

    sims = simulators(dt.datetime(2026, 11, 23, 6, 0, tzinfo=dt.UTC))
    settings = load_settings({"warehouse_url": warehouse_url, "validate_marts": False})
    ingest.run_extract(runtime_of(settings), "binotel_main", RUN_DATE)
    call = next(
        c
        for c in sims["binotel"].generator.day(RUN_DATE - dt.timedelta(days=1)).calls
        if c.seen_by_telephony and c.direction == "inbound" and c.customer_number
    )
    sims["binotel"].changes[call.call_id] = {"deleted": True}
    ingest.run_extract(runtime_of(settings), "binotel_main", RUN_DATE + dt.timedelta(days=1))
    assert deleted_state(warehouse_url) == {binotel_key(call): True}
    with connect(warehouse_url) as wh:
        kept = wh.query(
            "SELECT count(*) AS n FROM staging.calls WHERE call_key = @k", {"k": binotel_key(call)}
        ).to_pylist()[0]["n"]
        raw = wh.query(
            "SELECT count(*) AS n FROM raw.call_records WHERE provider_call_id = @i",
            {"i": binotel_key(call).rsplit(":", 1)[1]},
        ).to_pylist()[0]["n"]
        assert (kept, raw) == (1, 1)  # kept in staging and in the earlier load's raw records
        build(wh, settings, RUN_DATE - dt.timedelta(days=3), RUN_DATE)
        unified = wh.query(
            "SELECT count(*) AS n FROM staging.unified_calls WHERE tel_call_key = @k",
            {"k": binotel_key(call)},
        ).to_pylist()[0]["n"]
        assert unified == 0
    # Listed again later (the deletion was undone): back in the models.
    del sims["binotel"].changes[call.call_id]
    ingest.run_extract(runtime_of(settings), "binotel_main", RUN_DATE + dt.timedelta(days=2))
    assert deleted_state(warehouse_url) == {binotel_key(call): False}


def test_an_empty_answer_soft_deletes_nothing(simulators, warehouse_url):
    sims = simulators(dt.datetime(2026, 11, 23, 6, 0, tzinfo=dt.UTC))
    settings = load_settings({"warehouse_url": warehouse_url})
    ingest.run_extract(runtime_of(settings), "binotel_main", RUN_DATE)
    for day in range(4):  # the provider loses two days' calls at once
        for c in sims["binotel"].generator.day(RUN_DATE - dt.timedelta(days=day)).calls:
            if day < 2:
                sims["binotel"].changes[c.call_id] = {"deleted": True}
    ingest.run_extract(runtime_of(settings), "binotel_main", RUN_DATE)
    assert deleted_state(warehouse_url) == {}  # over max_soft_delete_ratio: none marked


def test_the_weekly_deep_repull_catches_an_old_edit(simulators, warehouse_url):
    sims = simulators(dt.datetime(2026, 11, 23, 6, 0, tzinfo=dt.UTC))
    settings = load_settings({"warehouse_url": warehouse_url})
    old_day = dt.date(2026, 11, 8)
    ingest.run_extract(runtime_of(settings), "binotel_main", old_day)
    missed = next(
        c
        for c in sims["binotel"].generator.day(old_day).calls
        if c.status == "missed" and c.seen_by_telephony and c.direction == "inbound"
    )
    sims["binotel"].changes[missed.call_id] = {"status": "answered", "talk_seconds": 65}

    def status() -> str:
        with connect(warehouse_url, read_only=True) as wh:
            return wh.query(
                "SELECT status FROM staging.calls WHERE call_key = @k", {"k": binotel_key(missed)}
            ).to_pylist()[0]["status"]

    friday = RUN_DATE  # the trailing window (3 days) does not reach back 12 days
    assert not settings.is_deep_repull_day(friday)
    ingest.run_extract(runtime_of(settings), "binotel_main", friday)
    assert status() == "missed"
    sunday = dt.date(2026, 11, 22)
    assert settings.is_deep_repull_day(sunday)  # the DAG's scheduled Sunday run goes deep
    manifest = ingest.run_extract(runtime_of(settings), "binotel_main", sunday, deep=True)
    assert manifest.window_start_at.startswith("2026-10-2")  # 30 days back, local midnight
    assert status() == "answered"
