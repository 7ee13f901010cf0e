SELECT
    source_id,
    reason,
    COUNT(*) AS records
FROM (
    SELECT
        source_id,
        reason
    FROM staging.calls_quarantine
    WHERE load_date BETWEEN @start AND @end
    UNION ALL
    SELECT
        source_id,
        reason
    FROM staging.crm_leads_quarantine
    WHERE load_date BETWEEN @start AND @end
) AS quarantined
GROUP BY source_id, reason
ORDER BY source_id ASC, records DESC
