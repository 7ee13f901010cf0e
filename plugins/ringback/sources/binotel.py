"""Binotel (virtual PBX). shared/providers.md, "Binotel".

Credentials: the connection's login is the API ``key``, its password the ``secret``.
``list-of-calls-for-period`` takes at most one day per request, so the window is pulled in
day-sized chunks (a 25-hour DST day takes two). Errors arrive as HTTP 200 with
``status: error`` and a code: 105 (something went wrong) and 106 (too frequent) are retried with
backoff, 102 (no such method) switches to the per-direction methods, 121 (wrong key or secret)
and 120 (company disabled) stop with what to fix. Requests are spaced
``request_interval_seconds`` apart.

Marketing fields come from ``callTrackingData``: ``utm_*``, ``gaClientId`` and ``fullUrl``, the
landing URL with its query, which is the landing page and where a Google Ads ``gclid`` sits
(Binotel has no ``landingPage`` or ``gclid`` key).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ringback.quarantine import Reason
from ringback.sources.base import (
    NO_VENDOR_FLAGS,
    Connector,
    FetchResult,
    MappingError,
    Window,
    marketing_value,
    to_bool,
    to_e164,
    to_int,
    utm_fields,
)
from ringback.sources.transport import (
    ProviderError,
    ProviderHttp,
    RetryableProviderError,
    parse_json,
)

MAX_WINDOW_SECONDS = 86400
LIST_METHOD = "list-of-calls-for-period"
SPLIT_METHODS = ("incoming-calls-for-period", "outgoing-calls-for-period")
CODE_NO_METHOD = "102"
RETRYABLE_CODES = {"105": "something went wrong", "106": "requests too frequent"}
FATAL_CODES = {
    "120": "the company is disabled in Binotel; ask Binotel support",
    "121": "wrong key or secret; check the Airflow connection / AIRFLOW_CONN_<SOURCE_ID>",
}
STATUS = {
    "ANSWER": "answered",
    "TRANSFER": "answered",
    "BUSY": "busy",
    "NOANSWER": "missed",
    "NO ANSWER": "missed",
    "CANCEL": "missed",
    "CONGESTION": "failed",
    "CHANUNAVAIL": "failed",
    "VM": "voicemail",
    "VM-SUCCESS": "voicemail",
}
LIVE = frozenset({"ONLINE", "CALLING"})
# Binotel's call log also lists SMS and fax records (their dispositions as seen in real answers).
NOT_CALLS = frozenset({"SMS-SENDING", "SMS-SUCCESS", "SMS-FAILED", "SUCCESS", "FAILED"})
DIRECTION = {"0": "inbound", "1": "outbound"}


class UnknownMethod(ProviderError):
    """The server does not offer this stats method."""


class BinotelConnector(Connector):
    provider = "binotel"
    system = "telephony"
    default_base_url = "https://api.binotel.com"
    id_field = "generalCallID"
    statuses = STATUS
    live_dispositions = LIVE
    not_call_dispositions = NOT_CALLS

    def fetch(self, window: Window) -> FetchResult:
        http = self.http(max_attempts=8, request_interval=1.0)
        methods = [str(self.source.options.get("method", LIST_METHOD))]
        records: list[dict] = []
        start = int(window.start_at.timestamp())
        end = int(window.end_at.timestamp())  # exclusive
        try:
            while start < end:
                stop = min(start + MAX_WINDOW_SECONDS, end) - 1  # stopTime is inclusive
                try:
                    for method in methods:
                        records += self._fetch_chunk(http, method, start, stop)
                except UnknownMethod:
                    if methods != [LIST_METHOD]:
                        raise
                    # Accounts or servers without the combined method: ask per direction.
                    methods = list(SPLIT_METHODS)
                    continue
                start = stop + 1
        finally:
            http.close()
        return FetchResult(records, http.requests, http.retries)

    def _fetch_chunk(self, http: ProviderHttp, method: str, start: int, stop: int) -> list[dict]:
        body = {
            "startTime": start,
            "stopTime": stop,
            "key": self.connection.login,
            "secret": self.connection.password,
        }
        day = dt.datetime.fromtimestamp(start, self.source.tz).date()

        def attempt() -> list[dict]:
            try:
                resp = http.request("POST", f"/api/4.0/stats/{method}.json", json=body)
            except ProviderError as exc:
                if exc.status == 404:
                    raise UnknownMethod(f"binotel has no {method}: {exc}", 404) from exc
                raise
            doc = parse_json(resp)
            if not isinstance(doc, dict):
                raise ProviderError(f"binotel answered {type(doc).__name__}, expected an object")
            if doc.get("status") != "success":
                code = str(doc.get("code", "?"))
                message = str(doc.get("message", ""))[:200]
                if code in RETRYABLE_CODES:
                    raise RetryableProviderError(
                        f"code {code} ({RETRYABLE_CODES[code]}): {message}", 2.0
                    )
                if code == CODE_NO_METHOD:
                    raise UnknownMethod(f"binotel has no {method}: code 102 {message}")
                if code in FATAL_CODES:
                    raise ProviderError(
                        f"binotel error code {code}: {FATAL_CODES[code]} ({message})"
                    )
                raise ProviderError(f"binotel {method} for {day}: error code {code}: {message}")
            details = doc.get("callDetails")
            if details in (None, "", [], {}):
                return []
            if isinstance(details, dict):
                return list(details.values())
            if isinstance(details, list):
                return details
            raise ProviderError(f"binotel callDetails is {type(details).__name__}")

        return http.call(f"{method} for {day}", attempt)

    def raw_view(self, record: Any) -> dict[str, Any]:
        record = record if isinstance(record, dict) else {}
        try:
            start = to_int(record, "startTime")
        except MappingError:
            start = None
        disposition = str(record.get("disposition") or "").strip().upper() or None
        return {
            "provider_call_id": self.record_id(record),
            "started_at": unix_time(start),
            "disposition": disposition,
        }

    def map_record(self, record: dict) -> dict:
        call_id = self.required_id(record)
        disposition, status = self.status_of(record)
        started_at = unix_time(to_int(record, "startTime"))
        if started_at is None:
            raise MappingError(Reason.UNPARSEABLE_TIME, f"startTime {record.get('startTime')!r}")
        direction = DIRECTION.get(str(record.get("callType", "")).strip())
        if direction is None:
            raise MappingError(Reason.UNKNOWN_DIRECTION, f"callType {record.get('callType')!r}")
        talk = to_int(record, "billsec", default=0)
        wait = to_int(record, "waitsec")
        if talk < 0 or (wait is not None and wait < 0):
            raise MappingError(
                Reason.INVALID_NUMBER, f"negative time: billsec={talk}, waitsec={wait}"
            )
        pbx = record.get("pbxNumberData")
        line = pbx.get("number") if isinstance(pbx, dict) else None
        did = record.get("didNumber") or record.get("did") or None  # "did": an older shape
        tracking = record.get("callTrackingData")
        tracking = tracking if isinstance(tracking, dict) else {}
        full_url = marketing_value(tracking.get("fullUrl"))
        region = self.source.default_region
        return {
            **self.base_row(call_id, started_at),
            "direction": direction,
            "customer_number": to_e164(record.get("externalNumber"), region),
            "company_number": to_e164(did if direction == "inbound" and did else line, region),
            "wait_seconds": wait,
            # billsec of a voicemail is the message, not a conversation.
            "talk_seconds": talk if status == "answered" else 0,
            "status": status,
            **utm_fields(tracking, full_url, tracking.get("gaClientId")),
            "provider_status": disposition,
            "total_seconds": (wait or 0) + talk,
            **binotel_employee(record),
            # isNewCall: Binotel's "the caller's first call"; it has no target or spam flag.
            **NO_VENDOR_FLAGS,
            "vendor_first_call": to_bool(record, "isNewCall"),
        }


def unix_time(seconds: int | None) -> dt.datetime | None:
    """A Unix time as UTC; None when missing, not positive or past what a datetime holds."""
    if seconds is None or seconds <= 0:
        return None
    try:
        return dt.datetime.fromtimestamp(seconds, dt.UTC)
    except (ValueError, OverflowError, OSError):
        return None


def binotel_employee(record: dict) -> dict[str, str | None]:
    """``employeeData`` (``{"name", "email"}``; ``""`` or ``[]`` when nobody), or the older
    flat ``employeeEmail`` / ``employeeName``, and ``internalNumber`` (the extension): the
    email is the stable id, else the extension."""
    data = record.get("employeeData")
    data = data if isinstance(data, dict) else {}
    email = str(data.get("email") or record.get("employeeEmail") or "").strip() or None
    extension = str(record.get("internalNumber") or "").strip() or None
    name = str(data.get("name") or record.get("employeeName") or "").strip() or None
    return {"employee_id": email or extension, "employee_name": name}
