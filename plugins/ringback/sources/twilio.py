"""Twilio (telephony). shared/providers.md, "Twilio"; tests/contracts/twilio holds the official
OpenAPI description of the Calls list that the requests and the simulator are checked against.

Credentials: the connection's login is the Account SID, its password the auth token (HTTP Basic);
the source's ``account_id`` is the Account SID in the URL. The window is asked for as UTC dates
with the spec's keys ``StartTime>`` (on or after) and ``StartTime<`` (before: exclusive, so the
day after the last one), written as midnight date-times as the spec's format and twilio-python
have them; legs outside the source's local days are trimmed here. What Twilio does
with a key it does not know is unconfirmed, so a leg outside the requested dates is kept and
quarantined as ``outside_window``: an ignored filter shows instead of loading a year twice.

Legs: a child leg (``parent_call_sid`` set) is not a call of its own, and neither is an agent's
leg (a call *to* ``client:``/``sip:``). When an inbound call counts as answered depends on the
account's set-up, the source option ``answer_detection``:

* ``child_leg`` (default; TwiML ``<Dial>``): the parent is "completed" once TwiML answered it,
  whether or not a person picked up; it is answered only when a child leg completed, with that
  leg's duration as talk time. Completed with no child leg = only an IVR or voicemail = missed.
* ``parent_completed`` (calls ring straight through to a SIP trunk or Client endpoint): the
  parent's own status and duration say it.
* ``agent_leg`` (Studio "Send to Flex", TaskRouter, conferences): the agent joins by a leg of
  its own that carries no parent link; each completed agent leg is given to the inbound call
  that was in progress when it started (one to one, the latest such call first), and that call
  is answered with the agent leg's duration as talk time.
"""

from __future__ import annotations

import datetime as dt
import email.utils
from collections import defaultdict
from typing import Any

