-- What the team did after each missed primary call (the population of marts.missed_calls):
-- the first outbound attempt to the number within the recovery window, how long it took in
-- clock time and in business time, the attempts up to the first conversation, and whether the
-- callback SLA was met. Business time comes from staging.business_hours: F(x), the open
-- seconds up to instant x, is the running total before x's interval plus the open part of it,
-- so the open time between two instants is F(b) - F(a), and the SLA deadline is the instant
-- where F reaches F(missed) + SLA. A business without opening hours is always open.
WITH
settings AS (
    SELECT
        business_id,
        callback_sla_seconds,
        has_business_hours,
        hash_employee_names
    FROM staging.business_settings
),

hours AS (
    SELECT
        business_id,
        open_at,
        open_seconds,
        open_seconds_before,
        LEAD(open_at) OVER (PARTITION BY business_id ORDER BY open_at ASC) AS next_open_at
    FROM staging.business_hours
),

missed AS (
    SELECT
        primary_calls.business_id,
        primary_calls.unified_call_key AS call_key,
        primary_calls.customer_number,
        primary_calls.started_at AS missed_at,
        primary_calls.call_date AS missed_date,
        primary_calls.recovered_at,
        primary_calls.recovered_by_direction,
        primary_calls.recovery_window_ends_at,
        primary_calls.data_end_at,
        missed_calls.outcome
    FROM staging.primary_calls AS primary_calls
    -- The outcome has one definition: marts.missed_calls.
    INNER JOIN marts.missed_calls AS missed_calls
        ON
            primary_calls.business_id = missed_calls.business_id
            AND primary_calls.unified_call_key = missed_calls.call_key
    WHERE
        primary_calls.is_missed
        AND NOT primary_calls.is_spam
        AND primary_calls.call_date BETWEEN @start_date AND @end_date
        AND missed_calls.missed_date BETWEEN @start_date AND @end_date
        AND (@all_businesses OR primary_calls.business_id IN UNNEST(@business_ids))
),

later_calls AS (
    -- Every call with the number after the miss, up to the end of its recovery window.
    SELECT
        missed.business_id,
        missed.call_key,
        unified.unified_call_key AS later_call_key,
        unified.direction,
        unified.started_at,
        unified.employee_id,
        unified.employee_name,
        COALESCE(missed.recovered_at, missed.recovery_window_ends_at) AS attempts_end_at
    FROM missed
    INNER JOIN staging.unified_calls AS unified
        ON
            missed.business_id = unified.business_id
            AND missed.customer_number = unified.customer_number
            AND missed.missed_at < unified.started_at
            AND missed.recovery_window_ends_at >= unified.started_at
    WHERE unified.call_date BETWEEN @start_date AND @recovery_end_date
),

first_attempts AS (
    SELECT
        business_id,
        call_key,
        later_call_key AS first_attempt_call_key,
        started_at AS first_attempt_at,
        employee_id AS attempt_employee_id,
        employee_name AS attempt_employee_name
    FROM later_calls
    WHERE direction = 'outbound'
    QUALIFY
        ROW_NUMBER() OVER (
            PARTITION BY business_id, call_key
            ORDER BY started_at ASC, later_call_key ASC
        ) = 1
),

counted AS (
    SELECT
        business_id,
        call_key,
        -- Attempts up to and including the first conversation (the recovering call).
        COUNTIF(direction = 'outbound' AND started_at <= attempts_end_at) AS attempts,
        MIN(IF(direction = 'inbound', started_at, NULL)) AS first_inbound_at
    FROM later_calls
    GROUP BY business_id, call_key
),

followed AS (
    SELECT
        missed.*,
        first_attempts.first_attempt_call_key,
        first_attempts.first_attempt_at,
        first_attempts.attempt_employee_id,
        first_attempts.attempt_employee_name,
        COALESCE(counted.attempts, 0) AS attempts,
        counted.first_inbound_at,
        settings.callback_sla_seconds,
        COALESCE(settings.has_business_hours, FALSE) AS has_business_hours,
        COALESCE(settings.hash_employee_names, FALSE) AS hash_employee_names
    FROM missed
    INNER JOIN settings ON missed.business_id = settings.business_id
    LEFT JOIN first_attempts
        ON
            missed.business_id = first_attempts.business_id
            AND missed.call_key = first_attempts.call_key
    LEFT JOIN counted
        ON missed.business_id = counted.business_id AND missed.call_key = counted.call_key
),

