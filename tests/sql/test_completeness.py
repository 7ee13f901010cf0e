"""Every staged (business, date) reaches the marts, whatever the runs were asked for, and a crash
at any write of a load or a build leaves nothing the next run does not repair."""

from __future__ import annotations

import datetime as dt
import shutil

import pytest
from test_incremental import FIRST, LAST, TWO, snapshot, two_business_month

from ringback import catalog, history, ingest, models
from ringback.settings import load_settings
from ringback.warehouse.duckdb import DuckDBWarehouse

from helpers import (
    build,
    connect,
    good_load,
    load_calls,
    runtime_of,
    start_simulators,
    stop_simulators,
)

WEEK_AGO = LAST - dt.timedelta(days=6)


def reconciled_pairs(wh) -> set[tuple[str, dt.date]]:
    return {
        (r["business_id"], r["report_date"])
        for r in wh.query(
            "SELECT business_id, report_date FROM marts.call_reconciliation "
            "WHERE report_date IS NOT NULL"
        ).to_pylist()
    }


def inbound_pairs(rows) -> set[tuple[str, dt.date]]:
    return {(r["business_id"], r["call_date"]) for r in rows if r["direction"] == "inbound"}


def staged_like_a_load(wh, rows) -> None:
    """Rows written the way a publish writes them: their dates marked, then staged."""
    history.forget(wh, catalog.table("staging.calls").to_arrow(rows))
    load_calls(wh, rows)


@pytest.fixture(scope="module")
def two_business_rows():
    return two_business_month()


@pytest.fixture
def settings():
    return load_settings({"validate_marts": False})


def test_a_deep_repull_reaches_the_marts_outside_the_window_asked_for(
    tmp_path, two_business_rows, settings
):
    """The demo's weekly re-pull stages a month; a run asked for the last week builds it all."""
    week = [r for r in two_business_rows if r["call_date"] >= WEEK_AGO]
    with connect(f"duckdb://{tmp_path}/w.duckdb") as wh:
        wh.init()
        staged_like_a_load(wh, week)
        build(wh, settings, WEEK_AGO, LAST, config=TWO)
        staged_like_a_load(wh, two_business_rows)  # the 30-day re-pull
        build(wh, settings, LAST, LAST, config=TWO)
        assert inbound_pairs(two_business_rows) <= reconciled_pairs(wh)
        assert history.gaps(wh, dt.datetime.now(dt.UTC)) == []
        got = snapshot(wh)
    with connect(f"duckdb://{tmp_path}/full.duckdb") as wh:
        wh.init()
        load_calls(wh, two_business_rows)
        build(wh, settings, FIRST, LAST, config=TWO)
        assert got == snapshot(wh)


def test_a_run_without_dates_builds_what_changed_and_only_that(
    tmp_path, two_business_rows, settings
):
    runtime = runtime_of(settings, TWO)
    with connect(f"duckdb://{tmp_path}/w.duckdb") as wh:
        wh.init()
        staged_like_a_load(wh, two_business_rows)
        models.run_models(wh, runtime, None, None)
        want = snapshot(wh)
        nothing = models.prepare(wh, runtime, None, None)
        assert nothing.segments == () and nothing.fold.changed == []
        # One re-pulled day: that day and its look-back, for the business whose rows changed.
        day = LAST - dt.timedelta(days=10)
        repulled = [r for r in two_business_rows if r["call_date"] == day][:5]
        repulled = [r for r in repulled if r["business_id"] == repulled[0]["business_id"]]
        staged_like_a_load(wh, repulled)
        plan = models.prepare(wh, runtime, None, None)
        lookback = dt.timedelta(days=settings.rebuild_lookback_days)
        assert [(s.window.start, s.window.end, s.selected) for s in plan.segments] == [
            (
                day - dt.timedelta(days=1) - lookback,
                day + dt.timedelta(days=1),
                (repulled[0]["business_id"],),
            )
        ]
        models.run_models(wh, runtime, None, None)
        assert snapshot(wh) == want


