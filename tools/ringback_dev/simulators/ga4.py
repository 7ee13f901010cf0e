"""A local stand-in for the GA4 Measurement Protocol (``/mp/collect``, ``/debug/mp/collect``).

It follows the documented behaviour that matters to a sender: collect always answers 2xx with no
body, whatever it thinks of the payload (invalid events are dropped without a word); only the
validation server (``/debug/mp/collect``) says what is wrong, as ``validationMessages``. Limits
enforced: 25 events per request, 25 parameters per event, names of at most 40 characters that
start with a letter, string values of at most 100 characters, no reserved event names, a
``client_id``, a 16-digit ``timestamp_micros`` no more than 72 hours in the past, a body under
130 kB. One check is the fake's own: a wrong measurement id or API secret is recorded as dropped
(real GA4 drops it too, but its validation server does not say so).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from ringback_dev.simulators.server import ProviderSimulator, Response

DEMO_MEASUREMENT_ID = "G-DEMO123456"
DEMO_API_SECRET = "demo-ga4-api-secret"
NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,39}$")
RESERVED_EVENTS = {
    "ad_activeview",
    "ad_click",
    "ad_exposure",
    "ad_query",
    "ad_reward",
    "adunit_exposure",
    "app_clear_data",
    "app_exception",
    "app_install",
    "app_remove",
    "app_store_refund",
    "app_update",
    "app_upgrade",
    "dynamic_link_app_open",
    "dynamic_link_app_update",
    "dynamic_link_first_open",
    "error",
    "firebase_campaign",
    "firebase_in_app_message_action",
    "firebase_in_app_message_dismiss",
    "firebase_in_app_message_impression",
    "first_open",
    "first_visit",
    "in_app_purchase",
    "notification_dismiss",
    "notification_foreground",
    "notification_open",
    "notification_receive",
    "os_update",
    "session_start",
    "session_start_with_rollout",
    "user_engagement",
}
MAX_AGE = dt.timedelta(hours=72)


class GA4Simulator(ProviderSimulator):
    provider = "ga4"

    def __init__(
        self,
        measurement_id: str = DEMO_MEASUREMENT_ID,
        api_secret: str = DEMO_API_SECRET,
        *,
        now: dt.datetime | None = None,
    ) -> None:
        super().__init__(now=now)
        self.measurement_id = measurement_id
        self.api_secret = api_secret
        self.received: list[dict[str, Any]] = []  # events GA4 would have recorded
        self.dropped: list[tuple[str, Any]] = []  # (why, payload) that it would have ignored

    def validate(self, payload: Any) -> list[dict[str, str]]:
        """The validation server's messages for a request body (empty: valid)."""
        messages: list[dict[str, str]] = []

        def fail(path: str, text: str, code: str = "VALUE_INVALID") -> None:
            messages.append({"fieldPath": path, "description": text, "validationCode": code})

        if not isinstance(payload, dict):
            fail("", "the body must be a JSON object", "VALUE_INVALID")
            return messages
        if not isinstance(payload.get("client_id"), str) or not payload["client_id"]:
            fail("client_id", "client_id is required for a web stream", "VALUE_REQUIRED")
        micros = payload.get("timestamp_micros")
        if micros is not None:
            if not isinstance(micros, int) or len(str(micros)) != 16:
                fail("timestamp_micros", "timestamp_micros must be microseconds (16 digits)")
            else:
                at = dt.datetime.fromtimestamp(micros / 1e6, dt.UTC)
                if at < self.now - MAX_AGE:
                    fail("timestamp_micros", "timestamp is more than 72 hours in the past")
                if at > self.now + dt.timedelta(minutes=15):
                    fail("timestamp_micros", "timestamp is in the future")
        events = payload.get("events")
        if not isinstance(events, list) or not events:
            fail("events", "events must be a non-empty list", "VALUE_REQUIRED")
            return messages
        if len(events) > 25:
            fail("events", "a request may carry at most 25 events", "EXCEEDED_MAX_ENTITIES")
        for i, event in enumerate(events):
            name = event.get("name") if isinstance(event, dict) else None
            if not isinstance(name, str) or not NAME.match(name):
                fail(f"events[{i}].name", f"invalid event name {name!r}", "NAME_INVALID")
            elif name in RESERVED_EVENTS:
                fail(f"events[{i}].name", f"{name} is a reserved event name", "NAME_RESERVED")
            params = event.get("params", {}) if isinstance(event, dict) else {}
            if not isinstance(params, dict):
                fail(f"events[{i}].params", "params must be an object")
                continue
            if len(params) > 25:
                fail(f"events[{i}].params", "at most 25 params", "EXCEEDED_MAX_ENTITIES")
            for key, value in params.items():
                if not NAME.match(key):
                    fail(f"events[{i}].params.{key}", "invalid param name", "NAME_INVALID")
                if isinstance(value, str) and len(value) > 100:
                    fail(f"events[{i}].params.{key}", "value longer than 100", "VALUE_INVALID")
                if isinstance(value, dict | list):
                    fail(f"events[{i}].params.{key}", "value must be a scalar", "VALUE_INVALID")
        return messages

    def handle(self, method, path, query, headers, body) -> Response:
        if method != "POST":
            return Response(405, b"")
        if path not in ("/mp/collect", "/debug/mp/collect"):
            return Response(404, b"")
        if len(body) > 130_000:
            return Response(413, b"")
        try:
            payload = json.loads(body or b"null")
        except json.JSONDecodeError:
            payload = None
        messages = self.validate(payload)
        if path == "/debug/mp/collect":
            return Response.json({"validationMessages": messages})
        ident = (query.get("measurement_id") or [""])[0], (query.get("api_secret") or [""])[0]
        if ident != (self.measurement_id, self.api_secret):
            self.dropped.append(("unknown measurement_id or api_secret", payload))
        elif messages:
            self.dropped.append((messages[0]["description"], payload))
        else:
            for event in payload["events"]:
                self.received.append(
                    {
                        "client_id": payload["client_id"],
                        "timestamp_micros": payload.get("timestamp_micros"),
                        "name": event["name"],
                        "params": event.get("params", {}),
                    }
                )
        return Response(204, b"")


def connection_uri(sim: GA4Simulator) -> str:
    """The AIRFLOW_CONN_RINGBACK_GA4 URI that points the exporter at this fake."""
    return sim.base_url.replace("://", f"://{sim.measurement_id}:{sim.api_secret}@", 1)
