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

HEADLINE = """
WITH
leads AS (
    SELECT
        business_id,
        SUM(leads) AS leads,
        SUM(primary_leads) AS primary_leads,
        SUM(retry_leads) AS retry_leads,
        SUM(callback_leads) AS callback_leads,
        SUM(recovered_leads) AS recovered_leads
    FROM analytics.leads_daily
    WHERE attributed_date BETWEEN @start AND @end
    GROUP BY business_id
),
missed AS (
    SELECT
        business_id,
        COUNT(*) AS missed_calls,
        COUNTIF(is_recovered) AS recovered_calls,
        COUNTIF(is_resolved) AS resolved_calls
    FROM analytics.missed_calls
    WHERE missed_date BETWEEN @start AND @end
    GROUP BY business_id
),
callbacks AS (
    SELECT
        business_id,
        COUNTIF(sla_is_met) AS sla_met,
        COUNTIF(sla_is_due) AS sla_due,
        COUNTIF(never_attempted) AS never_called_back
    FROM analytics.callback_followups
    WHERE missed_date BETWEEN @start AND @end
    GROUP BY business_id
),
days AS (
    SELECT
        business_id,
        COUNT(*) AS days,
        COUNTIF(status = 'mismatch') AS flagged_days,
        COUNTIF(status = 'incomplete') AS incomplete_days
    FROM analytics.daily_reconciliation
    WHERE report_date BETWEEN @start AND @end
    GROUP BY business_id
),
businesses AS (
    SELECT business_id FROM leads
    UNION DISTINCT SELECT business_id FROM missed
    UNION DISTINCT SELECT business_id FROM days
)
SELECT
    businesses.business_id,
    COALESCE(leads.leads, 0) AS leads,
    COALESCE(leads.primary_leads, 0) AS primary_leads,
    COALESCE(leads.retry_leads, 0) AS retry_leads,
    COALESCE(leads.callback_leads, 0) AS callback_leads,
    COALESCE(leads.recovered_leads, 0) AS recovered_leads,
    COALESCE(missed.missed_calls, 0) AS missed_calls,
    COALESCE(missed.recovered_calls, 0) AS recovered_calls,
    COALESCE(missed.resolved_calls, 0) AS resolved_calls,
    COALESCE(days.days, 0) AS days,
    COALESCE(days.flagged_days, 0) AS flagged_days,
    COALESCE(days.incomplete_days, 0) AS incomplete_days,
    COALESCE(callbacks.sla_met, 0) AS sla_met,
    COALESCE(callbacks.sla_due, 0) AS sla_due,
    COALESCE(callbacks.never_called_back, 0) AS never_called_back
FROM businesses
LEFT JOIN leads ON businesses.business_id = leads.business_id
LEFT JOIN missed ON businesses.business_id = missed.business_id
-- Every missed first call has its follow-up: no business has follow-ups without missed calls.
LEFT JOIN callbacks ON businesses.business_id = callbacks.business_id
LEFT JOIN days ON businesses.business_id = days.business_id
ORDER BY businesses.business_id
"""


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
    rows = wh.query(HEADLINE, {"start": start, "end": end}).to_pylist()
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


VENDOR_COMPARISON = """
SELECT
    business_id,
    provider,
    account_id,
    SUM(vendor_first_calls) AS vendor_first_calls,
    SUM(ringback_primary_calls) AS ringback_primary_calls,
    SUM(first_call_difference) AS first_call_difference,
    SUM(first_calls_uniqueness_window) AS first_calls_uniqueness_window,
    SUM(first_calls_seen_only_by_telephony) AS first_calls_seen_only_by_telephony,
    SUM(first_calls_vendor_spam_filter) AS first_calls_vendor_spam_filter,
    SUM(first_calls_hidden_number) AS first_calls_hidden_number,
    SUM(vendor_target_calls) AS vendor_target_calls,
    SUM(ringback_leads) AS ringback_leads,
    SUM(lead_difference) AS lead_difference,
    SUM(leads_missed_call_recovered) AS leads_missed_call_recovered,
    SUM(leads_threshold_difference) AS leads_threshold_difference,
    SUM(leads_uniqueness_window) AS leads_uniqueness_window,
    SUM(leads_seen_only_by_telephony) AS leads_seen_only_by_telephony,
    SUM(leads_vendor_spam_filter) AS leads_vendor_spam_filter,
    SUM(leads_spam_rule) AS leads_spam_rule,
    SUM(leads_hidden_number) AS leads_hidden_number,
    SUM(leads_other) AS leads_other,
    SUM(ringback_spam_calls) AS ringback_spam_calls
FROM analytics.vendor_comparison
WHERE report_date BETWEEN @start AND @end
GROUP BY business_id, provider, account_id
ORDER BY business_id, provider, account_id
"""
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
        for row in wh.query(VENDOR_COMPARISON, {"start": start, "end": end}).to_pylist()
    ]


def causes_text(row: dict[str, Any], causes: tuple[tuple[str, str], ...]) -> str:
    """The non-zero causes of a difference, signed (ringback - vendor): 'recovered +12, ...'."""
    parts = [f"{name} {row[col]:+d}" for name, col in causes if row.get(col)]
    return ", ".join(parts) or "-"
