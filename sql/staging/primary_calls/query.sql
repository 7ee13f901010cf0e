WITH
range_inbound AS (
    SELECT *
    FROM staging.unified_calls
    WHERE
        call_date BETWEEN @history_start_date AND @end_date
        AND direction = 'inbound'
        AND customer_number IS NOT NULL
),

{% if uniqueness_window_days is none %}
    primary_calls AS (
    -- All-history uniqueness: primary = the number's first inbound call ever.
        SELECT range_inbound.*
        FROM range_inbound
        INNER JOIN staging.customer_first_seen AS seen
            ON
                range_inbound.customer_number = seen.customer_number
                AND range_inbound.unified_call_key = seen.first_inbound_call_key
        WHERE range_inbound.call_date BETWEEN @start_date AND @end_date
    ),
{% else %}
    with_previous AS (
    -- Finite uniqueness window: @history_start_date reaches back over the whole window.
        SELECT
            *,
            LAG(started_at) OVER (
                PARTITION BY customer_number ORDER BY started_at ASC, unified_call_key ASC
            ) AS previous_inbound_at
        FROM range_inbound
    ),

    primary_calls AS (
        SELECT * EXCEPT (previous_inbound_at)
        FROM with_previous
        WHERE
            call_date BETWEEN @start_date AND @end_date
            AND (
                previous_inbound_at IS NULL
                OR TIMESTAMP_DIFF(started_at, previous_inbound_at, SECOND)
                > @uniqueness_window_seconds
            )
    ),
{% endif %}

classified AS (
    SELECT
        *,
        status = 'answered' AND talk_seconds > @talk_threshold_seconds AS is_conversation,
        status != 'answered' OR talk_seconds = 0 AS is_missed,
        TIMESTAMP_ADD(started_at, INTERVAL @recovery_window_seconds SECOND)
            AS recovery_window_ends_at
    FROM primary_calls
),

conversations AS (
    -- Any later conversation can recover a missed call: retries (inbound, to any line) and
    -- manager callbacks (outbound).
    SELECT
        unified_call_key,
        customer_number,
        direction,
        started_at,
        talk_seconds
    FROM staging.unified_calls
    WHERE
        call_date BETWEEN @start_date AND @recovery_end_date
        AND customer_number IS NOT NULL
        AND status = 'answered'
        AND talk_seconds > @talk_threshold_seconds
),

recoveries AS (
    SELECT
        missed.unified_call_key,
        conversations.unified_call_key AS recovered_by_call_key,
        conversations.direction AS recovered_by_direction,
        conversations.started_at AS recovered_at,
        conversations.talk_seconds AS recovered_talk_seconds
    FROM classified AS missed
    INNER JOIN conversations
        ON
            missed.customer_number = conversations.customer_number
            AND missed.started_at < conversations.started_at
            AND missed.recovery_window_ends_at >= conversations.started_at
    WHERE missed.is_missed
    QUALIFY
        ROW_NUMBER() OVER (
            PARTITION BY missed.unified_call_key
            ORDER BY conversations.started_at ASC, conversations.unified_call_key ASC
        ) = 1
),

data_end AS (
    -- Calls before @start_date cannot be later than the range's own calls.
    SELECT MAX(started_at) AS data_end_at
    FROM staging.calls
    WHERE call_date >= @start_date
)

SELECT
    classified.unified_call_key,
    classified.customer_number,
    classified.started_at,
    classified.status,
    classified.talk_seconds,
    COALESCE(classified.ct_company_number, classified.tel_company_number) AS company_number,
    classified.traffic_source,
    classified.traffic_medium,
    classified.campaign,
    classified.keyword,
    classified.is_conversation,
    classified.is_missed,
    recoveries.recovered_by_call_key,
    recoveries.recovered_by_direction,
    recoveries.recovered_at,
    recoveries.recovered_talk_seconds,
    classified.recovery_window_ends_at,
    data_end.data_end_at,
    classified.call_date
FROM classified
CROSS JOIN data_end
LEFT JOIN recoveries ON classified.unified_call_key = recoveries.unified_call_key
