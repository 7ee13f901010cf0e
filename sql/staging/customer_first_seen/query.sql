-- New state of every number (per business) that calls inside the rebuilt dates: the earlier of
-- its first call in those dates and what the table already knows from dates outside them.
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

candidates AS (
    SELECT * FROM range_firsts
    UNION ALL
    SELECT * FROM known_outside_range
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
