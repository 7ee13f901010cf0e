"""GoogleSQL's own analyzer and reference engine (ZetaSQL, the ``zetasql`` package) over
ringback's tables: the judge of what BigQuery accepts and what it computes.

The DuckDB warehouse and the local BigQuery emulator both run DuckDB underneath, so neither can
say that BigQuery would accept a query or give the same rows. ZetaSQL is the GoogleSQL front end
BigQuery is built on, with a reference implementation that executes the resolved query; the
package runs it as WebAssembly (wasmtime): no server, nothing downloaded at run time.

- ``GoogleSQL.analyze(sql, params)``: the statement as BigQuery receives it (tables qualified as
  the BigQuery backend qualifies them, parameters typed as it binds them), analysed against a
  catalog built from every ``schema.yaml`` and every analytics view. A refusal raises
  ``Refused`` with ZetaSQL's message.
- ``GoogleSQL.execute(sql, params, contents)``: the same statement run by the reference engine
  over the given table contents; rows as dicts of Python values.

Language: every released GoogleSQL feature (``LanguageOptions`` maximum features) in external
product mode (BigQuery's types: no INT32, UINT64 or FLOAT), with pipe syntax off, and the
time zone UTC (BigQuery's default for ``DATE(ts)`` and friends). The package cannot select
"exactly BigQuery's features"; docs/bigquery.md says what that leaves open.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ringback import catalog

PROJECT = "ringback_project"  # any project name: the catalog ignores it after qualification
_KINDS = {
    "STRING": "TYPE_STRING",
    "INT64": "TYPE_INT64",
    "FLOAT64": "TYPE_DOUBLE",
    "BOOL": "TYPE_BOOL",
    "TIMESTAMP": "TYPE_TIMESTAMP",
    "DATE": "TYPE_DATE",
    "JSON": "TYPE_JSON",
}
EPOCH = dt.date(1970, 1, 1)


class Refused(Exception):
    """GoogleSQL refused a statement (its message says why)."""


def temp_name(table: catalog.Table) -> str:
    """The relation a write or a model build stages its rows in before the swap: on BigQuery a
    ``_ringback_tmp_<table>_...`` table in the target's dataset with the target's columns."""
    return f"{table.layer}._ringback_tmp_{table.name}"


@functools.cache
def _service() -> Any:
    """The package's WebAssembly service, compiled once per machine: wasmtime's own compile
    cache (``~/.cache/wasmtime``) turns the 28 MB module's ~25 s compile into ~1 s loads."""
    import wasmtime
    import zetasql.core.wasm_client as wasm_client

    class CachedConfig(wasmtime.Config):
        def __init__(self) -> None:
            super().__init__()
            self.cache = True

    wasm_client.Config = CachedConfig  # the package builds its engine from this name
    from zetasql.core.local_service import ZetaSqlLocalService

    return ZetaSqlLocalService.get_instance()


def _pb() -> Any:
    """The package's protobuf modules, imported after the service (which sets them up)."""
    _service()
    from zetasql.wasi._pb2.zetasql.local_service import local_service_pb2
    from zetasql.wasi._pb2.zetasql.proto import options_pb2, simple_catalog_pb2
    from zetasql.wasi._pb2.zetasql.public import (
        options_pb2 as public_options_pb2,
    )
    from zetasql.wasi._pb2.zetasql.public import (
        parse_resume_location_pb2,
        simple_table_pb2,
        type_pb2,
        value_pb2,
    )

    class PB:
        local = local_service_pb2
        options = options_pb2
        catalog = simple_catalog_pb2
        public = public_options_pb2
        resume = parse_resume_location_pb2
        table = simple_table_pb2
        type = type_pb2
        value = value_pb2

    return PB


@functools.cache
def language_options() -> Any:
    """GoogleSQL's released features in external mode (BigQuery's type system), pipes off."""
    pb = _pb()
    lang = _service().get_language_options(maximum_features=True).to_proto()
    lang.product_mode = pb.public.PRODUCT_EXTERNAL
    pipes = [
        f for f in lang.enabled_language_features if "PIPE" in pb.public.LanguageFeature.Name(f)
    ]
    kept = [f for f in lang.enabled_language_features if f not in pipes]
    del lang.enabled_language_features[:]
    lang.enabled_language_features.extend(kept)
    del lang.supported_statement_kinds[:]  # every statement kind (DDL, DML, transactions)
    # QUALIFY unreserved: GoogleSQL's stricter grammar, where QUALIFY needs a WHERE, GROUP BY or
    # HAVING beside it. A query valid there is valid whether or not an engine reserves it.
    del lang.reserved_keywords[:]
    return lang


