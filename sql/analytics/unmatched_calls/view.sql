SELECT
    business_id,
    report_date,
    reason,
    system,
    call_key,
    company_number,
    customer_hash,
    started_at
FROM marts.unmatched_calls
