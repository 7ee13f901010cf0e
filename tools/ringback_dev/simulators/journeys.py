"""Deterministic synthetic customer journeys with known ground truth.

Every simulator renders the same true calls in its provider's format: call tracking sees calls to
tracking numbers, telephony sees every call the PBX handled (a few seconds apart in its clock).
The same seed and date always give the same calls, so a test can compare what lands in the
warehouse with what should.

Journey kinds (each a customer's story that starts on a given local day):

- ``answered_first``: first call answered with a conversation -> ``primary_call`` lead.
- ``missed_retry``: first call missed, the customer calls again within minutes ->
  ``missed_call_retry`` (a share of retries reach the untracked line: telephony only, still a lead).
- ``missed_callback``: first call missed, a manager calls back -> ``missed_call_callback``.
- ``missed_late_retry``: the customer calls again after more than 24 h -> missed, not recovered.
- ``missed_unrecovered``: nobody gets through -> missed, not recovered.
- ``short_first``: answered for 30 s or less -> neither lead nor missed.
- ``untracked_first``: first call to the old flyer number (telephony only) -> ``primary_call``
  with no marketing source.
- ``hidden_number``: the caller hides the number -> seen by both, matched by neither.
- ``repeat``: a customer from an earlier journey calls again -> not primary, no lead.

Managers try to call missed customers back (``attempts``): unanswered outbound calls before a
callback's conversation, after a customer's own retry, or to customers never reached; the first
attempt comes minutes to hours after the miss, and about a third of the misses nobody recovers
are never called back at all. Attempts are drawn after a day's journeys from a random stream of
their own, so the calls above (and every lead) stay what they were before attempts existed.

Some days carry an incident that call-count reconciliation should flag: a flyer drop (many calls
to the untracked line) or a forwarding fault (tracked calls that never reached the PBX), two days
a week (``weekly_incidents``). ``breaks`` add faults that last from a known day on, what the
incident rule (marts.reconciliation_incidents) must find on that day:

- ``substitution_removed``: the call-tracking script is gone from the landing page of one
  tracking number's channel, so its visitors see and dial the static (untracked) line;
- ``line_failure``: one tracking number's forwarding fails, so its calls never reach the PBX
  (call tracking logs them, telephony does not);
- ``pool_too_small``: the traffic on a pooled channel outgrows its number pool. In its busy hours
  (``POOL_BUSY_HOURS``, local) every number is reserved, so the vendor shows visitors the pool's
  default number (the tracking number the pool is named after), and a call to it carries no
  visitor session (no source, landing page or client id).

``pools`` turn a tracking number into a number pool of dynamic insertion: its channel's visitors
see one of ``size`` numbers (the tracking number and its pool neighbours, ``pool_numbers``), each
journey keeping its number for all its calls. The pool and its breaks draw from a hash of the
journey, not the day's random stream, so every other call stays what it was.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import zoneinfo
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

UTC = dt.UTC

TRACKING_NUMBERS = {
    # number dialled -> marketing channel (what call tracking substitutes on the site)
    "+380443330001": ("google", "cpc", "brand_search", "sofa kyiv"),
    "+380443330002": ("facebook", "cpc", "autumn_sale", None),
    "+380443330003": ("google", "organic", None, None),
    "+380443330004": ("(direct)", "(none)", None, None),
}
POOL_BUSY_HOURS = range(10, 18)  # local hours a pool too small has every number reserved
UNTRACKED_LINE = "+380442000000"  # printed on flyers and the maps listing: no tracking
MAIN_LINE = "+380441000000"  # the line managers call out from


@dataclass(frozen=True)
class Staff:
    """An employee who answers and places calls, as each provider names them: Binotel by email
    and extension, Ringostat by SIP login (``connected_with``) and full name, Twilio by client
    identity, CallRail by agent email."""

    name: str
    email: str
    extension: str
    login: str


@dataclass(frozen=True)
class Profile:
    """A business's numbers: tracking numbers by channel, untracked and outbound lines, and how
    its customers' numbers look. Two profiles never share a number."""

    name: str
    time_zone: str
    tracking_numbers: dict[str, tuple[str | None, str | None, str | None, str | None]]
    untracked_line: str
    main_line: str
    customer_prefix: str
    operators: tuple[str, ...]
    local_digits: int
    staff: tuple[Staff, ...] = ()
    # Robocallers a day: a number ringing a tracking line several times, never talking
    # (the spam rule). Drawn from their own random stream: other calls stay the same.
    spam_callers_per_day: int = 0


