SELECT
    business_id,
    call_date,
    COUNTIF(system = 'calltracking') AS calltracking,
    COUNTIF(system = 'telephony') AS telephony
FROM staging.calls
WHERE call_date BETWEEN @start AND @end
GROUP BY business_id, call_date
ORDER BY business_id, call_date
