"""The warehouse interface every backend implements.

Callers speak BigQuery Standard SQL with ``@name`` parameters and name tables ``layer.name``;
a backend maps both to its own engine. Writes never append blindly: each names exactly which
rows it replaces, so a retried task leaves the same table.
"""

from __future__ import annotations

import abc
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from ringback.catalog import Table


class WarehouseError(RuntimeError):
    """A warehouse operation that failed in a way the caller should report as is."""


@dataclass(frozen=True)
class PartitionRange:
    """Replace the partitions ``start .. end`` (inclusive) of the table's partition field,
    for every business, or only for ``business_ids`` when given (``models run --business``)."""

    start: dt.date
    end: dt.date
    business_ids: tuple[str, ...] | None = None


class Warehouse(abc.ABC):
    """Schemas/datasets ``raw``, ``staging``, ``marts`` and the tables of ``sql/``."""

    url: str

    @abc.abstractmethod
    def init(self) -> list[str]:
        """Create every schema and table that is missing; return what was created."""

    @abc.abstractmethod
    def query(self, sql: str, params: dict[str, Any] | None = None) -> pa.Table:
        """Run a read-only BigQuery-dialect query and return its rows."""

    @abc.abstractmethod
    def write(
        self,
        table: Table,
        rows: pa.Table,
        *,
        partitions: PartitionRange | None = None,
        where: dict[str, Any] | None = None,
    ) -> int:
        """Write rows according to the table's write mode, atomically.

        ``partitions`` mode replaces exactly the given partition range (of the given businesses),
        ``upsert`` replaces rows with the same key, ``replace_where`` replaces rows whose
        ``where`` columns equal the given values, ``replace`` replaces the whole table, ``append``
        appends. Returns the number of rows written.
        """

    @abc.abstractmethod
    def run_model(
        self,
        table: Table,
        sql: str,
        params: dict[str, Any],
        partitions: PartitionRange | None,
        audit: Callable[[pa.Table], None] | None = None,
    ) -> int:
        """Run a model query (BigQuery dialect) and write its result into ``table``.

        The result is computed aside first; ``audit`` sees it and may raise, in which case
        nothing is written (write-audit-publish).
        """

    def apply_row_access(self) -> list[str]:
        """Make per-business row access match the sources file (BigQuery); nothing elsewhere."""
        return []

    @abc.abstractmethod
    def truncate(self, table: Table) -> None:
        """Remove every row of a model table (``models run --full-refresh``)."""

    def _check_write(self, table: Table, rows: pa.Table) -> None:
        if getattr(self, "read_only", False):
            raise WarehouseError("warehouse opened read-only")
        unknown = set(rows.column_names) - set(table.column_names)
        if unknown:
            raise WarehouseError(f"{table.ref} has no columns {sorted(unknown)}")

    @staticmethod
    def _check_truncate(table: Table) -> None:
        if table.kind != "model":
            raise WarehouseError(f"{table.ref} is loaded, not modelled; refusing to empty it")

    @abc.abstractmethod
    def close(self) -> None:
        """Release connections and locks."""

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def connect(url: str, *, read_only: bool = False, settings: Any = None) -> Warehouse:
    """Open the warehouse a URL names: ``duckdb:///path`` or ``bigquery://project?location=EU``."""
    if url.startswith("duckdb://"):
        from ringback.warehouse.duckdb import DuckDBWarehouse

        return DuckDBWarehouse(url, read_only=read_only)
    if url.startswith("bigquery://"):
        from ringback.warehouse.bigquery import BigQueryWarehouse

        return BigQueryWarehouse(url, read_only=read_only, settings=settings)
    raise WarehouseError(
        f"unsupported warehouse URL {url!r}: expected duckdb:///path/to/file.duckdb "
        "or bigquery://project?location=EU"
    )
