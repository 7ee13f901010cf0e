SELECT
    traffic_source,
    SUM(leads) AS leads,
    SUM(primary_leads) AS primary_leads,
    SUM(retry_leads) AS retry_leads,
    SUM(callback_leads) AS callback_leads,
    SUM(recovered_leads) AS recovered_leads
FROM analytics.leads_daily
WHERE attributed_date BETWEEN @start AND @end AND business_id = @business
GROUP BY traffic_source
ORDER BY leads DESC, traffic_source ASC