def test_a_missing_date_fails_the_run_by_name_and_is_built_by_the_next(
    tmp_path, two_business_rows, settings
):
    runtime = runtime_of(settings, TWO)
    day = LAST - dt.timedelta(days=3)
    with connect(f"duckdb://{tmp_path}/w.duckdb") as wh:
        wh.init()
        staged_like_a_load(wh, two_business_rows)
        models.run_models(wh, runtime, None, None)
        want = snapshot(wh)
        # A build that never happened for one date (a dropped event, a cleared task...).
        recon = catalog.table("marts.call_reconciliation")
        kept = wh.query(
            "SELECT * FROM marts.call_reconciliation WHERE report_date BETWEEN @d AND @d "
            "AND business_id != 'kyiv_clinic'",
            {"d": day},
        )
        wh.write(recon, kept, partitions=models.PartitionRange(day, day))
        with pytest.raises(history.IncompleteMarts, match=f"kyiv_clinic {day} "):
            models.run_models(wh, runtime, None, None)
        models.run_models(wh, runtime, None, None)
        assert snapshot(wh) == want


def _deleted(rows) -> list[dict]:
    return [
        {
            "business_id": r["business_id"],
            "call_key": r["call_key"],
            "call_date": r["call_date"],
            "is_deleted": True,
            "load_id": "repull",
            "changed_at": dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
        }
        for r in rows
    ]


def test_first_seen_is_recomputed_when_a_numbers_first_call_disappears(
    tmp_path, two_business_rows, settings
):
    """The provider deletes the first call of every number first seen on one day: each number
    is first seen at its next call, or not at all, as a build from scratch says."""
    day = FIRST + dt.timedelta(days=10)
    inbound = sorted(
        (r for r in two_business_rows if r["direction"] == "inbound" and r["customer_number"]),
        key=lambda r: r["started_at"],
    )
    firsts: dict[tuple[str, str], dict] = {}
    for r in inbound:
        firsts.setdefault((r["business_id"], r["customer_number"]), r)
    gone = [r for r in firsts.values() if r["call_date"] == day]
    again = {(r["business_id"], r["customer_number"]) for r in inbound if r not in gone}
    assert any(k in again for k in ((r["business_id"], r["customer_number"]) for r in gone))
    assert any(k not in again for k in ((r["business_id"], r["customer_number"]) for r in gone))
    deleted = catalog.table("staging.deleted_calls")
    with connect(f"duckdb://{tmp_path}/w.duckdb") as wh:
        wh.init()
        staged_like_a_load(wh, two_business_rows)
        build(wh, settings, FIRST, LAST, config=TWO)
        history.forget(wh, deleted.to_arrow(_deleted(gone)))
        wh.write(deleted, deleted.to_arrow(_deleted(gone)))
        build(wh, settings, LAST, LAST, config=TWO)
        got = snapshot(wh)
    with connect(f"duckdb://{tmp_path}/fresh.duckdb") as wh:
        wh.init()
        load_calls(wh, two_business_rows)
        wh.write(deleted, deleted.to_arrow(_deleted(gone)))
        build(wh, settings, FIRST, LAST, config=TWO)
        want = snapshot(wh)
    for ref in ("staging.customer_first_seen", "staging.primary_calls", "marts.attributed_leads"):
        assert got[ref] == want[ref], ref


# -- a crash between any two writes ---------------------------------------------------------------
class Crash(Exception):
    pass


class CrashAt:
    """Make the ``at``-th warehouse write (a table write or a model's build) raise, before it
    writes anything: the process died between the writes before it and this one."""

    def __init__(self, at: int | None) -> None:
        self.at, self.count = at, 0
        self.patch = pytest.MonkeyPatch()
        for name in ("write", "run_model"):
            original = getattr(DuckDBWarehouse, name)
            self.patch.setattr(DuckDBWarehouse, name, self._wrap(original))

    def _wrap(self, original):
        def wrapped(wh, *args, **kwargs):
            self.count += 1
            if self.count == self.at:
                raise Crash(f"crash before write {self.count}")
            return original(wh, *args, **kwargs)

        return wrapped


DAY = dt.date(2026, 11, 22)


