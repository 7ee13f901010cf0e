"""What every connector shares: the pull window, phone normalisation, and the mapping result.

A connector has two halves: ``fetch`` pulls raw records for a window (provider mechanics), and
``map_record`` turns one raw record into a ``staging.calls`` row or raises ``MappingError`` with
a reason, which sends the record to quarantine instead of dropping it.
"""

from __future__ import annotations

import abc
import datetime as dt
import functools
import json
import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import phonenumbers

from ringback.quarantine import Reason
from ringback.settings import Settings, SourceConfig
from ringback.sources.connection import ProviderConnection
from ringback.sources.transport import ProviderHttp

UNKNOWN_MARKETING = {"", "(not set)", "(not provided)", "not set", "none", "null"}
# A telephony record's marketing fields: a PBX does not know the ad (call tracking does).
NO_MARKETING: dict[str, None] = dict.fromkeys(
    (
        "traffic_source",
        "traffic_medium",
        "campaign",
        "keyword",
        "landing_page",
        "gclid",
        "ga_client_id",
    )
)

# The vendor's own verdicts on a call (analytics.vendor_comparison): NULL where the provider has
# none (docs/providers.md, "The vendors' own flags").
NO_VENDOR_FLAGS: dict[str, None] = dict.fromkeys(
    (
        "vendor_first_call",
        "vendor_target_call",
        "vendor_lead_status",
        "vendor_value",
        "vendor_tags",
        "vendor_spam",
    )
)
TRUE_WORDS = frozenset({"1", "true", "yes", "y", "t"})
FALSE_WORDS = frozenset({"0", "false", "no", "n", "f"})


class MappingError(ValueError):
    """A record that cannot be mapped to the staging contract; ``reason`` is machine-readable."""

    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = Reason(reason)  # one of the quarantine vocabulary, or a ValueError here
        self.detail = detail


@dataclass(frozen=True)
class Window:
    """The local days a run pulls: ``first_day .. last_day`` in the source's time zone."""

    first_day: dt.date
    last_day: dt.date
    tz: Any

    @classmethod
    def for_run(cls, run_date: dt.date, repull_days: int, tz: Any) -> Window:
        return cls(run_date - dt.timedelta(days=repull_days), run_date, tz)

    @property
    def start_at(self) -> dt.datetime:
        """Start (UTC) of the first day."""
        return local_midnight(self.first_day, self.tz)

    @property
    def end_at(self) -> dt.datetime:
        """End (UTC, exclusive) of the last day."""
        return local_midnight(self.last_day + dt.timedelta(days=1), self.tz)


def local_midnight(day: dt.date, tz: Any) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=tz).astimezone(dt.UTC)


def to_e164(raw: Any, region: str) -> str | None:
    """A phone number in E.164, or None when hidden or unparseable.

    The source's region's dialling rules come first: its national form (``0671234567`` in UA,
    ``8 924 651-65-48`` in RU), its international prefix (``00`` in most of Europe, ``011`` in
    the US, ``810`` in RU and KZ), its own country code without ``+`` (``380671234567``, as
    Ringostat sends them). Only then digits as an international number without ``+``
    (``4915112345678`` from a UA source). A valid number wins over one that is only possible
    by its length; a number neither reading makes possible is None.
    """
    if raw is None:
        return None
    return _e164(str(raw).strip(), region)


# A day's records repeat the same few company lines and many returning customers: parsing was
# two thirds of mapping a 27k-record Ringostat day (6.9 of 11.2 s).
@functools.lru_cache(maxsize=65536)
def _e164(text: str, region: str) -> str | None:
    if not text or "<" in text or "@" in text or not any(ch.isdigit() for ch in text):
        return None  # hidden, anonymous, or a SIP login like '"Office" <sip101>'
    digits = "".join(ch for ch in text if ch.isdigit())
    parsed = []
    candidates = [text]
    if not text.startswith(("+", "0")) and len(digits) >= 11:
        candidates.append("+" + digits)
    for candidate in candidates:
        try:
            parsed.append(phonenumbers.parse(candidate, region))
        except phonenumbers.NumberParseException:
            continue
    # Valid first: "81079246516548" from a RU source is +7 924 651-65-48 (810 is RU's
    # international prefix), not the merely possible +81 (Japan) its digits also spell.
    for check in (phonenumbers.is_valid_number, phonenumbers.is_possible_number):
        for number in parsed:
            if check(number):
                return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return None


def call_key(provider: str, account_id: str, provider_call_id: str) -> str:
    """staging.calls' key: ``provider:account_id:provider_call_id``."""
    return f"{provider}:{account_id}:{provider_call_id}"


