-- Pending calls (window still open) are left out of the rate's denominator: they may yet recover.
SELECT
    business_id,
    missed_date,
    traffic_source,
    COUNT(*) AS missed_calls,
    COUNTIF(outcome = 'recovered_retry') AS recovered_retry,
    COUNTIF(outcome = 'recovered_callback') AS recovered_callback,
    COUNTIF(outcome = 'not_recovered') AS not_recovered,
    COUNTIF(outcome = 'pending') AS pending,
    SAFE_DIVIDE(
        COUNTIF(outcome IN ('recovered_retry', 'recovered_callback')),
        COUNTIF(outcome != 'pending')
    ) AS recovery_rate,
    AVG(recovery_seconds) / 60.0 AS avg_recovery_minutes
FROM marts.missed_calls
GROUP BY business_id, missed_date, traffic_source
