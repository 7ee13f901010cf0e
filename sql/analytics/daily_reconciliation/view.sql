SELECT
    business_id,
    report_date,
    CASE
        WHEN missing_sources IS NOT NULL THEN 'incomplete'
        WHEN is_mismatch THEN 'mismatch'
        ELSE 'ok'
    END AS status,
    mismatch_reason,
    missing_sources,
    calltracking_calls,
    telephony_calls,
    matched_calls,
    only_in_calltracking,
    only_in_telephony_untracked,
    only_in_telephony_tracked,
    COALESCE(only_in_telephony_spam, 0) AS only_in_telephony_spam,
    unmatched_calls,
    unmatched_ratio
FROM marts.call_reconciliation
