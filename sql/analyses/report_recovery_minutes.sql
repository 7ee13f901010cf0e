SELECT recovery_minutes FROM analytics.leads
WHERE is_recovered AND business_id = @business
    AND attributed_date BETWEEN @start AND @end
