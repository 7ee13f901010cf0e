"""Which (business, date)s of staging the models have not built since they last changed.

The warehouse, not the events that woke a run, says what to build. ``staging.folded_partitions``
holds, per business and call_date, how many rows staging held when a models run last built that
date (every model, marts included) and succeeded. A run counts staging's rows per business and
date (two narrow columns: 0.2 s for 18M rows on DuckDB) and builds every date whose count
differs or was never built, plus the look-back the rules need, whatever wrote the rows: a daily
load, a backfill by ``extract``, rows loaded by hand, a late or deep re-pull of old days, a run
that failed half way. It records the new counts once its build has succeeded, then checks that
nothing is left (``gaps``). A publish forgets the dates it is about to write (a count no date
has), before writing them: a re-pull that changed calls but kept the count is built again, and a
crash between the two writes leaves the dates marked. staging.calls keeps exactly its contract's
columns (outside tools insert into it positionally), so the bookkeeping lives beside it.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import pyarrow as pa

from ringback import catalog
from ringback.warehouse.base import Warehouse

log = logging.getLogger(__name__)

# staging.calls requires a partition filter on BigQuery; this one admits every date.
EVERY_DATE = dt.date(1900, 1, 1)

# Staging's rows per business and date: what a build is compared with.
STAGED = """
staged AS (
    SELECT business_id, call_date, COUNT(*) AS staged_rows
    FROM staging.calls
    WHERE call_date >= @every_date
    GROUP BY business_id, call_date
)"""

CHANGED = f"""
WITH
{STAGED}

SELECT
    COALESCE(staged.business_id, folded.business_id) AS business_id,
    COALESCE(staged.call_date, folded.call_date) AS call_date,
    COALESCE(staged.staged_rows, 0) AS staged_rows
FROM staged
FULL OUTER JOIN staging.folded_partitions AS folded
    ON staged.business_id = folded.business_id AND staged.call_date = folded.call_date
WHERE
    @refold
    OR folded.staged_rows IS NULL
    OR folded.staged_rows != COALESCE(staged.staged_rows, 0)
"""


@dataclass(frozen=True)
class PendingFold:
    """What a run must fold before it builds its own range, and the counts to record after."""

    ranges: tuple[tuple[dt.date, dt.date], ...]
    businesses: frozenset[str]
    changed: list[dict] = field(default_factory=list)  # business_id, call_date, staged_rows

    @property
    def dates(self) -> int:
        return len(self.changed)

    def to_json(self) -> dict:
        return {
            "ranges": [[lo.isoformat(), hi.isoformat()] for lo, hi in self.ranges],
            "businesses": sorted(self.businesses),
            "changed": [{**r, "call_date": r["call_date"].isoformat()} for r in self.changed],
        }

    @classmethod
    def from_json(cls, value: dict) -> PendingFold:
        day = dt.date.fromisoformat
        return cls(
            tuple((day(lo), day(hi)) for lo, hi in value["ranges"]),
            frozenset(value["businesses"]),
            [{**r, "call_date": day(r["call_date"])} for r in value["changed"]],
        )


def pending(
    warehouse: Warehouse,
    window_start: dt.date | None,
    window_end: dt.date | None,
    *,
    selected: Sequence[str] | None,
    refold: bool = False,
) -> PendingFold:
    """(business, date) pairs whose staging rows the models have not built, as ranges.

    Dates inside the run's own window (if it has one) are left to the window's build when it
    covers every business (``selected`` is None); with ``--business`` the other businesses'
    changed dates there are built too. ``refold`` (``--full-refresh``) builds all of staging.
    """
    changed = warehouse.query(CHANGED, {"every_date": EVERY_DATE, "refold": refold}).to_pylist()

    def in_window(day: dt.date) -> bool:
        return (
            window_start is not None
            and window_end is not None
            and (window_start <= day <= window_end)
        )

    dates = {
        r["call_date"] for r in changed if selected is not None or not in_window(r["call_date"])
    }
    fold = PendingFold(_ranges(dates), frozenset(r["business_id"] for r in changed), changed)
    if fold.ranges:
        log.info(
            "building %d business dates changed since their last build: %s",
            fold.dates,
            ", ".join(f"{lo}..{hi}" for lo, hi in fold.ranges),
        )
    return fold


def _ranges(dates: set[dt.date]) -> tuple[tuple[dt.date, dt.date], ...]:
    """Consecutive dates as ranges, each widened by a day both sides so a pair matched across
    midnight is rebuilt on both of its dates."""
    out: list[list[dt.date]] = []
    for day in sorted(dates):
        lo, hi = day - dt.timedelta(days=1), day + dt.timedelta(days=1)
        if out and lo <= out[-1][1] + dt.timedelta(days=1):
            out[-1][1] = max(out[-1][1], hi)
        else:
            out.append([lo, hi])
    return tuple((lo, hi) for lo, hi in out)


def record(warehouse: Warehouse, fold: PendingFold, planned_at: dt.datetime) -> None:
    """Remember the counts this run built (call after the whole build succeeded). A date a
    load forgot after the run was planned keeps its mark: the rows it wrote are not built."""
    if not fold.changed:
        return
    table = catalog.table("staging.folded_partitions")
    since = {
        (r["business_id"], r["call_date"])
        for r in warehouse.query(
            "SELECT business_id, call_date FROM staging.folded_partitions "
            "WHERE call_date >= @every_date AND folded_at > @planned_at",
            {"every_date": EVERY_DATE, "planned_at": planned_at},
        ).to_pylist()
    }
    now = dt.datetime.now(dt.UTC)
    rows = [
        {**r, "folded_at": now}
        for r in fold.changed
        if (r["business_id"], r["call_date"]) not in since
    ]
    if rows:
        warehouse.write(table, table.to_arrow(rows))


# Every (business, date) staged when the run was planned must be built from its current rows,
# and each with inbound calls must have its reconciliation row. Dates a load touched after the
# plan are the next run's.
GAPS = f"""
WITH
{STAGED},

