SELECT
    source_id,
    COUNT(*) AS loads,
    SUM(received_records) AS received,
    SUM(staged_records) AS staged,
    SUM(quarantined_records) AS quarantined,
    COUNTIF(NOT validation_success) AS failed,
    SUM(validation_warnings) AS warnings
FROM raw.loads
WHERE load_date BETWEEN @start AND @end
GROUP BY source_id
ORDER BY source_id