PROFILES = {
    "ua": Profile(
        "ua",
        "Europe/Kyiv",
        TRACKING_NUMBERS,
        UNTRACKED_LINE,
        MAIN_LINE,
        "+380",
        ("50", "63", "66", "67", "68", "73", "93", "95", "96", "97", "98", "99"),
        7,
        (
            Staff("Olena Kovalenko", "olena@shop.example", "901", "olena"),
            Staff("Ivan Shevchenko", "ivan@shop.example", "902", "ivan"),
            Staff("Maria Bondar", "maria@shop.example", "903", "maria"),
        ),
    ),
    "us": Profile(
        "us",
        "America/New_York",
        {
            "+15125550101": ("google", "cpc", "spring_brand", "plumber austin"),
            "+15125550102": ("bing", "cpc", "spring_brand", None),
            "+15125550103": ("yelp", "referral", None, None),
            "+15125550104": ("(direct)", "(none)", None, None),
        },
        "+15125550199",
        "+15125550100",
        "+1",
        ("512", "737", "415", "646", "312", "213"),
        7,
        (
            Staff("Maria Lopez", "maria@plumbing.example", "201", "maria"),
            Staff("James Carter", "james@plumbing.example", "202", "james"),
        ),
        spam_callers_per_day=2,
    ),
    # Two more Ukrainian businesses on other telephony: a Lviv car service on Zadarma
    # and an Odesa dental practice on its own Asterisk, both with Ringostat call tracking.
    "lviv": Profile(
        "lviv",
        "Europe/Kyiv",
        {
            "+380322330001": ("google", "cpc", "winter_tyres", "tyre change lviv"),
            "+380322330002": ("facebook", "cpc", "winter_tyres", None),
            "+380322330003": ("google", "organic", None, None),
        },
        "+380322000000",
        "+380321000000",
        "+380",
        ("50", "63", "66", "67", "68", "73", "93", "95", "96", "97", "98", "99"),
        7,
        (
            Staff("Taras Melnyk", "taras@autoservice.example", "100", "taras"),
            Staff("Oksana Hnatiuk", "oksana@autoservice.example", "101", "oksana"),
        ),
        spam_callers_per_day=2,
    ),
    "odesa": Profile(
        "odesa",
        "Europe/Kyiv",
        {
            "+380482330001": ("google", "cpc", "implants", "dental implants odesa"),
            "+380482330002": ("instagram", "cpc", "whitening", None),
            "+380482330003": ("(direct)", "(none)", None, None),
        },
        "+380482000000",
        "+380481000000",
        "+380",
        ("50", "63", "66", "67", "68", "73", "93", "95", "96", "97", "98", "99"),
        7,
        (
            Staff("Iryna Savchenko", "iryna@dental.example", "201", "iryna"),
            Staff("Petro Lysenko", "petro@dental.example", "202", "petro"),
            Staff("Halyna Moroz", "halyna@dental.example", "203", "halyna"),
        ),
    ),
}

JOURNEY_WEIGHTS = {
    "answered_first": 40,
    "missed_retry": 13,
    "missed_callback": 11,
    "missed_late_retry": 5,
    "missed_unrecovered": 7,
    "short_first": 6,
    "untracked_first": 2,
    "hidden_number": 1,
}
MISSED_STATUSES = ("missed", "missed", "missed", "busy", "voicemail")
EXPECTED_LEAD = {
    "answered_first": "primary_call",
    "missed_retry": "missed_call_retry",
    "missed_callback": "missed_call_callback",
    "untracked_first": "primary_call",
}


