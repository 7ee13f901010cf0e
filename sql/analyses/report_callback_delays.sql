SELECT
    first_attempt_business_minutes,
    callback_sla_minutes,
    COALESCE(attempt_employee_name, attempt_employee_id) AS employee,
    sla_is_met
FROM analytics.callback_followups
WHERE missed_date BETWEEN @start AND @end AND business_id = @business
    AND NOT never_attempted
