"""Build the models of ``sql/`` for a date range.

``ringback models run --start S --end E`` rebuilds the partitions ``S - rebuild_lookback_days ..
E`` of every partitioned model (late records and open recovery windows change them) and merges the
first-seen dimensions. Queries are BigQuery Standard SQL; Jinja shapes only their structure
(matching rounds, uniqueness mode). Every value reaches SQL as a named query parameter.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import time
from dataclasses import dataclass
from typing import Any

import jinja2

from ringback import catalog
from ringback.catalog import Table
from ringback.settings import Settings
from ringback.warehouse.base import PartitionRange, Warehouse

log = logging.getLogger(__name__)

# SQL, not HTML: autoescaping would corrupt queries, and no value ever reaches a template.
_JINJA = jinja2.Environment(  # noqa: S701
    undefined=jinja2.StrictUndefined, keep_trailing_newline=True
)


def template_context(settings: Settings) -> dict[str, Any]:
    """Structural choices a query's shape depends on (never data values)."""
    return {
        "match_rounds": settings.match_rounds,
        "uniqueness_window_days": settings.uniqueness_window_days,
    }


def render(table: Table, settings: Settings) -> str:
    """The model's query.sql with its Jinja structure resolved; still BigQuery SQL."""
    template = _JINJA.from_string(table.query_path.read_text())
    return template.render(**template_context(settings))


@dataclass(frozen=True)
class RebuildWindow:
    """The partitions a run replaces and the wider ranges its queries read."""

    start: dt.date
    end: dt.date

    @classmethod
    def for_run(cls, start: dt.date, end: dt.date, settings: Settings) -> RebuildWindow:
        if end < start:
            raise ValueError(f"--end {end} is before --start {start}")
        return cls(start - dt.timedelta(days=settings.rebuild_lookback_days), end)


def recovery_days(settings: Settings) -> int:
    """Local dates after a call's date that its recovery window can reach.

    A 24 h window can end on the next local date, or the one after across a DST change.
    """
    return math.ceil(settings.recovery_window_seconds / 86400) + 1


def query_params(window: RebuildWindow, settings: Settings) -> dict[str, Any]:
    """Named parameters every model may use (design.md §4 defaults come from settings)."""
    if settings.uniqueness_window_days is None:
        history_start = window.start
        uniqueness_seconds = 0
    else:
        history_start = window.start - dt.timedelta(days=settings.uniqueness_window_days + 1)
        uniqueness_seconds = settings.uniqueness_window_days * 86400
    return {
        "start_date": window.start,
        "end_date": window.end,
        "pad_start_date": window.start - dt.timedelta(days=1),
        "pad_end_date": window.end + dt.timedelta(days=1),
        "history_start_date": history_start,
        "recovery_end_date": window.end + dt.timedelta(days=recovery_days(settings)),
        "reporting_time_zone": settings.reporting_time_zone,
        "talk_threshold_seconds": settings.talk_threshold_seconds,
        "recovery_window_seconds": settings.recovery_window_seconds,
        "uniqueness_window_seconds": uniqueness_seconds,
        "match_tolerance_seconds": settings.match_tolerance_seconds,
        "mismatch_min_unmatched": settings.mismatch_min_unmatched,
        "mismatch_min_ratio": float(settings.mismatch_min_ratio),
        "tracked_numbers": list(settings.tracked_numbers),
        "hash_salt": settings.effective_salt,
    }


@dataclass(frozen=True)
class ModelResult:
    ref: str
    rows: int
    seconds: float


def run_models(
    warehouse: Warehouse,
    settings: Settings,
    start: dt.date,
    end: dt.date,
    *,
    full_refresh: bool = False,
) -> list[ModelResult]:
    """Rebuild every model for ``start .. end`` plus the lookback; return rows and timings.

    ``full_refresh`` first empties every model table (dimensions included), for a rebuild of the
    whole history after a rule change.
    """
    if not settings.hash_salt:
        log.warning(
            "RINGBACK_HASH_SALT is not set: customer hashes use the public development salt. "
            "Set a secret salt before loading real data."
        )
    window = RebuildWindow.for_run(start, end, settings)
    models = catalog.models_in_order()
    if full_refresh:
        for table in models:
            warehouse.truncate(table)
    results: list[ModelResult] = []
    reports: list[dict[str, Any]] = []
    try:
        _build_all(warehouse, settings, window, models, results, reports)
    finally:
        if reports:
            from ringback import quality

            quality.record_results(warehouse, reports)
            quality.update_data_docs(settings)
    return results


def _audit_for(
    table: Table, settings: Settings, window: RebuildWindow, reports: list[dict[str, Any]]
) -> Any:
    """The mart's checkpoint, run on its rows before they replace the partitions."""
    if not settings.validate_marts or table.layer != "marts":
        return None

    def audit(rows: Any) -> None:
        from ringback import quality

        subject = f"{table.ref}:{window.start}..{window.end}"
        report = quality.validate_mart(table.ref, rows.to_pandas(), settings, subject)
        if report is None:
            return
        reports.append(report)
        if not report["success"]:
            raise quality.ValidationFailed(
                f"{table.ref} for {window.start}..{window.end} failed validation "
                f"({quality.failure_message([report])}); its partitions were not replaced. "
                f"Data Docs: {report['data_docs']}"
            )

    return audit


def _build_all(
    warehouse: Warehouse,
    settings: Settings,
    window: RebuildWindow,
    models: list[Table],
    results: list[ModelResult],
    reports: list[dict[str, Any]],
) -> None:
    for table in models:
        began = time.perf_counter()
        table_window = window
        if table.rebuild_lookahead == "recovery_window":
            ahead = dt.timedelta(days=recovery_days(settings))
            table_window = RebuildWindow(window.start, window.end + ahead)
        partitions = None
        if table.write_mode == "partitions":
            partitions = PartitionRange(table_window.start, table_window.end)
        rows = warehouse.run_model(
            table,
            render(table, settings),
            query_params(table_window, settings),
            partitions,
            _audit_for(table, settings, table_window, reports),
        )
        took = time.perf_counter() - began
        log.info(
            "built %s for %s..%s: %d rows in %.2f s",
            table.ref,
            table_window.start,
            table_window.end,
            rows,
            took,
        )
        results.append(ModelResult(table.ref, rows, took))
