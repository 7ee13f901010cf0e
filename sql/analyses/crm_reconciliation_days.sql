SELECT
    business_id,
    report_date,
    ringback_leads,
    crm_leads,
    matched,
    crm_only_manual,
    crm_only_other,
    lead_not_in_crm,
    lead_awaiting_crm,
    deals_won,
    status,
    mismatch_reason
FROM analytics.crm_reconciliation
WHERE report_date BETWEEN @start AND @end
ORDER BY business_id, report_date
