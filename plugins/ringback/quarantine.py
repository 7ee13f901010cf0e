"""Why a record is quarantined instead of staged: the one list of reasons.

Connectors raise ``MappingError(Reason.X, detail)``; the batch adds its own (window, duplicates,
types); row-level expectations of the staging suites name theirs in ``meta.quarantine_reason``.
``expected`` reasons are normal operation (a leg folded into its call, a call still live) and
stay out of the quarantine-ratio check; the summary, the docs and a test read this list.
"""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    """A quarantine reason (``staging.calls_quarantine.reason``, ``crm_leads_quarantine``)."""

    expected: bool
    description: str

    def __new__(cls, value: str, expected: bool, description: str) -> Reason:
        member = str.__new__(cls, value)
        member._value_ = value
        member.expected = expected
        member.description = description
        return member

    # Normal operation: not counted against max_quarantine_ratio.
    CHILD_LEG = (
        "child_leg",
        True,
        "another leg of a call the provider lists leg by leg: folded into its call",
    )
    AGENT_LEG = (
        "agent_leg",
        True,
        "a Twilio leg to an agent (client: or sip:) that lost its parent",
    )
    CALL_IN_PROGRESS = (
        "call_in_progress",
        True,
        "the call was still live: staged by the next pull",
    )
    INTERNAL_CALL = ("internal_call", True, "extension to extension (Asterisk): no customer")
    NOT_A_CALL = ("not_a_call", True, "an SMS or fax record of a call log (Binotel)")
    SUPERSEDED_BY_NEWER_ROW = (
        "superseded_by_newer_row",
        True,
        "an older copy of a CRM export's row: the newest copy is staged",
    )
    # Something is wrong with the record or the batch.
    NOT_AN_OBJECT = ("not_an_object", False, "the record is not a JSON object")
    MISSING_CALL_ID = ("missing_call_id", False, "the record has no call id")
    MISSING_RECORD_ID = ("missing_record_id", False, "a CRM record without its id")
    INVALID_NUMBER = ("invalid_number", False, "a numeric field holds something else")
    INVALID_AMOUNT = ("invalid_amount", False, "a deal amount that is no amount")
    INVALID_DEAL = ("invalid_deal", False, "a CRM deal that cannot be read")
    INVALID_FLAG = ("invalid_flag", False, "a vendor's yes/no flag that is neither")
    INVALID_PHONE = ("invalid_phone", False, "a CRM phone field that is no phone number")
    UNKNOWN_DIRECTION = ("unknown_direction", False, "a call direction the connector does not know")
    UNKNOWN_DISPOSITION = (
        "unknown_disposition",
        False,
        "a call status the connector does not know",
    )
    UNPARSEABLE_TIME = ("unparseable_time", False, "a time that cannot be read")
    MALFORMED_ROW = ("malformed_row", False, "an Asterisk Master.csv line with other columns")
    MAPPING_FAILED = ("mapping_failed", False, "the mapper failed on a shape nobody foresaw")
    OUTSIDE_WINDOW = ("outside_window", False, "the call started outside the pulled window")
    DUPLICATE_IN_BATCH = (
        "duplicate_in_batch",
        False,
        "an earlier copy of a call key in the same pull: the later copy is staged",
    )
    CONTRACT_TYPE_MISMATCH = (
        "contract_type_mismatch",
        False,
        "a mapped value does not fit the staged table's types",
    )
    # Row-level expectations of the staging suites (meta.quarantine_reason).
    IMPLAUSIBLE_TALK_TIME = (
        "implausible_talk_time",
        False,
        "talk time beyond what a call can last",
    )
    TALK_EXCEEDS_TOTAL = ("talk_exceeds_total", False, "talk time longer than the whole call")
    INVALID_CUSTOMER_NUMBER = (
        "invalid_customer_number",
        False,
        "a customer number that is not E.164 after normalisation",
    )


EXPECTED = frozenset(r for r in Reason if r.expected)


def quarantine_row(
    *,
    business_id: str,
    load_id: str,
    source_id: str,
    provider: str,
    id_column: str,
    record_id: str | None,
    reason: Reason | str,
    detail: str,
    record: str,
    load_date: object,
) -> dict[str, object]:
    """A row of a quarantine table (calls or CRM leads: ``id_column`` names the record id);
    the reason must be one of ``Reason``."""
    return {
        "business_id": business_id,
        "load_id": load_id,
        "source_id": source_id,
        "provider": provider,
        id_column: record_id,
        "reason": Reason(reason).value,
        "detail": detail,
        "record": record,
        "load_date": load_date,
    }