def flat_name(layer: str, name: str) -> str:
    return f"{layer}__{name}"


_QUALIFIED = re.compile(rf"`?{PROJECT}`?\.`?(raw|staging|marts|{catalog.VIEW_LAYER})`?\.`?(\w+)`?")


def as_bigquery_receives(sql: str, *, as_is: bool = False) -> str:
    """The statement as the BigQuery backend sends it (``qualify``: sqlglot's BigQuery SQL with
    ``project.dataset.table`` names; ``as_is`` for the backend's own statements, which name
    their tables in full already), with each table named by its catalog entry."""
    from ringback.warehouse.bigquery import qualify

    layers = {layer: layer for layer in (*catalog.LAYERS, catalog.VIEW_LAYER)}
    qualified = sql if as_is else qualify(sql, PROJECT, layers)
    return _QUALIFIED.sub(lambda m: flat_name(m.group(1), m.group(2)), qualified)


def parameter_types(params: dict[str, Any] | None) -> dict[str, tuple[str, bool]]:
    """name -> (BigQuery type, is array), as the BigQuery backend binds each value."""
    from ringback.warehouse.bigquery import query_parameters

    out: dict[str, tuple[str, bool]] = {}
    for p in query_parameters(params or {}):
        if hasattr(p, "array_type"):
            out[p.name] = (p.array_type, True)
        else:
            out[p.name] = (p.type_, False)
    return out


def _type(pb: Any, kind: str, array: bool = False) -> Any:
    scalar = pb.type.TypeProto(type_kind=getattr(pb.type, _KINDS[kind]))
    if not array:
        return scalar
    return pb.type.TypeProto(
        type_kind=pb.type.TYPE_ARRAY, array_type=pb.type.ArrayTypeProto(element_type=scalar)
    )


def _to_value(pb: Any, value: Any, kind: str) -> Any:
    if value is None:
        return pb.value.ValueProto()
    if isinstance(value, list | tuple):
        return pb.value.ValueProto(
            array_value=pb.value.ValueProto.Array(element=[_to_value(pb, v, kind) for v in value])
        )
    if kind == "STRING":
        return pb.value.ValueProto(string_value=str(value))
    if kind == "JSON":
        return pb.value.ValueProto(json_value=str(value))
    if kind == "INT64":
        return pb.value.ValueProto(int64_value=int(value))
    if kind == "FLOAT64":
        return pb.value.ValueProto(double_value=float(value))
    if kind == "BOOL":
        return pb.value.ValueProto(bool_value=bool(value))
    if kind == "DATE":
        return pb.value.ValueProto(date_value=(value - EPOCH).days)
    if kind == "TIMESTAMP":
        from google.protobuf import timestamp_pb2

        ts = timestamp_pb2.Timestamp()
        ts.FromDatetime(value.astimezone(dt.UTC).replace(tzinfo=None))
        return pb.value.ValueProto(timestamp_value=ts)
    raise TypeError(f"no GoogleSQL value for {kind}")


def _from_value(pb: Any, value: Any, type_proto: Any) -> Any:
    which = value.WhichOneof("value")
    if which is None:
        return None
    if which == "array_value":
        element = type_proto.array_type.element_type
        return [_from_value(pb, v, element) for v in value.array_value.element]
    if which == "date_value":
        return EPOCH + dt.timedelta(days=value.date_value)
    if which == "timestamp_value":
        ts = value.timestamp_value
        return dt.datetime.fromtimestamp(ts.seconds, dt.UTC) + dt.timedelta(
            microseconds=ts.nanos // 1000
        )
    if which == "struct_value":
        return tuple(
            _from_value(pb, v, f.field_type)
            for v, f in zip(value.struct_value.field, type_proto.struct_type.field, strict=True)
        )
    return getattr(value, which)


