-- One row per missed first call. is_recovered and is_resolved are the recovery rate's parts:
-- recovered / resolved, where a call whose window is still open (pending) is not yet resolved
-- and a short hang-up (abandoned_short) is in neither.
SELECT
    business_id,
    call_key,
    customer_hash,
    missed_at,
    missed_date,
    missed_status,
    wait_seconds,
    traffic_source,
    traffic_medium,
    campaign,
    keyword,
    outcome,
    outcome IN ('recovered_retry', 'recovered_callback') AS is_recovered,
    outcome NOT IN ('pending', 'abandoned_short') AS is_resolved,
    outcome = 'abandoned_short' AS is_abandoned_short,
    recovery_seconds / 60.0 AS recovery_minutes
FROM marts.missed_calls