timed AS (
    -- F(missed_at) and F(first_attempt_at); 0 before the table's first interval.
    SELECT
        followed.*,
        COALESCE(
            at_miss.open_seconds_before
            + LEAST(
                TIMESTAMP_DIFF(followed.missed_at, at_miss.open_at, SECOND), at_miss.open_seconds
            ),
            0
        ) AS open_seconds_at_miss,
        COALESCE(
            at_attempt.open_seconds_before
            + LEAST(
                TIMESTAMP_DIFF(followed.first_attempt_at, at_attempt.open_at, SECOND),
                at_attempt.open_seconds
            ),
            0
        ) AS open_seconds_at_attempt
    FROM followed
    LEFT JOIN hours AS at_miss
        ON
            followed.business_id = at_miss.business_id
            AND followed.has_business_hours
            AND followed.missed_at >= at_miss.open_at
            AND (at_miss.next_open_at IS NULL OR followed.missed_at < at_miss.next_open_at)
    LEFT JOIN hours AS at_attempt
        ON
            followed.business_id = at_attempt.business_id
            AND followed.has_business_hours
            AND followed.first_attempt_at >= at_attempt.open_at
            AND (
                at_attempt.next_open_at IS NULL
                OR followed.first_attempt_at < at_attempt.next_open_at
            )
),

deadlines AS (
    -- Where F reaches F(missed_at) + SLA; none past the table's horizon (NULL: unknown).
    SELECT
        timed.business_id,
        timed.call_key,
        TIMESTAMP_ADD(
            hours.open_at,
            INTERVAL (
                timed.open_seconds_at_miss + timed.callback_sla_seconds - hours.open_seconds_before
            ) SECOND
        ) AS deadline_at
    FROM timed
    INNER JOIN hours
        ON
            timed.business_id = hours.business_id
            AND timed.has_business_hours
            AND timed.open_seconds_at_miss + timed.callback_sla_seconds
            > hours.open_seconds_before
            AND timed.open_seconds_at_miss + timed.callback_sla_seconds
            <= hours.open_seconds_before + hours.open_seconds
),

measured AS (
    SELECT
        timed.*,
        IF(
            timed.has_business_hours,
            deadlines.deadline_at,
            TIMESTAMP_ADD(timed.missed_at, INTERVAL timed.callback_sla_seconds SECOND)
        ) AS sla_deadline_at,
        TIMESTAMP_DIFF(timed.first_attempt_at, timed.missed_at, SECOND) AS first_attempt_seconds,
        IF(
            timed.has_business_hours,
            IF(
                timed.first_attempt_at IS NULL,
                NULL,
                timed.open_seconds_at_attempt - timed.open_seconds_at_miss
            ),
            TIMESTAMP_DIFF(timed.first_attempt_at, timed.missed_at, SECOND)
        ) AS first_attempt_business_seconds
    FROM timed
    LEFT JOIN deadlines
        ON timed.business_id = deadlines.business_id AND timed.call_key = deadlines.call_key
)

SELECT
    business_id,
    call_key,
    missed_at,
    missed_date,
    first_attempt_call_key,
    first_attempt_at,
    first_attempt_seconds,
    first_attempt_business_seconds,
    attempts,
    COALESCE(
        first_inbound_at IS NOT NULL
        AND (first_attempt_at IS NULL OR first_inbound_at < first_attempt_at),
        FALSE
    ) AS customer_called_first,
    -- Staff data: kept, or salted hashes (ids too: an email id names the person).
    IF(
        hash_employee_names AND attempt_employee_id IS NOT NULL,
        TO_HEX(SHA256(CONCAT(@hash_salt, attempt_employee_id))),
        attempt_employee_id
    ) AS attempt_employee_id,
    IF(
        hash_employee_names AND attempt_employee_name IS NOT NULL,
        TO_HEX(SHA256(CONCAT(@hash_salt, attempt_employee_name))),
        attempt_employee_name
    ) AS attempt_employee_name,
    callback_sla_seconds,
    sla_deadline_at,
    CASE
        -- A short hang-up (marts.missed_calls) is no missed first call: no callback is due.
        WHEN outcome = 'abandoned_short' THEN 'abandoned_short'
        -- The customer got through before anyone tried, and in time: nothing to call back.
        WHEN
            recovered_by_direction = 'inbound'
            AND (first_attempt_at IS NULL OR recovered_at < first_attempt_at)
            AND (sla_deadline_at IS NULL OR recovered_at <= sla_deadline_at)
            THEN 'not_needed'
        WHEN first_attempt_business_seconds <= callback_sla_seconds THEN 'met'
        -- No attempt yet, and the deadline lies after the last call the data holds.
        WHEN
            first_attempt_at IS NULL
            AND (sla_deadline_at IS NULL OR sla_deadline_at > data_end_at)
            THEN 'pending'
        ELSE 'missed'
    END AS sla_status,
    outcome
FROM measured
