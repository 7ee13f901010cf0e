"""A business's opening hours: the weekly schedule and holidays of its ``settings:``, and the
open intervals (UTC) that callback SLAs are measured in.

In the sources file::

    settings:
      business_hours: {mon: "09:00-18:00", tue: "09:00-13:00,14:00-18:00", sat: "10:00-14:00"}
      holidays: [2026-12-25, 2027-01-01]

Times are wall-clock times in the business's reporting zone; a day left out is closed, a holiday
is closed all day, and a business with neither setting is always open. ``24:00`` ends a day.
The intervals are computed here rather than in SQL because local time to UTC across DST changes
is what zoneinfo does well and what the two SQL dialects spell differently.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
import zoneinfo
from collections.abc import Iterable
from typing import Any

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL_NAMES = {
    "monday": "mon",
    "tuesday": "tue",
    "wednesday": "wed",
    "thursday": "thu",
    "friday": "fri",
    "saturday": "sat",
    "sunday": "sun",
}
_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")

# Opening hours are written as (weekday, "HH:MM-HH:MM[,HH:MM-HH:MM...]") pairs in settings.
Week = tuple[tuple[str, str], ...]


class ScheduleError(ValueError):
    """Opening hours or holidays that cannot be used as written."""


def _minutes(hours: str, minutes: str, text: str) -> int:
    h, m = int(hours), int(minutes)
    if m > 59 or h > 24 or (h == 24 and m):
        raise ScheduleError(f"{text!r}: times run from 00:00 to 24:00")
    return h * 60 + m


def day_ranges(text: str) -> list[tuple[int, int]]:
    """``"09:00-13:00,14:00-18:00"`` as sorted (start, end) minutes after local midnight."""
    out = []
    for part in str(text).split(","):
        match = _RANGE.match(part)
        if not match:
            raise ScheduleError(
                f"{part.strip()!r} is not an opening range; write HH:MM-HH:MM, several "
                "separated by commas (09:00-13:00,14:00-18:00)"
            )
        start = _minutes(match[1], match[2], part.strip())
        end = _minutes(match[3], match[4], part.strip())
        if end <= start:
            raise ScheduleError(
                f"{part.strip()!r} ends before it starts; a range past midnight is two ranges "
                "(22:00-24:00 on one day, 00:00-02:00 on the next)"
            )
        out.append((start, end))
    out.sort()
    for (_, end), (start, _) in itertools.pairwise(out):
        if start < end:
            raise ScheduleError(f"{text!r} has overlapping ranges")
    return out


def parse_week(raw: Any) -> Week:
    """A ``business_hours`` value (a mapping, its JSON text, or pairs) checked and normalised
    to (day, ranges) pairs in weekday order; ``()`` for no schedule."""
    if raw is None or raw == "" or raw == () or raw == {}:
        return ()
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ScheduleError(
                'business_hours must be a mapping such as {mon: "09:00-18:00"} '
                '(JSON {"mon": "09:00-18:00"} in an environment variable or --set)'
            ) from exc
    pairs = raw.items() if isinstance(raw, dict) else raw
    week: dict[str, str] = {}
    try:
        for day, ranges in pairs:
            name = str(day).strip().lower()
            key = _FULL_NAMES.get(name, name)
            if key not in DAYS:
                raise ScheduleError(f"business_hours: {day!r} is not a weekday (mon .. sun)")
            if key in week:
                raise ScheduleError(f"business_hours: {day!r} is given twice")
            week[key] = ",".join(
                f"{s // 60:02d}:{s % 60:02d}-{e // 60:02d}:{e % 60:02d}"
                for s, e in day_ranges(str(ranges))
            )
    except (TypeError, ValueError) as exc:
        if isinstance(exc, ScheduleError):
            raise
        raise ScheduleError(f"business_hours {raw!r} is not a mapping of weekday: hours") from exc
    return tuple((d, week[d]) for d in DAYS if d in week)


def parse_holidays(raw: Iterable[Any]) -> tuple[str, ...]:
    """Holidays as sorted ISO dates."""
    out = set()
    for value in raw:
        try:
            out.add(dt.date.fromisoformat(str(value).strip()).isoformat())
        except ValueError:
            raise ScheduleError(f"holiday {value!r} is not a date (YYYY-MM-DD)") from None
    return tuple(sorted(out))


def has_schedule(week: Week, holidays: tuple[str, ...]) -> bool:
    """Whether the business keeps hours at all; without hours and holidays it is always open."""
    return bool(week or holidays)


def open_intervals(
    week: Week, holidays: tuple[str, ...], time_zone: str, first_day: dt.date, last_day: dt.date
) -> list[tuple[dt.datetime, dt.datetime]]:
    """Open intervals [open, close) in UTC over the local days ``first_day .. last_day``,
    in order, adjacent ones merged (a day open to 24:00 and the next from 00:00 is one).

    Without a weekly schedule every day is open 00:00-24:00 (holidays still close). A local
    time skipped by a DST change is read with fold=0, so an interval never runs backwards.
    """
    tz = zoneinfo.ZoneInfo(time_zone)
    by_day = {d: day_ranges(r) for d, r in week} if week else None
    closed = set(holidays)
    out: list[tuple[dt.datetime, dt.datetime]] = []
    day = first_day
    while day <= last_day:
        ranges = [(0, 24 * 60)] if by_day is None else by_day.get(DAYS[day.weekday()], [])
        if day.isoformat() not in closed:
            for start, end in ranges:
                lo = _utc(day, start, tz)
                hi = _utc(day, end, tz)
                if hi <= lo:
                    continue
                if out and out[-1][1] >= lo:
                    out[-1] = (out[-1][0], max(out[-1][1], hi))
                else:
                    out.append((lo, hi))
        day += dt.timedelta(days=1)
    return out


def _utc(day: dt.date, minutes: int, tz: zoneinfo.ZoneInfo) -> dt.datetime:
    local = dt.datetime.combine(day, dt.time()) + dt.timedelta(minutes=minutes)
    return local.replace(tzinfo=tz).astimezone(dt.UTC)


def interval_rows(
    business_id: str,
    intervals: list[tuple[dt.datetime, dt.datetime]],
) -> list[dict[str, Any]]:
    """staging.business_hours rows: each interval with the open seconds of those before it, so
    SQL can tell the open time between two instants as a difference of two lookups."""
    rows, before = [], 0
    for open_at, close_at in intervals:
        seconds = int((close_at - open_at).total_seconds())
        rows.append(
            {
                "business_id": business_id,
                "open_at": open_at,
                "close_at": close_at,
                "open_seconds": seconds,
                "open_seconds_before": before,
            }
        )
        before += seconds
    return rows
