"""Build the models of ``sql/`` for a date range.

``ringback models run --start S --end E`` rebuilds the partitions ``S - rebuild_lookback_days ..
E`` of every partitioned model (late records and open recovery windows change them) and merges the
first-seen dimensions. Queries are BigQuery Standard SQL; Jinja shapes only their structure
(matching rounds, uniqueness mode). Every value reaches SQL as a named query parameter.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import math
import resource
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ringback import audits, business_hours, catalog, coverage, history
from ringback.catalog import Table
from ringback.runtime import Runtime
from ringback.settings import Config, ConfigError, Settings, settings_columns
from ringback.warehouse.base import PartitionRange, Warehouse

log = logging.getLogger(__name__)

# How far past the range's recovery look-ahead the open intervals reach: a callback deadline
# after a closure longer than this is unknown (NULL) and the call stays pending.
OPENING_HORIZON_DAYS = 31


def template_context(settings: Settings) -> dict[str, Any]:
    """Structural choices a query's shape depends on (never data values)."""
    return {"match_rounds": settings.match_rounds}


def render(table: Table, settings: Settings) -> str:
    """The model's query.sql with its Jinja structure resolved; still BigQuery SQL."""
    template = catalog.sql_templates(table.folder.parents[1]).from_string(
        table.query_path.read_text()
    )
    return template.render(**template_context(settings))


@dataclass(frozen=True)
class RebuildWindow:
    """The partitions a run replaces and the wider ranges its queries read."""

    start: dt.date
    end: dt.date

    def chunks(self, warehouse: Warehouse, max_rows: int) -> list[RebuildWindow]:
        """Consecutive windows covering this one, in date order, each holding at most
        ``max_rows`` staging rows (or a single day): one window when the range is small.

        Building a model chunk by chunk in date order gives the same rows as building the whole
        window at once, as daily runs give the same rows as a full rebuild: each chunk's queries
        read what earlier chunks wrote (first-seen state, the days before) and the look-ahead
        past its end that staging holds."""
        counts = {
            r["call_date"]: r["n"]
            for r in warehouse.query(
                "SELECT call_date, COUNT(*) AS n FROM staging.calls "
                "WHERE call_date BETWEEN @lo AND @hi GROUP BY call_date",
                {"lo": self.start, "hi": self.end},
            ).to_pylist()
        }
        if sum(counts.values()) <= max_rows:
            return [self]
        out, lo, rows, day = [], self.start, 0, self.start
        while day <= self.end:
            n = counts.get(day, 0)
            if rows and rows + n > max_rows:
                out.append(RebuildWindow(lo, day - dt.timedelta(days=1)))
                lo, rows = day, 0
            rows += n
            day += dt.timedelta(days=1)
        out.append(RebuildWindow(lo, self.end))
        return out

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


