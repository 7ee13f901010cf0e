"""Incidents against each business's own baseline (marts.reconciliation_incidents): faults the
simulated world breaks on known days are found on those days, and quiet months raise none."""

from __future__ import annotations

import datetime as dt
import logging

import pytest

from ringback import incidents
from ringback.settings import load_settings
from ringback_dev.simulators.journeys import (
    PROFILES,
    Break,
    JourneyGenerator,
    pool_numbers,
    staging_rows,
)

from helpers import build, connect, load_calls

FIRST = dt.date(2026, 9, 1)
LAST = dt.date(2026, 10, 31)
# Simulated businesses of several sizes and profiles: (profile, seed, new customers a day).
WORLDS = [("ua", 11, 40), ("ua", 16, 15), ("us", 13, 30), ("lviv", 14, 20), ("odesa", 15, 25)]


POOL_SIZE = 4


def _pooled(profile: str) -> str:
    """The tracking number each simulated business serves from a pool of POOL_SIZE numbers."""
    return list(PROFILES[profile].tracking_numbers)[2]


def _settings(profile: str, **overrides):
    pooled = _pooled(profile)
    return load_settings(
        {
            "validate_marts": False,
            "reporting_time_zone": PROFILES[profile].time_zone,
            "number_pools": {"paid": list(pool_numbers(PROFILES[profile], pooled, POOL_SIZE))},
            **overrides,
        }
    )


def _generator(profile: str, seed: int, size: int, breaks: tuple[Break, ...] = ()):
    return JourneyGenerator(
        seed,
        size,
        profile,
        weekly_incidents=False,
        breaks=breaks,
        pools={_pooled(profile): POOL_SIZE},
    )


def _incident_days(wh) -> list[dict]:
    return wh.query(
        "SELECT report_date, cause, incident_started_date, incident_line, is_main_cause "
        "FROM marts.reconciliation_incidents WHERE is_incident ORDER BY report_date, cause"
    ).to_pylist()


def test_quiet_months_raise_no_incident(tmp_path):
    """Two months of five businesses with no fault (the weekly flyer drops and forwarding
    faults off), each serving one channel from a pool: every judged (business, date, cause) is
    a chance of a false alarm."""
    judged = alarms = 0
    for profile, seed, size in WORLDS:
        settings = _settings(profile)
        gen = _generator(profile, seed, size)
        with connect(f"duckdb://{tmp_path}/{profile}{seed}.duckdb") as wh:
            wh.init()
            load_calls(wh, staging_rows(gen, FIRST, LAST, settings.tz))
            build(wh, settings, FIRST, LAST)
            (row,) = wh.query(
                "SELECT COUNTIF(baseline_days >= 7) AS judged, COUNTIF(is_incident) AS alarms "
                "FROM marts.reconciliation_incidents"
            ).to_pylist()
        judged += row["judged"]
        alarms += row["alarms"]
    # 5 businesses x 54 judged dates x 5 causes (the first 7 dates build the baseline).
    assert judged == 5 * 54 * 5
    assert alarms == 0, f"{alarms} false alarms in {judged} judged cause-days"


@pytest.mark.parametrize(("profile", "seed", "size"), WORLDS)
def test_each_break_is_found_on_its_day_with_its_line_and_closes_after_it(
    tmp_path, profile, seed, size
):
    numbers = list(PROFILES[profile].tracking_numbers)
    removed = Break("substitution_removed", numbers[0], dt.date(2026, 10, 5), dt.date(2026, 10, 9))
    crowded = Break("pool_too_small", numbers[2], dt.date(2026, 10, 12), dt.date(2026, 10, 16))
    failing = Break("line_failure", numbers[1], dt.date(2026, 10, 20), dt.date(2026, 10, 24))
    settings = _settings(profile)
    gen = _generator(profile, seed, size, (removed, crowded, failing))
    with connect(f"duckdb://{tmp_path}/w.duckdb") as wh:
        wh.init()
        load_calls(wh, staging_rows(gen, FIRST, LAST, settings.tz))
        build(wh, settings, FIRST, LAST)
        days = _incident_days(wh)
        found = wh.query(
            "SELECT cause, started_date, closed_date, incident_line, status "
            "FROM analytics.reconciliation_incidents ORDER BY started_date"
        ).to_pylist()

    # Outside the breaks, not a single incident day; the day after one may still carry it
    # (customers whose journeys began on the break call again the next day).
    def near(fault: Break, day: dt.date) -> bool:
        return fault.first_day <= day <= fault.last_day + dt.timedelta(days=1)

    assert all(any(near(f, d["report_date"]) for f in (removed, crowded, failing)) for d in days)
    # The substitution fault sends the page's callers to the static line: untracked calls.
    # A business as small as 15 new customers a day may need a second day to have
    # incident_min_calls such calls; every other opens on the day it broke.
    latest_start = removed.first_day + dt.timedelta(days=2 if size < 20 else 0)
    pool = [i for i in found if i["cause"] == "sessionless_call"]
    untracked, forwarding = (i for i in found if i["cause"] != "sessionless_call")
    assert untracked["cause"] == "untracked_number"
    assert removed.first_day <= untracked["started_date"] <= latest_start
    assert untracked["incident_line"] == PROFILES[profile].untracked_line
    # The failing line: its calls are in call tracking only, and the line is named.
    assert forwarding["cause"] == "missing_in_telephony"
    assert forwarding["started_date"] == failing.first_day
    assert forwarding["incident_line"] == failing.number
    # The pool too small: its channel's callers in the busy hours saw the default number and
    # call without a session; the default number carries it. Even the 15-customers-a-day
    # business has incident_min_calls such calls on the first day.
    (crowding,) = pool
    assert crowding["started_date"] == crowded.first_day
    assert crowding["incident_line"] == crowded.number
    # Each closes once the fault is mended (the next complete date or the one after).
    for incident, fault in (
        (untracked, removed),
        (forwarding, failing),
        (crowding, crowded),
    ):
        assert incident["status"] == "closed"
        assert 1 <= (incident["closed_date"] - fault.last_day).days <= 2, incident


