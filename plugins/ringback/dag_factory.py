"""The Airflow DAGs, built from the sources file. DAG files in ``dags/`` only call these.

Nothing here touches the network, the warehouse, Airflow Variables or connections while a DAG
file is parsed: tasks import and resolve what they need when they run.

- ``ringback_ingest_<source_id>`` (one per source, daily): extract -> validate -> publish. The run
  for the data interval starting on local day D pulls D and the re-pull window before it.
  ``publish`` updates the source's Asset, with the run date in the event's extra; a call
  source's ``wake_marts_if_late`` updates its business's marts-due Asset when the load covered
  a date the marts built without it.
- ``ringback_marts_deadline_<business>``: daily at the business's ``marts_deadline_hour``;
  updates the marts-due Asset when staging holds dates of the business the marts have not built.
- ``ringback_build_marts``: scheduled per business on all its sources' Assets or its marts-due
  Asset; one task per model of ``sql/`` (wired by each model's ``depends_on``) for every date
  staging changed since its last build (and ``start``/``end`` given in the run's conf);
  updates the marts Asset with the dates built.

Every task makes one ``Runtime`` (settings, sources file, warehouse, batch store) when it runs
and passes it down. Tasks hand each other load ids and plans, never local paths, so the DAGs run
on any executor when ``batch_store_url`` is a bucket. A validation failure is deterministic: it
raises ``AirflowFailException`` (no retry) with the failing expectations in its message.
- ``ringback_export_leads``: scheduled on the marts Asset; sends the recovered leads of the
  rebuilt dates to GA4 and writes the Google Ads file, each task skipped unless enabled.
"""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo
from typing import Any

from airflow.sdk import (
    DAG,
    Asset,
    AssetAll,
    AssetAny,
    CronDataIntervalTimetable,
    CronTriggerTimetable,
    Param,
    dag,
    task,
)

from ringback.alerts import on_failure
from ringback.settings import SourceConfig, load_config, load_settings

log = logging.getLogger(__name__)

OWNER = "data-engineering"
TAGS = ["ringback"]


def _runtime() -> Any:
    """The task's runtime, made when the task runs (never at parse time)."""
    from ringback.runtime import Runtime

    return Runtime.load()


def _fail(exc: Exception) -> Exception:
    """A deterministic failure (validation): fail the task now, without retries."""
    from airflow.sdk.exceptions import AirflowFailException

    return AirflowFailException(str(exc))


def default_args() -> dict[str, Any]:
    """Task defaults; retries come from the settings (local file and environment only)."""
    settings = load_settings()
    return {
        "owner": OWNER,
        "retries": settings.task_retries,
        "retry_delay": dt.timedelta(seconds=settings.task_retry_delay_seconds),
        # A multiplier since Airflow 3.1 (True would mean 1.0: a constant delay).
        "retry_exponential_backoff": 2.0,
        "max_retry_delay": dt.timedelta(minutes=30),
        "on_failure_callback": on_failure,
    }


START_DATE = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def every_dag() -> dict[str, Any]:
    """What every ringback DAG shares: no catch-up, one run at a time, the task defaults."""
    return {
        "start_date": START_DATE,
        "catchup": False,
        "max_active_runs": 1,
        "default_args": default_args(),
    }


# One writer at a time on a DuckDB file: tasks that write take a slot in this pool (created by
# `make airflow-init`; on BigQuery it may be widened).
WAREHOUSE_POOL = "ringback_warehouse"


def staging_asset(source_id: str) -> Asset:
    """The Asset a source's publish task updates: its rows in staging.calls."""
    return Asset(
        name=f"ringback.staging.calls.{source_id}",
        uri=f"ringback://staging/calls/{source_id}",
        group="ringback",
    )


MARTS_ASSET = Asset(name="ringback.marts", uri="ringback://marts", group="ringback")


def marts_due_asset(business_id: str) -> Asset:
    """Wakes the marts for one business without waiting for all its sources: updated at the
    business's deadline hour, and by a source that loads a date the marts built without it."""
    return Asset(
        name=f"ringback.marts_due.{business_id}",
        uri=f"ringback://marts_due/{business_id}",
        group="ringback",
    )


