"""Staging rows that no models run has folded in yet (design.md §4, "Incremental runs").

Primacy reads a first-seen dimension so a daily run does not recompute history. That dimension
is only right if it has seen every staging row of the business, whatever wrote it: a backfill by
``extract``, rows loaded by hand, a late re-pull of an old day. ``staging.folded_partitions``
holds, per business and call_date, how many rows staging held when the models last folded that
date. A run counts staging's rows per business and date (two narrow columns: 0.2 s for 18M rows
on DuckDB), folds every date whose count differs or was never folded, rebuilding unified calls,
first-seen and tracked numbers there, and records the new counts once its build has succeeded.
``extract`` forgets the dates it writes, so a re-pull that changed calls but kept the count is
folded too. staging.calls keeps exactly its contract's columns (outside tools insert into it
positionally), so the bookkeeping lives beside it.
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

# Models a fold rebuilds: everything primacy and the tracked-number rule read across history.
FOLD_MODELS = ("staging.unified_calls", "staging.customer_first_seen", "staging.tracked_numbers")
# staging.calls requires a partition filter on BigQuery; this one admits every date.
EVERY_DATE = dt.date(1900, 1, 1)

CHANGED = """
WITH
staged AS (
    SELECT business_id, call_date, COUNT(*) AS staged_rows
    FROM staging.calls
    WHERE call_date >= @every_date
    GROUP BY business_id, call_date
)

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
    window_start: dt.date,
    window_end: dt.date,
    *,
    selected: Sequence[str] | None,
    refold: bool = False,
) -> PendingFold:
    """(business, date) pairs whose staging rows the models have not folded, as ranges.

    Dates inside the run's own window are left to the range build when it covers every business
    (``selected`` is None); with ``--business`` the other businesses' rows there are folded too.
    ``refold`` (``--full-refresh``) folds all of staging again.
    """
    changed = warehouse.query(CHANGED, {"every_date": EVERY_DATE, "refold": refold}).to_pylist()
    dates = {
        r["call_date"]
        for r in changed
        if selected is not None or not window_start <= r["call_date"] <= window_end
    }
    fold = PendingFold(_ranges(dates), frozenset(r["business_id"] for r in changed), changed)
    if fold.ranges:
        log.info(
            "folding %d business dates that no models run covered: %s",
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


def record(warehouse: Warehouse, fold: PendingFold) -> None:
    """Remember the counts this run folded (call after the whole build succeeded)."""
    if not fold.changed:
        return
    now = dt.datetime.now(dt.UTC)
    table = catalog.table("staging.folded_partitions")
    warehouse.write(table, table.to_arrow([{**r, "folded_at": now} for r in fold.changed]))


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
