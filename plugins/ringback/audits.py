"""Mart audits computed by the warehouse: each mart's expectation suite compiled to one query.

A mart's new rows are written aside first (write-audit-publish); the audit reads them where they
are instead of copying millions of rows into pandas for Great Expectations, and it needs no GX
import (seconds per process, paid by every model task before). The suites stay Great
Expectations files, ``expectations/expectations/marts_<table>.json``, the one definition of what
is checked; this module evaluates the expectation types the mart suites use, with GX's semantics
(NULLs are not unexpected; ``mostly``; ``severity``), and refuses any other type. Rules that
relate several columns of a row are derived columns defined in ``sql/marts/<table>/checks.sql``
(BigQuery SQL over ``audited``, the rows under audit, and ``settings``, their business's row
of ``staging.business_settings``).

A report has the shape of ``quality.run_checkpoint``'s, so both land in ``raw.validation_results``.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ringback import catalog
from ringback.catalog import Table
from ringback.settings import ConfigError, project_root

log = logging.getLogger(__name__)

PII_COLUMNS = {"customer_number"}  # values never shown as examples


class ValidationFailed(RuntimeError):
    """A critical expectation failed: nothing was published (a load's batch, a mart's rows)."""


def failure_message(reports: list[dict[str, Any]]) -> str:
    parts = [
        f"{f['severity']} {f['expectation']} on {f['column'] or 'table'} "
        f"({f['unexpected_count'] if f['unexpected_count'] is not None else '-'} rows)"
        for r in reports
        for f in r.get("failed", [])
        if f["severity"] == "critical"
    ]
    return "; ".join(parts) or "no critical failure"


@dataclass(frozen=True)
class Expectation:
    type: str
    kwargs: dict[str, Any]
    severity: str

    @property
    def column(self) -> str | None:
        return self.kwargs.get("column")

    def unexpected(self, columns: set[str], param: Callable[[Any], str]) -> str:
        """A BigQuery boolean expression: this row is unexpected (GX skips NULLs)."""
        names = self.kwargs.get("column_list") or [self.column]
        if unknown := [n for n in names if n not in columns]:
            raise ConfigError(f"{self.type} names columns {unknown} that the audited rows lack")
        col = f"`{self.column}`" if self.column else None
        if self.type == "expect_column_values_to_be_in_set":
            allowed = param(self.kwargs["value_set"])
            return f"{col} IS NOT NULL AND {col} NOT IN UNNEST({allowed})"
        if self.type == "expect_column_values_to_match_regex":
            pattern = param(self.kwargs["regex"])
            return f"{col} IS NOT NULL AND NOT REGEXP_CONTAINS({col}, {pattern})"
        if self.type == "expect_column_values_to_be_between":
            bounds = []
            if self.kwargs.get("min_value") is not None:
                bounds.append(f"{col} < {param(self.kwargs['min_value'])}")
            if self.kwargs.get("max_value") is not None:
                bounds.append(f"{col} > {param(self.kwargs['max_value'])}")
            return f"{col} IS NOT NULL AND ({' OR '.join(bounds) or 'FALSE'})"
        raise ConfigError(f"mart audits cannot evaluate {self.type}")


SUPPORTED = {
    "expect_compound_columns_to_be_unique",
    "expect_column_values_to_be_in_set",
    "expect_column_values_to_match_regex",
    "expect_column_values_to_be_between",
}


@functools.cache
def suite(ref: str) -> tuple[Expectation, ...] | None:
    """The mart's suite (None: the mart has none)."""
    path = project_root() / "expectations/expectations" / f"marts_{ref.split('.', 1)[1]}.json"
    if not path.exists():
        return None
    out = []
    for e in json.loads(path.read_text())["expectations"]:
        if e["type"] not in SUPPORTED:
            raise ConfigError(
                f"{path}: mart audits run in the warehouse and evaluate only {sorted(SUPPORTED)}; "
                f"{e['type']} is not one of them"
            )
        out.append(Expectation(e["type"], e["kwargs"], str(e.get("severity") or "critical")))
    return tuple(out)


def checks_sql(table: Table) -> str:
    return _checks(table.folder)[0]


def derived_columns(table: Table) -> list[str]:
    """Names the checks add to the mart's columns (``AS name`` at the end of a select item)."""
    return list(_checks(table.folder)[1])


@functools.cache
def _checks(folder: Path) -> tuple[str, tuple[str, ...]]:
    """checks.sql and the names it derives, read and parsed once per process (an audit runs per
    mart and per chunk)."""
    import sqlglot

    path = folder / "checks.sql"
    sql = path.read_text() if path.exists() else "SELECT audited.* FROM audited"
    select = sqlglot.parse_one(sql, read="bigquery")
    return sql, tuple(e.alias for e in select.expressions if e.alias)


class _Params:
    def __init__(self, parameters: dict[str, Any]) -> None:
        self.parameters = parameters
        self.values: dict[str, Any] = {}

    def __call__(self, value: Any) -> str:
        if isinstance(value, dict) and "$PARAMETER" in value:
            value = self.parameters[value["$PARAMETER"]]
        name = f"audit_{len(self.values)}"
        self.values[name] = list(value) if isinstance(value, list | tuple) else value
        return f"@{name}"