def test_a_crash_at_any_write_of_a_load_or_a_build_is_repaired_by_the_next_run(
    tmp_path, monkeypatch
):
    """Two sources' loads of a day published and the marts built; the process dies before the
    k-th write, for every k; the task's retry and the next marts run give the tables an
    uninterrupted run gives."""
    base = tmp_path / "base.duckdb"
    settings = load_settings(
        {
            "warehouse_url": f"duckdb://{base}",
            "batch_store_url": str(tmp_path / "batches"),
            "validate_marts": False,
            "build_data_docs": False,
        }
    )
    runtime = runtime_of(settings)
    sims = start_simulators(monkeypatch, dt.datetime(2026, 11, 24, 6, 0, tzinfo=dt.UTC), 8)
    try:
        for day in (DAY - dt.timedelta(days=1), DAY):
            ingest.run_extract(runtime, "ringostat_main", day)
            ingest.run_extract(runtime, "binotel_main", day - dt.timedelta(days=1))
        with runtime.connect() as wh:
            models.run_models(wh, runtime, None, None)
        # The loads the crashes interrupt: extracted and validated, not yet published.
        loads = [
            ingest.extract(runtime, runtime.source(source), DAY) for source in ("binotel_main",)
        ]
        for load_id in loads:
            ingest.validate(runtime, load_id)
    finally:
        stop_simulators(sims)

    def run(path, crash_at):
        shutil.copy(base, path)
        url = f"duckdb://{path}"
        rt = runtime_of(load_settings({**_overrides(settings), "warehouse_url": url}))
        crash = CrashAt(crash_at)
        try:
            for load_id in loads:
                ingest.publish(rt, load_id)
            with rt.connect() as wh:
                models.run_models(wh, rt, None, None)
        except Crash:
            crash.patch.undo()  # the task's retry and the next marts run go through
            for load_id in loads:
                ingest.publish(rt, load_id)
            with rt.connect() as wh:
                models.run_models(wh, rt, None, None)
        crash.patch.undo()
        with connect(url, settings=rt.settings) as wh:
            tables = snapshot(wh)
            tables["staging.calls"] = sorted(
                (r["call_key"], r["call_date"], r["status"])
                for r in wh.query(
                    "SELECT * FROM staging.calls WHERE call_date IS NOT NULL"
                ).to_pylist()
            )
        return tables, crash.count

    want, writes = run(tmp_path / "whole.duckdb", None)
    assert writes > 20
    differs = [k for k in range(1, writes + 1) if run(tmp_path / f"crash{k}.duckdb", k)[0] != want]
    assert differs == []


def _overrides(settings) -> dict:
    return {
        "batch_store_url": settings.batch_store_url,
        "validate_marts": False,
        "build_data_docs": False,
    }


def test_a_publish_marks_its_dates_before_it_writes_staging(tmp_path, monkeypatch):
    """Dying at the staging write must leave the dates marked: a re-pull that keeps a date's
    count is then still built by the next marts run, retry or not."""
    settings = load_settings(
        {
            "warehouse_url": f"duckdb://{tmp_path}/w.duckdb",
            "batch_store_url": str(tmp_path / "batches"),
            "build_data_docs": False,
        }
    )
    runtime = runtime_of(settings)
    sims = start_simulators(monkeypatch, dt.datetime(2026, 11, 24, 6, 0, tzinfo=dt.UTC), 8)
    try:
        load_id = ingest.extract(runtime, runtime.source("binotel_main"), DAY)
        ingest.validate(runtime, load_id)
    finally:
        stop_simulators(sims)
    original = DuckDBWarehouse.write

    def write(wh, table, rows, **kw):
        if table.ref == "staging.calls":
            raise Crash("died at the staging write")
        return original(wh, table, rows, **kw)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(DuckDBWarehouse, "write", write)
        with pytest.raises(Crash):
            ingest.publish(runtime, load_id)
    with runtime.connect() as wh:
        marked = wh.query(
            "SELECT DISTINCT call_date FROM staging.folded_partitions "
            "WHERE call_date IS NOT NULL AND staged_rows = -1"
        ).to_pylist()
    assert DAY in {r["call_date"] for r in marked}


# -- CRM coverage ------------------------------------------------------------------------------
def _utc(day: str, hour: int = 0) -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{hour:02d}:00:00+00:00")


def _crm_lead(business: str, source: str, provider: str, key: str, at: dt.datetime) -> dict:
    return {
        "business_id": business,
        "crm_lead_key": f"{provider}:acct:{key}",
        "source_id": source,
        "provider": provider,
        "account_id": "acct",
        "crm_record_id": key,
        "created_at": at,
        "created_date": at.date(),
        "customer_number": f"+38050{abs(hash(key)) % 10**7:07d}",
        "created_via": "manual",
        "updated_at": at,
        "load_id": "fixture",
    }


