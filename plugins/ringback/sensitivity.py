"""How the lead count moves with the rules: `ringback sensitivity`.

Leads and recovered leads for every combination of talk threshold and recovery window, and the
missed first calls (with their recovery rate) for every short-abandon threshold besides, from
staging in one query (``sql/analyses/lead_sensitivity.sql``, the alternatives as array
parameters, BigQuery's dialect like every model). Nothing is written: the grid is printed, and
the HTML report shows it as a heat table. The cell holding a business's own settings equals its
``marts.attributed_leads`` (tested), because the query decides conversation, spam and recovery
as the models do; primacy (which neither setting changes) comes from ``staging.primary_calls``,
so the models must have run over the range first.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ringback import analyses
from ringback.settings import ConfigError

DEFAULT_TALK = (30, 45, 60)
DEFAULT_WINDOW_HOURS = (12, 24, 48)
DEFAULT_SHORT_ABANDON = (0, 5, 10, 15)


@dataclass(frozen=True)
class Cell:
    business_id: str
    talk_threshold_seconds: int
    recovery_window_hours: float
    primary_leads: int
    retry_leads: int
    callback_leads: int
    spam_calls: int

    @property
    def leads(self) -> int:
        return self.primary_leads + self.retry_leads + self.callback_leads

    @property
    def recovered_leads(self) -> int:
        return self.retry_leads + self.callback_leads


@dataclass(frozen=True)
class MissedCell:
    """Missed first calls under one (talk threshold, window, short-abandon threshold): short
    hang-ups counted apart, the rest recovered or not (no lead moves with the abandon axis)."""

    missed_calls: int
    recovered_missed_calls: int
    abandoned_short: int

    @property
    def recovery_rate(self) -> float | None:
        return self.recovered_missed_calls / self.missed_calls if self.missed_calls else None


@dataclass(frozen=True)
class Grid:
    """One business's cells, and which one holds its own settings (None: not in the grid);
    ``missed`` by (talk, hours, short-abandon seconds), its own abandon setting in ``abandon``."""

    business_id: str
    talks: tuple[int, ...]
    windows: tuple[float, ...]
    cells: dict[tuple[int, float], Cell]
    current: tuple[int, float] | None
    abandons: tuple[int, ...] = (0,)
    missed: dict[tuple[int, float, int], MissedCell] = field(default_factory=dict)
    abandon: int | None = None


def parse_list(text: str, name: str, *, minimum: float) -> tuple[float, ...]:
    """``"30,45,60"`` as sorted distinct numbers; a clear error for anything else."""
    try:
        values = sorted({float(x) for x in text.split(",") if x.strip()})
    except ValueError:
        raise ConfigError(f"{name} expects numbers separated by commas, got {text!r}") from None
    if not values or any(not math.isfinite(v) or v < minimum for v in values):
        raise ConfigError(f"{name} expects numbers of at least {minimum:g}, got {text!r}")
    return tuple(values)


def compute(
    wh: Any,
    start: dt.date,
    end: dt.date,
    talks: Sequence[float],
    window_hours: Sequence[float],
    businesses: Sequence[str] | None = None,
    short_abandons: Sequence[float] = (0,),
) -> dict[str, Grid]:
    """Every business's grid for ``start .. end`` (attributed dates), one query."""
    talk_values = sorted({int(t) for t in talks})
    windows = sorted({round(h * 3600) for h in window_hours})
    abandons = sorted({int(a) for a in short_abandons})
    if talk_values != sorted(talks) or not talk_values or not windows:
        raise ConfigError("talk thresholds are whole seconds; give at least one of each")
    if not abandons or any(a != int(a) or a < 0 for a in short_abandons):
        raise ConfigError("short-abandon thresholds are whole seconds; give at least one")
    _require_models(wh, start, end, businesses)
    params = {
        "start_date": start,
        "end_date": end,
        "recovery_end_date": end + dt.timedelta(days=math.ceil(max(windows) / 86400) + 1),
        "talk_thresholds": talk_values,
        "recovery_windows": windows,
        "min_talk_threshold": min(talk_values),
        "max_recovery_window": max(windows),
        "short_abandons": abandons,
        "all_businesses": not businesses,
        "business_ids": list(businesses or ()),
    }
    cells: dict[str, dict[tuple[int, float], Cell]] = {}
    missed: dict[str, dict[tuple[int, float, int], MissedCell]] = {}
    for r in analyses.rows(wh, "lead_sensitivity", params):
        hours = r["recovery_window_seconds"] / 3600
        abandon = int(r["short_abandon_seconds"])
        missed.setdefault(r["business_id"], {})[
            (int(r["talk_threshold_seconds"]), hours, abandon)
        ] = MissedCell(
            int(r["missed_calls"]), int(r["recovered_missed_calls"]), int(r["abandoned_short"])
        )
        cell = Cell(
            r["business_id"],
            int(r["talk_threshold_seconds"]),
            hours,
            int(r["primary_leads"]),
            int(r["retry_leads"]),
            int(r["callback_leads"]),
            int(r["spam_calls"]),
        )
        cells.setdefault(cell.business_id, {})[(cell.talk_threshold_seconds, hours)] = cell
    own_rows = wh.query(
        "SELECT business_id, talk_threshold_seconds, recovery_window_seconds, "
        "short_abandon_seconds FROM staging.business_settings"
    ).to_pylist()
    own = {
        r["business_id"]: (int(r["talk_threshold_seconds"]), r["recovery_window_seconds"] / 3600)
        for r in own_rows
    }
    own_abandon = {r["business_id"]: int(r["short_abandon_seconds"]) for r in own_rows}
    hours_axis = tuple(w / 3600 for w in windows)
    return {
        bid: Grid(
            bid,
            tuple(talk_values),
            hours_axis,
            grid,
            own.get(bid) if own.get(bid) in grid else None,
            tuple(abandons),
            missed[bid],
            own_abandon.get(bid) if own_abandon.get(bid) in abandons else None,
        )
        for bid, grid in sorted(cells.items())
    }


