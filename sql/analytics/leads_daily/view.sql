-- Grouped on the credited call's date and source: the day and channel the ad money was spent on.
-- Revenue comes from the CRM deals matched to the leads (marts.crm_leads), summed only when the
-- group's won deals share one currency.
SELECT
    leads.business_id,
    leads.attributed_date,
    leads.traffic_source,
    leads.traffic_medium,
    leads.campaign,
    COUNT(*) AS leads,
    COUNTIF(leads.attribution_type = 'primary_call') AS primary_leads,
    COUNTIF(leads.attribution_type = 'missed_call_retry') AS retry_leads,
    COUNTIF(leads.attribution_type = 'missed_call_callback') AS callback_leads,
    COUNTIF(leads.attribution_type != 'primary_call') AS recovered_leads,
    COUNTIF(leads.attribution_type != 'primary_call') / COUNT(*) AS recovered_share,
    COUNTIF(crm.lead_id IS NOT NULL) AS leads_in_crm,
    COUNTIF(COALESCE(crm.deal_won, FALSE)) AS deals_won,
    IF(
        COUNT(DISTINCT IF(crm.deal_won, crm.deal_currency, NULL)) > 1,
        NULL,
        SUM(IF(crm.deal_won, crm.deal_amount, NULL))
    ) AS won_amount,
    CASE
        WHEN COUNT(DISTINCT IF(crm.deal_won, crm.deal_currency, NULL)) > 1 THEN 'mixed'
        ELSE MIN(IF(crm.deal_won, crm.deal_currency, NULL))
    END AS won_currency
FROM marts.attributed_leads AS leads
LEFT JOIN marts.crm_leads AS crm
    ON leads.business_id = crm.business_id AND leads.lead_id = crm.lead_id
GROUP BY
    leads.business_id,
    leads.attributed_date,
    leads.traffic_source,
    leads.traffic_medium,
    leads.campaign