def _kind_of(pb: Any, type_proto: Any) -> str:
    names = {getattr(pb.type, v): k for k, v in _KINDS.items()}
    return names.get(type_proto.type_kind, "STRING")


class GoogleSQL:
    """A ZetaSQL catalog of ringback's tables (and their write-stage twins) and views."""

    def __init__(self) -> None:
        self.pb = _pb()
        self.columns: dict[str, list[tuple[str, str]]] = {}
        for table in catalog.tables().values():
            cols = [(c.name, c.type) for c in table.columns]
            self.columns[flat_name(table.layer, table.name)] = cols
            stage_layer, stage_name = temp_name(table).split(".")
            self.columns[flat_name(stage_layer, stage_name)] = cols
        self._catalog = None
        self._registered: tuple[Any, int] | None = None
        self.view_columns: dict[str, list[tuple[str, str]]] = {}
        self.view_refusals: dict[str, str] = {}  # a view GoogleSQL refuses is left out
        for view in catalog.views().values():
            try:
                out = self.output_columns(view.sql, {})
            except Refused as exc:
                self.view_refusals[view.ref] = str(exc)
                continue
            self.view_columns[view.ref] = out
            self.columns[flat_name(catalog.VIEW_LAYER, view.name)] = out
            self._catalog = None

    # -- catalog and options -----------------------------------------------------------------
    def catalog_proto(self) -> Any:
        if self._catalog is None:
            pb = self.pb
            tables = [
                pb.table.SimpleTableProto(
                    name=name,
                    column=[
                        pb.table.SimpleColumnProto(name=c, type=_type(pb, kind)) for c, kind in cols
                    ],
                )
                for name, cols in sorted(self.columns.items())
            ]
            self._catalog = pb.catalog.SimpleCatalogProto(
                name="bigquery",
                table=tables,
                builtin_function_options=pb.options.ZetaSQLBuiltinFunctionOptionsProto(
                    language_options=language_options()
                ),
            )
        return self._catalog

    def registered_catalog(self) -> int:
        """The catalog registered with the service once (analysis reads no table contents):
        each analysis then skips re-building GoogleSQL's built-in functions."""
        if self._registered is None or self._registered[0] is not self.catalog_proto():
            pb = self.pb
            response = self._call(
                "ZetaSqlLocalService_RegisterCatalog",
                pb.local.RegisterCatalogRequest(simple_catalog=self.catalog_proto()),
                pb.local.RegisterResponse,
            )
            self._registered = (self.catalog_proto(), response.registered_id)
        return self._registered[1]

    def options(self, params: dict[str, Any] | None) -> Any:
        pb = self.pb
        return pb.options.AnalyzerOptionsProto(
            language_options=language_options(),
            default_timezone="UTC",
            query_parameters=[
                pb.options.AnalyzerOptionsProto.QueryParameterProto(
                    name=name, type=_type(pb, kind, array)
                )
                for name, (kind, array) in parameter_types(params).items()
            ],
        )

    def _call(self, method: str, request: Any, response: Any) -> Any:
        try:
            return _service().wasm_client.call_grpc_func(method, request, response)
        except Exception as exc:  # the service raises its status as a plain error
            raise Refused(str(exc)) from None

    # -- analysis ----------------------------------------------------------------------------
    def analyze(
        self, sql: str, params: dict[str, Any] | None = None, *, as_is: bool = False
    ) -> list[Any]:
        """Analyse every statement of ``sql`` (a script is analysed statement by statement);
        return the resolved statements. Raises ``Refused``."""
        pb = self.pb
        text = as_bigquery_receives(sql, as_is=as_is)
        options = self.options(params)
        resolved, position = [], 0
        while position < len(text.encode()) and text.encode()[position:].strip(b" \n\t;"):
            request = pb.local.AnalyzeRequest(
                options=options,
                registered_catalog_id=self.registered_catalog(),
                parse_resume_location=pb.resume.ParseResumeLocationProto(
                    input=text, byte_position=position, allow_resume=True
                ),
            )
            response = self._call("ZetaSqlLocalService_Analyze", request, pb.local.AnalyzeResponse)
            resolved.append(response.resolved_statement)
            position = response.resume_byte_position
        return resolved

    def output_columns(self, sql: str, params: dict[str, Any] | None) -> list[tuple[str, str]]:
        """A query's output columns (name, BigQuery type), as GoogleSQL resolves them."""
        (statement,) = self.analyze(sql, params)
        query = statement.resolved_query_stmt_node
        return [(c.name, _kind_of(self.pb, c.column.type)) for c in query.output_column_list]

    # -- execution ---------------------------------------------------------------------------
    def execute(
        self,
        sql: str,
        params: dict[str, Any] | None,
        contents: dict[str, Iterable[dict[str, Any]]],
    ) -> list[dict[str, Any]]:
        """Run a query with GoogleSQL's reference engine over ``contents`` (``layer.name`` ->
        rows as dicts); a table the query reads that ``contents`` lacks is empty."""
        pb = self.pb
        text = as_bigquery_receives(sql)
        table_content = {}
        for name, cols in self.columns.items():
            if name not in text:
                continue
            layer, _, table = name.partition("__")
            rows = contents.get(f"{layer}.{table}", ())
            table_content[name] = pb.local.TableContent(
                table_data=pb.local.TableData(
                    row=[
                        pb.local.TableData.Row(
                            cell=[_to_value(pb, row.get(c), kind) for c, kind in cols]
                        )
                        for row in rows
                    ]
                )
            )
        types = parameter_types(params)
        request = pb.local.EvaluateQueryRequest(
            sql=text,
            options=self.options(params),
            simple_catalog=self.catalog_proto(),
            table_content=table_content,
            params=[
                pb.local.Parameter(name=name, value=_to_value(pb, value, types[name][0]))
                for name, value in (params or {}).items()
                if name in types
            ],
        )
        response = self._call(
            "ZetaSqlLocalService_EvaluateQuery", request, pb.local.EvaluateQueryResponse
        )
        columns = list(response.prepared.columns)
        return [
            {
                c.name: _from_value(pb, cell, c.type)
                for c, cell in zip(columns, row.cell, strict=True)
            }
            for row in response.content.table_data.row
        ]


