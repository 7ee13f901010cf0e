-- Derived columns the suite marts_crm_reconciliation checks: each side splits into its
-- categories, and a date has a reason exactly when it is flagged.
SELECT
    audited.*,  -- noqa: AM04
    audited.ringback_leads = audited.matched
    + audited.lead_not_in_crm
    + audited.lead_awaiting_crm
    AND audited.crm_leads = audited.crm_leads_matched
    + audited.crm_only_manual
    + audited.crm_only_other
    AND audited.unmatched_leads = audited.crm_only_manual
    + audited.crm_only_other
    + audited.lead_not_in_crm AS counts_add_up,
    audited.is_mismatch = (audited.mismatch_reason IS NOT NULL) AS reason_iff_mismatch
FROM audited
