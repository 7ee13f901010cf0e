-- Derived columns the suite marts_call_reconciliation checks: each system's count splits into
-- matched and its unmatched categories, and a day has a reason exactly when it is flagged.
SELECT
    audited.*,  -- noqa: AM04
    audited.calltracking_calls = audited.matched_calls + audited.only_in_calltracking
    AND audited.telephony_calls = audited.matched_calls
    + audited.only_in_telephony_untracked
    + audited.only_in_telephony_tracked
    + audited.only_in_telephony_spam
    AND audited.unmatched_calls = audited.only_in_calltracking
    + audited.only_in_telephony_untracked
    + audited.only_in_telephony_tracked
    + audited.only_in_telephony_spam AS counts_add_up,
    audited.is_mismatch = (audited.mismatch_reason IS NOT NULL) AS reason_iff_mismatch
FROM audited
