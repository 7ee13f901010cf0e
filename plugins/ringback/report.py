"""``ringback report``: one self-contained HTML file with charts, for a team without Looker.

It answers the questions of the LookML dashboards (lookml/dashboards/) from the analysts' views
(sql/analytics/): leads by source and campaign with the recovered share, the missed-call recovery
funnel and lag, the daily reconciliation with reasons, the incidents against each business's own
baseline, and callbacks: the SLA funnel, the time to
the first attempt, the answer rate by weekday and hour, and a table per employee. Charts are SVG
drawn by matplotlib and inlined, so the file opens anywhere, offline, and can be mailed. No phone
number reaches it: the views hold hashes only.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import matplotlib

matplotlib.use("Agg")  # no display; must precede pyplot
matplotlib.rcParams["svg.fonttype"] = "none"  # text stays text: smaller, searchable, selectable
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from ringback import analyses, export, figures, sensitivity  # noqa: E402
from ringback.runtime import Runtime  # noqa: E402

TEMPLATE = Path(__file__).with_name("templates") / "report.html.j2"
# One colour per way a lead was won, the same in every chart.
COLOURS = {
    "primary_call": "#4c78a8",
    "missed_call_retry": "#f58518",
    "missed_call_callback": "#54a24b",
}
LABELS = {
    "primary_call": "first call answered",
    "missed_call_retry": "missed, customer called again",
    "missed_call_callback": "missed, we called back",
}
# The analytics.leads_daily column that counts each way a lead was won.
LEAD_COLUMNS = {
    "primary_call": "primary_leads",
    "missed_call_retry": "retry_leads",
    "missed_call_callback": "callback_leads",
}
REASON_COLOURS = {
    "untracked_number": "#b279a2",
    "missing_in_calltracking": "#e45756",
    "spam_filtered": "#9d755d",
    "missing_in_telephony": "#72b7b2",
}
# Recovery lag buckets (minutes): the default window is 24 h.
LAG_BUCKETS = [(0, 5), (5, 15), (15, 30), (30, 60), (60, 180), (180, 720), (720, 1440)]
# Business minutes from a missed call to the first callback attempt.
ATTEMPT_BUCKETS = [(0, 5), (5, 15), (15, 30), (30, 60), (60, 240), (240, 100_000)]
WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


@dataclass
class Chart:
    key: str
    title: str
    question: str
    svg: str


def _label(value: str | None, empty: str = "(untracked)") -> str:
    return value if value else empty


def _svg(fig: plt.Figure) -> str:
    buf = io.StringIO()
    # No RDF metadata: it carries a date (reruns would differ) and outside namespace URLs.
    fig.savefig(
        buf,
        format="svg",
        bbox_inches="tight",
        metadata={"Date": None, "Creator": None, "Format": None, "Type": None},
    )
    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg") :]  # drop the XML prolog and DOCTYPE: inlined in HTML


def _figure(height: float = 3.2) -> tuple[plt.Figure, plt.Axes]:
    fig, ax = plt.subplots(figsize=(9, height))
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="x" if height > 3.2 else "y", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    return fig, ax


def _marks(bars: Any) -> None:
    """Tag each data bar (SVG id ``mark_*``) so a headless browser can check it was drawn."""
    for n, bar in enumerate(bars):
        bar.set_gid(f"mark_{id(bars)}_{n}")


def _no_data(ax: plt.Axes) -> None:
    ax.text(0.5, 0.5, "no data in this range", ha="center", va="center", transform=ax.transAxes)
    ax.set_xticks([])
    ax.set_yticks([])


def _leads_by_source(by_source: list[dict[str, Any]]) -> str:
    fig, ax = _figure(max(2.4, 0.45 * len(by_source) + 1.2))
    if not by_source:
        _no_data(ax)
        return _svg(fig)
    names = [_label(r["traffic_source"]) for r in by_source][::-1]
    left = [0] * len(names)
    for kind, column in LEAD_COLUMNS.items():
        values = [r[column] for r in by_source][::-1]
        _marks(ax.barh(names, values, left=left, color=COLOURS[kind], label=LABELS[kind]))
        left = [a + b for a, b in zip(left, values, strict=True)]
    for y, (total, row) in enumerate(zip(left, by_source[::-1], strict=True)):
        share = row["recovered_leads"] / total if total else 0
        ax.text(total, y, f"  {total}  ({share:.0%} recovered)", va="center", fontsize=9)
    ax.set_xlabel("leads")
    ax.set_xlim(0, max(left) * 1.35)
    ax.legend(loc="lower right", frameon=False, fontsize=9)
    return _svg(fig)


def _leads_per_day(per_day: list[dict[str, Any]]) -> str:
    fig, ax = _figure()
    if not per_day:
        _no_data(ax)
        return _svg(fig)
    days = [r["attributed_date"].strftime("%m-%d") for r in per_day]
    bottom = [0] * len(days)
    for kind, column in LEAD_COLUMNS.items():
        values = [r[column] for r in per_day]
        _marks(ax.bar(days, values, bottom=bottom, color=COLOURS[kind], label=LABELS[kind]))
        bottom = [a + b for a, b in zip(bottom, values, strict=True)]
    ax.set_ylabel("leads (by date of the credited call)")
    ax.legend(loc="upper left", frameon=False, fontsize=9, ncols=3)
    ax.set_ylim(0, max(bottom) * 1.25 or 1)
    if len(days) > 20:
        ax.tick_params(axis="x", labelrotation=90, labelsize=7)
    return _svg(fig)


def _funnel(steps: list[tuple[str, int, str]], height: float = 2.8) -> str:
    """Horizontal bars from the top step down, each with its share of the first."""
    fig, ax = _figure(height)
    top = steps[0][1]
    if not top:
        _no_data(ax)
        return _svg(fig)
    steps = steps[::-1]
    _marks(ax.barh([s[0] for s in steps], [s[1] for s in steps], color=[s[2] for s in steps]))
    for y, (_, value, _) in enumerate(steps):
        ax.text(value, y, f"  {value} ({value / top:.0%})", va="center", fontsize=9)
    ax.set_xlim(0, max(s[1] for s in steps) * 1.3)
    ax.set_xlabel("calls")
    return _svg(fig)


def _recovery_funnel(f: dict[str, int]) -> str:
    return _funnel(
        [
            ("missed first calls", f["missed_calls"], "#9d9d9d"),
            ("window closed (24 h passed)", f["missed_calls"] - f["pending"], "#bab0ac"),
            ("recovered", f["recovered_retry"] + f["recovered_callback"], "#f58518"),
            (
                "  by the customer calling again",
                f["recovered_retry"],
                COLOURS["missed_call_retry"],
            ),
            ("  by our call back", f["recovered_callback"], COLOURS["missed_call_callback"]),
            *_short_hang_ups(f),
        ]
    )


def _short_hang_ups(f: dict[str, int]) -> list[tuple[str, int, str]]:
    """A bar for the short hang-ups counted apart, when the business counts any."""
    if not f.get("abandoned_short"):
        return []
    return [("short hang-ups (counted apart)", f["abandoned_short"], "#d8d8d8")]


def _minutes_histogram(
    minutes: list[float], buckets: list[tuple[int, int]], colour: str, ylabel: str, xlabel: str
) -> str:
    """Counts of ``minutes`` per (lo, hi] bucket (0 counted in the first)."""
    fig, ax = _figure()
    if not minutes:
        _no_data(ax)
        return _svg(fig)
    labels = [
        f"{lo}-{hi} min" if hi <= 60 else (f"{lo // 60}-{hi // 60} h" if hi < 100_000 else "")
        for lo, hi in buckets
    ]
    labels = [label or f"{buckets[i][0] // 60} h+" for i, label in enumerate(labels)]
    counts = [sum(1 for m in minutes if lo < m <= hi or (lo == 0 and m == 0)) for lo, hi in buckets]
    _marks(ax.bar(labels, counts, color=colour))
    for x, c in enumerate(counts):
        ax.text(x, c, str(c), ha="center", va="bottom", fontsize=9)
    ax.set_ylabel(ylabel)
    ax.set_xlabel(xlabel)
    return _svg(fig)


def _recovery_lag(lags: list[float]) -> str:
    return _minutes_histogram(
        lags,
        LAG_BUCKETS,
        "#f58518",
        "recovered leads",
        "time from the missed call to the conversation",
    )


def _reconciliation(days: list[dict[str, Any]]) -> str:
    fig, ax = _figure()
    if not days:
        _no_data(ax)
        return _svg(fig)
    x = list(range(len(days)))
    bottom = [0] * len(days)
    for reason, column in (
        ("untracked_number", "only_in_telephony_untracked"),
        ("missing_in_calltracking", "only_in_telephony_tracked"),
        ("spam_filtered", "only_in_telephony_spam"),
        ("missing_in_telephony", "only_in_calltracking"),
    ):
        values = [r[column] for r in days]
        _marks(
            ax.bar(x, values, bottom=bottom, color=REASON_COLOURS[reason], label=reason, width=0.6)
        )
        bottom = [a + b for a, b in zip(bottom, values, strict=True)]
    for i, r in enumerate(days):
        if r["status"] == "mismatch":
            ax.text(i, bottom[i], "mismatch", ha="center", va="bottom", fontsize=8, color="#c00")
        elif r["status"] == "incomplete":
            # A source had not loaded the date: its gap is that absence, not a mismatch.
            ax.text(i, bottom[i], "incomplete", ha="center", va="bottom", fontsize=8, color="#666")
    ax.set_xticks(x, [r["report_date"].strftime("%m-%d") for r in days])
    ax.set_ylabel("unmatched inbound calls")
    ax.set_ylim(0, max(bottom) * 1.3 or 1)
    ax.legend(loc="upper left", frameon=False, fontsize=9, ncols=3)
    if len(days) > 20:
        ax.tick_params(axis="x", labelrotation=90, labelsize=7)
    return _svg(fig)


def _crm_reconciliation(days: list[dict[str, Any]]) -> str:
    """Per day: ringback's leads (matched, not in the CRM, awaiting) above the axis, the CRM's
    leads no call explains below it."""
    fig, ax = _figure()
    x = list(range(len(days)))
    top = [0] * len(days)
    for label, column, colour in (
        ("matched", "matched", "#54a24b"),
        ("not in CRM", "lead_not_in_crm", "#e45756"),
        ("awaiting CRM", "lead_awaiting_crm", "#bab0ac"),
    ):
        values = [r[column] for r in days]
        _marks(ax.bar(x, values, bottom=top, color=colour, label=label, width=0.6))
        top = [a + b for a, b in zip(top, values, strict=True)]
    bottom = [0] * len(days)
    for label, column, colour in (
        ("CRM only: by hand", "crm_only_manual", "#f58518"),
        ("CRM only: other", "crm_only_other", "#9d755d"),
    ):
        values = [-r[column] for r in days]
        _marks(ax.bar(x, values, bottom=bottom, color=colour, label=label, width=0.6))
        bottom = [a + b for a, b in zip(bottom, values, strict=True)]
    for i, r in enumerate(days):
        if r["status"] == "mismatch":
            ax.text(i, top[i], "mismatch", ha="center", va="bottom", fontsize=8, color="#c00")
    ax.axhline(0, color="#333", linewidth=0.8)
    ax.set_xticks(x, [r["report_date"].strftime("%m-%d") for r in days])
    ax.set_ylabel("leads: ringback above, CRM only below")
    ax.set_ylim(min(bottom) * 1.3 - 1, max(top) * 1.35 + 1)
    ax.legend(loc="upper left", frameon=False, fontsize=8, ncols=3)
    if len(days) > 20:
        ax.tick_params(axis="x", labelrotation=90, labelsize=7)
    return _svg(fig)


def _callback_funnel(f: dict[str, int]) -> str:
    return _funnel(
        [
            ("missed first calls", f["missed_calls"], "#9d9d9d"),
            ("called back (an attempt in the window)", f["attempted"], "#54a24b"),
            ("  first attempt within the SLA", f["sla_met"], "#2e7d32"),
            ("never called back", f["never_attempted"], "#e45756"),
            ("  customer got through first (not needed)", f["sla_not_needed"], "#f58518"),
            ("  deadline still ahead (pending)", f["sla_pending"], "#bab0ac"),
            *_short_hang_ups(f),
        ],
        height=3.0,
    )


def _attempt_lag(minutes: list[float], sla_minutes: float | None) -> str:
    sla = f" (SLA: {sla_minutes:g} min)" if sla_minutes else ""
    return _minutes_histogram(
        minutes,
        ATTEMPT_BUCKETS,
        "#54a24b",
        "missed calls",
        f"business minutes from the missed call to the first attempt{sla}",
    )


def _answer_heatmap(cells: list[dict[str, Any]]) -> str:
    """Inbound answer rate per weekday (rows) and local hour (columns): one rectangle a cell
    with calls, red (0 %) to green (100 %), its calls written in it."""
    fig, ax = _figure(3.4)
    ax.grid(False)
    if not cells:
        _no_data(ax)
        return _svg(fig)
    hours = range(min(c["call_hour"] for c in cells), max(c["call_hour"] for c in cells) + 1)
    cmap = matplotlib.colormaps["RdYlGn"]
    for c in cells:
        rate = c["inbound_answered"] / c["inbound_calls"]
        bar = ax.bar(c["call_hour"], 0.9, bottom=c["iso_weekday"] - 0.45, width=0.9)
        bar[0].set_color(cmap(rate))
        _marks(bar)
        ax.text(
            c["call_hour"], c["iso_weekday"], f"{rate:.0%}", ha="center", va="center", fontsize=6
        )
    ax.set_yticks(range(1, 8), WEEKDAYS)
    ax.set_ylim(7.6, 0.4)
    ax.set_xticks(list(hours))
    ax.set_xlabel("local hour (cell: share of inbound calls answered)")
    return _svg(fig)


@dataclass(frozen=True)
class ChartSpec:
    """One chart of a business's section: the question it answers and how it is drawn from the
    gathered data. ``crm_only`` charts appear only for a business with a CRM source."""

    key: str
    title: str
    question: str
    draw: Callable[[dict[str, Any]], str]
    crm_only: bool = False


# The charts of a business's section, in the order they appear.
CHARTS = (
    ChartSpec(
        "leads_by_source",
        "Leads by source",
        "Which sources bring leads, and how many of them came from missed calls?",
        lambda d: _leads_by_source(d["by_source"]),
    ),
    ChartSpec(
        "leads_per_day",
        "Leads per day",
        "How do leads develop over the range, by how they were won?",
        lambda d: _leads_per_day(d["per_day"]),
    ),
    ChartSpec(
        "recovery_funnel",
        "Missed-call recovery funnel",
        "Of the missed first calls, how many turned into a conversation within the window?",
        lambda d: _recovery_funnel(d["funnel"]),
    ),
    ChartSpec(
        "recovery_lag",
        "Recovery lag",
        "How long after the missed call did the conversation happen?",
        lambda d: _recovery_lag(d["lags"]),
    ),
    ChartSpec(
        "reconciliation",
        "Daily reconciliation",
        "On which days do call tracking and telephony disagree, and why?",
        lambda d: _reconciliation(d["reconciliation"]),
    ),
    ChartSpec(
        "callback_funnel",
        "Callbacks after missed calls",
        "Of the missed first calls, how many did we call back, and how many within the SLA?",
        lambda d: _callback_funnel(d["callbacks"]),
    ),
    ChartSpec(
        "callback_lag",
        "Time to the first callback attempt",
        "How long (in opening hours) did missed customers wait for our first call?",
        lambda d: _attempt_lag(d["attempt_minutes"], d["sla_minutes"]),
    ),
    ChartSpec(
        "answer_heatmap",
        "Answer rate by weekday and hour",
        "At which hours and weekdays do inbound calls go unanswered?",
        lambda d: _answer_heatmap(d["answer_cells"]),
    ),
    ChartSpec(
        "crm_reconciliation",
        "Leads against the CRM",
        "Which conversations never reached the CRM, and which CRM leads did no call bring?",
        lambda d: _crm_reconciliation(d["crm"]),
        crm_only=True,
    ),
)


# What the report reads of one business: sql/analyses/<name>.sql, one query each.
REPORT_QUERIES = (
    "report_leads_by_source",
    "report_campaigns",
    "report_leads_per_day",
    "report_missed_call_funnel",
    "report_recovery_minutes",
    "report_reconciliation",
    "report_incidents",
    "report_tracking_numbers",
    "report_number_pools",
    "report_revenue",
    "report_crm_reconciliation",
    "report_callback_funnel",
    "report_callback_delays",
    "report_answer_heatmap",
    "report_employees",
)


def gather(wh: Any, start: dt.date, end: dt.date, business: str) -> dict[str, Any]:
    """Everything the report shows of one business, read from the analytics views."""
    params = {"start": start, "end": end, "business": business}
    q = {name.removeprefix("report_"): analyses.rows(wh, name, params) for name in REPORT_QUERIES}
    funnel, revenue, callbacks = (
        q["missed_call_funnel"][0],
        q["revenue"][0],
        q["callback_funnel"][0],
    )
    followups, employees = q["callback_delays"], q["employees"]
    first_attempts: dict[str, list[int]] = {}
    for f in followups:
        made = first_attempts.setdefault(f["employee"] or "(unknown)", [0, 0])
        made[0] += 1
        made[1] += bool(f["sla_is_met"])
    for e in employees:
        e["first_attempts"], e["first_attempts_in_sla"] = first_attempts.get(e["employee"], (0, 0))
    return {
        "by_source": q["leads_by_source"],
        "campaigns": q["campaigns"],
        "per_day": q["leads_per_day"],
        "funnel": {k: int(v) for k, v in funnel.items()},
        "lags": [r["recovery_minutes"] for r in q["recovery_minutes"]],
        "reconciliation": q["reconciliation"],
        "incidents": q["incidents"],
        "tracking_numbers": q["tracking_numbers"],
        "number_pools": q["number_pools"],
        "crm": q["crm_reconciliation"],
        "revenue": revenue,
        "callbacks": {k: int(v) for k, v in callbacks.items()},
        "attempt_minutes": [f["first_attempt_business_minutes"] for f in followups],
        "sla_minutes": followups[0]["callback_sla_minutes"] if followups else None,
        "answer_cells": q["answer_heatmap"],
        "employees": employees,
    }


def _kpis(h: figures.Headline) -> dict[str, Any]:
    """Headline figures of one business (ringback.figures, from the analytics views)."""
    return {
        "leads": h.leads,
        "recovered": h.recovered_leads,
        "recovered_share": h.recovered_share,
        "missed": h.missed_calls,
        "recovery_rate": h.recovery_rate,
        "flagged_days": h.flagged_days,
        "days": h.days,
        "flagged_line": h.flagged_line,
        "sla_met_rate": h.sla_met_rate,
        "never_called_back": h.never_called_back,
        "abandoned_short": h.abandoned_short,
    }


def _section(
    business: str, name: str, data: dict[str, Any], headline: figures.Headline
) -> dict[str, Any]:
    k = _kpis(headline)
    kpis = [
        ("leads", f"{k['leads']}"),
        ("recovered from missed calls", f"{k['recovered']}"),
        ("recovered share", figures.percent(k["recovered_share"])),
        ("missed first calls", f"{k['missed']}"),
        ("recovery rate (closed windows)", figures.percent(k["recovery_rate"])),
        ("days with a call-count mismatch", k["flagged_line"]),
        ("callback SLA met (of due)", figures.percent(k["sla_met_rate"])),
        ("missed calls never called back", f"{k['never_called_back']}"),
    ]
    if k["abandoned_short"]:
        kpis.append(("short hang-ups (not counted as missed)", f"{k['abandoned_short']}"))
    charts = [
        Chart(spec.key, spec.title, spec.question, spec.draw(data))
        for spec in CHARTS
        if not spec.crm_only or data["crm"]
    ]
    if data["crm"]:
        # Only for a business with a CRM source: the CRM's side of its leads.
        crm, won = data["crm"], data["revenue"]
        kpis += [
            ("CRM leads entered by hand, no call", f"{sum(r['crm_only_manual'] for r in crm)}"),
            ("conversations never in the CRM", f"{sum(r['lead_not_in_crm'] for r in crm)}"),
            (
                "won revenue",
                f"{won['won_amount']:,.0f} {won['won_currency']}"
                if won["won_amount"] is not None
                else "-",
            ),
        ]
    return {
        "id": business,
        "name": name,
        "headline": k,
        "crm": data["crm"],
        "kpis": kpis,
        "charts": charts,
        "campaigns": data["campaigns"],
        "reconciliation": data["reconciliation"],
        "incidents": data["incidents"],
        "tracking_numbers": data["tracking_numbers"],
        "number_pools": data["number_pools"],
        "employees": data["employees"],
    }


def heat_table(grid: sensitivity.Grid | None) -> dict[str, Any] | None:
    """The sensitivity grid as a heat table: each cell's shade is its leads against the
    grid's range; the business's own settings are outlined."""
    if grid is None:
        return None
    values = [c.leads for c in grid.cells.values()]
    low, high = min(values), max(values)
    rows = []
    for talk in grid.talks:
        cells = []
        for hours in grid.windows:
            cell = grid.cells[(talk, hours)]
            share = (cell.leads - low) / (high - low) if high > low else 0.5
            cells.append(
                {
                    "leads": cell.leads,
                    "recovered": cell.recovered_leads,
                    "style": f"background: rgba(76, 120, 168, {0.12 + 0.6 * share:.2f})",
                    "current": grid.current == (talk, hours),
                }
            )
        rows.append({"talk": talk, "cells": cells})
    return {"windows": [f"{h:g} h" for h in grid.windows], "rows": rows}


def render(sections: list[dict[str, Any]], start: dt.date, end: dt.date, warehouse_url: str) -> str:
    """The report as one HTML string (no external resources): a headline table of the
    businesses, then one section per business, its dates in its own zone."""
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    env.filters["pct"] = lambda v: "-" if v is None else f"{v:.0%}"
    env.filters["label"] = _label
    template = env.from_string(TEMPLATE.read_text())
    return template.render(
        start=start,
        end=end,
        generated_at=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        warehouse=warehouse_url.split("?", 1)[0],
        sections=sections,
        charts_expected=sum(len(s["charts"]) for s in sections),
    )


def write_report(
    runtime: Runtime,
    start: dt.date,
    end: dt.date,
    out: Path,
    businesses: list[str] | None = None,
) -> Path:
    """Write the report for ``businesses`` (default: every business with data in the range)."""
    names = runtime.business_names()
    warehouse_url = runtime.settings.warehouse_url
    with runtime.connect(read_only=True) as wh:
        # Every business with data in the range (the headline reads the same views).
        heads = figures.headlines(wh, start, end)
        chosen = businesses or sorted(heads) or sorted(names) or ["default"]
        sections = [
            _section(
                b, names.get(b, b), gather(wh, start, end, b), heads.get(b) or figures.empty(b)
            )
            for b in chosen
        ]
        vendors = figures.vendor_comparison(wh, start, end)
        uploads = export.uploads_overview(
            analyses.rows(wh, "lead_exports", {"start": start, "end": end})
        )
        grids, _ = sensitivity.default_grids(wh, start, end, chosen)
    for section in sections:
        section["vendors"] = [v for v in vendors if v["business_id"] == section["id"]]
        section["uploads"] = [u for u in uploads if u["business_id"] == section["id"]]
        section["sensitivity"] = heat_table(grids.get(section["id"]))
    html = render(sections, start, end, warehouse_url)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html, encoding="utf-8")
    return out


def default_path(root: Path, start: dt.date, end: dt.date) -> Path:
    return root / "data" / "reports" / f"ringback-report_{start}_{end}.html"
