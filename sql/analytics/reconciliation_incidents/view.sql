-- One row per incident (marts.reconciliation_incidents): a business's cause of unmatched calls
-- that rose above its own baseline, from the day it started to the day it closed (NULL while
-- it is still open on the business's latest complete date).
WITH
incident_days AS (
    SELECT *
    FROM marts.reconciliation_incidents
    WHERE is_incident
),

incidents AS (
    SELECT
        business_id,
        cause,
        incident_started_date AS started_date,
        MAX(report_date) AS last_date,
        COUNT(*) AS incident_days,
        COUNTIF(is_main_cause) AS main_cause_days,
        CAST(SUM(cause_calls) AS INT64) AS cause_calls,
        CAST(SUM(inbound_calls) AS INT64) AS inbound_calls,
        MAX(cause_share) AS peak_share
    FROM incident_days
    GROUP BY business_id, cause, incident_started_date
),

first_days AS (
    SELECT
        business_id,
        cause,
        report_date AS started_date,
        baseline_median,
        incident_line
    FROM incident_days
    WHERE report_date = incident_started_date
),

closings AS (
    -- The first complete date after the last incident date: the share was back.
    SELECT
        incidents.business_id,
        incidents.cause,
        incidents.started_date,
        MIN(later.report_date) AS closed_date
    FROM incidents
    INNER JOIN marts.reconciliation_incidents AS later
        ON
            incidents.business_id = later.business_id
            AND incidents.cause = later.cause
            AND incidents.last_date < later.report_date
    GROUP BY incidents.business_id, incidents.cause, incidents.started_date
),

flagged AS (
    -- The days of each incident the fixed-threshold flag also flagged.
    SELECT
        incident_days.business_id,
        incident_days.cause,
        incident_days.incident_started_date AS started_date,
        COUNTIF(reconciliation.is_mismatch) AS flagged_days
    FROM incident_days
    INNER JOIN marts.call_reconciliation AS reconciliation
        ON
            incident_days.business_id = reconciliation.business_id
            AND incident_days.report_date = reconciliation.report_date
    GROUP BY incident_days.business_id, incident_days.cause, incident_days.incident_started_date
)

SELECT
    incidents.business_id,
    incidents.cause,
    incidents.started_date,
    closings.closed_date,
    IF(closings.closed_date IS NULL, 'open', 'closed') AS status,
    incidents.last_date,
    incidents.incident_days,
    incidents.main_cause_days,
    incidents.cause_calls,
    incidents.inbound_calls,
    incidents.peak_share,
    first_days.baseline_median,
    first_days.incident_line,
    COALESCE(flagged.flagged_days, 0) AS flagged_days
FROM incidents
LEFT JOIN first_days
    ON
        incidents.business_id = first_days.business_id
        AND incidents.cause = first_days.cause
        AND incidents.started_date = first_days.started_date
LEFT JOIN closings
    ON
        incidents.business_id = closings.business_id
        AND incidents.cause = closings.cause
        AND incidents.started_date = closings.started_date
LEFT JOIN flagged
    ON
        incidents.business_id = flagged.business_id
        AND incidents.cause = flagged.cause
        AND incidents.started_date = flagged.started_date
