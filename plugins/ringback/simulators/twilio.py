"""Twilio Voice API simulator (shared/providers.md, "Twilio").

``GET /2010-04-01/Accounts/{AccountSid}/Calls.json`` with HTTP Basic auth (AccountSid, token).
The window keys are literally ``StartTime>=`` and ``StartTime<=`` (UTC dates, or datetimes);
unknown parameters are silently ignored, like the real API. Pages of ``PageSize`` (default 50,
max 1000), newest first, linked by ``next_page_uri`` until null. An inbound call answered by a
person is a parent leg plus a child ``outbound-dial`` leg to the person's phone; a manager's
callback is an ``outbound-api`` call. ``start_time`` is RFC 2822; ``duration`` a string.
"""

from __future__ import annotations

import base64
import datetime as dt
import email.utils
import hashlib
from urllib.parse import urlencode

from ringback.simulators.journeys import JourneyGenerator, TrueCall
from ringback.simulators.server import ProviderSimulator, Response

MAX_PAGE_SIZE = 1000
MANAGER_PHONE = "+15125550150"
CHILD_STATUS = {
    "answered": "completed",
    "missed": "no-answer",
    "busy": "busy",
    "voicemail": "no-answer",
    "failed": "failed",
}


def sid(prefix: str, *parts: str) -> str:
    return prefix + hashlib.sha256(":".join(parts).encode()).hexdigest()[:32]


class TwilioSimulator(ProviderSimulator):
    provider = "twilio"

    def __init__(
        self,
        generator: JourneyGenerator | None = None,
        *,
        account_sid: str = "ACdemo",
        auth_token: str = "demo-token",
        ignore_window: bool = False,
        now=None,
    ) -> None:
        super().__init__(generator or JourneyGenerator(profile="us"), now=now)
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.ignore_window = ignore_window  # as if the window keys were misspelled

    def legs(self, call: TrueCall) -> list[dict]:
        """The call as Twilio lists it: one parent leg, plus a child leg when it was forwarded."""
        start = call.telephony_started_at
        live = call.ended_at > self.now
        parent_sid = sid("CA", self.account_sid, call.call_id)
        base = {
            "account_sid": self.account_sid,
            "start_time": email.utils.format_datetime(start),
            "date_created": email.utils.format_datetime(start),
            "price_unit": "USD",
            "api_version": "2010-04-01",
        }
        if call.direction == "outbound":
            status = "in-progress" if live else CHILD_STATUS[call.status]
            return [
                {
                    **base,
                    "sid": parent_sid,
                    "parent_call_sid": None,
                    "from": call.company_number,
                    "to": call.customer_number or "",
                    "direction": "outbound-api",
                    "status": status,
                    "duration": "0" if live else str(call.talk_seconds),
                }
            ]
        caller = call.customer_number or "anonymous"
        if live or call.status == "failed":  # one leg: still ringing, or never connected
            return [
                {
                    **base,
                    "sid": parent_sid,
                    "parent_call_sid": None,
                    "from": caller,
                    "to": call.company_number,
                    "direction": "inbound",
                    "status": "in-progress" if live else "failed",
                    "duration": "0",
                }
            ]
        # Twilio answers with TwiML and <Dial>s the manager: the parent is "completed" even when
        # nobody picked up; the child leg says whether a person talked.
        parent = {
            **base,
            "sid": parent_sid,
            "parent_call_sid": None,
            "from": caller,
            "to": call.company_number,
            "direction": "inbound",
            "status": "completed",
            "duration": str(call.wait_seconds + call.talk_seconds),
        }
        child = {
            **base,
            "sid": sid("CA", self.account_sid, call.call_id, "dial"),
            "parent_call_sid": parent_sid,
            "from": call.company_number,
            "to": MANAGER_PHONE,
            "direction": "outbound-dial",
            "status": CHILD_STATUS[call.status],
            "duration": str(call.talk_seconds if call.status == "answered" else 0),
        }
        return [parent, child]

    def handle(self, method, path, query, headers, body) -> Response:
        expected = f"/2010-04-01/Accounts/{self.account_sid}/Calls.json"
        if method != "GET" or path != expected:
            return Response.json({"code": 20404, "message": "not found", "status": 404}, 404)
        token = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        if headers.get("authorization") != f"Basic {token}":
            return Response.json({"code": 20003, "message": "Authenticate", "status": 401}, 401)
        try:
            size = int(query.get("PageSize", ["50"])[0])
            page = int(query.get("Page", ["0"])[0])
        except ValueError:
            return Response.json({"code": 20001, "message": "Invalid paging", "status": 400}, 400)
        size = max(1, min(size, MAX_PAGE_SIZE))
        # Without a window the account's whole history comes back: here its last 30 days.
        start = self.now - dt.timedelta(days=30)
        end = self.now
        if not self.ignore_window:
            if "StartTime>=" in query:
                start = self._bound(query["StartTime>="][0], end=False)
            if "StartTime<=" in query:
                end = self._bound(query["StartTime<="][0], end=True)
        calls = [
            c
            for c in self.calls_between(start - dt.timedelta(seconds=10), end)
            if c.seen_by_telephony
        ]
        legs = [
            leg
            for c in calls
            for leg in self.legs(c)
            if start <= email.utils.parsedate_to_datetime(leg["start_time"]) < end
        ]
        legs.reverse()  # newest first
        offset = page * size
        overlap = self.pending_fault is not None and offset > 0
        if overlap:  # applies to the first page that has a previous one
            self.pending_fault = None
        chunk = legs[offset - 1 if overlap else offset : offset + size]
        next_uri = None
        if offset + size < len(legs):
            keep = {k: v[0] for k, v in query.items() if k not in ("Page", "PageToken")}
            keep.update({"Page": str(page + 1), "PageToken": f"PA{offset + size}"})
            next_uri = f"{expected}?{urlencode(keep)}"
        return Response.json(
            {
                "calls": chunk,
                "page": page,
                "page_size": size,
                "start": offset,
                "end": offset + len(chunk) - 1,
                "next_page_uri": next_uri,
                "previous_page_uri": None,
                "first_page_uri": expected,
                "uri": path,
            }
        )

    @staticmethod
    def _bound(text: str, *, end: bool) -> dt.datetime:
        if len(text) == 10:  # a UTC date: <= includes the whole day
            day = dt.date.fromisoformat(text) + dt.timedelta(days=1 if end else 0)
            return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        value = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return value + (dt.timedelta(seconds=1) if end else dt.timedelta())
