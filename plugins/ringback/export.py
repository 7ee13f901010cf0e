"""``ringback export``: recovered leads sent back to where the ad money is judged.

Leads of type ``missed_call_retry`` and ``missed_call_callback`` go to two destinations, each
off until the settings turn it on:

* **ga4**: one GA4 Measurement Protocol event per lead (``ga4_event_name``), for the GA client id
  of the credited (missed) call, timestamped at the conversation, with the credited call's
  source, medium, campaign and keyword as parameters.
* **google_ads**: upload files for leads whose credited call came from Google Ads. Google's
  "offline call conversions" match only calls through a Google forwarding number, which ours are
  not, so: a **click-conversion** file keyed by the credited call's GCLID, and, for Google leads
  without one, an **enhanced-conversions-for-leads** file keyed by the SHA-256 of the caller's
  E.164 number. Both start with Google's ``Parameters:TimeZone=<zone>`` line and carry times in
  the business's zone. With ``google_ads_upload: data_manager`` the same conversions go straight
  to Google's Data Manager API (``events:ingest``, up to 2,000 per request, the lead id as
  ``transactionId``) instead. No raw phone number leaves the warehouse.

Google accepts such a request at once and processes it later, when it may still reject records
(a click it cannot find, a duplicate transaction id, an event too old). So each later run first
asks ``requestStatus:retrieve`` about every request sent at least
``google_ads_status_delay_minutes`` before, and records its leads ``accepted``, ``rejected``
(every record of the request failed) or ``partly_rejected``, with Google's reasons and counts.
Google counts failures per reason and request, never per record: a lead of a partly rejected
request may or may not have counted, and the ledger says exactly that. Rejected leads are not
sent again (the same data would fail the same way); the export task fails, which alerts.

The ledger ``raw.lead_exports`` makes it send each lead once. A lead is marked ``sending`` before
its request and ``sent`` after a 2xx; a request refused (4xx/5xx after retries) is ``failed`` and
tried again next run; one that got no answer at all is ``unknown`` and is *not* resent (GA4 may
have it; a double conversion is worse than a missing one) unless ``--retry-unknown`` says so.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import logging
import math
import os
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import tenacity

from ringback import catalog
from ringback.runtime import Runtime
from ringback.settings import Settings, project_root
from ringback.sources.connection import ProviderConnection, get_connection
from ringback.warehouse.base import Warehouse

log = logging.getLogger(__name__)

DESTINATIONS = ("ga4", "google_ads")
GOOGLE_ADS_FILES = ("click_conversions", "enhanced_conversions")
RECOVERED = ("missed_call_retry", "missed_call_callback")
CHECKED = {"SUCCESS": "accepted", "FAILED": "rejected", "PARTIAL_SUCCESS": "partly_rejected"}
REJECTED = ("rejected", "partly_rejected")
DONE = ("sent", "written", "skipped_too_old", *CHECKED.values())  # never again
IN_DOUBT = ("sending", "unknown")  # never again unless --retry-unknown
GA4_BASE_URL = "https://www.google-analytics.com"
DATA_MANAGER_URL = "https://datamanager.googleapis.com"
DATA_MANAGER_SCOPE = "https://www.googleapis.com/auth/datamanager"
MAX_UPLOAD_EVENTS = 2000  # per events:ingest request
CONVERSION_COLUMNS = [
    "Conversion Name",
    "Conversion Time",
    "Conversion Value",
    "Conversion Currency",
]
GOOGLE_ADS_COLUMNS = {
    "click_conversions": ["Google Click ID", *CONVERSION_COLUMNS],
    "enhanced_conversions": ["Phone Number", *CONVERSION_COLUMNS],
}
CHUNK = 25  # ledger writes per this many leads: a crash leaves at most this many in doubt
HTTP_TIMEOUT_SECONDS = 10.0

CANDIDATES = """
SELECT
    leads.business_id,
    leads.lead_id,
    leads.attribution_type,
    leads.lead_at,
    leads.lead_date,
    leads.attributed_at,
    leads.traffic_source,
    leads.traffic_medium,
    leads.campaign,
    leads.keyword,
    leads.talk_seconds,
    leads.recovery_seconds,
    credited.ga_client_id,
    credited.gclid,
    credited.customer_number,
    ledger.status AS ledger_status,
    ledger.attempts AS ledger_attempts
