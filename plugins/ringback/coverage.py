"""What each source has loaded: the windows of its validated loads in ``raw.loads``.

Three readers: the CRM reconciliation compares only dates both the calls and the CRM cover
(``calls_coverage``, ``crm_coverage``, in ``staging.business_settings``); the call
reconciliation marks a date built before one of its business's call sources loaded it
(``staging.source_coverage``, from ``source_coverage_rows``); and the DAGs' deadline and
late-source tasks ask which sources a date still waits for (``missing_sources``).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

import pyarrow as pa

from ringback import history
from ringback.settings import Config, SourceConfig
from ringback.warehouse.base import Warehouse

LOADED_WINDOWS = """
SELECT source_id, window_start_at, window_end_at
FROM raw.loads
WHERE validation_success AND source_id IN UNNEST(@source_ids)"""

Window = tuple[dt.datetime, dt.datetime]


def loaded_windows(warehouse: Warehouse, source_ids: list[str]) -> dict[str, list[Window]]:
    """Every validated load's window, per source."""
    if not source_ids:
        return {}
    out: dict[str, list[Window]] = {}
    for r in warehouse.query(LOADED_WINDOWS, {"source_ids": source_ids}).to_pylist():
        out.setdefault(r["source_id"], []).append((r["window_start_at"], r["window_end_at"]))
    return out


def _day_start(day: dt.date, tz: zoneinfo.ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=tz).astimezone(dt.UTC)


def covered_dates(windows: list[Window], tz: zoneinfo.ZoneInfo) -> list[tuple[dt.date, dt.date]]:
    """The local dates (in ``tz``) that windows cover whole, as merged inclusive ranges.

    A date is covered when one window holds it from its first instant to the next date's: a
    window that starts or ends inside a day does not cover that day.
    """
    ranges: list[tuple[dt.date, dt.date]] = []
    for lo, hi in windows:
        first = lo.astimezone(tz).date()
        if lo > _day_start(first, tz):
            first += dt.timedelta(days=1)
        # hi falls on its local date, after that date's start: the date before is the last whole.
        last = hi.astimezone(tz).date() - dt.timedelta(days=1)
        if first <= last:
            ranges.append((first, last))
    merged: list[tuple[dt.date, dt.date]] = []
    for first, last in sorted(ranges):
        if merged and first <= merged[-1][1] + dt.timedelta(days=1):
            merged[-1] = (merged[-1][0], max(merged[-1][1], last))
        else:
            merged.append((first, last))
    return merged


def call_windows(warehouse: Warehouse, config: Config) -> dict[str, list[Window]]:
    """Every validated load's window of every call source of the sources file."""
    return loaded_windows(warehouse, sorted(s.id for s in config.call_sources()))


def source_coverage_rows(config: Config, windows: dict[str, list[Window]]) -> list[dict[str, Any]]:
    """staging.source_coverage rows from the call sources' load windows (``call_windows``):
    each source's covered local dates (its business's zone), one row per unbroken range."""
    return [
        {
            "business_id": s.business_id,
            "source_id": s.id,
            "system": s.system,
            "covered_from_date": first,
            "covered_until_date": last,
        }
        for s in sorted(config.call_sources(), key=lambda s: (s.business_id, s.id))
        for first, last in covered_dates(windows.get(s.id, []), s.business_tz)
    ]


def missing_sources(
    warehouse: Warehouse, config: Config, business_id: str, day: dt.date
) -> list[str]:
    """The business's call sources that have loaded some date up to ``day`` but not ``day``
    itself (the rule the call reconciliation marks by). A source that has never loaded that
    far back is not awaited: it did not exist yet, or its history was never pulled."""
    sources = config.call_sources(business_id)
    windows = loaded_windows(warehouse, sorted(s.id for s in sources))
    missing = []
    for s in sources:
        ranges = covered_dates(windows.get(s.id, []), s.business_tz)
        started = any(first <= day for first, _ in ranges)
        if started and not any(first <= day <= last for first, last in ranges):
            missing.append(s.id)
    return sorted(missing)


