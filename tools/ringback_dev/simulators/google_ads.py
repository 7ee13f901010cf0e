"""A local stand-in for Google's Data Manager API ``events:ingest`` (Google Ads conversions).

Follows the documented request and response (developers.google.com/data-manager/api:
``POST /v1/events:ingest``; "Google Ads offline conversions: send events"): an OAuth bearer
token; ``destinations`` with ``operatingAccount`` {``accountType`` GOOGLE_ADS, ``accountId`` the
10-digit customer id without hyphens}, optional ``loginAccount``, and ``productDestinationId``
(the conversion action's id); at most 2,000 ``events``, each with an RFC 3339
``eventTimestamp``, a ``transactionId`` (Google de-duplicates on it), an ``eventSource`` and at
least one match signal: ``adIdentifiers.gclid`` or ``userData.userIdentifiers`` whose
``phoneNumber`` is the SHA-256 of the E.164 number, hex-encoded when ``encoding`` is HEX (which
user data requires). A valid request answers 200 ``{"requestId": ...}`` (processing is
asynchronous); an invalid one 400 with Google's error envelope (``INVALID_ARGUMENT``), a bad
token 401 (``UNAUTHENTICATED``). Events are recorded once per transactionId, as Google counts
them.

``GET /v1/requestStatus:retrieve?requestId=...`` answers as documented (google/ads/datamanager/v1
``RequestStatusPerDestination``): one entry per destination of the request, ``requestStatus``
``PROCESSING`` until ``processing_seconds`` have passed on the fake's clock, then ``SUCCESS``,
``FAILED`` (every record failed) or ``PARTIAL_SUCCESS``, with ``errorInfo.errorCounts`` giving a
``recordCount`` (an int64, so a JSON string) per ``reason`` and ``eventsIngestionStatus.
recordCount`` the events sent. Google counts failures per reason, never per record. What fails:
a transactionId Google already received in an earlier request
(``PROCESSING_ERROR_REASON_DUPLICATE_TRANSACTION_ID``), an event older than 90 days
(``PROCESSING_ERROR_REASON_EVENT_TOO_OLD``), and any GCLID or transactionId a test or demo
scenario puts in ``rejections`` with its reason (a click Google cannot find, say). An unknown
request id answers 404 ``NOT_FOUND``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ringback_dev.simulators.server import ProviderSimulator, Response

DEMO_TOKEN = "demo-data-manager-token"
MAX_EVENTS = 2000
ACCOUNT_ID = re.compile(r"^\d{10}$")
SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
EVENT_SOURCES = {"WEB", "APP", "IN_STORE", "PHONE", "OTHER"}
MAX_EVENT_AGE = dt.timedelta(days=90)
DUPLICATE = "PROCESSING_ERROR_REASON_DUPLICATE_TRANSACTION_ID"
TOO_OLD = "PROCESSING_ERROR_REASON_EVENT_TOO_OLD"


@dataclass
class IngestRequest:
    """What the fake decided about one accepted request, reported once processing is over."""

    received_at: dt.datetime
    destinations: list[dict[str, Any]]
    records: int
    errors: Counter[str]


def _error(status: int, code: str, message: str) -> Response:
    return Response.json({"error": {"code": status, "message": message, "status": code}}, status)


class DataManagerSimulator(ProviderSimulator):
    provider = "google_ads"

    def __init__(
        self,
        token: str = DEMO_TOKEN,
        *,
        processing_seconds: float = 0.0,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        super().__init__()
        self.token = token
        self.received: dict[str, dict[str, Any]] = {}  # transactionId -> event
        self.request_ids: list[str] = []
        self.ingested: dict[str, IngestRequest] = {}
        # GCLID or transactionId -> the ProcessingErrorReason Google will report for it.
        self.rejections: dict[str, str] = {}
        self.processing = dt.timedelta(seconds=processing_seconds)
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))

    def validate(self, body: Any) -> str | None:
        """What is wrong with an ingest request, or None."""
        if not isinstance(body, dict):
            return "request body must be a JSON object"
        destinations = body.get("destinations")
        if not isinstance(destinations, list) or not destinations:
            return "destinations is required"
        for d in destinations:
            account = (d or {}).get("operatingAccount") or {}
            if account.get("accountType") != "GOOGLE_ADS":
                return "destinations.operatingAccount.accountType must be GOOGLE_ADS"
            if not ACCOUNT_ID.match(str(account.get("accountId", ""))):
                return "operatingAccount.accountId must be the 10-digit customer id, no hyphens"
            login = d.get("loginAccount")
            if login is not None and not ACCOUNT_ID.match(str(login.get("accountId", ""))):
                return "loginAccount.accountId must be a 10-digit customer id"
            if not str(d.get("productDestinationId", "")).isdigit():
                return "productDestinationId must be the conversion action id"
        events = body.get("events")
        if not isinstance(events, list) or not 1 <= len(events) <= MAX_EVENTS:
            return f"events must hold 1..{MAX_EVENTS} events"
        for i, event in enumerate(events):
            where = f"events[{i}]"
            try:
                stamp = dt.datetime.fromisoformat(str(event.get("eventTimestamp", "")))
            except ValueError:
                return f"{where}.eventTimestamp must be an RFC 3339 timestamp"
            if stamp.tzinfo is None:
                return f"{where}.eventTimestamp needs a UTC offset"
            if not event.get("transactionId"):
                return f"{where}.transactionId is required for Google Ads conversions"
            if event.get("eventSource") not in EVENT_SOURCES:
                return f"{where}.eventSource must be one of {sorted(EVENT_SOURCES)}"
            gclid = (event.get("adIdentifiers") or {}).get("gclid")
            identifiers = (event.get("userData") or {}).get("userIdentifiers") or []
            if not gclid and not identifiers:
                return f"{where} needs adIdentifiers.gclid or userData.userIdentifiers"
            if identifiers and body.get("encoding") != "HEX":
                return "encoding is required (HEX) when events carry user data"
            for ident in identifiers:
                phone = ident.get("phoneNumber")
                if phone is not None and not SHA256_HEX.match(phone):
                    return f"{where}.userData: phoneNumber must be a hex SHA-256 hash"
            value = event.get("conversionValue")
            if value is not None and not isinstance(value, int | float):
                return f"{where}.conversionValue must be a number"
        return None

    def _rejection(self, event: dict[str, Any], at: dt.datetime) -> str | None:
        """The reason Google's processing fails an event for, or None (accepted)."""
        gclid = (event.get("adIdentifiers") or {}).get("gclid")
        for key in (event["transactionId"], gclid):
            if key in self.rejections:
                return self.rejections[key]
        if event["transactionId"] in self.received:
            return DUPLICATE
        if dt.datetime.fromisoformat(event["eventTimestamp"]) < at - MAX_EVENT_AGE:
            return TOO_OLD
        return None

    def ingest(self, doc: dict[str, Any]) -> Response:
        request_id = str(uuid.uuid4())
        if not doc.get("validateOnly"):
            at = self.clock()
            errors: Counter[str] = Counter()
            for event in doc["events"]:
                if reason := self._rejection(event, at):
                    errors[reason] += 1
                else:
                    self.received[event["transactionId"]] = event
            self.request_ids.append(request_id)
            self.ingested[request_id] = IngestRequest(
                at, doc["destinations"], len(doc["events"]), errors
            )
        return Response.json({"requestId": request_id})

    def status(self, request_id: str) -> Response:
        request = self.ingested.get(request_id)
        if request is None:
            return _error(404, "NOT_FOUND", f"request {request_id!r} not found")
        failed = sum(request.errors.values())
        if self.clock() < request.received_at + self.processing:
            state = "PROCESSING"
        elif not failed:
            state = "SUCCESS"
        else:
            state = "FAILED" if failed == request.records else "PARTIAL_SUCCESS"
        entry: dict[str, Any] = {
            "requestStatus": state,
            "eventsIngestionStatus": {"recordCount": str(request.records)},
        }
        if state in ("FAILED", "PARTIAL_SUCCESS"):
            entry["errorInfo"] = {
                "errorCounts": [
                    {"recordCount": str(n), "reason": reason}
                    for reason, n in sorted(request.errors.items())
                ]
            }
        return Response.json(
            {
                "requestStatusPerDestination": [
                    {"destination": d, **entry} for d in request.destinations
                ]
            }
        )

    def handle(self, method, path, query, headers, body) -> Response:
        route = (method, path)
        if route not in (("POST", "/v1/events:ingest"), ("GET", "/v1/requestStatus:retrieve")):
            return _error(404, "NOT_FOUND", f"{method} {path} is not served")
        if headers.get("authorization") != f"Bearer {self.token}":
            return _error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
        if method == "GET":
            request_id = (query.get("requestId") or [""])[0]
            if not request_id:
                return _error(400, "INVALID_ARGUMENT", "requestId is required")
            return self.status(request_id)
        try:
            doc = json.loads(body or b"null")
        except json.JSONDecodeError:
            return _error(400, "INVALID_ARGUMENT", "Invalid JSON payload received.")
        if problem := self.validate(doc):
            return _error(400, "INVALID_ARGUMENT", problem)
        return self.ingest(doc)


def connection_uri(sim: DataManagerSimulator, account_id: str, action_id: str) -> str:
    """AIRFLOW_CONN_RINGBACK_GOOGLE_ADS pointing at the fake: login = customer id, password =
    bearer token, the conversion action in the extras."""
    base = sim.base_url.replace("://", f"://{account_id}:{sim.token}@", 1)
    return f"{base}?conversion_action_id={action_id}"
