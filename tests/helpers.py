"""Helpers for tests: compact staging rows, loading them, building models, reading tables."""

from __future__ import annotations

import datetime as dt
import hashlib
import zoneinfo
from typing import Any

from ringback import catalog, models

TEST_SALT = "test-salt"


def parse_time(value) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC)
    return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(dt.UTC)


def staging_row(spec: dict, settings) -> dict:
    """A staging.calls row from a compact spec (key, system, dir, number, at, status, talk...).

    ``business`` defaults to ``default``; ``tz`` (the business's zone, for call_date) defaults to
    the settings' reporting time zone.
    """
    key = spec["key"]
    started_at = parse_time(spec["at"])
    system = spec.get("system", "calltracking")
    tz = zoneinfo.ZoneInfo(spec["tz"]) if spec.get("tz") else settings.tz
    return {
        "business_id": spec.get("business", "default"),
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
        "call_date": started_at.astimezone(tz).date(),
        "load_id": "fixture",
        "employee_id": spec.get("employee"),
        "employee_name": spec.get("employee_name"),
        "vendor_first_call": spec.get("vendor_first"),
        "vendor_target_call": spec.get("vendor_target"),
        "vendor_lead_status": spec.get("vendor_status"),
        "vendor_value": spec.get("vendor_value"),
        "vendor_tags": spec.get("vendor_tags"),
        "vendor_spam": spec.get("vendor_spam"),
    }


def sql_case(case, overrides: dict | None = None):
    """A fixture folder of tests/sql/: (settings, config, staging rows, start, end, businesses).

    A case may list businesses (as in the sources file) with their zones and settings; each
    call's call_date is in its business's zone. ``overrides`` are merged into the settings.
    """
    from pathlib import Path

    import yaml

    from ringback.settings import Config, businesses_from, load_settings

    case = Path(case)
    params = yaml.safe_load((case / "params.yaml").read_text())
    settings = load_settings(
        {"validate_marts": False, **(params.get("settings") or {}), **(overrides or {})}
    )
    config = Config(businesses_from(case / "params.yaml", params, settings), ())
    zones = {b.id: b.time_zone for b in config.businesses}
    calls = yaml.safe_load((case / "input.yaml").read_text())["calls"]
    for call in calls:
        call.setdefault("tz", zones.get(call.get("business", "default")))
    rows = [staging_row(c, settings) for c in calls]
    start = dt.date.fromisoformat(str(params["start"]))
    end = dt.date.fromisoformat(str(params["end"]))
    return settings, config, rows, start, end, params.get("only_businesses")


def load_calls(wh, rows: list[dict]) -> None:
    wh.write(catalog.table("staging.calls"), catalog.table("staging.calls").to_arrow(rows))


