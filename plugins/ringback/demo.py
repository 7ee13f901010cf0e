"""``make demo``: the whole pipeline on this machine, under Airflow, in a few minutes.

Starts the provider simulators on 127.0.0.1, points every source at them through
``AIRFLOW_CONN_<ID>``, runs each ingestion DAG for each of the last N complete days and then the
modelling DAG with Airflow's ``dag.test()`` (the code path of ``airflow dags test``, in one
process so Airflow and Great Expectations are imported once), stops the simulators, prints
the summary and writes the HTML report (``ringback report``).
It needs ``AIRFLOW_HOME`` with a migrated metadata DB (``make airflow-init``).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import time

from ringback.settings import load_settings, load_sources, project_root

log = logging.getLogger(__name__)


def run_demo(days: int = 7, seed: int = 7) -> int:
    from ringback import local_runs, simulators

    settings = load_settings()
    today = dt.datetime.now(settings.tz).date()
    run_dates = [today - dt.timedelta(days=n) for n in range(days, 0, -1)]
    sims = simulators.start_all(seed=seed)
    try:
        for source in load_sources():
            sim = sims[source.provider]
            os.environ[f"AIRFLOW_CONN_{source.id.upper()}"] = simulators.connection_uri(
                source.provider, sim.base_url
            )
        began = time.perf_counter()
        # Data Docs are rebuilt once at the end, not after each of the DAG runs.
        os.environ["RINGBACK_BUILD_DATA_DOCS"] = "false"
        local_runs.run_days(run_dates)
        took = time.perf_counter() - began
        os.environ["RINGBACK_BUILD_DATA_DOCS"] = "true"
    finally:
        for sim in sims.values():
            sim.stop()

    from ringback import report
    from ringback.quality import update_data_docs
    from ringback.summary import print_summary

    update_data_docs(load_settings())
    print(
        f"\nAirflow ran {len(run_dates)} days x {len(load_sources())} sources + the marts "
        f"DAG in {took:.0f} s."
    )
    print_summary(settings.warehouse_url, run_dates[0], run_dates[-1])
    html = report.write_report(
        settings.warehouse_url,
        run_dates[0],
        run_dates[-1],
        report.default_path(project_root(), run_dates[0], run_dates[-1]),
    )
    print(f"HTML report:         {html.resolve()}")
    print(
        f"Airflow home:        {os.environ.get('AIRFLOW_HOME', project_root() / '.airflow')}"
        " (make airflow-ui to browse the runs)"
    )
    return 0
