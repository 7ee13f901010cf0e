"""The DuckDB backend: URLs, idempotent init, write modes, locking, storage format."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest

from ringback import catalog
from ringback.warehouse.base import WarehouseError, connect
from ringback.warehouse.duckdb import duckdb_path

from helpers import load_calls, staging_row


def test_duckdb_url_forms(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert duckdb_path("duckdb:////var/x.duckdb").as_posix() == "/var/x.duckdb"
    assert duckdb_path("duckdb:///tmp/x.duckdb").as_posix() == "/tmp/x.duckdb"
    assert duckdb_path("duckdb:///data/x.duckdb") == tmp_path / "data/x.duckdb"
    with pytest.raises(WarehouseError):
        connect("postgres://nope")


def test_init_is_idempotent_and_documents_tables(warehouse_url):
    with connect(warehouse_url) as wh:
        assert len(wh.init()) == len(catalog.tables())
        assert wh.init() == []
        comment = wh.con.execute(
            "SELECT comment FROM duckdb_tables() WHERE schema_name = 'marts' "
            "AND table_name = 'attributed_leads'"
        ).fetchone()[0]
        assert "lead" in comment


def test_new_files_use_the_1_0_storage_format(warehouse_url):
    with connect(warehouse_url) as wh:
        wh.init()
        tags = wh.con.execute(
            "SELECT tags FROM duckdb_databases() WHERE database_name = 'warehouse'"
        ).fetchone()[0]
    assert tags["storage_version"].startswith("v1.0")


def test_partition_writes_refuse_rows_outside_the_range(warehouse, settings):
    table = catalog.table("marts.call_reconciliation")
    rows = table.to_arrow(
        [
            {
                "report_date": dt.date(2026, 11, 12),
                "calltracking_calls": 1,
                "telephony_calls": 1,
                "matched_calls": 1,
                "only_in_calltracking": 0,
                "only_in_telephony_untracked": 0,
                "only_in_telephony_tracked": 0,
                "unmatched_calls": 0,
                "unmatched_ratio": 0.0,
                "is_mismatch": False,
                "mismatch_reason": None,
            }
        ]
    )
    from ringback.warehouse.base import PartitionRange

    with pytest.raises(WarehouseError, match="outside the partitions"):
        warehouse.write(
            table, rows, partitions=PartitionRange(dt.date(2026, 11, 10), dt.date(2026, 11, 11))
        )
    assert (
        warehouse.write(
            table, rows, partitions=PartitionRange(dt.date(2026, 11, 12), dt.date(2026, 11, 12))
        )
        == 1
    )


def test_upsert_replaces_by_key_and_rejects_duplicate_keys(warehouse, settings):
    row = staging_row(
        {"key": "k1", "number": "+380501000001", "at": "2026-11-10T08:00:00Z", "talk": 10}, settings
    )
    load_calls(warehouse, [row])
    load_calls(warehouse, [{**row, "talk_seconds": 99}])
    talks = warehouse.query("SELECT talk_seconds FROM staging.calls").to_pylist()
    assert talks == [{"talk_seconds": 99}]
    with pytest.raises(WarehouseError, match="duplicate keys"):
        load_calls(warehouse, [row, row])


def test_a_second_writer_waits_for_the_first(warehouse_url):
    first = connect(warehouse_url)
    first.init()
    got_in = []

    def second():
        with connect(warehouse_url) as wh:
            got_in.append(time.monotonic())
            wh.init()

    thread = threading.Thread(target=second)
    thread.start()
    time.sleep(0.8)
    assert not got_in  # still waiting on the lock
    released = time.monotonic()
    first.close()
    thread.join(timeout=10)
    assert got_in and got_in[0] >= released


def test_a_reader_waits_for_the_writer_and_readers_share(warehouse_url):
    """DuckDB refuses a read-only open while another process writes; readers wait instead."""
    with connect(warehouse_url) as wh:
        wh.init()
    first_reader = connect(warehouse_url, read_only=True)
    with connect(warehouse_url, read_only=True) as second_reader:  # readers do not wait
        assert second_reader.query("SELECT 1 AS one").to_pylist() == [{"one": 1}]
    writer_in = []

    def writer():
        with connect(warehouse_url):
            writer_in.append(time.monotonic())

    thread = threading.Thread(target=writer)
    thread.start()
    time.sleep(0.8)
    assert not writer_in  # the writer waits for the reader
    released = time.monotonic()
    first_reader.close()
    thread.join(timeout=10)
    assert writer_in and writer_in[0] >= released
