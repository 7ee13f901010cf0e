{#-
Figures the summary, the report and their queries share, each written once.
-#}
{#- Revenue of won deals: one sum where the rows share one currency, NULL where they mix. -#}
{% macro won_amount() -%}
IF(COUNT(DISTINCT won_currency) > 1, NULL, SUM(won_amount))
{%- endmacro %}

{% macro won_currency() -%}
IF(COUNT(DISTINCT won_currency) > 1, 'mixed', MIN(won_currency))
{%- endmacro %}

{#- Leads a missed call would have lost, as a share of all leads. -#}
{% macro recovered_share() -%}
SUM(recovered_leads) / SUM(leads)
{%- endmacro %}

{#- Leads by how they were won, summed. -#}
{% macro lead_sums() -%}
SUM(leads) AS leads,
SUM(primary_leads) AS primary_leads,
SUM(retry_leads) AS retry_leads,
SUM(callback_leads) AS callback_leads,
SUM(recovered_leads) AS recovered_leads
{%- endmacro %}

{#- "source / medium", as the summary shows a channel. -#}
{% macro channel() -%}
CONCAT(COALESCE(traffic_source, '(untracked)'), ' / ', COALESCE(traffic_medium, '-'))
{%- endmacro %}

{#- Sums of counts that are 0, not NULL, over no rows. -#}
{% macro counts(columns) -%}
{% for column in columns %}COALESCE(SUM({{ column }}), 0) AS {{ column }}{{ "," if not loop.last }}
{% endfor %}
{%- endmacro %}

{#- Tracking numbers over a range (analytics.tracking_number_health), for the summary (all
businesses) and the report ("one_business": @business only). -#}
{% macro tracking_number_rows(scope="all_businesses") -%}
SELECT
    business_id,
    company_number,
    COALESCE(pool_name, '-') AS pool,
    CAST(SUM(calltracking_calls) AS INT64) AS calls,
    CAST(SUM(sessionless_calls) AS INT64) AS sessionless,
    ROUND(SAFE_DIVIDE(SUM(sessionless_calls), SUM(calltracking_calls)), 3) AS sessionless_share,
    CAST(SUM(telephony_only_calls) AS INT64) AS telephony_only,
    CAST(SUM(calltracking_only_calls) AS INT64) AS calltracking_only,
    CAST(SUM(shared_calls) AS INT64) AS shared
FROM analytics.tracking_number_health
WHERE
    report_date BETWEEN @start AND @end
    {%- if scope == "one_business" %} AND business_id = @business{% endif %}
GROUP BY business_id, company_number, pool_name
ORDER BY business_id ASC, pool ASC, company_number ASC
{%- endmacro %}

{#- Number pools over a range (analytics.number_pool_health); `scope` as above. -#}
{% macro number_pool_rows(scope="all_businesses") -%}
SELECT
    business_id,
    pool_name,
    MAX(pool_size) AS pool_size,
    COUNT(*) AS days,
    COUNTIF(is_pool_full) AS full_days,
    MAX(peak_numbers_per_hour) AS peak_numbers_per_hour,
    CAST(SUM(calltracking_calls) AS INT64) AS calls,
    CAST(SUM(sessionless_calls) AS INT64) AS sessionless,
    ROUND(SAFE_DIVIDE(SUM(sessionless_calls), SUM(calltracking_calls)), 3) AS sessionless_share,
    CAST(SUM(shared_calls) AS INT64) AS shared,
    MIN(IF(sessionless_calls > 0, report_date, NULL)) AS first_sessionless_date
FROM analytics.number_pool_health
WHERE
    report_date BETWEEN @start AND @end
    {%- if scope == "one_business" %} AND business_id = @business{% endif %}
GROUP BY business_id, pool_name
ORDER BY business_id ASC, pool_name ASC
{%- endmacro %}
