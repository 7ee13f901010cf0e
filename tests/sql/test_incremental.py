"""Incremental runs give the same tables as a full rebuild, and reruns change nothing."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import zoneinfo

import pytest

from ringback import catalog, history, models
from ringback.ingest.publish import write_crm_leads
from ringback.settings import Business, Config, load_settings
from ringback_dev.simulators.crm_journeys import CrmGenerator, crm_staging_rows
from ringback_dev.simulators.journeys import JourneyGenerator, staging_rows

from helpers import build, connect, good_load, load_calls, load_crm_rows

FIRST = dt.date(2026, 10, 1)
LAST = dt.date(2026, 10, 31)  # crosses the 2026-10-25 DST change in Kyiv


def snapshot(wh) -> dict[str, list[tuple]]:
    """Every model table's rows, sorted, as comparable tuples."""
    out = {}
    for table in catalog.models_in_order():
        cols = ", ".join(table.column_names)
        out[table.ref] = [
            tuple(r.values())
            for r in wh.query(f"SELECT {cols} FROM {table.ref} ORDER BY {cols}").to_pylist()
        ]
    return out


def checksum(snap: dict[str, list[tuple]]) -> str:
    return hashlib.sha256(repr(sorted(snap.items())).encode()).hexdigest()


@pytest.fixture(scope="module")
def month_rows():
    settings = load_settings({"validate_marts": False})
    return staging_rows(JourneyGenerator(seed=11, customers_per_day=40), FIRST, LAST, settings.tz)


def test_incremental_daily_runs_equal_full_rebuild(tmp_path, month_rows):
    settings = load_settings({"validate_marts": False})
    assert len(month_rows) > 3000
    with connect(f"duckdb://{tmp_path}/full.duckdb") as full:
        full.init()
        load_calls(full, month_rows)
        build(full, settings, FIRST, LAST)
        full_snapshot = snapshot(full)
    with connect(f"duckdb://{tmp_path}/daily.duckdb") as daily:
        daily.init()
        load_calls(daily, month_rows)
        day = FIRST
        while day <= LAST:
            build(daily, settings, day, day)
            day += dt.timedelta(days=1)
        daily_snapshot = snapshot(daily)
    assert sum(len(v) for v in full_snapshot.values()) > 5000
    for ref in full_snapshot:
        assert daily_snapshot[ref] == full_snapshot[ref], ref
    leads = full_snapshot["marts.attributed_leads"]
    assert {r[4] for r in leads} == {"primary_call", "missed_call_retry", "missed_call_callback"}


@pytest.mark.parametrize("chunk_rows", [1, 500])
def test_a_range_built_in_chunks_equals_one_build(tmp_path, month_rows, chunk_rows):
    """models_chunk_rows bounds a full rebuild's memory; the tables do not change. A fold of
    history no run covered (the first run after a backfill) is chunked the same way. 1 row: a
    chunk per day; 500 rows: a few days per chunk."""
    whole = load_settings({"validate_marts": False, "models_chunk_rows": 10**9})
    chunked = load_settings({"validate_marts": False, "models_chunk_rows": chunk_rows})
    snaps = []
    for name, settings in (("whole", whole), ("chunked", chunked)):
        with connect(f"duckdb://{tmp_path}/{name}.duckdb") as wh:
            wh.init()
            load_calls(wh, month_rows)
            build(wh, settings, LAST, LAST)  # folds Oct 1..27 first
            after_fold = snapshot(wh)
            build(wh, settings, FIRST, LAST, full_refresh=True)
            snaps.append((after_fold, snapshot(wh)))
            folded = wh.query("SELECT COUNT(*) AS n FROM staging.folded_partitions").to_pylist()
            assert folded[0]["n"] >= 31
    window = models.RebuildWindow(FIRST, LAST)
    with connect(f"duckdb://{tmp_path}/chunked.duckdb") as wh:
        chunks = window.chunks(wh, chunk_rows)
        assert len(window.chunks(wh, 10**9)) == 1
    assert chunks[0].start == FIRST and chunks[-1].end == LAST
    assert all(b.start == a.end + dt.timedelta(days=1) for a, b in itertools.pairwise(chunks))
    assert len(chunks) == 31 if chunk_rows == 1 else 3 < len(chunks) < 31
    for step in (0, 1):
        for ref in snaps[0][step]:
            assert snaps[1][step][ref] == snaps[0][step][ref], (step, ref)


