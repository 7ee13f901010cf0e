-- Grouped on the credited call's date and source: the day and channel the ad money was spent on.
-- Revenue comes from the CRM deals matched to the leads (marts.crm_leads), summed only when the
-- group's won deals share one currency.
SELECT
    attributed.business_id,
    attributed.attributed_date,
    attributed.traffic_source,
    attributed.traffic_medium,
    attributed.campaign,
    COUNT(*) AS leads,
    COUNTIF(attributed.attribution_type = 'primary_call') AS primary_leads,
    COUNTIF(attributed.attribution_type = 'missed_call_retry') AS retry_leads,
    COUNTIF(attributed.attribution_type = 'missed_call_callback') AS callback_leads,
    COUNTIF(attributed.attribution_type != 'primary_call') AS recovered_leads,
    COUNTIF(attributed.attribution_type != 'primary_call') / COUNT(*) AS recovered_share,
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
FROM marts.attributed_leads AS attributed
LEFT JOIN marts.crm_leads AS crm
    ON attributed.business_id = crm.business_id AND attributed.lead_id = crm.lead_id
GROUP BY
    attributed.business_id,
    attributed.attributed_date,
    attributed.traffic_source,
    attributed.traffic_medium,
    attributed.campaign
