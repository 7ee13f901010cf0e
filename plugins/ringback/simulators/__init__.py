"""Local servers that speak each provider's documented API, fed by one journey generator."""

from __future__ import annotations

from ringback.simulators.binotel import BinotelSimulator
from ringback.simulators.journeys import JourneyGenerator
from ringback.simulators.ringostat import RingostatSimulator
from ringback.simulators.server import ProviderSimulator

SIMULATORS: dict[str, type[ProviderSimulator]] = {
    "ringostat": RingostatSimulator,
    "binotel": BinotelSimulator,
}

# Demo credentials the simulators accept; the matching connection URIs are in demo.py.
DEMO_CREDENTIALS = {
    "ringostat": ("demo-project", "demo-key"),
    "binotel": ("demo-key", "demo-secret"),
}


def start_all(
    seed: int = 7, ports: list[str] | None = None, generator: JourneyGenerator | None = None
) -> dict[str, ProviderSimulator]:
    """Start every simulator on 127.0.0.1 with one shared generator; ``ports`` as NAME=PORT."""
    fixed = {}
    for item in ports or []:
        name, _, port = item.partition("=")
        fixed[name.strip()] = int(port)
    generator = generator or JourneyGenerator(seed=seed)
    sims: dict[str, ProviderSimulator] = {}
    for name, cls in SIMULATORS.items():
        sim = cls(generator)
        sim.start("127.0.0.1", fixed.get(name, 0))
        sims[name] = sim
    return sims


def connection_uri(provider: str, base_url: str) -> str:
    """The AIRFLOW_CONN_* URI that points a source of this provider at its simulator."""
    login, password = DEMO_CREDENTIALS[provider]
    return base_url.replace("://", f"://{login}:{password}@", 1)
