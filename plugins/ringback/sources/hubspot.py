"""HubSpot CRM (contacts and their deals). docs/providers.md, "HubSpot", lists every fact used
here with its source and what is unconfirmed.

Credentials: a private app's access token, the connection's password (or login), sent as
``Authorization: Bearer <token>``. The account id in the sources file is the HubSpot portal id;
it only names the leads (``hubspot:<portal>:<contact id>``).

A run pulls what changed in its window: contacts whose ``lastmodifieddate`` and deals whose
``hs_lastmodifieddate`` fall in it, through the CRM search endpoints (v3), sorted by that
property. One search query returns at most 10,000 results: past that the connector starts a
new query from the last modification time it saw (and, should more than 10,000 records share
one millisecond, pages that instant by record id). A changed deal brings its contacts along (v4
associations), and every contact comes with all its deals, so a deal won weeks after its lead
was created updates the lead. One raw record = ``{"contact": {...}, "deals": [{...}, ...]}``.

HTTP 429 is retried after the interval HubSpot's rate-limit headers give; a daily limit
(``policyName: DAILY``) stops the pull instead, since no retry clears it before midnight.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import httpx

from ringback.quarantine import Reason
from ringback.sources.base import FetchResult, MappingError, Window
from ringback.sources.crm import (
    CrmConnector,
    created_via,
    parse_amount,
    parse_time,
    parse_time_or_none,
)
from ringback.sources.transport import ProviderError, ProviderHttp, parse_json

SEARCH_CAP = 10_000  # results one search query can page through
MAX_SEARCH_LIMIT = 200  # records per search page
BATCH_SIZE = 100  # ids per batch read
CONTACT_MODIFIED = "lastmodifieddate"  # contacts; deals and other objects: hs_lastmodifieddate
DEAL_MODIFIED = "hs_lastmodifieddate"
CONTACT_PROPERTIES = (
    "phone",
    "mobilephone",
    "createdate",
    CONTACT_MODIFIED,
    "hs_object_source",
    "hs_analytics_source",
    "hs_analytics_source_data_1",
    "hs_analytics_source_data_2",
)
DEAL_PROPERTIES = (
    "amount",
    "deal_currency_code",
    "dealstage",
    "closedate",
    "hs_is_closed_won",
    "createdate",
    DEAL_MODIFIED,
)
# hs_object_source -> created_via. CRM_UI and the mobile apps are a person typing the lead in.
CREATED_SOURCES = {
    "CRM_UI": "manual",
    "MOBILE_IOS": "manual",
    "MOBILE_ANDROID": "manual",
    "FORMS": "form",
    "IMPORT": "import",
    "INTEGRATION": "integration",
    "API": "integration",
}


def epoch_ms(at: dt.datetime) -> int:
    return int(at.timestamp() * 1000)


def throttle_wait(resp: httpx.Response) -> float | None:
    """Seconds to wait after a 429, from HubSpot's headers; a daily limit raises."""
    try:
        body = resp.json()
    except ValueError:
        body = {}
    policy = str((body or {}).get("policyName") or "").upper() if isinstance(body, dict) else ""
    if policy == "DAILY" or resp.headers.get("X-HubSpot-RateLimit-Daily-Remaining") == "0":
        raise ProviderError(
            "hubspot: the account's daily API limit is used up (429, DAILY); the pull stops "
            "until HubSpot resets it at midnight in the account's time zone",
            429,
        )
    interval = resp.headers.get("X-HubSpot-RateLimit-Interval-Milliseconds")
    try:
        return float(interval) / 1000 if interval else None
    except ValueError:
        return None