@dataclass(frozen=True)
class BusinessScope:
    """The businesses a run builds and the settings of every business it may read.

    ``selected`` is None for every business (no ``--business``). ``settings`` holds one entry
    per business in the sources file plus any business found in staging but absent from it
    (built with the global settings, see docs/operating.md).
    """

    selected: tuple[str, ...] | None
    settings: dict[str, Settings]
    configured: frozenset[str]
    names: dict[str, str]
    # Per business with CRM leads: the first window start and last window end of its CRM
    # sources' good loads (what marts.crm_reconciliation may compare).
    crm_coverage: dict[str, tuple[dt.datetime, dt.datetime]] = dataclasses.field(
        default_factory=dict
    )
    # Per business: the first window start and last window end of its call sources' good loads.
    calls_coverage: dict[str, tuple[dt.datetime, dt.datetime]] = dataclasses.field(
        default_factory=dict
    )

    def __post_init__(self) -> None:
        if not self.settings:
            raise ValueError("a business scope needs at least one business's settings")

    def each(self) -> list[Settings]:
        return list(self.settings.values())

    def opening_rows(self, first_day: dt.date, last_day: dt.date) -> list[dict[str, Any]]:
        """staging.business_hours rows: the open intervals of every business that keeps hours,
        over its local days ``first_day .. last_day``."""
        rows: list[dict[str, Any]] = []
        for bid, s in sorted(self.settings.items()):
            if business_hours.has_schedule(s.business_hours, s.holidays):
                intervals = business_hours.open_intervals(
                    s.business_hours, s.holidays, s.reporting_time_zone, first_day, last_day
                )
                rows += business_hours.interval_rows(bid, intervals)
        return rows

    def pool_rows(self) -> list[dict[str, Any]]:
        """staging.number_pools rows: every business's pools (the number_pools setting)."""
        return [
            {
                "business_id": bid,
                "pool_name": name,
                "company_number": number,
                "pool_size": len(numbers),
            }
            for bid, s in sorted(self.settings.items())
            for name, numbers in s.number_pools
            for number in numbers
        ]

    def max_recovery_days(self) -> int:
        return max(recovery_days(s) for s in self.each())

    def max_incident_baseline_days(self) -> int:
        return max(s.incident_baseline_days for s in self.each())

    def lookahead_days(self, lookahead: str | None) -> int:
        """How far a model's partitions reach past the dates built (its ``rebuild_lookahead``):
        later dates whose rows read the dates built."""
        reach = {
            None: lambda: 0,
            "recovery_window": self.max_recovery_days,
            "incident_baseline": self.max_incident_baseline_days,
        }
        return reach[lookahead]()

    def max_uniqueness_days(self) -> int | None:
        finite = [s.uniqueness_window_days for s in self.each() if s.uniqueness_window_days]
        return max(finite) if finite else None

    def rows(self) -> list[dict[str, Any]]:
        """staging.business_settings rows."""
        return [
            {
                "business_id": bid,
                "business_name": self.names.get(bid, bid),
                **settings_columns(s),
                "is_configured": bid in self.configured,
                "has_business_hours": business_hours.has_schedule(s.business_hours, s.holidays),
                "crm_synced_from": self.crm_coverage.get(bid, (None, None))[0],
                "crm_synced_until": self.crm_coverage.get(bid, (None, None))[1],
                "calls_covered_from": self.calls_coverage.get(bid, (None, None))[0],
                "calls_covered_until": self.calls_coverage.get(bid, (None, None))[1],
            }
            for bid, s in sorted(self.settings.items())
        ]


def query_params(
    window: RebuildWindow, settings: Settings, scope: BusinessScope | None = None
) -> dict[str, Any]:
    """Named parameters every model may use. Rule settings differ per business and reach the
    queries through staging.business_settings; the ranges here cover the widest of them."""
    scope = scope or BusinessScope(None, {"default": settings}, frozenset(), {})
    longest_uniqueness = scope.max_uniqueness_days()
    history_start = window.start
    if longest_uniqueness is not None:
        history_start = window.start - dt.timedelta(days=longest_uniqueness + 1)
    return {
        "start_date": window.start,
        "end_date": window.end,
        "pad_start_date": window.start - dt.timedelta(days=1),
        "pad_end_date": window.end + dt.timedelta(days=1),
        "history_start_date": history_start,
        "recovery_end_date": window.end + dt.timedelta(days=scope.max_recovery_days()),
        # The earliest date a missed call recovered by a call in the range can have.
        "recovery_start_date": window.start - dt.timedelta(days=scope.max_recovery_days()),
        # Incidents: the first date judged (a run's incident may have started a baseline before
        # the range) and the first its baselines read.
        "incident_judge_start_date": window.start
        - dt.timedelta(days=scope.max_incident_baseline_days()),
        "incident_history_start_date": window.start
        - dt.timedelta(days=2 * scope.max_incident_baseline_days()),
        "all_businesses": scope.selected is None,
        "business_ids": list(scope.selected or ()),
        "hash_salt": settings.effective_salt,
    }


@dataclass(frozen=True)
class ModelResult:
    ref: str
    rows: int
    seconds: float
    # The process's resident-memory high-water mark once the model was built: the model that
    # raises it is the one that sets a run's peak (DuckDB runs in this process).
    high_water_mb: float = 0.0


