{#-
The tracked numbers of each business: a company number on the telephony side with at least one
matched call (staging.tracked_numbers), listed in its settings (business_settings), or in one of
its number pools (staging.number_pools).
A CTE body, shared by marts.call_reconciliation and marts.unmatched_calls.
-#}
{% macro tracked_numbers() -%}
SELECT
    business_id,
    company_number
FROM staging.tracked_numbers
UNION DISTINCT
SELECT
    settings.business_id,
    listed_number AS company_number
FROM staging.business_settings AS settings
CROSS JOIN UNNEST(SPLIT(settings.tracked_numbers, ',')) AS listed_number
UNION DISTINCT
SELECT
    business_id,
    company_number
FROM staging.number_pools
{%- endmacro %}
