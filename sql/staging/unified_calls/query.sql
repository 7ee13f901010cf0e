-- Cross-system matching (design.md §4 "Unified calls").
-- Matching is one-to-one, nearest start first. Global greedy matching equals iterated
-- "locally dominant pair" matching when ties break in one total order (gap, ct key, tel key):
-- each round accepts every candidate pair that is the best pair of both of its calls, then
-- drops the calls it matched. match_rounds (a setting) bounds the rounds; one round settles
-- nearly every day, the later ones only bursts of calls from one number within the tolerance.
WITH
calls AS (
    -- One day of padding each side so pairs that straddle the range edge are seen whole.
    SELECT
        * EXCEPT (started_at),
        TIMESTAMP_TRUNC(started_at, SECOND) AS started_at
    FROM staging.calls
    WHERE call_date BETWEEN @pad_start_date AND @pad_end_date
),

ct AS (
    SELECT * FROM calls
    WHERE system = 'calltracking'
),

tel AS (
    SELECT * FROM calls
    WHERE system = 'telephony'
),

candidate_pairs AS (
    SELECT
        ct.call_key AS ct_call_key,
        tel.call_key AS tel_call_key,
        ABS(TIMESTAMP_DIFF(ct.started_at, tel.started_at, SECOND)) AS start_gap_seconds
    FROM ct
    INNER JOIN tel
        ON
            ct.customer_number = tel.customer_number
            AND ct.direction = tel.direction
            AND ABS(TIMESTAMP_DIFF(ct.started_at, tel.started_at, SECOND))
            <= @match_tolerance_seconds
),
{% for round in range(match_rounds) %}

    round_{{ round }}_ranked AS (
        SELECT
            ct_call_key,
            tel_call_key,
            start_gap_seconds,
            ROW_NUMBER() OVER (
                PARTITION BY ct_call_key ORDER BY start_gap_seconds ASC, tel_call_key ASC
            ) AS ct_rank,
            ROW_NUMBER() OVER (
                PARTITION BY tel_call_key ORDER BY start_gap_seconds ASC, ct_call_key ASC
            ) AS tel_rank
        FROM candidate_pairs
        {%- if round > 0 %}
            WHERE
                ct_call_key NOT IN (
                    SELECT done.ct_call_key FROM matched_before_{{ round }} AS done
                )
                AND tel_call_key NOT IN (
                    SELECT done.tel_call_key FROM matched_before_{{ round }} AS done
                )
        {%- endif %}
    ),

    matched_before_{{ round + 1 }} AS (
        {%- if round > 0 %}
            SELECT
                ct_call_key,
                tel_call_key,
                start_gap_seconds
            FROM matched_before_{{ round }}
            UNION ALL
        {%- endif %}
        SELECT
            ct_call_key,
            tel_call_key,
            start_gap_seconds
        FROM round_{{ round }}_ranked
        WHERE ct_rank = 1 AND tel_rank = 1
    ),
{% endfor %}

matched AS (
    SELECT * FROM matched_before_{{ match_rounds }}
),

unified AS (
    SELECT
        ct.call_key AS unified_call_key,
        ct.call_key AS ct_call_key,
        matched.tel_call_key,
        IF(matched.tel_call_key IS NULL, 'calltracking_only', 'matched') AS match_status,
        ct.customer_number,
        ct.direction,
        ct.started_at,
        ct.status,
        ct.talk_seconds,
        ct.company_number AS ct_company_number,
        tel.company_number AS tel_company_number,
        matched.start_gap_seconds,
        ct.traffic_source,
        ct.traffic_medium,
        ct.campaign,
        ct.keyword,
        ct.landing_page,
        ct.gclid,
        ct.ga_client_id
    FROM ct
    LEFT JOIN matched ON ct.call_key = matched.ct_call_key
    LEFT JOIN tel ON matched.tel_call_key = tel.call_key
    UNION ALL
    SELECT
        tel.call_key AS unified_call_key,
        CAST(NULL AS STRING) AS ct_call_key,
        tel.call_key AS tel_call_key,
        'telephony_only' AS match_status,
        tel.customer_number,
        tel.direction,
        tel.started_at,
        tel.status,
        tel.talk_seconds,
        CAST(NULL AS STRING) AS ct_company_number,
        tel.company_number AS tel_company_number,
        CAST(NULL AS INT64) AS start_gap_seconds,
        tel.traffic_source,
        tel.traffic_medium,
        tel.campaign,
        tel.keyword,
        tel.landing_page,
        tel.gclid,
        tel.ga_client_id
    FROM tel
    LEFT JOIN matched ON tel.call_key = matched.tel_call_key
    WHERE matched.tel_call_key IS NULL
)

SELECT
    *,
    DATE(started_at, @reporting_time_zone) AS call_date
FROM unified
WHERE DATE(started_at, @reporting_time_zone) BETWEEN @start_date AND @end_date
