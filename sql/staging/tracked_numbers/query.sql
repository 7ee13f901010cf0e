WITH
range_firsts AS (
    SELECT
        tel_company_number AS company_number,
        MIN(started_at) AS first_matched_at,
        MIN(call_date) AS first_matched_date
    FROM staging.unified_calls
    WHERE
        call_date BETWEEN @start_date AND @end_date
        AND match_status = 'matched'
        AND tel_company_number IS NOT NULL
    GROUP BY tel_company_number
),

known_outside_range AS (
    SELECT known.*
    FROM staging.tracked_numbers AS known
    INNER JOIN range_firsts ON known.company_number = range_firsts.company_number
    WHERE known.first_matched_date NOT BETWEEN @start_date AND @end_date
),

candidates AS (
    SELECT * FROM range_firsts
    UNION ALL
    SELECT * FROM known_outside_range
)

SELECT
    company_number,
    MIN(first_matched_at) AS first_matched_at,
    MIN(first_matched_date) AS first_matched_date
FROM candidates
GROUP BY company_number
