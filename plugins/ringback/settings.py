"""Typed settings and the sources file: the one home of every default.

Precedence, lowest first: the defaults below, the settings file (``config/settings.yaml`` or
``RINGBACK_SETTINGS``), a ``settings:`` section in the sources file, environment variables
``RINGBACK_<KEY>``, and per-run overrides (``--set key=value``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import re
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ringback import business_hours

PACKAGE_DIR = Path(__file__).resolve().parent

SYSTEMS = ("calltracking", "telephony", "crm")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

# Used only when RINGBACK_HASH_SALT is unset, so a laptop demo works; logged as a warning.
DEVELOPMENT_SALT = "ringback-development-salt-not-secret"


class ConfigError(ValueError):
    """A settings or sources file that cannot be used as written."""


def project_root() -> Path:
    """The checkout that holds ``sql/``, ``config/`` and ``expectations/``.

    ``RINGBACK_HOME`` wins; otherwise the package's own checkout (plugins/ringback/../..),
    which is also the layout of the Docker image.
    """
    if home := os.environ.get("RINGBACK_HOME"):
        return Path(home).resolve()
    return PACKAGE_DIR.parent.parent


def setting(
    default: Any,
    *,
    valid: Callable[[Any], bool] | None = None,
    business: bool = False,
    column: str | bool = False,
    as_column: Callable[[Any], Any] | None = None,
) -> Any:
    """A field of Settings with its rules declared beside it: ``valid`` is its range (checked
    when settings are made), ``business`` lets a business override it under its ``settings:``
    in the sources file, and ``column`` names the ``staging.business_settings`` column the
    queries read it from (True: the field's own name), as ``as_column`` converts it (units the
    SQL compares with, lists as text)."""
    metadata: dict[str, Any] = {"business": business}
    if valid is not None:
        metadata["valid"] = valid
    if column:
        metadata["column"] = column
        metadata["as_column"] = as_column or (lambda value: value)
    return field(default=default, metadata=metadata)


def _seconds(per: float) -> Callable[[float | None], int | None]:
    """A duration setting in hours, minutes or days as the whole seconds SQL compares with."""
    return lambda value: None if value is None else round(value * per)


def _listed(values: tuple[str, ...]) -> str | None:
    return ",".join(values) or None


@dataclass(frozen=True)
class Settings:
    """Every tunable of the pipeline; docs/rules.md states the rule behind each."""

    reporting_time_zone: str = setting("Europe/Kyiv", column="time_zone")
    talk_threshold_seconds: int = setting(30, valid=lambda v: v >= 0, business=True, column=True)
    # A missed call the caller hung up within this many seconds of ringing (nobody talked) is
    # `abandoned_short`: counted apart from missed calls, never due a callback. 0 = off.
    short_abandon_seconds: int = setting(0, valid=lambda v: v >= 0, business=True, column=True)
    recovery_window_hours: float = setting(
        24,
        valid=lambda v: v > 0,
        business=True,
        column="recovery_window_seconds",
        as_column=_seconds(3600),
    )
    uniqueness_window_days: int | None = setting(
        None,
        valid=lambda v: v is None or v >= 1,
        business=True,
        column="uniqueness_window_seconds",
        as_column=_seconds(86400),
    )
    match_tolerance_seconds: int = setting(120, valid=lambda v: v >= 0, business=True, column=True)
    match_rounds: int = setting(6, valid=lambda v: v >= 1)
    mismatch_min_unmatched: int = setting(3, valid=lambda v: v >= 0, business=True, column=True)
    mismatch_min_ratio: float = setting(
        0.05, valid=lambda v: 0 <= v <= 1, business=True, column=True, as_column=float
    )
    tracked_numbers: tuple[str, ...] = setting((), business=True, column=True, as_column=_listed)
    # Number pools (dynamic number insertion): pool name -> its tracking numbers (E.164), read
    # by marts.tracking_number_health (staging.number_pools). Two customers calling one pool
    # number within pool_reservation_minutes of each other were shown it at the same time.
    number_pools: tuple[tuple[str, tuple[str, ...]], ...] = setting((), business=True)
    pool_reservation_minutes: int = setting(
        15,
        valid=lambda v: v >= 1,
        business=True,
        column="pool_reservation_seconds",
        as_column=_seconds(60),
    )
    # Incidents (marts.reconciliation_incidents): a cause's share of a day's inbound calls is
    # compared with its median over the business's trailing incident_baseline_days (the day
    # itself left out) and flagged when it exceeds the median by incident_min_excess and by
    # incident_spread_factor spreads, with incident_min_calls calls or more; not judged until
    # incident_min_baseline_days complete days make the baseline.
    incident_baseline_days: int = setting(
        28, valid=lambda v: 3 <= v <= 90, business=True, column=True
    )
    incident_min_baseline_days: int = setting(7, valid=lambda v: v >= 3, business=True, column=True)
    incident_min_calls: int = setting(5, valid=lambda v: v >= 1, business=True, column=True)
    incident_min_excess: float = setting(
        0.05, valid=lambda v: 0 <= v <= 1, business=True, column=True, as_column=float
    )
    incident_spread_factor: float = setting(
        4.0, valid=lambda v: v >= 0, business=True, column=True, as_column=float
    )
    # Spam: a call the vendor flags as spam, or any call of a number that rang more
    # than spam_calls_per_day times in one day without a conversation, is no lead and no missed
    # call; a telephony-only call to a tracked number from it is `spam_filtered`. None = off.
    spam_calls_per_day: int | None = setting(
        None, valid=lambda v: v is None or v >= 1, business=True, column=True
    )
    spam_vendor_flag: bool = setting(True, business=True, column=True)
    # Callbacks (marts.missed_call_followups): the first attempt to call a missed customer back
    # is due within this many minutes of business time. business_hours (weekday: "HH:MM-HH:MM")
    # and holidays (ISO dates) define that time in the business's zone; none = always open.
    callback_sla_minutes: int = setting(
        15,
        valid=lambda v: v >= 1,
        business=True,
        column="callback_sla_seconds",
        as_column=_seconds(60),
    )
    business_hours: tuple[tuple[str, str], ...] = setting(
        (),
        business=True,
        column=True,
        as_column=lambda hours: json.dumps(dict(hours)) if hours else None,
    )
    holidays: tuple[str, ...] = setting((), business=True, column=True, as_column=_listed)
    # Employee names and ids are staff data and stay in the marts unless a business has them
    # hashed (ids too: an id is often an email that names the person).
    hash_employee_names: bool = setting(False, business=True, column=True)
    # CRM leads (marts.crm_leads, crm_reconciliation): a CRM lead matches a ringback lead of the
    # same number whose call started from this many hours before the CRM created it ...
    crm_match_before_hours: float = setting(
        168,
        valid=lambda v: v > 0,
        business=True,
        column="crm_match_before_seconds",
        as_column=_seconds(3600),
    )
    # ... to this many minutes after (a manager may type the lead in before the call ends).
    crm_match_after_minutes: float = setting(
        60,
        valid=lambda v: v >= 0,
        business=True,
        column="crm_match_after_seconds",
        as_column=_seconds(60),
    )
    rebuild_lookback_days: int = setting(3, valid=lambda v: v >= 0)
    # The hour (0-23, the business's zone) by which its marts are built for the previous day
    # with whichever sources have loaded; a date built without one is marked and rebuilt when
    # the source arrives. None = no deadline (the marts wait for every source).
    marts_deadline_hour: int | None = setting(
        6, valid=lambda v: v is None or 0 <= v <= 23, business=True
    )
    # A range holding more staging rows than this (a full rebuild, a backfill's history fold) is
    # built in date chunks of at most this many rows (a day at least), in date order: the same
    # tables, with memory bounded by a chunk instead of the range.
    models_chunk_rows: int = setting(3_500_000, valid=lambda v: v >= 1)
    repull_days: int = setting(3, valid=lambda v: v >= 0)
    # Once a week a scheduled run's pull reaches further back, for edits older than the
    # trailing window (backfill runs and plain `ringback extract` do not; `extract --deep` does).
    deep_repull_days: int = 30
    deep_repull_weekday: str = setting(
        "sunday", valid=lambda v: v.lower() in (*WEEKDAYS, "never")
    )  # a weekday name, or "never"
    # A re-pull lacking more than this share of a window's staged calls soft-deletes none.
    max_soft_delete_ratio: float = setting(0.2, valid=lambda v: 0 <= v <= 1)
    max_quarantine_ratio: float = setting(0.1, valid=lambda v: 0 <= v <= 1)
    validate_marts: bool = True
    build_data_docs: bool = True
    # Stored Great Expectations results (one file per load check) older than this are deleted
    # before each Data Docs build and after each load's validation.
    validation_results_retention_days: int = setting(30, valid=lambda v: v >= 1)
    task_retries: int = setting(3, valid=lambda v: v >= 0)
    task_retry_delay_seconds: int = setting(120, valid=lambda v: v >= 0)
    warehouse_url: str = "duckdb:///data/ringback.duckdb"
    # Where batches wait between extract, validate and publish: a folder (relative to the
    # project) or an Airflow ObjectStoragePath URL such as gs://bucket/ringback/batches.
    batch_store_url: str = "data/batches"
    batch_store_connection_id: str = ""  # the Airflow connection of a bucket (else the default)
    # DuckDB: how long a connection waits for the file lock, a memory cap (e.g. "6GB"; empty =
    # DuckDB's 80 % of RAM), and the storage format new files are written in (1.x readers).
    duckdb_lock_timeout_seconds: float = 900
    duckdb_memory_limit: str = ""
    duckdb_storage_version: str = "v1.0.0"
    bigquery_raw_dataset: str = "ringback_raw"
    bigquery_staging_dataset: str = "ringback_staging"
    bigquery_marts_dataset: str = "ringback_marts"
    bigquery_analytics_dataset: str = "ringback_analytics"
    bigquery_maximum_bytes_billed: int = setting(
        100_000_000_000, valid=lambda v: v > 0
    )  # per query job: a runaway scan fails
    bigquery_key_path: str = ""  # service-account key file; else connection, else ADC
    bigquery_connection_id: str = "ringback_bigquery"  # extra: key_path or keyfile_dict
    # Principals who see every business's rows once businesses have viewers (row access
    # policies): the pipeline's own service account and the data team, e.g.
    # ["serviceAccount:ringback@p.iam.gserviceaccount.com", "group:data@agency.com"].
    bigquery_row_access_all: tuple[str, ...] = ()
    # Sending recovered leads onward (ringback export); both off until a deployment opts in.
    export_ga4_enabled: bool = setting(False, business=True)
    ga4_connection_id: str = setting(
        "ringback_ga4", business=True
    )  # login = measurement id, password = API secret
    ga4_event_name: str = setting("recovered_call_lead", business=True)
    # GA4 drops events backdated by more than 72 h (answering 2xx): keep an hour's margin.
    ga4_max_age_hours: float = setting(71, valid=lambda v: 0 < v <= 72)
    export_google_ads_enabled: bool = setting(False, business=True)
    google_ads_conversion_name: str = setting("Recovered missed call", business=True)
    google_ads_source_mediums: tuple[str, ...] = setting(
        ("google/cpc", "google/ppc"), business=True
    )
    # "off": write upload files; "data_manager": send through Google's Data Manager API.
    google_ads_upload: str = setting(
        "off", valid=lambda v: v in ("off", "data_manager"), business=True
    )
    # login = Google Ads customer id, extra conversion_action_id (and login_account_id for a
    # manager account); password = a bearer token, else Application Default Credentials.
    google_ads_connection_id: str = setting("ringback_google_ads", business=True)
    # Google processes an upload after answering it: a later export asks how, once this long
    # has passed since the upload.
    google_ads_status_delay_minutes: float = setting(60, valid=lambda v: v >= 0, business=True)
    export_dir: str = "data/exports"
    hash_salt: str = field(default="", repr=False)

    def __post_init__(self) -> None:
        try:
            zoneinfo.ZoneInfo(self.reporting_time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ConfigError(
                f"reporting_time_zone {self.reporting_time_zone!r} is not an IANA time zone "
                "(expected something like Europe/Kyiv)"
            ) from exc
        checks = {
            f.name: f.metadata["valid"](getattr(self, f.name))
            for f in dataclasses.fields(self)
            if "valid" in f.metadata
        }
        # The rules that relate two settings.
        checks["deep_repull_days"] = self.deep_repull_days >= self.repull_days
        checks["incident_min_baseline_days"] = (
            self.incident_min_baseline_days <= self.incident_baseline_days
        )
        if bad := [name for name, ok in checks.items() if not ok]:
            shown = ", ".join(f"{n}={getattr(self, n)!r}" for n in bad)
            raise ConfigError(f"settings out of range: {shown}")

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.reporting_time_zone)

    def is_deep_repull_day(self, run_date: dt.date) -> bool:
        """Whether a scheduled run of ``run_date`` pulls the deep window (once a week)."""
        weekday = self.deep_repull_weekday.lower()
        return weekday != "never" and WEEKDAYS.index(weekday) == run_date.weekday()

    @property
    def recovery_window_seconds(self) -> int:
        # The value staging.business_settings carries: one conversion for Python and SQL.
        return _seconds(3600)(self.recovery_window_hours)

    @property
    def effective_salt(self) -> str:
        return self.hash_salt or DEVELOPMENT_SALT


def _coerce(name: str, raw: Any) -> Any:
    """Turn a YAML value or an environment string into the field's type."""
    f = {f.name: f for f in dataclasses.fields(Settings)}.get(name)
    if f is None:
        known = ", ".join(sorted(x.name for x in dataclasses.fields(Settings)))
        raise ConfigError(f"unknown setting {name!r}; known settings: {known}")
    kind = str(f.type)
    if name == "number_pools":
        return parse_number_pools(raw)
    if name in ("business_hours", "holidays"):
        try:
            if name == "business_hours":
                return business_hours.parse_week(raw)
            if isinstance(raw, str):
                text = raw.strip()
                raw = json.loads(text) if text.startswith("[") else text.split(",")
            return business_hours.parse_holidays(x for x in (raw or ()) if str(x).strip())
        except business_hours.ScheduleError as exc:
            raise ConfigError(f"setting {name}: {exc}") from None
    if isinstance(raw, str) and kind != "str":
        text = raw.strip()
        if text.lower() in ("", "null", "none"):
            raw = None
        elif kind.startswith("tuple"):
            raw = json.loads(text) if text.startswith("[") else text.split(",")
        else:
            raw = yaml.safe_load(text)
    try:
        if raw is None:
            if "None" not in kind:
                raise ConfigError(f"setting {name} cannot be null")
            return None
        if kind.startswith("tuple"):
            return tuple(str(x).strip() for x in raw if str(x).strip())
        if kind == "bool":
            if isinstance(raw, str):
                if raw.strip().lower() not in ("true", "false", "1", "0", "yes", "no"):
                    raise ValueError(raw)
                return raw.strip().lower() in ("true", "1", "yes")
            return bool(raw)
        if kind.startswith("int"):
            if isinstance(raw, float) and not raw.is_integer():
                raise ValueError(raw)
            return int(raw)
        if kind.startswith("float"):
            return float(raw)
        return str(raw)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"setting {name}={raw!r} is not a valid {kind}") from exc


