"""The plain-text summary ``make demo`` and ``ringback summary`` print, read from the marts."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ringback import analyses, export, figures, sensitivity
from ringback.quality import data_docs_index
from ringback.quarantine import Reason
from ringback.runtime import Runtime


def _cell(value: Any, header: str) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        shares = (
            "share",
            "ratio",
            "recovered share",
            "met rate",
            "answer rate",
            "peak share",
            "baseline share",
        )
        return f"{value:.1%}" if header in shares else f"{value:g}"
    return str(value)


def _table(headers: list[str], rows: list[tuple[Any, ...]]) -> str:
    cells = [[_cell(v, h) for v, h in zip(r, headers, strict=True)] for r in rows]
    widths = [
        max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)
    ]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    out = [line, "  ".join("-" * w for w in widths)]
    out += [
        "  ".join(
            c.rjust(w) if c[:1].isdigit() else c.ljust(w) for c, w in zip(r, widths, strict=True)
        )
        for r in cells
    ]
    return "\n".join(out) if cells else line + "\n  (no rows)"


class Reader:
    """One range's reads, shared by the sections: the warehouse, the parameters and the
    headline figures (ringback.figures), read once."""

    def __init__(self, wh: Any, start: dt.date, end: dt.date) -> None:
        self.wh, self.start, self.end = wh, start, end
        self.heads = figures.headlines(wh, start, end)
        self._rows: dict[str, list[tuple[Any, ...]]] = {}

    def rows(self, analysis: str) -> list[tuple[Any, ...]]:
        """The rows of ``sql/analyses/<analysis>.sql`` over the range, as tuples; read once, so
        a section shown only when it has rows does not run its query twice."""
        if analysis not in self._rows:
            params = {"start": self.start, "end": self.end}
            self._rows[analysis] = [
                tuple(r.values()) for r in analyses.rows(self.wh, analysis, params)
            ]
        return self._rows[analysis]


@dataclass(frozen=True)
class Section:
    """A titled table of the summary: its headers and where its rows come from (an analysis
    name, or a function of the reader)."""

    title: str
    headers: tuple[str, ...]
    rows: str | Callable[[Reader], list[tuple[Any, ...]]]
    shown: Callable[[Reader], bool] = lambda reader: True

    def render(self, reader: Reader) -> str:
        rows = reader.rows(self.rows) if isinstance(self.rows, str) else self.rows(reader)
        return _table(list(self.headers), rows)


def _businesses(r: Reader) -> list[tuple[Any, ...]]:
    return [
        (
            h.business_id,
            h.leads,
            h.primary_leads,
            h.retry_leads,
            h.callback_leads,
            figures.percent(h.recovered_share),
            h.missed_calls,
            figures.percent(h.recovery_rate),
            h.flagged_line,
        )
        for h in r.heads.values()
    ]


def _callbacks(r: Reader) -> list[tuple[Any, ...]]:
    # The met rate is the headline's (ringback.figures), beside its parts (before the median
    # and the short hang-ups counted apart).
    return [
        (*row[:-2], r.heads[row[0]].sla_met_rate, *row[-2:]) for row in r.rows("callback_summary")
    ]


def _vendors(r: Reader) -> list[tuple[Any, ...]]:
    keys = (
        "business_id",
        "provider",
        "vendor_first_calls",
        "ringback_primary_calls",
        "first_call_causes",
        "vendor_target_calls",
        "ringback_leads",
        "lead_causes",
    )
    return [tuple(v[k] for k in keys) for v in figures.vendor_comparison(r.wh, r.start, r.end)]


def _warnings(r: Reader) -> list[tuple[Any, ...]]:
    """Warning-severity expectations of the range's validations, summed per expectation."""
    warned: dict[tuple[str, str, str], list[Any]] = defaultdict(lambda: [0, 0, set()])
    for checkpoint, failed in r.rows("validation_warnings"):
        for item in json.loads(failed) if isinstance(failed, str) else failed or []:
            if item.get("severity") != "warning":
                continue
            key = (checkpoint, item.get("expectation") or "", item.get("column") or "")
            warned[key][0] += 1
            warned[key][1] += int(item.get("unexpected_count") or 0)
            warned[key][2].update(str(x) for x in item.get("examples") or [])
    return [
        (*key, runs, n, ", ".join(sorted(examples)[:5]))
        for key, (runs, n, examples) in sorted(warned.items())
    ]


