WITH
range_firsts AS (
    SELECT
        business_id,
        tel_company_number AS company_number,
        MIN(started_at) AS first_matched_at,
        MIN(call_date) AS first_matched_date
    FROM staging.unified_calls
    WHERE
        call_date BETWEEN @start_date AND @end_date
        AND (@all_businesses OR business_id IN UNNEST(@business_ids))
        AND match_status = 'matched'
        AND tel_company_number IS NOT NULL
    GROUP BY business_id, tel_company_number
),

known_outside_range AS (
    SELECT known.*
    FROM staging.tracked_numbers AS known
    INNER JOIN range_firsts
        ON
            known.business_id = range_firsts.business_id
            AND known.company_number = range_firsts.company_number
    WHERE known.first_matched_date NOT BETWEEN @start_date AND @end_date
),

candidates AS (
    SELECT * FROM range_firsts
    UNION ALL
    SELECT * FROM known_outside_range
)

SELECT
    business_id,
    company_number,
    MIN(first_matched_at) AS first_matched_at,
    MIN(first_matched_date) AS first_matched_date
FROM candidates
GROUP BY business_id, company_number
