-- Pending calls (window still open) are left out of the rate's denominator: they may yet recover.
-- Short hang-ups (abandoned_short) are counted apart and are in none of the other figures.
SELECT
    business_id,
    missed_date,
    traffic_source,
    COUNTIF(outcome != 'abandoned_short') AS missed_calls,
    COUNTIF(outcome = 'recovered_retry') AS recovered_retry,
    COUNTIF(outcome = 'recovered_callback') AS recovered_callback,
    COUNTIF(outcome = 'not_recovered') AS not_recovered,
    COUNTIF(outcome = 'pending') AS pending,
    SAFE_DIVIDE(
        COUNTIF(outcome IN ('recovered_retry', 'recovered_callback')),
        COUNTIF(outcome NOT IN ('pending', 'abandoned_short'))
    ) AS recovery_rate,
    AVG(IF(outcome != 'abandoned_short', recovery_seconds, NULL)) / 60.0 AS avg_recovery_minutes,
    COUNTIF(outcome = 'abandoned_short') AS abandoned_short
FROM marts.missed_calls
GROUP BY business_id, missed_date, traffic_source