FROM marts.attributed_leads AS leads
LEFT JOIN staging.calls AS credited
    ON credited.business_id = leads.business_id
    AND credited.call_key = leads.attributed_call_key
    AND credited.call_date = leads.attributed_date
    AND credited.call_date BETWEEN @credited_from AND @end
LEFT JOIN raw.lead_exports AS ledger
    ON ledger.business_id = leads.business_id
    AND ledger.lead_id = leads.lead_id
    AND ledger.destination = @destination
WHERE leads.attribution_type IN ('missed_call_retry', 'missed_call_callback')
    AND leads.lead_date BETWEEN @start AND @end
    AND leads.business_id IN UNNEST(@businesses)
ORDER BY leads.lead_at, leads.lead_id
"""

# Data Manager requests sent long enough ago to ask Google how they were processed.
AWAITING_STATUS = """
SELECT business_id, destination, lead_id, attribution_type, lead_date, detail, attempts
FROM raw.lead_exports
WHERE destination = 'google_ads'
    AND status = 'sent'
    AND detail IS NOT NULL
    AND business_id = @business
    AND updated_at <= @sent_before
ORDER BY detail, lead_id
"""


class ExportError(RuntimeError):
    """An export that cannot run as configured (no connection, unwritable folder...)."""


@dataclass
class ExportResult:
    destination: str
    enabled: bool
    business_id: str = "default"
    candidates: int = 0
    counts: Counter[str] = field(default_factory=Counter)  # status -> leads this run
    already: Counter[str] = field(default_factory=Counter)  # ledger status -> leads left alone
    files: list[Path] = field(default_factory=list)
    # Earlier uploads Google finished processing, checked this run: status -> leads, and
    # Google's reasons -> records it failed.
    checked: Counter[str] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)

    @property
    def rejected(self) -> int:
        return sum(self.checked[s] for s in REJECTED)

    def line(self) -> str:
        name = f"{self.business_id} {self.destination}"
        if not self.enabled:
            return f"{name}: off (export_{self.destination}_enabled=false): nothing sent"
        done = ", ".join(f"{k} {v}" for k, v in sorted(self.counts.items())) or "nothing new"
        left = ", ".join(f"{k} {v}" for k, v in sorted(self.already.items()))
        out = f"{name}: {self.candidates} recovered leads; this run: {done}"
        if left:
            out += f"; left alone (ledger): {left}"
        for path in self.files:
            out += f"; file {path}"
        if self.checked:
            out += "; Google processed earlier uploads: " + ", ".join(
                f"{k} {v}" for k, v in sorted(self.checked.items())
            )
        if self.reasons:
            out += (
                " (records failed: "
                + ", ".join(f"{_short_reason(k)} {v}" for k, v in sorted(self.reasons.items()))
                + ")"
            )
        return out


def uploads_overview(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The ledger per business and destination (rows of the ``lead_exports`` analysis): leads
    by what became of them, and Google's reasons for the rejected ones, counted once per
    request (a request's reasons are on each of its leads' rows)."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    requests: dict[tuple[str, str], dict[str, str]] = {}
    for row in rows:
        key = (row["business_id"], row["destination"])
        line = out.setdefault(
            key,
            {"business_id": key[0], "destination": key[1], "leads": 0, "partly_rejected": 0}
            | dict.fromkeys(UPLOAD_OUTCOMES, 0),
        )
        line["leads"] += row["leads"]
        line[_outcome(row["status"])] += row["leads"]
        if row["status"] == "partly_rejected":
            line["partly_rejected"] += row["leads"]
        if row["rejection_detail"]:
            request_id, _, reasons = row["rejection_detail"].partition(" ")
            requests.setdefault(key, {})[request_id] = reasons
    for key, line in out.items():
        counted: Counter[str] = Counter()
        for reasons in requests.get(key, {}).values():
            for item in reasons.split():
                reason, _, n = item.partition("=")
                counted[reason] += int(n or 0)
        line["reasons"] = ", ".join(f"{r} {n}" for r, n in sorted(counted.items()))
    return [out[k] for k in sorted(out)]


# What became of a lead, as the summary and the report count it.
UPLOAD_OUTCOMES = ("sent", "accepted", "rejected", "in_doubt", "failed", "skipped")


def _outcome(status: str) -> str:
    if status in ("sent", "written"):
        return "sent"  # GA4 and upload files give no verdict; Data Manager's comes later
    if status in REJECTED:
        return "rejected"
    if status in IN_DOUBT:
        return "in_doubt"
    if status.startswith("skipped"):
        return "skipped"
    return status  # accepted, failed


def _short_reason(reason: str) -> str:
    return reason.removeprefix("PROCESSING_ERROR_REASON_")


def _ledger_row(lead: dict[str, Any], destination: str, status: str, detail: str | None) -> dict:
    tried = not status.startswith("skipped")  # each run that sends or writes a lead counts once
    attempts = (lead.get("ledger_attempts") or 0) + tried
    return {
        "business_id": lead["business_id"],
        "destination": destination,
        "lead_id": lead["lead_id"],
        "attribution_type": lead["attribution_type"],
        "lead_date": lead["lead_date"],
        "status": status,
        "detail": detail,
        "attempts": attempts,
        "updated_at": dt.datetime.now(dt.UTC),
    }


class LedgerWriter:
    """Writes ledger rows, each batch in its own short warehouse connection (the DuckDB writer
    lock is taken for milliseconds, never across an HTTP request)."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def write(self, table: catalog.Table, rows: Any) -> int:
        with self.runtime.connect() as wh:
            return wh.write(table, rows)