def test_crm_dates_are_reconciled_only_where_calls_and_crm_are_both_covered(tmp_path):
    """`hub` pulled its CRM from October but its calls only from Nov 10: October is not a month
    of leads entered by hand. `csv`'s export, loaded on Nov 12, holds leads from Nov 10: those
    dates are reconciled, not dropped as older than the load."""
    from ringback.settings import Business, Config, SourceConfig

    zone = "UTC"
    config = Config(
        businesses=(Business("hub", "Hub", zone), Business("csv", "Csv", zone)),
        sources=(
            SourceConfig("calls_hub", "ringostat", "calltracking", "a", zone, business_id="hub"),
            SourceConfig("crm_hub", "hubspot", "crm", "p", zone, business_id="hub"),
            SourceConfig("calls_csv", "ringostat", "calltracking", "b", zone, business_id="csv"),
            SourceConfig("crm_csv", "crm_csv", "crm", "f", zone, business_id="csv"),
        ),
    )
    settings = load_settings({"validate_marts": False})
    calls = [
        {
            "business_id": bid,
            "call_key": f"ringostat:{bid}:{n}",
            "system": "calltracking",
            "provider": "ringostat",
            "account_id": bid,
            "provider_call_id": str(n),
            "direction": "inbound",
            "customer_number": f"+3805010000{n:02d}",
            "company_number": "+380443330001",
            "started_at": _utc(f"2026-11-{10 + n % 3}", 9),
            "talk_seconds": 60,
            "wait_seconds": 5,
            "status": "answered",
            "call_date": _utc(f"2026-11-{10 + n % 3}").date(),
        }
        for bid in ("hub", "csv")
        for n in range(6)
    ]
    crm = [
        _crm_lead("hub", "crm_hub", "hubspot", "h-oct", _utc("2026-10-01", 10)),
        _crm_lead("hub", "crm_hub", "hubspot", "h-nov", _utc("2026-11-11", 10)),
        _crm_lead("csv", "crm_csv", "crm_csv", "c-10", _utc("2026-11-10", 10)),
        _crm_lead("csv", "crm_csv", "crm_csv", "c-11", _utc("2026-11-11", 10)),
    ]
    loads = catalog.table("raw.loads")
    with connect(f"duckdb://{tmp_path}/w.duckdb") as wh:
        wh.init()
        load_calls(wh, calls)
        table = catalog.table("staging.crm_leads")
        wh.write(table, table.to_arrow(crm))
        wh.write(
            loads,
            loads.to_arrow(
                [
                    good_load("calls_hub", "ringostat", _utc("2026-11-10"), _utc("2026-11-13")),
                    good_load("calls_csv", "ringostat", _utc("2026-11-10"), _utc("2026-11-13")),
                    good_load("crm_hub", "hubspot", _utc("2026-10-01"), _utc("2026-11-13")),
                    good_load("crm_csv", "crm_csv", _utc("2026-11-12"), _utc("2026-11-13")),
                ]
            ),
        )
        build(wh, settings, dt.date(2026, 11, 10), dt.date(2026, 11, 12), config=config)
        dates = {
            (r["business_id"], r["report_date"].isoformat())
            for r in wh.query(
                "SELECT business_id, report_date FROM marts.crm_reconciliation"
            ).to_pylist()
        }
    assert ("hub", "2026-10-01") not in dates
    assert {("hub", "2026-11-11"), ("csv", "2026-11-10"), ("csv", "2026-11-11")} <= dates
    assert all("2026-11-10" <= day <= "2026-11-12" for _, day in dates)


# -- a date built before one of its sources loaded it ---------------------------------------------
def _awaiting_config():
    from ringback.settings import Business, Config, SourceConfig

    zone = "Europe/Kyiv"
    return Config(
        businesses=(Business("kyiv_clinic", "Kyiv Clinic", zone),),
        sources=(
            SourceConfig(
                "ct_kyiv",
                "ringostat",
                "calltracking",
                "a",
                zone,
                business_id="kyiv_clinic",
                business_time_zone=zone,
            ),
            SourceConfig(
                "tel_kyiv",
                "binotel",
                "telephony",
                "b",
                zone,
                business_id="kyiv_clinic",
                business_time_zone=zone,
            ),
        ),
    )


def _midnight(day: dt.date) -> dt.datetime:
    import zoneinfo

    return dt.datetime.combine(day, dt.time(), tzinfo=zoneinfo.ZoneInfo("Europe/Kyiv"))


def _recon(wh) -> dict[dt.date, dict]:
    return {
        r["report_date"]: r
        for r in wh.query(
            "SELECT * FROM marts.call_reconciliation WHERE report_date IS NOT NULL"
        ).to_pylist()
    }