def default_grids(
    wh: Any, start: dt.date, end: dt.date, businesses: Sequence[str] | None = None
) -> tuple[dict[str, Grid], str]:
    """The 30/45/60 s x 12/24/48 h grids (short abandon 0/5/10/15 s) the demo summary and the
    report show, and what to say
    when there are none (no primary calls, or the models not built for the range)."""
    try:
        grids = compute(
            wh, start, end, DEFAULT_TALK, DEFAULT_WINDOW_HOURS, businesses, DEFAULT_SHORT_ABANDON
        )
    except ConfigError as exc:
        return {}, str(exc)
    return grids, "no primary calls in the range"


def _require_models(
    wh: Any, start: dt.date, end: dt.date, businesses: Sequence[str] | None
) -> None:
    """Primacy comes from staging.primary_calls: refuse a range the models never built."""
    counts = wh.query(
        """
        SELECT
            (SELECT COUNT(*) FROM staging.calls
             WHERE call_date BETWEEN @start AND @end
               AND (@all_businesses OR business_id IN UNNEST(@business_ids))) AS staged,
            (SELECT COUNT(*) FROM staging.unified_calls
             WHERE call_date BETWEEN @start AND @end
               AND (@all_businesses OR business_id IN UNNEST(@business_ids))) AS unified
        """,
        {
            "start": start,
            "end": end,
            "all_businesses": not businesses,
            "business_ids": list(businesses or ()),
        },
    ).to_pylist()[0]
    if counts["staged"] and not counts["unified"]:
        raise ConfigError(
            f"staging holds calls for {start}..{end} but the models have not been built for "
            "them: run `ringback models run` over the range first"
        )


def hours_label(hours: float) -> str:
    return f"{hours:g} h"


def _aligned(rows: list[list[str]]) -> str:
    """Rows of cells as text, each column right-aligned to its widest cell."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(v.rjust(w) for v, w in zip(r, widths, strict=True)) for r in rows)


def format_grid(grid: Grid) -> str:
    """A text table: talk thresholds down, recovery windows across, `leads (recovered)`;
    the business's own settings are starred."""
    head = ["talk > s"] + [hours_label(h) for h in grid.windows]
    rows = [head]
    for talk in grid.talks:
        row = [f"{talk}"]
        for hours in grid.windows:
            cell = grid.cells[(talk, hours)]
            mark = "*" if grid.current == (talk, hours) else ""
            row.append(f"{cell.leads} ({cell.recovered_leads}){mark}")
        rows.append(row)
    return _aligned(rows)


def format_missed(grid: Grid) -> str:
    """A text table at the business's own talk threshold (else the grid's first): short-abandon
    thresholds down, recovery windows across, `missed (short hang-ups) recovery rate`."""
    talk = grid.current[0] if grid.current else grid.talks[0]
    head = [f"short < s (talk > {talk} s)"] + [hours_label(h) for h in grid.windows]
    rows = [head]
    for abandon in grid.abandons:
        row = [f"{abandon}"]
        for hours in grid.windows:
            cell = grid.missed[(talk, hours, abandon)]
            mark = "*" if grid.current == (talk, hours) and grid.abandon == abandon else ""
            rate = "-" if cell.recovery_rate is None else f"{cell.recovery_rate:.0%}"
            row.append(f"{cell.missed_calls} ({cell.abandoned_short}) {rate}{mark}")
        rows.append(row)
    return _aligned(rows)


def print_grids(grids: dict[str, Grid], start: dt.date, end: dt.date) -> None:
    print(f"Leads (recovered leads) by talk threshold and recovery window, {start}..{end}")
    print("* = the business's own settings (its marts.attributed_leads)")
    print("Below each: missed first calls (short hang-ups counted apart) and their recovery rate")
    print("by short-abandon threshold; short hang-ups move no lead.")
    for bid, grid in grids.items():
        print(f"\n{bid}")
        print(format_grid(grid))
        print(format_missed(grid))
    if not grids:
        print("no primary calls in the range")
