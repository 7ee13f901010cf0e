{%- from "macros/matching.sql" import nearest_first -%}
-- CRM leads matched to ringback's leads (docs/rules.md "CRM leads"), inside each business.
-- A pair is a CRM lead and a ringback lead of the same customer (hashed number) whose call
-- started within [created_at - before, created_at + after]. Matching is one-to-one, nearest
-- first (by |created_at - lead_at|, ties by the keys: sql/macros/matching.sql, as the
-- cross-system matching). Over all history, every run: the matches of any date can change with
-- any CRM load.
WITH
settings AS (
    SELECT
        business_id,
        recovery_window_seconds,
        crm_match_before_seconds,
        crm_match_after_seconds
    FROM staging.business_settings
),

crm AS (
    SELECT
        crm.*,
        IF(
            crm.customer_number IS NULL,
            NULL,
            TO_HEX(SHA256(CONCAT(@hash_salt, crm.customer_number)))
        ) AS customer_hash
    FROM staging.crm_leads AS crm
),

bounds AS (
    SELECT
        business_id,
        MIN(created_date) AS first_date,
        MAX(created_date) AS last_date
    FROM crm
    GROUP BY business_id
),

numbers AS (
    SELECT DISTINCT
        business_id,
        customer_hash
    FROM crm
    WHERE customer_hash IS NOT NULL
),

leads AS (
    -- Only the leads of numbers a CRM holds, credited on dates a match can reach: from the
    -- matching window plus the recovery window (the credited call comes first) before the first
    -- CRM lead, to the window's reach after the last.
    SELECT
        leads.business_id,
        leads.lead_id,
        leads.customer_hash,
        leads.lead_at,
        leads.lead_date
    FROM marts.attributed_leads AS leads
    INNER JOIN bounds ON leads.business_id = bounds.business_id
    INNER JOIN settings ON leads.business_id = settings.business_id
    INNER JOIN numbers
        ON
            leads.business_id = numbers.business_id
            AND leads.customer_hash = numbers.customer_hash
    WHERE
        DATE_DIFF(bounds.first_date, leads.attributed_date, DAY)
        <= (settings.crm_match_before_seconds + settings.recovery_window_seconds) / 86400 + 2
        AND DATE_DIFF(leads.attributed_date, bounds.last_date, DAY)
        <= settings.crm_match_after_seconds / 86400 + 2
),

all_pairs AS (
    SELECT
        crm.business_id,
        crm.crm_lead_key,
        leads.lead_id,
        ABS(TIMESTAMP_DIFF(crm.created_at, leads.lead_at, SECOND)) AS gap_seconds
    FROM crm
    INNER JOIN leads
        ON
            crm.business_id = leads.business_id
            AND crm.customer_hash = leads.customer_hash
    INNER JOIN settings ON crm.business_id = settings.business_id
    WHERE
        TIMESTAMP_DIFF(crm.created_at, leads.lead_at, SECOND)
        BETWEEN -settings.crm_match_after_seconds AND settings.crm_match_before_seconds
),

{{ nearest_first("all_pairs", "crm_lead_key", "lead_id", "gap_seconds", match_rounds) }}

SELECT
    crm.business_id,
    crm.crm_lead_key,
    crm.source_id,
    crm.created_at AS crm_created_at,
    crm.created_date AS crm_created_date,
    crm.created_via,
    crm.crm_source,
    crm.crm_campaign,
    crm.customer_number IS NOT NULL AS has_phone,
    crm.customer_hash,
    matched.lead_id,
    leads.lead_at,
    leads.lead_date,
    TIMESTAMP_DIFF(crm.created_at, leads.lead_at, SECOND) AS crm_delay_seconds,
    crm.deal_id,
    crm.amount AS deal_amount,
    crm.currency AS deal_currency,
    crm.stage AS deal_stage,
    crm.won_at IS NOT NULL AS deal_won,
    crm.won_at AS deal_won_at
FROM crm
LEFT JOIN matched
    ON crm.business_id = matched.business_id AND crm.crm_lead_key = matched.crm_lead_key
LEFT JOIN leads
    ON matched.business_id = leads.business_id AND matched.lead_id = leads.lead_id
