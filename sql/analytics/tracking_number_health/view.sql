-- One row per tracking number and date (marts.tracking_number_health), with its shares.
SELECT
    business_id,
    report_date,
    company_number,
    pool_name,
    pool_size,
    calltracking_calls,
    sessionless_calls,
    SAFE_DIVIDE(sessionless_calls, calltracking_calls) AS sessionless_share,
    telephony_only_calls,
    calltracking_only_calls,
    shared_calls,
    pool_numbers_called,
    pool_peak_numbers_per_hour
FROM marts.tracking_number_health