def test_rerunning_a_day_changes_nothing(tmp_path, month_rows):
    settings = load_settings({"validate_marts": False})
    with connect(f"duckdb://{tmp_path}/w.duckdb") as wh:
        wh.init()
        load_calls(wh, month_rows)
        build(wh, settings, FIRST, LAST)
        before = checksum(snapshot(wh))
        for _ in range(2):
            build(wh, settings, dt.date(2026, 10, 20), dt.date(2026, 10, 20))
            assert checksum(snapshot(wh)) == before


def test_full_refresh_equals_first_build(tmp_path, month_rows):
    settings = load_settings({"validate_marts": False})
    with connect(f"duckdb://{tmp_path}/w.duckdb") as wh:
        wh.init()
        load_calls(wh, month_rows)
        build(wh, settings, FIRST, LAST)
        before = snapshot(wh)
        build(wh, settings, FIRST, LAST, full_refresh=True)
        assert snapshot(wh) == before


# -- businesses, and staging history that no models run covered ---------------------------------

TWO = Config(
    businesses=(
        Business("kyiv_clinic", "Kyiv Clinic", "Europe/Kyiv"),
        Business(
            "austin_plumbing",
            "Austin Plumbing",
            "America/New_York",
            {"talk_threshold_seconds": 45, "recovery_window_hours": 12},
        ),
    ),
    sources=(),
)


@pytest.fixture(scope="module")
def two_business_rows():
    return two_business_month()


def two_business_month() -> list[dict]:
    """A month of Kyiv's and Austin's calls as staging rows (each in its own zone)."""
    ua = staging_rows(
        JourneyGenerator(seed=11, customers_per_day=25),
        FIRST,
        LAST,
        zoneinfo.ZoneInfo("Europe/Kyiv"),
        "kyiv_clinic",
    )
    us = staging_rows(
        JourneyGenerator(seed=11, customers_per_day=25, profile="us"),
        FIRST,
        LAST,
        zoneinfo.ZoneInfo("America/New_York"),
        "austin_plumbing",
    )
    return ua + us


def marts_for(snap: dict[str, list[tuple]], first: dt.date, last: dt.date) -> dict[str, list]:
    """The marts' rows whose partition date falls in first..last (all rows of an unpartitioned
    mart)."""
    out = {}
    for table in catalog.models_in_order():
        if table.layer != "marts":
            continue
        if table.partition_field is None:  # rebuilt whole by every run (the CRM marts)
            out[table.ref] = snap[table.ref]
            continue
        at = table.column_names.index(table.partition_field)
        out[table.ref] = [r for r in snap[table.ref] if first <= r[at] <= last]
    return out


def test_two_businesses_daily_runs_equal_full_rebuild(tmp_path, two_business_rows):
    """Daily runs give the full rebuild's tables, the Kyiv clinic's CRM marts included (a
    guard for any incremental form of them)."""
    settings = load_settings({"validate_marts": False})
    now = dt.datetime.combine(LAST + dt.timedelta(days=10), dt.time(), tzinfo=dt.UTC)
    crm = crm_staging_rows(
        CrmGenerator(JourneyGenerator(seed=11, customers_per_day=25)),
        FIRST,
        LAST,
        now,
        zoneinfo.ZoneInfo("Europe/Kyiv"),
        "kyiv_clinic",
    )
    synced = (dt.datetime.combine(FIRST, dt.time(), tzinfo=dt.UTC), now)
    snaps = []
    for name, days in (("full", [(FIRST, LAST)]), ("daily", [(d, d) for d in _days()])):
        with connect(f"duckdb://{tmp_path}/{name}.duckdb") as wh:
            wh.init()
            load_calls(wh, two_business_rows)
            load_crm_rows(wh, crm, *synced)
            for start, end in days:
                build(wh, settings, start, end, config=TWO)
            snaps.append(snapshot(wh))
    full, daily = snaps
    for ref in full:
        assert daily[ref] == full[ref], ref
    assert sum(r[10] is not None for r in full["marts.crm_leads"]) > 100  # lead_id: matched
    recon = full["marts.call_reconciliation"]
    assert {r[0] for r in recon} == {"kyiv_clinic", "austin_plumbing"}
    # One row per business and date, never one for both.
    assert len(recon) == len({(r[0], r[1]) for r in recon})


def _days() -> list[dt.date]:
    return [FIRST + dt.timedelta(days=n) for n in range((LAST - FIRST).days + 1)]


