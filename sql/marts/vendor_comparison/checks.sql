-- Derived columns the suite marts_vendor_comparison checks: the named causes add up to each
-- difference, so no part of a gap goes unexplained.
SELECT
    audited.*,  -- noqa: AM04
    audited.first_call_difference IS NULL
    OR audited.first_call_difference = audited.first_calls_uniqueness_window
    + audited.first_calls_seen_only_by_telephony
    + audited.first_calls_vendor_spam_filter
    + audited.first_calls_hidden_number AS first_call_causes_add_up,
    audited.lead_difference IS NULL
    OR audited.lead_difference = audited.leads_missed_call_recovered
    + audited.leads_threshold_difference
    + audited.leads_uniqueness_window
    + audited.leads_seen_only_by_telephony
    + audited.leads_vendor_spam_filter
    + audited.leads_spam_rule
    + audited.leads_hidden_number
    + audited.leads_other AS lead_causes_add_up
FROM audited
