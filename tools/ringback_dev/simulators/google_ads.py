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
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from typing import Any

from ringback_dev.simulators.server import ProviderSimulator, Response

DEMO_TOKEN = "demo-data-manager-token"
MAX_EVENTS = 2000
ACCOUNT_ID = re.compile(r"^\d{10}$")
SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
EVENT_SOURCES = {"WEB", "APP", "IN_STORE", "PHONE", "OTHER"}


def _error(status: int, code: str, message: str) -> Response:
    return Response.json({"error": {"code": status, "message": message, "status": code}}, status)


class DataManagerSimulator(ProviderSimulator):
    provider = "google_ads"

    def __init__(self, token: str = DEMO_TOKEN) -> None:
        super().__init__()
        self.token = token
        self.received: dict[str, dict[str, Any]] = {}  # transactionId -> event
        self.request_ids: list[str] = []

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

    def handle(self, method, path, query, headers, body) -> Response:
        if method != "POST" or path != "/v1/events:ingest":
            return _error(404, "NOT_FOUND", f"{method} {path} is not served")
        if headers.get("authorization") != f"Bearer {self.token}":
            return _error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
        try:
            doc = json.loads(body or b"null")
        except json.JSONDecodeError:
            return _error(400, "INVALID_ARGUMENT", "Invalid JSON payload received.")
        if problem := self.validate(doc):
            return _error(400, "INVALID_ARGUMENT", problem)
        request_id = str(uuid.uuid4())
        if not doc.get("validateOnly"):
            for event in doc["events"]:
                self.received.setdefault(event["transactionId"], event)
            self.request_ids.append(request_id)
        return Response.json({"requestId": request_id})


def connection_uri(sim: DataManagerSimulator, account_id: str, action_id: str) -> str:
    """AIRFLOW_CONN_RINGBACK_GOOGLE_ADS pointing at the fake: login = customer id, password =
    bearer token, the conversion action in the extras."""
    base = sim.base_url.replace("://", f"://{account_id}:{sim.token}@", 1)
    return f"{base}?conversion_action_id={action_id}"