def full_build(path, rows, settings):
    """A warehouse at ``path`` with ``rows`` staged and the whole month built: the reference
    marts of the one-day window ending LAST - 2."""
    day = LAST - dt.timedelta(days=2)
    window = (day - dt.timedelta(days=settings.rebuild_lookback_days), day)
    wh = connect(f"duckdb://{path}")
    wh.init()
    load_calls(wh, rows)
    build(wh, settings, FIRST, LAST, config=TWO)
    return wh, day, window, marts_for(snapshot(wh), *window)


def test_one_day_on_history_no_run_covered_equals_full_run(tmp_path, two_business_rows):
    """The contract: `models run --start D --end D` on a warehouse whose staging holds history
    gives the same marts for D as a run over the whole history."""
    settings = load_settings({"validate_marts": False})
    full, day, window, want = full_build(tmp_path / "full.duckdb", two_business_rows, settings)
    full.close()
    # Loaded straight into staging; then one day.
    with connect(f"duckdb://{tmp_path}/one_day.duckdb") as wh:
        wh.init()
        load_calls(wh, two_business_rows)
        build(wh, settings, day, day, config=TWO)
        got = marts_for(snapshot(wh), *window)
        folded = wh.query("SELECT * FROM staging.folded_partitions").to_pylist()
        # A second run finds nothing left to fold.
        assert not history.pending(wh, day, day, selected=None).changed
    # Both businesses' dates (a day either side of the month in another zone may be empty).
    assert len(folded) >= 2 * 31
    assert sum(len(v) for v in want.values()) > 200
    for ref in want:
        assert got[ref] == want[ref], ref
    # Daily runs over the last days, then an older month back-filled by hand: the next day's
    # run folds it in (returning customers are not new primary calls).
    late = [r for r in two_business_rows if r["call_date"] >= dt.date(2026, 10, 16)]
    early = [r for r in two_business_rows if r["call_date"] < dt.date(2026, 10, 16)]
    with connect(f"duckdb://{tmp_path}/backfill.duckdb") as wh:
        wh.init()
        load_calls(wh, late)
        for d in _days()[15:]:
            build(wh, settings, d, d, config=TWO)
        load_calls(wh, early)
        build(wh, settings, day, day, config=TWO)
        got = marts_for(snapshot(wh), *window)
    for ref in want:
        assert got[ref] == want[ref], ref


def test_full_refresh_folds_all_of_staging(tmp_path, two_business_rows):
    settings = load_settings({"validate_marts": False})
    wh, day, window, want = full_build(tmp_path / "w.duckdb", two_business_rows, settings)
    with wh:
        build(wh, settings, day, day, config=TWO, full_refresh=True)
        assert marts_for(snapshot(wh), *window) == want


def test_business_option_rebuilds_only_that_business(tmp_path, two_business_rows):
    settings = load_settings({"validate_marts": False})
    wh, *_ = full_build(tmp_path / "w.duckdb", two_business_rows, settings)
    with wh:
        before = snapshot(wh)
        # A stricter threshold for Kyiv, rebuilt for Kyiv only: Austin's rows stay as they were.
        stricter = Config(
            (
                Business(
                    "kyiv_clinic", "Kyiv Clinic", "Europe/Kyiv", {"talk_threshold_seconds": 90}
                ),
                TWO.businesses[1],
            ),
            (),
        )
        build(wh, settings, LAST, LAST, config=stricter, businesses=["kyiv_clinic"])
        after = snapshot(wh)
    leads = "marts.attributed_leads"

    def rows(snap, business):
        return [r for r in snap[leads] if r[0] == business]

    assert rows(after, "austin_plumbing") == rows(before, "austin_plumbing")
    assert rows(after, "kyiv_clinic") != rows(before, "kyiv_clinic")
    # Columns: 4 attribution_type, 9 attributed_date, 14 the lead call's talk time.
    rebuilt = LAST - dt.timedelta(days=settings.rebuild_lookback_days)
    kyiv_primary = [
        r for r in rows(after, "kyiv_clinic") if r[4] == "primary_call" and r[9] >= rebuilt
    ]
    assert kyiv_primary and all(r[14] > 90 for r in kyiv_primary)


