WITH cells AS (
    SELECT
        business_id,
        iso_weekday,
        weekday_name,
        call_hour,
        SUM(inbound_calls) AS inbound,
        SUM(inbound_answered) AS answered,
        SAFE_DIVIDE(SUM(inbound_answered), SUM(inbound_calls)) AS rate
    FROM analytics.call_handling_hourly
    WHERE call_date BETWEEN @start AND @end
    GROUP BY business_id, iso_weekday, weekday_name, call_hour
    HAVING SUM(inbound_calls) >= 5
),

ranked AS (
    SELECT
        *,
        ROW_NUMBER() OVER (
            PARTITION BY business_id
            ORDER BY rate ASC, inbound DESC, iso_weekday ASC, call_hour ASC
        ) AS low,
        ROW_NUMBER() OVER (
            PARTITION BY business_id
            ORDER BY rate DESC, inbound DESC, iso_weekday ASC, call_hour ASC
        ) AS high
    FROM cells
)

SELECT
    business_id,
    IF(low = 1, 'lowest', 'highest') AS which,
    weekday_name,
    call_hour,
    inbound,
    answered,
    rate
FROM ranked
WHERE low = 1 OR high = 1
ORDER BY business_id ASC, which DESC
