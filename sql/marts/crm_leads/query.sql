-- CRM leads matched to ringback's leads (docs/rules.md "CRM leads"), inside each business.
-- A pair is a CRM lead and a ringback lead of the same customer (hashed number) whose call
-- started within [created_at - before, created_at + after]. Matching is one-to-one, nearest
-- first (by |created_at - lead_at|, ties by the keys), as in staging.unified_calls: uncontested
-- pairs are accepted at once, the contested rest in match_rounds rounds of locally best pairs.
-- Over all history, every run: the matches of any date can change with any CRM load.
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

counted_pairs AS (
    SELECT
        *,
        COUNT(*) OVER (PARTITION BY business_id, crm_lead_key) AS crm_candidates,
        COUNT(*) OVER (PARTITION BY business_id, lead_id) AS lead_candidates
    FROM all_pairs
),

uncontested AS (
    SELECT
        business_id,
        crm_lead_key,
        lead_id
    FROM counted_pairs
    WHERE crm_candidates = 1 AND lead_candidates = 1
),

candidate_pairs AS (
    SELECT
        business_id,
        crm_lead_key,
        lead_id,
        gap_seconds
    FROM counted_pairs
    WHERE crm_candidates > 1 OR lead_candidates > 1
),
{% for round in range(match_rounds) %}

    round_{{ round }}_ranked AS (
        SELECT
            pairs.business_id,
            pairs.crm_lead_key,
            pairs.lead_id,
            ROW_NUMBER() OVER (
                PARTITION BY pairs.business_id, pairs.crm_lead_key
                ORDER BY pairs.gap_seconds ASC, pairs.lead_id ASC
            ) AS crm_rank,
            ROW_NUMBER() OVER (
                PARTITION BY pairs.business_id, pairs.lead_id
                ORDER BY pairs.gap_seconds ASC, pairs.crm_lead_key ASC
            ) AS lead_rank
        FROM candidate_pairs AS pairs
        {%- if round > 0 %}
        LEFT JOIN matched_before_{{ round }} AS done_crm
            ON
                pairs.business_id = done_crm.business_id
                AND pairs.crm_lead_key = done_crm.crm_lead_key
        LEFT JOIN matched_before_{{ round }} AS done_lead
            ON
                pairs.business_id = done_lead.business_id
                AND pairs.lead_id = done_lead.lead_id
        WHERE done_crm.crm_lead_key IS NULL AND done_lead.lead_id IS NULL
        {%- endif %}
    ),

    matched_before_{{ round + 1 }} AS (
        {%- if round > 0 %}
            SELECT
                business_id,
                crm_lead_key,
                lead_id
            FROM matched_before_{{ round }}
            UNION ALL
        {%- endif %}
        SELECT
            business_id,
            crm_lead_key,
            lead_id
        FROM round_{{ round }}_ranked
        WHERE crm_rank = 1 AND lead_rank = 1
    ),
{% endfor %}

matched AS (
    SELECT * FROM uncontested
    UNION ALL
    SELECT * FROM matched_before_{{ match_rounds }}
)

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