def test_a_late_load_of_old_dates_rebuilds_the_baselines_after_them(tmp_path):
    """Dates loaded late (a backfill) are in the baselines of the dates after them: the run
    that builds them replaces incident_baseline_days of later partitions too, and the mart ends
    as a full build of the same staging would make it."""
    settings = _settings("ua")
    number = list(PROFILES["ua"].tracking_numbers)[1]
    fault = Break("line_failure", number, dt.date(2026, 10, 1), dt.date(2026, 10, 8))
    quiet = staging_rows(
        JourneyGenerator(11, 40, "ua", weekly_incidents=False), FIRST, LAST, settings.tz
    )
    broken = staging_rows(
        JourneyGenerator(11, 40, "ua", weekly_incidents=False, breaks=(fault,)),
        FIRST,
        LAST,
        settings.tz,
    )
    early = [r for r in quiet if not fault.covers(r["call_date"])]
    late = [r for r in broken if fault.covers(r["call_date"])]

    def rows(wh) -> dict[tuple, tuple]:
        return {
            (r["report_date"], r["cause"]): tuple(r.values())
            for r in wh.query("SELECT * FROM marts.reconciliation_incidents").to_pylist()
        }

    with connect(f"duckdb://{tmp_path}/full.duckdb") as full:
        full.init()
        load_calls(full, early + late)
        build(full, settings, FIRST, LAST)
        want = rows(full)
    with connect(f"duckdb://{tmp_path}/late.duckdb") as wh:
        wh.init()
        load_calls(wh, early)
        build(wh, settings, FIRST, LAST)
        before = rows(wh)
        load_calls(wh, late)
        build(wh, settings, None, None)  # only what staging changed
        after = rows(wh)
    assert after == want
    # Dates past the late ones and their look-back changed: only the look-ahead rebuilt them.
    reach = fault.last_day + dt.timedelta(days=settings.rebuild_lookback_days)
    moved = {k for k in after if k[0] > reach and before.get(k) != after[k]}
    assert len({day for day, _ in moved}) >= 10, sorted(moved)
    assert any(after[k][10] for k in after if fault.covers(k[0]))  # the fault is an incident


def test_an_open_incident_is_announced_once(tmp_path, caplog, capsys, monkeypatch):
    monkeypatch.delenv("AIRFLOW_CONN_RINGBACK_SLACK", raising=False)
    settings = _settings("ua")
    number = list(PROFILES["ua"].tracking_numbers)[1]
    fault = Break("line_failure", number, dt.date(2026, 10, 27), LAST)
    gen = JourneyGenerator(11, 40, "ua", weekly_incidents=False, breaks=(fault,))
    url = f"duckdb://{tmp_path}/w.duckdb"

    def warehouse(read_only: bool = False):
        return connect(url, read_only=read_only)

    with warehouse() as wh:
        wh.init()
        load_calls(wh, staging_rows(gen, FIRST, LAST, settings.tz))
        build(wh, settings, FIRST, LAST)
    with caplog.at_level(logging.WARNING):
        sent = incidents.announce(warehouse, {"default": "Demo shop"})
    assert len(sent) == 1
    # No Slack connection: the task log carries it, as a warning (the run succeeded). Once
    # Airflow is imported, logging goes through structlog to stdout.
    logged = [
        line
        for line in (caplog.text + capsys.readouterr().out).splitlines()
        if "incident at Demo shop" in line
    ]
    assert logged and all("WARNING" in line or "[warning" in line for line in logged), logged
    assert "Demo shop (default) since 2026-10-27: missing_in_telephony" in sent[0]
    assert number in sent[0]
    with warehouse(read_only=True) as wh:
        (ledger,) = wh.query("SELECT * FROM raw.incident_alerts").to_pylist()
    assert ledger["channel"] == "log" and ledger["started_date"] == fault.first_day
    # A rerun of the day, and the next announcement, say nothing new.
    with warehouse() as wh:
        build(wh, settings, LAST, LAST)
    assert incidents.announce(warehouse, {}) == []