class HubSpotConnector(CrmConnector):
    provider = "hubspot"
    default_base_url = "https://api.hubapi.com"

    def _http(self) -> ProviderHttp:
        token = self.connection.password or self.connection.login
        return self.http(
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            # Search requests are limited per second (docs/providers.md): stay under it.
            request_interval=0.25,
            throttle_wait=throttle_wait,
        )

    @property
    def page_size(self) -> int:
        return max(1, min(int(self.source.options.get("per_page", MAX_SEARCH_LIMIT)), 200))

    # -- fetch -----------------------------------------------------------------------------
    def fetch(self, window: Window) -> FetchResult:
        http = self._http()
        try:
            contacts = self._search(http, "contacts", CONTACT_MODIFIED, CONTACT_PROPERTIES, window)
            deals = self._search(http, "deals", DEAL_MODIFIED, DEAL_PROPERTIES, window)
            # A deal that changed brings its contacts; every contact brings all its deals.
            deal_contacts = self._associations(http, "deals", "contacts", deals)
            wanted = {c for ids in deal_contacts.values() for c in ids} - contacts.keys()
            contacts.update(self._batch_read(http, "contacts", CONTACT_PROPERTIES, wanted))
            contact_deals = self._associations(http, "contacts", "deals", contacts)
            wanted = {d for ids in contact_deals.values() for d in ids} - deals.keys()
            deals.update(self._batch_read(http, "deals", DEAL_PROPERTIES, wanted))
        finally:
            http.close()
        records = [
            {
                "contact": contacts[cid],
                "deals": [deals[d] for d in _ordered(contact_deals.get(cid, ())) if d in deals],
            }
            for cid in _ordered(contacts)
        ]
        return FetchResult(records, http.requests, http.retries)

    def _post(self, http: ProviderHttp, path: str, body: dict[str, Any], key: str) -> dict:
        def attempt() -> dict:
            doc = parse_json(http.request("POST", path, json=body))
            if not isinstance(doc, dict) or not isinstance(doc.get(key, []), list):
                raise ProviderError(f"hubspot {path} answered without a '{key}' list")
            return doc

        return http.call(path.rsplit("/", 2)[-2] + "/" + path.rsplit("/", 1)[-1], attempt)

    def _search(
        self,
        http: ProviderHttp,
        object_type: str,
        modified: str,
        properties: tuple[str, ...],
        window: Window,
    ) -> dict[str, dict]:
        """Every record of ``object_type`` modified in the window, by id (the latest copy)."""
        path = f"/crm/v3/objects/{object_type}/search"
        end = epoch_ms(window.end_at)
        found: dict[str, dict] = {}
        lower, operator = epoch_ms(window.start_at), "GTE"
        while True:
            filters = [
                {"propertyName": modified, "operator": operator, "value": str(lower)},
                {"propertyName": modified, "operator": "LT", "value": str(end)},
            ]
            pulled, last = self._page_query(http, path, filters, modified, properties, found)
            if pulled is None:  # the query ended inside the cap
                return found
            if last is None:
                raise ProviderError(f"hubspot {object_type} search: a full page without {modified}")
            if last == lower:
                # More than the cap share one millisecond: page that instant by id, then go on.
                self._page_instant(http, path, modified, last, properties, found)
                lower, operator = last, "GT"
            else:
                lower, operator = last, "GTE"

    def _page_query(
        self,
        http: ProviderHttp,
        path: str,
        filters: list[dict],
        sort: str,
        properties: tuple[str, ...],
        found: dict[str, dict],
    ) -> tuple[int | None, int | None]:
        """Page one search query into ``found``. Returns (None, last) when it ended, or (records
        pulled, the last ``sort`` value seen) when the next page would pass the 10,000 cap."""
        after: str | None = None
        pulled, last = 0, None
        while True:
            body: dict[str, Any] = {
                "filterGroups": [{"filters": filters}],
                "sorts": [{"propertyName": sort, "direction": "ASCENDING"}],
                "properties": list(properties),
                "limit": self.page_size,
            }
            if after:
                body["after"] = after
            doc = self._post(http, path, body, "results")
            results = doc.get("results") or []
            for record in results:
                if isinstance(record, dict) and record.get("id") is not None:
                    found[str(record["id"])] = record
                    value = _ms((record.get("properties") or {}).get(sort))
                    last = value if value is not None else last
            pulled += len(results)
            after = ((doc.get("paging") or {}).get("next") or {}).get("after")
            if not after or not results:
                return None, last
            if pulled + self.page_size > SEARCH_CAP:
                return pulled, last

    def _page_instant(
        self,
        http: ProviderHttp,
        path: str,
        modified: str,
        instant: int,
        properties: tuple[str, ...],
        found: dict[str, dict],
    ) -> None:
        """Every record modified at exactly ``instant``, in id order, past the cap as needed."""
        last_id: int | None = None
        while True:
            filters = [{"propertyName": modified, "operator": "EQ", "value": str(instant)}]
            if last_id is not None:
                filters.append(
                    {"propertyName": "hs_object_id", "operator": "GT", "value": str(last_id)}
                )
            pulled, last = self._page_query(
                http, path, filters, "hs_object_id", (*properties, "hs_object_id"), found
            )
            if pulled is None:
                return
            if last is None or last == last_id:
                raise ProviderError(f"hubspot {path}: paging by id made no progress")
            last_id = last

    def _associations(
        self, http: ProviderHttp, from_type: str, to_type: str, ids: Iterable[str]
    ) -> dict[str, set[str]]:
        """v4 batch read of associations: from id -> associated ids (every page of each)."""
        path = f"/crm/v4/associations/{from_type}/{to_type}/batch/read"
        out: dict[str, set[str]] = {}
        pending = [{"id": i} for i in _ordered(ids)]
        while pending:
            chunk, pending = pending[:BATCH_SIZE], pending[BATCH_SIZE:]
            doc = self._post(http, path, {"inputs": chunk}, "results")
            for result in doc.get("results") or []:
                source = str(((result or {}).get("from") or {}).get("id") or "")
                if not source:
                    continue
                targets = out.setdefault(source, set())
                for to in result.get("to") or []:
                    if isinstance(to, dict) and to.get("toObjectId") is not None:
                        targets.add(str(to["toObjectId"]))
                after = ((result.get("paging") or {}).get("next") or {}).get("after")
                if after:
                    pending.append({"id": source, "after": after})
        return out

    def _batch_read(
        self, http: ProviderHttp, object_type: str, properties: tuple[str, ...], ids: set[str]
    ) -> dict[str, dict]:
        path = f"/crm/v3/objects/{object_type}/batch/read"
        out: dict[str, dict] = {}
        ordered = _ordered(ids)
        for i in range(0, len(ordered), BATCH_SIZE):
            body = {
                "properties": list(properties),
                "inputs": [{"id": x} for x in ordered[i : i + BATCH_SIZE]],
            }
            doc = self._post(http, path, body, "results")
            for record in doc.get("results") or []:
                if isinstance(record, dict) and record.get("id") is not None:
                    out[str(record["id"])] = record
        return out

    # -- mapping ---------------------------------------------------------------------------
    def record_id(self, record: Any) -> str | None:
        contact = record.get("contact") if isinstance(record, dict) else None
        value = contact.get("id") if isinstance(contact, dict) else None
        return (str(value).strip() or None) if value is not None else None

    def known_created_sources(self) -> list[str]:
        return sorted({*CREATED_SOURCES, *self._created_sources()})

    def _created_sources(self) -> dict[str, str]:
        return {**CREATED_SOURCES, **(self.source.options.get("created_via_map") or {})}

    def raw_view(self, record: Any) -> dict[str, Any]:
        contact = record.get("contact") if isinstance(record, dict) else None
        props = (contact.get("properties") or {}) if isinstance(contact, dict) else {}
        try:
            created_at = parse_time(props.get("createdate"), self.source.tz, "createdate")
        except MappingError:
            created_at = None
        return {
            "crm_record_id": self.record_id(record),
            "created_at": created_at,
            "created_source": props.get("hs_object_source"),
        }

    def map_record(self, record: Any) -> dict[str, Any]:
        if not isinstance(record, dict) or not isinstance(record.get("contact"), dict):
            raise MappingError(Reason.NOT_AN_OBJECT, "record has no contact object")
        record_id = self.record_id(record)
        if not record_id:
            raise MappingError(Reason.MISSING_RECORD_ID, "contact has no id")
        props = record["contact"].get("properties") or {}
        tz = self.source.tz
        created_at = parse_time(props.get("createdate"), tz, "createdate")
        deal = choose_deal(record.get("deals") or [], tz)
        updated = [parse_time_or_none(props.get(CONTACT_MODIFIED), tz, CONTACT_MODIFIED)]
        updated += [d["updated_at"] for d in _deals(record.get("deals") or [], tz)]
        default_currency = self.source.options.get("default_currency")
        return {
            **self.base_row(record_id, created_at),
            "customer_number": self.phone(props.get("phone"), props.get("mobilephone")),
            "created_via": created_via(props.get("hs_object_source"), self._created_sources()),
            "crm_created_source": props.get("hs_object_source") or None,
            "crm_source": props.get("hs_analytics_source") or None,
            "crm_source_detail": props.get("hs_analytics_source_data_1") or None,
            "crm_campaign": props.get("hs_analytics_source_data_2") or None,
            "deal_id": deal["deal_id"] if deal else None,
            "amount": deal["amount"] if deal else None,
            "currency": (deal["currency"] or default_currency) if deal else None,
            "stage": deal["stage"] if deal else None,
            "won_at": deal["won_at"] if deal else None,
            "updated_at": max((u for u in updated if u is not None), default=None),
        }


