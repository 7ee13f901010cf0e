SELECT
    business_id,
    crm_lead_key,
    source_id,
    crm_created_at,
    crm_created_date,
    created_via,
    crm_source,
    crm_campaign,
    has_phone,
    customer_hash,
    lead_id,
    lead_id IS NOT NULL AS is_matched,
    CASE
        WHEN lead_id IS NOT NULL THEN 'matched'
        WHEN NOT has_phone THEN 'without_phone'
        WHEN created_via = 'manual' THEN 'crm_only_manual'
        ELSE 'crm_only_other'
    END AS match_status,
    lead_at,
    lead_date,
    crm_delay_seconds / 60.0 AS crm_delay_minutes,
    deal_id,
    deal_amount,
    deal_currency,
    deal_stage,
    deal_won,
    deal_won_at
FROM marts.crm_leads
