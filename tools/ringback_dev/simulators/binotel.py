"""Binotel PBX API simulator (shared/providers.md, "Binotel").

``POST /api/4.0/stats/<method>.json`` with a JSON body holding the parameters plus ``key`` and
``secret``. Errors, throttling included, come as HTTP 200 with ``{"status": "error", "code": N}``.
``callDetails`` is an object keyed by generalCallID (``[]`` when empty); numbers are strings;
empty nested objects are ``""``. ``callTrackingData`` carries ``utm_*``, ``gaClientId`` and
``fullUrl`` (the landing URL with its query; a Google Ads click adds ``gclid=``).

Error codes (shared/providers.md, from a third-party transcription of Binotel's list): 102 no
such method, 103 a parameter missing or wrong, 105 something went wrong (transient), 106 requests
too frequent, 120 company disabled, 121 wrong key or secret. The ``provider_error`` fault answers
``error_code`` (106 unless a test sets another).
"""

from __future__ import annotations

import datetime as dt
import json
from urllib.parse import urlencode

from ringback_dev.simulators.journeys import JourneyGenerator, TrueCall
from ringback_dev.simulators.server import ProviderSimulator, Response

METHODS = {
    "list-of-calls-for-period": None,
    "incoming-calls-for-period": "0",
    "outgoing-calls-for-period": "1",
}
MAX_WINDOW_SECONDS = 86400  # at most one day per request (stopTime inclusive)
CODE_NO_METHOD = 102
CODE_BAD_PARAMS = 103
CODE_TRANSIENT = 105
CODE_THROTTLED = 106
CODE_COMPANY_DISABLED = 120
CODE_BAD_AUTH = 121
MESSAGES = {
    CODE_NO_METHOD: "Method does not exist",
    CODE_BAD_PARAMS: "Parameter is missing or invalid",
    CODE_TRANSIENT: "Something went wrong. Try again later.",
    CODE_THROTTLED: "Requests are too frequent. Try again later.",
    CODE_COMPANY_DISABLED: "Company is disabled",
    CODE_BAD_AUTH: "Wrong key or secret",
}

ANSWERED = ("ANSWER", "ANSWER", "ANSWER", "TRANSFER")
MISSED = {
    "missed": ("NOANSWER", "NOANSWER", "CANCEL"),
    "busy": ("BUSY",),
    "failed": ("CHANUNAVAIL", "CONGESTION"),
    "voicemail": ("VM", "VM-SUCCESS"),
}


def local_number(e164: str) -> str:
    """Binotel writes Ukrainian numbers in local format: +380671234567 -> 0671234567."""
    return "0" + e164[4:] if e164.startswith("+380") else e164.lstrip("+")