def _has_crm(r: Reader) -> bool:
    return bool(r.rows("crm_reconciliation_days"))


UPLOAD_COLUMNS = (
    "business_id",
    "destination",
    "leads",
    "sent",
    "accepted",
    "rejected",
    "partly_rejected",
    "in_doubt",
    "failed",
    "skipped",
    "reasons",
)


def _uploads(r: Reader) -> list[tuple[Any, ...]]:
    params = {"start": r.start, "end": r.end}
    overview = export.uploads_overview(analyses.rows(r.wh, "lead_exports", params))
    return [tuple(line[k] for k in UPLOAD_COLUMNS) for line in overview]


def _has_uploads(r: Reader) -> bool:
    return bool(r.rows("lead_exports"))


BEFORE_SENSITIVITY = (
    Section(
        "Businesses (dates in each business's own time zone)",
        (
            "business",
            "leads",
            "primary",
            "retry",
            "callback",
            "recovered share",
            "missed first calls",
            "recovery rate",
            "flagged days",
        ),
        _businesses,
    ),
    Section(
        "Calls per day and system (inbound + outbound)",
        ("business", "date", "call tracking", "telephony"),
        "calls_per_day",
    ),
    Section(
        "Leads by source (credited to the first call's ad)",
        ("business", "source / medium", "leads", "recovered from missed calls", "recovered share"),
        "leads_by_channel",
    ),
    Section(
        "Missed first calls and what became of them",
        ("business", "outcome", "calls", "median minutes to recovery"),
        "missed_call_outcomes",
    ),
    Section(
        "Callbacks after missed first calls (SLA in business time)",
        (
            "business",
            "missed",
            "called back",
            "never called",
            "SLA met",
            "SLA missed",
            "not needed",
            "pending",
            "met rate",
            "median business min to 1st attempt",
            "short hang-ups (apart)",
        ),
        _callbacks,
    ),
    Section(
        "Inbound answer rate by weekday and local hour: lowest and highest (hours with 5+ calls)",
        ("business", "which", "weekday", "hour", "inbound", "answered", "answer rate"),
        "answer_rate_extremes",
    ),
    Section(
        "Call-count reconciliation (inbound, per business and date)",
        (
            "business",
            "date",
            "call tracking",
            "telephony",
            "matched",
            "unmatched",
            "ratio",
            "flag",
            "reason",
        ),
        "call_reconciliation_days",
    ),
    Section(
        "Incidents: a cause of unmatched or sessionless calls above the business's own baseline, "
        "since the day it started (analytics.reconciliation_incidents; the flag above is the "
        "fixed-threshold rule)",
        (
            "business",
            "cause",
            "started",
            "status",
            "closed",
            "days",
            "peak share",
            "baseline share",
            "line",
            "flagged days",
        ),
        "incidents",
    ),
    Section(
        "Tracking numbers: calls with no visitor session, and calls only one system saw "
        "(analytics.tracking_number_health; shared = within the reservation time of another "
        "customer's call to the same pool number)",
        (
            "business",
            "number",
            "pool",
            "calls",
            "no session",
            "share",
            "telephony only",
            "call tracking only",
            "shared",
        ),
        "tracking_numbers",
    ),
    Section(
        "Number pools: numbers ringing in one hour against the pool's size, and sessionless "
        "calls since the first day they appeared (analytics.number_pool_health)",
        (
            "business",
            "pool",
            "size",
            "days",
            "days full",
            "peak numbers / hour",
            "calls",
            "no session",
            "share",
            "shared",
            "first day with no session",
        ),
        "number_pools",
        lambda reader: bool(reader.rows("number_pools")),
    ),
    Section(
        "CRM reconciliation (ringback's leads against the CRM's; the CRM's by the date it "
        "created them)",
        (
            "business",
            "date",
            "ringback leads",
            "CRM leads",
            "matched",
            "CRM only: by hand",
            "CRM only: other",
            "not in CRM",
            "awaiting CRM",
            "deals won",
            "flag",
            "reason",
        ),
        "crm_reconciliation_days",
        _has_crm,
    ),
    Section(
        "Revenue per campaign (won CRM deals, credited to the call's ad source)",
        (
            "business",
            "source / medium",
            "campaign",
            "leads",
            "in CRM",
            "deals won",
            "won amount",
            "currency",
        ),
        "campaign_revenue",
        _has_crm,
    ),
    Section(
        "Conversion uploads (raw.lead_exports: recovered leads sent to GA4 and Google Ads by "
        "lead date; Google's verdict arrives google_ads_status_delay_minutes after a Data "
        "Manager upload, GA4 and upload files give none)",
        (
            "business",
            "destination",
            "leads",
            "sent, no verdict",
            "accepted",
            "rejected",
            "of them partly",
            "in doubt",
            "failed",
            "skipped",
            "Google's reasons (records)",
        ),
        _uploads,
        _has_uploads,
    ),
    Section(
        "Loads and validation",
        ("source", "loads", "received", "staged", "quarantined", "failed", "warnings"),
        "loads_by_source",
    ),
    Section(
        "Validation (Great Expectations checkpoints)",
        ("checkpoint", "runs", "failed", "warnings", "rows checked", "quarantined"),
        "validation_by_checkpoint",
    ),
    Section(
        "Vendor comparison: the vendor's own first and target calls against ringback's primary "
        "calls and leads; causes signed ringback - vendor, counted per call "
        "(analytics.vendor_comparison)",
        (
            "business",
            "vendor",
            "vendor first",
            "primary",
            "first-call causes",
            "vendor target",
            "leads",
            "lead causes",
        ),
        _vendors,
    ),
)
AFTER_SENSITIVITY = (
    Section(
        "Validation warnings (recorded, not blocking; examples never hold phone numbers)",
        ("checkpoint", "expectation", "column", "runs", "rows", "examples"),
        _warnings,
    ),
    Section(
        "Quarantined records by reason (expected: "
        + "; ".join(f"{r}: {r.description}" for r in Reason if r.expected)
        + ")",
        ("source", "reason", "records"),
        "quarantine_by_reason",
    ),
)
SENSITIVITY_TITLE = (
    "Lead sensitivity: leads (recovered) by talk threshold (rows, seconds) and recovery window "
    "(columns); * = the business's own settings (`ringback sensitivity` for other grids). Below "
    "each: missed first calls (short hang-ups apart) and recovery rate by short-abandon threshold"
)


