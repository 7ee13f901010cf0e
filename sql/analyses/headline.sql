{% from "macros/figures.sql" import lead_sums %}
WITH
leads AS (
    SELECT
        business_id,
        {{ lead_sums() | indent(8) }}
    FROM analytics.leads_daily
    WHERE attributed_date BETWEEN @start AND @end
    GROUP BY business_id
),

missed AS (
    SELECT
        business_id,
        COUNTIF(NOT is_abandoned_short) AS missed_calls,
        COUNTIF(is_recovered) AS recovered_calls,
        COUNTIF(is_resolved) AS resolved_calls,
        COUNTIF(is_abandoned_short) AS abandoned_short
    FROM analytics.missed_calls
    WHERE missed_date BETWEEN @start AND @end
    GROUP BY business_id
),

callbacks AS (
    SELECT
        business_id,
        COUNTIF(sla_is_met) AS sla_met,
        COUNTIF(sla_is_due) AS sla_due,
        COUNTIF(never_attempted AND NOT is_abandoned_short) AS never_called_back
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
    UNION DISTINCT
    SELECT business_id FROM missed
    UNION DISTINCT
    SELECT business_id FROM days
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
    COALESCE(callbacks.never_called_back, 0) AS never_called_back,
    COALESCE(missed.abandoned_short, 0) AS abandoned_short
FROM businesses
LEFT JOIN leads ON businesses.business_id = leads.business_id
LEFT JOIN missed ON businesses.business_id = missed.business_id
-- Every missed first call has its follow-up: no business has follow-ups without missed calls.
LEFT JOIN callbacks ON businesses.business_id = callbacks.business_id
LEFT JOIN days ON businesses.business_id = days.business_id
ORDER BY businesses.business_id
