"""The tables of ``sql/``: one folder per table with schema.yaml, metadata.yaml and, for
models, query.sql; and the analysts' views of ``sql/analytics/`` (view.sql instead of query.sql).
This module is the only reader of those files."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import yaml

from ringback.settings import ConfigError, project_root

LAYERS = ("raw", "staging", "marts")
VIEW_LAYER = "analytics"  # stable views over the marts, the names analysts and BI tools query
WRITE_MODES = ("partitions", "upsert", "replace_where", "replace", "append")
COLUMN_TYPES = ("STRING", "INT64", "FLOAT64", "BOOL", "TIMESTAMP", "DATE", "JSON")
ARROW_TYPES = {
    "STRING": pa.string(),
    "INT64": pa.int64(),
    "FLOAT64": pa.float64(),
    "BOOL": pa.bool_(),
    "TIMESTAMP": pa.timestamp("us", tz="UTC"),
    "DATE": pa.date32(),
    "JSON": pa.string(),  # JSON text; the warehouse stores it as its JSON type
}


@functools.cache
def sql_templates(sql_root: Path) -> Any:
    """The Jinja environment of ``sql/``: models and analyses may import the macros of
    ``sql/macros/`` (``{% from "macros/x.sql" import m %}``). SQL, not HTML: autoescaping
    would corrupt queries, and no value ever reaches a template."""
    import jinja2

    return jinja2.Environment(  # noqa: S701
        loader=jinja2.FileSystemLoader(str(sql_root)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    mode: str
    description: str

    @property
    def required(self) -> bool:
        return self.mode == "REQUIRED"


@dataclass(frozen=True)
class Table:
    """A table's contract as written in its ``sql/<layer>/<name>/`` folder."""

    layer: str
    name: str
    folder: Path
    columns: tuple[Column, ...]
    description: str
    friendly_name: str
    kind: str  # "load" (written by Python) or "model" (written by its query)
    write_mode: str  # partitions | upsert | replace_where | replace | append
    key: tuple[str, ...] = ()
    replace_columns: tuple[str, ...] = ()
    # An upsert given a date range also removes the rows whose this date falls in it (rows the
    # rebuilt dates no longer produce: a dimension whose first call was deleted or moved).
    replaces_dates: str | None = None
    partition_field: str | None = None
    require_partition_filter: bool = False
    clustering: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()
    labels: dict[str, str] = field(default_factory=dict)
    # "recovery_window" / "incident_baseline": partitions reach that far past --end (a later
    # date's rows read the dates built).
    rebuild_lookahead: str | None = None
    # Built once per models run, after the dated models, over the run's whole range: a model
    # over all history (the CRM marts), whose rows any date's build may change.
    per_run: bool = False

    @property
    def ref(self) -> str:
        """``layer.name``: how queries and code name the table, whatever the backend."""
        return f"{self.layer}.{self.name}"

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def query_path(self) -> Path:
        return self.folder / "query.sql"

    def arrow_schema(self) -> pa.Schema:
        return pa.schema(
            [pa.field(c.name, ARROW_TYPES[c.type], nullable=not c.required) for c in self.columns]
        )

    def to_arrow(self, rows: list[dict[str, Any]]) -> pa.Table:
        """Rows (dicts) as an Arrow table typed by this schema; extra keys are left out."""
        schema = self.arrow_schema()
        return pa.Table.from_pylist(
            [{c: row.get(c) for c in schema.names} for row in rows], schema=schema
        )

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.ref} has no column {name!r}")


@dataclass(frozen=True)
class View:
    """An analysts' view as written in ``sql/analytics/<name>/``: its columns are a contract."""

    name: str
    folder: Path
    columns: tuple[Column, ...]
    description: str
    friendly_name: str
    depends_on: tuple[str, ...]
    labels: dict[str, str]

    layer = VIEW_LAYER

    @property
    def ref(self) -> str:
        return f"{VIEW_LAYER}.{self.name}"

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def sql(self) -> str:
        """The view's SELECT, BigQuery dialect, naming tables ``layer.name``."""
        return (self.folder / "view.sql").read_text()