@dataclass(frozen=True)
class TrueCall:
    """One real call, before any system records it."""

    call_id: str
    journey_id: str
    journey: str
    customer_number: str | None
    direction: str
    started_at: dt.datetime
    company_number: str
    status: str
    wait_seconds: int
    talk_seconds: int
    seen_by_calltracking: bool
    seen_by_telephony: bool
    telephony_offset_seconds: int
    is_repeat_customer: bool = False
    traffic_source: str | None = None
    traffic_medium: str | None = None
    campaign: str | None = None
    keyword: str | None = None
    landing_page: str | None = None
    gclid: str | None = None
    ga_client_id: str | None = None
    ga_session_id: str | None = None
    # Set through a simulator's ``changes``: the provider no longer lists the call.
    deleted: bool = False
    # Who answered (inbound) or placed (outbound) the call; None when nobody answered.
    employee: Staff | None = None

    @property
    def ended_at(self) -> dt.datetime:
        return self.started_at + dt.timedelta(seconds=self.wait_seconds + self.talk_seconds)

    @property
    def telephony_started_at(self) -> dt.datetime:
        return self.started_at + dt.timedelta(seconds=self.telephony_offset_seconds)


@dataclass
class DayPlan:
    """The journeys that start on one local day and what the models should make of them."""

    day: dt.date
    calls: list[TrueCall] = field(default_factory=list)
    incident: str | None = None
    expected_leads: Counter = field(default_factory=Counter)


def pool_numbers(profile: Profile, number: str, size: int) -> tuple[str, ...]:
    """A pool of ``size`` (1-5) numbers named after tracking number ``number``: the number and
    neighbours 20 apart in its last two digits, none of them another number of the profile."""
    if number not in profile.tracking_numbers or not 1 <= size <= 5:
        raise ValueError(f"a pool needs a tracking number of {profile.name} and 1-5 numbers")
    head, tail = number[:-2], int(number[-2:])
    pool = (number, *(f"{head}{(tail + 20 * k) % 100:02d}" for k in range(1, size)))
    taken = {*profile.tracking_numbers, profile.untracked_line, profile.main_line} - {number}
    if taken & set(pool):
        raise ValueError(f"the pool of {number} would reuse {sorted(taken & set(pool))}")
    return pool


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


@dataclass(frozen=True)
class Break:
    """A fault from ``first_day`` to ``last_day`` (local days, inclusive) on one tracking
    number: ``substitution_removed``, ``line_failure`` or ``pool_too_small`` (a pool's default
    number; see the module's docstring)."""

    kind: str
    number: str
    first_day: dt.date
    last_day: dt.date

    def __post_init__(self) -> None:
        if self.kind not in ("substitution_removed", "line_failure", "pool_too_small"):
            raise ValueError(f"unknown break {self.kind!r}")

    def covers(self, day: dt.date) -> bool:
        return self.first_day <= day <= self.last_day