def _deals(raw: list[Any], tz: Any) -> list[dict[str, Any]]:
    out = []
    for deal in raw:
        if not isinstance(deal, dict) or deal.get("id") is None:
            raise MappingError(Reason.INVALID_DEAL, "a deal without an id")
        props = deal.get("properties") or {}
        won = str(props.get("hs_is_closed_won") or "").strip().lower() == "true"
        updated_at = parse_time_or_none(props.get(DEAL_MODIFIED), tz, DEAL_MODIFIED)
        closed_at = parse_time_or_none(props.get("closedate"), tz, "closedate")
        out.append(
            {
                "deal_id": str(deal["id"]),
                "amount": parse_amount(props.get("amount")),
                "currency": (props.get("deal_currency_code") or "").strip().upper() or None,
                "stage": props.get("dealstage") or None,
                # A won deal without a close date: when it was last changed (it was won by then).
                "won_at": (closed_at or updated_at) if won else None,
                "created_at": parse_time_or_none(props.get("createdate"), tz, "deal createdate"),
                "updated_at": updated_at,
            }
        )
    return out


def choose_deal(raw: list[Any], tz: Any) -> dict[str, Any] | None:
    """The lead's deal: the first one won, else the one created last (ties by id)."""
    deals = _deals(raw, tz)
    if not deals:
        return None
    never = dt.datetime.min.replace(tzinfo=dt.UTC)
    won = [d for d in deals if d["won_at"] is not None]
    if won:
        return min(won, key=lambda d: (d["won_at"], _id_order(d["deal_id"])))
    return max(deals, key=lambda d: (d["created_at"] or never, _id_order(d["deal_id"])))


def _ms(value: Any) -> int | None:
    """A HubSpot timestamp (ISO 8601 or epoch milliseconds) or number as an integer."""
    if value is None or str(value).strip() == "":
        return None
    text = str(value).strip()
    if text.lstrip("-").isdigit():
        return int(text)
    try:
        return epoch_ms(parse_time(text, dt.UTC, "timestamp"))
    except MappingError:
        return None


def _id_order(value: str) -> tuple[int, str]:
    return (int(value), "") if value.isdigit() else (0, value)


def _ordered(ids: Iterable[str]) -> list[str]:
    return sorted(ids, key=_id_order)
