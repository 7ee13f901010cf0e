{%- from "macros/matching.sql" import nearest_first -%}
-- Cross-system matching (docs/rules.md, \"Unified calls\"), inside each business: one-to-one,
-- nearest start first (sql/macros/matching.sql; match_rounds rounds on the contested residue).
-- Matching reads key columns only; the wide columns are joined once, at the end.
-- Each business's tolerance and reporting zone come from staging.business_settings.
-- The business's spam rule marks calls here, where whole days of a number are seen.
WITH
settings AS (
    SELECT
        business_id,
        time_zone,
        match_tolerance_seconds,
        talk_threshold_seconds,
        spam_calls_per_day,
        COALESCE(spam_vendor_flag, TRUE) AS spam_vendor_flag
    FROM staging.business_settings
),

deleted AS (
    -- Calls the provider no longer lists (soft deletes): kept in staging, left out here.
    SELECT
        business_id,
        call_key
    FROM staging.deleted_calls
    WHERE
        is_deleted
        AND call_date BETWEEN @pad_start_date AND @pad_end_date
),

calls AS (
    -- One day of padding each side so pairs that straddle the range edge are seen whole.
    SELECT
        staged.* EXCEPT (started_at),
        TIMESTAMP_TRUNC(staged.started_at, SECOND) AS started_at
    FROM staging.calls AS staged
    LEFT JOIN deleted
        ON staged.business_id = deleted.business_id AND staged.call_key = deleted.call_key
    WHERE
        staged.call_date BETWEEN @pad_start_date AND @pad_end_date
        AND (@all_businesses OR staged.business_id IN UNNEST(@business_ids))
        AND deleted.call_key IS NULL
),

ct AS (
    SELECT * FROM calls
    WHERE system = 'calltracking'
),

tel AS (
    SELECT * FROM calls
    WHERE system = 'telephony'
),

all_pairs AS (
    SELECT
        ct.business_id,
        ct.call_key AS ct_call_key,
        tel.call_key AS tel_call_key,
        ABS(TIMESTAMP_DIFF(ct.started_at, tel.started_at, SECOND)) AS start_gap_seconds
    FROM ct
    INNER JOIN tel
        ON
            ct.business_id = tel.business_id
            AND ct.customer_number = tel.customer_number
            AND ct.direction = tel.direction
    INNER JOIN settings ON ct.business_id = settings.business_id
    WHERE
        ABS(TIMESTAMP_DIFF(ct.started_at, tel.started_at, SECOND))
        <= settings.match_tolerance_seconds
),

{{ nearest_first("all_pairs", "ct_call_key", "tel_call_key", "start_gap_seconds", match_rounds) }},

unified AS (
    SELECT
        ct.business_id,
        ct.call_key AS unified_call_key,
        ct.call_key AS ct_call_key,
        matched.tel_call_key,
        IF(matched.tel_call_key IS NULL, 'calltracking_only', 'matched') AS match_status,
        ct.customer_number,
        ct.direction,
        ct.started_at,
        ct.status,
        ct.talk_seconds,
        -- Ringing before answer: the PBX's when it has one (it rang the phones).
        COALESCE(tel.wait_seconds, ct.wait_seconds) AS wait_seconds,
        ct.company_number AS ct_company_number,
        tel.company_number AS tel_company_number,
        matched.start_gap_seconds,
        ct.traffic_source,
        ct.traffic_medium,
        ct.campaign,
        ct.keyword,
        ct.landing_page,
        ct.gclid,
        ct.ga_client_id,
        -- Who picked up: the PBX's record knows best; call tracking's when telephony has none.
        IF(COALESCE(tel.employee_id, tel.employee_name) IS NULL, ct.employee_id, tel.employee_id)
            AS employee_id,
        IF(
            COALESCE(tel.employee_id, tel.employee_name) IS NULL,
            ct.employee_name,
            tel.employee_name
        ) AS employee_name,
        -- Either system's spam flag; NULL when neither provider has one.
        (ct.vendor_spam OR tel.vendor_spam) AS vendor_spam
    FROM ct
    LEFT JOIN matched
        ON ct.business_id = matched.business_id AND ct.call_key = matched.ct_call_key
    LEFT JOIN tel
        ON matched.business_id = tel.business_id AND matched.tel_call_key = tel.call_key
    UNION ALL
    SELECT
        tel.business_id,
        tel.call_key AS unified_call_key,
        CAST(NULL AS STRING) AS ct_call_key,
        tel.call_key AS tel_call_key,
        'telephony_only' AS match_status,
        tel.customer_number,
        tel.direction,
        tel.started_at,
        tel.status,
        tel.talk_seconds,
        tel.wait_seconds,
        CAST(NULL AS STRING) AS ct_company_number,
        tel.company_number AS tel_company_number,
        CAST(NULL AS INT64) AS start_gap_seconds,
        tel.traffic_source,
        tel.traffic_medium,
        tel.campaign,
        tel.keyword,
        tel.landing_page,
        tel.gclid,
        tel.ga_client_id,
        tel.employee_id,
        tel.employee_name,
        tel.vendor_spam
    FROM tel
    LEFT JOIN matched
        ON tel.business_id = matched.business_id AND tel.call_key = matched.tel_call_key
    WHERE matched.tel_call_key IS NULL
),

dated AS (
    SELECT
        unified.* EXCEPT (employee_id, employee_name, vendor_spam),
        DATE(unified.started_at, settings.time_zone) AS call_date,
        unified.employee_id,
        unified.employee_name,
        unified.vendor_spam
    FROM unified
    INNER JOIN settings ON unified.business_id = settings.business_id
),

number_days AS (
    -- What the spam rule needs of a number's day: its inbound calls and its conversations.
    SELECT
        day_calls.*,
        SUM(IF(day_calls.direction = 'inbound', 1, 0)) OVER (
            PARTITION BY day_calls.business_id, day_calls.customer_number, day_calls.call_date
        ) AS number_inbound_calls,
        SUM(
            IF(
                day_calls.status = 'answered'
                AND day_calls.talk_seconds > settings.talk_threshold_seconds,
                1,
                0
            )
        ) OVER (
            PARTITION BY day_calls.business_id, day_calls.customer_number, day_calls.call_date
        ) AS number_conversations,
        settings.spam_calls_per_day,
        settings.spam_vendor_flag
    FROM dated AS day_calls
    INNER JOIN settings ON day_calls.business_id = settings.business_id
)

SELECT
    number_days.* EXCEPT (
        number_inbound_calls, number_conversations, spam_calls_per_day, spam_vendor_flag
    ),
    CASE
        WHEN number_days.spam_vendor_flag AND COALESCE(number_days.vendor_spam, FALSE)
            THEN 'vendor_flag'
        WHEN
            number_days.customer_number IS NOT NULL
            AND number_days.number_inbound_calls > number_days.spam_calls_per_day
            AND number_days.number_conversations = 0
            THEN 'repeated_calls'
    END AS spam_reason
FROM number_days
WHERE number_days.call_date BETWEEN @start_date AND @end_date
