-- One row per missed first call. is_recovered and is_resolved are the recovery rate's parts:
-- recovered / resolved, where a call whose window is still open (pending) is not yet resolved.
SELECT
    business_id,
    call_key,
    customer_hash,
    missed_at,
    missed_date,
    missed_status,
    traffic_source,
    traffic_medium,
    campaign,
    keyword,
    outcome,
    outcome IN ('recovered_retry', 'recovered_callback') AS is_recovered,
    outcome != 'pending' AS is_resolved,
    recovery_seconds / 60.0 AS recovery_minutes
FROM marts.missed_calls
