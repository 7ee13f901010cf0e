{% from "macros/figures.sql" import counts %}
SELECT
    {{ counts([
        'missed_calls', 'attempted', 'never_attempted',
        'sla_met', 'sla_missed', 'sla_not_needed', 'sla_pending', 'abandoned_short',
    ]) | indent(4) }}
FROM analytics.callback_sla_daily
WHERE missed_date BETWEEN @start AND @end AND business_id = @business
