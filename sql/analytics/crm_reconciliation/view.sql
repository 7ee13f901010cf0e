SELECT
    business_id,
    report_date,
    CASE
        WHEN is_mismatch THEN 'mismatch'
        WHEN lead_awaiting_crm > 0 THEN 'awaiting'
        ELSE 'ok'
    END AS status,
    mismatch_reason,
    ringback_leads,
    crm_leads,
    matched,
    crm_leads_matched,
    crm_only_manual,
    crm_only_other,
    lead_not_in_crm,
    lead_awaiting_crm,
    crm_leads_without_phone,
    unmatched_leads,
    unmatched_ratio,
    deals_won
FROM marts.crm_reconciliation
