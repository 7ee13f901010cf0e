-- Derived columns the suite marts_attributed_leads checks: rules relating several columns of a
-- lead, each judged with its own business's settings.
SELECT
    audited.*,  -- noqa: AM04
    audited.attribution_type != 'primary_call'
    OR (
        audited.lead_call_key = audited.attributed_call_key
        AND audited.recovery_seconds = 0
    ) AS primary_has_no_recovery,
    COALESCE(audited.talk_seconds > settings.talk_threshold_seconds, FALSE)
        AS lead_is_conversation
FROM audited
LEFT JOIN settings ON audited.business_id = settings.business_id
