-- The vendor's own screen against ringback's, per business, date and vendor source:
-- each inbound call is one row with the vendor's verdicts and ringback's, every disagreement
-- gets one named cause, and a cause column sums (ringback - vendor) over its rows, so the
-- causes add up to the difference by construction (checks.sql audits it).
WITH
vendor_sources AS (
    -- Sources whose provider stages any of its own flags in the range.
    SELECT DISTINCT
        business_id,
        system,
        provider,
        account_id
    FROM staging.calls
    WHERE
        call_date BETWEEN @start_date AND @end_date
        AND (@all_businesses OR business_id IN UNNEST(@business_ids))
        AND direction = 'inbound'
        AND (
            vendor_first_call IS NOT NULL
            OR vendor_target_call IS NOT NULL
            OR vendor_spam IS NOT NULL
        )
),

unified AS (
    SELECT
        business_id,
        unified_call_key,
        ct_call_key,
        tel_call_key,
        match_status,
        customer_number,
        status,
        talk_seconds,
        spam_reason,
        call_date
    FROM staging.unified_calls
    WHERE
        call_date BETWEEN DATE_SUB(@start_date, INTERVAL 1 DAY)
        AND DATE_ADD(@end_date, INTERVAL 1 DAY)
        AND (@all_businesses OR business_id IN UNNEST(@business_ids))
        AND direction = 'inbound'
),

record_keys AS (
    -- Each staging record's unified call: a matched pair is named by its call-tracking key.
    SELECT
        business_id,
        ct_call_key AS call_key,
        unified_call_key
    FROM unified
    WHERE ct_call_key IS NOT NULL
    UNION ALL
    SELECT
        business_id,
        tel_call_key AS call_key,
        unified_call_key
    FROM unified
    WHERE tel_call_key IS NOT NULL
),

seen_by_vendor AS (
    SELECT
        staged.business_id,
        staged.system,
        staged.provider,
        staged.account_id,
        staged.call_date AS report_date,
        record_keys.unified_call_key,
        FALSE AS vendor_never_saw,
        staged.vendor_first_call,
        staged.vendor_target_call,
        staged.vendor_spam,
        staged.vendor_value
    FROM staging.calls AS staged
    INNER JOIN vendor_sources
        ON
            staged.business_id = vendor_sources.business_id
            AND staged.provider = vendor_sources.provider
            AND staged.account_id = vendor_sources.account_id
    -- Soft-deleted calls have no unified call: they drop out here as they do from the marts.
    INNER JOIN record_keys
        ON staged.business_id = record_keys.business_id AND staged.call_key = record_keys.call_key
    WHERE
        staged.call_date BETWEEN @start_date AND @end_date
        AND staged.direction = 'inbound'
),

unseen_by_vendor AS (
    -- A call-tracking vendor never sees the calls only telephony recorded: they are rows of
    -- its comparison with every vendor flag false.
    SELECT
        unified.business_id,
        vendor_sources.system,
        vendor_sources.provider,
        vendor_sources.account_id,
        unified.call_date AS report_date,
        unified.unified_call_key,
        TRUE AS vendor_never_saw,
        CAST(NULL AS BOOL) AS vendor_first_call,
        CAST(NULL AS BOOL) AS vendor_target_call,
        CAST(NULL AS BOOL) AS vendor_spam,
        CAST(NULL AS FLOAT64) AS vendor_value
    FROM unified
    INNER JOIN vendor_sources
        ON
            unified.business_id = vendor_sources.business_id
            AND vendor_sources.system = 'calltracking'
    WHERE
        unified.match_status = 'telephony_only'
        AND unified.call_date BETWEEN @start_date AND @end_date
),

compared_calls AS (
    SELECT * FROM seen_by_vendor
    UNION ALL
    SELECT * FROM unseen_by_vendor
),

primary_calls AS (
    SELECT
        business_id,
        unified_call_key,
        is_spam,
        is_conversation,
        NOT is_spam
        AND (is_conversation OR (is_missed AND recovered_by_call_key IS NOT NULL)) AS is_lead
    FROM staging.primary_calls
    WHERE
        call_date BETWEEN @start_date AND @end_date
        AND (@all_businesses OR business_id IN UNNEST(@business_ids))
),

