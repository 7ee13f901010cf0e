-- Every column of the view, as the report shows them.
SELECT *  -- noqa: AM04
FROM analytics.crm_reconciliation
WHERE report_date BETWEEN @start AND @end AND business_id = @business
ORDER BY report_date