def marketing_value(raw: Any) -> str | None:
    """GA-style placeholders such as ``(not set)`` mean unknown; ``(direct)`` is a real value."""
    if raw is None:
        return None
    text = str(raw).strip()
    return None if text.lower() in UNKNOWN_MARKETING else text


def gclid_from_url(url: str | None) -> str | None:
    if not url:
        return None
    values = parse_qs(urlsplit(url).query).get("gclid")
    return values[0] if values else None


def utm_fields(utm: dict[str, Any], landing_page: str | None, client_id: Any) -> dict[str, Any]:
    """The staged marketing columns from a vendor's UTM tags (``utm_source`` ...), its landing
    page (whose ``gclid`` parameter is the Google Ads click) and its GA client id."""
    return {
        "traffic_source": marketing_value(utm.get("utm_source")),
        "traffic_medium": marketing_value(utm.get("utm_medium")),
        "campaign": marketing_value(utm.get("utm_campaign")),
        "keyword": marketing_value(utm.get("utm_term")),
        "landing_page": landing_page,
        "gclid": gclid_from_url(landing_page),
        "ga_client_id": marketing_value(client_id),
    }


def to_int(record: dict, field: str, *, default: int | None = None) -> int | None:
    """An integer field that may arrive as a number, a numeric string or be missing."""
    value = record.get(field)
    if value is None or value == "":
        return default
    try:
        return int(float(value))
    except (TypeError, ValueError, OverflowError):
        raise MappingError(Reason.INVALID_NUMBER, f"{field}={value!r} is not a number") from None


def to_bool(record: dict, field: str) -> bool | None:
    """A flag sent as a bool, 0/1 or a word ("1", "true"); None when missing or empty."""
    value = record.get(field)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise MappingError(Reason.INVALID_FLAG, f"{field}={value!r} is not a yes/no flag")


def to_money(record: dict, field: str) -> float | None:
    """A monetary value as a number, a numeric string or "$1,250.00"; None when unset."""
    value = record.get(field)
    if value is None or value == "":
        return None
    text = str(value).strip().replace(",", "").lstrip("$€£₴")
    try:
        number = float(text)
    except ValueError:
        raise MappingError(Reason.INVALID_NUMBER, f"{field}={value!r} is not an amount") from None
    if not math.isfinite(number):
        raise MappingError(Reason.INVALID_NUMBER, f"{field}={value!r} is not an amount")
    return number


def tag_list(raw: Any) -> str | None:
    """Tags as a JSON array of names (strings, or objects with a ``name``); None when none."""
    if raw is None or raw == "":
        return None
    items = raw if isinstance(raw, list) else [raw]
    names = []
    for item in items:
        name = item.get("name") if isinstance(item, dict) else item
        if name is not None and str(name).strip():
            names.append(str(name).strip())
    return json.dumps(names, ensure_ascii=False) if names else None


@dataclass
class FetchResult:
    records: list[dict]
    requests: int
    retries: int


class SourceConnector(abc.ABC):
    """What every connector holds: its source, its connection and the run's settings.

    A provider's identity is declared here, on its class, and nowhere else: ``provider`` (the
    sources file's name for it), ``system`` (calltracking, telephony or crm), ``load`` (where
    its batches go: ``calls``, ``cdr_files`` for a drop folder read from where the last load
    stopped, or ``crm``) and, derived, the raw suite its records are checked with.
    """

    provider: str
    system: str
    load: str = "calls"
    default_base_url: str = ""  # empty: the source needs no connection (an export folder)

    @classmethod
    def raw_suite(cls) -> str:
        """The Great Expectations suite of its raw records (``expectations/expectations/``)."""
        return f"raw_{cls.provider}"

    def __init__(
        self, source: SourceConfig, connection: ProviderConnection, settings: Settings
    ) -> None:
        self.source = source
        self.connection = connection
        self.settings = settings

    def http(
        self, *, max_attempts: int = 6, request_interval: float = 0.0, **kwargs: Any
    ) -> ProviderHttp:
        """The provider's HTTP session; the source's ``timeout_seconds``, ``max_attempts`` and
        ``request_interval_seconds`` override the connector's defaults."""
        options = self.source.options
        return ProviderHttp(
            self.provider,
            self.connection.base_url or self.default_base_url,
            timeout=float(options.get("timeout_seconds", 60)),
            max_attempts=int(options.get("max_attempts", max_attempts)),
            min_interval=float(options.get("request_interval_seconds", request_interval)),
            **kwargs,
        )


