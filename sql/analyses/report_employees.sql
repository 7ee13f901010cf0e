SELECT
    COALESCE(employee_name, employee_id) AS employee,
    SUM(inbound_answered) AS inbound_answered,
    SUM(outbound_attempts) AS outbound_attempts,
    SUM(outbound_answered) AS outbound_answered,
    SUM(talk_seconds) / 60.0 AS talk_minutes
FROM analytics.call_handling_hourly
WHERE call_date BETWEEN @start AND @end AND business_id = @business
    AND (employee_id IS NOT NULL OR employee_name IS NOT NULL)
GROUP BY employee
ORDER BY inbound_answered DESC, employee ASC
