SELECT
    checkpoint,
    failed_expectations
FROM raw.validation_results
WHERE checked_date >= @start AND warnings > 0
ORDER BY checkpoint