@dataclass(frozen=True)
class Statement:
    """One statement as a caller gave it to the warehouse: BigQuery SQL naming tables
    ``layer.name`` (and a write's staged rows as ``temp_name``), with its parameter values."""

    sql: str
    params: dict[str, Any] = field(default_factory=dict)
    origin: str = ""
    as_is: bool = False  # sent without qualification (the backend's own statements)

    def key(self) -> tuple[str, tuple[tuple[str, str, bool], ...]]:
        """Identity for de-duplication: the text and its parameters' bound types."""
        types = parameter_types(self.params)
        return self.sql, tuple(sorted((k, *v) for k, v in types.items()))

    def analyze(self, engine: GoogleSQL) -> list[Any]:
        return engine.analyze(self.sql, self.params, as_is=self.as_is)


_STAGED = re.compile(r"\b(_model_out|_incoming)\b")


@contextlib.contextmanager
def recorded_statements() -> Iterator[list[Statement]]:
    """Every statement the DuckDB warehouse receives in BigQuery SQL while the block runs
    (queries, model builds, the writes' checks, deletes and inserts), in this process.

    The DuckDB backend stages a write's rows in ``_incoming`` or ``_model_out``; BigQuery stages
    them in a table beside the target, so those names become ``temp_name(target)``. What only
    the DuckDB backend runs (its own DDL, its transactions) is not BigQuery SQL and is left out.
    """
    from ringback.warehouse.duckdb import DuckDBWarehouse

    log: list[Statement] = []
    writing: list[catalog.Table] = []
    originals = {
        name: getattr(DuckDBWarehouse, name)
        for name in ("query", "run_model", "_replace_from", "_execute", "_count")
    }

    def note(sql: str, params: dict[str, Any] | None, origin: str) -> None:
        if writing:
            sql = _STAGED.sub(temp_name(writing[-1]), sql)
        log.append(Statement(sql, dict(params or {}), origin))

    def query(self, sql, params=None):
        note(sql, params, "query")
        return originals["query"](self, sql, params)

    def run_model(self, table, sql, params, partitions, audit=None):
        writing.append(table)
        try:
            note(sql, params, f"model {table.ref}")
            return originals["run_model"](self, table, sql, params, partitions, audit)
        finally:
            writing.pop()

    def replace_from(self, source, table, partitions, where):
        writing.append(table)
        try:
            return originals["_replace_from"](self, source, table, partitions, where)
        finally:
            writing.pop()

    def execute(self, sql, params):
        note(sql, params, f"write {writing[-1].ref if writing else ''}")
        return originals["_execute"](self, sql, params)

    def count(self, sql, params):
        note(sql, params, f"write check {writing[-1].ref if writing else ''}")
        return originals["_count"](self, sql, params)

    patched = {
        "query": query,
        "run_model": run_model,
        "_replace_from": replace_from,
        "_execute": execute,
        "_count": count,
    }
    for name, fn in patched.items():
        setattr(DuckDBWarehouse, name, fn)
    try:
        yield log
    finally:
        for name, fn in originals.items():
            setattr(DuckDBWarehouse, name, fn)