recovering_calls AS (
    -- Conversations that ringback credited to an earlier missed call.
    SELECT DISTINCT
        business_id,
        recovered_by_call_key AS unified_call_key
    FROM staging.primary_calls
    WHERE
        call_date BETWEEN @recovery_start_date AND @end_date
        AND (@all_businesses OR business_id IN UNNEST(@business_ids))
        AND is_missed
        AND NOT is_spam
        AND recovered_by_call_key IS NOT NULL
),

judged AS (
    SELECT
        compared.*,
        COALESCE(compared.vendor_first_call, FALSE) AS vendor_first,
        COALESCE(compared.vendor_target_call, FALSE) AS vendor_target,
        unified.customer_number IS NULL AS is_hidden_number,
        unified.spam_reason,
        unified.status = 'answered' AND unified.talk_seconds > 0 AS is_talk,
        primary_calls.unified_call_key IS NOT NULL AS ringback_primary,
        COALESCE(primary_calls.is_lead, FALSE) AS ringback_lead,
        COALESCE(primary_calls.is_lead AND NOT primary_calls.is_conversation, FALSE)
            AS ringback_recovered_lead,
        COALESCE(primary_calls.is_spam, FALSE) AS ringback_primary_spam,
        recovering_calls.unified_call_key IS NOT NULL AS is_recovering_call
    FROM compared_calls AS compared
    INNER JOIN unified
        ON
            compared.business_id = unified.business_id
            AND compared.unified_call_key = unified.unified_call_key
    LEFT JOIN primary_calls
        ON
            compared.business_id = primary_calls.business_id
            AND compared.unified_call_key = primary_calls.unified_call_key
    LEFT JOIN recovering_calls
        ON
            compared.business_id = recovering_calls.business_id
            AND compared.unified_call_key = recovering_calls.unified_call_key
),

caused AS (
    SELECT
        *,
        CASE
            WHEN vendor_first = ringback_primary THEN NULL
            WHEN is_hidden_number THEN 'hidden_number'
            WHEN vendor_never_saw AND spam_reason IS NOT NULL THEN 'vendor_spam_filter'
            WHEN vendor_never_saw THEN 'seen_only_by_telephony'
            -- Either side counts an earlier call from the number that the other does not
            -- (the vendor's window or history, ringback's uniqueness window or history).
            ELSE 'uniqueness_window'
        END AS first_call_cause,
        CASE
            WHEN vendor_target = ringback_lead THEN NULL
            WHEN is_hidden_number THEN 'hidden_number'
            WHEN vendor_never_saw AND spam_reason IS NOT NULL THEN 'vendor_spam_filter'
            WHEN vendor_never_saw THEN 'seen_only_by_telephony'
            WHEN COALESCE(vendor_spam, FALSE) THEN 'vendor_spam_filter'
            WHEN ringback_primary_spam THEN 'spam_rule'
            -- The lead of a missed call is the missed call's; the vendor scores the retry.
            WHEN ringback_recovered_lead OR is_recovering_call THEN 'missed_call_recovered'
            WHEN NOT ringback_primary OR vendor_first_call = FALSE THEN 'uniqueness_window'
            WHEN is_talk THEN 'threshold_difference'
            ELSE 'other'
        END AS lead_cause
    FROM judged
),

signed AS (
    SELECT
        *,
        IF(ringback_primary, 1, 0) - IF(vendor_first, 1, 0) AS first_call_delta,
        IF(ringback_lead, 1, 0) - IF(vendor_target, 1, 0) AS lead_delta
    FROM caused
),