def audit_query(
    table: Table, relation: str, parameters: dict[str, Any]
) -> tuple[str, dict[str, Any], list[str]]:
    """One query counting the unexpected rows of every expectation; its parameters; and per
    expectation the query of up to five failing values ("" for none: a compound key, or a PII
    column). SQL text comes from catalog identifiers, the suite's column names (checked against
    the mart's columns) and checks.sql; every value is a parameter."""
    if not _RELATION.fullmatch(relation):
        raise ValueError(f"not a table name: {relation!r}")
    expectations = suite(table.ref) or ()
    columns = {*table.column_names, *derived_columns(table)}
    params = _Params(parameters)
    counts = ["COUNT(*) AS audited_rows"]
    conditions: list[str] = []
    for i, e in enumerate(expectations):
        if e.type == "expect_compound_columns_to_be_unique":
            keys = e.kwargs["column_list"]
            if unknown := [k for k in keys if k not in columns]:
                raise ConfigError(f"{e.type} names columns {unknown} that {table.ref} lacks")
            key = ", ".join(f"`{k}`" for k in keys)
            counts.append(
                f"(SELECT COALESCE(SUM(n), 0) FROM (SELECT COUNT(*) AS n FROM checked "
                f"GROUP BY {key} HAVING COUNT(*) > 1)) AS e{i}"
            )
            conditions.append("")
            continue
        condition = e.unexpected(columns, params)
        counts.append(f"COUNTIF({condition}) AS e{i}")
        counts.append(f"COUNTIF(`{e.column}` IS NOT NULL) AS n{i}")
        conditions.append(condition)
    rows_aside = (
        f"WITH audited AS (SELECT * FROM {relation}),\n"
        "settings AS (SELECT * FROM staging.business_settings),\n"
        f"checked AS ({checks_sql(table)})\n"
    )
    examples = [
        ""
        if not condition or e.column in PII_COLUMNS
        else rows_aside
        + f"SELECT CAST(`{e.column}` AS STRING) AS v FROM checked WHERE {condition} LIMIT 5"
        for e, condition in zip(expectations, conditions, strict=True)
    ]
    return rows_aside + f"SELECT {', '.join(counts)} FROM checked", params.values, examples


# The rows aside are a table the backend named: `project.dataset.table` or a plain name.
_RELATION = re.compile(r"`?[\w.-]+`?")


def audit(
    warehouse: Any, table: Table, relation: str, subject: str, parameters: dict[str, Any]
) -> dict[str, Any] | None:
    """Evaluate the mart's suite on ``relation`` (rows written aside); a report like
    ``quality.run_checkpoint``'s, or None when the mart has no suite."""
    expectations = suite(table.ref)
    if expectations is None:
        return None
    sql, values, example_queries = audit_query(table, relation, parameters)
    counts = warehouse.query(sql, values).to_pylist()[0]
    failed = []
    for i, e in enumerate(expectations):
        unexpected = int(counts[f"e{i}"] or 0)
        if e.type == "expect_compound_columns_to_be_unique":
            success = unexpected == 0
        else:
            nonnull = int(counts[f"n{i}"] or 0)
            mostly = float(e.kwargs.get("mostly", 1.0))
            success = unexpected == 0 or (nonnull and 1 - unexpected / nonnull >= mostly)
        if success:
            continue
        examples: list[str] = []
        if example_queries[i]:
            shown = warehouse.query(example_queries[i], values)
            examples = [str(v) for v in shown.column("v").to_pylist()]
        failed.append(
            {
                "expectation": e.type,
                "column": e.column,
                "severity": e.severity,
                "unexpected_count": unexpected,
                "observed_value": None,
                "examples": examples,
                "quarantine_reason": None,
            }
        )
    critical = [f for f in failed if f["severity"] == "critical"]
    name = f"marts_{table.name}"
    report = {
        "suite": name,
        "checkpoint": f"{name}_build",
        "subject": subject,
        "success": not critical,
        "evaluated": len(expectations),
        "critical_failures": len(critical),
        "warnings": sum(f["severity"] == "warning" for f in failed),
        "rows": int(counts["audited_rows"]),
        "failed": failed,
        "row_failures": {},
        "data_docs": None,
    }
    log_report(report, "in the warehouse")
    return report


def log_report(report: dict[str, Any], where: str) -> None:
    """One line per checkpoint or audit, one more per failed expectation (examples only, never
    a PII column's values: the report already left them out)."""
    failed = report["failed"]
    level = logging.INFO if not failed else logging.WARNING
    log.log(
        level,
        "%s on %s: %d expectations, %d critical, %d warnings, %d row-level (%s)",
        report["checkpoint"],
        report["subject"],
        report["evaluated"],
        report["critical_failures"],
        report["warnings"],
        sum(f["severity"] == "quarantine" for f in failed),
        where,
    )
    for f in failed:
        log.log(
            level,
            "  %s %s on %s: %s unexpected %s",
            f["severity"],
            f["expectation"],
            f["column"],
            f["unexpected_count"],
            f["examples"] or "",
        )


def _validation_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    now = dt.datetime.now(dt.UTC)
    rows = []
    for suite in report.get("suites", []):
        layer = suite["checkpoint"].split("_", 1)[0]
        rows.append(
            {
                "validation_id": f"{suite['checkpoint']}:{suite['subject']}",
                "checkpoint": suite["checkpoint"],
                "suite": suite["suite"],
                "layer": layer,
                "subject": suite["subject"],
                "success": suite["success"],
                "evaluated": suite["evaluated"],
                "critical_failures": suite["critical_failures"],
                "warnings": suite["warnings"],
                "rows": suite["rows"],
                "quarantined_rows": sum(len(v) for v in suite.get("row_failures", {}).values()),
                "failed_expectations": json.dumps(suite["failed"], default=str),
                "data_docs": suite["data_docs"],
                "checked_at": now,
                "checked_date": now.date(),
            }
        )
    return rows


def record_results(wh: Any, reports: list[dict[str, Any]]) -> None:
    """Write checkpoint results to raw.validation_results (a rerun replaces its own rows)."""
    table = catalog.table("raw.validation_results")
    for row in _validation_rows({"suites": reports}):
        wh.write(table, table.to_arrow([row]), where={"validation_id": row["validation_id"]})