E164 = re.compile(r"\+[1-9]\d{6,14}")


def parse_number_pools(raw: Any) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """``{pool name: [E.164 numbers]}`` (YAML, or JSON text) as sorted pairs; a number may be
    in one pool only, and a pool needs at least one number."""
    if isinstance(raw, str):
        raw = json.loads(raw) if raw.strip() else {}
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        raise ConfigError("setting number_pools: expected a mapping of pool name to numbers")
    pools: list[tuple[str, tuple[str, ...]]] = []
    seen: dict[str, str] = {}
    for name, numbers in sorted((str(k), v) for k, v in raw.items()):
        if isinstance(numbers, str) or not numbers:
            raise ConfigError(f"setting number_pools: pool {name!r} needs a list of numbers")
        cleaned = tuple(dict.fromkeys(str(n).strip() for n in numbers))
        for number in cleaned:
            if not E164.fullmatch(number):
                raise ConfigError(f"setting number_pools: {number!r} in {name!r} is not E.164")
            if number in seen:
                raise ConfigError(
                    f"setting number_pools: {number} is in pools {seen[number]!r} and {name!r}"
                )
            seen[number] = name
        pools.append((name, cleaned))
    return tuple(pools)


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from exc


def settings_path() -> Path:
    return Path(os.environ.get("RINGBACK_SETTINGS") or project_root() / "config/settings.yaml")