class Connector(SourceConnector):
    """One provider account: fetch a window of raw records and map each to staging.calls."""

    id_field: str  # the record field holding the provider's call id
    statuses: dict[str, str]  # provider disposition -> staging status
    live_dispositions: frozenset[str]  # calls still going on at export time
    # Records of the call log that are no calls (SMS, fax): quarantined as not_a_call (expected)
    not_call_dispositions: frozenset[str] = frozenset()

    @abc.abstractmethod
    def fetch(self, window: Window) -> FetchResult:
        """Every raw record the provider has for the window."""

    def record_id(self, record: Any) -> str | None:
        """The provider's call id in a raw record, if it has one."""
        value = record.get(self.id_field) if isinstance(record, dict) else None
        return (str(value).strip() or None) if value is not None else None

    def required_id(self, record: Any) -> str:
        if not isinstance(record, dict):
            raise MappingError(Reason.NOT_AN_OBJECT, f"record is {type(record).__name__}")
        call_id = self.record_id(record)
        if not call_id:
            raise MappingError(Reason.MISSING_CALL_ID, f"record has no {self.id_field}")
        return call_id

    def status_of(self, record: dict) -> tuple[str, str]:
        """(disposition as sent, staging status); live calls wait for the next pull."""
        disposition = str(record.get("disposition") or "").strip().upper()
        if disposition in self.live_dispositions:
            raise MappingError(Reason.CALL_IN_PROGRESS, f"disposition {disposition}; next pull")
        if disposition in self.not_call_dispositions:
            raise MappingError(
                Reason.NOT_A_CALL, f"disposition {disposition}: a message, not a call"
            )
        status = self.statuses.get(disposition)
        if status is None:
            raise MappingError(Reason.UNKNOWN_DISPOSITION, f"disposition {disposition!r}")
        return disposition, status

    @abc.abstractmethod
    def raw_view(self, record: Any) -> dict[str, Any]:
        """What the raw suites check of a record as received: ``provider_call_id``,
        ``started_at`` (UTC, None when unparseable) and ``disposition`` (as sent)."""

    def known_dispositions(self) -> list[str]:
        return sorted(
            set(self.statuses) | set(self.live_dispositions) | set(self.not_call_dispositions)
        )

    def prepare(self, records: list[Any]) -> None:
        """Look at the whole batch before mapping (Twilio folds child legs into parents)."""

    @abc.abstractmethod
    def map_record(self, record: dict) -> dict:
        """One raw record as a staging.calls row (plus provider_status and total_seconds)."""

    def call_key(self, provider_call_id: str) -> str:
        return call_key(self.provider, self.source.account_id, provider_call_id)

    def base_row(self, provider_call_id: str, started_at: dt.datetime) -> dict:
        return {
            "business_id": self.source.business_id,
            "call_key": self.call_key(provider_call_id),
            "system": self.source.system,
            "provider": self.provider,
            "account_id": self.source.account_id,
            "provider_call_id": provider_call_id,
            "started_at": started_at,
            # The business's date, whatever zone the provider account reports in.
            "call_date": started_at.astimezone(self.source.business_tz).date(),
        }


class LegsConnector(Connector):
    """A provider that lists one call as several rows (legs) sharing the call's id (Zadarma's
    ``pbx_call_id``, Asterisk's ``linkedid``): the earliest leg carries the call, with the
    outcome read from all its legs; the other legs are quarantined as ``child_leg``, an
    expected reason."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._legs: dict[str, list[dict]] = {}

    @abc.abstractmethod
    def leg_id(self, record: dict) -> str | None:
        """A leg's own id (the raw suites check it is unique; the call's id is not)."""

    @abc.abstractmethod
    def leg_order(self, leg: dict) -> tuple:
        """Sorts a call's legs, the earliest first."""

    def prepare(self, records: list[Any]) -> None:
        legs: dict[str, list[dict]] = defaultdict(list)
        for leg in records:
            if isinstance(leg, dict) and (call := self.record_id(leg)):
                legs[call].append(leg)
        for group in legs.values():
            group.sort(key=self.leg_order)
        self._legs = dict(legs)

    def call_legs(self, call_id: str, record: dict) -> list[dict]:
        """The legs of the call ``record`` carries, the earliest first; any other leg of a call
        raises ``child_leg``."""
        legs = self._legs.get(call_id) or [record]
        if record is not legs[0] and record != legs[0]:
            raise MappingError(
                Reason.CHILD_LEG, f"leg {self.leg_id(record)} of {call_id}: folded into its call"
            )
        return legs