def load_deleted(wh, case, rows: list[dict]) -> None:
    """A case's ``deleted:`` call keys as soft deletes in staging.deleted_calls."""
    from pathlib import Path

    import yaml

    keys = set(yaml.safe_load((Path(case) / "input.yaml").read_text()).get("deleted") or [])
    table = catalog.table("staging.deleted_calls")
    marked = [
        {
            "business_id": r["business_id"],
            "call_key": r["call_key"],
            "call_date": r["call_date"],
            "is_deleted": True,
            "load_id": "fixture",
            "changed_at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        }
        for r in rows
        if r["call_key"] in keys
    ]
    if marked:
        wh.write(table, table.to_arrow(marked))


def load_crm(wh, case, settings, config) -> None:
    """A case's ``crm_leads:`` as staging.crm_leads rows (numbers normalised as a connector
    does, with the case's ``region``, UA by default) and the CRM's coverage (``crm_synced``:
    from, until) as one good load per CRM source in raw.loads."""
    from pathlib import Path

    import yaml

    from ringback.sources.base import to_e164

    doc = yaml.safe_load((Path(case) / "input.yaml").read_text())
    specs = doc.get("crm_leads") or []
    if not specs:
        return
    params = yaml.safe_load((Path(case) / "params.yaml").read_text())
    zones = {b.id: zoneinfo.ZoneInfo(b.time_zone) for b in config.businesses}
    rows = []
    for spec in specs:
        created_at = parse_time(spec["at"])
        business = spec.get("business", "default")
        won_at = parse_time(spec["won_at"]) if spec.get("won_at") else None
        rows.append(
            {
                "business_id": business,
                "crm_lead_key": f"hubspot:portal:{spec['key']}",
                "source_id": spec.get("source", "hubspot_main"),
                "provider": "hubspot",
                "account_id": "portal",
                "crm_record_id": spec["key"],
                "created_at": created_at,
                "created_date": created_at.astimezone(zones.get(business, settings.tz)).date(),
                "customer_number": to_e164(spec.get("number"), params.get("region", "UA")),
                "created_via": spec.get("via", "manual"),
                "crm_source": spec.get("source_field"),
                "crm_campaign": spec.get("campaign"),
                "deal_id": spec.get("deal"),
                "amount": spec.get("amount"),
                "currency": spec.get("currency"),
                "stage": spec.get("stage"),
                "won_at": won_at,
                "updated_at": created_at,
                "load_id": "fixture",
            }
        )
    synced = doc.get("crm_synced") or {}
    start = dt.date.fromisoformat(str(params["start"]))
    end = dt.date.fromisoformat(str(params["end"]))
    lo = parse_time(synced.get("from") or f"{start - dt.timedelta(days=1)}T00:00:00Z")
    hi = parse_time(synced.get("until") or f"{end + dt.timedelta(days=30)}T00:00:00Z")
    load_crm_rows(wh, rows, lo, hi)


def load_crm_rows(wh, rows: list[dict], lo: dt.datetime, hi: dt.datetime) -> None:
    """staging.crm_leads rows, and one good load per CRM source covering ``lo .. hi``."""
    wh.write(catalog.table("staging.crm_leads"), catalog.table("staging.crm_leads").to_arrow(rows))
    loads = catalog.table("raw.loads")
    sources = sorted({r["source_id"] for r in rows})
    wh.write(loads, loads.to_arrow([good_load(s, "hubspot", lo, hi) for s in sources]))


def good_load(source: str, provider: str, lo: dt.datetime, hi: dt.datetime) -> dict:
    """A raw.loads row: one validated load of ``source`` whose window is ``lo .. hi``."""
    return {
        "load_id": f"{source}:fixture",
        "source_id": source,
        "provider": provider,
        "load_date": hi.date(),
        "window_start_at": lo,
        "window_end_at": hi,
        "requests": 1,
        "received_records": 1,
        "staged_records": 1,
        "quarantined_records": 0,
        "validation_success": True,
        "validation_warnings": 0,
        "started_at": hi,
        "finished_at": hi,
    }


def runtime_of(settings, config=None):
    """A Runtime for these settings; the sources file unless ``config`` is given."""
    from ringback.runtime import Runtime
    from ringback.settings import load_config

    return Runtime.of(settings, config or load_config(settings))


def connect(url: str, *, read_only: bool = False, settings=None):
    """The warehouse at ``url`` with the environment's settings unless ``settings`` is given."""
    from ringback.settings import load_settings
    from ringback.warehouse import connect as open_warehouse

    return open_warehouse(url, read_only=read_only, settings=settings or load_settings())


def build(wh, settings, start: dt.date, end: dt.date, *, config=None, **kw):
    return models.run_models(wh, runtime_of(settings, config), start, end, **kw)


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


def map_records(connector, records: list) -> tuple[list[dict], dict[str, int]]:
    """A connector's batch pass and mapping of each record: (staged rows, quarantine reasons)."""
    from ringback.sources.base import MappingError

    connector.prepare(records)
    rows, reasons = [], {}
    for record in records:
        try:
            rows.append(connector.map_record(record))
        except MappingError as exc:
            reasons[exc.reason] = reasons.get(exc.reason, 0) + 1
    return rows, reasons


def start_simulators(monkeypatch, now: dt.datetime, customers_per_day: int = 30) -> dict:
    """Every provider simulator on loopback at ``now`` (the journey generator, seed 5), each
    source's ``<PROVIDER>_MAIN`` connection pointed at it. Stop them with ``stop_simulators``."""
    from ringback_dev.simulators import connection_uri, start_all
    from ringback_dev.simulators.journeys import JourneyGenerator

    sims = start_all(generator=JourneyGenerator(seed=5, customers_per_day=customers_per_day))
    for sim in sims.values():
        sim._now = now
    for name, sim in sims.items():
        monkeypatch.setenv(f"AIRFLOW_CONN_{name.upper()}_MAIN", connection_uri(name, sim.base_url))
    return sims


def stop_simulators(sims: dict) -> None:
    for sim in sims.values():
        sim.stop()