def sources_path() -> Path:
    return Path(os.environ.get("RINGBACK_CONFIG") or project_root() / "config/sources.yaml")


def load_settings(overrides: dict[str, Any] | None = None) -> Settings:
    """Settings for this run, with the precedence given in the module docstring."""
    values: dict[str, Any] = {}
    path = settings_path()
    if path.exists():
        doc = _read_yaml(path)
        if not isinstance(doc, dict):
            raise ConfigError(f"{path}: expected a mapping of setting: value at the top level")
        values.update(doc)
    src = sources_path()
    if src.exists():
        doc = _read_yaml(src)
        if isinstance(doc, dict) and isinstance(doc.get("settings"), dict):
            values.update(doc["settings"])
    for f in dataclasses.fields(Settings):
        env = os.environ.get(f"RINGBACK_{f.name.upper()}")
        if env is not None:
            values[f.name] = env
    values.update(overrides or {})
    return Settings(**{k: _coerce(k, v) for k, v in values.items()})


def parse_overrides(pairs: list[str] | None) -> dict[str, Any]:
    """``["talk_threshold_seconds=45", ...]`` from the CLI into a dict."""
    out: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep:
            raise ConfigError(f"--set expects key=value, got {pair!r}")
        out[key.strip()] = value
    return out


# Settings a business may override under its `settings:` in the sources file: the rules of
# docs/rules.md, the reconciliation thresholds and tracked numbers, and where its leads go.
BUSINESS_SETTING_KEYS = tuple(
    f.name for f in dataclasses.fields(Settings) if f.metadata.get("business")
)


