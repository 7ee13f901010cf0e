{%- from "macros/matching.sql" import nearest_first -%}
-- CRM leads matched to ringback's leads (docs/rules.md "CRM leads"), inside each business.
-- A pair is a CRM lead and a ringback lead of the same customer (hashed number) whose call
-- started within [created_at - before, created_at + after]. Matching is one-to-one, nearest
-- first (by |created_at - lead_at|, ties by the keys: sql/macros/matching.sql, as the
-- cross-system matching).
-- Incremental by customer: a CRM lead's match depends only on its customer's CRM leads and
-- ringback leads, so a run rematches the customers whose rows can have changed and replaces
-- their CRM leads' rows by key: the customers of the CRM leads loaded since the last run
-- (staging.crm_leads_pending), and those with a ringback lead credited on the run's dates, as
-- built now or as matched before. A business whose CRM leads the mart does not hold one for
-- one (its first run, a full refresh, rows written by hand) is matched whole.
WITH
settings AS (
    SELECT
        business_id,
        recovery_window_seconds,
        crm_match_before_seconds,
        crm_match_after_seconds
    FROM staging.business_settings
),

staged_counts AS (
    SELECT
        business_id,
        COUNT(*) AS crm_leads
    FROM staging.crm_leads
    GROUP BY business_id
),

built_counts AS (
    SELECT
        business_id,
        COUNT(*) AS crm_leads
    FROM marts.crm_leads
    GROUP BY business_id
),

new_marked AS (
    -- Marked leads the mart does not hold yet: the count they add.
    SELECT
        pending.business_id,
        COUNT(*) AS crm_leads
    FROM staging.crm_leads_pending AS pending
    LEFT JOIN marts.crm_leads AS built
        ON pending.business_id = built.business_id AND pending.crm_lead_key = built.crm_lead_key
    WHERE built.crm_lead_key IS NULL
    GROUP BY pending.business_id
),

whole AS (
    SELECT staged_counts.business_id
    FROM staged_counts
    LEFT JOIN built_counts ON staged_counts.business_id = built_counts.business_id
    LEFT JOIN new_marked ON staged_counts.business_id = new_marked.business_id
    WHERE
        staged_counts.crm_leads
        != COALESCE(built_counts.crm_leads, 0) + COALESCE(new_marked.crm_leads, 0)
),

changed AS (
    -- Read from staging: the leads loaded since the last run, or of a business matched whole.
    SELECT
        crm.business_id,
        crm.crm_lead_key,
        crm.source_id,
        crm.created_at,
        crm.created_date,
        crm.created_via,
        crm.crm_source,
        crm.crm_campaign,
        crm.customer_number IS NOT NULL AS has_phone,
        IF(
            crm.customer_number IS NULL,
            NULL,
            TO_HEX(SHA256(CONCAT(@hash_salt, crm.customer_number)))
        ) AS customer_hash,
        crm.deal_id,
        crm.amount AS deal_amount,
        crm.currency AS deal_currency,
        crm.stage AS deal_stage,
        crm.won_at AS deal_won_at
    FROM staging.crm_leads AS crm
    LEFT JOIN whole ON crm.business_id = whole.business_id
    LEFT JOIN staging.crm_leads_pending AS pending
        ON crm.business_id = pending.business_id AND crm.crm_lead_key = pending.crm_lead_key
    WHERE whole.business_id IS NOT NULL OR pending.crm_lead_key IS NOT NULL
),

customers AS (
    -- The marked leads' customers (a business matched whole needs none: all its leads are in).
    SELECT
        changed.business_id,
        changed.customer_hash
    FROM changed
    LEFT JOIN whole ON changed.business_id = whole.business_id
    WHERE whole.business_id IS NULL AND changed.customer_hash IS NOT NULL
    UNION DISTINCT
    -- A marked lead's customer before the change (its number may have changed).
    SELECT
        built.business_id,
        built.customer_hash
    FROM marts.crm_leads AS built
    INNER JOIN staging.crm_leads_pending AS pending
        ON built.business_id = pending.business_id AND built.crm_lead_key = pending.crm_lead_key
    WHERE built.customer_hash IS NOT NULL
    UNION DISTINCT
    -- Ringback leads the run built (credited on its dates) ...
    SELECT
        business_id,
        customer_hash
    FROM marts.attributed_leads
    WHERE attributed_date BETWEEN @start_date AND @end_date
    UNION DISTINCT
    -- ... and those the run replaced, as last matched (a lead's date follows its credited call).
    SELECT
        business_id,
        customer_hash
    FROM marts.crm_leads
    WHERE lead_date BETWEEN @start_date AND @recovery_end_date
),

crm AS (
    SELECT * FROM changed
    UNION ALL
    -- The unchanged leads of those customers, as the mart holds them (staging's row unchanged).
    SELECT
        built.business_id,
        built.crm_lead_key,
        built.source_id,
        built.crm_created_at AS created_at,
        built.crm_created_date AS created_date,
        built.created_via,
        built.crm_source,
        built.crm_campaign,
        built.has_phone,
        built.customer_hash,
        built.deal_id,
        built.deal_amount,
        built.deal_currency,
        built.deal_stage,
        built.deal_won_at
    FROM marts.crm_leads AS built
    INNER JOIN customers
        ON
            built.business_id = customers.business_id
            AND built.customer_hash = customers.customer_hash
    -- Not in `changed`: every marked lead with a staging row is, and no other has a mart row.
    LEFT JOIN whole ON built.business_id = whole.business_id
    LEFT JOIN staging.crm_leads_pending AS pending
        ON built.business_id = pending.business_id AND built.crm_lead_key = pending.crm_lead_key
    WHERE whole.business_id IS NULL AND pending.crm_lead_key IS NULL
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
    crm.has_phone,
    crm.customer_hash,
    matched.lead_id,
    leads.lead_at,
    leads.lead_date,
    TIMESTAMP_DIFF(crm.created_at, leads.lead_at, SECOND) AS crm_delay_seconds,
    crm.deal_id,
    crm.deal_amount,
    crm.deal_currency,
    crm.deal_stage,
    crm.deal_won_at IS NOT NULL AS deal_won,
    crm.deal_won_at
FROM crm
LEFT JOIN matched
    ON crm.business_id = matched.business_id AND crm.crm_lead_key = matched.crm_lead_key
LEFT JOIN leads
    ON matched.business_id = leads.business_id AND matched.lead_id = leads.lead_id
