"""Zadarma PBX statistics simulator (docs/providers.md, "Zadarma").

``GET /v1/statistics/pbx/`` signed as Zadarma's official client signs (``Authorization:
key:base64(hex HMAC-SHA1(secret, path + sorted query + md5(query)))``, ``format=json`` among the
signed parameters); a bad signature gets HTTP 401. ``start``/``end`` are local times of the
account's zone; a period longer than a month is **silently cut to 30 days** (the answer's ``end``
says where it stopped, nothing else does); ``skip``/``limit`` page at most 1000 rows.

Each call is one row per leg, all with the call's ``pbx_call_id`` (``in_<ts>.<n>`` inbound,
``out_<ts>.<n>`` outbound): an inbound call rings the staff's extensions, the one that answered
has ``answered`` and the talk time in ``seconds``, the others ``no answer``/``cancel``. A call that
reached voicemail is ``answered`` with seconds on a leg with no extension (the trap the connector
must not count as a conversation). Requests closer than ``min_interval_seconds`` get 429.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
import zoneinfo

from ringback.sources.zadarma import PATH, TIME_FORMAT, sign
from ringback_dev.simulators.journeys import JourneyGenerator, TrueCall
from ringback_dev.simulators.server import ProviderSimulator, Response

MAX_LIMIT = 1000
MAX_PERIOD = dt.timedelta(days=30)
MISSED = {"missed": ("no answer", "cancel"), "busy": ("busy",), "failed": ("call failed",)}


class ZadarmaSimulator(ProviderSimulator):
    provider = "zadarma"
    retry_after_header = None  # whether Zadarma sends Retry-After is unconfirmed: it does not here

    def __init__(
        self,
        generator: JourneyGenerator | None = None,
        *,
        key: str = "demo-key",
        secret: str = "demo-secret",
        time_zone: str | None = None,
        min_interval_seconds: float = 0.0,
        rate_limit: tuple[int, float] | None = None,
        now=None,
    ) -> None:
        super().__init__(generator, now=now)
        self.key = key
        self.secret = secret
        self.tz = zoneinfo.ZoneInfo(time_zone or self.generator.profile.time_zone)
        self.min_interval_seconds = min_interval_seconds
        # (requests, seconds): the statistics methods' limit (3 a minute on the real service),
        # told in X-RateLimit-Limit/-Remaining/-Reset (seconds to the window's end); over it, 429.
        self.rate_limit = rate_limit
        self._window: tuple[float, int] = (0.0, 0)
        self.limited = 0  # requests answered 429 for the limit

    def rate_headers(self) -> tuple[dict[str, str], bool]:
        """The limit's headers for this request, and whether it is over the limit."""
        if self.rate_limit is None:
            return {}, False
        allowed, seconds = self.rate_limit
        began, used = self._window
        now = time.monotonic()
        if now - began >= seconds:
            began, used = now, 0
        used += 1
        self._window = (began, used)
        headers = {
            "X-RateLimit-Limit": str(allowed),
            "X-RateLimit-Remaining": str(max(allowed - used, 0)),
            "X-RateLimit-Reset": f"{max(began + seconds - now, 0):.2f}",
        }
        return headers, used > allowed

    def throttled(self) -> Response:
        return Response.json({"status": "error", "message": "API request limit exceeded"}, 429)

    def legs(self, call: TrueCall) -> list[dict]:
        """One call as the statistics list it: a row per leg."""
        start = call.telephony_started_at.astimezone(self.tz)
        stamp = f"{int(start.timestamp())}.{int(call.call_id) % 100000}"
        customer = call.customer_number.lstrip("+") if call.customer_number else "anonymous"
        staff = self.generator.profile.staff
        if call.direction == "outbound":
            who = call.employee or staff[0]
            done = call.status == "answered" and call.talk_seconds > 0
            return [
                {
                    "call_id": stamp,
                    "pbx_call_id": f"out_{stamp}",
                    "sip": who.extension,
                    "callstart": start.strftime(TIME_FORMAT),
                    "clid": f"{who.name} ({who.extension})",
                    "destination": int(customer) if customer.isdigit() else customer,
                    "disposition": "answered"
                    if done
                    else MISSED.get(call.status, MISSED["missed"])[0],
                    "seconds": call.talk_seconds if done else 0,
                    "is_recorded": "true" if done else "false",
                }
            ]
        n = int(call.call_id)
        rung = [s for s in staff if s != call.employee][: 1 + n % 2]
        rows = []
        for i, person in enumerate(rung):
            if call.status == "answered":
                disposition = "cancel"  # another extension picked up
            else:
                options = MISSED.get(call.status, MISSED["missed"])
                disposition = options[(n + i) % len(options)]
            rows.append((person.extension, disposition, 0))
        if call.status == "answered" and call.talk_seconds > 0:
            who = call.employee or staff[0]
            rows.insert(n % 2, (who.extension, "answered", call.talk_seconds))
        elif call.status == "voicemail":
            # The scenario's voicemail answers: seconds on the line, no extension.
            rows.append(("", "answered", max(call.talk_seconds, 12)))
        return [
            {
                "call_id": f"{stamp}{i}",
                "pbx_call_id": f"in_{stamp}",
                "sip": extension,
                "callstart": start.strftime(TIME_FORMAT),
                "clid": customer,
                "destination": call.company_number.lstrip("+"),
                "disposition": disposition,
                "seconds": seconds,
                "is_recorded": "true" if seconds else "false",
            }
            for i, (extension, disposition, seconds) in enumerate(rows)
        ]

    def handle(self, method, path, query, headers, body) -> Response:
        if method != "GET" or path != PATH:
            return Response.json({"status": "error", "message": "Method not found"}, 404)
        if self.too_soon():
            return self.throttled()
        limit_headers, over = self.rate_headers()
        if over:
            self.limited += 1
            return dataclasses.replace(self.throttled(), headers=limit_headers)
        response = self.statistics(path, query, headers)
        return dataclasses.replace(response, headers={**(response.headers or {}), **limit_headers})

    def statistics(self, path, query, headers) -> Response:
        params = {k: v[0] for k, v in query.items()}
        _, expected = sign(path, params, self.key, self.secret)
        if headers.get("authorization") != expected or params.get("format") != "json":
            return Response.json({"status": "error", "message": "Not authorized"}, 401)
        try:
            start = dt.datetime.strptime(params["start"], TIME_FORMAT).replace(tzinfo=self.tz)
            end = dt.datetime.strptime(params["end"], TIME_FORMAT).replace(tzinfo=self.tz)
            skip = int(params.get("skip", 0))
            limit = min(int(params.get("limit", MAX_LIMIT)), MAX_LIMIT)
        except (KeyError, ValueError):
            return Response.json({"status": "error", "message": "Wrong parameters"}, 400)
        if params.get("version") != "2":
            return Response.json({"status": "error", "message": "Only version 2 here"}, 400)
        if end - start > MAX_PERIOD:
            end = start + MAX_PERIOD  # silently: only the echoed end tells
        calls = self.calls_between(
            start.astimezone(dt.UTC) - dt.timedelta(seconds=10),
            end.astimezone(dt.UTC) + dt.timedelta(seconds=1),
        )
        rows = [
            leg
            for call in calls
            if call.seen_by_telephony and call.ended_at <= self.now
            for leg in self.legs(call)
            if start.strftime(TIME_FORMAT) <= leg["callstart"] <= end.strftime(TIME_FORMAT)
        ]
        rows.sort(key=lambda r: (r["callstart"], r["call_id"]))
        page = rows[skip : skip + limit]
        if self.pending_fault is not None and page and skip:
            self.pending_fault = None
            page = [rows[skip - 1], *page[:-1]]  # the last row of the previous page again
        return Response.json(
            {
                "status": "success",
                "start": start.strftime(TIME_FORMAT),
                "end": end.strftime(TIME_FORMAT),
                "version": 2,
                "stats": page,
            }
        )
