"""Incremental runs give the same tables as a full rebuild, and reruns change nothing."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest

from ringback import catalog
from ringback.settings import load_settings
from ringback.simulators.journeys import JourneyGenerator, staging_rows
from ringback.warehouse.base import connect

from helpers import build, load_calls

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
    assert {r[3] for r in leads} == {"primary_call", "missed_call_retry", "missed_call_callback"}


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
