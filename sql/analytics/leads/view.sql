-- One row per lead, the recovered flag spelled out; the source is the credited call's. The CRM
-- lead it matched (marts.crm_leads) brings the deal: NULLs when no CRM lead matched.
SELECT
    leads.business_id,
    leads.lead_id,
    leads.attribution_type,
    leads.attribution_type IN ('missed_call_retry', 'missed_call_callback') AS is_recovered,
    leads.lead_at,
    leads.lead_date,
    leads.attributed_at,
    leads.attributed_date,
    leads.traffic_source,
    leads.traffic_medium,
    leads.campaign,
    leads.keyword,
    leads.talk_seconds,
    leads.recovery_seconds / 60.0 AS recovery_minutes,
    leads.customer_hash,
    leads.lead_call_key,
    leads.attributed_call_key,
    crm.crm_lead_key,
    crm.created_via AS crm_created_via,
    crm.crm_delay_seconds / 60.0 AS crm_delay_minutes,
    crm.deal_amount,
    crm.deal_currency,
    crm.deal_stage,
    crm.deal_won
FROM marts.attributed_leads AS leads
LEFT JOIN marts.crm_leads AS crm
    ON leads.business_id = crm.business_id AND leads.lead_id = crm.lead_id
