"""Warehouses: the interface (``base``) and its backends, found by the URL's scheme.

Backends are imported only when a URL names them, so DuckDB runs never import the BigQuery
client and ``base`` knows no backend.
"""

from __future__ import annotations

import importlib
from typing import Any

from ringback.warehouse.base import Warehouse, WarehouseError

# scheme -> "module:class"; a new backend is one entry here and one module.
BACKENDS = {
    "duckdb": "ringback.warehouse.duckdb:DuckDBWarehouse",
    "bigquery": "ringback.warehouse.bigquery:BigQueryWarehouse",
}


def connect(url: str, *, settings: Any, read_only: bool = False) -> Warehouse:
    """Open the warehouse a URL names (``duckdb:///path``, ``bigquery://project?location=EU``)
    with the run's settings (datasets, byte cap, credentials, DuckDB limits)."""
    scheme = url.split("://", 1)[0] if "://" in url else ""
    if scheme not in BACKENDS:
        raise WarehouseError(
            f"unsupported warehouse URL {url!r}: expected duckdb:///path/to/file.duckdb "
            "or bigquery://project?location=EU"
        )
    module, _, name = BACKENDS[scheme].partition(":")
    backend = getattr(importlib.import_module(module), name)
    return backend(url, read_only=read_only, settings=settings)


__all__ = ["BACKENDS", "Warehouse", "WarehouseError", "connect"]
