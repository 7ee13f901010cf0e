"""The bytes a daily models run reads on BigQuery, per model, for a business of N calls a year.

BigQuery bills a query by the columns it reads of the partitions it cannot prune, at each
type's logical size (INT64, FLOAT64, DATE, TIMESTAMP 8 bytes; BOOL 1; STRING and JSON 2 plus
their UTF-8 length; NULL 0), with a minimum of 10 MB per table a query references. This tool:

1. generates a year of calls at a small scale (the bench's generator), builds every model
   over it on DuckDB, and measures each table's rows per partition day and each column's
   average logical size;
2. runs a one-day ``models run`` (mart validation on) and records every statement it sends;
3. for each statement, finds with sqlglot the columns it reads of each table and the
   partition range its filters keep (each bound evaluated by GoogleSQL's engine with the run's
   parameters; a table read with no constant bound on its partition column is read whole);
4. scales rows to the calls a year asked for, and prints bytes per model and for the run.

Writes of the BigQuery backend (the staged table's swap into its partitions) read the staged
rows once more; they are counted as the ``write`` line of each model.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ringback import catalog

FIXED = {"INT64": 8, "FLOAT64": 8, "NUMERIC": 16, "BOOL": 1, "DATE": 8, "TIMESTAMP": 8}
MIN_BYTES_PER_TABLE = 10 * 1024**2  # on-demand pricing's minimum per table referenced
SAMPLE_CALLS = 200_000
# Tables with a row per call, lead, customer or record grow with calls; the others hold a row
# per business and date, hour, line or load, and keep the sample's size.
PER_CALL_KEYS = {
    "call_key",
    "unified_call_key",
    "lead_id",
    "crm_lead_key",
    "customer_number",
    "record_index",
    "provider_call_id",
}
DAYS = 365


@dataclass
class TableSize:
    rows: int
    days: int  # partition days present (1 for an unpartitioned table)
    column_bytes: dict[str, float]  # average logical bytes per row, per column

    def rows_per_day(self) -> float:
        return self.rows / max(self.days, 1)


@dataclass
class Read:
    table: str
    staged: bool = False  # a write's staged rows (the table beside the target)
    columns: set[str] = field(default_factory=set)
    first: dt.date | None = None  # partition range kept; None: unbounded on that side
    last: dt.date | None = None


def measure(wh: Any) -> dict[str, TableSize]:
    """Rows, partition days and per-column logical bytes of every table in the warehouse."""
    out = {}
    for ref, table in catalog.tables().items():
        parts = []
        for c in table.columns:
            if c.type in FIXED:
                parts.append(f"SUM(CASE WHEN {c.name} IS NULL THEN 0 ELSE {FIXED[c.type]} END)")
            else:
                parts.append(f"SUM(2 + OCTET_LENGTH(CAST({c.name} AS BYTES)))")
        days = f"COUNT(DISTINCT {table.partition_field})" if table.partition_field else "1"
        (row,) = wh.query(
            f"SELECT COUNT(*) AS n, {days} AS d, {', '.join(parts)} FROM {ref}"
        ).to_pylist()
        values = list(row.values())
        n = values[0] or 0
        out[ref] = TableSize(
            n,
            values[1] or 0,
            {
                c.name: (v or 0) / n if n else 0.0
                for c, v in zip(table.columns, values[2:], strict=True)
            },
        )
    return out


def _schema() -> dict[str, dict[str, dict[str, str]]]:
    from ringback_dev.googlesql import temp_name

    schema: dict[str, dict[str, dict[str, str]]] = defaultdict(dict)
    for table in catalog.tables().values():
        cols = {c.name: c.type for c in table.columns}
        schema[table.layer][table.name] = cols
        layer, name = temp_name(table).split(".")
        schema[layer][name] = cols
    for view in catalog.views().values():
        schema[catalog.VIEW_LAYER][view.name] = {c.name: c.type for c in view.columns}
    return schema


def _bound(expression: Any, params: dict[str, Any]) -> dt.date | None:
    """A constant expression's value, from GoogleSQL's engine with the run's parameters."""
    from ringback_dev.googlesql import Refused, googlesql

    try:
        (row,) = googlesql().execute(
            f"SELECT CAST({expression.sql(dialect='bigquery')} AS DATE) AS v", params, {}
        )
    except Refused:
        return None
    return row["v"]


