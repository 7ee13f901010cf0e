-- Open incidents not announced yet (raw.incident_alerts).
SELECT
    incidents.business_id,
    incidents.cause,
    incidents.started_date,
    incidents.last_date,
    incidents.incident_days,
    incidents.peak_share,
    incidents.baseline_median,
    incidents.incident_line
FROM analytics.reconciliation_incidents AS incidents
LEFT JOIN raw.incident_alerts AS announced
    ON
        incidents.business_id = announced.business_id
        AND incidents.cause = announced.cause
        AND incidents.started_date = announced.started_date
WHERE incidents.status = 'open' AND announced.business_id IS NULL
ORDER BY incidents.business_id, incidents.started_date, incidents.cause