def test_a_repull_that_keeps_the_count_is_folded_again(tmp_path, two_business_rows):
    """`extract` forgets the dates it writes: same number of rows, changed calls, still folded."""
    settings = load_settings({"validate_marts": False})
    with connect(f"duckdb://{tmp_path}/w.duckdb") as wh:
        wh.init()
        load_calls(wh, two_business_rows)
        build(wh, settings, LAST, LAST, config=TWO)
        assert not history.pending(wh, LAST, LAST, selected=None).changed
        old = [r for r in two_business_rows if r["call_date"] == FIRST][:3]
        load_calls(
            wh, [{**r, "started_at": r["started_at"] + dt.timedelta(minutes=1)} for r in old]
        )
        history.forget(wh, catalog.table("staging.calls").to_arrow(old))
        fold = history.pending(wh, LAST, LAST, selected=None)
        assert {(r["business_id"], r["call_date"]) for r in fold.changed} == {
            (r["business_id"], FIRST) for r in old
        }
        assert fold.ranges[0][0] <= FIRST <= fold.ranges[0][1]


def test_crm_leads_loaded_day_by_day_equal_one_load(tmp_path, two_business_rows):
    """CRM leads pulled with their days (new leads, deals won weeks later, a number typed wrong
    and corrected the next day), each pull followed by that day's run: the CRM marts equal one
    load of the final state and one build, and a pull's run rematches only its customers."""
    settings = load_settings({"validate_marts": False})
    kyiv = zoneinfo.ZoneInfo("Europe/Kyiv")
    crm = CrmGenerator(JourneyGenerator(seed=11, customers_per_day=25))
    end = dt.datetime.combine(LAST + dt.timedelta(days=10), dt.time(), tzinfo=dt.UTC)

    def state(at: dt.datetime) -> dict[str, dict]:
        rows = crm_staging_rows(crm, FIRST, LAST, at, kyiv, "kyiv_clinic")
        return {r["crm_lead_key"]: {**r, "load_id": "pulled"} for r in rows}

    final = state(end)
    numbers = sorted({r["customer_number"] for r in final.values() if r["customer_number"]})
    typos = set(sorted(k for k, r in final.items() if r["customer_number"])[::40])
    synced = (dt.datetime.combine(FIRST, dt.time(), tzinfo=dt.UTC), end)
    loads = catalog.table("raw.loads")
    crm_refs = ("marts.crm_leads", "marts.crm_reconciliation")
    with connect(f"duckdb://{tmp_path}/full.duckdb") as wh:
        wh.init()
        load_calls(wh, two_business_rows)
        load_crm_rows(wh, list(final.values()), *synced)
        build(wh, settings, FIRST, LAST, config=TWO)
        want = snapshot(wh)
    loaded: dict[str, dict] = {}
    pulls: list[int] = []
    with connect(f"duckdb://{tmp_path}/daily.duckdb") as wh:
        wh.init()
        load_calls(wh, two_business_rows)
        wh.write(loads, loads.to_arrow([good_load("hubspot_main", "hubspot", *synced)]))
        days = [*_days(), LAST + dt.timedelta(days=10)]
        by_hand = FIRST + dt.timedelta(days=14)
        for day in days:
            at = min(dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=kyiv), end)
            now = state(at)
            for key in typos & now.keys() - loaded.keys():  # first pulled with a wrong number
                wrong = numbers[(numbers.index(now[key]["customer_number"]) + 1) % len(numbers)]
                now[key] = {**now[key], "customer_number": wrong}
            pull = [r for k, r in now.items() if loaded.get(k) != r]
            loaded |= {r["crm_lead_key"]: r for r in pull}
            rows = catalog.table("staging.crm_leads").to_arrow(pull)
            if day == by_hand:  # written without a mark, new leads among them: matched whole
                wh.write(catalog.table("staging.crm_leads"), rows)
            else:
                write_crm_leads(wh, rows)
            pulls.append(len(pull))
            ran = build(wh, settings, min(day, LAST), min(day, LAST), config=TWO)
            rematched = next(r.rows for r in ran if r.ref == "marts.crm_leads")
            if day == by_hand:
                assert rematched == len(loaded)
        got = snapshot(wh)
        assert not wh.query("SELECT * FROM staging.crm_leads_pending").num_rows
    assert loaded == final
    assert sum(pulls) > len(final)  # leads were pulled more than once (deals, corrections)
    for ref in crm_refs:
        assert got[ref] == want[ref], ref
    assert sum(r[10] is not None for r in want["marts.crm_leads"]) > 100  # lead_id: matched
    # The last pull's run rematched its customers and the last days', not all history.
    assert 0 < rematched < len(final) / 3
