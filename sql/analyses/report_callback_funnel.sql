SELECT
    COALESCE(SUM(missed_calls), 0) AS missed_calls,
    COALESCE(SUM(attempted), 0) AS attempted,
    COALESCE(SUM(never_attempted), 0) AS never_attempted,
    COALESCE(SUM(sla_met), 0) AS sla_met,
    COALESCE(SUM(sla_missed), 0) AS sla_missed,
    COALESCE(SUM(sla_not_needed), 0) AS sla_not_needed,
    COALESCE(SUM(sla_pending), 0) AS sla_pending
FROM analytics.callback_sla_daily
WHERE missed_date BETWEEN @start AND @end AND business_id = @business
