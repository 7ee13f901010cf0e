SELECT
    business_id,
    provider,
    account_id,
    SUM(vendor_first_calls) AS vendor_first_calls,
    SUM(ringback_primary_calls) AS ringback_primary_calls,
    SUM(first_call_difference) AS first_call_difference,
    SUM(first_calls_uniqueness_window) AS first_calls_uniqueness_window,
    SUM(first_calls_seen_only_by_telephony) AS first_calls_seen_only_by_telephony,
    SUM(first_calls_vendor_spam_filter) AS first_calls_vendor_spam_filter,
    SUM(first_calls_hidden_number) AS first_calls_hidden_number,
    SUM(vendor_target_calls) AS vendor_target_calls,
    SUM(ringback_leads) AS ringback_leads,
    SUM(lead_difference) AS lead_difference,
    SUM(leads_missed_call_recovered) AS leads_missed_call_recovered,
    SUM(leads_threshold_difference) AS leads_threshold_difference,
    SUM(leads_uniqueness_window) AS leads_uniqueness_window,
    SUM(leads_seen_only_by_telephony) AS leads_seen_only_by_telephony,
    SUM(leads_vendor_spam_filter) AS leads_vendor_spam_filter,
    SUM(leads_spam_rule) AS leads_spam_rule,
    SUM(leads_hidden_number) AS leads_hidden_number,
    SUM(leads_other) AS leads_other,
    SUM(ringback_spam_calls) AS ringback_spam_calls
FROM analytics.vendor_comparison
WHERE report_date BETWEEN @start AND @end
GROUP BY business_id, provider, account_id
ORDER BY business_id, provider, account_id
