-- Calls handled per business, local date, hour and employee, with the weekday spelled out. An
-- answer rate is SUM(inbound_answered) / SUM(inbound_calls) over whatever the rows are grouped
-- by (hour x weekday, day, business); per employee, answered calls and attempts (missed
-- inbound calls have no employee).
SELECT
    business_id,
    call_date,
    call_hour,
    iso_weekday,
    FORMAT_DATE('%A', call_date) AS weekday_name,
    employee_id,
    employee_name,
    inbound_calls,
    inbound_answered,
    inbound_missed,
    outbound_attempts,
    outbound_answered,
    talk_seconds
FROM marts.call_handling_hourly