def high_water_mb() -> float:
    """This process's peak resident memory so far, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def business_scope(
    warehouse: Warehouse,
    settings: Settings,
    config: Config,
    per_business: dict[str, Settings],
    selected: Sequence[str] | None,
    span: tuple[dt.date, dt.date],
    seen: set[str],
) -> BusinessScope:
    """Settings of every configured business (``per_business``), plus those staging holds for
    ``span`` (or the history fold touched, ``seen``) that the sources file does not list."""
    per_business = dict(per_business)
    found = warehouse.query(
        "SELECT DISTINCT business_id FROM staging.calls WHERE call_date BETWEEN @lo AND @hi",
        {"lo": span[0], "hi": span[1]},
    ).column("business_id")
    for bid in {*found.to_pylist(), *seen, *(selected or ())} - per_business.keys():
        per_business[bid] = settings
    return BusinessScope(
        tuple(dict.fromkeys(selected)) if selected else None,
        per_business,
        frozenset(b.id for b in config.businesses),
        {b.id: b.name for b in config.businesses},
    )


def run_models(
    warehouse: Warehouse,
    runtime: Runtime,
    start: dt.date | None,
    end: dt.date | None,
    *,
    full_refresh: bool = False,
    businesses: Sequence[str] | None = None,
) -> list[ModelResult]:
    """Rebuild every model for ``start .. end`` plus the lookback, and every date whose staging
    rows changed since its last build (backfills, rows loaded by hand, late re-pulls of old days,
    a run that failed half way); return rows and timings. Without ``start``/``end`` only the
    changed dates are built. Afterwards every staged date must be in the marts (``history``).

    ``businesses`` limits the window's rebuild to those business ids (default: all); changed
    dates are built for the businesses whose rows changed. ``full_refresh`` first empties every
    model table (dimensions included) and builds all of staging again, after a rule change.

    The marts DAG runs the same three steps as separate tasks: ``prepare``, ``build_one`` per
    model in ``catalog.models_in_order()``, ``finish``.
    """
    plan = prepare(warehouse, runtime, start, end, full_refresh=full_refresh, businesses=businesses)
    results: list[ModelResult] = []
    reports: list[dict[str, Any]] = []
    try:
        for table in catalog.models_in_order():
            results.append(build_one(warehouse, runtime, plan, table, reports))
        finish(warehouse, plan)
    finally:
        record_audits(warehouse, reports)
    return results


@dataclass(frozen=True)
class Segment:
    """Dates a run builds for some businesses (``selected`` None: every business)."""

    window: RebuildWindow
    selected: tuple[str, ...] | None


def _merge(segments: list[Segment]) -> list[Segment]:
    """Overlapping or adjacent segments as one, in date order (a business set widens to the
    union; every business absorbs the rest)."""
    out: list[Segment] = []
    for seg in sorted(segments, key=lambda s: (s.window.start, s.window.end)):
        if out and seg.window.start <= out[-1].window.end + dt.timedelta(days=1):
            last = out[-1]
            selected = (
                None
                if last.selected is None or seg.selected is None
                else tuple(sorted({*last.selected, *seg.selected}))
            )
            end = max(last.window.end, seg.window.end)
            out[-1] = Segment(RebuildWindow(last.window.start, end), selected)
        else:
            out.append(seg)
    return out


@dataclass(frozen=True)
class RunPlan:
    """What ``prepare`` decided, in a form an Airflow task can hand the next (``to_json``)."""

    window: RebuildWindow | None  # the dates asked for, if any
    selected: tuple[str, ...] | None
    scope_ids: tuple[str, ...]  # every business the queries may read (configured or found)
    fold: history.PendingFold
    # Every date range to build, in date order, each in chunks of at most models_chunk_rows
    # staging rows, counted once here rather than by every model task: the window asked for
    # and the dates staging changed since their last build, each with its look-back.
    segments: tuple[Segment, ...]
    planned_at: dt.datetime

    def scope(self, runtime: Runtime) -> BusinessScope:
        return BusinessScope(
            self.selected,
            {bid: runtime.settings_of(bid) for bid in self.scope_ids},
            frozenset(b.id for b in runtime.config.businesses),
            runtime.business_names(),
        )

    def built_range(self) -> tuple[dt.date, dt.date] | None:
        if not self.segments:
            return None
        return self.segments[0].window.start, max(s.window.end for s in self.segments)

    def to_json(self) -> dict[str, Any]:
        return {
            "window": None
            if self.window is None
            else [self.window.start.isoformat(), self.window.end.isoformat()],
            "selected": list(self.selected) if self.selected is not None else None,
            "scope_ids": list(self.scope_ids),
            "fold": self.fold.to_json(),
            "segments": [
                [s.window.start.isoformat(), s.window.end.isoformat(), s.selected]
                for s in self.segments
            ],
            "planned_at": self.planned_at.isoformat(),
        }

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> RunPlan:
        day = dt.date.fromisoformat
        window = value["window"]
        return cls(
            None if window is None else RebuildWindow(day(window[0]), day(window[1])),
            None if value["selected"] is None else tuple(value["selected"]),
            tuple(value["scope_ids"]),
            history.PendingFold.from_json(value["fold"]),
            tuple(
                Segment(RebuildWindow(day(lo), day(hi)), None if sel is None else tuple(sel))
                for lo, hi, sel in value["segments"]
            ),
            dt.datetime.fromisoformat(value["planned_at"]),
        )


def prepare(
    warehouse: Warehouse,
    runtime: Runtime,
    start: dt.date | None,
    end: dt.date | None,
    *,
    full_refresh: bool = False,
    businesses: Sequence[str] | None = None,
) -> RunPlan:
    """Everything before the models: the businesses in scope and their settings table, and the
    date ranges to build (the window asked for, and every date staging changed since its last
    build)."""
    settings, config = runtime.settings, runtime.config
    planned_at = dt.datetime.now(dt.UTC)
    if not settings.hash_salt:
        log.warning(
            "RINGBACK_HASH_SALT is not set: customer hashes use the public development salt. "
            "Set a secret salt before loading real data."
        )
    if full_refresh and businesses:
        raise ConfigError(
            "--full-refresh empties the model tables of every business; run it without "
            "--business (or rebuild those businesses' dates without --full-refresh)"
        )
    if (start is None) != (end is None):
        raise ValueError("give both start and end, or neither")
    window = None if start is None or end is None else RebuildWindow.for_run(start, end, settings)
    if full_refresh:
        for table in catalog.models_in_order():
            warehouse.truncate(table)
    fold = history.pending(
        warehouse,
        window.start if window else None,
        window.end if window else None,
        selected=businesses,
        refold=full_refresh,
    )
    selected = tuple(dict.fromkeys(businesses)) if businesses else None
    wanted = [Segment(window, selected)] if window else []
    lookback = dt.timedelta(days=settings.rebuild_lookback_days)
    for lo, hi in fold.ranges:
        changed = sorted({r["business_id"] for r in fold.changed if lo <= r["call_date"] <= hi})
        wanted.append(Segment(RebuildWindow(lo - lookback, hi), tuple(changed) or None))
    segments = _merge(wanted)
    # Read span of the builds: padding, the longest uniqueness window, recovery look-ahead.
    configured = config.business_settings(settings)
    provisional = configured or {"default": settings}
    ahead = max(recovery_days(s) for s in provisional.values())
    back = max((s.uniqueness_window_days or 0) for s in provisional.values()) + 2
    first = segments[0].window.start if segments else planned_at.date()
    last = max((s.window.end for s in segments), default=planned_at.date())
    span = (first - dt.timedelta(days=back), last + dt.timedelta(days=ahead + 1))
    scope = business_scope(
        warehouse, settings, config, configured, businesses, span, fold.businesses
    )
    # One read of the call loads' windows serves the CRM's coverage and staging.source_coverage.
    call_windows = coverage.call_windows(warehouse, config)
    scope = dataclasses.replace(
        scope,
        crm_coverage=coverage.crm_coverage(warehouse, config),
        calls_coverage=coverage.calls_coverage(config, call_windows),
    )
    settings_table = catalog.table("staging.business_settings")
    warehouse.write(settings_table, settings_table.to_arrow(scope.rows()))
    coverage_table = catalog.table("staging.source_coverage")
    warehouse.write(
        coverage_table, coverage_table.to_arrow(coverage.source_coverage_rows(config, call_windows))
    )
    # Open intervals from before the first missed call the run can read to past the last
    # deadline it can meet: a callback SLA's deadline may fall after a long closure.
    hours_table = catalog.table("staging.business_hours")
    hours = scope.opening_rows(
        first - dt.timedelta(days=2),
        last + dt.timedelta(days=ahead + OPENING_HORIZON_DAYS),
    )
    warehouse.write(hours_table, hours_table.to_arrow(hours))
    pools_table = catalog.table("staging.number_pools")
    warehouse.write(pools_table, pools_table.to_arrow(scope.pool_rows()))
    chunked = tuple(
        Segment(chunk, seg.selected)
        for seg in segments
        for chunk in seg.window.chunks(warehouse, settings.models_chunk_rows)
    )
    if fold.ranges:
        log.info("building %s", ", ".join(f"{s.window.start}..{s.window.end}" for s in segments))
    log.info("prepared the run (memory high-water %.0f MB)", high_water_mb())
    return RunPlan(window, scope.selected, tuple(sorted(scope.settings)), fold, chunked, planned_at)


def build_one(
    warehouse: Warehouse,
    runtime: Runtime,
    plan: RunPlan,
    table: Table,
    reports: list[dict[str, Any]],
) -> ModelResult:
    """Build one model over the plan's segments, in date order (its partitions, audited first
    when it is a mart): each segment's queries read what the earlier ones wrote."""
    settings = runtime.settings
    scope = plan.scope(runtime)
    began = time.perf_counter()
    rows = 0
    segments: tuple[Segment, ...] = plan.segments
    if table.per_run:
        # A model over all history (the CRM matches) is built once, after the dated models,
        # over the whole range they built: a CRM load changes no call date.
        day = plan.planned_at.date()
        built = plan.built_range() or (day, day)
        segments = (Segment(RebuildWindow(*built), None),)
    for segment in segments:
        ahead = dt.timedelta(days=scope.lookahead_days(table.rebuild_lookahead))
        table_window = RebuildWindow(segment.window.start, segment.window.end + ahead)
        seg_scope = dataclasses.replace(scope, selected=segment.selected)
        rows += build_model(
            warehouse,
            settings,
            seg_scope,
            table,
            table_window,
            _audit_for(warehouse, table, settings, seg_scope, table_window, reports),
        )
    took = time.perf_counter() - began
    built = ", ".join(f"{s.window.start}..{s.window.end}" for s in segments) or "no dates"
    peak = high_water_mb()
    log.info(
        "built %s for %s: %d rows in %.2f s (memory high-water %.0f MB)",
        table.ref,
        built,
        rows,
        took,
        peak,
    )
    return ModelResult(table.ref, rows, took, peak)


