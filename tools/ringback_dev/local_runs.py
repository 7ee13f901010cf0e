"""Run the DAGs in this process with Airflow's ``dag.test()`` (no scheduler needed).

The code path of ``airflow dags test``: real task instances, retries, XComs and Asset events in
the metadata DB of ``AIRFLOW_HOME``, but one interpreter, so Airflow and Great Expectations are
imported once. ``make demo``, ``ringback-dev dags test`` and the reliability tests use it;
production runs go through the scheduler (``airflow backfill create`` for past days).
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import Any

from ringback.settings import project_root


class DagRunFailed(RuntimeError):
    """A DAG run ended in a state other than success."""


@dataclass(frozen=True)
class RunResult:
    dag_id: str
    conf: dict[str, str]
    state: str
    seconds: float
    tries: dict[str, int]  # task id -> attempts it took
    task_seconds: dict[str, float]  # task id -> duration of its last try (Airflow's record)

    def task_time_line(self) -> str:
        """The run's task time: the sum of its tasks' durations, and the slowest three."""
        total = sum(self.task_seconds.values())
        slowest = sorted(self.task_seconds.items(), key=lambda kv: -kv[1])[:3]
        return (
            f"{self.dag_id}: {len(self.task_seconds)} tasks, task time {total:.1f} s "
            f"(run {self.seconds:.1f} s); slowest "
            + ", ".join(f"{t} {s:.1f} s" for t, s in slowest)
        )


def load_dags() -> dict[str, Any]:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(project_root() / "dags"))
    if bag.import_errors:
        raise RuntimeError(f"DAG import errors: {bag.import_errors}")
    return bag.dags


def run_days(
    run_dates: list[dt.date], sources: list[str] | None = None, *, marts: bool = True
) -> list[RunResult]:
    """Each ingestion DAG (all, or those of ``sources``) for each date, then the marts DAG and
    the export DAG for the whole range; stops at the first run that does not succeed."""
    dags = load_dags()
    ingest = sorted(
        d
        for d in dags
        if d.startswith("ringback_ingest_")
        and (sources is None or d.removeprefix("ringback_ingest_") in sources)
    )
    if sources is not None and len(ingest) != len(set(sources)):
        known = sorted(d.removeprefix("ringback_ingest_") for d in dags if "ingest" in d)
        raise ValueError(f"unknown source in {sources}; the sources file has {known}")
    results = []
    for run_date in run_dates:
        for dag_id in ingest:
            results.append(run_dag(dags[dag_id], {"run_date": run_date.isoformat()}))
    if marts:
        conf = {"start": min(run_dates).isoformat(), "end": max(run_dates).isoformat()}
        results.append(run_dag(dags["ringback_build_marts"], conf))
        results.append(run_dag(dags["ringback_export_leads"], conf))
    return results


def run_export(run_dates: list[dt.date]) -> RunResult:
    """One more export DAG run over the range (it asks Google about earlier uploads first);
    its state is returned, failed included: a rejection fails the export task on purpose."""
    conf = {"start": min(run_dates).isoformat(), "end": max(run_dates).isoformat()}
    return run_dag(load_dags()["ringback_export_leads"], conf, may_fail=True)


def run_dag(dag: Any, conf: dict[str, str], *, may_fail: bool = False) -> RunResult:
    from airflow.utils.state import DagRunState

    began = time.perf_counter()
    run = dag.test(run_conf=conf, logical_date=None)
    state = str(getattr(run, "state", None))
    instances = run.get_task_instances() if run else []
    tries = {ti.task_id: ti.try_number for ti in instances}
    durations = {ti.task_id: float(ti.duration or 0.0) for ti in instances}
    result = RunResult(dag.dag_id, conf, state, time.perf_counter() - began, tries, durations)
    retried = {t: n for t, n in tries.items() if n > 1}
    print(
        f"  {dag.dag_id:36} {' '.join(conf.values()):24} {state} ({result.seconds:.1f} s)"
        + (f" retried: {retried}" if retried else ""),
        flush=True,
    )
    if state != DagRunState.SUCCESS and not may_fail:
        raise DagRunFailed(f"{dag.dag_id} {conf} ended {state}; see the task logs above")
    return result