def _yaml(path: Path) -> Any:
    # libyaml's loader when PyYAML has it: every command reads these ~50 files (0.7 s in pure
    # Python, a quarter of a one-day models run's own time)
    return yaml.load(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506


def _columns(folder: Path) -> tuple[Column, ...]:
    schema: dict[str, Any] = _yaml(folder / "schema.yaml")
    columns = []
    for f in schema["fields"]:
        col = Column(
            f["name"],
            f["type"].upper(),
            f.get("mode", "NULLABLE").upper(),
            f.get("description", ""),
        )
        if col.type not in COLUMN_TYPES:
            raise ConfigError(f"{folder}/schema.yaml: {col.name} has unsupported type {col.type}")
        if not col.description:
            raise ConfigError(f"{folder}/schema.yaml: {col.name} has no description")
        columns.append(col)
    return tuple(columns)


def _load_table(layer: str, folder: Path) -> Table:
    meta: dict[str, Any] = _yaml(folder / "metadata.yaml")
    columns = _columns(folder)
    write = meta.get("write", {})
    part = meta.get("partitioning") or {}
    table = Table(
        layer=layer,
        name=folder.name,
        folder=folder,
        columns=columns,
        description=" ".join(str(meta.get("description", "")).split()),
        friendly_name=meta.get("friendly_name", folder.name),
        kind=meta.get("kind", "model"),
        write_mode=write.get("mode", "partitions"),
        key=tuple(write.get("key", ())),
        replace_columns=tuple(write.get("columns", ())),
        replaces_dates=write.get("replaces_dates"),
        partition_field=part.get("field"),
        require_partition_filter=bool(part.get("require_partition_filter", False)),
        clustering=tuple(meta.get("clustering", ())),
        depends_on=tuple(meta.get("depends_on", ())),
        labels={str(k): str(v) for k, v in (meta.get("labels") or {}).items()},
        rebuild_lookahead=meta.get("rebuild_lookahead"),
        per_run=bool(write.get("per_run", write.get("mode") == "replace")),
    )
    if table.rebuild_lookahead not in (None, "recovery_window", "incident_baseline"):
        raise ConfigError(f"{folder}: unknown rebuild_lookahead {table.rebuild_lookahead!r}")
    names = set(table.column_names)
    needed = set(table.key) | set(table.replace_columns) | set(table.clustering)
    if table.partition_field:
        needed.add(table.partition_field)
    if table.replaces_dates:
        needed.add(table.replaces_dates)
    if missing := needed - names:
        raise ConfigError(f"{folder}: metadata names columns not in schema.yaml: {missing}")
    if table.write_mode not in WRITE_MODES:
        raise ConfigError(f"{folder}: unknown write mode {table.write_mode!r}")
    if table.replaces_dates and table.write_mode != "upsert":
        raise ConfigError(f"{folder}: replaces_dates belongs to write mode 'upsert'")
    if table.per_run and table.partition_field:
        raise ConfigError(f"{folder}: a per-run model is not partitioned (it spans all dates)")
    if table.write_mode == "partitions" and not table.partition_field:
        raise ConfigError(f"{folder}: write mode 'partitions' needs a partitioning field")
    if table.kind == "model" and not table.query_path.exists():
        raise ConfigError(f"{folder}: a model needs query.sql")
    return table


@functools.cache
def _load_catalog(root: Path) -> dict[str, Table]:
    tables: dict[str, Table] = {}
    for layer in LAYERS:
        for folder in sorted((root / "sql" / layer).iterdir()):
            if (folder / "schema.yaml").exists():
                table = _load_table(layer, folder)
                tables[table.ref] = table
    return tables


def _load_view(folder: Path, tables: dict[str, Table]) -> View:
    meta: dict[str, Any] = _yaml(folder / "metadata.yaml")
    if meta.get("kind") != "view" or not (folder / "view.sql").exists():
        raise ConfigError(f"{folder}: an analytics view needs kind: view and view.sql")
    view = View(
        name=folder.name,
        folder=folder,
        columns=_columns(folder),
        description=" ".join(str(meta.get("description", "")).split()),
        friendly_name=meta.get("friendly_name", folder.name),
        depends_on=tuple(meta.get("depends_on", ())),
        labels={str(k): str(v) for k, v in (meta.get("labels") or {}).items()},
    )
    if bad := [d for d in view.depends_on if d not in tables or tables[d].layer != "marts"]:
        raise ConfigError(f"{folder}: views read marts tables only, not {bad}")
    return view


@functools.cache
def _load_views(root: Path) -> dict[str, View]:
    tables = _load_catalog(root)
    folders = sorted((root / "sql" / VIEW_LAYER).iterdir())
    return {f"{VIEW_LAYER}.{f.name}": _load_view(f, tables) for f in folders if f.is_dir()}


def views() -> dict[str, View]:
    """The analysts' views, keyed by ``analytics.name``."""
    return _load_views(project_root())


def tables() -> dict[str, Table]:
    """Every table, keyed by ``layer.name``."""
    return _load_catalog(project_root())


def table(ref: str) -> Table:
    try:
        return tables()[ref]
    except KeyError:
        raise ConfigError(f"no table {ref!r} under sql/") from None


def models_in_order() -> list[Table]:
    """Model tables in dependency order (a model after everything it reads)."""
    all_tables = tables()
    ordered: list[Table] = []
    state: dict[str, str] = {}

    def visit(ref: str, path: tuple[str, ...]) -> None:
        if state.get(ref) == "done":
            return
        if state.get(ref) == "visiting":
            raise ConfigError(f"dependency cycle in sql/: {' -> '.join((*path, ref))}")
        state[ref] = "visiting"
        tbl = all_tables.get(ref)
        if tbl is None:
            raise ConfigError(f"{path[-1] if path else ref} depends on unknown table {ref}")
        for dep in tbl.depends_on:
            if dep != ref:  # a dimension merges into itself
                visit(dep, (*path, ref))
        state[ref] = "done"
        if tbl.kind == "model":
            ordered.append(tbl)

    for ref in sorted(all_tables):
        visit(ref, ())
    return ordered
