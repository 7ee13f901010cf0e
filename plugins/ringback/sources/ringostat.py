"""Ringostat (call tracking). shared/providers.md, "Ringostat".

Credentials: the connection's password is the ``Auth-key`` (the login is sent as
``x-project-id``, which Ringostat ignores; a URI with only a login uses it as the key).
No paging and at most 6,500 calls per response: a response that reaches the cap is assumed cut
and its window is split in two until every part comes back under the cap.

Dispositions: Ringostat's own status list has unanswered outcomes beyond the mapped ones
(forwarding scheme did not work, wrong or no extension, callback not answered, forbidden
destination) whose API spelling is unconfirmed. A disposition no mapping lists is therefore
staged as ``missed`` with the value as sent in ``provider_status`` (the raw suite's
known-dispositions expectation reports it as a warning), unless it looks live (the call waits
for the next pull) or the record has talk time (then nobody can say it was missed: quarantined
as ``unknown_disposition``).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
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
from ringback.sources.transport import ProviderError, ProviderHttp, parse_json

ROW_CAP = 6500
FIELDS = (
    "uniqueid",
    "calldate",
    "caller",
    "dst",
    "disposition",
    "call_type",
    "duration",
    "waittime",
    "billsec",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "client_id",
    "landing",
    "connected_with",  # who the call was put through to (SIP login or number)
    "employee_fio",  # that employee's name
    "proper_flag",  # Ringostat's target call (its target length and sale cycle)
    "repeated_flag",  # a repeat call after the number's first target call in the sale cycle
)
STATUS = {
    "ANSWERED": "answered",
    "PROPER": "answered",  # answered, labelled a proper (target) call
    "REPEATED": "answered",  # answered, labelled a repeat call
    "NO ANSWER": "missed",
    "NOANSWER": "missed",
    "BUSY": "busy",
    "FAILED": "failed",
    "VOICEMAIL": "voicemail",
}
LIVE = frozenset({"IN PROGRESS", "CALLING"})
LIVE_WORDS = ("PROGRESS", "CALLING", "RINGING", "ONLINE", "TALKING")
DIRECTION = {"in": "inbound", "out": "outbound", "callback": "outbound"}


class RingostatConnector(Connector):
    provider = "ringostat"
    system = "calltracking"
    default_base_url = "https://api.ringostat.net"
    id_field = "uniqueid"
    statuses = STATUS
    live_dispositions = LIVE

    def _http(self) -> ProviderHttp:
        key = self.connection.password or self.connection.login
        headers = {"Auth-key": key, "Accept": "application/json"}
        if self.connection.login and self.connection.password:
            headers["x-project-id"] = self.connection.login
        return self.http(headers=headers)

    def fetch(self, window: Window) -> FetchResult:
        row_cap = int(self.source.options.get("row_cap", ROW_CAP))
        export_type = str(self.source.options.get("export_type", "json"))
        first = dt.datetime.combine(window.first_day, dt.time())
        last = dt.datetime.combine(window.last_day, dt.time(23, 59, 59))
        http = self._http()
        records: list[dict] = []
        try:
            # Local wall-clock windows, `to` inclusive at second precision.
            pending = [(first, last)]
            while pending:
                start, end = pending.pop(0)
                batch = self._fetch_window(http, start, end, export_type)
                if len(batch) >= row_cap:
                    if end <= start:
                        raise ProviderError(
                            f"ringostat returned {len(batch)} calls for the single second {start} "
                            f"(cap {row_cap}); cannot split further"
                        )
                    middle = start + (end - start) / 2
                    middle = middle.replace(microsecond=0)
                    pending[:0] = [(start, middle), (middle + dt.timedelta(seconds=1), end)]
                    continue
                records += batch
        finally:
            http.close()
        return FetchResult(records, http.requests, http.retries)

    def _fetch_window(
        self, http: ProviderHttp, start: dt.datetime, end: dt.datetime, export_type: str
    ) -> list[dict]:
        params = {
            "export_type": export_type,
            "from": start.strftime("%Y-%m-%d %H:%M:%S"),
            "to": end.strftime("%Y-%m-%d %H:%M:%S"),
            "fields": ",".join(FIELDS),
            "merge": "0",
            "order": "calldate asc",
        }

        def attempt() -> list[dict]:
            resp = http.request("GET", "/calls/list", params=params)
            if export_type == "csv":
                return list(csv.DictReader(io.StringIO(resp.text), delimiter=";"))
            body = parse_json(resp)
            if isinstance(body, dict) and "data" in body:  # tolerate an enveloped answer
                body = body["data"]
            if not isinstance(body, list):
                raise ProviderError(f"ringostat answered {type(body).__name__}, expected a list")
            return body

        return http.call(f"calls/list {params['from']}..{params['to']}", attempt)

    def status_of(self, record: dict) -> tuple[str, str]:
        disposition = str(record.get("disposition") or "").strip().upper()
        if disposition in STATUS or disposition in LIVE:
            return super().status_of(record)
        if not disposition:
            raise MappingError(Reason.UNKNOWN_DISPOSITION, "no disposition")
        if any(word in disposition for word in LIVE_WORDS):
            raise MappingError(Reason.CALL_IN_PROGRESS, f"disposition {disposition}; next pull")
        if (to_int(record, "billsec", default=0) or 0) > 0:
            raise MappingError(
                Reason.UNKNOWN_DISPOSITION, f"disposition {disposition!r} with talk time"
            )
        return disposition, "missed"

    def map_record(self, record: dict) -> dict:
        call_id = self.required_id(record)
        disposition, status = self.status_of(record)
        started_at = self._parse_calldate(record.get("calldate"))
        direction = DIRECTION.get(str(record.get("call_type") or "in").strip().lower())
        if direction is None:
            raise MappingError(Reason.UNKNOWN_DIRECTION, f"call_type {record.get('call_type')!r}")
        talk = to_int(record, "billsec", default=0)
        wait = to_int(record, "waittime")
        total = to_int(record, "duration")
        if talk < 0 or (wait is not None and wait < 0):
            raise MappingError(
                Reason.INVALID_NUMBER, f"negative time: billsec={talk}, waittime={wait}"
            )
        landing = marketing_value(record.get("landing"))
        region = self.source.default_region
        return {
            **self.base_row(call_id, started_at),
            "direction": direction,
            "customer_number": to_e164(record.get("caller"), region),
            "company_number": to_e164(record.get("dst"), region),
            "wait_seconds": wait,
            "talk_seconds": talk if status == "answered" else 0,
            "status": status,
            **utm_fields(record, landing, record.get("client_id")),
            "provider_status": disposition,
            "total_seconds": total,
            **ringostat_employee(record),
            **ringostat_vendor_flags(record, disposition),
        }

    def raw_view(self, record: Any) -> dict[str, Any]:
        record = record if isinstance(record, dict) else {}
        try:
            started_at = self._parse_calldate(record.get("calldate"))
        except MappingError:
            started_at = None
        disposition = str(record.get("disposition") or "").strip().upper() or None
        return {
            "provider_call_id": self.record_id(record),
            "started_at": started_at,
            "disposition": disposition,
        }

    def _parse_calldate(self, value: object) -> dt.datetime:
        text = str(value or "").strip()
        try:
            parsed = dt.datetime.fromisoformat(text)
        except ValueError:
            raise MappingError(Reason.UNPARSEABLE_TIME, f"calldate {text!r}") from None
        if parsed.tzinfo is None:  # no offset: the project's time zone
            parsed = parsed.replace(tzinfo=self.source.tz)
        return parsed.astimezone(dt.UTC)


def ringostat_employee(record: dict) -> dict[str, str | None]:
    """``connected_with`` (the SIP login or number the call was put through to) and
    ``employee_fio`` (the employee's name). Ringostat has no employee id in the call list: the
    SIP login is the id; a phone number there (a forward to a mobile) is not kept as one."""
    connected = str(record.get("connected_with") or "").strip()
    digits = sum(ch.isdigit() for ch in connected)
    is_phone = digits >= 10 and all(ch.isdigit() or ch in " +-()." for ch in connected)
    name = str(record.get("employee_fio") or "").strip() or None
    return {"employee_id": None if is_phone else (connected or None), "employee_name": name}


def ringostat_vendor_flags(record: dict, disposition: str) -> dict[str, Any]:
    """Ringostat's own verdicts: ``proper_flag`` (a target call by its target length and sale
    cycle; the ``PROPER`` disposition says the same) and ``repeated_flag`` (a repeat after the
    number's first target call in the sale cycle). Ringostat has no first-call flag: a call that
    is not a repeat is the closest it comes, so ``vendor_first_call`` is ``not repeated``."""
    proper = to_bool(record, "proper_flag")
    repeated = to_bool(record, "repeated_flag")
    if disposition == "PROPER":
        proper = True
    if disposition == "REPEATED":
        repeated = True
    category = "proper" if proper else ("repeated" if repeated else None)
    return {
        **NO_VENDOR_FLAGS,
        "vendor_first_call": None if repeated is None else not repeated,
        "vendor_target_call": proper,
        "vendor_lead_status": category,
    }
