"""Provider connectors, one module per provider; ``connector_for`` picks one for a source."""

from __future__ import annotations

from ringback.settings import ConfigError, Settings, SourceConfig
from ringback.sources.asterisk import AsteriskCsvConnector, AsteriskDbConnector
from ringback.sources.base import Connector
from ringback.sources.binotel import BinotelConnector
from ringback.sources.callrail import CallRailConnector
from ringback.sources.connection import ProviderConnection, get_connection
from ringback.sources.crm import CrmConnector
from ringback.sources.crm_csv import CsvCrmConnector
from ringback.sources.hubspot import HubSpotConnector
from ringback.sources.ringostat import RingostatConnector
from ringback.sources.twilio import TwilioConnector
from ringback.sources.zadarma import ZadarmaConnector

# Every connector of this release; the registries below are derived from their classes.
CONNECTOR_CLASSES: tuple[type[Connector] | type[CrmConnector], ...] = (
    RingostatConnector,
    CallRailConnector,
    BinotelConnector,
    TwilioConnector,
    ZadarmaConnector,
    AsteriskCsvConnector,
    AsteriskDbConnector,
    HubSpotConnector,
    CsvCrmConnector,
)
CONNECTORS: dict[str, type[Connector]] = {
    c.provider: c for c in CONNECTOR_CLASSES if issubclass(c, Connector)
}
# CRM sources (system: crm) load staging.crm_leads instead of staging.calls.
CRM_CONNECTORS: dict[str, type[CrmConnector]] = {
    c.provider: c for c in CONNECTOR_CLASSES if issubclass(c, CrmConnector)
}
PROVIDER_SYSTEMS: dict[str, str] = {c.provider: c.system for c in CONNECTOR_CLASSES}


def connector_class(provider: str) -> type[Connector] | type[CrmConnector]:
    """The connector class of a provider name (a KeyError names the unknown provider)."""
    return {c.provider: c for c in CONNECTOR_CLASSES}[provider]


def connector_for(source: SourceConfig, settings: Settings) -> Connector | CrmConnector:
    """The connector of a source (calls or CRM), with its connection resolved (environment or
    Airflow); an export folder needs none."""
    cls: type[Connector] | type[CrmConnector] | None = CONNECTORS.get(source.provider)
    cls = cls or CRM_CONNECTORS.get(source.provider)
    if cls is None:
        raise ConfigError(
            f"provider {source.provider!r} of source {source.id!r} has no connector in this "
            f"release (available: {', '.join(sorted({*CONNECTORS, *CRM_CONNECTORS}))})"
        )
    if not cls.default_base_url:
        return cls(source, ProviderConnection(source.id, ""), settings)
    return cls(source, get_connection(source.conn_id, cls.default_base_url), settings)
