"""Twilio (telephony). shared/providers.md, "Twilio".

Credentials: the connection's login is the Account SID, its password the auth token (HTTP Basic);
the source's ``account_id`` is the Account SID in the URL. The window is asked for in UTC dates
with the literal keys ``StartTime>=`` / ``StartTime<=`` (Twilio filters by date); legs outside the
source's local days are trimmed here, and since Twilio silently ignores parameters it does not
know, a leg outside the requested dates is kept and quarantined as ``outside_window`` so an
ignored filter shows instead of loading a year twice.

Legs: a child leg (``parent_call_sid`` set) is not a call of its own. An inbound parent that
Twilio answered with TwiML is "completed" whether or not a person picked up; it counts as answered
only when a child leg to a person completed, with that leg's duration as talk time. An inbound
call completed with no child leg reached only an IVR or voicemail: missed.
"""

from __future__ import annotations

import datetime as dt
import email.utils
from collections import defaultdict
from typing import Any

from ringback.sources.base import (
    Connector,
    FetchResult,
    MappingError,
    Window,
    to_e164,
    to_int,
)
from ringback.sources.transport import ProviderError, ProviderHttp, parse_json

MAX_PAGES = 100_000
STATUS = {
    "busy": "busy",
    "no-answer": "missed",
    "canceled": "missed",
    "failed": "failed",
    "completed": "answered",
}
LIVE = frozenset({"queued", "ringing", "in-progress", "initiated"})
DIRECTION = {"inbound": "inbound", "outbound-api": "outbound", "outbound-dial": "outbound"}


def parse_start(value: Any) -> dt.datetime | None:
    try:
        parsed = email.utils.parsedate_to_datetime(str(value))
    except (TypeError, ValueError, IndexError):
        return None
    return parsed.astimezone(dt.UTC) if parsed and parsed.tzinfo else None


class TwilioConnector(Connector):
    provider = "twilio"
    system = "telephony"
    default_base_url = "https://api.twilio.com"
    id_field = "sid"
    statuses = {k.upper(): v for k, v in STATUS.items()}
    live_dispositions = frozenset(s.upper() for s in LIVE)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._children: dict[str, list[dict]] = defaultdict(list)

    def fetch(self, window: Window) -> FetchResult:
        http = ProviderHttp(
            self.provider,
            self.connection.base_url or self.default_base_url,
            auth=(self.connection.login or self.source.account_id, self.connection.password),
            timeout=float(self.source.options.get("timeout_seconds", 60)),
            max_attempts=int(self.source.options.get("max_attempts", 8)),
            min_interval=float(self.source.options.get("request_interval_seconds", 0)),
        )
        first_utc = window.start_at.date()
        last_utc = (window.end_at - dt.timedelta(seconds=1)).date()
        params = {
            "StartTime>=": first_utc.isoformat(),
            "StartTime<=": last_utc.isoformat(),
            "PageSize": int(self.source.options.get("page_size", 1000)),
        }
        url: str | None = f"/2010-04-01/Accounts/{self.source.account_id}/Calls.json"
        legs: list[dict] = []
        seen: set[str] = set()
        try:
            while url:
                if url in seen or len(seen) > MAX_PAGES:
                    raise ProviderError(f"twilio paging loops at {url}")
                seen.add(url)
                # The first request carries the window; next_page_uri carries it onwards.
                doc = self._page(http, url, params if len(seen) == 1 else None)
                legs += doc.get("calls") or []
                url = doc.get("next_page_uri")
                if url and "://" in url:
                    raise ProviderError("twilio next_page_uri is not a path on the API host")
        finally:
            http.close()
        return FetchResult(
            self._trim(legs, window, first_utc, last_utc), http.requests, http.retries
        )

    @staticmethod
    def _trim(
        legs: list[dict], window: Window, first_utc: dt.date, last_utc: dt.date
    ) -> list[dict]:
        """Keep the legs of calls that started on the window's local days.

        Legs on the requested UTC dates but outside the local days are trimmed (the neighbouring
        run loads them). Legs outside the requested dates stay, to be quarantined: the server
        ignored the filter. A child leg follows its parent.
        """
        starts = {
            leg.get("sid"): parse_start(leg.get("start_time"))
            for leg in legs
            if isinstance(leg, dict)
        }
        kept = []
        for leg in legs:
            if not isinstance(leg, dict):
                kept.append(leg)
                continue
            start = starts.get(leg.get("parent_call_sid")) or starts.get(leg.get("sid"))
            if (
                start is None
                or not first_utc <= start.date() <= last_utc
                or window.start_at <= start < window.end_at
            ):
                kept.append(leg)
        return kept

    def _page(self, http: ProviderHttp, url: str, params: dict | None) -> dict:
        def attempt() -> dict:
            doc = parse_json(http.request("GET", url, params=params))
            if not isinstance(doc, dict) or not isinstance(doc.get("calls", []), list):
                raise ProviderError("twilio answered without a 'calls' list")
            return doc

        return http.call("Calls.json", attempt)

    def prepare(self, records: list[Any]) -> None:
        self._children = defaultdict(list)
        for leg in records:
            if isinstance(leg, dict) and leg.get("parent_call_sid"):
                self._children[str(leg["parent_call_sid"])].append(leg)

    def raw_view(self, record: Any) -> dict[str, Any]:
        record = record if isinstance(record, dict) else {}
        status = str(record.get("status") or "").strip().upper() or None
        return {
            "provider_call_id": self.record_id(record),
            "started_at": parse_start(record.get("start_time")),
            "disposition": status,
        }

    def map_record(self, record: dict) -> dict:
        call_id = self.required_id(record)
        if record.get("parent_call_sid"):
            raise MappingError(
                "child_leg", f"leg of {record['parent_call_sid']}: folded into its parent call"
            )
        raw_status = str(record.get("status") or "").strip().lower()
        if raw_status in LIVE:
            raise MappingError("call_in_progress", f"status {raw_status}; next pull")
        if raw_status not in STATUS:
            raise MappingError("unknown_disposition", f"status {raw_status!r}")
        started_at = parse_start(record.get("start_time"))
        if started_at is None:
            raise MappingError("unparseable_time", f"start_time {record.get('start_time')!r}")
        direction = DIRECTION.get(str(record.get("direction") or "").lower())
        if direction is None:
            raise MappingError("unknown_direction", f"direction {record.get('direction')!r}")
        duration = to_int(record, "duration", default=0)
        status, talk = STATUS[raw_status], duration
        if direction == "inbound" and raw_status == "completed":
            people = [
                c
                for c in self._children.get(call_id, [])
                if str(c.get("status")).lower() == "completed"
            ]
            talk = max((to_int(c, "duration", default=0) for c in people), default=0)
            status = "answered" if talk > 0 else "missed"
        customer, company = (record.get("from"), record.get("to"))
        if direction == "outbound":
            customer, company = company, customer
        region = self.source.default_region
        return {
            **self.base_row(call_id, started_at),
            "direction": direction,
            "customer_number": to_e164(customer, region),
            "company_number": to_e164(company, region),
            "wait_seconds": max(duration - talk, 0) if direction == "inbound" else None,
            "talk_seconds": talk if status == "answered" else 0,
            "status": status,
            "traffic_source": None,
            "traffic_medium": None,
            "campaign": None,
            "keyword": None,
            "landing_page": None,
            "gclid": None,
            "ga_client_id": None,
            "provider_status": raw_status,
            "total_seconds": duration,
        }
