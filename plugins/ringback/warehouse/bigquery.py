"""The BigQuery backend, on the official google-cloud-bigquery client.

Layers map to datasets (settings ``bigquery_<layer>_dataset``), created in the URL's location.
Tables come from ``sql/`` with DAY partitioning on their date column, clustering, descriptions
and labels. Every write is: a load job from Parquet into a temporary table (or, for models, a
query job into one), checks on it, then one transaction that deletes exactly what is replaced
and inserts the new rows. No WRITE_TRUNCATE on a real table, no blind append.

Job ids are derived from what the job does and from the Airflow task it runs in (the
``AIRFLOW_CTX_*`` variables Airflow sets), so a retried task finds its earlier job instead of
running it twice; outside Airflow every write is new work. Queries carry named
parameters, job labels (app, dag, task) and a ``maximum_bytes_billed`` cap; each model query is
dry-run first and its estimate logged.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import logging
import os
import re
import uuid
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pyarrow as pa
import pyarrow.parquet as pq
import sqlglot
from sqlglot import exp

from ringback import catalog
from ringback.catalog import Table, View
from ringback.settings import DEFAULT_BUSINESS_ID, Business
from ringback.warehouse.base import PartitionRange, Warehouse, WarehouseError, write_plan

log = logging.getLogger(__name__)

TEMP_TABLE_HOURS = 6  # temporary tables expire by themselves if a task dies before cleaning up
MIGRATION_SUFFIX = "__before_businesses"  # a table's rows while init upgrades its layout


def parse_url(url: str) -> tuple[str, dict[str, str]]:
    """``bigquery://project?location=EU[&endpoint=http://127.0.0.1:9050]`` -> project, options."""
    parts = urlsplit(url)
    project = parts.netloc or parts.path.strip("/")
    if not project:
        raise WarehouseError(f"warehouse URL {url!r} names no project: bigquery://project")
    options = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    unknown = set(options) - {"location", "endpoint"}
    if unknown:
        raise WarehouseError(f"unknown options {sorted(unknown)} in the BigQuery URL")
    return project, options


def datasets(settings: Any) -> dict[str, str]:
    """Layer -> dataset name."""
    return {
        "raw": settings.bigquery_raw_dataset,
        "staging": settings.bigquery_staging_dataset,
        "marts": settings.bigquery_marts_dataset,
        catalog.VIEW_LAYER: settings.bigquery_analytics_dataset,
    }


def qualify(sql: str, project: str, names: dict[str, str]) -> str:
    """Rewrite ``layer.table`` references to `project.dataset.table` (BigQuery SQL in and out)."""
    out = []
    for statement in sqlglot.parse(sql, read="bigquery"):
        if statement is None:
            continue

        def swap(node: exp.Expression) -> exp.Expression:
            if isinstance(node, exp.Table) and node.db in names and not node.catalog:
                return exp.table_(node.name, db=names[node.db], catalog=project, alias=node.alias)
            return node

        out.append(statement.transform(swap).sql(dialect="bigquery"))
    return ";\n".join(out)


def scalar_type(value: Any) -> str:
    if isinstance(value, bool):
        return "BOOL"
    if isinstance(value, int):
        return "INT64"
    if isinstance(value, float):
        return "FLOAT64"
    if isinstance(value, dt.datetime):
        return "TIMESTAMP"
    if isinstance(value, dt.date):
        return "DATE"
    return "STRING"


def query_parameters(params: dict[str, Any]) -> list[Any]:
    from google.cloud import bigquery

    out: list[Any] = []
    for name, value in sorted(params.items()):
        if isinstance(value, list | tuple):
            kind = scalar_type(value[0]) if value else "STRING"
            out.append(bigquery.ArrayQueryParameter(name, kind, list(value)))
        else:
            out.append(bigquery.ScalarQueryParameter(name, scalar_type(value), value))
    return out


def _label(value: str) -> str:
    # Labels: lowercase letters, digits, _ and -, at most 63 characters.
    return re.sub(r"[^a-z0-9_-]", "_", value.lower())[:63]


def job_labels() -> dict[str, str]:
    labels = {"app": "ringback"}
    for key, var in (("dag", "AIRFLOW_CTX_DAG_ID"), ("task", "AIRFLOW_CTX_TASK_ID")):
        if os.environ.get(var):
            labels[key] = _label(os.environ[var])
    return labels


