-- Grouped on the credited call's date and source: the day and channel the ad money was spent on.
SELECT
    business_id,
    attributed_date,
    traffic_source,
    traffic_medium,
    campaign,
    COUNT(*) AS leads,
    COUNTIF(attribution_type = 'primary_call') AS primary_leads,
    COUNTIF(attribution_type = 'missed_call_retry') AS retry_leads,
    COUNTIF(attribution_type = 'missed_call_callback') AS callback_leads,
    COUNTIF(attribution_type != 'primary_call') AS recovered_leads,
    COUNTIF(attribution_type != 'primary_call') / COUNT(*) AS recovered_share
FROM marts.attributed_leads
GROUP BY business_id, attributed_date, traffic_source, traffic_medium, campaign
