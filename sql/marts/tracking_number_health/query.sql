{% from "macros/reconciliation.sql" import tracked_numbers %}
-- Health of each tracking number per business and date (docs/rules.md "Tracking numbers and
-- pools"): the call-tracking calls it took and how many came with no session (no source,
-- landing page or client id: a pool number printed or saved as a static one, or a pool too
-- small to give each visitor a number), the calls only one system saw, and for a number in a
-- pool (staging.number_pools) the pool's day: how many of its numbers rang, the most of them
-- ringing in one local hour, and calls to a number another customer had called within the
-- reservation time (both were shown it at once). Spam (the business's rule) is no visitor.
WITH
settings AS (
    SELECT
        business_id,
        time_zone,
        pool_reservation_seconds
    FROM staging.business_settings
),

tracked AS (
    {{ tracked_numbers() | indent(4) }}
),

inbound AS (
    -- A day earlier too: a call just after midnight may share a number with one before it.
    SELECT
        unified.business_id,
        unified.call_date,
        unified.started_at,
        unified.customer_number,
        IF(unified.ct_call_key IS NULL, unified.tel_company_number, unified.ct_company_number)
            AS company_number,
        unified.ct_call_key IS NOT NULL AS is_calltracking,
        unified.ct_call_key IS NOT NULL
        AND unified.traffic_source IS NULL
        AND unified.landing_page IS NULL
        AND unified.ga_client_id IS NULL AS is_sessionless
    FROM staging.unified_calls AS unified
    WHERE
        unified.call_date BETWEEN DATE_SUB(@start_date, INTERVAL 1 DAY) AND @end_date
        AND (@all_businesses OR unified.business_id IN UNNEST(@business_ids))
        AND unified.direction = 'inbound'
        AND unified.spam_reason IS NULL
),

pool_calls AS (
    SELECT
        inbound.*,
        pools.pool_name,
        pools.pool_size,
        settings.time_zone,
        LAG(inbound.customer_number) OVER (
            PARTITION BY inbound.business_id, inbound.company_number
            ORDER BY inbound.started_at ASC
        ) AS previous_customer,
        TIMESTAMP_DIFF(
            inbound.started_at,
            LAG(inbound.started_at) OVER (
                PARTITION BY inbound.business_id, inbound.company_number
                ORDER BY inbound.started_at ASC
            ),
            SECOND
        ) AS seconds_since_previous,
        settings.pool_reservation_seconds
    FROM inbound
    INNER JOIN staging.number_pools AS pools
        ON
            inbound.business_id = pools.business_id
            AND inbound.company_number = pools.company_number
    INNER JOIN settings ON inbound.business_id = settings.business_id
    WHERE inbound.is_calltracking
),

pool_days AS (
    SELECT
        business_id,
        call_date,
        pool_name,
        COUNT(DISTINCT company_number) AS pool_numbers_called
    FROM pool_calls
    GROUP BY business_id, call_date, pool_name
),

pool_hour_numbers AS (
    SELECT
        business_id,
        call_date,
        pool_name,
        CAST(FORMAT_TIMESTAMP('%H', started_at, time_zone) AS INT64) AS local_hour,
        COUNT(DISTINCT company_number) AS numbers_in_hour
    FROM pool_calls
    GROUP BY business_id, call_date, pool_name, local_hour
),

pool_figures AS (
    SELECT
        pool_days.business_id,
        pool_days.call_date,
        pool_days.pool_name,
        MAX(pool_days.pool_numbers_called) AS pool_numbers_called,
        MAX(hours.numbers_in_hour) AS pool_peak_numbers_per_hour
    FROM pool_days
    INNER JOIN pool_hour_numbers AS hours
        ON
            pool_days.business_id = hours.business_id
            AND pool_days.call_date = hours.call_date
            AND pool_days.pool_name = hours.pool_name
    GROUP BY pool_days.business_id, pool_days.call_date, pool_days.pool_name
),

shared AS (
    SELECT
        business_id,
        call_date,
        company_number,
        COUNTIF(
            seconds_since_previous < pool_reservation_seconds
            AND customer_number != previous_customer
        ) AS shared_calls
    FROM pool_calls
    GROUP BY business_id, call_date, company_number
),

number_days AS (
    SELECT
        inbound.business_id,
        inbound.call_date,
        inbound.company_number,
        COUNTIF(inbound.is_calltracking) AS calltracking_calls,
        COUNTIF(inbound.is_sessionless) AS sessionless_calls
    FROM inbound
    LEFT JOIN tracked
        ON
            inbound.business_id = tracked.business_id
            AND inbound.company_number = tracked.company_number
    WHERE
        inbound.call_date BETWEEN @start_date AND @end_date
        AND inbound.company_number IS NOT NULL
        -- Telephony-only calls count on tracked lines only; the static line is no tracking.
        AND (inbound.is_calltracking OR tracked.company_number IS NOT NULL)
    GROUP BY inbound.business_id, inbound.call_date, inbound.company_number
),

one_system AS (
    -- One definition of a call seen by one system: marts.unmatched_calls.
    SELECT
        business_id,
        report_date,
        company_number,
        COUNTIF(reason = 'missing_in_calltracking') AS telephony_only_calls,
        COUNTIF(reason = 'missing_in_telephony') AS calltracking_only_calls
    FROM marts.unmatched_calls
    WHERE
        report_date BETWEEN @start_date AND @end_date
        AND (@all_businesses OR business_id IN UNNEST(@business_ids))
        AND reason IN ('missing_in_calltracking', 'missing_in_telephony')
    GROUP BY business_id, report_date, company_number
)

SELECT
    number_days.business_id,
    number_days.call_date AS report_date,
    number_days.company_number,
    pools.pool_name,
    pools.pool_size,
    number_days.calltracking_calls,
    number_days.sessionless_calls,
    COALESCE(one_system.telephony_only_calls, 0) AS telephony_only_calls,
    COALESCE(one_system.calltracking_only_calls, 0) AS calltracking_only_calls,
    IF(pools.pool_name IS NULL, NULL, COALESCE(shared.shared_calls, 0)) AS shared_calls,
    pool_figures.pool_numbers_called,
    pool_figures.pool_peak_numbers_per_hour
FROM number_days
LEFT JOIN staging.number_pools AS pools
    ON
        number_days.business_id = pools.business_id
        AND number_days.company_number = pools.company_number
LEFT JOIN one_system
    ON
        number_days.business_id = one_system.business_id
        AND number_days.call_date = one_system.report_date
        AND number_days.company_number = one_system.company_number
LEFT JOIN shared
    ON
        number_days.business_id = shared.business_id
        AND number_days.call_date = shared.call_date
        AND number_days.company_number = shared.company_number
LEFT JOIN pool_figures
    ON
        pools.business_id = pool_figures.business_id
        AND number_days.call_date = pool_figures.call_date
        AND pools.pool_name = pool_figures.pool_name
