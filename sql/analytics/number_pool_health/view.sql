-- One row per pool and date. The pool-level columns of marts.tracking_number_health are the
-- same on each of the pool's rows, so MAX reads them once.
SELECT
    business_id,
    report_date,
    pool_name,
    MAX(pool_size) AS pool_size,
    MAX(pool_numbers_called) AS pool_numbers_called,
    MAX(pool_peak_numbers_per_hour) AS peak_numbers_per_hour,
    COALESCE(MAX(pool_peak_numbers_per_hour) >= MAX(pool_size), FALSE) AS is_pool_full,
    CAST(SUM(calltracking_calls) AS INT64) AS calltracking_calls,
    CAST(SUM(sessionless_calls) AS INT64) AS sessionless_calls,
    SAFE_DIVIDE(SUM(sessionless_calls), SUM(calltracking_calls)) AS sessionless_share,
    CAST(SUM(shared_calls) AS INT64) AS shared_calls,
    CAST(SUM(telephony_only_calls) AS INT64) AS telephony_only_calls
FROM marts.tracking_number_health
WHERE pool_name IS NOT NULL
GROUP BY business_id, report_date, pool_name
