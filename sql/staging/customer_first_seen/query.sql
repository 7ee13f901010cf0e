-- New state of every number (per business) that calls inside the rebuilt dates: the earlier of
-- its first call in those dates and what the table already knows from dates outside them. The
-- write also removes every row whose first call lay in the rebuilt dates (replaces_dates), so a
-- number whose first call is gone from them gets its next call after them, or no row.
WITH
range_firsts AS (
    SELECT
        business_id,
        customer_number,
        unified_call_key AS first_inbound_call_key,
        started_at AS first_inbound_at,
        call_date AS first_inbound_date
    FROM staging.unified_calls
    WHERE
        call_date BETWEEN @start_date AND @end_date
        AND (@all_businesses OR business_id IN UNNEST(@business_ids))
        AND direction = 'inbound'
        AND customer_number IS NOT NULL
    QUALIFY
        ROW_NUMBER() OVER (
            PARTITION BY business_id, customer_number
            ORDER BY started_at ASC, unified_call_key ASC
        ) = 1
),

known_outside_range AS (
    SELECT seen.*
    FROM staging.customer_first_seen AS seen
    INNER JOIN range_firsts
        ON
            seen.business_id = range_firsts.business_id
            AND seen.customer_number = range_firsts.customer_number
    WHERE seen.first_inbound_date NOT BETWEEN @start_date AND @end_date
),

-- Numbers whose known first call lay in the rebuilt dates and no longer does (deleted, moved).
gone AS (
    SELECT
        seen.business_id,
        seen.customer_number
    FROM staging.customer_first_seen AS seen
    LEFT JOIN range_firsts
        ON
            seen.business_id = range_firsts.business_id
            AND seen.customer_number = range_firsts.customer_number
    WHERE
        seen.first_inbound_date BETWEEN @start_date AND @end_date
        AND (@all_businesses OR seen.business_id IN UNNEST(@business_ids))
        AND range_firsts.customer_number IS NULL
),

-- Their next call after the rebuilt dates, if they ever called again.
gone_next AS (
    SELECT
        unified.business_id,
        unified.customer_number,
        unified.unified_call_key AS first_inbound_call_key,
        unified.started_at AS first_inbound_at,
        unified.call_date AS first_inbound_date
    FROM staging.unified_calls AS unified
    INNER JOIN gone
        ON
            unified.business_id = gone.business_id
            AND unified.customer_number = gone.customer_number
    WHERE
        unified.call_date > @end_date
        AND unified.direction = 'inbound'
),

candidates AS (
    SELECT * FROM range_firsts
    UNION ALL
    SELECT * FROM known_outside_range
    UNION ALL
    SELECT * FROM gone_next
)

SELECT
    business_id,
    customer_number,
    first_inbound_call_key,
    first_inbound_at,
    first_inbound_date
FROM candidates
-- GoogleSQL accepts QUALIFY only beside a WHERE, GROUP BY or HAVING clause.
WHERE TRUE
QUALIFY
    ROW_NUMBER() OVER (
        PARTITION BY business_id, customer_number
        ORDER BY first_inbound_at ASC, first_inbound_call_key ASC
    ) = 1
