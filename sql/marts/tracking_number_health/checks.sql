-- Derived columns the suite marts_tracking_number_health checks: sessionless calls are
-- call-tracking calls, and a pool rings on no more numbers in a day (or in its busiest hour)
-- than it has.
SELECT
    audited.*,  -- noqa: AM04
    audited.sessionless_calls <= audited.calltracking_calls AS sessionless_within_calls,
    COALESCE(
        audited.pool_peak_numbers_per_hour <= audited.pool_numbers_called
        AND audited.pool_numbers_called <= audited.pool_size,
        TRUE
    ) AS pool_counts_within_size
FROM audited
