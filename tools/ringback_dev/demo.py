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

    runtime = Runtime.load()
    settings = runtime.settings
    today = dt.datetime.now(settings.tz).date()
    run_dates = [today - dt.timedelta(days=n) for n in range(days, 0, -1)]

    # Two faults on known days, for the incidents the summary must name (demo_breaks).
    sims = simulators.start_all(seed=seed, breaks=simulators.demo_breaks(today))
    # Exports (off unless enabled) go to a local GA4 fake, never to a real property: the demo's
    # leads are made up.
    ga4 = GA4Simulator()
    ga4.start()
    # Each business may send to its own GA4 property (connection); all go to the fake here.
    # The Airflow tasks read connections and settings from the environment, as in production.
    for own in [settings, *runtime.business_settings().values()]:
        os.environ[f"AIRFLOW_CONN_{own.ga4_connection_id.upper()}"] = ga4_uri(ga4)
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
        os.environ["RINGBACK_BUILD_DATA_DOCS"] = "true"
    finally:
        for sim in [*sims.values(), ga4]:
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
