SELECT
    unified_call_key AS lead_id,
    IF(is_conversation, unified_call_key, recovered_by_call_key) AS lead_call_key,
    unified_call_key AS attributed_call_key,
    CASE
        WHEN is_conversation THEN 'primary_call'
        WHEN recovered_by_direction = 'inbound' THEN 'missed_call_retry'
        ELSE 'missed_call_callback'
    END AS attribution_type,
    TO_HEX(SHA256(CONCAT(@hash_salt, customer_number))) AS customer_hash,
    IF(is_conversation, started_at, recovered_at) AS lead_at,
    DATE(IF(is_conversation, started_at, recovered_at), @reporting_time_zone) AS lead_date,
    started_at AS attributed_at,
    call_date AS attributed_date,
    traffic_source,
    traffic_medium,
    campaign,
    keyword,
    IF(is_conversation, talk_seconds, recovered_talk_seconds) AS talk_seconds,
    IF(is_conversation, 0, TIMESTAMP_DIFF(recovered_at, started_at, SECOND)) AS recovery_seconds
FROM staging.primary_calls
WHERE
    call_date BETWEEN @start_date AND @end_date
    AND (is_conversation OR (is_missed AND recovered_by_call_key IS NOT NULL))
