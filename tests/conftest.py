"""Shared fixtures: a fresh DuckDB warehouse, settings, and compact staging rows."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("RINGBACK_HOME", str(ROOT))
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

from ringback.settings import load_settings  # noqa: E402
from ringback.warehouse.base import connect  # noqa: E402

from helpers import TEST_SALT  # noqa: E402


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    """Each test gets its own batch folder; environment overrides never leak between tests."""
    monkeypatch.setenv("RINGBACK_BATCH_DIR", str(tmp_path / "batches"))
    monkeypatch.setenv("RINGBACK_HASH_SALT", TEST_SALT)
    # Rebuilding Data Docs costs seconds per call; tests that check the docs turn it back on.
    monkeypatch.setenv("RINGBACK_BUILD_DATA_DOCS", "false")
    for key in list(os.environ):
        if key.startswith("RINGBACK_") and key not in (
            "RINGBACK_HOME",
            "RINGBACK_BATCH_DIR",
            "RINGBACK_HASH_SALT",
            "RINGBACK_BUILD_DATA_DOCS",
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
