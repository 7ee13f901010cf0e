"""Local servers that speak each provider's documented API, fed by journey generators.

Ringostat and Binotel watch one (Ukrainian) business; CallRail and Twilio watch a second (US)
business, so no call is seen by two call-tracking systems at once. HubSpot holds the Ukrainian
business's CRM, derived from the same journeys. Two more Ukrainian businesses have Ringostat
projects of their own (a simulator each): the Lviv one's calls go through Zadarma, the Odesa
one's through an Asterisk whose CDR database ``asterisk_database`` writes (no HTTP server).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from ringback_dev.simulators.binotel import BinotelSimulator
from ringback_dev.simulators.callrail import CallRailSimulator
from ringback_dev.simulators.hubspot import HubSpotSimulator
from ringback_dev.simulators.journeys import PROFILES, Break, JourneyGenerator
from ringback_dev.simulators.ringostat import RingostatSimulator
from ringback_dev.simulators.server import ProviderSimulator
from ringback_dev.simulators.twilio import TwilioSimulator
from ringback_dev.simulators.zadarma import ZadarmaSimulator

# Simulator name -> (class, journey profile, provider).
SIMULATORS: dict[str, tuple[type[ProviderSimulator], str, str]] = {
    "ringostat": (RingostatSimulator, "ua", "ringostat"),
    "binotel": (BinotelSimulator, "ua", "binotel"),
    "callrail": (CallRailSimulator, "us", "callrail"),
    "twilio": (TwilioSimulator, "us", "twilio"),
    "hubspot": (HubSpotSimulator, "ua", "hubspot"),
    "ringostat_lviv": (RingostatSimulator, "lviv", "ringostat"),
    "zadarma": (ZadarmaSimulator, "lviv", "zadarma"),
    "ringostat_odesa": (RingostatSimulator, "odesa", "ringostat"),
}
# The demo's sources that are not served by the simulator named after their provider.
SIMULATOR_OF_SOURCE = {"ringostat_lviv": "ringostat_lviv", "ringostat_odesa": "ringostat_odesa"}
# The Odesa practice's Asterisk: a CDR database on disk, not a server.
ASTERISK_PROFILE = "odesa"

# Demo credentials the simulators accept (login, password of the connection URI).
DEMO_CREDENTIALS = {
    "ringostat": ("demo-project", "demo-key"),
    "binotel": ("demo-key", "demo-secret"),
    "callrail": ("", "demo-key"),
    "twilio": ("AC0000000000000000000000000000dead", "demo-token"),
    "hubspot": ("", "demo-token"),  # a private app's access token
    "zadarma": ("demo-key", "demo-secret"),
}


# The demo's number pools per journey profile: Lviv's Google Ads visitors see one of 4 numbers
# (the sources file lists the same pool under the business's number_pools).
DEMO_POOLS = {"lviv": {next(iter(PROFILES["lviv"].tracking_numbers)): 4}}


def demo_breaks(today: dt.date) -> dict[str, tuple[Break, ...]]:
    """The faults ``make demo`` breaks on known days before ``today``, per journey profile, for
    the incidents it must report: Kyiv's Facebook landing page loses its substitution script
    three days ago (still open), the forwarding of Austin's Bing number fails from six to
    four days ago (closed since), and Lviv's Google Ads pool is too small for its traffic from
    two days ago (still open)."""
    day = dt.timedelta(days=1)
    kyiv_facebook = list(PROFILES["ua"].tracking_numbers)[1]
    austin_bing = list(PROFILES["us"].tracking_numbers)[1]
    (lviv_pool,) = DEMO_POOLS["lviv"]
    return {
        "ua": (Break("substitution_removed", kyiv_facebook, today - 3 * day, today),),
        "us": (Break("line_failure", austin_bing, today - 6 * day, today - 4 * day),),
        "lviv": (Break("pool_too_small", lviv_pool, today - 2 * day, today),),
    }


def demo_rejected_click(generator: JourneyGenerator, day: dt.date) -> str | None:
    """The GCLID of the first recovered missed call of ``day`` that came from a Google Ads
    click: the conversion ``make demo`` has the Data Manager fake reject (CLICK_NOT_FOUND)."""
    for call in generator.day(day).calls:
        if (
            call.journey in ("missed_retry", "missed_callback")
            and call.gclid
            and call.seen_by_calltracking
        ):
            firsts = generator.journey_calls(call.journey_id)
            if firsts and firsts[0].call_id == call.call_id:
                return call.gclid
    return None


def start_all(
    seed: int = 7,
    ports: list[str] | None = None,
    generator: JourneyGenerator | None = None,
    breaks: dict[str, tuple[Break, ...]] | None = None,
    pools: dict[str, dict[str, int]] | None = None,
) -> dict[str, ProviderSimulator]:
    """Start every simulator on 127.0.0.1; ``ports`` as NAME=PORT. ``generator`` replaces the
    UA business's generator (tests use smaller days); ``breaks`` are faults per profile
    (``demo_breaks``), ``pools`` number pools per profile (``DEMO_POOLS``)."""
    fixed = {}
    for item in ports or []:
        name, _, port = item.partition("=")
        fixed[name.strip()] = int(port)
    size = generator.customers_per_day if generator else 60
    generators = {
        profile: JourneyGenerator(
            seed=seed,
            profile=profile,
            customers_per_day=size,
            breaks=(breaks or {}).get(profile, ()),
            pools=(pools or {}).get(profile),
        )
        for profile in {p for _, p, _ in SIMULATORS.values()}
    }
    if generator is not None:
        generators["ua"] = generator
    sims: dict[str, ProviderSimulator] = {}
    for name, (cls, profile, _) in SIMULATORS.items():
        sim = cls(generators[profile])
        sim.start("127.0.0.1", fixed.get(name, 0))
        sims[name] = sim
    return sims


def simulator_name(source_id: str, provider: str) -> str:
    return SIMULATOR_OF_SOURCE.get(source_id, provider)


def asterisk_database(
    path: Path, start: dt.datetime, now: dt.datetime, seed: int = 7, customers_per_day: int = 60
) -> str:
    """Write the Asterisk CDRs of [start, now) into a SQLite ``cdr`` table at ``path``; return
    the SQLAlchemy URL an ``asterisk_db`` source's connection holds."""
    from ringback_dev.simulators.asterisk import AsteriskCdrWriter

    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    url = f"sqlite:///{path.resolve()}"
    generator = JourneyGenerator(
        seed=seed, profile=ASTERISK_PROFILE, customers_per_day=customers_per_day
    )
    writer = AsteriskCdrWriter(generator)
    writer.write_db(url, writer.cdrs(start, now, now))
    return url


def connection_uri(provider: str, base_url: str) -> str:
    """The AIRFLOW_CONN_* URI that points a source of this provider (or simulator name) at its
    simulator."""
    provider = SIMULATORS[provider][2] if provider in SIMULATORS else provider
    login, password = DEMO_CREDENTIALS[provider]
    return base_url.replace("://", f"://{login}:{password}@", 1)
