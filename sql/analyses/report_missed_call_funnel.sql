SELECT
    COALESCE(SUM(missed_calls), 0) AS missed_calls,
    COALESCE(SUM(recovered_retry), 0) AS recovered_retry,
    COALESCE(SUM(recovered_callback), 0) AS recovered_callback,
    COALESCE(SUM(not_recovered), 0) AS not_recovered,
    COALESCE(SUM(pending), 0) AS pending
FROM analytics.missed_call_recovery_daily
WHERE missed_date BETWEEN @start AND @end AND business_id = @business
