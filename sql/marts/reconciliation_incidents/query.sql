-- One row per business, complete report date and cause of unmatched calls (docs/rules.md
-- "Incidents"): the cause's share of the day's inbound calls against the business's own
-- baseline, the median of that share over the complete dates in the trailing
-- incident_baseline_days (the day itself left out, so a median that the incident's first days
-- do not move). A day is an incident of a cause when the share is above the median by
-- incident_min_excess and by incident_spread_factor spreads, with incident_min_calls calls; the
-- spread is the larger of the baseline's scaled median absolute deviation and the day's own
-- binomial noise (a small day varies more). Once open, an incident holds while the share stays
-- incident_min_excess above the median (a quiet day's few calls do not close it) and closes on
-- the first complete date it does not; it started on the day it opened.
-- Besides the causes of unmatched calls, sessionless_call: matched or call-tracking calls that
-- came with no session (marts.tracking_number_health), a pool number shown as a static one.
-- Partitions reach incident_baseline_days past the range: a rebuilt date is in later baselines.
WITH
settings AS (
    SELECT
        business_id,
        incident_baseline_days,
        incident_min_baseline_days,
        incident_min_calls,
        incident_min_excess,
        incident_spread_factor
    FROM staging.business_settings
),

health_days AS (
    SELECT
        business_id,
        report_date,
        SUM(sessionless_calls) AS sessionless_calls
    FROM marts.tracking_number_health
    WHERE
        report_date BETWEEN @incident_history_start_date AND @end_date
        AND (@all_businesses OR business_id IN UNNEST(@business_ids))
    GROUP BY business_id, report_date
),

days AS (
    -- Dates a call source had not loaded yet are no evidence either way.
    SELECT
        reconciliation.business_id,
        reconciliation.report_date,
        reconciliation.matched_calls + reconciliation.unmatched_calls AS inbound_calls,
        reconciliation.only_in_telephony_untracked,
        reconciliation.only_in_telephony_tracked,
        reconciliation.only_in_telephony_spam,
        reconciliation.only_in_calltracking,
        COALESCE(health_days.sessionless_calls, 0) AS sessionless_calls
    FROM marts.call_reconciliation AS reconciliation
    LEFT JOIN health_days
        ON
            reconciliation.business_id = health_days.business_id
            AND reconciliation.report_date = health_days.report_date
    WHERE
        reconciliation.report_date BETWEEN @incident_history_start_date AND @end_date
        AND (@all_businesses OR reconciliation.business_id IN UNNEST(@business_ids))
        AND reconciliation.missing_sources IS NULL
),

shares AS (
    SELECT
        business_id,
        report_date,
        inbound_calls,
        'untracked_number' AS cause,
        only_in_telephony_untracked AS cause_calls
    FROM days
    UNION ALL
    SELECT
        business_id,
        report_date,
        inbound_calls,
        'missing_in_calltracking' AS cause,
        only_in_telephony_tracked AS cause_calls
    FROM days
    UNION ALL
    SELECT
        business_id,
        report_date,
        inbound_calls,
        'spam_filtered' AS cause,
        COALESCE(only_in_telephony_spam, 0) AS cause_calls
    FROM days
    UNION ALL
    SELECT
        business_id,
        report_date,
        inbound_calls,
        'missing_in_telephony' AS cause,
        only_in_calltracking AS cause_calls
    FROM days
    UNION ALL
    SELECT
        business_id,
        report_date,
        inbound_calls,
        'sessionless_call' AS cause,
        sessionless_calls AS cause_calls
    FROM days
),

history AS (
    -- Each judged day with the shares of its baseline days.
    SELECT
        judged.business_id,
        judged.report_date,
        judged.cause,
        earlier.cause_calls / earlier.inbound_calls AS earlier_share,
        PERCENTILE_CONT(earlier.cause_calls / earlier.inbound_calls, 0.5) OVER (
            PARTITION BY judged.business_id, judged.report_date, judged.cause
        ) AS baseline_median
    FROM shares AS judged
    INNER JOIN settings ON judged.business_id = settings.business_id
    INNER JOIN shares AS earlier
        ON
            judged.business_id = earlier.business_id
            AND judged.cause = earlier.cause
            AND judged.report_date > earlier.report_date
            AND earlier.report_date >= @incident_history_start_date
    WHERE
        judged.report_date >= @incident_judge_start_date
        AND DATE_DIFF(judged.report_date, earlier.report_date, DAY)
        <= settings.incident_baseline_days
),

deviations AS (
    SELECT
        business_id,
        report_date,
        cause,
        baseline_median,
        PERCENTILE_CONT(ABS(earlier_share - baseline_median), 0.5) OVER (
            PARTITION BY business_id, report_date, cause
        ) AS baseline_mad
    FROM history
),

baseline AS (
    SELECT
        business_id,
        report_date,
        cause,
        COUNT(*) AS baseline_days,
        MAX(baseline_median) AS baseline_median,
        -- 1.4826 x MAD estimates a standard deviation, unmoved by a few outlying days.
        1.4826 * MAX(baseline_mad) AS baseline_spread
    FROM deviations
    GROUP BY business_id, report_date, cause
),

judged AS (
    SELECT
        shares.business_id,
        shares.report_date,
        shares.cause,
        shares.cause_calls,
        shares.inbound_calls,
        shares.cause_calls / shares.inbound_calls AS cause_share,
        COALESCE(baseline.baseline_days, 0) AS baseline_days,
        baseline.baseline_median,
        -- The day's binomial noise around the median; a median of 0 counts as one call in the
        -- day, so that one stray call on a quiet cause is not an incident.
        GREATEST(
            baseline.baseline_spread,
            SQRT(
                GREATEST(baseline.baseline_median, 1 / shares.inbound_calls)
                * (1 - baseline.baseline_median)
                / shares.inbound_calls
            )
        ) AS spread,
        settings.incident_min_baseline_days,
        settings.incident_min_calls,
        settings.incident_min_excess,
        settings.incident_spread_factor
    FROM shares
    INNER JOIN settings ON shares.business_id = settings.business_id
    LEFT JOIN baseline
        ON
            shares.business_id = baseline.business_id
            AND shares.report_date = baseline.report_date
            AND shares.cause = baseline.cause
    WHERE shares.report_date >= @incident_judge_start_date
),

flagged AS (
    SELECT
        business_id,
        report_date,
        cause,
        cause_calls,
        inbound_calls,
        cause_share,
        baseline_days,
        baseline_median,
        spread,
        cause_share - baseline_median AS excess_share,
        COALESCE(
            baseline_days >= incident_min_baseline_days
            AND cause_share - baseline_median >= incident_min_excess,
            FALSE
        ) AS holds,
        COALESCE(
            baseline_days >= incident_min_baseline_days
            AND cause_calls >= incident_min_calls
            AND cause_share - baseline_median >= incident_min_excess
            AND cause_share - baseline_median >= incident_spread_factor * spread,
            FALSE
        ) AS opens
    FROM judged
),

runs AS (
    -- A run is consecutive judged dates on which the share holds above the median: each date
    -- belongs to the run begun after the last date it did not.
    SELECT
        *,
        SUM(IF(holds, 0, 1)) OVER (
            PARTITION BY business_id, cause
            ORDER BY report_date
            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS run_number
    FROM flagged
),

opened AS (
    -- The incident opens on the run's first date that meets every opening condition.
    SELECT
        *,
        MIN(IF(opens, report_date, NULL)) OVER (
            PARTITION BY business_id, cause, run_number
        ) AS opened_date
    FROM runs
),

incidents AS (
    SELECT
        *,
        COALESCE(holds AND report_date >= opened_date, FALSE) AS is_incident
    FROM opened
),

started AS (
    SELECT
        *,
        IF(is_incident, opened_date, NULL) AS incident_started_date,
        -- The day's incident is the flagged cause with the largest excess (ties by cause).
        is_incident
        AND ROW_NUMBER()
            OVER (
                PARTITION BY business_id, report_date
                ORDER BY IF(is_incident, 0, 1), excess_share DESC, cause ASC
            )
        = 1 AS is_main_cause
    FROM incidents
),

line_days AS (
    -- Calls of each cause per company number and date: the line an incident rides on.
    SELECT
        business_id,
        report_date,
        reason AS cause,
        COALESCE(company_number, '') AS company_number,
        COUNT(*) AS line_calls
    FROM marts.unmatched_calls
    WHERE
        report_date BETWEEN @incident_judge_start_date AND @end_date
        AND (@all_businesses OR business_id IN UNNEST(@business_ids))
    GROUP BY business_id, report_date, reason, COALESCE(company_number, '')
    UNION ALL
    SELECT
        business_id,
        report_date,
        'sessionless_call' AS cause,
        company_number,
        sessionless_calls AS line_calls
    FROM marts.tracking_number_health
    WHERE
        report_date BETWEEN @incident_judge_start_date AND @end_date
        AND (@all_businesses OR business_id IN UNNEST(@business_ids))
        AND sessionless_calls > 0
),

line_excess AS (
    -- Per incident date and line: its calls of the cause over its average day in the baseline.
    SELECT
        started.business_id,
        started.report_date,
        started.cause,
        today.company_number,
        today.line_calls,
        today.line_calls
        - COALESCE(SUM(earlier.line_calls), 0)
        / GREATEST(started.baseline_days, 1) AS line_excess_calls
    FROM started
    INNER JOIN settings ON started.business_id = settings.business_id
    INNER JOIN line_days AS today
        ON
            started.business_id = today.business_id
            AND started.report_date = today.report_date
            AND started.cause = today.cause
    LEFT JOIN line_days AS earlier
        ON
            today.business_id = earlier.business_id
            AND today.cause = earlier.cause
            AND today.company_number = earlier.company_number
            AND today.report_date > earlier.report_date
            AND DATE_DIFF(today.report_date, earlier.report_date, DAY)
            <= settings.incident_baseline_days
    WHERE started.is_incident AND started.report_date >= @start_date
    GROUP BY
        started.business_id,
        started.report_date,
        started.cause,
        started.baseline_days,
        today.company_number,
        today.line_calls
),

carrier AS (
    SELECT
        business_id,
        report_date,
        cause,
        company_number,
        line_calls
    FROM line_excess
    WHERE line_calls > 0
    QUALIFY
        ROW_NUMBER()
            OVER (
                PARTITION BY business_id, report_date, cause
                ORDER BY line_excess_calls DESC, company_number ASC
            )
        = 1
)

SELECT
    started.business_id,
    started.report_date,
    started.cause,
    started.cause_calls,
    started.inbound_calls,
    started.cause_share,
    started.baseline_days,
    started.baseline_median,
    started.spread,
    started.excess_share,
    started.is_incident,
    started.is_main_cause,
    started.incident_started_date,
    NULLIF(carrier.company_number, '') AS incident_line,
    carrier.line_calls AS incident_line_calls
FROM started
LEFT JOIN carrier
    ON
        started.business_id = carrier.business_id
        AND started.report_date = carrier.report_date
        AND started.cause = carrier.cause
WHERE started.report_date BETWEEN @start_date AND @end_date
