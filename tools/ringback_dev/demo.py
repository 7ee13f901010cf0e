"""``make demo``: the whole pipeline on this machine, under Airflow, in a few minutes.

Starts the provider simulators on 127.0.0.1 (and writes the demo Asterisk's CDR database),
points every source at them through ``AIRFLOW_CONN_<ID>``, runs each ingestion DAG for each of
the last N complete days and then the modelling DAG with Airflow's ``dag.test()`` (the code
path of ``airflow dags test``, in one process so Airflow and Great Expectations are imported
once), stops the simulators, prints the summary and writes the HTML report
(``ringback report``). It needs ``AIRFLOW_HOME`` with a migrated metadata DB
(``make airflow-init``).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import time

from ringback.runtime import Runtime
from ringback.settings import project_root
from ringback_dev import measurements

log = logging.getLogger(__name__)


def run_demo(days: int = 7, seed: int = 7) -> int:
    from ringback_dev import local_runs, simulators
    from ringback_dev.simulators.ga4 import GA4Simulator
    from ringback_dev.simulators.ga4 import connection_uri as ga4_uri
    from ringback_dev.simulators.google_ads import DataManagerSimulator
    from ringback_dev.simulators.google_ads import connection_uri as data_manager_uri

    runtime = Runtime.load()
    settings = runtime.settings
    today = dt.datetime.now(settings.tz).date()
    run_dates = [today - dt.timedelta(days=n) for n in range(days, 0, -1)]

    # Three faults on known days, for the incidents the summary must name (demo_breaks).
    sims = simulators.start_all(
        seed=seed, breaks=simulators.demo_breaks(today), pools=simulators.DEMO_POOLS
    )
    # Exports (off unless enabled) go to a local GA4 fake, never to a real property: the demo's
    # leads are made up.
    ga4 = GA4Simulator()
    ga4.start()
    # Each business may send to its own GA4 property (connection); all go to the fake here.
    # The Airflow tasks read connections and settings from the environment, as in production.
    for own in [settings, *runtime.business_settings().values()]:
        os.environ[f"AIRFLOW_CONN_{own.ga4_connection_id.upper()}"] = ga4_uri(ga4)
    # Google Ads conversions go to a local Data Manager fake that rejects one click, which a
    # second export run learns (Google's verdict comes after the upload; asked at once here).
    data_manager = DataManagerSimulator()
    data_manager.start()
    # Austin's: of the demo's call trackers only CallRail reports the click id (GCLID). A day
    # before the last, so the lead's conversation is in the range (the last, for --days 1).
    rejected_click = simulators.demo_rejected_click(
        sims["callrail"].generator, run_dates[max(len(run_dates) - 2, 0)]
    )
    if rejected_click:
        data_manager.rejections[rejected_click] = "PROCESSING_ERROR_REASON_CLICK_NOT_FOUND"
    os.environ |= {
        "RINGBACK_EXPORT_GOOGLE_ADS_ENABLED": "true",
        "RINGBACK_GOOGLE_ADS_UPLOAD": "data_manager",
        "RINGBACK_GOOGLE_ADS_STATUS_DELAY_MINUTES": "0",
        f"AIRFLOW_CONN_{settings.google_ads_connection_id.upper()}": data_manager_uri(
            data_manager, "1234567890", "987654321"
        ),
    }
    try:
        for source in runtime.config.sources:
            if source.provider == "asterisk_db":
                # The Odesa practice's Asterisk: its CDR table, written up to now, in SQLite.
                first = dt.datetime.combine(run_dates[0], dt.time(), tzinfo=source.tz)
                uri = simulators.asterisk_database(
                    project_root() / "data" / "demo" / f"{source.id}.sqlite",
                    first - dt.timedelta(days=settings.deep_repull_days + 1),
                    dt.datetime.now(dt.UTC),
                    seed=seed,
                )
            else:
                name = simulators.simulator_name(source.id, source.provider)
                uri = simulators.connection_uri(name, sims[name].base_url)
            os.environ[f"AIRFLOW_CONN_{source.id.upper()}"] = uri
        began = time.perf_counter()
        # Data Docs are rebuilt once at the end, not after each of the DAG runs.
        os.environ["RINGBACK_BUILD_DATA_DOCS"] = "false"
        runs = local_runs.run_days(run_dates)
        took = time.perf_counter() - began
        # The next export run asks Google how it processed the uploads: the rejected click
        # fails the export task on purpose (an alert, no retry), as it would in production.
        verdict = local_runs.run_export(run_dates)
        os.environ["RINGBACK_BUILD_DATA_DOCS"] = "true"
    finally:
        for sim in [*sims.values(), ga4, data_manager]:
            sim.stop()

    from ringback import report
    from ringback.quality import update_data_docs
    from ringback.summary import print_summary

    update_data_docs(settings)
    print(
        f"\nAirflow ran {len(run_dates)} days x {len(runtime.config.sources)} sources, then the "
        f"marts and export DAGs, in {took:.0f} s."
    )
    print_summary(runtime, run_dates[0], run_dates[-1])
    marts_run = next(r for r in runs if r.dag_id == "ringback_build_marts")
    print(f"Marts DAG task time: {marts_run.task_time_line()}")
    if settings.export_ga4_enabled:
        print(f"GA4 (local fake) received {len(ga4.received)} events, dropped {len(ga4.dropped)}")
    print(
        "Google Ads (local Data Manager fake) received "
        f"{sum(r.records for r in data_manager.ingested.values())} conversions in "
        f"{len(data_manager.request_ids)} requests; rejected click {rejected_click}. The "
        f"export run that learned Google's verdict ended {verdict.state} "
        "(a rejection fails the export task on purpose: see Conversion uploads above)."
    )
    html = report.write_report(
        runtime,
        run_dates[0],
        run_dates[-1],
        report.default_path(project_root(), run_dates[0], run_dates[-1]),
    )
    print(f"HTML report:         {html.resolve()}")
    print(
        f"Airflow home:        {os.environ.get('AIRFLOW_HOME', project_root() / '.airflow')}"
        " (make airflow-ui to browse the runs)"
    )
    # `make demo` passes the moment make started (set-up included), for `make bench`.
    started = float(os.environ.get("RINGBACK_DEMO_STARTED") or 0)
    if started:
        total = time.time() - started
        print(f"make demo took:      {total:.0f} s (set-up included)")
        measurements.record("demo", seconds=round(total, 1), airflow_seconds=round(took, 1))
    return 0
