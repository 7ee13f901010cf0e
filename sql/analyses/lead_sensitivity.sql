-- Leads and recovered leads for every combination of talk threshold and recovery window, and
-- missed first calls for every short-abandon threshold besides (`ringback sensitivity`): one
-- pass over staging, the alternatives as array parameters, written to no table. Short
-- hang-ups move no lead, only which missed calls count. Primacy does not depend on any of the
-- settings, so it is read from staging.primary_calls; conversation, spam (its "no
-- conversation" uses the cell's threshold), recovery and short hang-ups are decided per cell
-- exactly as staging.unified_calls and staging.primary_calls decide them with the business's
-- own settings, so a cell with a business's settings equals its marts.attributed_leads and
-- marts.missed_calls.
WITH
grid AS (
    SELECT
        talk_threshold_seconds,
        recovery_window_seconds
    FROM UNNEST(@talk_thresholds) AS talk_threshold_seconds
    CROSS JOIN UNNEST(@recovery_windows) AS recovery_window_seconds
),

settings AS (
    SELECT
        business_id,
        spam_calls_per_day,
        COALESCE(spam_vendor_flag, TRUE) AS spam_vendor_flag
    FROM staging.business_settings
),

unified AS (
    SELECT
        business_id,
        unified_call_key,
        customer_number,
        direction,
        started_at,
        status,
        talk_seconds,
        vendor_spam,
        call_date
    FROM staging.unified_calls
    WHERE
        call_date BETWEEN @start_date AND @recovery_end_date
        AND (@all_businesses OR business_id IN UNNEST(@business_ids))
        AND customer_number IS NOT NULL
),

number_days AS (
    -- The spam rule's evidence: a number's inbound calls and longest answered talk per day.
    SELECT
        business_id,
        customer_number,
        call_date,
        SUM(IF(direction = 'inbound', 1, 0)) AS inbound_calls,
        MAX(IF(status = 'answered', talk_seconds, NULL)) AS longest_answered_talk
    FROM unified
    WHERE call_date BETWEEN @start_date AND @end_date
    GROUP BY business_id, customer_number, call_date
),

primaries AS (
    SELECT
        primary_calls.business_id,
        primary_calls.unified_call_key,
        primary_calls.customer_number,
        primary_calls.started_at,
        primary_calls.status,
        primary_calls.talk_seconds,
        primary_calls.status != 'answered' OR primary_calls.talk_seconds = 0 AS is_missed,
        -- The short-abandon rule's evidence (staging.primary_calls.is_abandoned_short).
        primary_calls.status IN ('missed', 'answered') AND primary_calls.talk_seconds = 0
            AS could_abandon,
        primary_calls.wait_seconds,
        settings.spam_vendor_flag AND COALESCE(unified.vendor_spam, FALSE) AS is_vendor_spam,
        number_days.inbound_calls > settings.spam_calls_per_day AS is_repeated_caller,
        COALESCE(number_days.longest_answered_talk, -1) AS longest_answered_talk
    FROM staging.primary_calls AS primary_calls
    INNER JOIN settings ON primary_calls.business_id = settings.business_id
    INNER JOIN unified
        ON
            primary_calls.business_id = unified.business_id
            AND primary_calls.unified_call_key = unified.unified_call_key
    INNER JOIN number_days
        ON
            primary_calls.business_id = number_days.business_id
            AND primary_calls.customer_number = number_days.customer_number
            AND primary_calls.call_date = number_days.call_date
    WHERE
        primary_calls.call_date BETWEEN @start_date AND @end_date
        AND (@all_businesses OR primary_calls.business_id IN UNNEST(@business_ids))
),

candidates AS (
    -- Conversations that could recover a missed primary call in the loosest cell.
    SELECT
        missed.business_id,
        missed.unified_call_key,
        later.unified_call_key AS recovering_call_key,
        later.direction AS recovering_direction,
        later.started_at AS recovering_at,
        later.talk_seconds AS recovering_talk_seconds,
        TIMESTAMP_DIFF(later.started_at, missed.started_at, SECOND) AS recovery_seconds
    FROM primaries AS missed
    INNER JOIN unified AS later
        ON
            missed.business_id = later.business_id
            AND missed.customer_number = later.customer_number
            AND missed.started_at < later.started_at
    INNER JOIN settings ON later.business_id = settings.business_id
    WHERE
        missed.is_missed
        AND later.status = 'answered'
        AND later.talk_seconds > @min_talk_threshold
        AND TIMESTAMP_DIFF(later.started_at, missed.started_at, SECOND) <= @max_recovery_window
        -- A spam call recovers nobody (only a vendor-flagged call can be spam and talk).
        AND NOT (settings.spam_vendor_flag AND COALESCE(later.vendor_spam, FALSE))
),

recoveries AS (
    SELECT
        grid.talk_threshold_seconds,
        grid.recovery_window_seconds,
        candidates.business_id,
        candidates.unified_call_key,
        candidates.recovering_direction
    FROM candidates
    CROSS JOIN grid
    WHERE
        candidates.recovering_talk_seconds > grid.talk_threshold_seconds
        AND candidates.recovery_seconds <= grid.recovery_window_seconds
    QUALIFY
        ROW_NUMBER() OVER (
            PARTITION BY
                grid.talk_threshold_seconds,
                grid.recovery_window_seconds,
                candidates.business_id,
                candidates.unified_call_key
            ORDER BY candidates.recovering_at ASC, candidates.recovering_call_key ASC
        ) = 1
),

cells AS (
    SELECT
        grid.talk_threshold_seconds,
        grid.recovery_window_seconds,
        primaries.business_id,
        primaries.status = 'answered'
        AND primaries.talk_seconds > grid.talk_threshold_seconds AS is_conversation,
        primaries.is_missed,
        primaries.is_vendor_spam
        OR COALESCE(
            primaries.is_repeated_caller
            AND primaries.longest_answered_talk <= grid.talk_threshold_seconds,
            FALSE
        ) AS is_spam,
        recoveries.recovering_direction,
        abandon_seconds,
        COALESCE(
            primaries.could_abandon AND primaries.wait_seconds < abandon_seconds, FALSE
        ) AS is_abandoned_short
    FROM primaries
    CROSS JOIN grid
    CROSS JOIN UNNEST(@short_abandons) AS abandon_seconds
    LEFT JOIN recoveries
        ON
            grid.talk_threshold_seconds = recoveries.talk_threshold_seconds
            AND grid.recovery_window_seconds = recoveries.recovery_window_seconds
            AND primaries.business_id = recoveries.business_id
            AND primaries.unified_call_key = recoveries.unified_call_key
)

SELECT
    business_id,
    talk_threshold_seconds,
    recovery_window_seconds,
    abandon_seconds AS short_abandon_seconds,
    COUNTIF(NOT is_spam AND is_conversation) AS primary_leads,
    COUNTIF(NOT is_spam AND is_missed AND recovering_direction = 'inbound') AS retry_leads,
    COUNTIF(NOT is_spam AND is_missed AND recovering_direction = 'outbound') AS callback_leads,
    COUNTIF(is_spam) AS spam_calls,
    COUNTIF(NOT is_spam AND is_missed AND NOT is_abandoned_short) AS missed_calls,
    COUNTIF(
        NOT is_spam AND is_missed AND NOT is_abandoned_short AND recovering_direction IS NOT NULL
    ) AS recovered_missed_calls,
    COUNTIF(NOT is_spam AND is_abandoned_short) AS abandoned_short
FROM cells
GROUP BY business_id, talk_threshold_seconds, recovery_window_seconds, abandon_seconds
