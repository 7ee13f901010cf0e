"""Provider connectors, one module per provider; ``connector_for`` picks one for a source."""

from __future__ import annotations

from ringback.settings import ConfigError, Settings, SourceConfig
from ringback.sources.base import Connector
from ringback.sources.binotel import BinotelConnector
from ringback.sources.callrail import CallRailConnector
from ringback.sources.connection import get_connection
from ringback.sources.ringostat import RingostatConnector
from ringback.sources.twilio import TwilioConnector

CONNECTORS: dict[str, type[Connector]] = {
    "ringostat": RingostatConnector,
    "binotel": BinotelConnector,
    "callrail": CallRailConnector,
    "twilio": TwilioConnector,
}


def connector_for(source: SourceConfig, settings: Settings) -> Connector:
    """The connector of a source, with its connection resolved (environment or Airflow)."""
    cls = CONNECTORS.get(source.provider)
    if cls is None:
        raise ConfigError(
            f"provider {source.provider!r} of source {source.id!r} has no connector in this "
            f"release (available: {', '.join(sorted(CONNECTORS))})"
        )
    return cls(source, get_connection(source.conn_id, cls.default_base_url), settings)
