"""One run's world, made once at each entry point and passed down.

A CLI command or an Airflow task calls ``Runtime.load(overrides)`` once; everything below it
receives the runtime (or the parts it needs) instead of reading settings, the sources file or
the environment itself. So an override given on the command line (``--set key=value``) reaches
every backend and every business the same way.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from ringback.batches import BatchStore
from ringback.settings import (
    Config,
    ConfigError,
    Settings,
    SourceConfig,
    load_config,
    load_settings,
    project_root,
    sources_path,
)


@dataclass(frozen=True)
class Runtime:
    """Settings (global and per business), the sources file, the warehouse and the batch store."""

    settings: Settings
    config: Config
    batches: BatchStore = field(compare=False)

    @classmethod
    def load(cls, overrides: dict[str, Any] | None = None) -> Runtime:
        """Read the settings and sources files (with overrides on top) for this run."""
        settings = load_settings(overrides)
        return cls.of(settings, load_config(settings))

    @classmethod
    def of(cls, settings: Settings, config: Config) -> Runtime:
        store = BatchStore(
            settings.batch_store_url, project_root(), settings.batch_store_connection_id
        )
        return cls(settings, config, store)

    def replace(self, **overrides: Any) -> Runtime:
        """The same run with some settings changed (typed values, checked as usual)."""
        return Runtime.of(dataclasses.replace(self.settings, **overrides), self.config)

    def connect(self, *, read_only: bool = False) -> Any:
        """Open the warehouse of ``warehouse_url`` with this run's settings."""
        from ringback.warehouse import connect

        return connect(self.settings.warehouse_url, read_only=read_only, settings=self.settings)

    def business_settings(self) -> dict[str, Settings]:
        """Each configured business's effective settings."""
        return self.config.business_settings(self.settings)

    def settings_of(self, business_id: str) -> Settings:
        """A business's settings; one absent from the sources file gets the global ones."""
        business = self.config.business(business_id)
        return business.settings_for(self.settings) if business else self.settings

    def business_names(self) -> dict[str, str]:
        return {b.id: b.name for b in self.config.businesses}

    def source(self, source_id: str) -> SourceConfig:
        for source in self.config.sources:
            if source.id == source_id:
                return source
        known = ", ".join(s.id for s in self.config.sources) or "none"
        raise ConfigError(f"source {source_id!r} is not in {sources_path()} (known: {known})")
