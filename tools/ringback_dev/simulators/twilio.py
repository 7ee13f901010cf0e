"""Twilio Voice API simulator (shared/providers.md, "Twilio").

``GET /2010-04-01/Accounts/{AccountSid}/Calls.json`` with HTTP Basic auth (AccountSid, token).
The window keys are ``StartTime>`` (on or after) and ``StartTime<`` (before, exclusive), UTC
dates, as Twilio's OpenAPI document declares them (tests/contracts/twilio); ``StartTime`` is one
date. What the real API does with a key it does not know (the old key spelt with ``>=``, say)
is unconfirmed: ``unknown_keys="ignore"`` serves the whole history as if unfiltered,
``"refuse"`` answers 400. Pages of ``PageSize`` (default 50, max 1000), newest first, linked by
``next_page_uri`` until null. ``start_time`` is RFC 2822; ``duration`` a string.

How a person answers depends on the account's set-up (``setup``):

* ``dial``: TwiML ``<Dial>`` forwards to the person: a parent leg plus a child ``outbound-dial``
  leg; the parent is "completed" whether or not anyone picked up.
* ``direct``: the call rings straight through to a SIP/Client endpoint (a trunk or a softphone):
  one leg, "completed" with the talk time as duration when answered, "no-answer" otherwise.
* ``flex``: a Studio flow plays a greeting and hands the call to Flex/TaskRouter; the agent joins
  by a conference leg of its own (``outbound-api`` to ``client:<agent>``, no parent link). The
  customer's leg is "completed" in every case.

A manager's callback is an ``outbound-api`` call.
"""

from __future__ import annotations

import base64
import datetime as dt
import email.utils
import hashlib
from urllib.parse import urlencode

from ringback_dev.simulators.journeys import JourneyGenerator, TrueCall
from ringback_dev.simulators.server import ProviderSimulator, Response

MAX_PAGE_SIZE = 1000
DEMO_ACCOUNT_SID = "AC" + "0" * 28 + "dead"
MANAGER_PHONE = "+15125550150"
AGENT = "client:olena"
FLEX_GREETING_SECONDS = 12
SETUPS = ("dial", "direct", "flex")
WINDOW_KEYS = ("StartTime", "StartTime>", "StartTime<")
KNOWN_KEYS = {*WINDOW_KEYS, "PageSize", "Page", "PageToken", "To", "From", "ParentCallSid"}
KNOWN_KEYS |= {"Status", "EndTime", "EndTime>", "EndTime<"}
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
        account_sid: str = DEMO_ACCOUNT_SID,
        auth_token: str = "demo-token",
        unknown_keys: str = "ignore",
        setup: str = "dial",
        ignore_window: bool = False,
        now=None,
    ) -> None:
        super().__init__(generator or JourneyGenerator(profile="us"), now=now)
        if unknown_keys not in ("ignore", "refuse") or setup not in SETUPS:
            raise ValueError(f"unknown_keys ignore|refuse, setup {'|'.join(SETUPS)}")
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.unknown_keys = unknown_keys
        self.setup = setup
        self.ignore_window = ignore_window  # serve as if no filter came (an ignored key's effect)

    def legs(self, call: TrueCall) -> list[dict]:
        """The call as Twilio lists it: one parent leg, plus a child leg when it was forwarded."""
        start = call.telephony_started_at
        live = call.ended_at > self.now
        parent_sid = sid("CA", self.account_sid, call.call_id)
        base = {
            "account_sid": self.account_sid,
            "start_time": email.utils.format_datetime(start),
            "end_time": None if live else email.utils.format_datetime(call.ended_at),
            "date_created": email.utils.format_datetime(start),
            "price_unit": "USD",
            "api_version": "2010-04-01",
            "answered_by": None,  # set only when answering-machine detection is on
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
                    "duration": str(call.talk_seconds) if status == "completed" else None,
                }
            ]
        # The customer's leg; each set-up below says how it ended.
        inbound = {
            **base,
            "sid": parent_sid,
            "parent_call_sid": None,
            "from": call.customer_number or "anonymous",
            "to": call.company_number,
            "direction": "inbound",
        }
        if live or call.status == "failed":  # one leg: still ringing, or never connected
            return [{**inbound, "status": "in-progress" if live else "failed", "duration": None}]
        answered = call.status == "answered"
        if self.setup == "direct":
            return [
                {
                    **inbound,
                    "status": "completed" if answered else CHILD_STATUS[call.status],
                    # Empty for busy, failed and unanswered calls (the spec's description).
                    "duration": str(call.talk_seconds) if answered else None,
                }
            ]
        if self.setup == "flex":
            on_line = FLEX_GREETING_SECONDS + call.wait_seconds + call.talk_seconds
            legs = [
                {
                    **inbound,
                    "status": "completed",
                    "duration": str(on_line),
                    "end_time": email.utils.format_datetime(start + dt.timedelta(seconds=on_line)),
                }
            ]
            if answered:
                joined = start + dt.timedelta(seconds=FLEX_GREETING_SECONDS + call.wait_seconds)
                legs.append(
                    {
                        **base,
                        "sid": sid("CA", self.account_sid, call.call_id, "agent"),
                        "parent_call_sid": None,
                        "start_time": email.utils.format_datetime(joined),
                        "end_time": email.utils.format_datetime(
                            joined + dt.timedelta(seconds=call.talk_seconds)
                        ),
                        "date_created": email.utils.format_datetime(joined),
                        "from": call.company_number,
                        "to": f"client:{call.employee.login}" if call.employee else AGENT,
                        "direction": "outbound-api",
                        "status": "completed",
                        "duration": str(call.talk_seconds),
                    }
                )
            return legs
        # Twilio answers with TwiML and <Dial>s the manager: the parent is "completed" even when
        # nobody picked up; the child leg says whether a person talked.
        parent = {
            **inbound,
            "status": "completed",
            "duration": str(call.wait_seconds + call.talk_seconds),
        }
        child = {
            **base,
            "sid": sid("CA", self.account_sid, call.call_id, "dial"),
            "parent_call_sid": parent_sid,
            "from": call.company_number,
            # <Dial><Client>: the answering employee's identity; a plain forward to a phone
            # when nobody in the PBX picked up.
            "to": f"client:{call.employee.login}" if call.employee else MANAGER_PHONE,
            "direction": "outbound-dial",
            "status": CHILD_STATUS[call.status],
            "duration": str(call.talk_seconds) if answered else None,
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
        unknown = sorted(set(query) - KNOWN_KEYS)
        if unknown and self.unknown_keys == "refuse":
            return Response.json(
                {"code": 20001, "message": f"Invalid parameter: {unknown[0]}", "status": 400},
                400,
            )
        # Without a window the account's whole history comes back: here its last 30 days.
        start = self.now - dt.timedelta(days=30)
        end = self.now
        try:
            if self.ignore_window:
                pass
            elif "StartTime" in query:
                start = self._day(query["StartTime"][0])
                end = start + dt.timedelta(days=1)
            else:
                if "StartTime>" in query:
                    start = self._day(query["StartTime>"][0])
                if "StartTime<" in query:
                    end = self._day(query["StartTime<"][0])  # before: exclusive
        except ValueError:
            return Response.json(
                {"code": 20001, "message": "StartTime must be YYYY-MM-DD", "status": 400}, 400
            )
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
    def _day(text: str) -> dt.datetime:
        """A UTC date (Twilio filters by date; a time part is ignored, as the docs show)."""
        return dt.datetime.combine(dt.date.fromisoformat(text[:10]), dt.time(), tzinfo=dt.UTC)
