"""DuckDB backend: the embedded default, a single file, nothing to install or start.

Queries arrive in BigQuery Standard SQL and are transpiled with sqlglot. The session time zone is
UTC, which the transpiled ``DATE(ts, tz)`` relies on. DuckDB lets one process write a file at a
time and refuses readers while it does, so every connection first takes a lock file (exclusive
for writers, shared for readers) and waits for its turn instead of failing.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import functools
import hashlib
import json
import logging
import os
import time
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import sqlglot
from sqlglot import exp

from ringback import catalog
from ringback.catalog import Table
from ringback.settings import DEFAULT_BUSINESS_ID
from ringback.warehouse.base import PartitionRange, Warehouse, WarehouseError, write_plan

log = logging.getLogger(__name__)

DUCKDB_TYPES = {
    "STRING": "VARCHAR",
    "INT64": "BIGINT",
    "FLOAT64": "DOUBLE",
    "BOOL": "BOOLEAN",
    "TIMESTAMP": "TIMESTAMPTZ",
    "DATE": "DATE",
    "JSON": "JSON",
}


def duckdb_path(url: str) -> Path:
    """The file a ``duckdb://`` URL names.

    ``duckdb:////abs/file.duckdb`` is absolute. ``duckdb:///x/file.duckdb`` is absolute when
    ``/x`` exists on this machine (``/tmp/...``, ``/home/...``) and relative to the working
    directory otherwise (``duckdb:///data/ringback.duckdb``), so both common spellings work.
    """
    rest = url.removeprefix("duckdb://").split("?", 1)[0]
    if not rest or rest == "/":
        raise WarehouseError(f"warehouse URL {url!r} names no file")
    if rest.startswith("//"):
        return Path(rest[1:])
    relative = rest.lstrip("/")
    first = relative.split("/", 1)[0]
    if rest.startswith("/") and first and Path("/", first).exists():
        return Path("/", relative)
    return Path.cwd() / relative


@functools.lru_cache(maxsize=512)
def to_duckdb_sql(sql: str) -> tuple[str, frozenset[str]]:
    """Transpile BigQuery SQL to DuckDB; return it with the parameter names it uses.

    Cached in the process and on disk (``~/.cache/ringback/duckdb-sql``, or under
    ``XDG_CACHE_HOME``; ``RINGBACK_TRANSPILE_CACHE=0`` turns it off): a command transpiles about
    40 statements (models, writes, audits, views), which costs sqlglot about a second in every
    process, while the texts change only with the code. The key covers the text, sqlglot's
    version and this module's source (the DuckDB forms below)."""
    key = hashlib.sha256(f"{_code_version()}\0{sql}".encode()).hexdigest()
    cached = _cache_dir() / f"{key}.json" if _cache_dir() else None
    if cached is not None:
        with contextlib.suppress(OSError, ValueError, KeyError):
            hit = json.loads(cached.read_text())
            return hit["sql"], frozenset(hit["names"])
    result = _transpile(sql)
    if cached is not None:
        with contextlib.suppress(OSError):  # a read-only home only loses the cache
            cached.parent.mkdir(parents=True, exist_ok=True)
            temp = cached.with_suffix(f".{os.getpid()}.tmp")
            temp.write_text(json.dumps({"sql": result[0], "names": sorted(result[1])}))
            temp.replace(cached)
    return result


@functools.cache
def _code_version() -> str:
    return f"{sqlglot.__version__}:{hashlib.sha256(Path(__file__).read_bytes()).hexdigest()}"


@functools.cache
def _cache_dir() -> Path | None:
    if os.environ.get("RINGBACK_TRANSPILE_CACHE", "1") == "0":
        return None
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "ringback" / "duckdb-sql"


def _transpile(sql: str) -> tuple[str, frozenset[str]]:
    statements = sqlglot.parse(sql, read="bigquery")
    names: set[str] = set()
    out = []
    for statement in statements:
        if statement is None:
            continue
        names |= {p.name for p in statement.find_all(exp.Parameter)}
        names |= {p.name for p in statement.find_all(exp.Placeholder) if p.name}
        out.append(statement.transform(_duckdb_forms).sql(dialect="duckdb"))
    return ";\n".join(out), frozenset(names)


# DuckDB forms of BigQuery functions that sqlglot's default spelling makes slow or subtly
# different. The sql/ files stay BigQuery; these are the only DuckDB-specific forms, each tested
# equal to BigQuery's semantics in tests/sql/test_warehouse.py and run by every SQL fixture case.
# On TIMESTAMPTZ, DuckDB's DATE_TRUNC / DATE_DIFF go through ICU calendars: 10-30x slower than
# integer arithmetic on epoch microseconds, which is exact for a UTC session.
_DUCKDB_TEMPLATES = {
    # floor to the second, also before 1970 (DuckDB's % keeps the dividend's sign)
    "trunc_second": "MAKE_TIMESTAMPTZ(EPOCH_US(__a) - ((EPOCH_US(__a) % 1000000) + 1000000) "
    "% 1000000)",
    # BigQuery counts whole seconds between the two (truncated toward zero); DuckDB's DATE_DIFF
    # counts second boundaries crossed, which differs for fractional seconds
    "diff_seconds": "CAST(TRUNC((EPOCH_US(__a) - EPOCH_US(__b)) / 1000000) AS BIGINT)",
    "local_date": "CAST(TIMEZONE(__b, __a) AS DATE)",
    # FORMAT_TIMESTAMP(fmt, ts, zone): sqlglot drops the zone; format the local time instead
    "local_format": "STRFTIME(TIMEZONE(__b, __a), __c)",
}


@functools.cache
def _template(name: str) -> exp.Expression:
    return sqlglot.parse_one(_DUCKDB_TEMPLATES[name], read="duckdb")


def _fill(name: str, **args: exp.Expression) -> exp.Expression:
    def put(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column) and node.name in ("__a", "__b", "__c") and not node.table:
            return args[node.name[2:]].transform(_duckdb_forms)
        return node

    return _template(name).copy().transform(put)


def _unit(node: exp.Expression) -> str:
    unit = node.args.get("unit")
    return unit.name.upper() if unit is not None else ""


def _duckdb_forms(node: exp.Expression) -> exp.Expression:
    # BigQuery's COUNTIF is an INT64 that is 0 when no row is TRUE; DuckDB's COUNT_IF is a
    # HUGEINT (which views would pass on) and NULL when every input is NULL or there is none.
    counted = isinstance(node, exp.CountIf) and not isinstance(
        node.parent, exp.Window | exp.Coalesce
    )
    if counted or (
        isinstance(node, exp.Window)
        and isinstance(node.this, exp.CountIf)
        and not isinstance(node.parent, exp.Coalesce)
    ):
        zero = exp.Coalesce(this=node.copy(), expressions=[exp.Literal.number(0)])
        return exp.cast(zero, exp.DataType.build("BIGINT"))
    if isinstance(node, exp.TimestampTrunc) and _unit(node) == "SECOND":
        return _fill("trunc_second", a=node.this.copy())
    if isinstance(node, exp.TimestampDiff) and _unit(node) == "SECOND":
        return _fill("diff_seconds", a=node.this.copy(), b=node.expression.copy())
    if isinstance(node, exp.Date) and node.args.get("zone") is not None and not node.expressions:
        return _fill("local_date", a=node.this.copy(), b=node.args["zone"].copy())
    if isinstance(node, exp.TimeToStr) and node.args.get("zone") is not None:
        ts = node.this.this if isinstance(node.this, exp.TsOrDsToTimestamp) else node.this
        return _fill(
            "local_format", a=ts.copy(), b=node.args["zone"].copy(), c=node.args["format"].copy()
        )
    return node


def _as_bigquery_types(result: pa.Table) -> pa.Table:
    """DuckDB sums integers into HUGEINT (decimal(38,0) in Arrow); BigQuery into INT64."""
    fields = [
        pa.field(f.name, pa.int64(), f.nullable)
        if pa.types.is_decimal(f.type) and f.type.scale == 0
        else f
        for f in result.schema
    ]
    return result.cast(pa.schema(fields)) if fields != list(result.schema) else result


def _column_ddl(table: Table) -> str:
    return ",\n  ".join(
        f"{c.name} {DUCKDB_TYPES[c.type]}{' NOT NULL' if c.required else ''}" for c in table.columns
    )


def _needs_business(table: Table, have: dict[str, Any]) -> bool:
    """A table laid out before businesses existed (the table contract puts business_id first)."""
    return bool(have) and "business_id" in table.column_names and "business_id" not in have


def _literal(text: str) -> str:
    return exp.Literal.string(text).sql(dialect="duckdb")


class DuckDBWarehouse(Warehouse):
    def __init__(self, url: str, *, read_only: bool = False, settings: Any) -> None:
        self.url = url
        # DuckDB 2.x writes a storage format 1.x clients cannot open ("version number 999"):
        # new files use duckdb_storage_version (1.0) so analysts' DuckDB 1.x can read them.
        self.storage_version = settings.duckdb_storage_version
        self.lock_timeout = float(settings.duckdb_lock_timeout_seconds)
        # DuckDB takes up to 80 % of RAM by default and spills beyond a limit: set one where
        # the pipeline shares the machine.
        self.memory_limit = settings.duckdb_memory_limit
        self.path = duckdb_path(url)
        self.read_only = read_only
        self._lock_file = None
        if read_only and not self.path.exists():
            raise WarehouseError(
                f"warehouse file {self.path} does not exist; run `ringback init` first"
            )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._acquire_lock(shared=read_only)
        try:
            config = {} if read_only else {"storage_compatibility_version": self.storage_version}
            self.con = duckdb.connect(str(self.path), read_only=read_only, config=config)
        except duckdb.IOException as exc:
            self._release_lock()
            raise WarehouseError(f"cannot open {self.path}: {exc}") from exc
        self.con.execute("SET TimeZone = 'UTC'")
        if self.memory_limit:
            self.con.execute("SET memory_limit = ?", [self.memory_limit])

    # -- locking -------------------------------------------------------------------------
    def _acquire_lock(self, *, shared: bool) -> None:
        lock_path = self.path.with_name(self.path.name + ".lock")
        mode = fcntl.LOCK_SH if shared else fcntl.LOCK_EX
        try:
            self._lock_file = open(lock_path, "a+")  # noqa: SIM115 - held for the object's life
        except PermissionError:
            if not shared:
                raise
            return  # a reader of a folder it cannot write to: DuckDB's own lock still applies
        deadline = time.monotonic() + self.lock_timeout
        waited = False
        while True:
            try:
                fcntl.flock(self._lock_file, mode | fcntl.LOCK_NB)
                if waited:
                    log.info("got the lock on %s", self.path)
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    self._lock_file.close()
                    self._lock_file = None
                    raise WarehouseError(
                        f"waited {self.lock_timeout:.0f} s for the lock on {self.path}; "
                        "is another pipeline run or a reader holding the file?"
                    ) from None
                if not waited:
                    log.info(
                        "waiting for the %s lock on %s (another process has the file)",
                        "reader" if shared else "writer",
                        self.path,
                    )
                    waited = True
                time.sleep(0.2)

    def _release_lock(self) -> None:
        if self._lock_file is not None:
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)
            self._lock_file.close()
            self._lock_file = None

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.con.close()
        self._release_lock()

    # -- schema --------------------------------------------------------------------------
    def init(self) -> list[str]:
        created: list[str] = []
        for layer in (*catalog.LAYERS, catalog.VIEW_LAYER):
            self.con.execute(f"CREATE SCHEMA IF NOT EXISTS {layer}")
        # What is there, read once: tables with their comments, columns with theirs.
        comments = {
            (s, t): c
            for s, t, c in self.con.execute(
                "SELECT schema_name, table_name, comment FROM duckdb_tables()"
            ).fetchall()
        }
        columns: dict[tuple[str, str], dict[str, str | None]] = {}
        for s, t, col, c in self.con.execute(
            "SELECT schema_name, table_name, column_name, comment FROM duckdb_columns()"
        ).fetchall():
            columns.setdefault((s, t), {})[col] = c
        for table in catalog.tables().values():
            have = columns.get((table.layer, table.name), {})
            if (table.layer, table.name) in comments and _needs_business(table, have):
                created += self._migrate_to_businesses(table, have)
                have = {c.name: None for c in table.columns}
            elif (table.layer, table.name) in comments:
                created += self._add_missing_columns(table, set(have))
            else:
                self.con.execute(f"CREATE TABLE {table.ref} (\n  {_column_ddl(table)}\n)")
                created.append(table.ref)
            self._describe("TABLE", table, comments.get((table.layer, table.name)), have)
        for view in catalog.views().values():
            # Views hold no data: replacing them on every init keeps them equal to view.sql
            # (atomically; the replaced view starts without comments).
            duck_sql, params = to_duckdb_sql(view.sql)
            if params:
                raise WarehouseError(f"{view.ref}: a view cannot take parameters ({params})")
            self.con.execute(f"CREATE OR REPLACE VIEW {view.ref} AS {duck_sql}")
            self._describe("VIEW", view, None, {})
        return created

    def _describe(
        self,
        kind: str,
        table: catalog.Table | catalog.View,
        comment: str | None,
        column_comments: dict[str, str | None],
    ) -> None:
        """Apply the descriptions of schema.yaml/metadata.yaml where the warehouse's differ
        (they may have been edited since the table was made)."""
        # COMMENT ON takes no parameters; descriptions are our own metadata, quoted safely.
        if comment != table.description:
            self.con.execute(f"COMMENT ON {kind} {table.ref} IS {_literal(table.description)}")
        for c in table.columns:
            if column_comments.get(c.name) != c.description:
                self.con.execute(
                    f"COMMENT ON COLUMN {table.ref}.{c.name} IS {_literal(c.description)}"
                )

    def _migrate_to_businesses(self, table: Table, have: dict[str, Any]) -> list[str]:
        """A table from before businesses: rebuild it with business_id first, every row in the
        business ``default``, in one transaction; nothing else changes."""
        temp = f"_{table.name}_with_business"
        self.con.execute("BEGIN TRANSACTION")
        try:
            self.con.execute(f"DROP TABLE IF EXISTS {table.layer}.{temp}")
            self.con.execute(f"CREATE TABLE {table.layer}.{temp} (\n  {_column_ddl(table)}\n)")
            self.con.execute(
                f"INSERT INTO {table.layer}.{temp} BY NAME SELECT "
                f"{_literal(DEFAULT_BUSINESS_ID)} AS business_id, * FROM {table.ref}"
            )
            moved = self.con.execute(f"SELECT count(*) FROM {table.ref}").fetchall()[0][0]
            self.con.execute(f"DROP TABLE {table.ref}")
            self.con.execute(f"ALTER TABLE {table.layer}.{temp} RENAME TO {table.name}")
            self.con.execute("COMMIT")
        except Exception:
            self.con.execute("ROLLBACK")
            raise
        log.warning(
            "%s: upgraded to businesses (%d rows now in business %r)",
            table.ref,
            moved,
            DEFAULT_BUSINESS_ID,
        )
        return [f"{table.ref}.{c.name}" for c in table.columns if c.name not in have]

    def _add_missing_columns(self, table: Table, have: set[str]) -> list[str]:
        added = []
        for c in table.columns:
            if c.name not in have:
                self.con.execute(
                    f"ALTER TABLE {table.ref} ADD COLUMN {c.name} {DUCKDB_TYPES[c.type]}"
                )
                added.append(f"{table.ref}.{c.name}")
        return added

    # -- reads ---------------------------------------------------------------------------
    def query(self, sql: str, params: dict[str, Any] | None = None) -> pa.Table:
        duck_sql, names = to_duckdb_sql(sql)
        bound = {k: v for k, v in (params or {}).items() if k in names}
        if missing := names - bound.keys():
            raise WarehouseError(f"query needs parameters {sorted(missing)}")
        return _as_bigquery_types(self.con.sql(duck_sql, params=bound).to_arrow_table())

    def truncate(self, table: Table) -> None:
        self._check_truncate(table)
        self.con.execute(f"DELETE FROM {table.ref}")

    def clear_marks(self, table: Table, column: str, until: dt.datetime) -> None:
        duck_sql, _ = to_duckdb_sql(self._clear_marks_sql(table, column, table.ref))
        self.con.execute(duck_sql, {"until": until})

    # -- writes --------------------------------------------------------------------------
    def write(self, table, rows, *, partitions=None, where=None) -> int:
        self._check_write(table, rows)
        self.con.register("_incoming", rows)
        try:
            return self._replace_from("_incoming", table, partitions, where)
        finally:
            self.con.unregister("_incoming")

    def run_model(self, table, sql, params, partitions, audit=None) -> int:
        duck_sql, names = to_duckdb_sql(sql)
        bound = {k: v for k, v in params.items() if k in names}
        if missing := names - bound.keys():
            raise WarehouseError(f"model {table.ref} needs parameters {sorted(missing)}")
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE _model_out AS {duck_sql}", bound)
        try:
            produced = [r[0] for r in self.con.execute("DESCRIBE _model_out").fetchall()]
            if produced != table.column_names:
                raise WarehouseError(
                    f"model {table.ref} returns columns {produced}, but its schema.yaml lists "
                    f"{table.column_names}; keep query and schema in step"
                )
            if audit is not None:
                audit("_model_out")
            return self._replace_from("_model_out", table, partitions, None)
        finally:
            self.con.execute("DROP TABLE IF EXISTS _model_out")

    def _replace_from(
        self,
        source: str,
        table: Table,
        partitions: PartitionRange | None,
        where: dict[str, Any] | None,
    ) -> int:
        """Replace what ``source`` replaces (base.write_plan), in one transaction."""
        plan = write_plan(table, table.ref, source, partitions, where)
        if failed := plan.check_failure(self._count):
            raise WarehouseError(failed)
        self.con.execute("BEGIN TRANSACTION")
        try:
            for statement in (plan.delete, plan.insert):
                if statement:
                    self._execute(statement, plan.params)
            written = self.con.execute(f"SELECT count(*) FROM {source}").fetchall()[0][0]
            self.con.execute("COMMIT")
        except Exception:
            self.con.execute("ROLLBACK")
            raise
        return written

    def _execute(self, sql: str, params: dict[str, Any]) -> Any:
        duck_sql, names = to_duckdb_sql(sql)
        return self.con.execute(duck_sql, {k: v for k, v in params.items() if k in names})

    def _count(self, sql: str, params: dict[str, Any]) -> int:
        return int(self._execute(sql, params).fetchall()[0][0])
