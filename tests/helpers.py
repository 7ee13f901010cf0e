"""Helpers for tests: compact staging rows, loading them, building models, reading tables."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from ringback import catalog, models

TEST_SALT = "test-salt"


def parse_time(value) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC)
    return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(dt.UTC)


def staging_row(spec: dict, settings) -> dict:
    """A staging.calls row from a compact spec (key, system, dir, number, at, status, talk...)."""
    key = spec["key"]
    started_at = parse_time(spec["at"])
    system = spec.get("system", "calltracking")
    return {
        "call_key": key,
        "system": system,
        "provider": spec.get("provider", "ringostat" if system == "calltracking" else "binotel"),
        "account_id": "acc",
        "provider_call_id": key.split(":")[-1],
        "direction": spec.get("dir", "inbound"),
        "customer_number": spec.get("number"),
        "company_number": spec.get("company", "+380443330001"),
        "started_at": started_at,
        "wait_seconds": spec.get("wait", 5),
        "talk_seconds": spec.get("talk", 0),
        "status": spec.get("status", "answered" if spec.get("talk") else "missed"),
        "traffic_source": spec.get("source"),
        "traffic_medium": spec.get("medium"),
        "campaign": spec.get("campaign"),
        "keyword": spec.get("keyword"),
        "landing_page": None,
        "gclid": spec.get("gclid"),
        "ga_client_id": spec.get("ga_client_id"),
        "call_date": started_at.astimezone(settings.tz).date(),
        "load_id": "fixture",
    }


def load_calls(wh, rows: list[dict]) -> None:
    wh.write(catalog.table("staging.calls"), catalog.table("staging.calls").to_arrow(rows))


def build(wh, settings, start: dt.date, end: dt.date, **kw):
    return models.run_models(wh, settings, start, end, **kw)


def table_rows(wh, ref: str, order_by: str = "1") -> list[dict]:
    return wh.query(f"SELECT * FROM {ref} ORDER BY {order_by}").to_pylist()


def normalise(value: Any) -> Any:
    """Compare timestamps as UTC ISO strings and dates as ISO strings, whatever their source."""
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str) and value.startswith("hash:"):
        return hashlib.sha256(f"{TEST_SALT}{value[5:]}".encode()).hexdigest()
    if isinstance(value, str) and len(value) >= 19 and value[10:11] == "T" and value[:4].isdigit():
        return normalise(parse_time(value))
    if isinstance(value, float):
        return round(value, 9)
    return value
