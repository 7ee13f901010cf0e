-- Incidents that were open on any date of the range (analytics.reconciliation_incidents).
SELECT
    business_id,
    cause,
    started_date,
    status,
    closed_date,
    incident_days,
    peak_share,
    baseline_median,
    incident_line,
    flagged_days
FROM analytics.reconciliation_incidents
WHERE started_date <= @end AND last_date >= @start
ORDER BY business_id, started_date, cause
