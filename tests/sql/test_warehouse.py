"""The DuckDB backend: URLs, idempotent init, write modes, locking, storage format."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest

from ringback import catalog
from ringback.settings import load_settings
from ringback.warehouse.base import WarehouseError
from ringback.warehouse.duckdb import duckdb_path

from helpers import connect, load_calls, staging_row


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
                "business_id": "default",
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


def test_partition_writes_of_named_businesses_leave_the_others(warehouse):
    from ringback.warehouse.base import PartitionRange

    table = catalog.table("marts.unmatched_calls")

    def row(business: str, key: str) -> dict:
        return {
            "business_id": business,
            "call_key": key,
            "system": "telephony",
            "report_date": dt.date(2026, 11, 10),
            "started_at": dt.datetime(2026, 11, 10, 8, tzinfo=dt.UTC),
            "reason": "untracked_number",
        }

    day = PartitionRange(dt.date(2026, 11, 10), dt.date(2026, 11, 10))
    warehouse.write(table, table.to_arrow([row("a", "a1"), row("b", "b1")]), partitions=day)
    only_a = PartitionRange(day.start, day.end, ("a",))
    with pytest.raises(WarehouseError, match="for businesses a"):
        warehouse.write(table, table.to_arrow([row("b", "b2")]), partitions=only_a)
    warehouse.write(table, table.to_arrow([row("a", "a2")]), partitions=only_a)
    keys = [r["call_key"] for r in warehouse.query(f"SELECT * FROM {table.ref}").to_pylist()]
    assert sorted(keys) == ["a2", "b1"]


def test_init_upgrades_a_warehouse_from_before_businesses(warehouse_url, settings):
    """A warehouse laid out before businesses (no business_id anywhere) is upgraded in place:
    business_id first, every row in business `default`, nothing lost; the models then run."""
    import duckdb

    from ringback.warehouse.duckdb import DUCKDB_TYPES, duckdb_path

    path = duckdb_path(warehouse_url)
    path.parent.mkdir(parents=True, exist_ok=True)
    old_tables = [
        t
        for t in catalog.tables().values()
        if t.ref not in ("staging.business_settings", "staging.folded_partitions")
    ]
    con = duckdb.connect(str(path))
    for layer in catalog.LAYERS:
        con.execute(f"CREATE SCHEMA {layer}")
    for t in old_tables:
        cols = ", ".join(
            f"{c.name} {DUCKDB_TYPES[c.type]}" for c in t.columns if c.name != "business_id"
        )
        con.execute(f"CREATE TABLE {t.ref} ({cols})")
    calls = [
        staging_row({"key": f"c{i}", "number": f"+38050100000{i}", "at": f"2026-11-10T0{i}:00:00Z",
                     "talk": 60}, settings)
        for i in range(1, 4)
    ]  # fmt: skip
    for r in calls:
        del r["business_id"]
        con.execute(
            f"INSERT INTO staging.calls ({', '.join(r)}) VALUES ({', '.join('?' * len(r))})",
            list(r.values()),
        )
    con.execute(
        "INSERT INTO marts.call_reconciliation (report_date, calltracking_calls, telephony_calls, "
        "matched_calls, only_in_calltracking, only_in_telephony_untracked, "
        "only_in_telephony_tracked, unmatched_calls, unmatched_ratio, is_mismatch) "
        "VALUES ('2026-11-01', 4, 3, 3, 1, 0, 0, 1, 0.25, false)"
    )
    con.close()
    with connect(warehouse_url) as wh:
        added = wh.init()
        assert "staging.calls.business_id" in added and "staging.business_settings" in added
        staged = wh.query("SELECT * FROM staging.calls ORDER BY call_key").to_pylist()
        assert [r["business_id"] for r in staged] == ["default"] * 3
        assert [r["call_key"] for r in staged] == ["c1", "c2", "c3"]
        for t in catalog.tables().values():
            cols = [
                c
                for (c,) in wh.con.execute(
                    "SELECT column_name FROM duckdb_columns() WHERE schema_name = ? "
                    "AND table_name = ? ORDER BY column_index",
                    [t.layer, t.name],
                ).fetchall()
            ]
            assert cols == t.column_names, t.ref
        old = wh.query("SELECT * FROM marts.call_reconciliation").to_pylist()
        assert [(r["business_id"], r["report_date"]) for r in old] == [
            ("default", dt.date(2026, 11, 1))
        ]
        assert wh.init() == []  # idempotent once upgraded
        from helpers import build

        build(
            wh,
            load_settings({"validate_marts": False}),
            dt.date(2026, 11, 10),
            dt.date(2026, 11, 10),
        )
        leads = wh.query("SELECT business_id, lead_id FROM marts.attributed_leads").to_pylist()
        assert sorted(r["lead_id"] for r in leads) == ["c1", "c2", "c3"]


# -- DuckDB forms of BigQuery time functions -----------------------------------------------------
UTC = dt.UTC
TIMES = [
    dt.datetime(1969, 12, 31, 23, 59, 59, 500000, tzinfo=UTC),
    dt.datetime(2026, 3, 29, 0, 59, 59, 999999, tzinfo=UTC),  # Kyiv's spring-forward hour
    dt.datetime(2026, 3, 28, 22, 0, 0, tzinfo=UTC),  # Kyiv midnight (UTC+2)
    dt.datetime(2026, 10, 24, 21, 0, 0, tzinfo=UTC),  # Kyiv midnight (UTC+3)
    dt.datetime(2026, 10, 25, 0, 30, 0, 250000, tzinfo=UTC),  # Kyiv's repeated hour
    dt.datetime(2026, 11, 1, 6, 59, 59, 999999, tzinfo=UTC),  # Chicago's fall-back
]


@pytest.mark.parametrize("zone", ["Europe/Kyiv", "America/Chicago", "Asia/Kathmandu"])
def test_duckdb_forms_of_time_functions_keep_bigquery_semantics(warehouse, zone):
    """TIMESTAMP_TRUNC(.., SECOND), TIMESTAMP_DIFF(.., SECOND) and DATE(ts, zone) run as epoch
    arithmetic on DuckDB (10-30x faster than its ICU calendar functions); BigQuery's meaning:
    floor to the second, whole seconds elapsed truncated toward zero, the local date. The
    local hour (FORMAT_TIMESTAMP with a zone, which sqlglot alone would format in UTC) and the
    ISO weekday keep their meaning too."""
    import zoneinfo

    from ringback_dev.googlesql import googlesql

    sql = (
        "SELECT TIMESTAMP_TRUNC(@a, SECOND) AS t, TIMESTAMP_DIFF(@a, @b, SECOND) AS d, "
        "DATE(@a, @zone) AS local_date, "
        "CAST(FORMAT_TIMESTAMP('%H', @a, @zone) AS INT64) AS local_hour, "
        "CAST(FORMAT_DATE('%u', DATE(@a, @zone)) AS INT64) AS iso_weekday"
    )
    tz = zoneinfo.ZoneInfo(zone)
    for a in TIMES:
        for b in TIMES:
            params = {"a": a, "b": b, "zone": zone}
            got = warehouse.query(sql, params).to_pylist()[0]
            micros = (a - b) // dt.timedelta(microseconds=1)
            whole = abs(micros) // 1_000_000 * (1 if micros >= 0 else -1)
            want = {
                "t": a - dt.timedelta(microseconds=a.microsecond),
                "d": whole,
                "local_date": a.astimezone(tz).date(),
                "local_hour": a.astimezone(tz).hour,
                "iso_weekday": a.astimezone(tz).isoweekday(),
            }
            assert got == want, (a, b)
            # and GoogleSQL's reference engine agrees with the reading above
            assert googlesql().execute(sql, params, {}) == [want], (a, b)


def test_transpiled_sql_is_cached_on_disk_and_a_bad_entry_is_ignored(tmp_path, monkeypatch):
    from ringback.warehouse import duckdb as backend

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    backend._cache_dir.cache_clear()
    backend.to_duckdb_sql.cache_clear()
    try:
        sql = "SELECT TIMESTAMP_DIFF(a, b, SECOND) AS d FROM t WHERE x = @x"
        first = backend.to_duckdb_sql(sql)
        (entry,) = (tmp_path / "ringback/duckdb-sql").glob("*.json")
        backend.to_duckdb_sql.cache_clear()
        assert backend.to_duckdb_sql(sql) == first
        entry.write_text("{not json")
        backend.to_duckdb_sql.cache_clear()
        assert backend.to_duckdb_sql(sql) == first == (first[0], frozenset({"x"}))
    finally:
        backend._cache_dir.cache_clear()
        backend.to_duckdb_sql.cache_clear()
