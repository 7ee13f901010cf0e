SELECT
    iso_weekday,
    call_hour,
    SUM(hourly.inbound_calls) AS inbound_calls,
    SUM(hourly.inbound_answered) AS inbound_answered
FROM analytics.call_handling_hourly AS hourly
WHERE call_date BETWEEN @start AND @end AND business_id = @business
-- qualified: GoogleSQL would read a bare inbound_calls here as the SUM's alias
GROUP BY iso_weekday, call_hour
HAVING SUM(hourly.inbound_calls) > 0
ORDER BY iso_weekday, call_hour