def backend_statements() -> list[Statement]:
    """The statements only the BigQuery backend sends, for every table of ``sql/``: each write
    mode's swap script and checks, a batch's bounds and count, TRUNCATE, the upgrade to
    businesses, and the row access policies of every mart. Built by the backend's own
    functions, with tables named in full as it names them."""
    from ringback.settings import Business
    from ringback.warehouse import bigquery
    from ringback.warehouse.base import PartitionRange

    out: list[Statement] = []

    def add(sql: str, params: dict[str, Any], origin: str) -> None:
        out.append(Statement(sql, params, origin, as_is=True))

    day = dt.date(2026, 11, 10)
    viewers = [Business("b1", "B1", "UTC", viewers=("user:analyst@example.com",))]
    for table in catalog.tables().values():
        full = f"{PROJECT}.{table.layer}.{table.name}"
        stage_layer, stage_name = temp_name(table).split(".")
        staged = f"{PROJECT}.{stage_layer}.{stage_name}"
        target, source = f"`{full}`", f"`{staged}`"
        where = {c: "x" for c in table.replace_columns} or None
        key_dates = (day, day) if table.write_mode == "upsert" and table.partition_field else None
        ranges = [PartitionRange(day, day), PartitionRange(day, day, ("b1",))]
        for partitions in ranges if table.write_mode == "partitions" else [None]:
            script, params = bigquery.replace_statements(
                target, source, table, partitions, where, key_dates
            )
            add(script, params, f"swap {table.ref}")
            plan = bigquery.write_plan(table, target, source, partitions, where)
            for sql, _ in plan.checks:
                add(sql, plan.params, f"write check {table.ref}")
        add(bigquery.count_statement(source), {}, f"count {table.ref}")
        if key_dates:
            add(bigquery.bounds_statement(table, source), {}, f"bounds {table.ref}")
        if table.kind == "model":
            add(bigquery.truncate_statement(target), {}, f"truncate {table.ref}")
        if "business_id" in table.column_names:
            add(bigquery.backup_statement(f"{full}_old", staged), {}, f"upgrade {table.ref}")
            kept = set(table.column_names) - {"business_id"}
            add(
                bigquery.restore_statement(table, full, staged, kept),
                {"default_business": "default"},
                f"upgrade {table.ref}",
            )
        if table.layer == "marts":
            for sql in bigquery.row_access_statements(
                full, viewers, ("group:agency@example.com",), ["rb_gone"]
            ):
                add(sql, {}, f"row access {table.ref}")
    return out


def unfiltered_partition_reads(sql: str) -> list[str]:
    """Tables with ``require_partition_filter`` that ``sql`` reads without a condition on their
    partition column (in the WHERE or a JOIN's ON of the SELECT or DELETE that reads them):
    BigQuery refuses such a query. The check is syntactic, as BigQuery's is not: a condition
    that names the column counts even if it prunes nothing."""
    import sqlglot
    from sqlglot import exp

    required = {
        t.ref: t.partition_field for t in catalog.tables().values() if t.require_partition_filter
    }
    out = []
    for statement in sqlglot.parse(sql, read="bigquery"):
        if statement is None:
            continue
        for node in statement.find_all(exp.Table):
            ref = f"{node.db}.{node.name}"
            # written, not read: an INSERT's target, TRUNCATE (removes partitions, scans none)
            if ref not in required or isinstance(node.parent, exp.Insert | exp.Schema):
                continue
            if isinstance(statement, exp.TruncateTable):
                continue
            scope = node.find_ancestor(exp.Select, exp.Delete)
            conditions = [scope.args.get("where")] if scope is not None else []
            if isinstance(scope, exp.Select):
                conditions += [j.args.get("on") for j in scope.args.get("joins") or []]
            alias = node.alias_or_name
            if not any(
                column.name == required[ref] and column.table in ("", alias)
                for condition in conditions
                if condition is not None
                for column in condition.find_all(exp.Column)
            ):
                out.append(ref)
    return out


