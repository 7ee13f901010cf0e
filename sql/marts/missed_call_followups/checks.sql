-- Derived columns the suite marts_missed_call_followups checks: an attempt's times are named
-- together, business time never exceeds clock time, and "met" needs an attempt.
SELECT
    audited.*,  -- noqa: AM04
    (audited.first_attempt_at IS NULL) = (audited.first_attempt_seconds IS NULL)
    AND (audited.first_attempt_at IS NULL) = (audited.first_attempt_business_seconds IS NULL)
    AND (audited.first_attempt_at IS NULL) = (audited.first_attempt_call_key IS NULL)
        AS attempt_named_whole,
    COALESCE(audited.first_attempt_business_seconds <= audited.first_attempt_seconds, TRUE)
        AS business_time_within_clock_time,
    audited.sla_status != 'met' OR audited.first_attempt_at IS NOT NULL AS met_has_attempt
FROM audited
