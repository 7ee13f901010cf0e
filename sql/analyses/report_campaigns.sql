{% from "macros/figures.sql" import recovered_share, won_amount, won_currency %}
SELECT
    traffic_source,
    traffic_medium,
    campaign,
    SUM(leads) AS leads,
    SUM(recovered_leads) AS recovered_leads,
    {{ recovered_share() }} AS recovered_share,
    SUM(leads_in_crm) AS leads_in_crm,
    SUM(deals_won) AS deals_won,
    {{ won_amount() }} AS won_amount,
    {{ won_currency() }} AS won_currency
FROM analytics.leads_daily
WHERE attributed_date BETWEEN @start AND @end AND business_id = @business
GROUP BY traffic_source, traffic_medium, campaign
ORDER BY leads DESC, traffic_source ASC, campaign ASC LIMIT 15
