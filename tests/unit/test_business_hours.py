"""Opening hours and holidays: parsing, errors, and the UTC intervals across DST changes."""

from __future__ import annotations

import datetime as dt

import pytest

from ringback import business_hours as bh
from ringback.settings import ConfigError, Settings, businesses_from, load_settings

from rules_reference import open_seconds

UTC = dt.UTC


def test_week_is_normalised_in_weekday_order():
    week = bh.parse_week({"Friday": "13:00-17:30, 10:00-12:00", "mon": "9:00-18:00"})
    assert week == (("mon", "09:00-18:00"), ("fri", "10:00-12:00,13:00-17:30"))
    assert bh.parse_week('{"sun": "00:00-24:00"}') == (("sun", "00:00-24:00"),)
    assert bh.parse_week({}) == () and bh.parse_week(None) == ()


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"mon": "18:00-09:00"}, "ends before it starts"),
        ({"mon": "09:00-13:00,12:00-18:00"}, "overlapping"),
        ({"mon": "9-18"}, "not an opening range"),
        ({"mon": "09:00-24:30"}, "00:00 to 24:00"),
        ({"someday": "09:00-18:00"}, "not a weekday"),
        ({"mon": "09:00-18:00", "monday": "10:00-11:00"}, "given twice"),
        ("mon 9-18", "mapping"),
    ],
)
def test_bad_hours_say_what_is_wrong(raw, message):
    with pytest.raises(bh.ScheduleError, match=message):
        bh.parse_week(raw)


def test_settings_take_hours_from_yaml_environment_and_set(monkeypatch):
    monkeypatch.setenv("RINGBACK_BUSINESS_HOURS", '{"tue": "08:00-12:00"}')
    monkeypatch.setenv("RINGBACK_HOLIDAYS", "2026-12-25,2027-01-01")
    s = load_settings()
    assert s.business_hours == (("tue", "08:00-12:00"),)
    assert s.holidays == ("2026-12-25", "2027-01-01")
    with pytest.raises(ConfigError, match="holiday 'christmas' is not a date"):
        load_settings({"holidays": "christmas"})
    with pytest.raises(ConfigError, match="callback_sla_minutes"):
        Settings(callback_sla_minutes=0)


def test_a_business_sets_its_own_hours_and_errors_name_it():
    doc = {
        "businesses": [
            {
                "id": "shop",
                "time_zone": "Europe/Kyiv",
                "settings": {
                    "business_hours": {"mon": "09:00-18:00"},
                    "holidays": [dt.date(2026, 12, 25)],  # YAML reads dates as dates
                    "callback_sla_minutes": 30,
                    "hash_employee_names": True,
                },
            }
        ]
    }
    (shop,) = businesses_from("sources.yaml", doc, Settings())
    s = shop.settings_for(Settings())
    assert (s.business_hours, s.holidays, s.callback_sla_minutes, s.hash_employee_names) == (
        (("mon", "09:00-18:00"),),
        ("2026-12-25",),
        30,
        True,
    )
    doc["businesses"][0]["settings"]["business_hours"] = {"mon": "18:00-09:00"}
    with pytest.raises(ConfigError, match=r"business 'shop'.*ends before it starts"):
        businesses_from("sources.yaml", doc, Settings())


def test_intervals_follow_the_zone_across_dst_and_skip_holidays():
    week = bh.parse_week({"sat": "09:00-18:00", "mon": "09:00-18:00"})
    # Kyiv leaves summer time in the night to Sunday 2026-10-25.
    got = bh.open_intervals(
        week, ("2026-11-02",), "Europe/Kyiv", dt.date(2026, 10, 24), dt.date(2026, 11, 2)
    )
    assert got == [
        (dt.datetime(2026, 10, 24, 6, tzinfo=UTC), dt.datetime(2026, 10, 24, 15, tzinfo=UTC)),
        (dt.datetime(2026, 10, 26, 7, tzinfo=UTC), dt.datetime(2026, 10, 26, 16, tzinfo=UTC)),
        (dt.datetime(2026, 10, 31, 7, tzinfo=UTC), dt.datetime(2026, 10, 31, 16, tzinfo=UTC)),
    ]  # Monday 2026-11-02 is a holiday


def test_always_open_with_holidays_and_adjacent_days_merge():
    got = bh.open_intervals((), ("2026-11-11",), "UTC", dt.date(2026, 11, 9), dt.date(2026, 11, 12))
    assert got == [
        (dt.datetime(2026, 11, 9, tzinfo=UTC), dt.datetime(2026, 11, 11, tzinfo=UTC)),
        (dt.datetime(2026, 11, 12, tzinfo=UTC), dt.datetime(2026, 11, 13, tzinfo=UTC)),
    ]
    rows = bh.interval_rows("b", got)
    assert [(r["open_seconds"], r["open_seconds_before"]) for r in rows] == [
        (172800, 0),
        (86400, 172800),
    ]
    assert (
        open_seconds(got, got[0][1] - dt.timedelta(hours=1), got[1][0] + dt.timedelta(hours=2))
        == 3 * 3600
    )
