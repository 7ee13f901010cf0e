{% from "macros/reconciliation.sql" import tracked_numbers %}
WITH
tracked AS (
    {{ tracked_numbers() | indent(4) }}
)

SELECT
    unified.business_id,
    unified.unified_call_key AS call_key,
    -- `system` is the column name of the table contract.
    IF(
        unified.match_status = 'calltracking_only', 'calltracking', 'telephony'
    ) AS system,  -- noqa: RF04
    unified.call_date AS report_date,
    IF(
        unified.match_status = 'calltracking_only',
        unified.ct_company_number,
        unified.tel_company_number
    ) AS company_number,
    IF(
        unified.customer_number IS NULL,
        NULL,
        TO_HEX(SHA256(CONCAT(@hash_salt, unified.customer_number)))
    ) AS customer_hash,
    unified.started_at,
    CASE
        WHEN unified.match_status = 'calltracking_only' THEN 'missing_in_telephony'
        WHEN tracked.company_number IS NOT NULL AND unified.spam_reason IS NOT NULL
            THEN 'spam_filtered'
        WHEN tracked.company_number IS NOT NULL THEN 'missing_in_calltracking'
        ELSE 'untracked_number'
    END AS reason
FROM staging.unified_calls AS unified
LEFT JOIN tracked
    ON
        unified.business_id = tracked.business_id
        AND unified.tel_company_number = tracked.company_number
WHERE
    unified.call_date BETWEEN @start_date AND @end_date
    AND (@all_businesses OR unified.business_id IN UNNEST(@business_ids))
    AND unified.direction = 'inbound'
    AND unified.match_status != 'matched'
