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
