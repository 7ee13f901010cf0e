-- Derived columns the suite marts_crm_leads checks: a ringback lead is matched at most once,
-- every match is inside its business's window, and a deal is won exactly when it has a date.
SELECT
    audited.*,  -- noqa: AM04
    audited.lead_id IS NULL
    OR COUNT(*) OVER (PARTITION BY audited.business_id, audited.lead_id) = 1
        AS lead_matched_once,
    audited.lead_id IS NULL
    OR audited.crm_delay_seconds BETWEEN -settings.crm_match_after_seconds
    AND settings.crm_match_before_seconds AS delay_in_window,
    audited.deal_won = (audited.deal_won_at IS NOT NULL) AS won_iff_won_at
FROM audited
LEFT JOIN settings ON audited.business_id = settings.business_id
