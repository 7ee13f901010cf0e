SELECT
    attributed_date,
    SUM(leads) AS leads,
    SUM(primary_leads) AS primary_leads,
    SUM(retry_leads) AS retry_leads,
    SUM(callback_leads) AS callback_leads
FROM analytics.leads_daily
WHERE attributed_date BETWEEN @start AND @end AND business_id = @business
GROUP BY attributed_date
ORDER BY attributed_date
