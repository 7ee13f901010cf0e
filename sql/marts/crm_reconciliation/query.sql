-- One row per business with a CRM source and date (docs/rules.md "CRM reconciliation").
-- A date is reconciled only where both systems are covered (staging.business_settings, set by
-- the run's prepare step): the CRM from the start of its first good load (a CSV export: its
-- earliest lead, or the source's covers_from) and the calls from the start of the business's
-- first good call load to the end of its last. Covered dates are reconciled however old. A
-- ringback lead whose matching window reaches past the CRM's last load is awaiting, not
-- missing.
WITH
scope AS (
    SELECT
        business_id,
        crm_synced_from AS synced_from,
        crm_synced_until AS synced_until,
        time_zone,
        recovery_window_seconds,
        crm_match_before_seconds,
        mismatch_min_unmatched,
        mismatch_min_ratio,
        DATE(
            GREATEST(crm_synced_from, COALESCE(calls_covered_from, crm_synced_from)), time_zone
        ) AS first_date,
        -- Window ends are exclusive; no call load recorded: no end (calls staged by hand).
        COALESCE(
            DATE(TIMESTAMP_SUB(calls_covered_until, INTERVAL 1 SECOND), time_zone),
            DATE '9999-12-31'
        ) AS last_date
    FROM staging.business_settings
    WHERE crm_synced_from IS NOT NULL
),

ringback AS (
    SELECT
        leads.business_id,
        leads.lead_date AS report_date,
        COUNT(*) AS ringback_leads,
        -- "matched" is a keyword in MERGE, and the column name the contract gives.
        COUNTIF(crm.lead_id IS NOT NULL) AS matched,  -- noqa: RF04
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
    WHERE
        leads.lead_date BETWEEN scope.first_date AND scope.last_date
        -- The credited call comes at most a recovery window before the lead.
        AND DATE_DIFF(scope.first_date, leads.attributed_date, DAY)
        <= scope.recovery_window_seconds / 86400 + 2
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
    WHERE crm.crm_created_date BETWEEN scope.first_date AND scope.last_date
    GROUP BY crm.business_id, crm.crm_created_date
),

daily AS (
    SELECT
        COALESCE(ringback.business_id, crm_side.business_id) AS business_id,
        COALESCE(ringback.report_date, crm_side.report_date) AS report_date,
        COALESCE(ringback.ringback_leads, 0) AS ringback_leads,
        COALESCE(ringback.matched, 0) AS matched,  -- noqa: RF04
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
