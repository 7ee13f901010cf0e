"""Property test: the SQL models on DuckDB agree with the pure-Python reading of the rules.

Random call sets are drawn from a small world (a few customers, tracked and untracked lines,
both systems, both directions, every status, talk times around the threshold, starts clustered
so that matching, recovery windows and midnight boundaries are all exercised), spread over
three businesses that share customer numbers: Kyiv with the defaults, New York with its own
zone, talk threshold, recovery and match windows and a finite uniqueness window, and one found
in staging but not configured (global settings). The reference evaluates each business alone.
New York also keeps office hours with a holiday and a 2-minute callback SLA, so the callback
follow-ups' business time and deadlines are checked against the reference too.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as h_settings
from hypothesis import strategies as st

from ringback import catalog
from ringback.settings import Business, Config, load_settings

from helpers import build, connect, load_calls, staging_row, table_rows
from rules_reference import evaluate_businesses

NUMBERS = ["+380501000001", "+380501000002", "+380501000003", None]
COMPANIES = ["+380443330001", "+380443330002", "+380442000000"]
STATUSES = ["answered", "answered", "answered", "missed", "busy", "voicemail", "failed"]
TALK = [0, 10, 30, 31, 45, 300]
BASE = dt.datetime(2026, 11, 10, 20, 0, tzinfo=dt.UTC)  # 22:00 Kyiv: days roll over soon
BUSINESSES = Config(
    businesses=(
        Business("kyiv", "Kyiv", "Europe/Kyiv"),
        Business(
            "ny",
            "New York",
            "America/New_York",
            {
                "talk_threshold_seconds": 45,
                "recovery_window_hours": 12,
                "match_tolerance_seconds": 60,
                "uniqueness_window_days": 1,
                "tracked_numbers": ["+380442000000"],
                "mismatch_min_unmatched": 1,
                # Office hours around the drawn calls, a holiday among them, a 2-minute SLA.
                "business_hours": {
                    "tue": "09:00-17:00",
                    "wed": "09:00-17:00",
                    "thu": "08:30-12:00",
                },
                "holidays": ["2026-11-11"],
                "callback_sla_minutes": 2,
                "short_abandon_seconds": 10,
            },
        ),
    ),
    sources=(),
)
ZONES = {"kyiv": "Europe/Kyiv", "ny": "America/New_York", "unlisted": None}


@st.composite
def call_sets(draw):
    n = draw(st.integers(min_value=1, max_value=14))
    anchors = draw(st.lists(st.integers(0, 40 * 3600), min_size=1, max_size=4))
    calls = []
    for i in range(n):
        anchor = draw(st.sampled_from(anchors))
        offset = draw(st.sampled_from([0, 1, 60, 119, 120, 121, 600, 86399, 86400, 86401]))
        status = draw(st.sampled_from(STATUSES))
        talk = draw(st.sampled_from(TALK)) if status == "answered" else 0
        system = draw(st.sampled_from(["calltracking", "telephony"]))
        business = draw(st.sampled_from(list(ZONES)))
        calls.append(
            {
                "business": business,
                "tz": ZONES[business],
                "key": f"{'ct' if system == 'calltracking' else 'tel'}{i}",
                "system": system,
                "dir": draw(st.sampled_from(["inbound", "inbound", "outbound"])),
                "number": draw(st.sampled_from(NUMBERS)),
                "company": draw(st.sampled_from(COMPANIES)),
                "at": BASE + dt.timedelta(seconds=anchor + offset),
                "status": status,
                "talk": talk,
                "wait": draw(st.sampled_from([None, 0, 3, 9, 10, 25])),
                "source": draw(st.sampled_from(["google", "facebook", None])),
            }
        )
    return calls


@pytest.fixture(scope="module")
def shared_warehouse(tmp_path_factory):
    path = tmp_path_factory.mktemp("prop") / "w.duckdb"
    with connect(f"duckdb://{path}") as wh:
        wh.init()
        yield wh


def _reset(wh) -> None:
    for table in catalog.tables().values():
        if table.layer != "raw":
            wh.con.execute(f"DELETE FROM {table.ref}")


@h_settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(specs=call_sets())
def test_sql_matches_reference(shared_warehouse, specs):
    wh = shared_warehouse
    settings = load_settings({"validate_marts": False})  # mart suites: test_quality.py
    _reset(wh)
    rows = [staging_row(s, settings) for s in specs]
    load_calls(wh, rows)
    dates = sorted({r["call_date"] for r in rows})
    build(wh, settings, dates[0], dates[-1] + dt.timedelta(days=2), config=BUSINESSES)
    per_business = BUSINESSES.business_settings(settings)
    expected = evaluate_businesses(rows, lambda b: per_business.get(b, settings))

    def keyed(ref: str, key: str) -> dict:
        return {(r["business_id"], r[key]): r for r in table_rows(wh, ref)}

    leads = keyed("marts.attributed_leads", "lead_id")
    assert set(leads) == set(expected["leads"])
    for key, want in expected["leads"].items():
        got = leads[key]
        assert (
            got["lead_call_key"],
            got["attribution_type"],
            got["recovery_seconds"],
            got["traffic_source"],
        ) == (
            want["lead_call_key"],
            want["attribution_type"],
            want["recovery_seconds"],
            want["source"],
        ), key

    missed = keyed("marts.missed_calls", "call_key")
    assert {k: (v["outcome"], v["recovered_by_call_key"]) for k, v in missed.items()} == {
        k: (v["outcome"], v["recovered_by_call_key"]) for k, v in expected["missed"].items()
    }

    followups = keyed("marts.missed_call_followups", "call_key")
    assert set(followups) == set(expected["followups"])
    for key, want in expected["followups"].items():
        got = {c: followups[key][c] for c in want}
        assert got == want, key

    unmatched = {k: r["reason"] for k, r in keyed("marts.unmatched_calls", "call_key").items()}
    assert unmatched == expected["unmatched"]

    recon = keyed("marts.call_reconciliation", "report_date")
    assert set(recon) == set(expected["reconciliation"])
    for day, want in expected["reconciliation"].items():
        got = recon[day]
        for column, value in want.items():
            if isinstance(value, float):
                assert got[column] == pytest.approx(value), (day, column)
            else:
                assert got[column] == value, (day, column)
