-- Recovered leads sent to GA4 and Google Ads (raw.lead_exports, the export ledger), per
-- business, destination and status; a rejected lead keeps the request's detail (its Google
-- request id and reasons), which export.uploads_overview() sums once per request.
SELECT
    business_id,
    destination,
    status,
    IF(status IN ('rejected', 'partly_rejected'), detail, NULL) AS rejection_detail,
    COUNT(*) AS leads
FROM raw.lead_exports
WHERE lead_date BETWEEN @start AND @end
GROUP BY business_id, destination, status, rejection_detail
ORDER BY business_id, destination, status, rejection_detail