def settings_columns(settings: Settings) -> dict[str, Any]:
    """The ``staging.business_settings`` columns a business's settings give, each converted as
    its field declares (``setting(column=...)``)."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(Settings):
        if column := f.metadata.get("column"):
            name = f.name if column is True else column
            out[name] = f.metadata["as_column"](getattr(settings, f.name))
    return out


DEFAULT_BUSINESS_ID = "default"
_BUSINESS_ID = re.compile(r"[a-z0-9_]+")


@dataclass(frozen=True)
class Business:
    """One business (client, brand): the unit inside which calls are compared.

    ``overrides`` are the raw values of its ``settings:``; ``settings_for`` applies them on top of
    the run's global settings, with the business's zone as the reporting time zone.
    """

    id: str
    name: str
    time_zone: str
    overrides: dict[str, Any] = field(default_factory=dict)
    viewers: tuple[str, ...] = ()  # BigQuery principals that may read its rows (row access)

    def settings_for(self, base: Settings) -> Settings:
        values = {k: _coerce(k, v) for k, v in self.overrides.items()}
        return dataclasses.replace(base, reporting_time_zone=self.time_zone, **values)


@dataclass(frozen=True)
class SourceConfig:
    """One entry of the sources file: where a day of calls comes from."""

    id: str
    provider: str
    system: str
    account_id: str
    time_zone: str = "UTC"
    default_region: str = "UA"
    options: dict[str, Any] = field(default_factory=dict)
    business_id: str = DEFAULT_BUSINESS_ID
    business_time_zone: str = "Europe/Kyiv"  # the business's reporting zone: call_date

    @property
    def conn_id(self) -> str:
        return self.id

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        """The zone the provider account reports in (its windows and naive timestamps)."""
        return zoneinfo.ZoneInfo(self.time_zone)

    @property
    def business_tz(self) -> zoneinfo.ZoneInfo:
        """The business's reporting zone, in which ``call_date`` is counted."""
        return zoneinfo.ZoneInfo(self.business_time_zone)


