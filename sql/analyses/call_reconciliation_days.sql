SELECT
    business_id,
    report_date,
    calltracking_calls,
    telephony_calls,
    matched_calls,
    unmatched_calls,
    unmatched_ratio,
    status,
    COALESCE('built without ' || missing_sources, mismatch_reason) AS reason
FROM analytics.daily_reconciliation
WHERE report_date BETWEEN @start AND @end
ORDER BY business_id, report_date