_TABLE_REF = re.compile(r"\b(raw|staging|marts)\.(\w+)\b")


def comparable(rows: Iterable[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """Rows as sorted tuples of sorted (column, value) pairs, floats to 9 significant digits
    (engines may sum in another order), timestamps in UTC: a multiset to compare."""

    def norm(value: Any) -> Any:
        if isinstance(value, float):
            return float(f"{value:.9g}")
        if isinstance(value, dt.datetime):
            return value.astimezone(dt.UTC)
        if isinstance(value, list):
            return tuple(norm(v) for v in value)
        return value

    out = [tuple(sorted((k, norm(v)) for k, v in row.items())) for row in rows]
    return sorted(out, key=repr)


@dataclass
class Difference:
    """A model query whose rows differ between DuckDB and GoogleSQL's reference engine."""

    model: str
    only_duckdb: list[tuple[Any, ...]]
    only_googlesql: list[tuple[Any, ...]]

    def __str__(self) -> str:
        return (
            f"{self.model}: {len(self.only_duckdb)} rows only on DuckDB, "
            f"{len(self.only_googlesql)} only in GoogleSQL\n"
            f"  DuckDB:    {self.only_duckdb[:3]}\n  GoogleSQL: {self.only_googlesql[:3]}"
        )


@contextlib.contextmanager
def reference_checked_builds() -> Iterator[dict[str, Any]]:
    """While the block runs, every model query the DuckDB warehouse builds is also executed by
    GoogleSQL's reference engine over the same input rows (what the warehouse holds at that
    moment), and the two results compared as multisets before the build goes on.

    Yields ``{"compared": [model refs], "differences": [Difference], "unsupported": {ref: msg}}``
    (a query the reference engine cannot run is listed, not compared)."""
    from collections import Counter

    from ringback.warehouse.duckdb import DuckDBWarehouse

    engine = googlesql()
    found: dict[str, Any] = {"compared": [], "differences": [], "unsupported": {}}
    original = DuckDBWarehouse.run_model
    read = DuckDBWarehouse.query

    def run_model(self, table, sql, params, partitions, audit=None):
        names = {f"{m.group(1)}.{m.group(2)}" for m in _TABLE_REF.finditer(sql)}
        contents = {
            ref: read(self, f"SELECT * FROM {ref}").to_pylist()
            for ref in sorted(names & set(catalog.tables()))
        }
        duck = comparable(read(self, sql, params).to_pylist())
        try:
            reference = comparable(engine.execute(sql, params, contents))
        except Refused as exc:
            found["unsupported"][table.ref] = str(exc)
        else:
            found["compared"].append(table.ref)
            if duck != reference:
                a, b = Counter(duck), Counter(reference)
                found["differences"].append(
                    Difference(table.ref, list((a - b).elements()), list((b - a).elements()))
                )
        return original(self, table, sql, params, partitions, audit)

    DuckDBWarehouse.run_model = run_model
    try:
        yield found
    finally:
        DuckDBWarehouse.run_model = original


@functools.cache
def googlesql() -> GoogleSQL:
    """One catalog per process (building it analyses every view)."""
    return GoogleSQL()


def warm() -> float:
    """Compile the WebAssembly module into wasmtime's cache; return the seconds it took."""
    import time

    began = time.perf_counter()
    _service()
    return time.perf_counter() - began


if __name__ == "__main__":  # make test: compile once before the parallel workers start
    print(f"GoogleSQL (ZetaSQL) ready in {warm():.1f} s")