inbound AS (
    SELECT DISTINCT business_id, call_date
    FROM staging.unified_calls
    WHERE call_date >= @every_date AND direction = 'inbound'
),

reconciled AS (
    SELECT DISTINCT business_id, report_date
    FROM marts.call_reconciliation
    WHERE report_date >= @every_date
)

SELECT
    staged.business_id,
    staged.call_date,
    staged.staged_rows,
    folded.staged_rows AS built_rows,
    inbound.call_date IS NOT NULL AND reconciled.report_date IS NULL AS no_reconciliation
FROM staged
LEFT JOIN staging.folded_partitions AS folded
    ON staged.business_id = folded.business_id AND staged.call_date = folded.call_date
LEFT JOIN inbound
    ON staged.business_id = inbound.business_id AND staged.call_date = inbound.call_date
LEFT JOIN reconciled
    ON staged.business_id = reconciled.business_id AND staged.call_date = reconciled.report_date
WHERE
    (folded.folded_at IS NULL OR folded.folded_at <= @planned_at)
    AND (
        folded.staged_rows IS NULL
        OR folded.staged_rows != staged.staged_rows
        OR (inbound.call_date IS NOT NULL AND reconciled.report_date IS NULL)
    )
ORDER BY staged.business_id, staged.call_date
"""


class IncompleteMarts(RuntimeError):
    """A successful build left staged dates unbuilt: named, so nobody reads a hole as zero."""


def gaps(warehouse: Warehouse, planned_at: dt.datetime) -> list[dict]:
    """Staged (business, date)s the marts do not reflect: never built, built from other rows
    than staging holds, or without their reconciliation row."""
    return warehouse.query(GAPS, {"every_date": EVERY_DATE, "planned_at": planned_at}).to_pylist()


def check_complete(warehouse: Warehouse, planned_at: dt.datetime) -> None:
    """Raise ``IncompleteMarts`` naming every gap (see ``gaps``)."""
    found = gaps(warehouse, planned_at)
    if not found:
        return
    shown = ", ".join(
        f"{g['business_id']} {g['call_date']} "
        + (
            "(no reconciliation row)"
            if g["no_reconciliation"] and g["built_rows"] == g["staged_rows"]
            else f"(staged {g['staged_rows']} rows, built {g['built_rows']})"
        )
        for g in found[:20]
    )
    more = f" and {len(found) - 20} more" if len(found) > 20 else ""
    # Marked, so the next run builds them even where the counts agree.
    forget(
        warehouse,
        pa.table(
            {
                "business_id": [g["business_id"] for g in found],
                "call_date": [g["call_date"] for g in found],
            }
        ),
    )
    raise IncompleteMarts(
        f"{len(found)} staged business dates are missing from the marts: {shown}{more}. "
        "They are marked for the next run to build."
    )


def forget(warehouse: Warehouse, staged: pa.Table) -> None:
    """Mark the (business, date)s of rows just written to staging as not folded."""
    if staged.num_rows == 0:
        return
    pairs = sorted(
        set(
            zip(
                staged.column("business_id").to_pylist(),
                staged.column("call_date").to_pylist(),
                strict=True,
            )
        )
    )
    table = catalog.table("staging.folded_partitions")
    # An upsert with a count no date can have (-1) makes each of them differ from staging.
    warehouse.write(
        table,
        table.to_arrow(
            [
                {
                    "business_id": b,
                    "call_date": d,
                    "staged_rows": -1,
                    "folded_at": dt.datetime.now(dt.UTC),
                }
                for b, d in pairs
            ]
        ),
    )


def mark_crm_leads(warehouse: Warehouse, staged: pa.Table) -> None:
    """Mark CRM leads about to be written to staging for the next models run to rematch
    (``staging.crm_leads_pending``): marts.crm_leads is rebuilt for their customers only."""
    if staged.num_rows == 0:
        return
    table = catalog.table("staging.crm_leads_pending")
    now = dt.datetime.now(dt.UTC)
    marked = staged.select(["business_id", "crm_lead_key"]).append_column(
        "marked_at", pa.array([now] * staged.num_rows, table.arrow_schema().field("marked_at").type)
    )
    warehouse.write(table, marked.cast(table.arrow_schema()))


def clear_crm_marks(warehouse: Warehouse, planned_at: dt.datetime) -> None:
    """Forget the CRM leads marked before the run was planned (its build has matched them);
    a lead a load marked since keeps its mark for the next run."""
    warehouse.clear_marks(catalog.table("staging.crm_leads_pending"), "marked_at", planned_at)
