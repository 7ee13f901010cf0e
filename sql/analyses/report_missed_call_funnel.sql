{% from "macros/figures.sql" import counts %}
SELECT
    {{ counts([
        'missed_calls', 'recovered_retry', 'recovered_callback', 'not_recovered', 'pending', 'abandoned_short',
    ]) | indent(4) }}
FROM analytics.missed_call_recovery_daily
WHERE missed_date BETWEEN @start AND @end AND business_id = @business
