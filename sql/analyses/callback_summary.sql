WITH days AS (
    SELECT
        business_id,
        SUM(missed_calls) AS missed,
        SUM(attempted) AS attempted,
        SUM(never_attempted) AS never,
        SUM(sla_met) AS met,
        SUM(sla_missed) AS late,
        SUM(sla_not_needed) AS not_needed,
        SUM(sla_pending) AS pending,
        SUM(abandoned_short) AS abandoned_short
    FROM analytics.callback_sla_daily
    WHERE missed_date BETWEEN @start AND @end
    GROUP BY business_id
),

lags AS (
    SELECT
        business_id,
        APPROX_QUANTILES(first_attempt_business_minutes, 2)[OFFSET(1)] AS median_minutes
    FROM analytics.callback_followups
    WHERE missed_date BETWEEN @start AND @end AND sla_status != 'abandoned_short'
    GROUP BY business_id
)

SELECT
    days.business_id,
    days.missed,
    days.attempted,
    days.never,
    days.met,
    days.late,
    days.not_needed,
    days.pending,
    ROUND(lags.median_minutes, 1) AS median_minutes,
    days.abandoned_short
FROM days LEFT JOIN lags ON days.business_id = lags.business_id
ORDER BY days.business_id
