{% from "macros/figures.sql" import lead_sums %}
SELECT
    traffic_source,
    {{ lead_sums() | indent(4) }}
FROM analytics.leads_daily
WHERE attributed_date BETWEEN @start AND @end AND business_id = @business
GROUP BY traffic_source
ORDER BY leads DESC, traffic_source ASC
