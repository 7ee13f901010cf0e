"""Shared fixtures: a fresh DuckDB warehouse, settings, and compact staging rows."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("RINGBACK_HOME", str(ROOT))
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

from ringback.settings import load_settings  # noqa: E402

from helpers import TEST_SALT, connect  # noqa: E402


@pytest.fixture(scope="session")
def demo_sources_without_spacing(tmp_path_factory) -> Path:
    """The demo's sources file with Binotel's one-second and HubSpot's quarter-second request
    spacing off: the spacing has its own test (test_sources.py); elsewhere it only makes tests
    wait."""
    import yaml

    doc = yaml.safe_load((ROOT / "config/sources.yaml").read_text())
    for source in doc["sources"]:
        if source["provider"] in ("binotel", "hubspot"):
            source["request_interval_seconds"] = 0
    path = tmp_path_factory.mktemp("config") / "sources.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch, demo_sources_without_spacing):
    """Each test gets its own batch folder; environment overrides never leak between tests."""
    monkeypatch.setenv("RINGBACK_CONFIG", str(demo_sources_without_spacing))
    monkeypatch.setenv("RINGBACK_BATCH_STORE_URL", str(tmp_path / "batches"))
    monkeypatch.setenv("RINGBACK_HASH_SALT", TEST_SALT)
    # Rebuilding Data Docs costs seconds per call; tests that check the docs turn it back on.
    monkeypatch.setenv("RINGBACK_BUILD_DATA_DOCS", "false")
    for key in list(os.environ):
        if key.startswith("RINGBACK_") and key not in (
            "RINGBACK_HOME",
            "RINGBACK_BATCH_STORE_URL",
            "RINGBACK_HASH_SALT",
            "RINGBACK_BUILD_DATA_DOCS",
            "RINGBACK_CONFIG",
        ):
            monkeypatch.delenv(key)


@pytest.fixture
def warehouse_url(tmp_path) -> str:
    return f"duckdb://{tmp_path}/warehouse.duckdb"


@pytest.fixture
def warehouse(warehouse_url):
    with connect(warehouse_url) as wh:
        wh.init()
        yield wh


@pytest.fixture
def settings():
    return load_settings()