def job_scope() -> str:
    """Stable across retries of one Airflow task (same DAG, task and run). Outside Airflow
    nothing retries a command, so every call is new work: a fresh scope."""
    ctx = [os.environ.get(v, "") for v in ("AIRFLOW_CTX_DAG_ID", "AIRFLOW_CTX_TASK_ID")]
    run = os.environ.get("AIRFLOW_CTX_DAG_RUN_ID", "")
    if all(ctx) and run:
        return hashlib.sha256("|".join([*ctx, run]).encode()).hexdigest()[:12]
    return uuid.uuid4().hex[:12]


def job_id(step: str, table_ref: str, fingerprint: str, scope: str | None = None) -> str:
    """``ringback_<step>_<table>_<scope>_<fingerprint>``: the same retried work, the same id."""
    scope = scope or job_scope()
    return f"ringback_{step}_{table_ref.replace('.', '_')}_{scope}_{fingerprint[:16]}"


def fingerprint(*parts: Any) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part if isinstance(part, bytes) else json.dumps(part, default=str).encode())
    return h.hexdigest()


def schema_fields(columns: tuple[catalog.Column, ...]) -> list[Any]:
    from google.cloud import bigquery

    return [
        bigquery.SchemaField(c.name, c.type, c.mode, description=c.description) for c in columns
    ]


def table_resource(project: str, dataset: str, table: Table) -> Any:
    """The BigQuery table a ``sql/`` folder describes (schema, partitioning, clustering...)."""
    from google.cloud import bigquery

    t = bigquery.Table(f"{project}.{dataset}.{table.name}", schema=schema_fields(table.columns))
    t.description = table.description
    t.friendly_name = table.friendly_name
    t.labels = {_label(k): _label(v) for k, v in table.labels.items()}
    if table.partition_field:
        t.time_partitioning = bigquery.TimePartitioning(
            type_=bigquery.TimePartitioningType.DAY, field=table.partition_field
        )
        t.require_partition_filter = table.require_partition_filter
    if table.clustering:
        t.clustering_fields = list(table.clustering)
    return t


def _quoted(text: str) -> str:
    return exp.Literal.string(text).sql(dialect="bigquery")


def row_access_statements(
    table_ref: str,
    businesses: Any,
    see_all: tuple[str, ...],
    existing: list[str],
) -> list[str]:
    """DDL that makes a mart's row access policies match the businesses' ``viewers:``.

    One policy per business with viewers (its rows only) and, once any exists, one for the
    principals in ``bigquery_row_access_all`` (every row): BigQuery shows a table's rows to
    nobody outside its policies once it has one. Policies of ours (``rb_``) that are no longer
    wanted are dropped. Identifiers are the project's own; principals and ids are quoted.
    """
    wanted: dict[str, tuple[tuple[str, ...], str]] = {}
    for business in businesses:
        if business.viewers:
            wanted[f"rb_{business.id}"] = (
                business.viewers,
                f"business_id = {_quoted(business.id)}",
            )
    if wanted and see_all:
        wanted["rb_all"] = (tuple(see_all), "TRUE")
    out = [
        f"CREATE OR REPLACE ROW ACCESS POLICY {name} ON `{table_ref}` "
        f"GRANT TO ({', '.join(_quoted(p) for p in grantees)}) FILTER USING ({predicate})"
        for name, (grantees, predicate) in wanted.items()
    ]
    out += [
        f"DROP ROW ACCESS POLICY IF EXISTS {name} ON `{table_ref}`"
        for name in existing
        if name.startswith("rb_") and name not in wanted
    ]
    return out


def truncate_statement(target: str) -> str:
    return f"TRUNCATE TABLE {target}"


def count_statement(source: str) -> str:
    return f"SELECT COUNT(*) FROM {source}"


def bounds_statement(table: Table, source: str) -> str:
    """The partition dates a batch spans (an upsert's delete stays inside them)."""
    field = table.partition_field
    return f"SELECT MIN({field}) AS lo, MAX({field}) AS hi FROM {source}"


def backup_statement(backup: str, have: str) -> str:
    return f"CREATE TABLE `{backup}` AS SELECT * FROM `{have}`"


def restore_statement(table: Table, wanted: str, backup: str, kept: set[str]) -> str:
    """Rows copied aside by an upgrade to businesses, put back with ``@default_business``."""
    columns = [c for c in table.column_names if c in kept or c == "business_id"]
    values = [
        f"@default_business AS {c}" if c == "business_id" and c not in kept else c for c in columns
    ]
    return (
        f"INSERT INTO `{wanted}` ({', '.join(columns)}) SELECT {', '.join(values)} FROM `{backup}`"
    )


