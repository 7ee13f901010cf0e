"""What a business's CRM holds, derived from its call journeys: the truth the HubSpot simulator
serves and the CRM tests check against.

Managers type most conversations into the CRM (by hand, ``CRM_UI``, or through the telephony
integration, ``INTEGRATION``), minutes to days after the call, and forget some; they also enter
leads no call explains (walk-ins, referrals), and web forms add leads of their own. A share of
the leads get a deal, won or lost days later. Drawn from random streams of their own, so the
calls of a seed never change.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from dataclasses import dataclass, field

from ringback_dev.simulators.journeys import EXPECTED_LEAD, JourneyGenerator

TALK_THRESHOLD = 30  # the default talk_threshold_seconds: what counts as a conversation


@dataclass(frozen=True)
class TrueDeal:
    deal_id: str
    amount: int
    currency: str
    created_at: dt.datetime
    outcome: str  # won | lost | open
    closed_at: dt.datetime | None  # when it is won or lost (None while it stays open)

    def state(self, now: dt.datetime) -> tuple[str, bool, dt.datetime | None, dt.datetime]:
        """(dealstage, hs_is_closed_won, closedate, last modified) as HubSpot shows it at now."""
        if self.closed_at is not None and self.closed_at <= now:
            stage = "closedwon" if self.outcome == "won" else "closedlost"
            return stage, self.outcome == "won", self.closed_at, self.closed_at
        return "appointmentscheduled", False, None, self.created_at


@dataclass(frozen=True)
class TrueCrmLead:
    """One contact the CRM will hold."""

    contact_id: str
    journey_id: str | None  # the journey whose conversation it records; None: no call
    phone: str | None  # as typed into the CRM
    e164: str | None
    created_at: dt.datetime
    object_source: str  # hs_object_source
    analytics_source: str  # hs_analytics_source
    deals: tuple[TrueDeal, ...] = field(default_factory=tuple)
    # What ringback should make of it: matched | crm_only_manual | crm_only_other
    expected: str = "matched"

    @property
    def modified_at(self) -> dt.datetime:
        return self.created_at + dt.timedelta(seconds=30)


def _id(*parts: object) -> str:
    digest = hashlib.sha256(":".join(str(p) for p in parts).encode()).hexdigest()
    # HubSpot ids are large integers; 12 digits keep a crowded test CRM free of collisions.
    return str(100_000_000_000 + int(digest[:14], 16) % 900_000_000_000)


def typed(number: str, profile: str, how: str) -> str:
    """A number as a person or a form writes it: local formats, spaces, dashes."""
    if profile == "ua":
        local = "0" + number[4:]  # +380671234567 -> 0671234567
        if how == "manual":
            return f"{local[:3]} {local[3:6]} {local[6:8]} {local[8:]}"
        if how == "form":
            return f"+38 ({local[:3]}) {local[3:6]}-{local[6:8]}-{local[8:]}"
        return number
    national = number[2:]  # +15125550101 -> 5125550101
    if how == "manual":
        return f"({national[:3]}) {national[3:6]}-{national[6:]}"
    return number


class CrmGenerator:
    """The CRM leads of a business whose calls a JourneyGenerator makes."""

    def __init__(
        self,
        journeys: JourneyGenerator,
        *,
        record_rate: float = 0.8,
        walk_ins_per_day: int = 2,
        forms_per_day: int = 2,
        currency: str = "UAH",
    ) -> None:
        self.journeys = journeys
        self.record_rate = record_rate
        self.walk_ins_per_day = walk_ins_per_day
        self.forms_per_day = forms_per_day
        self.currency = currency
        self._cache: dict[dt.date, list[TrueCrmLead]] = {}

    def day(self, day: dt.date) -> list[TrueCrmLead]:
        """The CRM leads that come from the journeys of one local day (created that day or up to
        six days later)."""
        if day not in self._cache:
            self._cache[day] = self._build(day)
        return self._cache[day]

    def leads_between(self, first_day: dt.date, last_day: dt.date) -> list[TrueCrmLead]:
        out: list[TrueCrmLead] = []
        d = first_day
        while d <= last_day:
            out += self.day(d)
            d += dt.timedelta(days=1)
        return out

    def _deals(self, draw: random.Random, contact_id: str, created_at: dt.datetime) -> tuple:
        if draw.random() >= 0.6:
            return ()
        deal_created = created_at + dt.timedelta(minutes=draw.uniform(5, 120))
        outcome = draw.choices(("won", "lost", "open"), (45, 15, 40))[0]
        closed = (
            None
            if outcome == "open"
            else deal_created + dt.timedelta(days=draw.uniform(1, 14 if outcome == "won" else 10))
        )
        amount = (
            draw.randrange(500, 5001, 50)
            if self.currency == "UAH"
            else draw.randrange(150, 2001, 25)
        )
        return (
            TrueDeal(
                _id(self.journeys.seed, contact_id, "deal"),
                amount,
                self.currency,
                deal_created,
                outcome,
                closed,
            ),
        )

    def _build(self, day: dt.date) -> list[TrueCrmLead]:
        gen = self.journeys
        profile = gen.profile.name
        draw = random.Random(f"{gen.seed}:{gen.profile.name}:{day.isoformat()}:crm")
        plan = gen.day(day)
        by_journey: dict[str, list] = {}
        for call in plan.calls:
            by_journey.setdefault(call.journey_id, []).append(call)
        leads: list[TrueCrmLead] = []
        for jid, calls in sorted(by_journey.items()):
            kind = calls[0].journey
            number = calls[0].customer_number
            if number is None:
                continue
            talks = [c for c in calls if c.status == "answered" and c.talk_seconds > TALK_THRESHOLD]
            short = kind == "short_first"
            if not (kind in EXPECTED_LEAD and talks) and not short:
                continue
            # A call too short for ringback's lead is still typed in now and then.
            if draw.random() >= (0.15 if short else self.record_rate):
                continue
            call = talks[0] if talks else calls[0]
            ended = call.ended_at
            delay = draw.random()
            if delay < 0.85:
                created = ended + dt.timedelta(minutes=draw.uniform(2, 60))
            elif delay < 0.95:
                created = ended + dt.timedelta(hours=draw.uniform(1, 30))
            else:
                created = ended + dt.timedelta(days=draw.uniform(2, 6))
            how = "manual" if draw.random() < 0.75 else "integration"
            contact_id = _id(gen.seed, profile, jid, "contact")
            leads.append(
                TrueCrmLead(
                    contact_id,
                    jid,
                    typed(number, profile, how),
                    number,
                    created,
                    "CRM_UI" if how == "manual" else "INTEGRATION",
                    "OFFLINE",
                    self._deals(draw, contact_id, created),
                    "crm_only_manual" if short else "matched",
                )
            )
        # Leads no call explains: walk-ins typed in by hand, and web forms.
        for i in range(self.walk_ins_per_day + self.forms_per_day):
            manual = i < self.walk_ins_per_day
            number = gen._new_customer(day, 20_000 + i)
            created = gen._local(day, draw.randint(9 * 3600, 19 * 3600))
            contact_id = _id(gen.seed, profile, day, i, "nocall")
            leads.append(
                TrueCrmLead(
                    contact_id,
                    None,
                    typed(number, profile, "manual" if manual else "form"),
                    number,
                    created,
                    "CRM_UI" if manual else "FORMS",
                    "OFFLINE" if manual else "PAID_SEARCH",
                    self._deals(draw, contact_id, created),
                    "crm_only_manual" if manual else "crm_only_other",
                )
            )
        return leads


CREATED_VIA = {"CRM_UI": "manual", "FORMS": "form", "INTEGRATION": "integration"}


def crm_staging_rows(
    crm: CrmGenerator,
    first_day: dt.date,
    last_day: dt.date,
    now: dt.datetime,
    reporting_tz: dt.tzinfo,
    business_id: str = "default",
    source_id: str = "hubspot_main",
) -> list[dict]:
    """The CRM leads of the journeys of these days, as staging.crm_leads rows at ``now``,
    without any HTTP: what the HubSpot connector would have staged (tests and benchmarks)."""
    rows = []
    for lead in crm.leads_between(first_day, last_day):
        if lead.created_at > now:
            continue
        deal = lead.deals[0] if lead.deals and lead.deals[0].created_at <= now else None
        state = deal.state(now) if deal else None
        rows.append(
            {
                "business_id": business_id,
                "crm_lead_key": f"hubspot:sim:{lead.contact_id}",
                "source_id": source_id,
                "provider": "hubspot",
                "account_id": "sim",
                "crm_record_id": lead.contact_id,
                "created_at": lead.created_at,
                "created_date": lead.created_at.astimezone(reporting_tz).date(),
                "customer_number": lead.e164,
                "created_via": CREATED_VIA.get(lead.object_source, "other"),
                "crm_created_source": lead.object_source,
                "crm_source": lead.analytics_source,
                "crm_source_detail": lead.object_source,
                "crm_campaign": None,
                "deal_id": deal.deal_id if deal else None,
                "amount": float(deal.amount) if deal else None,
                "currency": deal.currency if deal else None,
                "stage": state[0] if state else None,
                "won_at": state[2] if state and state[1] else None,
                "updated_at": state[3] if state else lead.modified_at,
                "load_id": f"generated:{first_day}",
            }
        )
    return rows