class JourneyGenerator:
    """Calls for any local day, the same every time for the same seed."""

    def __init__(
        self,
        seed: int = 7,
        customers_per_day: int = 60,
        profile: str = "ua",
        *,
        weekly_incidents: bool = True,
        breaks: tuple[Break, ...] = (),
        pools: dict[str, int] | None = None,
    ) -> None:
        self.seed = seed
        self.customers_per_day = customers_per_day
        self.profile = PROFILES[profile]
        self.weekly_incidents = weekly_incidents
        self.pools = {
            number: pool_numbers(self.profile, number, size)
            for number, size in (pools or {}).items()
        }
        for fault in breaks:
            if fault.number not in self.profile.tracking_numbers:
                raise ValueError(f"{fault.number} is no tracking number of profile {profile}")
            if fault.kind == "pool_too_small" and fault.number not in self.pools:
                raise ValueError(f"{fault.number} is no pool of this generator")
        self.breaks = breaks
        self.tz = zoneinfo.ZoneInfo(self.profile.time_zone)
        self._cache: dict[dt.date, DayPlan] = {}
        self._journeys: dict[dt.date, dict[str, list[TrueCall]]] = {}
        # The "ua" profile keeps the seeds it always had, so its calls never change.
        self._seed_key = str(seed) if profile == "ua" else f"{seed}:{profile}"

    # -- customers -------------------------------------------------------------------------
    def _new_customer(self, day: dt.date, index: int) -> str:
        # Unique per (seed, day, index): a new customer's number was never seen before.
        p = self.profile
        digest = hashlib.sha256(f"{self._seed_key}:{day}:{index}".encode()).hexdigest()
        subscriber = str(int(digest[2:12], 16) % 10**p.local_digits).zfill(p.local_digits)
        if p.name == "us":  # NANP: the exchange cannot start with 0 or 1
            subscriber = str(2 + int(digest[12], 16) % 8) + subscriber[1:]
        return p.customer_prefix + p.operators[int(digest[:2], 16) % len(p.operators)] + subscriber

    def journey_kind(self, day: dt.date, index: int) -> str:
        """The kind of a day's i-th journey: a pure function, so other days can ask for it."""
        rng = random.Random(f"{self._seed_key}:{day}:{index}:kind")
        return rng.choices(list(JOURNEY_WEIGHTS), list(JOURNEY_WEIGHTS.values()))[0]

    def incident(self, day: dt.date) -> str | None:
        if not self.weekly_incidents:
            return None
        ordinal = day.toordinal() + self.seed
        if ordinal % 7 == 3:
            return "flyer_drop"
        if ordinal % 7 == 5:
            return "forwarding_fault"
        return None

    # -- days ------------------------------------------------------------------------------
    def day(self, day: dt.date) -> DayPlan:
        if day not in self._cache:
            self._cache[day] = self._build_day(day)
        return self._cache[day]

    def calls_between(self, start: dt.datetime, end: dt.datetime) -> list[TrueCall]:
        """True calls with start in [start, end), from journeys that began up to 3 days earlier."""
        first = start.astimezone(self.tz).date() - dt.timedelta(days=3)
        last = end.astimezone(self.tz).date()
        out = []
        d = first
        while d <= last:
            out += [c for c in self.day(d).calls if start <= c.started_at < end]
            d += dt.timedelta(days=1)
        return sorted(out, key=lambda c: (c.started_at, c.call_id))

    def _pool_number(self, journey_id: str, default: str, full: bool) -> tuple[str, bool]:
        """The pool number a journey's visitor was shown (the same for all its calls), and
        whether the call carries the session: while the pool is ``full``, the default number
        and no session."""
        if full:
            return default, False
        digest = hashlib.sha256(f"{self._seed_key}:{journey_id}:pool".encode()).hexdigest()
        numbers = self.pools[default]
        return numbers[int(digest[:8], 16) % len(numbers)], True

    def _local(self, day: dt.date, seconds: int) -> dt.datetime:
        naive = dt.datetime.combine(day, dt.time()) + dt.timedelta(seconds=seconds)
        return naive.replace(tzinfo=self.tz).astimezone(UTC)

    def _build_day(self, day: dt.date) -> DayPlan:
        rng = random.Random(f"{self._seed_key}:{day.isoformat()}")
        tracking_numbers = self.profile.tracking_numbers
        untracked_line = self.profile.untracked_line
        main_line = self.profile.main_line
        plan = DayPlan(day=day, incident=self.incident(day))
        faults = {f.number: f.kind for f in self.breaks if f.covers(day)}
        counter = 0

        def add(
            journey_id: str,
            journey: str,
            number: str | None,
            direction: str,
            started_at: dt.datetime,
            company: str,
            status: str,
            talk: int,
            tracked: bool,
            repeat: bool = False,
            draw: random.Random | None = None,
        ) -> None:
            nonlocal counter
            r = draw or rng
            counter += 1
            fault = faults.get(company) if tracked and direction == "inbound" else None
            if fault == "substitution_removed":
                company, tracked = untracked_line, False  # the page shows the static number
            channel = tracking_numbers.get(company) if tracked else None
            has_session = True
            if tracked and direction == "inbound" and company in self.pools:
                busy = started_at.astimezone(self.tz).hour in POOL_BUSY_HOURS
                company, has_session = self._pool_number(
                    journey_id, company, fault == "pool_too_small" and busy
                )
            in_pbx = fault != "line_failure"
            if (
                plan.incident == "forwarding_fault"
                and tracked
                and direction == "inbound"
                and r.random() < 0.3
            ):
                in_pbx = False  # forwarded to a mobile outside the PBX
            wait = r.randint(3, 25) if status != "failed" else 0
            call_id = f"{day:%Y%m%d}{counter:05d}"
            handled = direction == "outbound" or (status == "answered" and talk > 0)
            source, medium, campaign, keyword = channel or (None, None, None, None)
            # Drawn in this order, and even for a call with no session: the day's random stream
            # stays what it always was.
            telephony_offset = r.randint(0, 4)
            gclid = ("Cj0" + _digits(r, 12)) if medium == "cpc" and source == "google" else None
            ga_client_id = f"{_digits(r, 9)}.{_digits(r, 10)}" if channel else None
            if not has_session:
                channel = gclid = ga_client_id = None
                source = medium = campaign = keyword = None
            plan.calls.append(
                TrueCall(
                    call_id=call_id,
                    journey_id=journey_id,
                    journey=journey,
                    customer_number=number,
                    direction=direction,
                    started_at=started_at,
                    company_number=company,
                    status=status,
                    wait_seconds=wait,
                    talk_seconds=talk if status == "answered" else 0,
                    seen_by_calltracking=tracked,
                    seen_by_telephony=in_pbx,
                    telephony_offset_seconds=telephony_offset,
                    is_repeat_customer=repeat,
                    traffic_source=source,
                    traffic_medium=medium,
                    campaign=campaign,
                    keyword=keyword,
                    landing_page=f"https://shop.example/{campaign or 'home'}" if channel else None,
                    gclid=gclid,
                    ga_client_id=ga_client_id,
                    employee=self._staff(journey_id, call_id) if handled else None,
                )
            )

        def start_second() -> int:
            # Business hours mostly; a few late-evening calls whose follow-ups cross midnight.
            if rng.random() < 0.05:
                return rng.randint(23 * 3600, 24 * 3600 - 60)
            return rng.randint(8 * 3600, 21 * 3600)

        misses: list[tuple[str, str, str, dt.datetime, dt.datetime | None]] = []
        n_customers = max(1, round(self.customers_per_day * rng.uniform(0.85, 1.15)))
        for i in range(n_customers):
            kind = self.journey_kind(day, i)
            jid = f"{day:%Y%m%d}-{i:04d}"
            number = self._new_customer(day, i)
            t0 = self._local(day, start_second())
            tracking = rng.choice(list(tracking_numbers))
            if kind == "answered_first":
                add(
                    jid,
                    kind,
                    number,
                    "inbound",
                    t0,
                    tracking,
                    "answered",
                    rng.randint(45, 600),
                    True,
                )
            elif kind == "short_first":
                add(
                    jid, kind, number, "inbound", t0, tracking, "answered", rng.randint(3, 30), True
                )
            elif kind == "untracked_first":
                add(
                    jid,
                    kind,
                    number,
                    "inbound",
                    t0,
                    untracked_line,
                    "answered",
                    rng.randint(45, 400),
                    False,
                )
            elif kind == "hidden_number":
                add(
                    jid, kind, None, "inbound", t0, tracking, "answered", rng.randint(45, 400), True
                )
            else:
                add(
                    jid, kind, number, "inbound", t0, tracking, rng.choice(MISSED_STATUSES), 0, True
                )
                if kind == "missed_retry":
                    to_untracked = rng.random() < 0.05
                    t1 = t0 + dt.timedelta(seconds=rng.randint(60, 20 * 60))
                    add(
                        jid,
                        kind,
                        number,
                        "inbound",
                        t1,
                        untracked_line if to_untracked else tracking,
                        "answered",
                        rng.randint(45, 400),
                        not to_untracked,
                    )
                    misses.append((jid, kind, number, t0, t1))
                elif kind == "missed_callback":
                    t1 = t0 + dt.timedelta(seconds=rng.randint(3 * 60, 180 * 60))
                    add(
                        jid,
                        kind,
                        number,
                        "outbound",
                        t1,
                        main_line,
                        "answered",
                        rng.randint(40, 300),
                        False,
                    )
                    misses.append((jid, kind, number, t0, t1))
                elif kind == "missed_late_retry":
                    t1 = t0 + dt.timedelta(hours=rng.uniform(25, 40))
                    add(
                        jid,
                        kind,
                        number,
                        "inbound",
                        t1,
                        tracking,
                        "answered",
                        rng.randint(45, 400),
                        True,
                    )
                    misses.append((jid, kind, number, t0, None))
                elif kind == "missed_unrecovered":
                    misses.append((jid, kind, number, t0, None))
            if lead := EXPECTED_LEAD.get(kind):
                plan.expected_leads[lead] += 1

        # Returning customers from journeys at least 4 days old (outside any recovery window).
        for i in range(self.customers_per_day // 4):
            back = day - dt.timedelta(days=rng.randint(4, 20))
            index = rng.randrange(self.customers_per_day // 2)
            if self.journey_kind(back, index) == "hidden_number":
                continue  # that customer never showed a number: they would be new, not back
            number = self._new_customer(back, index)
            status = "answered" if rng.random() < 0.8 else "missed"
            add(
                f"{day:%Y%m%d}-r{i:03d}",
                "repeat",
                number,
                "inbound",
                self._local(day, rng.randint(8 * 3600, 21 * 3600)),
                rng.choice(list(tracking_numbers)),
                status,
                rng.randint(20, 300),
                True,
                repeat=True,
            )

        if plan.incident == "flyer_drop":
            for i in range(max(6, self.customers_per_day // 5)):
                # Flyer readers call the untracked line; their calls are leads with no source.
                number = self._new_customer(day, 10_000 + i)
                add(
                    f"{day:%Y%m%d}-f{i:03d}",
                    "untracked_first",
                    number,
                    "inbound",
                    self._local(day, rng.randint(9 * 3600, 20 * 3600)),
                    untracked_line,
                    "answered",
                    rng.randint(45, 300),
                    False,
                )
                plan.expected_leads["primary_call"] += 1
        self._attempts(day, misses, add)
        self._spam_callers(day, add)
        plan.calls.sort(key=lambda c: (c.started_at, c.call_id))
        return plan

    def _spam_callers(self, day: dt.date, add: Any) -> None:
        """Robocallers: 4-6 calls a day to a tracking line, unanswered or hung up within
        seconds. No lead, and not a missed customer: the spam rule (spam_calls_per_day) takes
        them out. CallRail's spam filter hides them (its simulator's ``hide_spam``)."""
        draw = random.Random(f"{self._seed_key}:{day.isoformat()}:spam")
        for i in range(self.profile.spam_callers_per_day):
            number = self._new_customer(day, 20_000 + i)
            line = draw.choice(list(self.profile.tracking_numbers))
            at = self._local(day, draw.randint(9 * 3600, 12 * 3600))
            for n in range(draw.randint(4, 6)):
                hung_up = draw.random() < 0.3
                add(
                    f"{day:%Y%m%d}-s{i:03d}",
                    "spam",
                    number,
                    "inbound",
                    at,
                    line,
                    "answered" if hung_up else "missed",
                    draw.randint(2, 9),
                    True,
                    repeat=n > 0,
                    draw=draw,
                )
                at += dt.timedelta(minutes=draw.uniform(20, 90))

    def journey_calls(self, journey_id: str) -> list[TrueCall]:
        """Every call of one journey (its id starts with the day it began)."""
        began = dt.datetime.strptime(journey_id[:8], "%Y%m%d").date()
        if began not in self._journeys:
            # Indexed once per day: the vendors' flags ask for a journey on every record.
            index: dict[str, list[TrueCall]] = {}
            for c in self.day(began).calls:
                index.setdefault(c.journey_id, []).append(c)
            self._journeys[began] = index
        return self._journeys[began].get(journey_id, [])

    def earlier_calls(self, call: TrueCall, *, calltracking: bool) -> list[TrueCall]:
        """The calls of the call's journey that started before it and that one system saw:
        what a vendor's own first-call and repeat flags can know of."""
        return [
            c
            for c in self.journey_calls(call.journey_id)
            if c.started_at < call.started_at
            and (c.seen_by_calltracking if calltracking else c.seen_by_telephony)
        ]

    def _staff(self, journey_id: str, call_id: str) -> Staff | None:
        # From a hash, not the day's random stream: naming employees changes no other value.
        staff = self.profile.staff
        if not staff:
            return None
        digest = hashlib.sha256(f"{self._seed_key}:{journey_id}:{call_id}:staff".encode())
        return staff[digest.digest()[0] % len(staff)]

    def _attempts(self, day: dt.date, misses: list, add: Any) -> None:
        """Unanswered callback attempts after the day's misses (see the module docstring)."""
        draw = random.Random(f"{self._seed_key}:{day.isoformat()}:attempts")
        main_line = self.profile.main_line

        def attempt(jid: str, kind: str, number: str, at: dt.datetime) -> None:
            status = draw.choice(("missed", "missed", "busy"))
            add(jid, kind, number, "outbound", at, main_line, status, 0, False, draw=draw)

        def first_delay() -> dt.timedelta:
            # Minutes to hours: log-uniform between 2 min and 8 h.
            return dt.timedelta(seconds=round(120 * 240 ** draw.random()))

        for jid, kind, number, t0, t1 in misses:
            if kind == "missed_callback" and t1 is not None:
                # Unanswered tries before the call that got through.
                gap = (t1 - t0).total_seconds()
                for _ in range(draw.choice((0, 0, 1, 1, 2))):
                    at = t0 + dt.timedelta(seconds=draw.uniform(60, max(gap - 60, 61)))
                    if at < t1 - dt.timedelta(seconds=30):
                        attempt(jid, kind, number, at)
            elif kind == "missed_retry" and t1 is not None and draw.random() < 0.25:
                # A manager rings after the customer already got through on a retry.
                attempt(jid, kind, number, t1 + dt.timedelta(minutes=draw.uniform(5, 90)))
            elif kind in ("missed_unrecovered", "missed_late_retry") and draw.random() < 0.65:
                at = t0 + first_delay()
                for _ in range(draw.choice((1, 1, 2, 3))):
                    attempt(jid, kind, number, at)
                    at += dt.timedelta(minutes=draw.uniform(15, 180))


def staging_rows(
    generator: JourneyGenerator,
    first_day: dt.date,
    last_day: dt.date,
    reporting_tz: zoneinfo.ZoneInfo,
    business_id: str = "default",
) -> list[dict]:
    """The days' true calls as staging.calls rows of both systems, without any HTTP.

    For tests and benchmarks that start at staging: each system's row is what its connector
    would have staged (call tracking: inbound calls to tracking numbers with marketing fields;
    telephony: every call the PBX saw, a few seconds later by its clock).
    """
    start = dt.datetime.combine(first_day, dt.time(), tzinfo=generator.tz).astimezone(UTC)
    end = dt.datetime.combine(
        last_day + dt.timedelta(days=1), dt.time(), tzinfo=generator.tz
    ).astimezone(UTC)
    rows = []
    for call in generator.calls_between(start, end):
        for system, seen, started_at in (
            ("calltracking", call.seen_by_calltracking, call.started_at),
            ("telephony", call.seen_by_telephony, call.telephony_started_at),
        ):
            if not seen:
                continue
            provider = "ringostat" if system == "calltracking" else "binotel"
            marketing = system == "calltracking" or call.seen_by_calltracking
            rows.append(
                {
                    "business_id": business_id,
                    "call_key": f"{provider}:sim:{call.call_id}",
                    "system": system,
                    "provider": provider,
                    "account_id": "sim",
                    "provider_call_id": call.call_id,
                    "direction": call.direction,
                    "customer_number": call.customer_number,
                    "company_number": call.company_number,
                    "started_at": started_at,
                    "wait_seconds": call.wait_seconds,
                    "talk_seconds": call.talk_seconds,
                    "status": call.status,
                    "traffic_source": call.traffic_source if marketing else None,
                    "traffic_medium": call.traffic_medium if marketing else None,
                    "campaign": call.campaign if marketing else None,
                    "keyword": call.keyword if marketing else None,
                    "landing_page": call.landing_page if system == "calltracking" else None,
                    "gclid": call.gclid if system == "calltracking" else None,
                    "ga_client_id": call.ga_client_id if marketing else None,
                    "call_date": started_at.astimezone(reporting_tz).date(),
                    "load_id": f"generated:{first_day}",
                    # Binotel names an employee by email, Ringostat by SIP login and name.
                    "employee_id": None
                    if call.employee is None
                    else (call.employee.email if system == "telephony" else call.employee.login),
                    "employee_name": call.employee.name if call.employee else None,
                }
            )
    return rows