def summary_sections(runtime: Runtime, start: dt.date, end: dt.date) -> list[tuple[str, str]]:
    """(title, text) pairs for start..end. Marketing figures come from the analytics views
    (the BI contract, via ringback.figures for the headline); loads, validation and quarantine
    from the operational tables."""
    with runtime.connect(read_only=True) as wh:
        reader = Reader(wh, start, end)

        def rendered(sections: tuple[Section, ...]) -> list[tuple[str, str]]:
            return [(s.title, s.render(reader)) for s in sections if s.shown(reader)]

        grids, why = sensitivity.default_grids(wh, start, end)
        grid_text = "\n\n".join(
            f"{bid}\n{sensitivity.format_grid(g)}\n{sensitivity.format_missed(g)}"
            for bid, g in grids.items()
        )
        return [
            *rendered(BEFORE_SENSITIVITY),
            (SENSITIVITY_TITLE, grid_text or why),
            *rendered(AFTER_SENSITIVITY),
        ]


def print_summary(runtime: Runtime, start: dt.date, end: dt.date) -> None:
    print(f"\nringback summary {start} .. {end}\n")
    for title, text in summary_sections(runtime, start, end):
        print(f"== {title}\n{text}\n")
    print(f"Warehouse:           {runtime.settings.warehouse_url}")
    print(f"Validation reports:  {data_docs_index()}")
