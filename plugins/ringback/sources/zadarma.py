"""Zadarma (cloud PBX). docs/providers.md, "Zadarma"; the facts are from Zadarma's official
client (github.com/zadarma/user-api-v1).

Credentials: the connection's login is the API ``key``, its password the ``secret``. Every request
is signed: the parameters (``format=json`` among them) sorted by name and form-encoded, then
``Authorization: key:base64(hex(HMAC-SHA1(secret, path + query + md5(query))))``.

``GET /v1/statistics/pbx/`` with ``start``/``end`` (``YYYY-MM-DD HH:MM:SS`` in the account's time
zone, the source's ``time_zone``), ``version=2``, ``skip`` and ``limit`` (at most 1000). A period
longer than a month is silently cut to 30 days, so the window is asked for in chunks of at most
``MAX_CHUNK_DAYS`` local days, and an answer whose ``end`` is earlier than asked stops the pull
rather than loading a cut window as if it were whole.

One call is several rows (legs): the scenario rings extensions, each a row, all with the same
``pbx_call_id`` (``in_...`` inbound, ``out_...`` outbound). The legs are folded: the earliest leg
carries the call, answered when any leg was answered (that leg's ``sip`` names the employee, its
``seconds`` is the talk time); the other legs are quarantined as ``child_leg``, an expected reason.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
from typing import Any
from urllib.parse import urlencode

from ringback.quarantine import Reason
from ringback.sources.base import (
    NO_MARKETING,
    FetchResult,
    LegsConnector,
    MappingError,
    Window,
    to_e164,
    to_int,
)
from ringback.sources.transport import ProviderError, ProviderHttp, parse_json

PATH = "/v1/statistics/pbx/"
PAGE_LIMIT = 1000
MAX_CHUNK_DAYS = 30  # "a period longer than a month is cut to 30 days"
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
STATUS = {
    "answered": "answered",
    "busy": "busy",
    "cancel": "missed",
    "no answer": "missed",
    "call failed": "failed",  # the API page's and the official OpenAPI spec's spelling
    "failed": "failed",  # the official PHP client's docblock
    # Billing and routing refusals: the call never reached anyone.
    "no money": "failed",
    "unallocated number": "failed",
    "no limit": "failed",
    "no day limit": "failed",
    "line limit": "failed",
    "no money, no limit": "failed",
}
DIRECTION_PREFIX = {"in_": "inbound", "out_": "outbound"}


def sign(path: str, params: dict[str, Any], key: str, secret: str) -> tuple[str, str]:
    """(query string, Authorization header) as Zadarma's official client builds them."""
    query = urlencode(sorted((k, str(v)) for k, v in params.items()))
    digest = hmac.new(
        secret.encode(),
        # md5 here is Zadarma's signing format, not a security choice of ours.
        (path + query + hashlib.md5(query.encode(), usedforsecurity=False).hexdigest()).encode(),
        hashlib.sha1,
    ).hexdigest()  # the hex string, not the raw digest, is what gets base64-encoded
    return query, f"{key}:{base64.b64encode(digest.encode()).decode()}"


def parse_local(value: Any, tz: Any) -> dt.datetime | None:
    try:
        local = dt.datetime.strptime(str(value).strip(), TIME_FORMAT)
    except (TypeError, ValueError):
        return None
    return local.replace(tzinfo=tz).astimezone(dt.UTC)


def direction_of(pbx_call_id: str) -> str | None:
    return next((d for p, d in DIRECTION_PREFIX.items() if pbx_call_id.startswith(p)), None)


