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
