-- Calls handled per business, local date and hour, and employee: the base of answer rates by
-- hour x weekday and per employee. Unified calls (a call seen by both systems counts once);
-- answered = not missed (docs/rules.md: answered with talk time above 0). An inbound call
-- nobody answered has no employee; an outbound attempt keeps the employee who placed it.
WITH
settings AS (
    SELECT
        business_id,
        time_zone,
        COALESCE(hash_employee_names, FALSE) AS hash_employee_names
    FROM staging.business_settings
),

calls AS (
    SELECT
        unified.business_id,
        unified.call_date,
        -- FORMAT_TIMESTAMP, not EXTRACT(.. AT TIME ZONE ..): sqlglot rewrites that into
        -- DATETIME(ts, zone_column), which the BigQuery emulator cannot run.
        CAST(FORMAT_TIMESTAMP('%H', unified.started_at, settings.time_zone) AS INT64) AS call_hour,
        unified.direction,
        unified.status = 'answered' AND unified.talk_seconds > 0 AS is_answered,
        unified.talk_seconds,
        -- Staff data: kept, or salted hashes (ids too: an email id names the person).
        IF(
            settings.hash_employee_names AND unified.employee_id IS NOT NULL,
            TO_HEX(SHA256(CONCAT(@hash_salt, unified.employee_id))),
            unified.employee_id
        ) AS employee_id,
        IF(
            settings.hash_employee_names AND unified.employee_name IS NOT NULL,
            TO_HEX(SHA256(CONCAT(@hash_salt, unified.employee_name))),
            unified.employee_name
        ) AS employee_name
    FROM staging.unified_calls AS unified
    INNER JOIN settings ON unified.business_id = settings.business_id
    WHERE
        unified.call_date BETWEEN @start_date AND @end_date
        AND (@all_businesses OR unified.business_id IN UNNEST(@business_ids))
),

attributed AS (
    SELECT
        business_id,
        call_date,
        call_hour,
        direction,
        is_answered,
        talk_seconds,
        IF(direction = 'inbound' AND NOT is_answered, NULL, employee_id) AS employee_id,
        IF(direction = 'inbound' AND NOT is_answered, NULL, employee_name) AS employee_name
    FROM calls
)

SELECT
    business_id,
    call_date,
    call_hour,
    -- ISO weekday, 1 = Monday .. 7 = Sunday
    CAST(FORMAT_DATE('%u', call_date) AS INT64) AS iso_weekday,
    employee_id,
    employee_name,
    COUNTIF(direction = 'inbound') AS inbound_calls,
    COUNTIF(direction = 'inbound' AND is_answered) AS inbound_answered,
    COUNTIF(direction = 'inbound' AND NOT is_answered) AS inbound_missed,
    COUNTIF(direction = 'outbound') AS outbound_attempts,
    COUNTIF(direction = 'outbound' AND is_answered) AS outbound_answered,
    SUM(talk_seconds) AS talk_seconds
FROM attributed
GROUP BY business_id, call_date, call_hour, iso_weekday, employee_id, employee_name
