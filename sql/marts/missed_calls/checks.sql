-- Derived column the suite marts_missed_calls checks: an outcome says "recovered" exactly when
-- a recovering call is named (a short hang-up may name the conversation that followed it).
SELECT
    audited.*,  -- noqa: AM04
    audited.outcome = 'abandoned_short'
    OR STARTS_WITH(audited.outcome, 'recovered_') = (audited.recovered_by_call_key IS NOT NULL)
        AS recovered_iff_call
FROM audited
