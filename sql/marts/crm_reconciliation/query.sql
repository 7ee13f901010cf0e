-- One row per business with a CRM source and date (docs/rules.md "CRM reconciliation").
-- A business's CRM is covered from the start of its first good CRM load to the end of its last:
-- dates before are left out, and a ringback lead whose matching window reaches past the end is
-- awaiting, not missing.
WITH
coverage AS (
    SELECT
        crm.business_id,
        MIN(loads.window_start_at) AS synced_from,
        MAX(loads.window_end_at) AS synced_until
    FROM (SELECT DISTINCT
        business_id,
        source_id
    FROM staging.crm_leads) AS crm
    INNER JOIN raw.loads AS loads
        ON crm.source_id = loads.source_id
    WHERE loads.validation_success
    GROUP BY crm.business_id
),

scope AS (
    SELECT
        coverage.*,
        settings.time_zone,
        settings.crm_match_before_seconds,
        settings.mismatch_min_unmatched,
        settings.mismatch_min_ratio,
        DATE(coverage.synced_from, settings.time_zone) AS first_date
    FROM coverage
    INNER JOIN staging.business_settings AS settings
        ON coverage.business_id = settings.business_id
),

ringback AS (
    SELECT
        leads.business_id,
        leads.lead_date AS report_date,
        COUNT(*) AS ringback_leads,
        COUNTIF(crm.lead_id IS NOT NULL) AS matched,
        COUNTIF(
            crm.lead_id IS NULL
            AND TIMESTAMP_DIFF(scope.synced_until, leads.lead_at, SECOND)
            >= scope.crm_match_before_seconds
        ) AS lead_not_in_crm,
        COUNTIF(
            crm.lead_id IS NULL
            AND TIMESTAMP_DIFF(scope.synced_until, leads.lead_at, SECOND)
            < scope.crm_match_before_seconds
        ) AS lead_awaiting_crm,
        COUNTIF(COALESCE(crm.deal_won, FALSE)) AS deals_won
    FROM marts.attributed_leads AS leads
    INNER JOIN scope ON leads.business_id = scope.business_id
    LEFT JOIN marts.crm_leads AS crm
        ON leads.business_id = crm.business_id AND leads.lead_id = crm.lead_id
    WHERE leads.lead_date >= scope.first_date
    GROUP BY leads.business_id, leads.lead_date
),

crm_side AS (
    SELECT
        crm.business_id,
        crm.crm_created_date AS report_date,
        COUNTIF(crm.has_phone) AS crm_leads,
        COUNTIF(crm.lead_id IS NOT NULL) AS crm_leads_matched,
        COUNTIF(
            crm.has_phone AND crm.lead_id IS NULL AND crm.created_via = 'manual'
        ) AS crm_only_manual,
        COUNTIF(
            crm.has_phone AND crm.lead_id IS NULL AND crm.created_via != 'manual'
        ) AS crm_only_other,
        COUNTIF(NOT crm.has_phone) AS crm_leads_without_phone
    FROM marts.crm_leads AS crm
    INNER JOIN scope ON crm.business_id = scope.business_id
    WHERE crm.crm_created_date >= scope.first_date
    GROUP BY crm.business_id, crm.crm_created_date
),

daily AS (
    SELECT
        COALESCE(ringback.business_id, crm_side.business_id) AS business_id,
        COALESCE(ringback.report_date, crm_side.report_date) AS report_date,
        COALESCE(ringback.ringback_leads, 0) AS ringback_leads,
        COALESCE(ringback.matched, 0) AS matched,
        COALESCE(ringback.lead_not_in_crm, 0) AS lead_not_in_crm,
        COALESCE(ringback.lead_awaiting_crm, 0) AS lead_awaiting_crm,
        COALESCE(crm_side.crm_leads, 0) AS crm_leads,
        COALESCE(crm_side.crm_leads_matched, 0) AS crm_leads_matched,
        COALESCE(crm_side.crm_only_manual, 0) AS crm_only_manual,
        COALESCE(crm_side.crm_only_other, 0) AS crm_only_other,
        COALESCE(crm_side.crm_leads_without_phone, 0) AS crm_leads_without_phone,
        COALESCE(ringback.deals_won, 0) AS deals_won
    FROM ringback
    FULL OUTER JOIN crm_side
        ON
            ringback.business_id = crm_side.business_id
            AND ringback.report_date = crm_side.report_date
),

measured AS (
    SELECT
        daily.*,
        daily.crm_only_manual + daily.crm_only_other + daily.lead_not_in_crm AS unmatched_leads,
        scope.mismatch_min_unmatched,
        scope.mismatch_min_ratio
    FROM daily
    INNER JOIN scope ON daily.business_id = scope.business_id
),

flagged AS (
    SELECT
        *,
        IF(
            matched + unmatched_leads = 0,
            NULL,
            unmatched_leads / (matched + unmatched_leads)
        ) AS unmatched_ratio
    FROM measured
)

SELECT
    business_id,
    report_date,
    ringback_leads,
    matched,
    lead_not_in_crm,
    lead_awaiting_crm,
    crm_leads,
    crm_leads_matched,
    crm_only_manual,
    crm_only_other,
    crm_leads_without_phone,
    unmatched_leads,
    unmatched_ratio,
    COALESCE(
        unmatched_leads >= mismatch_min_unmatched AND unmatched_ratio >= mismatch_min_ratio,
        FALSE
    ) AS is_mismatch,
    CASE
        WHEN
            unmatched_ratio IS NULL
            OR unmatched_leads < mismatch_min_unmatched
            OR unmatched_ratio < mismatch_min_ratio
            THEN NULL
        WHEN
            crm_only_manual >= lead_not_in_crm AND crm_only_manual >= crm_only_other
            THEN 'crm_only_manual'
        WHEN lead_not_in_crm >= crm_only_other THEN 'lead_not_in_crm'
        ELSE 'crm_only_other'
    END AS mismatch_reason,
    deals_won
FROM flagged
