"""Ringostat call-tracking API simulator (shared/providers.md, "Ringostat").

``GET /calls/list`` with header ``Auth-key``; ``from``/``to`` as ``YYYY-MM-DD HH:MM:SS`` in the
project's time zone, ``to`` inclusive (assumed; default the last 24 h); ``export_type`` json
(bare array) or csv (``;``-separated, header row); ``fields=`` picks the fields; no paging and at
most ``row_cap`` (6,500) calls per response, the rest silently left out.

Some missed calls end with one of Ringostat's rarer unanswered outcomes; their API spelling is
unconfirmed, so ``extra_dispositions`` says how this server spells them (one missed call in ten
gets one; ``()`` for none).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zoneinfo

from ringback_dev.simulators.journeys import JourneyGenerator, TrueCall
from ringback_dev.simulators.server import ProviderSimulator, Response

ROW_CAP = 6500
ALL_FIELDS = (
    "uniqueid",
    "calldate",
    "caller",
    "dst",
    "pool_name",
    "disposition",
    "call_type",
    "duration",
    "waittime",
    "billsec",
    "duration_ms",
    "has_recording",
    "connected_with",
    "call_counter",
    "proper_flag",
    "repeated_flag",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_content",
    "utm_term",
    "client_id",
    "landing",
    "refferrer",
    "employee_fio",
    "recording",
)
DEFAULT_FIELDS = ("uniqueid", "calldate", "caller", "dst", "disposition", "duration", "billsec")
# Ringostat's status list names these unanswered outcomes; the spelling here is a guess.
EXTRA_DISPOSITIONS = (
    "FORWARDING FAILED",
    "WRONG EXTENSION",
    "NO EXTENSION",
    "CALLBACK NOT ANSWERED",
    "FORBIDDEN",
)
DISPOSITIONS = {
    "missed": "NO ANSWER",
    "busy": "BUSY",
    "failed": "FAILED",
    "voicemail": "VOICEMAIL",
}


class RingostatSimulator(ProviderSimulator):
    provider = "ringostat"

    def __init__(
        self,
        generator: JourneyGenerator | None = None,
        *,
        auth_key: str = "demo-key",
        time_zone: str = "Europe/Kyiv",
        row_cap: int = ROW_CAP,
        extra_dispositions: tuple[str, ...] = EXTRA_DISPOSITIONS,
        target_seconds: int = 40,
        now=None,
    ) -> None:
        super().__init__(generator, now=now)
        # Ringostat's own target-call rule: answered with talk time of at least this, the
        # number's first such call in the sale cycle (a later one is REPEATED).
        self.target_seconds = target_seconds
        self.auth_key = auth_key
        self.tz = zoneinfo.ZoneInfo(time_zone)
        self.row_cap = row_cap
        self.extra_dispositions = extra_dispositions

    def category(self, call: TrueCall) -> str:
        """An answered call's disposition: PROPER (target), REPEATED or plain ANSWERED."""
        earlier_target = call.is_repeat_customer or any(
            c.status == "answered" and c.talk_seconds >= self.target_seconds
            for c in self.generator.earlier_calls(call, calltracking=True)
        )
        if call.talk_seconds < self.target_seconds:
            return "ANSWERED"
        return "REPEATED" if earlier_target else "PROPER"

    def record(self, call: TrueCall) -> dict:
        """One call as Ringostat's JSON export writes it."""
        local = call.started_at.astimezone(self.tz)
        live = call.ended_at > self.now
        if live:
            disposition = "IN PROGRESS"
        elif call.status == "answered":
            disposition = self.category(call)
        else:
            disposition = DISPOSITIONS[call.status]
            n = int(call.call_id[-3:])
            if call.status == "missed" and self.extra_dispositions and n % 10 == 3:
                disposition = self.extra_dispositions[n // 10 % len(self.extra_dispositions)]
        talk = 0 if live else call.talk_seconds
        wait = call.wait_seconds
        number = call.customer_number.lstrip("+") if call.customer_number else ""
        return {
            "uniqueid": f"{int(call.started_at.timestamp())}.{call.call_id[-5:]}",
            "calldate": local.strftime("%Y-%m-%dT%H:%M:%S%z"),  # +0200: no colon in the offset
            "caller": number,
            "dst": call.company_number.lstrip("+"),
            "pool_name": f"{call.traffic_source or 'static'} pool",
            "disposition": disposition,
            "call_type": "in",
            "duration": wait + talk,
            "waittime": str(wait),  # a string, as the real API sends it
            "billsec": talk,
            "duration_ms": str((wait + talk) * 1000),
            "has_recording": "1" if talk else "0",
            # The SIP login the call was put through to; empty when nobody picked up.
            "connected_with": call.employee.login if talk and call.employee else "",
            "call_counter": 2 if call.is_repeat_customer else 1,
            "proper_flag": 1 if disposition == "PROPER" else 0,
            "repeated_flag": 1 if disposition == "REPEATED" else 0,
            "utm_source": call.traffic_source or "(not set)",
            "utm_medium": call.traffic_medium or "(not set)",
            "utm_campaign": call.campaign or "(not set)",
            "utm_content": "(not set)",
            "utm_term": call.keyword or "(not set)",
            "client_id": call.ga_client_id or "",
            "landing": call.landing_page or "",
            "refferrer": "https://www.google.com/" if call.traffic_source == "google" else "",
            "employee_fio": call.employee.name if talk and call.employee else "",
            "recording": f"https://records.example/{call.call_id}.mp3" if talk else "",
        }

    def calls(self, start_local: dt.datetime, end_local: dt.datetime) -> list[dict]:
        """Records with calldate in [start, end] (both inclusive, second precision)."""
        start = start_local.astimezone(dt.UTC)
        end = end_local.astimezone(dt.UTC) + dt.timedelta(seconds=1)
        calls = self.calls_between(start, end)
        return [self.record(c) for c in calls if c.seen_by_calltracking]

    def handle(self, method, path, query, headers, body) -> Response:
        if path.rstrip("/") != "/calls/list" or method != "GET":
            return Response.json({"error": "Not found"}, status=404)
        if headers.get("auth-key") != self.auth_key:
            return Response.json({"error": "Unauthorized", "message": "Invalid Auth-key"}, 401)
        now_local = self.now.astimezone(self.tz).replace(tzinfo=None)
        try:
            start = _parse_local(query, "from", now_local - dt.timedelta(days=1))
            end = _parse_local(query, "to", now_local)
        except ValueError as exc:
            return Response.json({"error": "Bad Request", "message": str(exc)}, status=400)
        fields = [f for f in (query.get("fields", [""])[0]).split(",") if f] or list(DEFAULT_FIELDS)
        if unknown := [f for f in fields if f not in ALL_FIELDS]:
            return Response.json(
                {"error": "Bad Request", "message": f"unknown fields: {','.join(unknown)}"}, 400
            )
        records = self.calls(start.replace(tzinfo=self.tz), end.replace(tzinfo=self.tz))
        records = records[: self.row_cap]
        rows = [{f: r[f] for f in fields} for r in records]
        if query.get("export_type", ["json"])[0] == "csv":
            buf = io.StringIO()
            writer = csv.DictWriter(buf, fieldnames=fields, delimiter=";", lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
            return Response(200, buf.getvalue().encode(), "text/csv; charset=utf-8")
        return Response.json(rows)


def _parse_local(query: dict[str, list[str]], name: str, default: dt.datetime) -> dt.datetime:
    if name not in query:
        return default
    text = query[name][0]
    try:
        return dt.datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
    except ValueError:
        raise ValueError(f"'{name}' must be YYYY-MM-DD HH:MM:SS, got {text!r}") from None
