"""DAG integrity: every DAG file imports without error, and every DAG is fit to run."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml

from ringback.dag_factory import configured_sources

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(ROOT / "dags"))


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}


def test_one_ingest_dag_per_source_one_marts_dag_and_the_export(dagbag):
    sources = yaml.safe_load((ROOT / "config/sources.yaml").read_text())["sources"]
    expected = {f"ringback_ingest_{s['id']}" for s in sources}
    deadlines = {f"ringback_marts_deadline_{s['business']}" for s in sources}
    assert len(deadlines) == 4  # every demo business has call sources and the default hour
    assert set(dagbag.dags) == expected | deadlines | {
        "ringback_build_marts",
        "ringback_export_leads",
    }


def test_export_dag_runs_on_the_marts_asset_outside_the_pool(dagbag):
    """The export waits on HTTP: it takes no pool slot and holds no warehouse lock meanwhile
    (the ledger is written in short connections)."""
    finish = dagbag.dags["ringback_build_marts"].get_task("finish")
    export = dagbag.dags["ringback_export_leads"]
    assert [a.name for a in finish.outlets] == ["ringback.marts"]
    assert {a.name for a in export.timetable.asset_condition.objects} == {"ringback.marts"}
    for task_id in ("send_to_ga4", "write_google_ads_file"):
        assert export.get_task(task_id).pool != "ringback_warehouse"


def test_marts_dag_has_one_task_per_model_wired_by_depends_on(dagbag):
    """A failed model is its own red square in the grid, cleared and rerun alone."""
    from ringback import catalog

    marts = dagbag.dags["ringback_build_marts"]
    models = catalog.models_in_order()
    by_task = {t.name: t for t in models}
    assert {t.task_id for t in marts.tasks} == {
        "affected_dates",
        "prepare",
        "finish",
        "data_docs",
        "announce_incidents",
        *by_task,
    }
    # Data Docs after finish, outside the warehouse pool: GX's import costs no model task.
    docs = marts.get_task("data_docs")
    assert docs.upstream_task_ids == {"finish"} and docs.pool != "ringback_warehouse"
    # Incidents are announced from the finished marts, once per marts run.
    assert marts.get_task("announce_incidents").upstream_task_ids == {"finish"}
    for name, table in by_task.items():
        task = marts.get_task(name)
        reads = {d.split(".", 1)[1] for d in table.depends_on if d.split(".", 1)[1] in by_task}
        assert task.upstream_task_ids == (reads - {name}) | {"prepare"}, name
        assert task.pool == "ringback_warehouse", name
        assert "finish" in task.downstream_task_ids, name
    order = [t.task_id for t in marts.topological_sort()]
    assert order.index("unified_calls") < order.index("primary_calls")
    assert order.index("primary_calls") < order.index("attributed_leads")


def test_validation_failures_fail_without_retry():
    """A failed validation is deterministic: AirflowFailException, so no retry re-publishes."""
    from airflow.sdk.exceptions import AirflowFailException

    from ringback.dag_factory import _fail
    from ringback.quality import ValidationFailed

    exc = _fail(ValidationFailed("raw_binotel_load: 3 rows failed expect_column_values_to_x"))
    assert isinstance(exc, AirflowFailException)
    assert "expect_column_values_to_x" in str(exc)


def test_every_dag_has_owner_tags_retries_doc_and_no_catchup(dagbag):
    for dag_id, dag in dagbag.dags.items():
        assert dag.owner == "data-engineering", dag_id
        assert "ringback" in dag.tags, dag_id
        assert dag.doc_md and len(dag.doc_md) > 200, dag_id
        assert dag.catchup is False, dag_id
        assert dag.max_active_runs == 1, dag_id
        for t in dag.tasks:
            assert t.retries >= 2, (dag_id, t.task_id)
            assert t.retry_exponential_backoff >= 2, (dag_id, t.task_id)  # a multiplier
            assert t.on_failure_callback, (dag_id, t.task_id)


def test_ingest_dags_extract_validate_publish_and_update_an_asset(dagbag):
    for dag_id, dag in dagbag.dags.items():
        if not dag_id.startswith("ringback_ingest_"):
            continue
        source = next(s for s in configured_sources() if dag_id == f"ringback_ingest_{s.id}")
        tasks = ["extract", "validate", "publish"]
        if source.system != "crm":
            # A call source that loads a date the marts built without it wakes them again.
            tasks.append("wake_marts_if_late")
            wake = dag.get_task("wake_marts_if_late")
            assert [a.name for a in wake.outlets] == [f"ringback.marts_due.{source.business_id}"]
        assert [t.task_id for t in dag.topological_sort()] == tasks
        publish = dag.get_task("publish")
        assert publish.outlets and publish.outlets[0].name.startswith("ringback.staging.calls.")
        assert publish.pool == "ringback_warehouse"


def test_marts_dag_is_scheduled_per_business_on_its_sources_assets(dagbag):
    """Any business whose sources have all loaded triggers the marts (for that business)."""
    marts = dagbag.dags["ringback_build_marts"]
    by_business: dict[str, set[str]] = {}
    for source in configured_sources():
        by_business.setdefault(source.business_id, set()).add(
            dagbag.dags[f"ringback_ingest_{source.id}"].get_task("publish").outlets[0].name
        )
    condition = marts.timetable.asset_condition
    assert type(condition).__name__ == "AssetAny"
    groups, due = [], set()
    for business in condition.objects:
        # Every source of the business has loaded, or its marts are due (deadline, late source).
        assert type(business).__name__ == "AssetAny"
        every, marts_due = business.objects
        assert type(every).__name__ == "AssetAll"
        groups.append({a.name for a in every.objects})
        due.add(marts_due.name)
    assert sorted(map(sorted, groups)) == sorted(map(sorted, by_business.values()))
    assert due == {f"ringback.marts_due.{b}" for b in by_business}
    assert len(groups) == 4  # the demo's four businesses


def test_deadline_dags_run_at_each_business_hour_in_its_zone(dagbag):
    from ringback.settings import load_config, load_settings

    settings = load_settings()
    config = load_config(settings)
    for business_id, own in config.business_settings(settings).items():
        dag = dagbag.dags[f"ringback_marts_deadline_{business_id}"]
        timetable = dag.timetable
        assert timetable.expression == f"0 {own.marts_deadline_hour} * * *"
        assert (
            str(getattr(timetable.timezone, "name", timetable.timezone)) == own.reporting_time_zone
        )
        (wake,) = dag.tasks
        assert [a.name for a in wake.outlets] == [f"ringback.marts_due.{business_id}"]
        assert wake.pool == "ringback_warehouse"


def test_dag_files_are_thin():
    """No work at parse time: DAG files only import the factory and call it."""
    for path in (ROOT / "dags").glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in tree.body:
            assert isinstance(node, ast.Expr | ast.Import | ast.ImportFrom | ast.Assign), (
                f"{path.name}: top-level {type(node).__name__}"
            )
        text = path.read_text()
        assert "Variable.get" not in text and "get_connection" not in text


def test_the_weekly_deep_repull_is_for_scheduled_runs_only():
    """A backfill over a Sunday must not pull 30 days before the range it was asked for (the
    90-day backfill test loaded 22 extra days before this rule)."""
    import datetime as dt
    from types import SimpleNamespace

    from airflow.utils.types import DagRunType

    from ringback.dag_factory import deep_repull
    from ringback.settings import load_settings

    settings = load_settings()
    sunday, monday = dt.date(2026, 11, 29), dt.date(2026, 11, 30)

    def run(kind):
        return {"dag_run": SimpleNamespace(run_type=kind)}

    assert deep_repull(run(DagRunType.SCHEDULED), settings, sunday)
    assert deep_repull(run(DagRunType.MANUAL), settings, sunday)
    assert not deep_repull(run(DagRunType.BACKFILL_JOB), settings, sunday)
    assert not deep_repull(run(DagRunType.SCHEDULED), settings, monday)
    never = load_settings({"deep_repull_weekday": "never"})
    assert not deep_repull(run(DagRunType.SCHEDULED), never, sunday)
