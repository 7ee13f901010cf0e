-- One business's incidents open on any date of the range, as the report shows them.
SELECT *  -- noqa: AM04
FROM analytics.reconciliation_incidents
WHERE business_id = @business AND started_date <= @end AND last_date >= @start
ORDER BY started_date, cause