def row_access_policies_statement(dataset: str) -> str:
    """The row access policies of a dataset's tables (``@table`` names one)."""
    return (
        f"SELECT row_access_policy_name FROM `{dataset}.INFORMATION_SCHEMA.ROW_ACCESS_POLICIES` "
        "WHERE table_name = @table"
    )


def replace_statements(
    target: str,
    source: str,
    table: Table,
    partitions: PartitionRange | None,
    where: dict[str, Any] | None,
    key_dates: tuple[dt.date, dt.date] | None = None,
) -> tuple[str, dict[str, Any]]:
    """The transaction (one script job) that replaces exactly what ``source`` replaces."""
    plan = write_plan(table, target, source, partitions, where, key_dates)
    body = f"{plan.delete};\n{plan.insert};" if plan.delete else f"{plan.insert};"
    return f"BEGIN TRANSACTION;\n{body}\nCOMMIT TRANSACTION;", plan.params


class BigQueryWarehouse(Warehouse):
    def __init__(self, url: str, *, read_only: bool = False, settings: Any) -> None:
        from google.cloud import bigquery

        self.url = url
        self.read_only = read_only
        self.settings = settings
        self.project, options = parse_url(url)
        self.location = options.get("location", "US")
        self.names = datasets(self.settings)
        self.max_bytes = self.settings.bigquery_maximum_bytes_billed
        endpoint = options.get("endpoint")
        self.client = bigquery.Client(
            project=self.project,
            location=self.location,
            credentials=self._credentials(endpoint),
            client_options={"api_endpoint": endpoint} if endpoint else None,
        )

    def _credentials(self, endpoint: str | None) -> Any:
        """A local emulator takes none; else a key file named in the settings or the Airflow
        connection, else Application Default Credentials (google.auth.default)."""
        if endpoint:
            from google.auth.credentials import AnonymousCredentials

            return AnonymousCredentials()
        from google.oauth2 import service_account

        key_path = self.settings.bigquery_key_path
        if not key_path:
            key_path = self._key_from_connection()
        if key_path:
            scopes = ["https://www.googleapis.com/auth/cloud-platform"]
            if key_path.lstrip().startswith("{"):
                return service_account.Credentials.from_service_account_info(
                    json.loads(key_path), scopes=scopes
                )
            return service_account.Credentials.from_service_account_file(key_path, scopes=scopes)
        return None  # the client falls back to Application Default Credentials

    def _key_from_connection(self) -> str:
        conn_id = self.settings.bigquery_connection_id
        raw = os.environ.get(f"AIRFLOW_CONN_{conn_id.upper()}")
        extra: dict[str, Any] = {}
        if raw:
            if raw.lstrip().startswith("{"):
                extra = json.loads(raw).get("extra") or {}
            else:
                extra = {k: v[-1] for k, v in parse_qs(urlsplit(raw).query).items()}
        else:
            try:
                from airflow.sdk import BaseHook

                extra = BaseHook.get_connection(conn_id).extra_dejson or {}
            except Exception:  # no Airflow here, or no such connection: use ADC
                return ""
        if isinstance(extra, str):
            extra = json.loads(extra or "{}")
        return str(extra.get("key_path") or extra.get("keyfile_dict") or "")

    # -- helpers ---------------------------------------------------------------------------
    def _ref(self, layer: str, name: str) -> str:
        return f"{self.project}.{self.names[layer]}.{name}"

    def _sql_ref(self, layer: str, name: str) -> str:
        return f"`{self._ref(layer, name)}`"

    def _job_config(self, params: dict[str, Any] | None = None, **kw: Any) -> Any:
        from google.cloud import bigquery

        return bigquery.QueryJobConfig(
            query_parameters=query_parameters(params or {}),
            maximum_bytes_billed=self.max_bytes,
            labels=job_labels(),
            **kw,
        )

    def _run(self, sql: str, params: dict[str, Any] | None, job: str | None = None, **kw: Any):
        """Run a query job; with ``job``, an earlier job of that id is awaited, not repeated."""
        from google.api_core.exceptions import Conflict

        config = self._job_config(params, **kw)
        try:
            # With a job id of ours, the client's own job retry would reuse it: retries are ours.
            query_job = self.client.query(
                sql, job_config=config, job_id=job, **({"job_retry": None} if job else {})
            )
        except Conflict:
            log.info("job %s already exists (a retry): waiting for it instead", job)
            query_job = self.client.get_job(job)
        try:
            return query_job.result()
        except Exception as exc:
            raise WarehouseError(f"BigQuery job {query_job.job_id} failed: {exc}") from exc

    def _landed(self, job: str) -> Any:
        """The job of that id if it ran to success (a retry's earlier attempt), else None."""
        from google.api_core.exceptions import NotFound

        try:
            found = self.client.get_job(job)
        except NotFound:
            return None
        return found if found.state == "DONE" and found.error_result is None else None

    def _temp_name(self, table: Table | View, fp: str, scope: str) -> str:
        return f"_ringback_tmp_{table.name}_{scope}_{fp[:12]}"

    def _expire(self, ref: str) -> None:
        t = self.client.get_table(ref)
        t.expires = dt.datetime.now(dt.UTC) + dt.timedelta(hours=TEMP_TABLE_HOURS)
        self.client.update_table(t, ["expires"])

    # -- schema ----------------------------------------------------------------------------
    def init(self) -> list[str]:
        from google.api_core.exceptions import NotFound
        from google.cloud import bigquery

        created: list[str] = []
        for layer, name in self.names.items():
            ds = bigquery.Dataset(f"{self.project}.{name}")
            ds.location = self.location
            ds.labels = {"app": "ringback", "layer": layer}
            self.client.create_dataset(ds, exists_ok=True)
        for table in catalog.tables().values():
            wanted = table_resource(self.project, self.names[table.layer], table)
            try:
                have = self.client.get_table(wanted.reference)
            except NotFound:
                if self._resume_migration(table, wanted):
                    created.append(f"{table.ref}.business_id")
                    continue
                self.client.create_table(wanted)
                created.append(table.ref)
                continue
            if "business_id" in table.column_names and "business_id" not in {
                f.name for f in have.schema
            }:
                created += self._migrate_to_businesses(table, have, wanted)
                continue
            created += self._update(have, wanted, table)
        for view in catalog.views().values():
            self._ensure_view(view)
        return created

    # -- upgrade to businesses ---------------------------------------------------------------
    def _backup_ref(self, table: Table) -> str:
        return self._ref(table.layer, f"{table.name}{MIGRATION_SUFFIX}")

    def _migrate_to_businesses(self, table: Table, have: Any, wanted: Any) -> list[str]:
        """A table from before businesses: copied aside, re-created with business_id first
        (partitioning and clustering from sql/), its rows put back in business ``default``.
        BigQuery cannot reorder columns or add a REQUIRED one in place; the copy keeps every
        row if the process dies half-way (the next init resumes from it)."""
        backup = self._backup_ref(table)
        if have.require_partition_filter:
            have.require_partition_filter = False
            self.client.update_table(have, ["require_partition_filter"])
        self._run(backup_statement(backup, str(have.reference)), None)
        self.client.delete_table(have.reference)
        self._restore_from_backup(table, wanted, backup)
        log.warning("%s: upgraded to businesses (rows in business 'default')", table.ref)
        return [f"{table.ref}.business_id"]

    def _resume_migration(self, table: Table, wanted: Any) -> bool:
        from google.api_core.exceptions import NotFound

        backup = self._backup_ref(table)
        try:
            self.client.get_table(backup)
        except NotFound:
            return False
        log.warning("%s: resuming an upgrade to businesses from %s", table.ref, backup)
        self._restore_from_backup(table, wanted, backup)
        return True

    def _restore_from_backup(self, table: Table, wanted: Any, backup: str) -> None:
        kept = {f.name for f in self.client.get_table(backup).schema}
        self.client.create_table(wanted, exists_ok=True)
        self._run(
            restore_statement(table, str(wanted.reference), backup, kept),
            {"default_business": DEFAULT_BUSINESS_ID},
        )
        self.client.delete_table(backup, not_found_ok=True)

    # -- row-level security ------------------------------------------------------------------
    def apply_row_access(self, businesses: Sequence[Business]) -> list[str]:
        """Row access policies from the businesses' ``viewers:`` on every mart (analytics views
        read the marts as the querying user, so the policies hold there too); a viewer removed
        from the file loses access on the next init. Returns the statements run."""
        statements: list[str] = []
        for table in catalog.tables().values():
            if table.layer != "marts":
                continue
            ref = self._ref(table.layer, table.name)
            existing = self._row_access_policies(table)
            statements += row_access_statements(
                ref, businesses, self.settings.bigquery_row_access_all, existing
            )
        for sql in statements:
            self._run(sql, None)
        return statements

    def _row_access_policies(self, table: Table) -> list[str]:
        from google.api_core.exceptions import GoogleAPICallError

        dataset = self.names[table.layer]
        try:
            rows = self._run(
                row_access_policies_statement(f"{self.project}.{dataset}"),
                {"table": table.name},
            )
        except GoogleAPICallError as exc:  # e.g. an emulator without the view
            log.warning("cannot list the row access policies of %s: %s", table.ref, exc)
            return []
        return [r[0] for r in rows]

    def _update(self, have: Any, wanted: Any, table: Table) -> list[str]:
        """Add missing columns; bring descriptions and labels in line with the files."""
        by_name = {f.name: f for f in have.schema}
        added = [f"{table.ref}.{f.name}" for f in wanted.schema if f.name not in by_name]
        schema = [
            (by_name[f.name].to_api_repr() | {"description": f.description})
            if f.name in by_name
            else f.to_api_repr() | {"mode": "NULLABLE"}  # new columns must be nullable
            for f in wanted.schema
        ]
        changed = []
        if added or [f.description for f in have.schema] != [
            f.description for f in wanted.schema if f.name in by_name
        ]:
            from google.cloud.bigquery import SchemaField

            have.schema = [SchemaField.from_api_repr(f) for f in schema]
            changed.append("schema")
        if have.description != wanted.description:
            have.description = wanted.description
            changed.append("description")
        if have.labels != wanted.labels:
            have.labels = wanted.labels
            changed.append("labels")
        if changed:
            self.client.update_table(have, changed)
        return added

    def _ensure_view(self, view: View) -> None:
        """Create the view, or update it in place where it differs (never drop it: analysts may
        be querying it)."""
        from google.api_core.exceptions import NotFound
        from google.cloud import bigquery

        wanted = {
            "view_query": qualify(view.sql, self.project, self.names),
            "description": view.description,
            "friendly_name": view.friendly_name,
            "labels": {"app": "ringback"} | {_label(k): _label(v) for k, v in view.labels.items()},
        }
        try:
            have = self.client.get_table(self._ref(catalog.VIEW_LAYER, view.name))
        except NotFound:
            have = bigquery.Table(self._ref(catalog.VIEW_LAYER, view.name))
            for attr, value in wanted.items():
                setattr(have, attr, value)
            have = self.client.create_table(have)
        else:
            changed = [attr for attr, value in wanted.items() if getattr(have, attr) != value]
            for attr in changed:
                setattr(have, attr, wanted[attr])
            if changed:
                have = self.client.update_table(have, changed)
        # A view's column descriptions can be set once BigQuery has derived its schema.
        descriptions = {c.name: c.description for c in view.columns}
        if [f.description or "" for f in have.schema] != [
            descriptions.get(f.name, "") for f in have.schema
        ]:
            have.schema = [
                bigquery.SchemaField.from_api_repr(
                    f.to_api_repr() | {"description": descriptions.get(f.name, "")}
                )
                for f in have.schema
            ]
            self.client.update_table(have, ["schema"])

    # -- reads -----------------------------------------------------------------------------
    def query(self, sql: str, params: dict[str, Any] | None = None) -> pa.Table:
        rows = self._run(qualify(sql, self.project, self.names), params)
        return rows.to_arrow(create_bqstorage_client=False)

    def estimate_bytes(self, sql: str, params: dict[str, Any] | None = None) -> int:
        """A dry run: the bytes the query would scan (and be billed for)."""
        return self._dry_run(qualify(sql, self.project, self.names), params)

    def _dry_run(self, qualified_sql: str, params: dict[str, Any] | None) -> int:
        config = self._job_config(params, dry_run=True, use_query_cache=False)
        return int(self.client.query(qualified_sql, job_config=config).total_bytes_processed or 0)

    def truncate(self, table: Table) -> None:
        self._check_truncate(table)
        self._run(truncate_statement(self._sql_ref(table.layer, table.name)), None)

    def clear_marks(self, table: Table, column: str, until: dt.datetime) -> None:
        target = self._sql_ref(table.layer, table.name)
        self._run(self._clear_marks_sql(table, column, target), {"until": until})

    # -- writes ----------------------------------------------------------------------------
    def write(self, table, rows, *, partitions=None, where=None) -> int:
        from google.api_core.exceptions import Conflict
        from google.cloud import bigquery

        self._check_write(table, rows)
        rows = table.to_arrow(rows.to_pylist()) if rows.schema != table.arrow_schema() else rows
        buf = io.BytesIO()
        pq.write_table(rows, buf)
        fp = fingerprint(buf.getvalue(), self._ref(table.layer, table.name), partitions, where)
        scope = job_scope()
        if self._landed(job_id("swap", table.ref, fp, scope)):
            log.info("%s: this write already landed (a retry): nothing to do", table.ref)
            return rows.num_rows
        if rows.num_rows == 0 and table.write_mode in ("upsert", "append"):
            return 0  # nothing to replace, nothing to add
        temp_ref = self._ref(table.layer, self._temp_name(table, fp, scope))
        config = bigquery.LoadJobConfig(
            source_format=bigquery.SourceFormat.PARQUET,
            write_disposition=bigquery.WriteDisposition.WRITE_TRUNCATE,
            schema=schema_fields(table.columns),
            labels=job_labels(),
        )
        load_id = job_id("load", table.ref, fp, scope)
        buf.seek(0)
        try:
            load = self.client.load_table_from_file(
                buf, temp_ref, job_config=config, job_id=load_id
            )
        except Conflict:
            load = self.client.get_job(load_id)
        load.result()
        self._expire(temp_ref)
        self._check_and_swap(table, f"`{temp_ref}`", partitions, where, fp, scope)
        self.client.delete_table(temp_ref, not_found_ok=True)
        return rows.num_rows

    def run_model(self, table, sql, params, partitions, audit=None) -> int:
        from google.cloud import bigquery

        qualified = qualify(sql, self.project, self.names)
        estimate = self._dry_run(qualified, params)
        log.info("%s: dry run says %.1f MB scanned", table.ref, estimate / 1e6)
        if estimate > self.max_bytes:
            raise WarehouseError(
                f"model {table.ref} would scan {estimate} bytes, over the cap "
                f"bigquery_maximum_bytes_billed={self.max_bytes}; nothing was run"
            )
        fp = fingerprint(qualified, params, partitions, self._ref(table.layer, table.name))
        scope = job_scope()
        if landed := self._landed(job_id("swap", table.ref, fp, scope)):
            log.info("%s: this build already landed (a retry): nothing to do", table.ref)
            return int(landed.num_dml_affected_rows or 0)
        temp_ref = self._ref(table.layer, self._temp_name(table, fp, scope))
        self._run(
            qualified,
            params,
            job=job_id("model", table.ref, fp, scope),
            destination=temp_ref,
            write_disposition=bigquery.WriteDisposition.WRITE_TRUNCATE,
        )
        self._expire(temp_ref)
        produced = [f.name for f in self.client.get_table(temp_ref).schema]
        if produced != table.column_names:
            self.client.delete_table(temp_ref, not_found_ok=True)
            raise WarehouseError(
                f"model {table.ref} returns columns {produced}, but its schema.yaml lists "
                f"{table.column_names}; keep query and schema in step"
            )
        source = f"`{temp_ref}`"
        if audit is not None:
            audit(source)
        self._check_and_swap(table, source, partitions, None, fp, scope)
        written = self._scalar(count_statement(source), {})
        self.client.delete_table(temp_ref, not_found_ok=True)
        return written

    def _check_and_swap(self, table, source, partitions, where, fp, scope) -> None:
        target = self._sql_ref(table.layer, table.name)
        plan = write_plan(table, target, source, partitions, where)
        if failed := plan.check_failure(self._scalar):
            raise WarehouseError(failed)
        key_dates = None
        if table.write_mode == "upsert" and table.partition_field:
            bounds = self._run(bounds_statement(table, source), None)
            lo, hi = next(iter(bounds))
            key_dates = (lo, hi) if lo else None
        script, params = replace_statements(target, source, table, partitions, where, key_dates)
        self._run(script, params, job=job_id("swap", table.ref, fp, scope))

    def _scalar(self, sql: str, params: dict[str, Any]) -> int:
        return int(next(iter(self._run(sql, params)))[0])

    def close(self) -> None:
        self.client.close()