def _conf_dates(context: dict[str, Any]) -> dict[str, str] | None:
    """``start``/``end`` given in a manual run's conf (either alone means that one day)."""
    params = context.get("params") or {}
    if params.get("start") or params.get("end"):
        start = params.get("start") or params.get("end")
        return {"start": start, "end": params.get("end") or start}
    return None


def _event_extras(context: dict[str, Any]) -> list[dict[str, Any]]:
    """The extras of the Asset events that triggered this run."""
    events = (context.get("triggering_asset_events") or {}).values()
    return [event.extra or {} for batch in events for event in batch]


def _run_date(context: dict[str, Any], tz: str) -> dt.date:
    override = (context.get("params") or {}).get("run_date")
    if override:
        return dt.date.fromisoformat(str(override))
    start = context.get("data_interval_start") or context["logical_date"]
    return start.astimezone(zoneinfo.ZoneInfo(tz)).date()


def deep_repull(context: dict[str, Any], settings: Any, run_date: dt.date) -> bool:
    """The weekly deep re-pull belongs to the daily schedule: a backfill pulls every day anyway,
    and must not reach before the range it was asked for."""
    run_type = str(getattr(context.get("dag_run"), "run_type", "") or "").lower()
    return "backfill" not in run_type and settings.is_deep_repull_day(run_date)


def _ingest_doc(
    source: SourceConfig, asset: Asset, table: str, what: str, checkpoint: str, pulled: str
) -> str:
    return f"""
### Ingest `{source.id}` ({source.provider}, {source.system})

Pulls {pulled} plus the trailing re-pull window from {source.provider}
(on `deep_repull_weekday`, outside backfills, the `deep_repull_days` window),
writes the batch aside, validates it with the Great Expectations checkpoint
`{checkpoint}`, and only then replaces the batch's {what} in `{table}` by key.

* **extract**: provider API -> batch files (raw records, staged rows, quarantine, manifest).
* **validate**: critical failures stop the run here; staging is untouched.
* **publish**: raw, quarantine, staging, load log; updates Asset `{asset.name}`.

Credentials: Airflow connection `{source.conn_id}` (or `AIRFLOW_CONN_{source.conn_id.upper()}`).
Rerunning a day replaces that day's load: the tables come out the same.
"""


def ingest_dag(source: SourceConfig) -> DAG:
    asset = staging_asset(source.id)
    due = marts_due_asset(source.business_id)
    reporting_tz = source.time_zone
    crm = source.system == "crm"
    table = "staging.crm_leads" if crm else "staging.calls"
    what = "CRM leads" if crm else "calls"
    checkpoint = "staging_crm_leads_load" if crm else "staging_calls_load"
    pulled = (
        "the leads and deals changed in one local day"
        if crm
        else f"one local day ({source.time_zone})"
    )

    @dag(
        dag_id=f"ringback_ingest_{source.id}",
        description=f"Daily {what} from {source.provider} ({source.system}) into {table}",
        schedule=CronDataIntervalTimetable("0 0 * * *", timezone=reporting_tz),
        **every_dag(),
        tags=[*TAGS, "ingest", source.provider, source.system],
        params={
            "run_date": Param(
                None, type=["null", "string"], description="Override the day to pull (YYYY-MM-DD)."
            )
        },
        doc_md=_ingest_doc(source, asset, table, what, checkpoint, pulled),
    )
    def ingest() -> None:
        @task
        def extract(**context: Any) -> str:
            """Pull and map the day; the batch goes to the batch store; returns its load id."""
            from ringback import ingest as pipeline

            runtime = _runtime()
            run_date = _run_date(context, reporting_tz)
            deep = deep_repull(context, runtime.settings, run_date)
            return pipeline.extract(runtime, runtime.source(source.id), run_date, deep=deep)

        # Not in the pool: most of its time is Great Expectations on the batch files; its short
        # warehouse reads and writes wait on the DuckDB lock instead.
        @task
        def validate(load_id: str) -> dict[str, Any]:
            from ringback import ingest as pipeline

            runtime = _runtime()
            report = pipeline.validate(runtime, load_id)
            if not report.success:
                # Record the failed load (raw + load log) before stopping the run.
                try:
                    pipeline.publish(runtime, load_id)
                except pipeline.ValidationFailed as exc:
                    raise _fail(exc) from None
            return {
                "success": report.success,
                "warnings": report.warnings,
                "critical_failures": report.critical_failures,
                "rows": report.rows,
            }

        @task(outlets=[asset], pool=WAREHOUSE_POOL)
        def publish(load_id: str, report: dict[str, Any], **context: Any) -> dict[str, Any]:
            from ringback import ingest as pipeline

            try:
                manifest = pipeline.publish(_runtime(), load_id)
            except pipeline.ValidationFailed as exc:
                raise _fail(exc) from None
            summary = {
                "business_id": source.business_id,
                "source_id": manifest.source_id,
                "run_date": manifest.run_date,
                "awaited_dates": manifest.awaited_dates,
                "received": manifest.received_records,
                "staged": manifest.staged_records,
                "quarantined": manifest.quarantined_records,
                "warnings": report["warnings"],
            }
            context["outlet_events"][asset].extra = summary
            return summary

        # Off the pool: publish found and marked the dates; this only announces them.
        @task(outlets=[due])
        def wake_marts_if_late(summary: dict[str, Any], **context: Any) -> list[str]:
            """Rebuild the dates the marts built without this source, now that it loaded them
            (publish marked them): updates the business's marts-due Asset, else skips."""
            from airflow.sdk.exceptions import AirflowSkipException

            dates = list(summary.get("awaited_dates") or [])
            if not dates:
                raise AirflowSkipException("the marts built no date without this source")
            context["outlet_events"][due].extra = {
                "business_id": source.business_id,
                "dates": dates,
            }
            return dates

        load_id = extract()
        summary = publish(load_id, validate(load_id))
        if not crm:
            wake_marts_if_late(summary)

    return ingest()


