-- Derived columns the suite marts_reconciliation_incidents checks: an incident has a start on
-- or before its date, and only an incident names the day.
SELECT
    audited.*,  -- noqa: AM04
    (audited.incident_started_date IS NOT NULL) = audited.is_incident
    AND COALESCE(audited.incident_started_date <= audited.report_date, TRUE) AS start_iff_incident,
    NOT audited.is_main_cause OR audited.is_incident AS main_cause_is_an_incident
FROM audited