def _per_business(windows: dict[str, Window], business_of: dict[str, str]) -> dict[str, Window]:
    out: dict[str, Window] = {}
    for source_id, (lo, hi) in windows.items():
        bid = business_of[source_id]
        old = out.get(bid)
        out[bid] = (min(lo, old[0]), max(hi, old[1])) if old else (lo, hi)
    return out


def calls_coverage(config: Config, windows: dict[str, list[Window]]) -> dict[str, Window]:
    """Per business, from the call sources' load windows (``call_windows``): from the first
    window its call sources loaded (validated) to the end of the last: the dates its calls
    were read for."""
    business_of = {s.id: s.business_id for s in config.call_sources()}
    spans = {sid: (min(lo for lo, _ in ws), max(hi for _, hi in ws)) for sid, ws in windows.items()}
    return _per_business(spans, business_of)


def crm_coverage(warehouse: Warehouse, config: Config | None = None) -> dict[str, Window]:
    """Per business with CRM leads: from the first window its CRM sources loaded (validated) to
    the end of the last. Before it the CRM was not read; after it a lead may still arrive. A CSV
    export holds leads older than its load's window: it covers from its earliest lead, or from
    the source's ``covers_from`` option (an ISO date or time, UTC when it has no zone)."""
    rows = warehouse.query(
        """
        SELECT crm.business_id, crm.source_id, MIN(loads.window_start_at) AS synced_from,
            MAX(loads.window_end_at) AS synced_until, MIN(crm.first_created_at) AS first_lead_at
        FROM raw.loads AS loads
        INNER JOIN (
            SELECT business_id, source_id, MIN(created_at) AS first_created_at
            FROM staging.crm_leads
            GROUP BY business_id, source_id
        ) AS crm
            ON loads.source_id = crm.source_id
        WHERE loads.validation_success
        GROUP BY crm.business_id, crm.source_id"""
    ).to_pylist()
    exports = {s.id: s for s in (config.sources if config else ()) if s.provider == "crm_csv"}
    windows: dict[str, Window] = {}
    for r in rows:
        start = r["synced_from"]
        if (source := exports.get(r["source_id"])) is not None:
            given = source.options.get("covers_from")
            start = _instant(given) if given else min(start, r["first_lead_at"] or start)
        windows[r["source_id"]] = (start, r["synced_until"])
    return _per_business(windows, {r["source_id"]: r["business_id"] for r in rows})


def _instant(value: Any) -> dt.datetime:
    # YAML reads 2025-01-01 as a date, which fromisoformat takes as midnight.
    moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


AWAITING = """
SELECT report_date, missing_sources
FROM marts.call_reconciliation
WHERE business_id = @business_id AND report_date >= @since AND missing_sources IS NOT NULL"""


def awaited_dates(warehouse: Warehouse, source: SourceConfig, since: dt.date) -> list[dt.date]:
    """Dates from ``since`` on that the marts built without ``source`` and that its loads
    now cover: the dates its late arrival must have rebuilt."""
    rows = warehouse.query(AWAITING, {"business_id": source.business_id, "since": since})
    marked = [
        r["report_date"] for r in rows.to_pylist() if source.id in r["missing_sources"].split(",")
    ]
    if not marked:
        return []
    ranges = covered_dates(
        loaded_windows(warehouse, [source.id]).get(source.id, []), source.business_tz
    )
    return sorted(d for d in marked if any(lo <= d <= hi for lo, hi in ranges))


def mark_awaited(warehouse: Warehouse, source: SourceConfig, since: dt.date) -> list[dt.date]:
    """Mark the ``awaited_dates`` of a source that just loaded for the next models run
    (``staging.folded_partitions``); returns them."""
    late = awaited_dates(warehouse, source, since)
    if late:
        history.forget(
            warehouse,
            pa.table({"business_id": [source.business_id] * len(late), "call_date": late}),
        )
    return late