def marts_schedule(sources: list[SourceConfig]) -> Any:
    """Run when all sources of a business have loaded, or when its marts are due (its deadline
    hour, or a late source), for any business: one business's late source never holds back the
    others' marts."""
    by_business: dict[str, list[Asset]] = {}
    for s in sources:
        by_business.setdefault(s.business_id, []).append(staging_asset(s.id))
    groups = [
        AssetAny(AssetAll(*a) if len(a) > 1 else a[0], marts_due_asset(bid))
        for bid, a in by_business.items()
    ]
    if not groups:
        return None
    return groups[0] if len(groups) == 1 else AssetAny(*groups)


MARTS_DOC = """
### Build the marts

Wakes when every source of a business has updated its staging Asset, for each business on its
own, or when a business's marts are due (`ringback.marts_due.<business>`: its deadline DAG at
`marts_deadline_hour`, or a source that loaded a date the marts built without it), or by hand
(optionally with `start`/`end` and `businesses` in the run conf). What it builds
comes from the warehouse, not from the events: every (business, date) whose staging rows changed
since their last successful build (`staging.folded_partitions`), plus `rebuild_lookback_days`
before each, plus the conf's dates. Merged or dropped events, cleared runs, reruns and backfills
all converge on the same tables; a run with nothing to build succeeds in seconds.

* **prepare**: the businesses in scope, `staging.business_settings`,
  `staging.business_hours` (opening intervals) and `staging.number_pools`, and the date ranges
  to build.
* **one task per model** of `sql/` (`unified_calls`, `customer_first_seen`, `tracked_numbers`,
  `primary_calls`, the marts `attributed_leads`, `missed_calls`, `unmatched_calls`,
  `call_reconciliation`, `missed_call_followups`, `call_handling_hourly`,
  `tracking_number_health` (sessionless, one-system and shared calls per tracking number and
  pool), `reconciliation_incidents` (each cause's share against the business's own baseline; its
  partitions reach `incident_baseline_days` past the dates built), then `crm_leads`,
  rematched for the customers of the CRM leads loaded since the last run and of the dates built,
  and `crm_reconciliation`, rebuilt whole: a CRM load may change a week-old match or a
  month-old deal), wired by each model's
  `depends_on`: a failed model is the red square, and clearing it reruns that model and what
  reads it. Marts are validated by the warehouse (their suites compiled to SQL) before they
  replace their partitions; a failed validation fails the task without retry.
* **finish**: records the counts built and forgets the CRM leads matched, then checks
  completeness: every staged (business, date) built from its current rows and, with inbound
  calls, in `marts.call_reconciliation`. A gap fails the task (no retry) naming the dates,
  and marks them for the next run. Updates the marts Asset with the dates built.
* **announce_incidents**: sends each reconciliation incident found open for the first time
  (`analytics.reconciliation_incidents`) to the Slack alert connection `ringback_slack`, else
  to this task's log, once (`raw.incident_alerts`).
* **data_docs**: drops stored load validations older than `validation_results_retention_days`
  and rebuilds the Great Expectations Data Docs (off when `build_data_docs` is false).

The same result as a full rebuild, whatever the number of runs.
"""


