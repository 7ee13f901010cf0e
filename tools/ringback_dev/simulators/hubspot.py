"""HubSpot CRM API simulator: contacts, deals and their associations (docs/providers.md,
"HubSpot", lists each fact with its source).

- ``POST /crm/v3/objects/{contacts|deals}/search``: ``filterGroups`` (OR of ANDed filters; GTE,
  GT, LTE, LT, EQ, NEQ, HAS_PROPERTY), one sort, ``properties``, ``limit`` up to 200,
  ``after`` (an offset). One query pages through at most 10,000 results: ``after`` at or past
  the cap answers 400, as HubSpot does. ``total`` counts every match.
- ``POST /crm/v3/objects/{type}/batch/read``: ``inputs`` of ids (up to 100), ``properties``.
- ``POST /crm/v4/associations/{from}/{to}/batch/read``: ``inputs`` of ids, each result paged
  (``association_page_size``) with ``paging.next.after`` to send back with that id.
- ``Authorization: Bearer <token>``; a wrong token answers 401 with HubSpot's error body.
- Timestamps are ISO 8601 strings in UTC with milliseconds; filters take epoch milliseconds.
  Contacts' modification time is ``lastmodifieddate``, deals' ``hs_lastmodifieddate``.
- 429 carries ``policyName`` in the body and ``X-HubSpot-RateLimit-*`` headers;
  ``daily_remaining=0`` makes every request a DAILY 429.
- ``edit_contact`` changes a contact between pulls (its modification time becomes now);
  ``touch_all`` gives many contacts one modification instant (a bulk import or workflow).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from typing import Any

from ringback_dev.simulators.crm_journeys import CrmGenerator, TrueCrmLead
from ringback_dev.simulators.journeys import JourneyGenerator
from ringback_dev.simulators.server import ProviderSimulator, Response

SEARCH_CAP = 10_000
MAX_LIMIT = 200
BATCH_LIMIT = 100
DATETIME_PROPERTIES = {"createdate", "lastmodifieddate", "hs_lastmodifieddate", "closedate"}
# What HubSpot returns besides the properties asked for.
DEFAULT_PROPERTIES = {
    "contacts": ("createdate", "hs_object_id", "lastmodifieddate"),
    "deals": ("createdate", "hs_object_id", "hs_lastmodifieddate"),
}


def iso(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def ms(at: dt.datetime) -> int:
    return int(at.timestamp() * 1000)


@functools.lru_cache(maxsize=1 << 18)
def _comparable(name: str, value: Any) -> Any:
    if value is None:
        return None
    text = str(value)
    if name in DATETIME_PROPERTIES and not text.isdigit():
        return ms(dt.datetime.fromisoformat(text.replace("Z", "+00:00")))
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text


def error(status: int, message: str, category: str, **extra: Any) -> Response:
    body = {"status": "error", "message": message, "category": category, **extra}
    return Response.json(body, status=status)


class HubSpotSimulator(ProviderSimulator):
    provider = "hubspot"

    def __init__(
        self,
        generator: JourneyGenerator | None = None,
        *,
        token: str = "demo-token",
        crm: CrmGenerator | None = None,
        association_page_size: int = 500,
        daily_remaining: int | None = None,
        history_days: int = 40,
        now: dt.datetime | None = None,
    ) -> None:
        super().__init__(generator or JourneyGenerator(), now=now)
        self.token = token
        self.crm = crm or CrmGenerator(self.generator)
        self.association_page_size = association_page_size
        self.daily_remaining = daily_remaining
        self.history_days = history_days  # journey days before now whose leads exist
        self.contact_edits: dict[str, dict[str, Any]] = {}
        self._edits = 0  # bumped by every edit: the objects are rebuilt after one
        self._built: tuple[Any, dict] | None = None  # (now, edits) the objects were built for

    # -- the CRM's state at now --------------------------------------------------------------
    def leads(self) -> list[TrueCrmLead]:
        now = self.now
        last = now.astimezone(self.generator.tz).date()
        first = last - dt.timedelta(days=self.history_days)
        return [lead for lead in self.crm.leads_between(first, last) if lead.created_at <= now]

    def edit_contact(self, contact_id: str, **properties: Any) -> None:
        """Change a contact's properties; its modification time becomes now."""
        self._edits += 1
        edit = self.contact_edits.setdefault(contact_id, {})
        edit.update(properties)
        edit["lastmodifieddate"] = iso(self.now)

    def touch_all(self, contact_ids: list[str], at: dt.datetime) -> None:
        """Give these contacts one modification instant (a bulk update)."""
        self._edits += 1
        for cid in contact_ids:
            self.contact_edits.setdefault(cid, {})["lastmodifieddate"] = iso(at)

    def _objects(self) -> dict[str, dict[str, dict[str, Any]]]:
        now = self.now
        state = (now, self._edits)
        if self._built is not None and self._built[0] == state:
            return self._built[1]
        contacts: dict[str, dict[str, Any]] = {}
        deals: dict[str, dict[str, Any]] = {}
        self.associations: dict[tuple[str, str], dict[str, list[str]]] = {
            ("contacts", "deals"): {},
            ("deals", "contacts"): {},
        }
        for lead in self.leads():
            props = {
                "hs_object_id": lead.contact_id,
                "createdate": iso(lead.created_at),
                "lastmodifieddate": iso(lead.modified_at),
                "phone": lead.phone,
                "mobilephone": None,
                "hs_object_source": lead.object_source,
                "hs_analytics_source": lead.analytics_source,
                "hs_analytics_source_data_1": lead.object_source,
                "hs_analytics_source_data_2": None,
            }
            props.update(self.contact_edits.get(lead.contact_id, {}))
            contacts[lead.contact_id] = props
            for deal in lead.deals:
                if deal.created_at > now:
                    continue
                stage, won, closed, modified = deal.state(now)
                deals[deal.deal_id] = {
                    "hs_object_id": deal.deal_id,
                    "createdate": iso(deal.created_at),
                    "hs_lastmodifieddate": iso(modified),
                    "amount": str(deal.amount),
                    "deal_currency_code": deal.currency,
                    "dealstage": stage,
                    "closedate": iso(closed) if closed else None,
                    "hs_is_closed_won": "true" if won else "false",
                }
                self.associations[("contacts", "deals")].setdefault(lead.contact_id, []).append(
                    deal.deal_id
                )
                self.associations[("deals", "contacts")].setdefault(deal.deal_id, []).append(
                    lead.contact_id
                )
        objects = {"contacts": contacts, "deals": deals}
        self._built = (state, objects)
        return objects

    # -- serving -----------------------------------------------------------------------------
    def throttled(self) -> Response:
        resp = error(
            429,
            "You have reached your secondly limit.",
            "RATE_LIMITS",
            errorType="RATE_LIMIT",
            policyName="SECONDLY",
        )
        resp.headers = {
            "X-HubSpot-RateLimit-Interval-Milliseconds": "1000",
            "X-HubSpot-RateLimit-Max": "4",
            "X-HubSpot-RateLimit-Remaining": "0",
        }
        return resp

    def handle(self, method, path, query, headers, body) -> Response:
        if headers.get("authorization") != f"Bearer {self.token}":
            return error(
                401,
                "Authentication credentials not found.",
                "INVALID_AUTHENTICATION",
            )
        if self.daily_remaining is not None:
            if self.daily_remaining <= 0:
                resp = error(
                    429,
                    "You have reached your daily limit.",
                    "RATE_LIMITS",
                    errorType="RATE_LIMIT",
                    policyName="DAILY",
                )
                resp.headers = {"X-HubSpot-RateLimit-Daily-Remaining": "0"}
                return resp
            self.daily_remaining -= 1
        if method != "POST":
            return error(405, "Method not allowed.", "VALIDATION_ERROR")
        try:
            doc = json.loads(body or b"{}")
        except json.JSONDecodeError:
            return error(400, "Invalid input JSON.", "VALIDATION_ERROR")
        parts = path.strip("/").split("/")
        if parts[:3] == ["crm", "v3", "objects"] and len(parts) == 5 and parts[4] == "search":
            return self._search(parts[3], doc)
        if parts[:3] == ["crm", "v3", "objects"] and parts[4:] == ["batch", "read"]:
            return self._batch_read(parts[3], doc)
        if parts[:3] == ["crm", "v4", "associations"] and parts[5:] == ["batch", "read"]:
            return self._associations(parts[3], parts[4], doc)
        return error(404, f"No route for {path}.", "OBJECT_NOT_FOUND")

    @staticmethod
    def _public(object_id: str, props: dict[str, Any], wanted: list[str], kind: str) -> dict:
        names = {*wanted, *DEFAULT_PROPERTIES[kind]}
        modified = props.get("lastmodifieddate") or props.get("hs_lastmodifieddate")
        return {
            "id": object_id,
            "properties": {n: props.get(n) for n in sorted(names)},
            "createdAt": props["createdate"],
            "updatedAt": modified,
            "archived": False,
        }

    def _search(self, kind: str, doc: dict) -> Response:
        objects = self._objects().get(kind)
        if objects is None:
            return error(404, f"Unknown object type {kind}.", "OBJECT_NOT_FOUND")
        limit = int(doc.get("limit") or 10)
        if limit > MAX_LIMIT:
            return error(400, f"limit must be at most {MAX_LIMIT}.", "VALIDATION_ERROR")
        after = int(doc.get("after") or 0)
        if after >= SEARCH_CAP:
            return error(
                400,
                "There was a problem with the request.",
                "VALIDATION_ERROR",
                context={"after": [str(after)]},
                detail=f"The search cannot page past {SEARCH_CAP} results.",
            )
        groups = doc.get("filterGroups") or [{"filters": []}]

        def matches(props: dict[str, Any]) -> bool:
            return any(all(self._test(props, f) for f in g.get("filters") or []) for g in groups)

        found = [(oid, p) for oid, p in objects.items() if matches(p)]
        sorts = doc.get("sorts") or [{"propertyName": "hs_object_id", "direction": "ASCENDING"}]
        name = sorts[0]["propertyName"]
        descending = str(sorts[0].get("direction", "ASCENDING")).upper() == "DESCENDING"
        found.sort(
            key=lambda item: (
                _comparable(name, item[1].get(name)) is None,
                _comparable(name, item[1].get(name)) or 0,
                int(item[0]),
            ),
            reverse=descending,
        )
        page = found[after : after + limit]
        out: dict[str, Any] = {
            "total": len(found),
            "results": [self._public(oid, p, doc.get("properties") or [], kind) for oid, p in page],
        }
        if after + limit < len(found):
            nxt = str(after + limit)
            out["paging"] = {"next": {"after": nxt, "link": f"?after={nxt}"}}
        return Response.json(out)

    @staticmethod
    def _test(props: dict[str, Any], f: dict[str, Any]) -> bool:
        name, op = f.get("propertyName"), str(f.get("operator", "EQ")).upper()
        have = _comparable(name, props.get(name))
        if op == "HAS_PROPERTY":
            return have is not None
        if have is None:
            return op == "NOT_HAS_PROPERTY"
        want = _comparable(name, f.get("value"))
        return {
            "EQ": have == want,
            "NEQ": have != want,
            "GT": have > want,
            "GTE": have >= want,
            "LT": have < want,
            "LTE": have <= want,
        }.get(op, False)

    def _batch_read(self, kind: str, doc: dict) -> Response:
        objects = self._objects().get(kind)
        if objects is None:
            return error(404, f"Unknown object type {kind}.", "OBJECT_NOT_FOUND")
        inputs = doc.get("inputs") or []
        if len(inputs) > BATCH_LIMIT:
            return error(400, f"at most {BATCH_LIMIT} inputs per batch", "VALIDATION_ERROR")
        ids = [str(i.get("id")) for i in inputs]
        results = [
            self._public(i, objects[i], doc.get("properties") or [], kind)
            for i in ids
            if i in objects
        ]
        missing = [i for i in ids if i not in objects]
        out: dict[str, Any] = {"status": "COMPLETE", "results": results}
        if missing:
            out["numErrors"] = 1
            out["errors"] = [
                {"status": "error", "category": "OBJECT_NOT_FOUND", "context": {"ids": missing}}
            ]
            return Response.json(out, status=207)
        return Response.json(out)

    def _associations(self, from_kind: str, to_kind: str, doc: dict) -> Response:
        self._objects()
        table = self.associations.get((from_kind, to_kind))
        if table is None:
            return error(400, f"No associations {from_kind} -> {to_kind}.", "VALIDATION_ERROR")
        size = self.association_page_size
        results = []
        for item in doc.get("inputs") or []:
            oid = str(item.get("id"))
            targets = table.get(oid, [])
            if not targets:
                continue
            start = int(item.get("after") or 0)
            page = targets[start : start + size]
            result: dict[str, Any] = {
                "from": {"id": oid},
                "to": [
                    {
                        "toObjectId": int(t),
                        "associationTypes": [
                            {"category": "HUBSPOT_DEFINED", "typeId": 4, "label": None}
                        ],
                    }
                    for t in page
                ],
            }
            if start + size < len(targets):
                result["paging"] = {"next": {"after": str(start + size)}}
            results.append(result)
        return Response.json({"status": "COMPLETE", "results": results})