def finish(warehouse: Warehouse, plan: RunPlan) -> None:
    """After every model built: remember the counts built and forget the CRM leads matched,
    then check every staged date is in the marts (``history.IncompleteMarts`` names any that is
    not)."""
    history.record(warehouse, plan.fold, plan.planned_at)
    history.clear_crm_marks(warehouse, plan.planned_at)
    history.check_complete(warehouse, plan.planned_at)


def record_audits(warehouse: Warehouse, reports: list[dict[str, Any]]) -> None:
    """Store the marts' validation results (``raw.validation_results``)."""
    if reports:
        audits.record_results(warehouse, reports)


def _audit_for(
    warehouse: Warehouse,
    table: Table,
    settings: Settings,
    scope: BusinessScope,
    window: RebuildWindow,
    reports: list[dict[str, Any]],
) -> Any:
    """The mart's suite, evaluated by the warehouse on its rows before they replace the
    partitions (audits.py: no copy of the rows, no Great Expectations import)."""
    if not settings.validate_marts or table.layer != "marts":
        return None

    def audit(relation: str) -> None:
        subject = f"{table.ref}:{window.start}..{window.end}"
        if scope.selected:
            subject += f":{'+'.join(scope.selected)}"
        # The bound on recovery_seconds: the longest window of the businesses in the run.
        longest = max(s.recovery_window_seconds for s in [settings, *scope.each()])
        report = audits.audit(
            warehouse, table, relation, subject, {"recovery_window_seconds": longest}
        )
        if report is None:
            return
        reports.append(report)
        if not report["success"]:
            raise audits.ValidationFailed(
                f"{table.ref} for {window.start}..{window.end} failed validation "
                f"({audits.failure_message([report])}); its partitions were not replaced. "
                "Results: raw.validation_results"
            )

    return audit


def build_model(
    warehouse: Warehouse,
    settings: Settings,
    scope: BusinessScope,
    table: Table,
    window: RebuildWindow,
    audit: Any = None,
) -> int:
    """Rebuild one model for ``window`` (its partitions, or its keys for a dimension), for the
    scope's businesses."""
    partitions = None
    if table.write_mode == "partitions" or table.replaces_dates:
        partitions = PartitionRange(window.start, window.end, scope.selected)
    return warehouse.run_model(
        table,
        render(table, settings),
        query_params(window, settings, scope),
        partitions,
        audit,
    )