# Its own task, off the warehouse pool: Great Expectations' import and the docs build take
# seconds that no model task should pay.
@task
def data_docs() -> str:
    """Drop stored load validations past the retention and rebuild the Data Docs."""
    from airflow.sdk.exceptions import AirflowSkipException

    from ringback import quality

    settings = _runtime().settings
    if not settings.build_data_docs:
        raise AirflowSkipException("build_data_docs is false")
    return quality.update_data_docs(settings) or "not built (see the log)"


def marts_dag(sources: list[SourceConfig]) -> DAG:

    @dag(
        dag_id="ringback_build_marts",
        description="Models and marts for the dates the latest loads touched",
        schedule=marts_schedule(sources),
        **every_dag(),
        tags=[*TAGS, "models", "marts"],
        params={
            "start": Param(None, type=["null", "string"], description="First date (YYYY-MM-DD)."),
            "end": Param(None, type=["null", "string"], description="Last date (YYYY-MM-DD)."),
            "businesses": Param(
                [],
                type="array",
                description="Business ids to rebuild (empty: every business).",
            ),
        },
        doc_md=MARTS_DOC,
    )
    def build_marts() -> None:
        @task
        def affected_dates(**context: Any) -> dict[str, Any]:
            """The dates asked for in the conf, if any. Events only wake the DAG: what to
            build comes from the warehouse (every date staging changed since its last build)."""
            given = _conf_dates(context)
            named = list((context.get("params") or {}).get("businesses") or [])
            if not given:
                return {"start": None, "end": None, "businesses": []}
            return {"start": given["start"], "end": given["end"], "businesses": named}

        @task(pool=WAREHOUSE_POOL)
        def prepare(dates: dict[str, Any]) -> dict[str, Any]:
            """Businesses in scope, their settings table, and the history fold."""
            from ringback import models

            runtime = _runtime()
            with runtime.connect() as wh:
                wh.init()
                day = dt.date.fromisoformat
                plan = models.prepare(
                    wh,
                    runtime,
                    day(dates["start"]) if dates.get("start") else None,
                    day(dates["end"]) if dates.get("end") else None,
                    businesses=dates.get("businesses") or None,
                )
            return plan.to_json()

        def model_task(ref: str) -> Any:
            @task(task_id=ref.split(".", 1)[1], pool=WAREHOUSE_POOL, doc_md=f"Builds `{ref}`.")
            def build_model(plan: dict[str, Any]) -> dict[str, Any]:
                from ringback import audits, catalog, models

                runtime = _runtime()
                reports: list[dict[str, Any]] = []
                with runtime.connect() as wh:
                    try:
                        result = models.build_one(
                            wh, runtime, models.RunPlan.from_json(plan), catalog.table(ref), reports
                        )
                    except audits.ValidationFailed as exc:
                        raise _fail(exc) from None
                    finally:
                        models.record_audits(wh, reports)
                return {
                    "model": result.ref,
                    "rows": result.rows,
                    "seconds": round(result.seconds, 3),
                }

            return build_model

        @task(pool=WAREHOUSE_POOL, outlets=[MARTS_ASSET])
        def finish(plan: dict[str, Any], **context: Any) -> dict[str, Any]:
            """Record what was built once every model has, check no staged date is missing
            from the marts, announce the dates built."""
            from ringback import history, models

            run_plan = models.RunPlan.from_json(plan)
            with _runtime().connect() as wh:
                try:
                    models.finish(wh, run_plan)
                except history.IncompleteMarts as exc:
                    raise _fail(exc) from None
            built = run_plan.built_range()
            extra = {"start": built[0].isoformat(), "end": built[1].isoformat()} if built else {}
            context["outlet_events"][MARTS_ASSET].extra = extra
            return extra

        @task(pool=WAREHOUSE_POOL)
        def announce_incidents(built: dict[str, Any]) -> list[str]:
            """Tell people about reconciliation incidents found open for the first time (Slack
            alert connection, else this log); each is announced once."""
            from ringback import incidents

            runtime = _runtime()
            return incidents.announce(runtime.connect, runtime.business_names())

        dates = affected_dates()
        plan = prepare(dates)
        built: dict[str, Any] = {}
        for table in model_tables():
            built[table.ref] = model_task(table.ref)(plan)
            upstream = [built[d] for d in table.depends_on if d in built and d != table.ref]
            for dep in upstream:
                dep >> built[table.ref]
        done = finish(plan)
        for node in built.values():
            node >> done
        done >> data_docs()
        announce_incidents(done)

    return build_marts()


