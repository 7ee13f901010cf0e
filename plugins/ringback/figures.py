"""The headline figures of a date range, per business, read from the analytics views.

The analytics views (``sql/analytics/``) define what each figure counts (a lead, a recovered
lead, a resolved missed call, a mismatch day, a callback SLA met or due); this module only sums
their rows over the range and divides. The demo summary and the HTML report both show these;
LookML's measures are the same sums over the same views (a test compares all three on one
warehouse).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Any

from ringback import analyses


@dataclass(frozen=True)
class Headline:
    """One business's figures for a range (dates in its own zone)."""

    business_id: str
    leads: int
    primary_leads: int
    retry_leads: int
    callback_leads: int
    recovered_leads: int
    missed_calls: int
    recovered_calls: int
    resolved_calls: int
    days: int
    flagged_days: int
    incomplete_days: int  # built before one of the business's call sources loaded them
    sla_met: int
    sla_due: int  # met or missed: decided (not pending, not resolved by the customer first)
    never_called_back: int
    abandoned_short: int  # short hang-ups: in no missed-call or callback figure above

    @property
    def recovered_share(self) -> float | None:
        """Leads a missed call would have lost, as a share of all leads."""
        return self.recovered_leads / self.leads if self.leads else None

    @property
    def recovery_rate(self) -> float | None:
        """Recovered missed calls of those whose window has closed (pending left out)."""
        return self.recovered_calls / self.resolved_calls if self.resolved_calls else None

    @property
    def flagged_line(self) -> str:
        """Flagged days of the days with inbound calls, and those not judged yet."""
        line = f"{self.flagged_days} of {self.days}"
        if self.incomplete_days:
            line += f" ({self.incomplete_days} awaiting a source)"
        return line

    @property
    def sla_met_rate(self) -> float | None:
        """Missed calls called back within the SLA, of those whose SLA is due (met or missed)."""
        return self.sla_met / self.sla_due if self.sla_due else None


def headlines(wh: Any, start: dt.date, end: dt.date) -> dict[str, Headline]:
    """Every business with rows in the range, by id."""
    rows = analyses.rows(wh, "headline", {"start": start, "end": end})
    return {
        r["business_id"]: Headline(
            **{k: (v if k == "business_id" else int(v)) for k, v in r.items()}
        )
        for r in rows
    }


def percent(value: float | None) -> str:
    """A share as the summary and the report print it: one decimal, "-" when undefined."""
    return "-" if value is None else f"{value:.1%}"


def empty(business_id: str) -> Headline:
    return Headline(business_id, *([0] * (len(dataclasses.fields(Headline)) - 1)))


FIRST_CALL_CAUSES = (
    ("uniqueness_window", "first_calls_uniqueness_window"),
    ("seen_only_by_telephony", "first_calls_seen_only_by_telephony"),
    ("vendor_spam_filter", "first_calls_vendor_spam_filter"),
    ("hidden_number", "first_calls_hidden_number"),
)
LEAD_CAUSES = (
    ("missed_call_recovered", "leads_missed_call_recovered"),
    ("threshold_difference", "leads_threshold_difference"),
    ("uniqueness_window", "leads_uniqueness_window"),
    ("seen_only_by_telephony", "leads_seen_only_by_telephony"),
    ("vendor_spam_filter", "leads_vendor_spam_filter"),
    ("spam_rule", "leads_spam_rule"),
    ("hidden_number", "leads_hidden_number"),
    ("other", "leads_other"),
)


def vendor_comparison(wh: Any, start: dt.date, end: dt.date) -> list[dict[str, Any]]:
    """analytics.vendor_comparison summed over the range, per business and vendor source, with
    each difference's causes as text (``first_call_causes``, ``lead_causes``)."""
    return [
        {
            **row,
            "first_call_causes": causes_text(row, FIRST_CALL_CAUSES),
            "lead_causes": causes_text(row, LEAD_CAUSES),
        }
        for row in analyses.rows(wh, "vendor_comparison_totals", {"start": start, "end": end})
    ]


def causes_text(row: dict[str, Any], causes: tuple[tuple[str, str], ...]) -> str:
    """The non-zero causes of a difference, signed (ringback - vendor): 'recovered +12, ...'."""
    parts = [f"{name} {row[col]:+d}" for name, col in causes if row.get(col)]
    return ", ".join(parts) or "-"
