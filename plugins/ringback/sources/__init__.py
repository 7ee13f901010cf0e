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

CONNECTORS: dict[str, type[Connector]] = {
    "ringostat": RingostatConnector,
    "binotel": BinotelConnector,
    "callrail": CallRailConnector,
    "twilio": TwilioConnector,
    "zadarma": ZadarmaConnector,
    "asterisk_csv": AsteriskCsvConnector,
    "asterisk_db": AsteriskDbConnector,
}
# CRM sources (system: crm) load staging.crm_leads instead of staging.calls.
CRM_CONNECTORS: dict[str, type[CrmConnector]] = {
    "hubspot": HubSpotConnector,
    "crm_csv": CsvCrmConnector,
}


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