def _record(wh: Warehouse | LedgerWriter, rows: list[dict[str, Any]]) -> None:
    if rows:
        table = catalog.table("raw.lead_exports")
        wh.write(table, table.to_arrow(rows))


def _split(
    leads: list[dict[str, Any]], retry_unknown: bool, result: ExportResult
) -> list[dict[str, Any]]:
    """The leads to act on this run; counts the ones the ledger says to leave alone."""
    todo = []
    for lead in leads:
        status = lead["ledger_status"]
        if status in DONE or (status in IN_DOUBT and not retry_unknown):
            result.already[status] += 1
        else:
            todo.append(lead)
    return todo


def _chunks(items: list[Any], size: int) -> Iterable[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


# -- GA4 -------------------------------------------------------------------------------------
def ga4_payload(lead: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """The Measurement Protocol body for one lead (client id of the credited call)."""
    params: dict[str, Any] = {
        "lead_id": lead["lead_id"],
        "attribution_type": lead["attribution_type"],
        "call_source": lead["traffic_source"],
        "call_medium": lead["traffic_medium"],
        "call_campaign": lead["campaign"],
        "call_keyword": lead["keyword"],
        "recovery_minutes": round(lead["recovery_seconds"] / 60),
        "talk_seconds": lead["talk_seconds"],
    }
    return {
        "client_id": lead["ga_client_id"],
        "timestamp_micros": int(lead["lead_at"].timestamp() * 1_000_000),
        "events": [
            {
                "name": settings.ga4_event_name,
                # GA4 takes string values of up to 100 characters; unknowns are left out.
                "params": {
                    k: v[:100] if isinstance(v, str) else v
                    for k, v in params.items()
                    if v is not None
                },
            }
        ],
    }


class _RedactApiSecret(logging.Filter):
    """httpx logs each request's URL at INFO, and GA4 wants its API secret in the URL."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and any("api_secret=" in str(a) for a in record.args):
            record.args = tuple(
                re.sub(r"api_secret=[^&\s\"]*", "api_secret=***", str(a))
                if "api_secret=" in str(a)
                else a
                for a in record.args
            )
        return True


_REDACT = _RedactApiSecret()


class _Refused(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status


def _post_once(
    client: httpx.Client, url: str, params: dict[str, str] | None, body: dict
) -> httpx.Response:
    try:
        resp = client.post(url, params=params, json=body)
    except httpx.ConnectError as exc:  # nothing reached the server: safe to try again
        raise _Refused(0) from exc
    if resp.status_code >= 300:
        raise _Refused(resp.status_code)
    return resp


def _post(client: httpx.Client, url: str, params: dict[str, str] | None, body: dict) -> str:
    """``sent[:<requestId>]``, ``failed:<why>`` (refused: may be tried again) or
    ``unknown:<why>`` (sent, but no answer: never resent on its own)."""
    retrying = tenacity.Retrying(
        retry=tenacity.retry_if_exception(
            lambda e: isinstance(e, _Refused) and (e.status in (0, 429) or e.status >= 500)
        ),
        stop=tenacity.stop_after_attempt(3),
        wait=tenacity.wait_exponential(multiplier=0.5, max=5),
        reraise=True,
    )
    try:
        resp = retrying(_post_once, client, url, params, body)
    except _Refused as exc:
        return f"failed:{exc}"
    except httpx.TransportError as exc:  # sent, but no answer (timeout, reset): do not resend
        return f"unknown:{type(exc).__name__}"
    try:  # the Data Manager API names its request; GA4 answers with an empty body
        request_id = resp.json().get("requestId") if resp.content else None
    except ValueError:
        request_id = None
    return f"sent:{request_id}" if request_id else "sent"


def _ga4_send(client: httpx.Client, url: str, params: dict[str, str], body: dict) -> str:
    return _post(client, url, params, body)


def _too_old(lead: dict[str, Any], settings: Settings, at: dt.datetime) -> bool:
    """GA4 drops events backdated more than 72 h without a word (2xx all the same), so a lead
    is sent only while younger than ``ga4_max_age_hours`` (71 h: an hour's margin)."""
    return lead["lead_at"] < at - dt.timedelta(hours=settings.ga4_max_age_hours)


def _too_old_row(lead: dict[str, Any], settings: Settings) -> dict:
    detail = f"lead older than ga4_max_age_hours={settings.ga4_max_age_hours:g}"
    return _ledger_row(lead, "ga4", "skipped_too_old", detail)


def export_ga4(
    wh: Warehouse | LedgerWriter,
    leads: list[dict[str, Any]],
    settings: Settings,
    result: ExportResult,
    *,
    retry_unknown: bool,
    now: dt.datetime,
) -> None:
    conn = get_connection(settings.ga4_connection_id, GA4_BASE_URL)
    if not conn.login or not conn.password:
        raise ExportError(
            f"connection {settings.ga4_connection_id!r} needs the measurement id as login and "
            "the Measurement Protocol API secret as password"
        )
    url = f"{conn.base_url}/mp/collect"
    query = {"measurement_id": conn.login, "api_secret": conn.password}
    todo = _split(leads, retry_unknown, result)
    if _REDACT not in logging.getLogger("httpx").filters:
        logging.getLogger("httpx").addFilter(_REDACT)
    timeout = httpx.Timeout(HTTP_TIMEOUT_SECONDS, connect=5.0)
    started = dt.datetime.now(dt.UTC)
    with httpx.Client(timeout=timeout) as client:
        for chunk in _chunks(todo, CHUNK):
            skipped, sendable = [], []
            for lead in chunk:
                if not lead["ga_client_id"]:
                    skipped.append(_ledger_row(lead, "ga4", "skipped", "no_ga_client_id"))
                elif _too_old(lead, settings, now):
                    skipped.append(_too_old_row(lead, settings))
                else:
                    sendable.append(lead)
            # In the ledger before the requests: a crash now leaves them "sending", not resent.
            _record(wh, skipped + [_ledger_row(x, "ga4", "sending", None) for x in sendable])
            outcomes = []
            for lead in sendable:
                # Judged again at the request: a long run must not send a lead past the limit.
                if _too_old(lead, settings, now + (dt.datetime.now(dt.UTC) - started)):
                    outcomes.append(_too_old_row(lead, settings))
                    continue
                outcome = _ga4_send(client, url, query, ga4_payload(lead, settings))
                status, _, detail = outcome.partition(":")
                outcomes.append(_ledger_row(lead, "ga4", status, detail or None))
            _record(wh, outcomes)
            result.counts.update(row["status"] for row in skipped + outcomes)


# -- Google Ads --------------------------------------------------------------------------------
def _ads_time(at: dt.datetime, settings: Settings) -> str:
    # Local time in the zone the file's Parameters:TimeZone line names.
    return f"{at.astimezone(settings.tz):%Y-%m-%d %H:%M:%S}"


def hashed_phone(e164: str) -> str:
    """Google's identifier for a phone number: SHA-256 (hex) of the E.164 form, '+' included."""
    return hashlib.sha256(e164.strip().encode()).hexdigest()


def _from_google_ads(lead: dict[str, Any], settings: Settings) -> bool:
    pair = f"{lead['traffic_source'] or ''}/{lead['traffic_medium'] or ''}".lower()
    return bool(lead["gclid"]) or pair in {p.lower() for p in settings.google_ads_source_mediums}


def _write_upload_file(
    kind: str, leads: list[dict[str, Any]], settings: Settings, now: dt.datetime
) -> Path:
    folder = Path(settings.export_dir)
    folder = folder if folder.is_absolute() else project_root() / folder
    folder = folder / "google_ads"
    folder.mkdir(parents=True, exist_ok=True)
    business = leads[0]["business_id"]
    path = folder / f"{kind}_{business}_{now:%Y%m%dT%H%M%SZ}.csv"
    tmp = path.with_suffix(".csv.tmp")
    # Owner-only (click ids and hashed numbers are still customer data), and complete before it
    # gets its name.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", newline="", encoding="utf-8") as f:
        f.write(f"Parameters:TimeZone={settings.reporting_time_zone}\n")
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(GOOGLE_ADS_COLUMNS[kind])
        for lead in leads:
            key = (
                lead["gclid"]
                if kind == "click_conversions"
                else hashed_phone(lead["customer_number"])
            )
            conversion = [settings.google_ads_conversion_name, _ads_time(lead["lead_at"], settings)]
            writer.writerow([key, *conversion, "", ""])
    tmp.replace(path)
    return path


def export_google_ads(
    wh: Warehouse | LedgerWriter,
    leads: list[dict[str, Any]],
    settings: Settings,
    result: ExportResult,
    *,
    retry_unknown: bool,
    now: dt.datetime,
) -> None:
    todo = _split(leads, retry_unknown, result)
    by_kind: dict[str, list[dict[str, Any]]] = {kind: [] for kind in GOOGLE_ADS_FILES}
    ledger = []
    for lead in todo:
        if not _from_google_ads(lead, settings):
            ledger.append(_ledger_row(lead, "google_ads", "skipped", "not_from_google_ads"))
        elif lead["gclid"]:
            by_kind["click_conversions"].append(lead)
        elif lead["customer_number"]:
            by_kind["enhanced_conversions"].append(lead)
        else:
            ledger.append(_ledger_row(lead, "google_ads", "skipped", "no_gclid_or_number"))
    if settings.google_ads_upload == "data_manager":
        _record(wh, ledger)
        result.counts.update(row["status"] for row in ledger)
        upload_google_ads(wh, [x for rows in by_kind.values() for x in rows], settings, result)
        return
    for kind, rows in by_kind.items():
        if not rows:
            continue
        path = _write_upload_file(kind, rows, settings, now)
        result.files.append(path)
        # Written before recorded: a crash in between writes them again next run, which Google
        # Ads ignores (the same click or identifier, conversion name and time count once).
        ledger += [_ledger_row(x, "google_ads", "written", path.name) for x in rows]
    _record(wh, ledger)
    result.counts.update(row["status"] for row in ledger)


# -- Google Ads: direct upload through the Data Manager API -----------------------------------
def data_manager_event(lead: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """One lead as a Data Manager ``Event``: keyed by GCLID, else by the hashed number."""
    event: dict[str, Any] = {
        "transactionId": lead["lead_id"],  # Google counts a transaction id once
        "eventTimestamp": lead["lead_at"].astimezone(settings.tz).isoformat(timespec="seconds"),
        "eventSource": "OTHER",  # a phone conversation ("PHONE" is not a confirmed value)
    }
    if lead["gclid"]:
        event["adIdentifiers"] = {"gclid": lead["gclid"]}
    else:
        event["userData"] = {
            "userIdentifiers": [{"phoneNumber": hashed_phone(lead["customer_number"])}]
        }
    return event


def _bearer_token(conn: ProviderConnection) -> str:
    """The connection's password as a token, else Application Default Credentials."""
    if conn.password:
        return conn.password
    import google.auth
    import google.auth.transport.requests

    credentials, _ = google.auth.default(scopes=[DATA_MANAGER_SCOPE])
    credentials.refresh(google.auth.transport.requests.Request())
    return credentials.token


def _data_manager(settings: Settings) -> tuple[ProviderConnection, dict[str, Any]]:
    """The connection and the request's destination (the account and conversion action)."""
    conn = get_connection(settings.google_ads_connection_id, DATA_MANAGER_URL)
    account = conn.login.replace("-", "")
    action = conn.extra.get("conversion_action_id", "")
    if not account or not action:
        raise ExportError(
            f"connection {settings.google_ads_connection_id!r} needs the Google Ads customer id "
            "as login and conversion_action_id in its extras"
        )
    destination: dict[str, Any] = {
        "operatingAccount": {"accountType": "GOOGLE_ADS", "accountId": account},
        "productDestinationId": action,
    }
    if login := conn.extra.get("login_account_id", "").replace("-", ""):
        destination["loginAccount"] = {"accountType": "GOOGLE_ADS", "accountId": login}
    return conn, destination


def _data_manager_client(conn: ProviderConnection) -> httpx.Client:
    headers = {"Authorization": f"Bearer {_bearer_token(conn)}"}
    return httpx.Client(timeout=httpx.Timeout(30.0, connect=5.0), headers=headers)


def upload_google_ads(
    wh: Warehouse | LedgerWriter,
    leads: list[dict[str, Any]],
    settings: Settings,
    result: ExportResult,
) -> None:
    conn, destination = _data_manager(settings)
    with _data_manager_client(conn) as client:
        for chunk in _chunks(leads, MAX_UPLOAD_EVENTS):
            _record(wh, [_ledger_row(x, "google_ads", "sending", None) for x in chunk])
            body = {
                "destinations": [destination],
                "events": [data_manager_event(x, settings) for x in chunk],
                "encoding": "HEX",
            }
            outcome = _post(client, f"{conn.base_url}/v1/events:ingest", None, body)
            status, _, detail = outcome.partition(":")
            rows = [_ledger_row(x, "google_ads", status, detail or None) for x in chunk]
            _record(wh, rows)
            result.counts.update(r["status"] for r in rows)


def _request_status(client: httpx.Client, base_url: str, request_id: str) -> dict | None:
    """Google's status of one ingest request (its single destination), or None when it cannot
    be had this run (no answer, an error): asked again next run."""
    try:
        resp = client.get(f"{base_url}/v1/requestStatus:retrieve", params={"requestId": request_id})
        resp.raise_for_status()
        (status,) = resp.json()["requestStatusPerDestination"]
    except (httpx.HTTPError, KeyError, ValueError) as exc:
        log.warning("status of Data Manager request %s not available: %s", request_id, exc)
        return None
    return status


def check_google_ads(
    wh: Warehouse | LedgerWriter,
    awaiting: list[dict[str, Any]],
    settings: Settings,
    result: ExportResult,
) -> None:
    """Record how Google processed earlier uploads (``awaiting``: their ledger rows)."""
    conn, _ = _data_manager(settings)
    by_request: dict[str, list[dict[str, Any]]] = {}
    for row in awaiting:
        by_request.setdefault(row["detail"], []).append(row)
    with _data_manager_client(conn) as client:
        for request_id, rows in by_request.items():
            status = _request_status(client, conn.base_url, request_id)
            state = CHECKED.get((status or {}).get("requestStatus", ""))
            if state is None:  # still processing, unknown, or not available now
                continue
            counts = {
                e["reason"]: int(e["recordCount"])
                for e in (status.get("errorInfo") or {}).get("errorCounts", [])
            }
            detail = request_id + "".join(
                f" {_short_reason(k)}={v}" for k, v in sorted(counts.items())
            )
            now = dt.datetime.now(dt.UTC)
            _record(wh, [{**r, "status": state, "detail": detail, "updated_at": now} for r in rows])
            result.checked[state] += len(rows)
            result.reasons.update(counts)


def run_export(
    runtime: Runtime,
    start: dt.date,
    end: dt.date,
    destinations: Iterable[str] = DESTINATIONS,
    *,
    retry_unknown: bool = False,
    now: dt.datetime | None = None,
) -> list[ExportResult]:
    """Export the recovered leads of lead_date start..end to each enabled destination, business
    by business: each with its own settings (GA4 connection, Ads conversion name, on/off)."""
    now = now or dt.datetime.now(dt.UTC)
    settings = runtime.settings
    per_business = runtime.business_settings()
    results = []
    for destination in destinations:
        if destination not in DESTINATIONS:
            raise ExportError(f"unknown destination {destination!r}: {', '.join(DESTINATIONS)}")
    # Read what to send, then let go of the warehouse: a DuckDB writer's lock must not be held
    # while requests wait on GA4 or Google; the ledger is written in short connections.
    work: list[tuple[ExportResult, Settings, list[dict[str, Any]], list[dict[str, Any]]]] = []
    with runtime.connect() as wh:
        wh.init()
        found = wh.query(
            "SELECT DISTINCT business_id FROM marts.attributed_leads "
            "WHERE lead_date BETWEEN @start AND @end",
            {"start": start, "end": end},
        ).column("business_id")
        # Businesses with leads in the range (each reports on its own), else the configured ones.
        businesses = sorted(set(found.to_pylist())) or sorted(per_business)
        for destination in destinations:
            for business in businesses:
                own = per_business.get(business, settings)
                enabled = getattr(own, f"export_{destination}_enabled")
                result = ExportResult(destination, enabled, business)
                results.append(result)
                if not enabled:
                    continue
                params = {
                    "start": start,
                    "end": end,
                    "destination": destination,
                    "businesses": [business],
                    # The credited call starts at most a recovery window before the lead.
                    "credited_from": start
                    - dt.timedelta(days=math.ceil(own.recovery_window_hours / 24) + 1),
                }
                leads = wh.query(CANDIDATES, params).to_pylist()
                result.candidates = len(leads)
                awaiting = []
                if destination == "google_ads" and own.google_ads_upload == "data_manager":
                    # The ledger's clock (updated_at), not the leads' `now`.
                    delay = dt.timedelta(minutes=own.google_ads_status_delay_minutes)
                    sent_before = dt.datetime.now(dt.UTC) - delay
                    awaiting = wh.query(
                        AWAITING_STATUS, {"business": business, "sent_before": sent_before}
                    ).to_pylist()
                if leads or awaiting:  # no connection needed for nothing to do
                    work.append((result, own, leads, awaiting))
    ledger = LedgerWriter(runtime)
    for result, own, leads, awaiting in work:
        if awaiting:
            check_google_ads(ledger, awaiting, own, result)
        if leads:
            send = export_ga4 if result.destination == "ga4" else export_google_ads
            send(ledger, leads, own, result, retry_unknown=retry_unknown, now=now)
        log.info("%s", result.line())
    return results
