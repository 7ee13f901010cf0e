"""The warehouse interface every backend implements.

Callers speak BigQuery Standard SQL with ``@name`` parameters and name tables ``layer.name``;
a backend maps both to its own engine. Writes never append blindly: each names exactly which
rows it replaces, so a retried task leaves the same table.
"""

from __future__ import annotations

import abc
import datetime as dt
from collections.abc import Callable, Sequence
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


@dataclass(frozen=True)
class WritePlan:
    """How one write replaces rows, in BigQuery SQL with ``@`` parameters: the one definition
    of the write modes. BigQuery runs it as is; DuckDB transpiles it like any query."""

    # Queries that count offending incoming rows (any > 0 stops the write), with the message.
    checks: tuple[tuple[str, str], ...]
    delete: str | None
    insert: str
    params: dict[str, Any]

    def check_failure(self, count: Callable[[str, dict[str, Any]], int]) -> str | None:
        """The first failing check's message, counting with ``count(sql, params)``."""
        for sql, message in self.checks:
            if found := count(sql, self.params):
                return message.format(n=found)
        return None


def partition_scope(table: Table, partitions: PartitionRange, column: str | None = None) -> str:
    """The rows a partition write replaces: its dates (of ``column``, else the partition
    field), and its businesses when it names them."""
    scope = f"{column or table.partition_field} BETWEEN @p_start AND @p_end"
    if partitions.business_ids is not None:
        scope += " AND business_id IN UNNEST(@p_businesses)"
    return scope


def partition_params(partitions: PartitionRange) -> dict[str, Any]:
    params: dict[str, Any] = {"p_start": partitions.start, "p_end": partitions.end}
    if partitions.business_ids is not None:
        params["p_businesses"] = list(partitions.business_ids)
    return params


def write_plan(
    table: Table,
    target: str,
    source: str,
    partitions: PartitionRange | None,
    where: dict[str, Any] | None,
    key_dates: tuple[dt.date, dt.date] | None = None,
) -> WritePlan:
    """What replacing ``target`` with ``source`` means for the table's write mode:
    ``partitions`` replaces exactly a partition range (of some businesses), ``upsert`` rows with
    the same key, ``replace_where`` rows whose ``where`` columns match, ``replace`` everything;
    ``append`` only adds. ``key_dates`` bounds an upsert's delete to the batch's dates (a
    required partition filter on BigQuery)."""
    # Quoted: GoogleSQL reserves some words schema.yaml may use as column names (ROWS).
    columns = ", ".join(f"`{c}`" for c in table.column_names)
    checks: list[tuple[str, str]] = []
    params: dict[str, Any] = {}
    delete = None
    mode = table.write_mode
    if mode == "partitions":
        if partitions is None:
            raise WarehouseError(f"{table.ref} is written by partition; give the range")
        scope = partition_scope(table, partitions)
        params = partition_params(partitions)
        which = (
            f" for businesses {', '.join(partitions.business_ids)}"
            if partitions.business_ids is not None
            else ""
        )
        checks.append(
            (
                f"SELECT COUNT(*) FROM {source} "
                f"WHERE {table.partition_field} IS NULL OR NOT ({scope})",
                f"{{n}} rows for {table.ref} fall outside the partitions "
                f"{partitions.start}..{partitions.end} being replaced{which}; nothing was written",
            )
        )
        delete = f"DELETE FROM {target} WHERE {scope}"
    elif mode == "upsert":
        keys = ", ".join(table.key)
        checks.append(
            (
                f"SELECT COUNT(*) FROM (SELECT {keys} FROM {source} GROUP BY {keys} "
                "HAVING COUNT(*) > 1)",
                f"{{n}} duplicate keys ({keys}) in rows for {table.ref}",
            )
        )
        # A correlated EXISTS rather than STRUCT(...) IN (SELECT AS STRUCT ...): the same on
        # BigQuery, and what DuckDB and the local BigQuery emulator run too.
        match = (
            f"EXISTS (SELECT 1 FROM {source} AS incoming WHERE "
            + " AND ".join(f"incoming.{k} = existing.{k}" for k in table.key)
            + ")"
            if len(table.key) > 1
            else f"{keys} IN (SELECT {keys} FROM {source})"
        )
        if table.replaces_dates and partitions is not None:
            # In parentheses: a key_dates bound below applies to both alternatives.
            match = f"({match} OR {partition_scope(table, partitions, table.replaces_dates)})"
            params |= partition_params(partitions)
        delete = f"DELETE FROM {target} AS existing WHERE {match}"
        if table.partition_field and key_dates:
            # A key's rows live in the dates of its batch (a provider's window), a day either
            # side for time-zone edges.
            delete += (
                f" AND {table.partition_field} BETWEEN DATE_SUB(@k_start, INTERVAL 1 DAY)"
                " AND DATE_ADD(@k_end, INTERVAL 1 DAY)"
            )
            params |= {"k_start": key_dates[0], "k_end": key_dates[1]}
    elif mode == "replace_where":
        if not where or set(where) != set(table.replace_columns):
            raise WarehouseError(
                f"{table.ref} replaces rows by {list(table.replace_columns)}; got {where}"
            )
        delete = f"DELETE FROM {target} WHERE " + " AND ".join(
            f"`{c}` = @w_{c}" for c in table.replace_columns
        )
        params = {f"w_{c}": where[c] for c in table.replace_columns}
    elif mode == "replace":
        delete = f"DELETE FROM {target} WHERE TRUE"
    elif mode != "append":
        raise WarehouseError(f"{table.ref}: unknown write mode {mode!r}")
    insert = f"INSERT INTO {target} ({columns}) SELECT {columns} FROM {source}"
    return WritePlan(tuple(checks), delete, insert, params)


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
        audit: Callable[[str], None] | None = None,
    ) -> int:
        """Run a model query (BigQuery dialect) and write its result into ``table``.

        The result is computed aside first; ``audit`` gets the name of that relation (``query``
        can read it) and may raise, in which case nothing is written (write-audit-publish).
        """

    def apply_row_access(self, businesses: Sequence[Any]) -> list[str]:
        """Make per-business row access match the businesses' viewers (BigQuery); nothing
        elsewhere."""
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

    @abc.abstractmethod
    def clear_marks(self, table: Table, column: str, until: dt.datetime) -> None:
        """Remove the rows of a bookkeeping table whose timestamp ``column`` is at or before
        ``until`` (marks a finished run has dealt with), in one statement."""

    def _clear_marks_sql(self, table: Table, column: str, target: str) -> str:
        if getattr(self, "read_only", False):
            raise WarehouseError("warehouse opened read-only")
        if table.kind != "load" or table.column(column).type != "TIMESTAMP":
            raise WarehouseError(f"{table.ref}.{column} is not a load table's mark time")
        return f"DELETE FROM {target} WHERE `{column}` <= @until"

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
