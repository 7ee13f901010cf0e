-- The callback funnel per business and day of the miss. The SLA rate leaves out calls the
-- customer resolved first (not_needed) and calls whose deadline is still ahead (pending).
-- Short hang-ups (abandoned_short) are no missed first calls: counted apart, in no other figure.
WITH
followups AS (
    SELECT
        *,
        sla_status = 'abandoned_short' AS is_abandoned_short
    FROM marts.missed_call_followups
)

SELECT
    business_id,
    missed_date,
    COUNTIF(NOT is_abandoned_short) AS missed_calls,
    COUNTIF(NOT is_abandoned_short AND first_attempt_at IS NOT NULL) AS attempted,
    COUNTIF(NOT is_abandoned_short AND first_attempt_at IS NULL) AS never_attempted,
    COUNTIF(NOT is_abandoned_short AND customer_called_first) AS customer_called_first,
    COUNTIF(sla_status = 'met') AS sla_met,
    COUNTIF(sla_status = 'missed') AS sla_missed,
    COUNTIF(sla_status = 'not_needed') AS sla_not_needed,
    COUNTIF(sla_status = 'pending') AS sla_pending,
    SAFE_DIVIDE(COUNTIF(sla_status = 'met'), COUNTIF(sla_status IN ('met', 'missed')))
        AS sla_met_rate,
    AVG(IF(is_abandoned_short, NULL, first_attempt_seconds)) / 60.0 AS avg_first_attempt_minutes,
    AVG(IF(is_abandoned_short, NULL, first_attempt_business_seconds)) / 60.0
        AS avg_first_attempt_business_minutes,
    AVG(IF(is_abandoned_short, NULL, attempts)) AS avg_attempts,
    COUNTIF(is_abandoned_short) AS abandoned_short
FROM followups
GROUP BY business_id, missed_date