def test_a_date_built_without_a_source_is_marked_not_flagged_and_rebuilt_when_it_loads(
    tmp_path, two_business_rows, settings
):
    """Telephony loaded up to day - 1 and call tracking to the end: the dates from day on are
    built (a deadline, another business's trigger) and say which source they wait for instead
    of flagging every call-tracking call as missing in telephony. Telephony then loads `day`
    with no call at all (the PBX was down): the date is rebuilt though no staging row changed,
    and flagged. The rest load: the tables equal a build made after every load."""
    from ringback import coverage

    config = _awaiting_config()
    runtime = runtime_of(settings, config)
    kyiv = [r for r in two_business_rows if r["business_id"] == "kyiv_clinic"]
    day = LAST - dt.timedelta(days=3)
    ct = [r for r in kyiv if r["system"] == "calltracking"]
    tel = [r for r in kyiv if r["system"] == "telephony"]
    loads = catalog.table("raw.loads")
    end = _midnight(LAST + dt.timedelta(days=1))

    def loaded(source, provider, lo, hi):
        return loads.to_arrow([{**good_load(source, provider, lo, hi), "load_id": f"{source}{lo}"}])

    with connect(f"duckdb://{tmp_path}/w.duckdb") as wh:
        wh.init()
        staged_like_a_load(wh, ct + [r for r in tel if r["call_date"] < day])
        wh.write(loads, loaded("ct_kyiv", "ringostat", _midnight(FIRST), end))
        wh.write(loads, loaded("tel_kyiv", "binotel", _midnight(FIRST), _midnight(day)))
        models.run_models(wh, runtime, None, None)
        recon = _recon(wh)
        assert coverage.missing_sources(wh, config, "kyiv_clinic", day) == ["tel_kyiv"]
        assert coverage.missing_sources(wh, config, "kyiv_clinic", day - dt.timedelta(days=1)) == []
        for d, r in recon.items():
            waits = d >= day
            assert r["missing_sources"] == ("tel_kyiv" if waits else None), d
            if waits:
                assert r["is_mismatch"] is False and r["mismatch_reason"] is None, d
                assert r["only_in_calltracking"] >= settings.mismatch_min_unmatched, d
        status = wh.query(
            "SELECT DISTINCT status FROM analytics.daily_reconciliation WHERE report_date >= @d",
            {"d": day},
        ).to_pylist()
        assert status == [{"status": "incomplete"}]

        # Telephony's load of `day` holds no call of it: no staging count changes.
        next_day = _midnight(day + dt.timedelta(days=1))
        wh.write(loads, loaded("tel_kyiv", "binotel", _midnight(day), next_day))
        tel_source = next(s for s in config.sources if s.id == "tel_kyiv")
        assert coverage.mark_awaited(wh, tel_source, day) == [day]
        models.run_models(wh, runtime, None, None)
        got = _recon(wh)[day]
        assert got["missing_sources"] is None
        assert got["is_mismatch"] is True and got["mismatch_reason"] == "missing_in_telephony"
        assert _recon(wh)[day + dt.timedelta(days=1)]["missing_sources"] == "tel_kyiv"

        rest = [r for r in tel if r["call_date"] > day]
        staged_like_a_load(wh, rest)
        wh.write(loads, loaded("tel_kyiv", "binotel", next_day, end))
        coverage.mark_awaited(wh, tel_source, day + dt.timedelta(days=1))
        models.run_models(wh, runtime, None, None)
        assert all(r["missing_sources"] is None for r in _recon(wh).values())
        got = snapshot(wh)
    with connect(f"duckdb://{tmp_path}/after.duckdb") as wh:
        wh.init()
        load_calls(wh, ct + [r for r in tel if r["call_date"] != day])
        wh.write(loads, loaded("ct_kyiv", "ringostat", _midnight(FIRST), end))
        wh.write(loads, loaded("tel_kyiv", "binotel", _midnight(FIRST), end))
        models.run_models(wh, runtime, None, None)
        want = snapshot(wh)
    # A primary call's data_end_at is the data's end when its date was built (documented):
    # dates before `day` were built before telephony's later calls existed.
    end_at = catalog.table("staging.primary_calls").column_names.index("data_end_at")
    for snap in (got, want):
        snap["staging.primary_calls"] = [
            r[:end_at] + r[end_at + 1 :] for r in snap["staging.primary_calls"]
        ]
    assert got == want