@dataclass(frozen=True)
class Config:
    """The sources file read and checked: its businesses and its sources."""

    businesses: tuple[Business, ...]
    sources: tuple[SourceConfig, ...]

    def business(self, business_id: str) -> Business | None:
        return next((b for b in self.businesses if b.id == business_id), None)

    def business_settings(self, base: Settings) -> dict[str, Settings]:
        """Each configured business's effective settings for a run with ``base``."""
        return {b.id: b.settings_for(base) for b in self.businesses}

    def call_sources(self, business_id: str | None = None) -> list[SourceConfig]:
        """The call sources (not CRM), of every business or of one."""
        return [
            s
            for s in self.sources
            if s.system != "crm" and (business_id is None or s.business_id == business_id)
        ]


def _zone(value: Any, where: str) -> str:
    try:
        zoneinfo.ZoneInfo(str(value))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise ConfigError(
            f"{where} has time zone {value!r}, which is not an IANA time zone "
            "(expected something like Europe/Kyiv or America/New_York)"
        ) from exc
    return str(value)


def businesses_from(path: Path | str, doc: Any, base: Settings) -> tuple[Business, ...]:
    """The ``businesses:`` of a sources file's document, checked (``path`` names it in errors)."""
    entries = doc.get("businesses") if isinstance(doc, dict) else None
    if entries is None:
        # A file without businesses: one business in the global reporting zone.
        return (Business(DEFAULT_BUSINESS_ID, "Default", base.reporting_time_zone),)
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"{path}: 'businesses' must be a non-empty list")
    out: list[Business] = []
    for i, entry in enumerate(entries):
        where = f"{path}: business #{i + 1}"
        if not isinstance(entry, dict) or not entry.get("id"):
            raise ConfigError(f"{where} needs at least 'id' and 'time_zone'")
        bid = str(entry["id"])
        where = f"{path}: business {bid!r}"
        if not _BUSINESS_ID.fullmatch(bid):
            raise ConfigError(f"{where}: ids are lowercase letters, digits and _ ([a-z0-9_]+)")
        unknown = set(entry) - {"id", "name", "time_zone", "settings", "viewers"}
        if unknown:
            raise ConfigError(
                f"{where} has unknown keys {sorted(unknown)}; "
                "known: id, name, time_zone, settings, viewers"
            )
        if not entry.get("time_zone"):
            raise ConfigError(f"{where} needs a time_zone (its reporting zone)")
        overrides = entry.get("settings") or {}
        if not isinstance(overrides, dict):
            raise ConfigError(f"{where}: settings must be a mapping of setting: value")
        if bad := sorted(set(overrides) - set(BUSINESS_SETTING_KEYS)):
            raise ConfigError(
                f"{where}: unknown settings key(s) {bad}; a business may set "
                f"{', '.join(BUSINESS_SETTING_KEYS)}"
            )
        viewers = entry.get("viewers") or []
        if not isinstance(viewers, list) or not all(
            isinstance(v, str) and re.fullmatch(r"(user|group|serviceAccount|domain):\S+", v)
            for v in viewers
        ):
            raise ConfigError(
                f"{where}: viewers must be a list of BigQuery principals such as "
                "'group:kyiv-clinic@agency.com' or 'user:ana@clinic.ua'"
            )
        business = Business(
            id=bid,
            name=str(entry.get("name") or bid),
            time_zone=_zone(entry["time_zone"], where),
            overrides=dict(overrides),
            viewers=tuple(viewers),
        )
        try:
            business.settings_for(base)  # every override must coerce and be in range
        except ConfigError as exc:
            raise ConfigError(f"{where}: {exc}") from None
        out.append(business)
    ids = [b.id for b in out]
    if dupes := sorted({x for x in ids if ids.count(x) > 1}):
        raise ConfigError(f"{path}: duplicate business ids {dupes}")
    return tuple(out)