class BinotelSimulator(ProviderSimulator):
    provider = "binotel"

    def __init__(
        self,
        generator: JourneyGenerator | None = None,
        *,
        key: str = "demo-key",
        secret: str = "demo-secret",
        min_interval_seconds: float = 0.0,
        empty_details: str = "list",
        methods: tuple[str, ...] = tuple(METHODS),
        error_code: int = CODE_THROTTLED,
        now=None,
    ) -> None:
        super().__init__(generator, now=now)
        self.key = key
        self.secret = secret
        self.min_interval_seconds = min_interval_seconds
        self.empty_details = empty_details  # how an empty answer looks: "list" ([]) or "string"
        self.methods = methods  # the stats methods this server offers
        self.error_code = error_code  # what the provider_error fault answers

    def provider_error(self, code: int | None = None, message: str | None = None) -> Response:
        code = code or self.error_code
        return Response.json(
            {"status": "error", "code": code, "message": message or MESSAGES.get(code, "Error")}
        )

    def record(self, call: TrueCall) -> dict:
        start = call.telephony_started_at
        live = call.ended_at > self.now
        n = int(call.call_id[-4:])
        if live:
            disposition = "ONLINE"
        elif call.status == "answered":
            disposition = ANSWERED[n % len(ANSWERED)]
        else:
            options = MISSED[call.status]
            disposition = options[n % len(options)]
        talk = 0 if live else call.talk_seconds
        staffed = call.employee is not None and (talk > 0 or call.direction == "outbound")
        tracking = ""
        if call.seen_by_calltracking and call.traffic_source:
            query = {
                "utm_source": call.traffic_source,
                "utm_medium": call.traffic_medium or "",
                "utm_campaign": call.campaign or "",
            }
            if call.gclid:
                query["gclid"] = call.gclid
            tracking = {
                "id": call.call_id,
                "utm_source": call.traffic_source,
                "utm_medium": call.traffic_medium or "",
                "utm_campaign": call.campaign or "",
                "utm_term": call.keyword or "",
                "gaClientId": call.ga_client_id or "",
                "fullUrl": f"{call.landing_page or 'https://shop.example/'}?{urlencode(query)}",
            }
        return {
            "generalCallID": str(20_000_000 + int(call.call_id)),
            "startTime": str(int(start.timestamp())),
            "callType": "0" if call.direction == "inbound" else "1",
            "externalNumber": local_number(call.customer_number)
            if call.customer_number
            else "anonymous",
            "internalNumber": call.employee.extension if staffed else "",
            "internalAdditionalData": "",
            "pbxNumberData": {"number": local_number(call.company_number), "name": "Main"},
            "didNumber": local_number(call.company_number) if call.direction == "inbound" else "",
            "waitsec": str(call.wait_seconds),
            "billsec": str(talk),
            "disposition": disposition,
            "isNewCall": "0"
            if call.is_repeat_customer or self.generator.earlier_calls(call, calltracking=False)
            else "1",
            # Who answered, or who dialled out (unanswered attempts too); "" when nobody.
            "employeeData": {"name": call.employee.name, "email": call.employee.email}
            if staffed
            else "",
            "historyData": [] if n % 2 else "",
            "callTrackingData": tracking,
            "customerData": "",
        }

    def handle(self, method, path, query, headers, body) -> Response:
        prefix, _, name = path.rpartition("/")
        api_method = name.removesuffix(".json")
        if method != "POST" or prefix != "/api/4.0/stats" or api_method not in self.methods:
            return self.provider_error(CODE_NO_METHOD)
        if self.too_soon():
            return self.provider_error(CODE_THROTTLED)
        try:
            params = json.loads(body or b"{}")
        except json.JSONDecodeError:
            return self.provider_error(CODE_BAD_PARAMS, "Body is not JSON")
        if params.get("key") != self.key or params.get("secret") != self.secret:
            return self.provider_error(CODE_BAD_AUTH)
        try:
            start, stop = int(params["startTime"]), int(params["stopTime"])
        except (KeyError, TypeError, ValueError):
            return Response.json(
                {
                    "status": "error",
                    "code": CODE_BAD_PARAMS,
                    "message": "startTime and stopTime are required",
                }
            )
        if stop < start or stop - start >= MAX_WINDOW_SECONDS:
            return Response.json(
                {
                    "status": "error",
                    "code": CODE_BAD_PARAMS,
                    "message": "Period must be at most one day",
                }
            )
        calls = self.calls_between(
            dt.datetime.fromtimestamp(start - 10, dt.UTC),
            min(dt.datetime.fromtimestamp(stop + 1, dt.UTC), self.now),
        )
        wanted = METHODS[api_method]
        details = {}
        for call in calls:
            if not call.seen_by_telephony:
                continue
            rec = self.record(call)
            if not start <= int(rec["startTime"]) <= stop:
                continue
            if wanted is not None and rec["callType"] != wanted:
                continue
            details[rec["generalCallID"]] = rec
        if not details:
            empty = [] if self.empty_details == "list" else ""
            return Response.json({"status": "success", "callDetails": empty})
        return Response.json({"status": "success", "callDetails": details})
