-- One row per missed first call and its follow-up. sla_is_met / sla_is_due are the SLA rate's
-- parts: met / due, where a call the customer resolved first (not_needed) or whose deadline is
-- still ahead (pending) is not due. A short hang-up (abandoned_short) is no missed call to chase.
SELECT
    business_id,
    call_key,
    missed_at,
    missed_date,
    first_attempt_at,
    first_attempt_seconds / 60.0 AS first_attempt_minutes,
    first_attempt_business_seconds / 60.0 AS first_attempt_business_minutes,
    attempts,
    first_attempt_at IS NULL AS never_attempted,
    customer_called_first,
    attempt_employee_id,
    attempt_employee_name,
    callback_sla_seconds / 60.0 AS callback_sla_minutes,
    sla_deadline_at,
    sla_status,
    sla_status = 'met' AS sla_is_met,
    sla_status IN ('met', 'missed') AS sla_is_due,
    outcome,
    sla_status = 'abandoned_short' AS is_abandoned_short
FROM marts.missed_call_followups
