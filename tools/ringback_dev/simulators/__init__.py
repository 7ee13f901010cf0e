"""Local servers that speak each provider's documented API, fed by journey generators.

Ringostat and Binotel watch one (Ukrainian) business; CallRail and Twilio watch a second (US)
business, so no call is seen by two call-tracking systems at once. HubSpot holds the Ukrainian
business's CRM, derived from the same journeys.
"""

from __future__ import annotations

from ringback_dev.simulators.binotel import BinotelSimulator
from ringback_dev.simulators.callrail import CallRailSimulator
from ringback_dev.simulators.hubspot import HubSpotSimulator
from ringback_dev.simulators.journeys import JourneyGenerator
from ringback_dev.simulators.ringostat import RingostatSimulator
from ringback_dev.simulators.server import ProviderSimulator
from ringback_dev.simulators.twilio import TwilioSimulator

SIMULATORS: dict[str, tuple[type[ProviderSimulator], str]] = {
    "ringostat": (RingostatSimulator, "ua"),
    "binotel": (BinotelSimulator, "ua"),
    "callrail": (CallRailSimulator, "us"),
    "twilio": (TwilioSimulator, "us"),
    "hubspot": (HubSpotSimulator, "ua"),
}

# Demo credentials the simulators accept (login, password of the connection URI).
DEMO_CREDENTIALS = {
    "ringostat": ("demo-project", "demo-key"),
    "binotel": ("demo-key", "demo-secret"),
    "callrail": ("", "demo-key"),
    "twilio": ("AC0000000000000000000000000000dead", "demo-token"),
    "hubspot": ("", "demo-token"),  # a private app's access token
}


def start_all(
    seed: int = 7, ports: list[str] | None = None, generator: JourneyGenerator | None = None
) -> dict[str, ProviderSimulator]:
    """Start every simulator on 127.0.0.1; ``ports`` as NAME=PORT. ``generator`` replaces the
    UA business's generator (tests use smaller days)."""
    fixed = {}
    for item in ports or []:
        name, _, port = item.partition("=")
        fixed[name.strip()] = int(port)
    generators = {
        "ua": generator or JourneyGenerator(seed=seed),
        "us": JourneyGenerator(
            seed=seed,
            profile="us",
            customers_per_day=generator.customers_per_day if generator else 60,
        ),
    }
    sims: dict[str, ProviderSimulator] = {}
    for name, (cls, profile) in SIMULATORS.items():
        sim = cls(generators[profile])
        sim.start("127.0.0.1", fixed.get(name, 0))
        sims[name] = sim
    return sims


def connection_uri(provider: str, base_url: str) -> str:
    """The AIRFLOW_CONN_* URI that points a source of this provider at its simulator."""
    login, password = DEMO_CREDENTIALS[provider]
    return base_url.replace("://", f"://{login}:{password}@", 1)