def deadline_dag(business_id: str, hour: int, time_zone: str, source_ids: list[str]) -> DAG:
    due = marts_due_asset(business_id)

    @dag(
        dag_id=f"ringback_marts_deadline_{business_id}",
        description=f"Marts of {business_id} for yesterday by {hour:02d}:00, whatever has loaded",
        schedule=CronTriggerTimetable(f"0 {hour} * * *", timezone=time_zone),
        **every_dag(),
        tags=[*TAGS, "marts", "deadline"],
        params={
            "run_date": Param(
                None, type=["null", "string"], description="The day due (YYYY-MM-DD)."
            )
        },
        doc_md=f"""
### Marts deadline of `{business_id}`

At {hour:02d}:00 ({time_zone}) the marts of `{business_id}` are due for the day before, whether
or not every call source ({", ".join(f"`{s}`" for s in source_ids)}) has loaded it. If
staging holds calls the marts have not built, this updates `{due.name}`, which wakes
`ringback_build_marts`. A date built without one of its sources carries them in
`marts.call_reconciliation.missing_sources` (status `incomplete` in
`analytics.daily_reconciliation`) and is not flagged; the source's load of that date marks it
for rebuilding and wakes the marts again. The hour is the business's `marts_deadline_hour`.
""",
    )
    def deadline() -> None:
        @task(outlets=[due], pool=WAREHOUSE_POOL)
        def wake_marts(**context: Any) -> dict[str, Any]:
            """Wake the marts if staging holds dates they have not built; name the sources
            the day due still waits for."""
            from airflow.sdk.exceptions import AirflowSkipException

            from ringback import coverage, history

            runtime = _runtime()
            given = (context.get("params") or {}).get("run_date")
            # A run at the deadline hour of local day D is due for D - 1.
            day = (
                dt.date.fromisoformat(str(given))
                if given
                else _run_date(context, time_zone) - dt.timedelta(days=1)
            )
            with runtime.connect(read_only=True) as wh:
                missing = coverage.missing_sources(wh, runtime.config, business_id, day)
                fold = history.pending(wh, None, None, selected=[business_id])
            waiting = sorted(
                {r["call_date"] for r in fold.changed if r["business_id"] == business_id}
            )
            if missing:
                log.warning("%s %s is due without %s", business_id, day, ", ".join(missing))
            if not waiting:
                raise AirflowSkipException(f"the marts of {business_id} are built; nothing waits")
            extra = {
                "business_id": business_id,
                "run_date": day.isoformat(),
                "missing_sources": missing,
                "dates": [d.isoformat() for d in waiting],
            }
            context["outlet_events"][due].extra = extra
            return extra

        wake_marts()

    return deadline()


