{% from "macros/figures.sql" import won_amount, won_currency %}
SELECT
    SUM(deals_won) AS deals_won,
    {{ won_amount() }} AS won_amount,
    {{ won_currency() }} AS won_currency
FROM analytics.leads_daily
WHERE attributed_date BETWEEN @start AND @end AND business_id = @business
