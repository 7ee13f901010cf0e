SELECT
    checkpoint,
    COUNT(*) AS runs,
    COUNTIF(NOT success) AS failed,
    SUM(warnings) AS warnings,
    SUM(`rows`) AS checked,
    SUM(quarantined_rows) AS quarantined
FROM raw.validation_results
WHERE checked_date >= @start
GROUP BY checkpoint
ORDER BY checkpoint