def export_dag() -> DAG:
    @dag(
        dag_id="ringback_export_leads",
        description="Recovered leads to GA4 (Measurement Protocol) and a Google Ads upload file",
        schedule=[MARTS_ASSET],
        **every_dag(),
        tags=[*TAGS, "export"],
        params={
            "start": Param(None, type=["null", "string"], description="First lead date."),
            "end": Param(None, type=["null", "string"], description="Last lead date."),
        },
        doc_md="""
### Export recovered leads
Runs after each marts build. Takes the `missed_call_retry` and `missed_call_callback` leads of
the rebuilt dates and
* **ga4**: sends one Measurement Protocol event per lead to the GA client id of the missed call
  it is credited to (connection `ringback_ga4`: login = measurement id, password = API secret);
* **google_ads**: writes an offline call-conversion file under `export_dir` for leads whose
  credited call came from Google Ads.

Both are **off** until `export_ga4_enabled` / `export_google_ads_enabled` are set; a disabled
task is skipped. The ledger `raw.lead_exports` keeps every lead from being sent twice, across
retries and reruns; a request that got no answer is not resent (see README).
""",
    )
    def export_leads() -> None:
        @task
        def lead_dates(**context: Any) -> dict[str, str]:
            if given := _conf_dates(context):
                return given
            dates = [e[k] for e in _event_extras(context) for k in ("start", "end") if e.get(k)]
            if not dates:
                from airflow.sdk.exceptions import AirflowSkipException

                # A marts run with nothing to build announces no dates.
                raise AirflowSkipException("the marts runs built no dates")
            # The build replaced attributed dates from start - lookback; their leads may fall
            # a day after end.
            lookback = _runtime().settings.rebuild_lookback_days
            first = dt.date.fromisoformat(min(dates)) - dt.timedelta(days=lookback)
            last = dt.date.fromisoformat(max(dates)) + dt.timedelta(days=1)
            return {"start": first.isoformat(), "end": last.isoformat()}

        def export_to(destination: str, dates: dict[str, str]) -> str:
            from airflow.sdk.exceptions import AirflowSkipException

            from ringback import export

            runtime = _runtime()
            flag = f"export_{destination}_enabled"
            owners = [runtime.settings, *runtime.business_settings().values()]
            if not any(getattr(own, flag) for own in owners):
                raise AirflowSkipException(f"{flag} is false for every business")
            results = export.run_export(
                runtime,
                dt.date.fromisoformat(dates["start"]),
                dt.date.fromisoformat(dates["end"]),
                [destination],
            )
            lines = "; ".join(r.line() for r in results)
            if any(r.counts.get("failed") for r in results):
                # The failed leads are tried again by this task's retry (the ledger skips the rest).
                raise RuntimeError(lines)
            if rejected := sum(r.rejected for r in results):
                from airflow.sdk.exceptions import AirflowFailException

                # Recorded in the ledger; the same data would fail again: alert, do not retry.
                raise AirflowFailException(f"Google rejected {rejected} uploaded leads: {lines}")
            return lines

        # Not in the pool: the ledger is written in short connections between requests.
        @task
        def send_to_ga4(dates: dict[str, str]) -> str:
            return export_to("ga4", dates)

        @task
        def write_google_ads_file(dates: dict[str, str]) -> str:
            return export_to("google_ads", dates)

        dates = lead_dates()
        send_to_ga4(dates)
        write_google_ads_file(dates)

    return export_leads()


def configured_sources() -> list[SourceConfig]:
    """The sources file's sources (parse time: a local file, no network or metadata DB)."""
    return list(load_config(load_settings()).sources)


def model_tables() -> list[Any]:
    """The models of sql/ in dependency order (parse time: local files only)."""
    from ringback import catalog

    return catalog.models_in_order()


def ingest_dags() -> dict[str, DAG]:
    """One ingestion DAG per source in the sources file (reads only that local file)."""
    return {d.dag_id: d for d in (ingest_dag(s) for s in configured_sources())}


def deadline_dags() -> dict[str, DAG]:
    """One deadline DAG per business with call sources and a ``marts_deadline_hour``
    (the local settings and sources files only)."""
    settings = load_settings()
    config = load_config(settings)
    per_business = config.business_settings(settings)
    out: dict[str, DAG] = {}
    for business in config.businesses:
        own = per_business.get(business.id, settings)
        sources = [s.id for s in config.call_sources(business.id)]
        if sources and own.marts_deadline_hour is not None:
            d = deadline_dag(business.id, own.marts_deadline_hour, own.reporting_time_zone, sources)
            out[d.dag_id] = d
    return out
