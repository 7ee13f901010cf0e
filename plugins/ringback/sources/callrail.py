"""CallRail (call tracking). shared/providers.md, "CallRail".

Credentials: the connection's password is the API key (a URI with only a login uses the login),
sent as ``Authorization: Token token="<key>"``. The window is the local days of the account's
time zone. Whether a date ``end_date`` includes its day is unconfirmed, so the connector asks up
to the day after the last one and drops what starts after the window (the next run loads it):
right under either reading. Paging is relative by default (``next_page`` is followed only on the
connection's own host, so the key never leaves it; its ``offset`` counts pages);
``paging: offset`` in the source's options switches to page numbers. HTTP 429 comes with no
Retry-After: the transport backs off exponentially on its own.

The GA client id is the opt-in field ``ga``; a value written as the ``_ga`` cookie
(``GA1.2.<id>.<ts>``, unconfirmed which form CallRail returns) is cut to the client id.

CallRail reports one ``duration`` per call, ringing included: an answered call's talk time is
taken to be its duration, which overstates talk by the ring time (no separate figure exists).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import urlsplit

from ringback.quarantine import Reason
from ringback.sources.base import (
    NO_VENDOR_FLAGS,
    Connector,
    FetchResult,
    MappingError,
    Window,
    gclid_from_url,
    marketing_value,
    tag_list,
    to_bool,
    to_e164,
    to_int,
    to_money,
)
from ringback.sources.transport import ProviderError, ProviderHttp, parse_json

FIELDS = (
    "first_call",
    "source",
    "medium",
    "campaign",
    "keywords",
    "landing_page_url",
    "gclid",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "company_time_zone",
    "ga",
    # CallRail's own verdicts (analytics.vendor_comparison).
    "lead_status",
    "value",
    "tags",
)
# Who took the call (marts.call_handling_hourly, missed_call_followups). Not confirmed against
# CallRail's docs here, and CallRail refuses a request naming a field it does not know: asked
# for only when a source sets ``agent_email: true`` in its options.
AGENT_FIELDS = ("agent_email",)
MAX_PAGES = 10_000
GA_COOKIE = re.compile(r"^GA\d\.\d+\.(\d+\.\d+)$")


def _flag(record: dict, field: str) -> bool:
    """A yes/no field for the window check (a garbled one is the mapper's to report)."""
    try:
        return bool(to_bool(record, field))
    except MappingError:
        return False


def ga_client_id(value: Any) -> str | None:
    """``123.456``, also when written as the ``_ga`` cookie ``GA1.2.123.456``."""
    text = marketing_value(value)
    if text is None:
        return None
    cookie = GA_COOKIE.match(text)
    return cookie.group(1) if cookie else text


class CallRailConnector(Connector):
    provider = "callrail"
    system = "calltracking"
    default_base_url = "https://api.callrail.com"
    id_field = "id"
    statuses: dict[str, str] = {}
    live_dispositions = frozenset()

    def _http(self) -> ProviderHttp:
        key = self.connection.password or self.connection.login
        return self.http(
            headers={"Authorization": f'Token token="{key}"', "Accept": "application/json"}
        )

    def fetch(self, window: Window) -> FetchResult:
        http = self._http()
        path = f"/v3/a/{self.source.account_id}/calls.json"
        per_page = int(self.source.options.get("per_page", 250))
        params: dict[str, Any] = {
            "start_date": window.first_day.isoformat(),
            "end_date": (window.last_day + dt.timedelta(days=1)).isoformat(),
            "fields": ",".join(
                FIELDS + (AGENT_FIELDS if self.source.options.get("agent_email", False) else ())
            ),
            "per_page": per_page,
        }
        relative = self.source.options.get("paging", "relative") == "relative"
        records: list[dict] = []
        try:
            if relative:
                params["relative_pagination"] = "true"
                url: str | None = path
                seen: set[str] = set()
                while url:
                    if url in seen or len(seen) > MAX_PAGES:
                        raise ProviderError(f"callrail paging loops at {url}")
                    seen.add(url)
                    doc = self._page(http, url, params if url == path else None)
                    records += doc.get("calls") or []
                    url = doc.get("next_page") if doc.get("has_next_page") else None
                    if url:
                        self._check_same_host(url)
            else:
                page, total_pages = 1, 1
                while page <= total_pages:
                    doc = self._page(http, path, {**params, "page": page})
                    records += doc.get("calls") or []
                    total_pages = min(int(doc.get("total_pages") or 1), MAX_PAGES)
                    page += 1
        finally:
            http.close()
        return FetchResult(self._trim(records, window), http.requests, http.retries)

    def _trim(self, records: list[Any], window: Window) -> list[Any]:
        """Drop calls of the day after the window (asked for in case end_date is exclusive)."""
        kept = []
        for record in records:
            started_at = self.raw_view(record)["started_at"]
            if started_at is None or started_at < window.end_at:
                kept.append(record)
        return kept

    def _check_same_host(self, url: str) -> None:
        if "://" in url and urlsplit(url).netloc != urlsplit(self.connection.base_url).netloc:
            raise ProviderError(
                f"callrail next_page points to another host ({urlsplit(url).netloc}); "
                "not following it with the API key"
            )

    def _page(self, http: ProviderHttp, url: str, params: dict | None) -> dict:
        def attempt() -> dict:
            doc = parse_json(http.request("GET", url, params=params))
            if not isinstance(doc, dict) or not isinstance(doc.get("calls", []), list):
                raise ProviderError("callrail answered without a 'calls' list")
            return doc

        return http.call("calls.json", attempt)

    def known_dispositions(self) -> list[str]:
        return ["ANSWERED", "LIVE", "NOT_ANSWERED", "VOICEMAIL"]

    def raw_view(self, record: Any) -> dict[str, Any]:
        record = record if isinstance(record, dict) else {}
        try:
            started_at = dt.datetime.fromisoformat(str(record.get("start_time") or ""))
            started_at = (
                started_at if started_at.tzinfo else started_at.replace(tzinfo=self.source.tz)
            ).astimezone(dt.UTC)
        except ValueError:
            started_at = None
        if record.get("duration") is None:
            disposition = "LIVE"
        elif _flag(record, "voicemail"):
            disposition = "VOICEMAIL"
        else:
            disposition = "ANSWERED" if _flag(record, "answered") else "NOT_ANSWERED"
        return {
            "provider_call_id": self.record_id(record),
            "started_at": started_at,
            "disposition": disposition,
        }

    def map_record(self, record: dict) -> dict:
        call_id = self.required_id(record)
        if record.get("duration") is None:  # assumed: a live call has no duration yet
            raise MappingError(Reason.CALL_IN_PROGRESS, "no duration yet; next pull")
        try:
            started_at = dt.datetime.fromisoformat(str(record.get("start_time") or ""))
        except ValueError:
            raise MappingError(
                Reason.UNPARSEABLE_TIME, f"start_time {record.get('start_time')!r}"
            ) from None
        if started_at.tzinfo is None:
            started_at = started_at.replace(tzinfo=self.source.tz)
        started_at = started_at.astimezone(dt.UTC)
        direction = str(record.get("direction") or "").lower()
        if direction not in ("inbound", "outbound"):
            raise MappingError(Reason.UNKNOWN_DIRECTION, f"direction {record.get('direction')!r}")
        duration = to_int(record, "duration", default=0)
        if duration < 0:
            raise MappingError(Reason.INVALID_NUMBER, f"negative duration {duration}")
        # Bodies carry these as JSON booleans or as strings ("false"): both read the same.
        if to_bool(record, "voicemail"):
            status = "voicemail"
        elif to_bool(record, "answered"):
            status = "answered"
        else:
            status = "missed"
        region = self.source.default_region
        landing = marketing_value(record.get("landing_page_url"))
        source = record.get("utm_source") or record.get("source")
        return {
            **self.base_row(call_id, started_at),
            "direction": direction,
            "customer_number": to_e164(record.get("customer_phone_number"), region),
            "company_number": to_e164(
                record.get("tracking_phone_number") or record.get("business_phone_number"), region
            ),
            "wait_seconds": None,
            "talk_seconds": duration if status == "answered" else 0,
            "status": status,
            "traffic_source": marketing_value(source),
            "traffic_medium": marketing_value(record.get("utm_medium") or record.get("medium")),
            "campaign": marketing_value(record.get("utm_campaign") or record.get("campaign")),
            "keyword": marketing_value(record.get("utm_term") or record.get("keywords")),
            "landing_page": landing,
            "gclid": marketing_value(record.get("gclid")) or gclid_from_url(landing),
            "ga_client_id": ga_client_id(record.get("ga")),
            "provider_status": "voicemail"
            if status == "voicemail"
            else ("answered" if status == "answered" else "not_answered"),
            "total_seconds": duration,
            # The opt-in agent_email is "the user who answered the call": nobody on a call nobody
            # answered, whatever the field holds (the line's owner, in real bodies).
            # CallRail gives no agent name.
            "employee_id": marketing_value(record.get("agent_email"))
            if status == "answered"
            else None,
            "employee_name": None,
            **callrail_vendor_flags(record),
        }


def callrail_vendor_flags(record: dict) -> dict[str, Any]:
    """CallRail's own verdicts: ``first_call`` (the caller's first call to this company),
    ``lead_status`` (``good_lead`` is a target call; ``previously_marked_good_lead`` is a caller
    scored before), ``value`` and ``tags``. A call marked spam leaves CallRail's call log, so
    the API shows no spam flag: those calls surface as telephony-only (``spam_filtered``)."""
    status = marketing_value(record.get("lead_status"))
    return {
        **NO_VENDOR_FLAGS,
        "vendor_first_call": to_bool(record, "first_call"),
        "vendor_target_call": None if status is None else status == "good_lead",
        "vendor_lead_status": status,
        "vendor_value": to_money(record, "value"),
        "vendor_tags": tag_list(record.get("tags")),
    }
