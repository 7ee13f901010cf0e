{% from "macros/figures.sql" import channel, recovered_share %}
SELECT
    business_id,
    {{ channel() }} AS channel,
    SUM(leads) AS leads,
    SUM(recovered_leads) AS recovered,
    {{ recovered_share() }} AS recovered_share
FROM analytics.leads_daily
WHERE attributed_date BETWEEN @start AND @end
GROUP BY business_id, channel
ORDER BY business_id ASC, leads DESC, channel ASC
