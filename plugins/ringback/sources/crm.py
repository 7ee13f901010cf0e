"""What every CRM connector shares: the staging.crm_leads row, how a lead was created, amounts.

A CRM connector has the two halves of a call connector: ``fetch`` pulls raw records for a
window, ``map_record`` turns one into a ``staging.crm_leads`` row or raises ``MappingError``
with a reason (the record goes to quarantine). A record is one lead: a HubSpot contact with its
deals, or one row of an export file.
"""

from __future__ import annotations

import abc
import datetime as dt
import math
from typing import Any

from ringback.quarantine import Reason
from ringback.sources.base import FetchResult, MappingError, SourceConnector, Window, to_e164

CREATED_VIA = ("manual", "form", "import", "integration", "other")


class CrmConnector(SourceConnector):
    """One CRM account (or export folder): fetch a window of records, map each to a lead."""

    system = "crm"
    load = "crm"

    @abc.abstractmethod
    def fetch(self, window: Window) -> FetchResult:
        """Every raw record the CRM has for the window."""

    @abc.abstractmethod
    def record_id(self, record: Any) -> str | None:
        """The CRM's id of a raw record, if it has one."""

    @abc.abstractmethod
    def raw_view(self, record: Any) -> dict[str, Any]:
        """What the raw suite checks of a record as received: ``crm_record_id``, ``created_at``
        (UTC, None when unparseable) and ``created_source`` (as sent)."""

    @abc.abstractmethod
    def map_record(self, record: Any) -> dict[str, Any]:
        """One raw record as a staging.crm_leads row."""

    def known_created_sources(self) -> list[str]:
        """Values of ``created_source`` the connector maps to a ``created_via`` of its own."""
        return []

    def lead_key(self, record_id: str) -> str:
        return f"{self.provider}:{self.source.account_id}:{record_id}"

    def base_row(self, record_id: str, created_at: dt.datetime) -> dict[str, Any]:
        return {
            "business_id": self.source.business_id,
            "crm_lead_key": self.lead_key(record_id),
            "source_id": self.source.id,
            "provider": self.provider,
            "account_id": self.source.account_id,
            "crm_record_id": record_id,
            "created_at": created_at,
            # The business's date, whatever zone the CRM account reports in.
            "created_date": created_at.astimezone(self.source.business_tz).date(),
        }

    def phone(self, *values: Any) -> str | None:
        """The first non-empty phone value in E.164; a value that is no phone number is an
        error (a lead the CRM holds cannot be matched by a typo), an empty one is not."""
        for value in values:
            text = str(value).strip() if value is not None else ""
            if not text:
                continue
            number = to_e164(text, self.source.default_region)
            if number is None:
                raise MappingError(Reason.INVALID_PHONE, "a phone field holds no phone number")
            return number
        return None


def parse_time(value: Any, tz: Any, field: str) -> dt.datetime:
    """A CRM timestamp: ISO 8601 (naive = the source's zone) or epoch milliseconds, as UTC."""
    text = str(value).strip() if value is not None else ""
    if not text:
        raise MappingError(Reason.UNPARSEABLE_TIME, f"{field} is empty")
    if text.isdigit():
        return dt.datetime.fromtimestamp(int(text) / 1000, dt.UTC)
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise MappingError(Reason.UNPARSEABLE_TIME, f"{field} {text!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    return parsed.astimezone(dt.UTC)


def parse_time_or_none(value: Any, tz: Any, field: str) -> dt.datetime | None:
    if value is None or str(value).strip() == "":
        return None
    return parse_time(value, tz, field)


def parse_amount(value: Any) -> float | None:
    """A deal amount: a number or a numeric string (``1 200,50`` too); empty = no amount."""
    if value is None or str(value).strip() == "":
        return None
    text = str(value).strip().replace("\u00a0", "").replace(" ", "")
    if "," in text and "." not in text:
        text = text.replace(",", ".")
    try:
        amount = float(text)
    except ValueError:
        raise MappingError(Reason.INVALID_AMOUNT, f"amount {value!r} is not a number") from None
    if not math.isfinite(amount) or amount < 0:
        raise MappingError(Reason.INVALID_AMOUNT, f"amount {value!r} is not a non-negative number")
    return amount


def created_via(value: Any, mapping: dict[str, str]) -> str:
    """``created_via`` of a CRM's own creation source, through ``mapping`` (case-insensitive);
    anything unknown is ``other``."""
    text = str(value or "").strip().lower()
    lowered = {str(k).strip().lower(): v for k, v in mapping.items()}
    via = lowered.get(text, "other")
    return via if via in CREATED_VIA else "other"
