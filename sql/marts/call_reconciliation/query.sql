-- One row per business and report date (inbound calls), with the business's own thresholds
-- (staging.business_settings). Each call only one system saw is counted under the cause
-- marts.unmatched_calls gives it, the one place that cause is decided. A date one of the
-- business's call sources has not loaded yet (staging.source_coverage) names it in
-- missing_sources and is not flagged: its gap is the source's absence, and the date is rebuilt
-- when the source loads it.
WITH
counted AS (
    SELECT
        business_id,
        call_date AS report_date,
        COUNTIF(ct_call_key IS NOT NULL) AS calltracking_calls,
        COUNTIF(tel_call_key IS NOT NULL) AS telephony_calls,
        COUNTIF(match_status = 'matched') AS matched_calls
    FROM staging.unified_calls
    WHERE
        call_date BETWEEN @start_date AND @end_date
        AND (@all_businesses OR business_id IN UNNEST(@business_ids))
        AND direction = 'inbound'
    GROUP BY business_id, call_date
),

unmatched AS (
    SELECT
        business_id,
        report_date,
        COUNTIF(reason = 'missing_in_telephony') AS only_in_calltracking,
        COUNTIF(reason = 'untracked_number') AS only_in_telephony_untracked,
        COUNTIF(reason = 'missing_in_calltracking') AS only_in_telephony_tracked,
        -- Call tracking hid it, telephony saw it, and the business's spam rule calls it spam
        -- (CallRail drops calls marked spam from its log).
        COUNTIF(reason = 'spam_filtered') AS only_in_telephony_spam,
        COUNT(*) AS unmatched_calls
    FROM marts.unmatched_calls
    WHERE
        report_date BETWEEN @start_date AND @end_date
        AND (@all_businesses OR business_id IN UNNEST(@business_ids))
    GROUP BY business_id, report_date
),

awaited AS (
    -- A source is awaited from the first date it covers on.
    SELECT
        business_id,
        source_id,
        MIN(covered_from_date) AS first_covered_date
    FROM staging.source_coverage
    GROUP BY business_id, source_id
),

missing AS (
    SELECT
        counted.business_id,
        counted.report_date,
        STRING_AGG(awaited.source_id, ',' ORDER BY awaited.source_id) AS missing_sources
    FROM counted
    INNER JOIN awaited
        ON
            counted.business_id = awaited.business_id
            AND counted.report_date >= awaited.first_covered_date
    LEFT JOIN staging.source_coverage AS covered
        ON
            awaited.business_id = covered.business_id
            AND awaited.source_id = covered.source_id
            AND counted.report_date BETWEEN covered.covered_from_date AND covered.covered_until_date
    WHERE covered.source_id IS NULL
    GROUP BY counted.business_id, counted.report_date
),

measured AS (
    SELECT
        counted.*,
        COALESCE(unmatched.only_in_calltracking, 0) AS only_in_calltracking,
        COALESCE(unmatched.only_in_telephony_untracked, 0) AS only_in_telephony_untracked,
        COALESCE(unmatched.only_in_telephony_tracked, 0) AS only_in_telephony_tracked,
        COALESCE(unmatched.only_in_telephony_spam, 0) AS only_in_telephony_spam,
        COALESCE(unmatched.unmatched_calls, 0) AS unmatched_calls,
        missing.missing_sources
    FROM counted
    LEFT JOIN unmatched
        ON
            counted.business_id = unmatched.business_id
            AND counted.report_date = unmatched.report_date
    LEFT JOIN missing
        ON
            counted.business_id = missing.business_id
            AND counted.report_date = missing.report_date
),

flagged AS (
    -- The share of the day's inbound calls that only one system saw: in [0, 1], and 1.0 on a
    -- day the systems share no call (matched + unmatched >= 1 on any day with a row).
    SELECT
        measured.*,
        measured.unmatched_calls / (measured.matched_calls + measured.unmatched_calls)
            AS unmatched_ratio,
        settings.mismatch_min_unmatched,
        settings.mismatch_min_ratio
    FROM measured
    INNER JOIN staging.business_settings AS settings
        ON measured.business_id = settings.business_id
)

SELECT
    business_id,
    report_date,
    calltracking_calls,
    telephony_calls,
    matched_calls,
    only_in_calltracking,
    only_in_telephony_untracked,
    only_in_telephony_tracked,
    only_in_telephony_spam,
    unmatched_calls,
    unmatched_ratio,
    missing_sources IS NULL
    AND unmatched_calls >= mismatch_min_unmatched
    AND unmatched_ratio >= mismatch_min_ratio AS is_mismatch,
    CASE
        WHEN
            missing_sources IS NOT NULL
            OR unmatched_calls < mismatch_min_unmatched
            OR unmatched_ratio < mismatch_min_ratio
            THEN NULL
        WHEN
            only_in_telephony_untracked >= only_in_telephony_tracked
            AND only_in_telephony_untracked >= only_in_telephony_spam
            AND only_in_telephony_untracked >= only_in_calltracking
            THEN 'untracked_number'
        WHEN
            only_in_telephony_tracked >= only_in_telephony_spam
            AND only_in_telephony_tracked >= only_in_calltracking
            THEN 'missing_in_calltracking'
        WHEN only_in_telephony_spam >= only_in_calltracking THEN 'spam_filtered'
        ELSE 'missing_in_telephony'
    END AS mismatch_reason,
    missing_sources
FROM flagged
