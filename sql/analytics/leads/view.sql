-- One row per lead, the recovered flag spelled out; the source is the credited call's.
SELECT
    business_id,
    lead_id,
    attribution_type,
    attribution_type IN ('missed_call_retry', 'missed_call_callback') AS is_recovered,
    lead_at,
    lead_date,
    attributed_at,
    attributed_date,
    traffic_source,
    traffic_medium,
    campaign,
    keyword,
    talk_seconds,
    recovery_seconds / 60.0 AS recovery_minutes,
    customer_hash,
    lead_call_key,
    attributed_call_key
FROM marts.attributed_leads