def load_config(base: Settings) -> Config:
    """The sources file: businesses and sources, checked; the order of the file is kept.
    ``base`` is the run's settings, on which each business's own settings are laid."""
    path = sources_path()
    if not path.exists():
        raise ConfigError(f"sources file {path} not found (set RINGBACK_CONFIG to another file)")
    doc = _read_yaml(path)
    businesses = businesses_from(path, doc, base)
    by_id = {b.id: b for b in businesses}
    entries = doc.get("sources", []) if isinstance(doc, dict) else doc
    if not isinstance(entries, list):
        raise ConfigError(f"{path}: expected a list under 'sources'")
    sources: list[SourceConfig] = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or not entry.get("id") or not entry.get("provider"):
            raise ConfigError(f"{path}: source #{i + 1} needs at least 'id' and 'provider'")
        provider = str(entry["provider"]).lower()
        # The connectors declare their providers (imported here: they import this module).
        from ringback.sources import PROVIDER_SYSTEMS

        if provider not in PROVIDER_SYSTEMS:
            raise ConfigError(
                f"{path}: source {entry['id']!r} has provider {provider!r}; "
                f"supported: {', '.join(sorted(PROVIDER_SYSTEMS))}"
            )
        system = str(entry.get("system") or PROVIDER_SYSTEMS[provider])
        if system not in SYSTEMS:
            raise ConfigError(f"{path}: source {entry['id']!r} has system {system!r}")
        if "business" in entry:
            business = by_id.get(str(entry["business"]))
            if business is None:
                raise ConfigError(
                    f"{path}: source {entry['id']!r} names business {entry['business']!r}, "
                    f"which is not under 'businesses' (known: {', '.join(by_id)})"
                )
        elif "businesses" in doc:
            raise ConfigError(
                f"{path}: source {entry['id']!r} needs 'business:' (one of {', '.join(by_id)})"
            )
        else:
            business = businesses[0]
        # An account without a stated zone is taken to report in its business's zone.
        tz = _zone(
            entry.get("time_zone") or entry.get("timezone") or business.time_zone,
            f"{path}: source {entry['id']!r}",
        )
        known = {"id", "provider", "system", "account_id", "time_zone", "timezone", "business"}
        known |= {"default_region", "region"}
        sources.append(
            SourceConfig(
                id=str(entry["id"]),
                provider=provider,
                system=system,
                account_id=str(entry.get("account_id") or entry["id"]),
                time_zone=tz,
                default_region=str(entry.get("default_region") or entry.get("region") or "UA"),
                options={k: v for k, v in entry.items() if k not in known},
                business_id=business.id,
                business_time_zone=business.time_zone,
            )
        )
    ids = [s.id for s in sources]
    if dupes := sorted({x for x in ids if ids.count(x) > 1}):
        raise ConfigError(f"{path}: duplicate source ids {dupes}")
    return Config(businesses, tuple(sources))
