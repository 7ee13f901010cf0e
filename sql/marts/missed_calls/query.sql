SELECT
    business_id,
    unified_call_key AS call_key,
    TO_HEX(SHA256(CONCAT(@hash_salt, customer_number))) AS customer_hash,
    started_at AS missed_at,
    call_date AS missed_date,
    status AS missed_status,
    wait_seconds,
    traffic_source,
    traffic_medium,
    campaign,
    keyword,
    CASE
        -- A hang-up within the business's short_abandon_seconds: counted apart, even when the
        -- customer called again (recovered_by_call_key still names that call).
        WHEN is_abandoned_short THEN 'abandoned_short'
        WHEN recovered_by_direction = 'inbound' THEN 'recovered_retry'
        WHEN recovered_by_direction = 'outbound' THEN 'recovered_callback'
        -- The window (start, start + window] is still open when it ends after the last call.
        WHEN recovery_window_ends_at > data_end_at THEN 'pending'
        ELSE 'not_recovered'
    END AS outcome,
    recovered_by_call_key,
    TIMESTAMP_DIFF(recovered_at, started_at, SECOND) AS recovery_seconds
FROM staging.primary_calls
WHERE
    call_date BETWEEN @start_date AND @end_date
    AND (@all_businesses OR business_id IN UNNEST(@business_ids))
    AND is_missed
    -- Robocallers are no missed customers (the business's spam rule).
    AND NOT is_spam
