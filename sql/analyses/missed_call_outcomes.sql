SELECT
    business_id,
    outcome,
    COUNT(*) AS calls,
    ROUND(APPROX_QUANTILES(recovery_minutes, 2)[OFFSET(1)], 1) AS median
FROM analytics.missed_calls
WHERE missed_date BETWEEN @start AND @end
GROUP BY business_id, outcome
ORDER BY business_id ASC, calls DESC
