{% from "macros/figures.sql" import channel, won_amount, won_currency %}
SELECT
    business_id,
    {{ channel() }} AS channel,
    COALESCE(campaign, '-') AS campaign_name,
    SUM(leads) AS leads,
    SUM(leads_in_crm) AS in_crm,
    SUM(deals_won) AS won,
    {{ won_amount() }} AS amount,
    {{ won_currency() }} AS currency
FROM analytics.leads_daily
WHERE attributed_date BETWEEN @start AND @end
    AND business_id IN (
        SELECT crm.business_id FROM analytics.crm_reconciliation AS crm
    )
GROUP BY business_id, channel, campaign_name
ORDER BY business_id ASC, amount DESC NULLS LAST, leads DESC, channel ASC