def test_covered_dates_are_whole_local_days_merged():
    import zoneinfo

    from ringback.coverage import covered_dates

    kyiv = zoneinfo.ZoneInfo("Europe/Kyiv")
    d = dt.date
    mid = dt.datetime(2026, 3, 28, 12, tzinfo=dt.UTC)
    windows = [
        (_midnight(d(2026, 3, 20)), _midnight(d(2026, 3, 23))),
        (_midnight(d(2026, 3, 23)), mid),  # ends inside the 28th: the 27th is the last whole
        (_midnight(d(2026, 3, 29)), _midnight(d(2026, 3, 31))),  # DST starts on the 29th
        (mid, _midnight(d(2026, 3, 29))),  # starts inside the 28th: covers nothing whole
    ]
    assert covered_dates(windows, kyiv) == [
        (d(2026, 3, 20), d(2026, 3, 27)),
        (d(2026, 3, 29), d(2026, 3, 30)),
    ]
    # The same instants in New York's dates: no window starts at a local midnight there but the
    # last, whose end (Kyiv's midnight) is 17:00 or 18:00 in New York.
    ny = zoneinfo.ZoneInfo("America/New_York")
    assert covered_dates(windows[:1], ny) == [(d(2026, 3, 20), d(2026, 3, 21))]


def test_the_deadline_and_a_late_source_wake_the_marts_only_when_something_waits(
    tmp_path, two_business_rows, monkeypatch
):
    """The Airflow tasks themselves, on the sources file's Kyiv business: at the deadline the
    marts are woken for staged dates they have not built, naming the source still missing; with
    nothing waiting the task skips (no Asset event). Binotel's late load of the day wakes them."""
    import collections
    import types

    from airflow.sdk.exceptions import AirflowSkipException

    from ringback.dag_factory import deadline_dag, ingest_dag

    url = f"duckdb://{tmp_path}/w.duckdb"
    monkeypatch.setenv("RINGBACK_WAREHOUSE_URL", url)
    monkeypatch.setenv("RINGBACK_VALIDATE_MARTS", "false")
    settings = load_settings()
    runtime = runtime_of(settings)
    kyiv = [
        {**r, "call_key": r["call_key"]}
        for r in two_business_rows
        if r["business_id"] == "kyiv_clinic"
    ]
    day = LAST - dt.timedelta(days=1)
    loads = catalog.table("raw.loads")

    def loaded(source, provider, lo, hi):
        return loads.to_arrow([{**good_load(source, provider, lo, hi), "load_id": f"{source}{lo}"}])

    wake = deadline_dag("kyiv_clinic", 6, "Europe/Kyiv", ["ringostat_main", "binotel_main"])
    wake = wake.get_task("wake_marts").python_callable
    source = runtime.source("binotel_main")
    late = ingest_dag(source).get_task("wake_marts_if_late").python_callable

    def events():
        return collections.defaultdict(types.SimpleNamespace)

    with connect(url, settings=settings) as wh:
        wh.init()
        staged_like_a_load(
            wh, [r for r in kyiv if r["system"] == "calltracking" or r["call_date"] < day]
        )
        end = _midnight(LAST + dt.timedelta(days=1))
        wh.write(loads, loaded("ringostat_main", "ringostat", _midnight(FIRST), end))
        wh.write(loads, loaded("binotel_main", "binotel", _midnight(FIRST), _midnight(day)))
    out = events()
    woke = wake(params={"run_date": day.isoformat()}, outlet_events=out)
    assert woke["missing_sources"] == ["binotel_main"] and day.isoformat() in woke["dates"]
    assert len(out) == 1
    with runtime.connect() as wh:
        models.run_models(wh, runtime, None, None)
        assert _recon(wh)[day]["missing_sources"] == "binotel_main"
    with pytest.raises(AirflowSkipException):
        wake(params={"run_date": day.isoformat()}, outlet_events=events())
    # Binotel loads the day: publish marks it (and hands the dates on in its summary), the
    # ingest DAG's last task wakes the marts.
    from ringback import coverage

    since = day - dt.timedelta(days=3)
    with runtime.connect() as wh:
        wh.write(loads, loaded("binotel_main", "binotel", _midnight(day), end))
        marked = coverage.mark_awaited(wh, source, since)
    assert marked == [day, LAST]
    out = events()
    summary = {"awaited_dates": [d.isoformat() for d in marked]}
    assert late(summary, outlet_events=out) == [day.isoformat(), LAST.isoformat()]
    assert len(out) == 1
    with runtime.connect() as wh:
        models.run_models(wh, runtime, None, None)
        assert _recon(wh)[day]["missing_sources"] is None
        # Rebuilt: a later load of the same window marks nothing, and wakes nothing.
        marked = coverage.mark_awaited(wh, source, since)
    assert marked == []
    with pytest.raises(AirflowSkipException):
        late({"awaited_dates": []}, outlet_events=events())
