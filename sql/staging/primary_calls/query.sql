-- Primacy, conversation, missed and recovery (docs/rules.md), inside each business and with its
-- own settings (staging.business_settings). A business with the default all-history uniqueness
-- reads staging.customer_first_seen; one with a finite window compares each call with the
-- number's previous inbound call (@history_start_date reaches back over the longest window).
WITH
settings AS (
    SELECT
        business_id,
        talk_threshold_seconds,
        recovery_window_seconds,
        uniqueness_window_seconds,
        short_abandon_seconds
    FROM staging.business_settings
),

range_inbound AS (
    SELECT
        unified.*,
        settings.uniqueness_window_seconds,
        settings.talk_threshold_seconds,
        settings.recovery_window_seconds,
        settings.short_abandon_seconds
    FROM staging.unified_calls AS unified
    INNER JOIN settings ON unified.business_id = settings.business_id
    WHERE
        unified.call_date BETWEEN @history_start_date AND @end_date
        AND (@all_businesses OR unified.business_id IN UNNEST(@business_ids))
        AND unified.direction = 'inbound'
        AND unified.customer_number IS NOT NULL
        AND (settings.uniqueness_window_seconds IS NOT NULL OR unified.call_date >= @start_date)
),

with_previous AS (
    SELECT
        *,
        LAG(started_at) OVER (
            PARTITION BY business_id, customer_number
            ORDER BY started_at ASC, unified_call_key ASC
        ) AS previous_inbound_at
    FROM range_inbound
),

primary_calls AS (
    SELECT with_previous.* EXCEPT (previous_inbound_at)
    FROM with_previous
    LEFT JOIN staging.customer_first_seen AS seen
        ON
            with_previous.business_id = seen.business_id
            AND with_previous.customer_number = seen.customer_number
    WHERE
        with_previous.call_date BETWEEN @start_date AND @end_date
        AND (
            (
                with_previous.uniqueness_window_seconds IS NULL
                AND with_previous.unified_call_key = seen.first_inbound_call_key
            )
            OR (
                with_previous.uniqueness_window_seconds IS NOT NULL
                AND (
                    with_previous.previous_inbound_at IS NULL
                    OR TIMESTAMP_DIFF(
                        with_previous.started_at, with_previous.previous_inbound_at, SECOND
                    ) > with_previous.uniqueness_window_seconds
                )
            )
        )
),

classified AS (
    SELECT
        *,
        status = 'answered' AND talk_seconds > talk_threshold_seconds AS is_conversation,
        status != 'answered' OR talk_seconds = 0 AS is_missed,
        -- The caller hung up before short_abandon_seconds of ringing, nobody talked: counted
        -- apart from missed calls. Busy, failed and voicemail are the line's doing, not the
        -- caller's; unknown ringing (the system gives none) is never short.
        COALESCE(
            status IN ('missed', 'answered')
            AND talk_seconds = 0
            AND wait_seconds < short_abandon_seconds,
            FALSE
        ) AS is_abandoned_short,
        TIMESTAMP_ADD(started_at, INTERVAL recovery_window_seconds SECOND)
            AS recovery_window_ends_at
    FROM primary_calls
),

conversations AS (
    -- Any later conversation can recover a missed call: retries (inbound, to any line) and
    -- manager callbacks (outbound).
    SELECT
        unified.business_id,
        unified.unified_call_key,
        unified.customer_number,
        unified.direction,
        unified.started_at,
        unified.talk_seconds
    FROM staging.unified_calls AS unified
    INNER JOIN settings ON unified.business_id = settings.business_id
    WHERE
        unified.call_date BETWEEN @start_date AND @recovery_end_date
        AND (@all_businesses OR unified.business_id IN UNNEST(@business_ids))
        AND unified.customer_number IS NOT NULL
        AND unified.status = 'answered'
        AND unified.talk_seconds > settings.talk_threshold_seconds
        -- A spam call recovers nobody (only a vendor-flagged call can be spam and talk).
        AND unified.spam_reason IS NULL
),

recoveries AS (
    SELECT
        missed.business_id,
        missed.unified_call_key,
        conversations.unified_call_key AS recovered_by_call_key,
        conversations.direction AS recovered_by_direction,
        conversations.started_at AS recovered_at,
        conversations.talk_seconds AS recovered_talk_seconds
    FROM classified AS missed
    INNER JOIN conversations
        ON
            missed.business_id = conversations.business_id
            AND missed.customer_number = conversations.customer_number
            AND missed.started_at < conversations.started_at
            AND missed.recovery_window_ends_at >= conversations.started_at
    WHERE missed.is_missed
    QUALIFY
        ROW_NUMBER() OVER (
            PARTITION BY missed.business_id, missed.unified_call_key
            ORDER BY conversations.started_at ASC, conversations.unified_call_key ASC
        ) = 1
),

data_end AS (
    -- Each business's data ends at its own last call; calls before @start_date cannot be
    -- later than the range's own calls.
    SELECT
        business_id,
        MAX(started_at) AS data_end_at
    FROM staging.calls AS staged
    WHERE
        staged.call_date >= @start_date
        AND (@all_businesses OR staged.business_id IN UNNEST(@business_ids))
        AND NOT EXISTS (
            SELECT 1 FROM staging.deleted_calls AS deleted
            WHERE
                deleted.is_deleted
                AND deleted.call_date >= @start_date
                AND deleted.business_id = staged.business_id
                AND deleted.call_key = staged.call_key
        )
    GROUP BY business_id
)

SELECT
    classified.business_id,
    classified.unified_call_key,
    classified.customer_number,
    classified.started_at,
    classified.status,
    classified.talk_seconds,
    classified.wait_seconds,
    COALESCE(classified.ct_company_number, classified.tel_company_number) AS company_number,
    classified.traffic_source,
    classified.traffic_medium,
    classified.campaign,
    classified.keyword,
    classified.is_conversation,
    classified.is_missed,
    classified.is_abandoned_short,
    -- Spam (the business's rule, staging.unified_calls.spam_reason): no lead, no missed call.
    classified.spam_reason IS NOT NULL AS is_spam,
    classified.spam_reason,
    recoveries.recovered_by_call_key,
    recoveries.recovered_by_direction,
    recoveries.recovered_at,
    recoveries.recovered_talk_seconds,
    classified.recovery_window_ends_at,
    data_end.data_end_at,
    classified.call_date
FROM classified
LEFT JOIN data_end ON classified.business_id = data_end.business_id
LEFT JOIN recoveries
    ON
        classified.business_id = recoveries.business_id
        AND classified.unified_call_key = recoveries.unified_call_key
