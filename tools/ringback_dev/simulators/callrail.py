"""CallRail API v3 simulator (shared/providers.md, "CallRail").

``GET /v3/a/{account_id}/calls.json`` with ``Authorization: Token token="<key>"`` (quotes
optional). ``start_date``/``end_date`` are dates (or datetimes) in the account's time zone, end
inclusive. Paging by offset (``page``, ``per_page`` <= 250; ``total_pages``, ``total_records``) or
relative (``relative_pagination=true``; ``has_next_page``, ``next_page`` as a full URL).
In relative paging ``offset`` counts pages, not records (the ``next_page`` URL carries it).
``fields=`` opts in to marketing fields, the GA client id (``ga``) among them. A call still in
progress has ``duration: null`` (assumed; no public source says how live calls look).

Limits: ``hourly_limit`` requests per rolling hour (1,000 at CallRail; 10,000 a day); beyond
it, and for the ``http_429`` fault, HTTP 429 comes with no ``Retry-After`` header. Whether
``end_date`` given as a date includes that day is unconfirmed: ``end_date_inclusive=False``
serves the exclusive reading.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import threading
import time
import zoneinfo
from collections import deque
from urllib.parse import urlencode

from ringback_dev.simulators.journeys import JourneyGenerator, TrueCall
from ringback_dev.simulators.server import ProviderSimulator, Response

MAX_PER_PAGE = 250
DEFAULT_PER_PAGE = 100
OPT_IN_FIELDS = {
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
    "lead_status",
    "value",
    "tags",
    "company_time_zone",
    "ga",
    "agent_email",
}
TOKEN = re.compile(r'^Token token="?([^"]+)"?$')


class CallRailSimulator(ProviderSimulator):
    provider = "callrail"

    def __init__(
        self,
        generator: JourneyGenerator | None = None,
        *,
        api_key: str = "demo-key",
        account_id: str = "ACC0000demo",
        time_zone: str = "America/New_York",
        hourly_limit: int = 1000,
        end_date_inclusive: bool = True,
        good_lead_seconds: int = 60,
        hide_spam: bool = True,
        now=None,
    ) -> None:
        super().__init__(generator or JourneyGenerator(profile="us"), now=now)
        self.api_key = api_key
        self.account_id = account_id
        self.tz = zoneinfo.ZoneInfo(time_zone)
        self.hourly_limit = hourly_limit
        self.end_date_inclusive = end_date_inclusive
        self.good_lead_seconds = good_lead_seconds
        # A call marked spam leaves CallRail's call log (its API docs, "Updating a Call"): the
        # account's spam filter has marked the robocallers, so the API never lists them.
        self.hide_spam = hide_spam
        self.retry_after_header = None  # CallRail's 429 says nothing about when to come back
        self._recent: deque[float] = deque()
        self._lock = threading.Lock()

    def _throttled(self) -> bool:
        with self._lock:
            now = time.monotonic()
            while self._recent and self._recent[0] < now - 3600:
                self._recent.popleft()
            if len(self._recent) >= self.hourly_limit:
                return True
            self._recent.append(now)
            return False

    def hides(self, call: TrueCall) -> bool:
        """True for a call the account's spam filter removed from the call log (robocalls)."""
        return self.hide_spam and call.journey == "spam"

    def lead_status(self, call: TrueCall) -> str | None:
        """The account's automatic lead scoring: an answered inbound first call with at least
        ``good_lead_seconds`` of talk is a good lead, a shorter one is not a lead, and a caller
        scored before is ``previously_marked_good_lead``; other calls stay unscored."""
        if call.direction != "inbound" or call.status != "answered":
            return None
        earlier = self.generator.earlier_calls(call, calltracking=True)
        if call.is_repeat_customer or earlier:
            scored = any(c.talk_seconds >= self.good_lead_seconds for c in earlier)
            return "previously_marked_good_lead" if scored else None
        return "good_lead" if call.talk_seconds >= self.good_lead_seconds else "not_a_lead"

    def record(self, call: TrueCall, fields: set[str]) -> dict:
        live = call.ended_at > self.now
        answered = call.status == "answered"
        start = call.started_at.astimezone(self.tz)
        rec = {
            "id": f"CAL{int(call.call_id):020x}",
            "answered": answered and not live,
            "voicemail": call.status == "voicemail" and not live,
            "direction": call.direction,
            "customer_phone_number": call.customer_number,  # E.164; null when withheld
            "customer_name": None,
            "tracking_phone_number": call.company_number,
            "business_phone_number": self.generator.profile.main_line,
            # One number, ringing included: CallRail has no separate talk time.
            "duration": None if live else call.wait_seconds + call.talk_seconds,
            "start_time": start.isoformat(timespec="milliseconds"),
            "recording": None,
        }
        lead_status = self.lead_status(call) if not live else None
        optional = {
            "first_call": not call.is_repeat_customer
            and not self.generator.earlier_calls(call, calltracking=True),
            "source": call.traffic_source or "Direct",
            "medium": call.traffic_medium,
            "campaign": call.campaign,
            "keywords": call.keyword,
            "landing_page_url": call.landing_page,
            "gclid": call.gclid,
            "utm_source": call.traffic_source,
            "utm_medium": call.traffic_medium,
            "utm_campaign": call.campaign,
            "utm_term": call.keyword,
            "lead_status": lead_status,
            "value": 150 if lead_status == "good_lead" else None,
            "tags": ["new-customer"] if lead_status == "good_lead" else [],
            "company_time_zone": self.tz.key,
            "ga": call.ga_client_id,
            # The agent who took the call (an opt-in field; unconfirmed against a live account).
            "agent_email": call.employee.email if call.employee and call.talk_seconds else None,
        }
        rec.update({k: v for k, v in optional.items() if k in fields})
        return rec

    def handle(self, method, path, query, headers, body) -> Response:
        expected = f"/v3/a/{self.account_id}/calls.json"
        if method != "GET" or path != expected:
            return Response.json({"error": "Not Found"}, status=404)
        match = TOKEN.match(headers.get("authorization", ""))
        if not match or match.group(1) != self.api_key:
            return Response.json({"error": "HTTP Token: Access denied."}, status=401)
        if self._throttled():
            return Response.json({"error": "Rate limit exceeded"}, status=429)
        try:
            start = self._bound(query, "start_date", end=False)
            end = self._bound(query, "end_date", end=True)
            per_page = int(query.get("per_page", [DEFAULT_PER_PAGE])[0])
        except ValueError as exc:
            return Response.json({"error": str(exc)}, status=400)
        if not 1 <= per_page <= MAX_PER_PAGE:
            return Response.json({"error": f"per_page must be 1..{MAX_PER_PAGE}"}, status=400)
        fields = {f for f in query.get("fields", [""])[0].split(",") if f}
        if unknown := fields - OPT_IN_FIELDS:
            return Response.json({"error": f"Unknown fields: {', '.join(sorted(unknown))}"}, 400)
        calls = [
            c
            for c in self.calls_between(start, end)
            if c.seen_by_calltracking and not self.hides(c)
        ]
        # Newest first, as CallRail sorts by default.
        records = [self.record(c, fields) for c in reversed(calls)]
        relative = query.get("relative_pagination", ["false"])[0] == "true"
        if relative:
            offset = int(query.get("offset", ["0"])[0]) * per_page  # offset counts pages
        else:
            page = int(query.get("page", ["1"])[0])
            offset = (page - 1) * per_page
        overlap = self.pending_fault is not None and offset > 0
        if overlap:  # applies to the first page that has a previous one
            self.pending_fault = None
        chunk = records[offset - 1 if overlap else offset : offset + per_page]
        if relative:
            has_next = offset + per_page < len(records)
            next_query = {k: v[0] for k, v in query.items()}
            next_query["offset"] = str(offset // per_page + 1)
            return Response.json(
                {
                    "has_next_page": has_next,
                    "next_page": f"{self.base_url}{expected}?{urlencode(next_query)}"
                    if has_next
                    else None,
                    "calls": chunk,
                }
            )
        return Response.json(
            {
                "page": offset // per_page + 1,
                "per_page": per_page,
                "total_pages": max(1, math.ceil(len(records) / per_page)),
                "total_records": len(records),
                "calls": chunk,
            }
        )

    def _bound(self, query, name: str, *, end: bool) -> dt.datetime:
        if name not in query:
            raise ValueError(f"{name} is required")
        text = query[name][0]
        try:
            if len(text) == 10:
                whole_day = end and self.end_date_inclusive
                day = dt.date.fromisoformat(text) + dt.timedelta(days=1 if whole_day else 0)
                return dt.datetime.combine(day, dt.time(), tzinfo=self.tz).astimezone(dt.UTC)
            value = dt.datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{name} must be an ISO date or datetime, got {text!r}") from None
        value = value if value.tzinfo else value.replace(tzinfo=self.tz)
        return value.astimezone(dt.UTC) + (dt.timedelta(seconds=1) if end else dt.timedelta())