daily AS (
    SELECT
        business_id,
        report_date,
        system,
        provider,
        account_id,
        COUNTIF(NOT vendor_never_saw) AS vendor_calls,
        COUNTIF(vendor_never_saw) AS telephony_only_calls,
        -- A provider without a flag has no count (NULL), not zero.
        COUNTIF(vendor_first_call IS NOT NULL) > 0 AS has_vendor_first_call,
        COUNTIF(vendor_target_call IS NOT NULL) > 0 AS has_vendor_target_call,
        COUNTIF(vendor_first) AS vendor_first_calls,
        COUNTIF(ringback_primary) AS ringback_primary_calls,
        SUM(IF(first_call_cause = 'uniqueness_window', first_call_delta, 0))
            AS first_calls_uniqueness_window,
        SUM(IF(first_call_cause = 'seen_only_by_telephony', first_call_delta, 0))
            AS first_calls_seen_only_by_telephony,
        SUM(IF(first_call_cause = 'vendor_spam_filter', first_call_delta, 0))
            AS first_calls_vendor_spam_filter,
        SUM(IF(first_call_cause = 'hidden_number', first_call_delta, 0))
            AS first_calls_hidden_number,
        COUNTIF(vendor_target) AS vendor_target_calls,
        COUNTIF(ringback_lead) AS ringback_leads,
        COUNTIF(ringback_recovered_lead) AS ringback_recovered_leads,
        SUM(IF(lead_cause = 'missed_call_recovered', lead_delta, 0))
            AS leads_missed_call_recovered,
        SUM(IF(lead_cause = 'threshold_difference', lead_delta, 0))
            AS leads_threshold_difference,
        SUM(IF(lead_cause = 'uniqueness_window', lead_delta, 0)) AS leads_uniqueness_window,
        SUM(IF(lead_cause = 'seen_only_by_telephony', lead_delta, 0))
            AS leads_seen_only_by_telephony,
        SUM(IF(lead_cause = 'vendor_spam_filter', lead_delta, 0)) AS leads_vendor_spam_filter,
        SUM(IF(lead_cause = 'spam_rule', lead_delta, 0)) AS leads_spam_rule,
        SUM(IF(lead_cause = 'hidden_number', lead_delta, 0)) AS leads_hidden_number,
        SUM(IF(lead_cause = 'other', lead_delta, 0)) AS leads_other,
        COUNTIF(COALESCE(vendor_spam, FALSE)) AS vendor_spam_calls,
        COUNTIF(vendor_never_saw AND spam_reason IS NOT NULL) AS vendor_filtered_spam_calls,
        COUNTIF(spam_reason IS NOT NULL) AS ringback_spam_calls,
        SUM(vendor_value) AS vendor_value
    FROM signed
    GROUP BY business_id, report_date, system, provider, account_id
)

SELECT
    business_id,
    report_date,
    system,
    provider,
    account_id,
    vendor_calls,
    telephony_only_calls,
    IF(has_vendor_first_call, vendor_first_calls, NULL) AS vendor_first_calls,
    ringback_primary_calls,
    IF(has_vendor_first_call, ringback_primary_calls - vendor_first_calls, NULL)
        AS first_call_difference,
    IF(has_vendor_first_call, first_calls_uniqueness_window, NULL)
        AS first_calls_uniqueness_window,
    IF(has_vendor_first_call, first_calls_seen_only_by_telephony, NULL)
        AS first_calls_seen_only_by_telephony,
    IF(has_vendor_first_call, first_calls_vendor_spam_filter, NULL)
        AS first_calls_vendor_spam_filter,
    IF(has_vendor_first_call, first_calls_hidden_number, NULL) AS first_calls_hidden_number,
    IF(has_vendor_target_call, vendor_target_calls, NULL) AS vendor_target_calls,
    ringback_leads,
    ringback_recovered_leads,
    IF(has_vendor_target_call, ringback_leads - vendor_target_calls, NULL) AS lead_difference,
    IF(has_vendor_target_call, leads_missed_call_recovered, NULL) AS leads_missed_call_recovered,
    IF(has_vendor_target_call, leads_threshold_difference, NULL) AS leads_threshold_difference,
    IF(has_vendor_target_call, leads_uniqueness_window, NULL) AS leads_uniqueness_window,
    IF(has_vendor_target_call, leads_seen_only_by_telephony, NULL)
        AS leads_seen_only_by_telephony,
    IF(has_vendor_target_call, leads_vendor_spam_filter, NULL) AS leads_vendor_spam_filter,
    IF(has_vendor_target_call, leads_spam_rule, NULL) AS leads_spam_rule,
    IF(has_vendor_target_call, leads_hidden_number, NULL) AS leads_hidden_number,
    IF(has_vendor_target_call, leads_other, NULL) AS leads_other,
    vendor_spam_calls,
    vendor_filtered_spam_calls,
    ringback_spam_calls,
    vendor_value
FROM daily