class ZadarmaConnector(LegsConnector):
    provider = "zadarma"
    system = "telephony"
    default_base_url = "https://api.zadarma.com"
    # Every leg names its call: the call's id is the permanent pbx_call_id, not the leg's call_id.
    id_field = "pbx_call_id"
    statuses = STATUS
    live_dispositions = frozenset()  # the statistics list only calls that ended

    def fetch(self, window: Window) -> FetchResult:
        http = self.http(
            max_attempts=8,
            request_interval=1.0,
            # The statistics methods allow 3 requests a minute; the answers count them down.
            rate_limit_headers=True,
            max_backoff=float(self.source.options.get("max_backoff_seconds", 60)),
        )
        records: list[dict] = []
        first = window.first_day
        try:
            while first <= window.last_day:
                last = min(first + dt.timedelta(days=MAX_CHUNK_DAYS - 1), window.last_day)
                records += self._fetch_chunk(http, first, last)
                first = last + dt.timedelta(days=1)
        finally:
            http.close()
        return FetchResult(records, http.requests, http.retries)

    def _fetch_chunk(self, http: ProviderHttp, first: dt.date, last: dt.date) -> list[dict]:
        start = f"{first:%Y-%m-%d} 00:00:00"
        end = f"{last:%Y-%m-%d} 23:59:59"
        records: list[dict] = []
        skip = 0
        while True:
            params = {
                "start": start,
                "end": end,
                "version": 2,
                "skip": skip,
                "limit": PAGE_LIMIT,
                "format": "json",
            }
            query, auth = sign(PATH, params, self.connection.login, self.connection.password)

            def attempt(query: str = query, auth: str = auth) -> dict:
                resp = http.request("GET", f"{PATH}?{query}", headers={"Authorization": auth})
                doc = parse_json(resp)
                if not isinstance(doc, dict):
                    raise ProviderError(f"zadarma answered {type(doc).__name__}, not an object")
                if doc.get("status") != "success":
                    raise ProviderError(
                        f"zadarma statistics/pbx {start}..{end}: "
                        f"{str(doc.get('message') or doc)[:200]}"
                    )
                return doc

            doc = http.call(f"statistics/pbx {first}..{last} skip {skip}", attempt)
            answered_end = str(doc.get("end") or end)
            if answered_end < end:
                # Zadarma cuts a long period without an error; loading the rest as the whole
                # window would count the cut days as days without calls.
                raise ProviderError(
                    f"zadarma cut the period {start}..{end} to end at {answered_end}; "
                    f"ask for at most {MAX_CHUNK_DAYS} days"
                )
            page = doc.get("stats") or []
            if not isinstance(page, list):
                raise ProviderError(f"zadarma stats is {type(page).__name__}, not a list")
            records += page
            if len(page) < PAGE_LIMIT:
                return records
            skip += len(page)

    def leg_id(self, record: dict) -> str | None:
        return str(record.get("call_id") or "").strip() or self.record_id(record)

    def leg_order(self, leg: dict) -> tuple:
        return (str(leg.get("callstart")), str(leg.get("call_id")))

    def raw_view(self, record: Any) -> dict[str, Any]:
        record = record if isinstance(record, dict) else {}
        return {
            "provider_call_id": self.leg_id(record),
            "started_at": parse_local(record.get("callstart"), self.source.tz),
            "disposition": str(record.get("disposition") or "").strip().upper() or None,
        }

    def status_of(self, record: dict) -> tuple[str, str]:
        disposition = str(record.get("disposition") or "").strip().lower()
        status = self.statuses.get(disposition)
        if status is None:
            raise MappingError(Reason.UNKNOWN_DISPOSITION, f"disposition {disposition!r}")
        return disposition, status

    def map_record(self, record: dict) -> dict:
        call_id = self.required_id(record)
        legs = self.call_legs(call_id, record)
        head = legs[0]
        disposition, status = self.status_of(head)
        started_at = parse_local(head.get("callstart"), self.source.tz)
        if started_at is None:
            raise MappingError(Reason.UNPARSEABLE_TIME, f"callstart {head.get('callstart')!r}")
        direction = direction_of(call_id)
        if direction is None:
            raise MappingError(Reason.UNKNOWN_DIRECTION, f"pbx_call_id {call_id!r} is not in_/out_")
        answered = []
        for leg in legs:
            seconds = to_int(leg, "seconds", default=0)
            if seconds < 0:
                raise MappingError(Reason.INVALID_NUMBER, f"seconds={seconds} in leg {leg}")
            # A leg answered by the scenario itself (IVR, voicemail) has no extension: nobody
            # talked to the caller there.
            if self.status_of(leg)[1] == "answered" and seconds > 0 and extension(leg):
                answered.append((seconds, leg))
        talk, person = max(answered, key=lambda a: a[0], default=(0, None))
        if person is not None:
            disposition, status = "answered", "answered"
        elif status == "answered":
            status = "missed"  # answered with no second on the line: nobody talked
        region = self.source.default_region
        customer, company = head.get("clid"), head.get("destination")
        if direction == "outbound":
            customer, company = head.get("destination"), None
        return {
            **self.base_row(call_id, started_at),
            "direction": direction,
            "customer_number": to_e164(caller_number(customer), region),
            "company_number": to_e164(company, region),
            "wait_seconds": None,  # the statistics give no ringing time
            "talk_seconds": talk,
            "status": status,
            **NO_MARKETING,
            "provider_status": disposition,
            "total_seconds": talk,
            # The extension whose leg talked; for an outbound call, the extension that dialled.
            "employee_id": extension(person or head)
            if person is not None or direction == "outbound"
            else None,
            "employee_name": None,
        }


def extension(leg: dict) -> str | None:
    return str(leg.get("sip") or "").strip() or None


def caller_number(clid: Any) -> Any:
    """``clid`` is a number, or ``Name (100)`` / ``"Name" <380...>`` around one."""
    if clid is None:
        return None
    text = str(clid)
    if "<" in text and ">" in text:
        return text[text.rindex("<") + 1 : text.rindex(">")]
    if text.endswith(")") and "(" in text:
        return None  # an extension's display name: an internal caller, not a customer
    return text