def reads(sql: str, params: dict[str, Any]) -> list[Read]:
    """The tables ``sql`` reads, each with its columns and the partition range kept."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.optimizer.qualify import qualify
    from sqlglot.optimizer.scope import traverse_scope

    from ringback_dev.googlesql import temp_name

    twins = {temp_name(t): t.ref for t in catalog.tables().values()}
    out: list[Read] = []
    for statement in sqlglot.parse(sql, read="bigquery"):
        if statement is None:
            continue
        tree = qualify(
            statement,
            schema=_schema(),
            dialect="bigquery",
            validate_qualify_columns=False,
            quote_identifiers=False,
        )
        for scope in traverse_scope(tree):
            for alias, source in scope.selected_sources.items():
                node = source[1] if isinstance(source, tuple) else source
                if not isinstance(node, exp.Table) or not node.db:
                    continue
                ref = f"{node.db}.{node.name}"
                table = catalog.tables().get(twins.get(ref, ref))
                if table is None:
                    continue
                read = Read(table.ref, staged=ref in twins)
                read.columns = {c.name for c in scope.columns if c.table == alias}
                if table.partition_field:
                    _partition_range(read, scope, alias, table.partition_field, params)
                out.append(read)
    return out


def _partition_range(read: Read, scope: Any, alias: str, column: str, params: dict) -> None:
    from sqlglot import exp

    conditions = []
    where = scope.expression.args.get("where")
    if where is not None:
        conditions.append(where.this)
    conditions += [
        j.args["on"] for j in scope.expression.args.get("joins") or [] if j.args.get("on")
    ]

    def ours(node: Any) -> bool:
        return isinstance(node, exp.Column) and node.name == column and node.table == alias

    def constant(node: Any) -> bool:
        return not list(node.find_all(exp.Column))

    for condition in conditions:
        # only conjuncts bound the range: a bound inside an OR prunes nothing for sure
        for part in condition.flatten() if isinstance(condition, exp.And) else [condition]:
            if isinstance(part, exp.Between) and ours(part.this):
                if constant(part.args["low"]):
                    _tighten(read, low=_bound(part.args["low"], params))
                if constant(part.args["high"]):
                    _tighten(read, high=_bound(part.args["high"], params))
            elif isinstance(part, exp.GTE | exp.GT | exp.LTE | exp.LT | exp.EQ):
                left, right = part.this, part.expression
                if ours(right):
                    left, right = right, left
                    part = {exp.GTE: exp.LTE, exp.GT: exp.LT, exp.LTE: exp.GTE, exp.LT: exp.GT}.get(
                        type(part), exp.EQ
                    )(this=left, expression=right)
                if not ours(left) or not constant(right):
                    continue
                value = _bound(right, params)
                if isinstance(part, exp.GTE | exp.GT | exp.EQ):
                    _tighten(read, low=value)
                if isinstance(part, exp.LTE | exp.LT | exp.EQ):
                    _tighten(read, high=value)


def _tighten(read: Read, low: dt.date | None = None, high: dt.date | None = None) -> None:
    if low is not None and (read.first is None or low > read.first):
        read.first = low
    if high is not None and (read.last is None or high < read.last):
        read.last = high


@dataclass
class Line:
    origin: str
    statements: int = 0
    tables: set[str] = field(default_factory=set)
    scanned: float = 0.0  # bytes the filters and columns leave
    billed: float = 0.0  # with the 10 MB minimum per table referenced
    detail: list[str] = field(default_factory=list)  # one line per table read


def estimate(
    statements: list[Any],
    sizes: dict[str, TableSize],
    written: dict[str, int],
    scale: float,
    data: tuple[dt.date, dt.date],
) -> list[Line]:
    """Bytes per statement origin; ``written`` is the rows each model staged in the run."""
    lines: dict[str, Line] = {}
    for statement in statements:
        line = lines.setdefault(statement.origin, Line(statement.origin))
        line.statements += 1
        for read in reads(statement.sql, statement.params):
            size = sizes[read.table]
            table = catalog.tables()[read.table]
            width = sum(size.column_bytes.get(c, 0.0) for c in read.columns)
            grows = scale if PER_CALL_KEYS & set(table.column_names) else 1.0
            if read.staged:
                rows = written.get(read.table, 0) * grows
            elif table.partition_field:
                first = max(read.first or data[0], data[0])
                last = min(read.last or data[1], data[1])
                days = max((last - first).days + 1, 0)
                rows = size.rows_per_day() * days * grows
            else:
                rows = size.rows * grows
            line.tables.add(read.table)
            span = f"{read.first or '..'}..{read.last or '..'}" if table.partition_field else "all"
            line.detail.append(
                f"{'staged ' if read.staged else ''}{read.table} [{span}] {len(read.columns)} cols "
                f"{rows:,.0f} rows {rows * width / 1024**3:.3f} GiB"
            )
            line.scanned += rows * width
            line.billed += max(rows * width, MIN_BYTES_PER_TABLE)
    return list(lines.values())


def run(calls_per_year: int, sample_calls: int = SAMPLE_CALLS) -> list[Line]:
    from ringback import models
    from ringback.runtime import Runtime
    from ringback_dev.bench import LAST_DAY, step_prepare
    from ringback_dev.googlesql import recorded_statements

    first = LAST_DAY - dt.timedelta(days=DAYS - 1)
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "scan.duckdb")
        step_prepare(db, sample_calls, DAYS)
        built = Runtime.load(
            {"validate_marts": False, "build_data_docs": False, "warehouse_url": f"duckdb://{db}"}
        )
        with built.connect() as wh:
            models.run_models(wh, built, first, LAST_DAY)
            sizes = measure(wh)
            calls = sizes["staging.calls"].rows
        daily = Runtime.load(
            {"validate_marts": True, "build_data_docs": False, "warehouse_url": f"duckdb://{db}"}
        )
        with daily.connect() as wh, recorded_statements() as log:
            results = models.run_models(wh, daily, LAST_DAY, LAST_DAY)
    # staging rows ~= 1.8 x calls (a call is in one or both systems): scale by real calls
    scale = calls_per_year / sample_calls
    print(f"sample: {sample_calls:,} calls over {DAYS} days, {calls:,} staging.calls rows")
    written = {r.ref: r.rows for r in results}
    return estimate(log, sizes, written, scale, (first, LAST_DAY))


def _gb(value: float) -> str:
    return f"{value / 1024**3:8.3f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ringback-dev scan-bytes", description=__doc__)
    parser.add_argument("--calls", type=int, default=10_000_000, help="calls a year")
    parser.add_argument("--sample", type=int, default=SAMPLE_CALLS, help="calls generated")
    parser.add_argument("--detail", action="store_true", help="each table read of each line")
    args = parser.parse_args(argv)
    lines = run(args.calls, args.sample)
    print(f"\na one-day `ringback models run` for a business of {args.calls:,} calls a year")
    print(f"{'statement':58} {'n':>3} {'scanned GiB':>11} {'billed GiB':>10}  tables")
    for line in sorted(lines, key=lambda x: -x.scanned):
        print(
            f"{line.origin[:58]:58} {line.statements:3d} {_gb(line.scanned):>11} "
            f"{_gb(line.billed):>10}  {', '.join(sorted(line.tables))}"
        )
        for text in line.detail if args.detail else ():
            print(f"    {text}")
    scanned, billed = sum(x.scanned for x in lines), sum(x.billed for x in lines)
    n = sum(x.statements for x in lines)
    print(f"{'total':58} {n:3d} {_gb(scanned):>11} {_gb(billed):>10}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
