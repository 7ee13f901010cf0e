"""The batch store: load ids between tasks, files on Airflow's ObjectStoragePath, so the DAGs
run where workers share no disk. ``file://`` and ``memory://`` run here; ``gs://`` is the same
code with a bucket."""

from __future__ import annotations

import datetime as dt
import uuid

import pyarrow as pa
import pytest

from ringback import ingest
from ringback.batches import BatchStore, load_id_for, split_load_id
from ringback.settings import load_settings
from ringback_dev.simulators import connection_uri, start_all
from ringback_dev.simulators.journeys import JourneyGenerator

from helpers import connect, runtime_of, table_rows


def stores(tmp_path) -> dict[str, BatchStore]:
    return {
        "plain path": BatchStore(str(tmp_path / "plain")),
        "file://": BatchStore(f"file://{tmp_path}/file-scheme"),
        "memory://": BatchStore(f"memory://ringback-test-{uuid.uuid4().hex}/batches"),
    }


@pytest.mark.parametrize("scheme", ["plain path", "file://", "memory://"])
def test_a_batch_round_trips_and_a_rerun_starts_clean(scheme, tmp_path):
    store = stores(tmp_path)[scheme]
    load_id = load_id_for("binotel_main", dt.date(2026, 11, 20))
    table = pa.table({"call_key": ["a", "b"], "talk_seconds": [0, 61]})
    store.clear(load_id)
    store.write_table(load_id, "staged", table)
    store.write_json(load_id, "manifest", {"load_id": load_id, "staged_records": 2})
    assert store.read_table(load_id, "staged").equals(table)
    assert store.read_table(load_id, "staged", columns=["talk_seconds"]).column(0).to_pylist() == [
        0,
        61,
    ]
    assert store.read_json(load_id, "manifest")["staged_records"] == 2
    assert store.exists(load_id, "manifest.json") and not store.exists(load_id, "validation.json")
    store.clear(load_id)  # a rerun of the day
    assert not store.exists(load_id, "staged.parquet")
    assert str(store.folder(load_id)).endswith("binotel_main/2026-11-20")


def test_object_store_urls_use_airflows_object_storage_path(tmp_path):
    from airflow.sdk import ObjectStoragePath

    for scheme, store in stores(tmp_path).items():
        assert isinstance(store.root, ObjectStoragePath) == (scheme != "plain path"), scheme


def test_load_ids_are_checked():
    assert split_load_id("ringostat_main:2026-11-20") == ("ringostat_main", "2026-11-20")
    for bad in ("ringostat_main", ":2026-11-20", "x:2026-13-01"):
        with pytest.raises(ValueError):
            split_load_id(bad)


def test_a_day_loads_through_an_object_store(warehouse_url, monkeypatch):
    """extract -> validate -> publish with the batch in memory://, handed on by load id."""
    sims = start_all(generator=JourneyGenerator(seed=5, customers_per_day=30))
    try:
        for sim in sims.values():
            sim._now = dt.datetime(2026, 11, 23, 6, 0, tzinfo=dt.UTC)
        monkeypatch.setenv(
            "AIRFLOW_CONN_RINGOSTAT_MAIN", connection_uri("ringostat", sims["ringostat"].base_url)
        )
        url = f"memory://ringback-test-{uuid.uuid4().hex}/batches"
        runtime = runtime_of(
            load_settings({"warehouse_url": warehouse_url, "batch_store_url": url})
        )
        load_id = ingest.extract(runtime, runtime.source("ringostat_main"), dt.date(2026, 11, 20))
        assert load_id == "ringostat_main:2026-11-20"
        assert runtime.batches.exists(load_id, "raw.parquet")
        assert ingest.validate(runtime, load_id).success
        manifest = ingest.publish(runtime, load_id)
    finally:
        for sim in sims.values():
            sim.stop()
    with connect(warehouse_url, read_only=True) as wh:
        staged = table_rows(wh, "staging.calls")
    assert len(staged) == manifest.staged_records > 0
