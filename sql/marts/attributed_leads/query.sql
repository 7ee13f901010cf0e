SELECT
    calls.business_id,
    calls.unified_call_key AS lead_id,
    IF(calls.is_conversation, calls.unified_call_key, calls.recovered_by_call_key)
        AS lead_call_key,
    calls.unified_call_key AS attributed_call_key,
    CASE
        WHEN calls.is_conversation THEN 'primary_call'
        WHEN calls.recovered_by_direction = 'inbound' THEN 'missed_call_retry'
        ELSE 'missed_call_callback'
    END AS attribution_type,
    TO_HEX(SHA256(CONCAT(@hash_salt, calls.customer_number))) AS customer_hash,
    IF(calls.is_conversation, calls.started_at, calls.recovered_at) AS lead_at,
    -- The lead's date in its own business's zone.
    DATE(IF(calls.is_conversation, calls.started_at, calls.recovered_at), settings.time_zone)
        AS lead_date,
    calls.started_at AS attributed_at,
    calls.call_date AS attributed_date,
    calls.traffic_source,
    calls.traffic_medium,
    calls.campaign,
    calls.keyword,
    IF(calls.is_conversation, calls.talk_seconds, calls.recovered_talk_seconds) AS talk_seconds,
    IF(
        calls.is_conversation, 0, TIMESTAMP_DIFF(calls.recovered_at, calls.started_at, SECOND)
    ) AS recovery_seconds
FROM staging.primary_calls AS calls
INNER JOIN staging.business_settings AS settings
    ON calls.business_id = settings.business_id
WHERE
    calls.call_date BETWEEN @start_date AND @end_date
    AND (@all_businesses OR calls.business_id IN UNNEST(@business_ids))
    AND NOT calls.is_spam
    AND (calls.is_conversation OR (calls.is_missed AND calls.recovered_by_call_key IS NOT NULL))
