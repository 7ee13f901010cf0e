-- Derived column the suite marts_missed_calls checks: an outcome says "recovered" exactly when
-- a recovering call is named.
SELECT
    audited.*,  -- noqa: AM04
    STARTS_WITH(audited.outcome, 'recovered_') = (audited.recovered_by_call_key IS NOT NULL)
        AS recovered_iff_call
FROM audited