from ringback.quarantine import Reason
from ringback.sources.base import (
    NO_MARKETING,
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
# answered_by when answering-machine detection is on (Twilio's AMD docs): a human, a machine
# (at the start of its greeting, or at its end: beep, silence, other), a fax, or unknown.
MACHINE = {"machine_start", "machine_end_beep", "machine_end_silence", "machine_end_other", "fax"}
LIVE = frozenset({"queued", "ringing", "in-progress", "initiated"})
DIRECTION = {
    "inbound": "inbound",
    "outbound-api": "outbound",
    "outbound-dial": "outbound",
    # Elastic SIP Trunking: from the PSTN into the customer's own PBX, and out of it.
    "trunking-originating": "inbound",
    "trunking-terminating": "outbound",
}
ANSWER_DETECTION = ("child_leg", "parent_completed", "agent_leg")
AGENT_PREFIXES = ("client:", "sip:")


def agent_identity(to: object) -> str | None:
    """``client:olena`` -> ``olena``; ``sip:olena@shop.sip.twilio.com`` -> ``olena@shop...``;
    None for a phone number (a forward to a mobile is not an identity)."""
    text = str(to or "").strip()
    for prefix in AGENT_PREFIXES:
        if text.lower().startswith(prefix):
            return text[len(prefix) :] or None
    return None


def is_agent_leg(leg: dict) -> bool:
    """A leg to a person's softphone or SIP endpoint, never a customer call."""
    return str(leg.get("to") or "").lower().startswith(AGENT_PREFIXES)


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
        self.answer_detection = str(self.source.options.get("answer_detection", "child_leg"))
        if self.answer_detection not in ANSWER_DETECTION:
            raise ValueError(
                f"source {self.source.id}: answer_detection must be one of "
                f"{', '.join(ANSWER_DETECTION)}, not {self.answer_detection!r}"
            )

    def fetch(self, window: Window) -> FetchResult:
        http = self.http(
            max_attempts=8,
            auth=(self.connection.login or self.source.account_id, self.connection.password),
        )
        first_utc = window.start_at.date()
        last_utc = (window.end_at - dt.timedelta(seconds=1)).date()
        params = {
            # date-time as the spec declares and twilio-python sends (serialize.iso8601_datetime);
            # Twilio filters by the date part.
            "StartTime>": f"{first_utc.isoformat()}T00:00:00Z",
            "StartTime<": f"{last_utc + dt.timedelta(days=1)}T00:00:00Z",
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
        legs = [leg for leg in records if isinstance(leg, dict)]
        for leg in legs:
            if leg.get("parent_call_sid"):
                self._children[str(leg["parent_call_sid"])].append(leg)
        if self.answer_detection == "agent_leg":
            self._assign_agent_legs(legs)

    def _assign_agent_legs(self, legs: list[dict]) -> None:
        """Give each completed, unlinked agent leg to the inbound call in progress at its start."""
        calls = []  # (start, end, sid) of inbound parents
        for leg in legs:
            start = parse_start(leg.get("start_time"))
            if leg.get("parent_call_sid") or start is None:
                continue
            if DIRECTION.get(str(leg.get("direction") or "").lower()) != "inbound":
                continue
            end = parse_start(leg.get("end_time"))
            if end is None:
                try:
                    end = start + dt.timedelta(seconds=to_int(leg, "duration", default=0))
                except MappingError:
                    end = start
            calls.append((start, end, str(leg.get("sid"))))
        calls.sort()
        agents = sorted(
            (joined, str(leg.get("sid")), leg)
            for leg in legs
            if is_agent_leg(leg)
            and not leg.get("parent_call_sid")
            and str(leg.get("status")).lower() == "completed"
            and (joined := parse_start(leg.get("start_time"))) is not None
        )
        taken: set[str] = set()
        for joined, _, agent in agents:
            open_calls = [c for c in calls if c[0] <= joined <= c[1] and c[2] not in taken]
            if open_calls:
                sid = open_calls[-1][2]  # the latest call still going when the agent joined
                taken.add(sid)
                self._children[sid].append(agent)

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
                Reason.CHILD_LEG, f"leg of {record['parent_call_sid']}: folded into its parent call"
            )
        if is_agent_leg(record):
            raise MappingError(
                Reason.AGENT_LEG, f"to {record.get('to')}: a leg to an agent's endpoint"
            )
        raw_status = str(record.get("status") or "").strip().lower()
        if raw_status in LIVE:
            raise MappingError(Reason.CALL_IN_PROGRESS, f"status {raw_status}; next pull")
        if raw_status not in STATUS:
            raise MappingError(Reason.UNKNOWN_DISPOSITION, f"status {raw_status!r}")
        started_at = parse_start(record.get("start_time"))
        if started_at is None:
            raise MappingError(Reason.UNPARSEABLE_TIME, f"start_time {record.get('start_time')!r}")
        direction = DIRECTION.get(str(record.get("direction") or "").lower())
        if direction is None:
            raise MappingError(Reason.UNKNOWN_DIRECTION, f"direction {record.get('direction')!r}")
        duration = to_int(record, "duration", default=0)
        status, talk = STATUS[raw_status], duration
        employee = None
        if raw_status == "completed" and duration <= 0:
            status, talk = "missed", 0  # completed with no time on the line: nobody talked
        if (
            direction == "inbound"
            and raw_status == "completed"
            and self.answer_detection != "parent_completed"
        ):
            people = [
                c
                for c in self._children.get(call_id, [])
                if str(c.get("status")).lower() == "completed"
            ]
            # The leg that talked longest gives the talk time and names who answered.
            talk, longest = max(
                ((to_int(c, "duration", default=0), c) for c in people),
                key=lambda leg: leg[0],
                default=(0, None),
            )
            status = "answered" if talk > 0 else "missed"
            if talk > 0:
                employee = agent_identity(longest.get("to"))
        answered_by = str(record.get("answered_by") or "").lower()
        if direction == "outbound" and status == "answered" and answered_by in MACHINE:
            # Answering-machine detection heard a machine: the manager left a message at most.
            status, talk = "voicemail", 0
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
            **NO_MARKETING,
            "provider_status": raw_status,
            "total_seconds": duration,
            # The agent leg that talked longest names who answered; a forward to a plain phone
            # number names nobody. Outbound calls placed through the REST API name nobody either.
            "employee_id": employee,
            "employee_name": None,
        }
