-- Derived column the suite marts_call_handling_hourly checks: the inbound calls split exactly
-- into answered and missed, and no more outbound calls answered than placed.
SELECT
    audited.*,  -- noqa: AM04
    audited.inbound_answered + audited.inbound_missed = audited.inbound_calls
    AND audited.outbound_answered <= audited.outbound_attempts AS counts_add_up
FROM audited
