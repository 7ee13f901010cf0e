"""The plain-text summary ``make demo`` and ``ringback summary`` print, read from the marts."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from typing import Any

from ringback import figures, sensitivity
from ringback.quality import data_docs_index
from ringback.quarantine import Reason
from ringback.runtime import Runtime


def _cell(value: Any, header: str) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        shares = ("share", "ratio", "recovered share", "met rate", "answer rate")
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


def summary_sections(runtime: Runtime, start: dt.date, end: dt.date) -> list[tuple[str, str]]:
    """(title, text) pairs for start..end. Marketing figures come from the analytics views
    (the BI contract, via ringback.figures for the headline); loads, validation and quarantine
    from the operational tables."""
    p = {"start": start, "end": end}
    with runtime.connect(read_only=True) as wh:

        def rows(sql: str) -> list[tuple[Any, ...]]:
            return [tuple(r.values()) for r in wh.query(sql, p).to_pylist()]

        heads = figures.headlines(wh, start, end)
        sections = []
        sections.append(
            (
                "Businesses (dates in each business's own time zone)",
                _table(
                    [
                        "business",
                        "leads",
                        "primary",
                        "retry",
                        "callback",
                        "recovered share",
                        "missed first calls",
                        "recovery rate",
                        "flagged days",
                    ],
                    [
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
                        for h in heads.values()
                    ],
                ),
            )
        )
        sections.append(
            (
                "Calls per day and system (inbound + outbound)",
                _table(
                    ["business", "date", "call tracking", "telephony"],
                    rows("""
                SELECT business_id, call_date,
                       COUNTIF(system = 'calltracking') AS calltracking,
                       COUNTIF(system = 'telephony') AS telephony
                FROM staging.calls WHERE call_date BETWEEN @start AND @end
                GROUP BY business_id, call_date ORDER BY business_id, call_date"""),
                ),
            )
        )
        sections.append(
            (
                "Leads by source (credited to the first call's ad)",
                _table(
                    [
                        "business",
                        "source / medium",
                        "leads",
                        "recovered from missed calls",
                        "recovered share",
                    ],
                    rows("""
                SELECT business_id,
                       CONCAT(COALESCE(traffic_source, '(untracked)'), ' / ',
                              COALESCE(traffic_medium, '-')) AS channel,
                       SUM(leads) AS leads,
                       SUM(recovered_leads) AS recovered,
                       SUM(recovered_leads) / SUM(leads) AS share
                FROM analytics.leads_daily WHERE attributed_date BETWEEN @start AND @end
                GROUP BY business_id, channel ORDER BY business_id, leads DESC, channel"""),
                ),
            )
        )
        sections.append(
            (
                "Missed first calls and what became of them",
                _table(
                    ["business", "outcome", "calls", "median minutes to recovery"],
                    rows("""
                SELECT business_id, outcome, COUNT(*) AS calls,
                       ROUND(APPROX_QUANTILES(recovery_minutes, 2)[OFFSET(1)], 1) AS median
                FROM analytics.missed_calls WHERE missed_date BETWEEN @start AND @end
                GROUP BY business_id, outcome ORDER BY business_id, calls DESC"""),
                ),
            )
        )
        sections.append(
            (
                "Callbacks after missed first calls (SLA in business time)",
                _table(
                    [
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
                    ],
                    # The met rate is the headline's (ringback.figures), beside its parts.
                    [
                        (*r[:-1], heads[r[0]].sla_met_rate, r[-1])
                        for r in rows("""
                WITH days AS (
                    SELECT business_id, SUM(missed_calls) AS missed, SUM(attempted) AS attempted,
                           SUM(never_attempted) AS never, SUM(sla_met) AS met,
                           SUM(sla_missed) AS late, SUM(sla_not_needed) AS not_needed,
                           SUM(sla_pending) AS pending
                    FROM analytics.callback_sla_daily
                    WHERE missed_date BETWEEN @start AND @end
                    GROUP BY business_id
                ),
                lags AS (
                    SELECT business_id,
                           APPROX_QUANTILES(first_attempt_business_minutes, 2)[OFFSET(1)] AS lag
                    FROM analytics.callback_followups
                    WHERE missed_date BETWEEN @start AND @end
                    GROUP BY business_id
                )
                SELECT days.business_id, missed, attempted, never, met, late, not_needed,
                       pending, ROUND(lag, 1) AS lag
                FROM days LEFT JOIN lags ON days.business_id = lags.business_id
                ORDER BY days.business_id""")
                    ],
                ),
            )
        )
        sections.append(
            (
                "Inbound answer rate by weekday and local hour: lowest and highest "
                "(hours with 5+ calls)",
                _table(
                    ["business", "which", "weekday", "hour", "inbound", "answered", "answer rate"],
                    rows("""
                WITH cells AS (
                    SELECT business_id, iso_weekday, weekday_name, call_hour,
                           SUM(inbound_calls) AS inbound, SUM(inbound_answered) AS answered,
                           SAFE_DIVIDE(SUM(inbound_answered), SUM(inbound_calls)) AS rate
                    FROM analytics.call_handling_hourly
                    WHERE call_date BETWEEN @start AND @end
                    GROUP BY business_id, iso_weekday, weekday_name, call_hour
                    HAVING SUM(inbound_calls) >= 5
                ),
                ranked AS (
                    SELECT *,
                           ROW_NUMBER() OVER (PARTITION BY business_id
                               ORDER BY rate ASC, inbound DESC, iso_weekday, call_hour) AS low,
                           ROW_NUMBER() OVER (PARTITION BY business_id
                               ORDER BY rate DESC, inbound DESC, iso_weekday, call_hour) AS high
                    FROM cells
                )
                SELECT business_id, IF(low = 1, 'lowest', 'highest') AS which, weekday_name,
                       call_hour, inbound, answered, rate
                FROM ranked WHERE low = 1 OR high = 1
                ORDER BY business_id, which DESC"""),
                ),
            )
        )
        sections.append(
            (
                "Call-count reconciliation (inbound, per business and date)",
                _table(
                    [
                        "business",
                        "date",
                        "call tracking",
                        "telephony",
                        "matched",
                        "unmatched",
                        "ratio",
                        "flag",
                        "reason",
                    ],
                    rows("""
                SELECT business_id, report_date, calltracking_calls, telephony_calls,
                       matched_calls, unmatched_calls, unmatched_ratio, status,
                       COALESCE('built without ' || missing_sources, mismatch_reason)
                FROM analytics.daily_reconciliation WHERE report_date BETWEEN @start AND @end
                ORDER BY business_id, report_date"""),
                ),
            )
        )
        crm = rows("""
                SELECT business_id, report_date, ringback_leads, crm_leads, matched,
                       crm_only_manual, crm_only_other, lead_not_in_crm, lead_awaiting_crm,
                       deals_won, status, mismatch_reason
                FROM analytics.crm_reconciliation WHERE report_date BETWEEN @start AND @end
                ORDER BY business_id, report_date""")
        if crm:
            sections.append(
                (
                    "CRM reconciliation (ringback's leads against the CRM's; the CRM's by the "
                    "date it created them)",
                    _table(
                        [
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
                        ],
                        crm,
                    ),
                )
            )
            sections.append(
                (
                    "Revenue per campaign (won CRM deals, credited to the call's ad source)",
                    _table(
                        [
                            "business",
                            "source / medium",
                            "campaign",
                            "leads",
                            "in CRM",
                            "deals won",
                            "won amount",
                            "currency",
                        ],
                        rows("""
                    SELECT business_id,
                           CONCAT(COALESCE(traffic_source, '(untracked)'), ' / ',
                                  COALESCE(traffic_medium, '-')) AS channel,
                           COALESCE(campaign, '-') AS campaign_name,
                           SUM(leads) AS leads, SUM(leads_in_crm) AS in_crm,
                           SUM(deals_won) AS won,
                           IF(COUNT(DISTINCT won_currency) > 1, NULL, SUM(won_amount)) AS amount,
                           IF(COUNT(DISTINCT won_currency) > 1, 'mixed', MIN(won_currency))
                               AS currency
                    FROM analytics.leads_daily
                    WHERE attributed_date BETWEEN @start AND @end
                        AND business_id IN (
                            SELECT business_id FROM analytics.crm_reconciliation)
                    GROUP BY business_id, channel, campaign_name
                    ORDER BY business_id, amount DESC NULLS LAST, leads DESC, channel"""),
                    ),
                )
            )
        sections.append(
            (
                "Loads and validation",
                _table(
                    ["source", "loads", "received", "staged", "quarantined", "failed", "warnings"],
                    rows("""
                SELECT source_id, COUNT(*) AS loads, SUM(received_records) AS received,
                       SUM(staged_records) AS staged, SUM(quarantined_records) AS quarantined,
                       COUNTIF(NOT validation_success) AS failed,
                       SUM(validation_warnings) AS warnings
                FROM raw.loads WHERE load_date BETWEEN @start AND @end
                GROUP BY source_id ORDER BY source_id"""),
                ),
            )
        )
        sections.append(
            (
                "Validation (Great Expectations checkpoints)",
                _table(
                    ["checkpoint", "runs", "failed", "warnings", "rows checked", "quarantined"],
                    rows("""
                        SELECT checkpoint, COUNT(*) AS runs, COUNTIF(NOT success) AS failed,
                               SUM(warnings) AS warnings, SUM(rows) AS checked,
                               SUM(quarantined_rows) AS quarantined
                        FROM raw.validation_results
                        WHERE checked_date >= @start
                        GROUP BY checkpoint ORDER BY checkpoint"""),
                ),
            )
        )
        warned: dict[tuple[str, str, str], list[Any]] = defaultdict(lambda: [0, 0, set()])
        for checkpoint, failed in rows("""
                SELECT checkpoint, failed_expectations FROM raw.validation_results
                WHERE checked_date >= @start AND warnings > 0 ORDER BY checkpoint"""):
            for item in json.loads(failed) if isinstance(failed, str) else failed or []:
                if item.get("severity") != "warning":
                    continue
                key = (checkpoint, item.get("expectation") or "", item.get("column") or "")
                warned[key][0] += 1
                warned[key][1] += int(item.get("unexpected_count") or 0)
                warned[key][2].update(str(x) for x in item.get("examples") or [])
        vendors = figures.vendor_comparison(wh, start, end)
        sections.append(
            (
                "Vendor comparison: the vendor's own first and target calls against ringback's "
                "primary calls and leads; causes signed ringback - vendor, counted per call "
                "(analytics.vendor_comparison)",
                _table(
                    [
                        "business",
                        "vendor",
                        "vendor first",
                        "primary",
                        "first-call causes",
                        "vendor target",
                        "leads",
                        "lead causes",
                    ],
                    [
                        (
                            v["business_id"],
                            v["provider"],
                            v["vendor_first_calls"],
                            v["ringback_primary_calls"],
                            v["first_call_causes"],
                            v["vendor_target_calls"],
                            v["ringback_leads"],
                            v["lead_causes"],
                        )
                        for v in vendors
                    ],
                ),
            )
        )
        grids, why = sensitivity.default_grids(wh, start, end)
        sections.append(
            (
                "Lead sensitivity: leads (recovered) by talk threshold (rows, seconds) and "
                "recovery window (columns); * = the business's own settings "
                "(`ringback sensitivity` for other grids)",
                "\n\n".join(f"{bid}\n{sensitivity.format_grid(g)}" for bid, g in grids.items())
                or why,
            )
        )
        sections.append(
            (
                "Validation warnings (recorded, not blocking; examples never hold phone numbers)",
                _table(
                    ["checkpoint", "expectation", "column", "runs", "rows", "examples"],
                    [
                        (*key, runs, n, ", ".join(sorted(examples)[:5]))
                        for key, (runs, n, examples) in sorted(warned.items())
                    ],
                ),
            )
        )
        sections.append(
            (
                "Quarantined records by reason (expected: "
                + "; ".join(f"{r}: {r.description}" for r in Reason if r.expected)
                + ")",
                _table(
                    ["source", "reason", "records"],
                    rows("""
                SELECT source_id, reason, COUNT(*) AS records FROM (
                    SELECT source_id, reason FROM staging.calls_quarantine
                    WHERE load_date BETWEEN @start AND @end
                    UNION ALL
                    SELECT source_id, reason FROM staging.crm_leads_quarantine
                    WHERE load_date BETWEEN @start AND @end)
                GROUP BY source_id, reason ORDER BY source_id, records DESC"""),
                ),
            )
        )
    return sections


def print_summary(runtime: Runtime, start: dt.date, end: dt.date) -> None:
    print(f"\nringback summary {start} .. {end}\n")
    for title, text in summary_sections(runtime, start, end):
        print(f"== {title}\n{text}\n")
    print(f"Warehouse:           {runtime.settings.warehouse_url}")
    print(f"Validation reports:  {data_docs_index()}")
