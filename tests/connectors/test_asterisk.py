"""Asterisk CDRs: Master.csv drop folders read incrementally, the cdr table through SQLAlchemy,
legs folded, and the trap of a dialplan that answers with nobody on the line."""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
import zoneinfo

import pytest

from ringback import ingest
from ringback.settings import ConfigError, Settings, SourceConfig, load_settings
from ringback.sources.asterisk import AsteriskCsvConnector, AsteriskDbConnector
from ringback.sources.base import Window
from ringback.sources.connection import ProviderConnection
from ringback.sources.transport import ProviderError
from ringback_dev.simulators.asterisk import IVR_SECONDS, AsteriskCdrWriter
from ringback_dev.simulators.journeys import JourneyGenerator

from helpers import connect, map_records, runtime_of, table_rows
from postgres_server import postgres_server

KYIV = zoneinfo.ZoneInfo("Europe/Kyiv")
NOW = dt.datetime(2026, 11, 23, 6, 0, tzinfo=dt.UTC)
WINDOW = Window(dt.date(2026, 11, 17), dt.date(2026, 11, 20), KYIV)
RUN_DATE = dt.date(2026, 11, 20)


def asterisk_source(provider: str, **options) -> SourceConfig:
    return SourceConfig(
        id=f"{provider}_test",
        provider=provider,
        system="telephony",
        account_id="pbx1",
        time_zone="Europe/Kyiv",
        default_region="UA",
        options=options,
    )


def csv_connector(folder, **options) -> AsteriskCsvConnector:
    source = asterisk_source("asterisk_csv", folder=str(folder), **options)
    return AsteriskCsvConnector(source, ProviderConnection("x", ""), Settings())


@pytest.fixture
def gen():
    return JourneyGenerator(seed=3, customers_per_day=30)


def true_calls(gen, window=WINDOW):
    return [c for c in gen.calls_between(window.start_at, window.end_at) if c.seen_by_telephony]


def check_against_truth(rows, calls):
    """Every call once, the trap avoided: only a person's leg makes a conversation."""
    assert len(rows) == len(calls)
    by_start = {(r["started_at"], r["customer_number"]): r for r in rows}
    for call in calls:
        row = by_start[(call.telephony_started_at.replace(microsecond=0), call.customer_number)]
        talked = call.status == "answered" and call.talk_seconds > 0
        assert row["talk_seconds"] == (call.talk_seconds if talked else 0), call
        expected = "answered" if talked else {"answered": "missed"}.get(call.status, call.status)
        assert row["status"] == expected, call
        assert row["direction"] == call.direction
        if talked:
            assert row["employee_id"] == call.employee.extension
            if call.direction == "inbound" and call.wait_seconds > IVR_SECONDS:
                # From the call's start, through the IVR greeting and the queue, to the answer.
                assert row["wait_seconds"] == call.wait_seconds, call
        if call.direction == "inbound":
            assert row["company_number"] == call.company_number


@pytest.mark.parametrize("uniqueid", [True, False])
def test_master_csv_maps_every_call_and_folds_ivr_and_queue_legs(tmp_path, gen, uniqueid):
    writer = AsteriskCdrWriter(gen, uniqueid=uniqueid, userfield=uniqueid)
    writer.append_csv(tmp_path, writer.cdrs(WINDOW.start_at, WINDOW.end_at, NOW))
    conn = csv_connector(tmp_path, uniqueid=uniqueid, userfield=uniqueid)
    result = conn.fetch(WINDOW)
    rows, reasons = map_records(conn, result.records)
    calls = true_calls(gen)
    check_against_truth(rows, calls)
    # An IVR leg for every inbound call that was not busy: folded into the call.
    assert reasons == {"child_leg": len(result.records) - len(calls)}
    assert reasons["child_leg"] > 0
    # The trap: missed inbound calls are ANSWERED with billsec in the CDRs.
    missed = [r for r in rows if r["status"] == "missed" and r["direction"] == "inbound"]
    assert missed and all(r["provider_status"] == "ANSWERED" for r in missed)
    (read,) = conn.reads
    assert read.offset_from == 0 and read.offset_to == (tmp_path / "Master.csv").stat().st_size


def test_the_trap_rule_is_per_source(tmp_path, gen):
    """An operator who wants the queue's answer counted (say, an auto-attendant that is the
    service) drops the dstchannel rule; the IVR greeting still is not a person."""
    writer = AsteriskCdrWriter(gen)
    writer.append_csv(tmp_path, writer.cdrs(WINDOW.start_at, WINDOW.end_at, NOW))
    strict = map_records(conn := csv_connector(tmp_path), conn.fetch(WINDOW).records)[0]
    loose_conn = csv_connector(tmp_path, require_dstchannel=False)
    loose = map_records(loose_conn, loose_conn.fetch(WINDOW).records)[0]
    count = lambda rows: sum(r["status"] == "answered" for r in rows)  # noqa: E731
    assert count(loose) > count(strict)


def test_usegmtime_and_server_zone(tmp_path, gen):
    writer = AsteriskCdrWriter(gen, usegmtime=True)
    writer.append_csv(tmp_path, writer.cdrs(WINDOW.start_at, WINDOW.end_at, NOW))
    conn = csv_connector(tmp_path, usegmtime=True)
    rows, _ = map_records(conn, conn.fetch(WINDOW).records)
    check_against_truth(rows, true_calls(gen))
    wrong = csv_connector(tmp_path)  # read as Kyiv time: two hours off
    shifted, _ = map_records(wrong, wrong.fetch(WINDOW).records)
    assert {r["started_at"] - s["started_at"] for r, s in zip(rows, shifted, strict=True)} == {
        dt.timedelta(hours=2)
    }


def test_malformed_and_internal_rows_are_quarantined_with_a_reason(tmp_path):
    (tmp_path / "Master.csv").write_text(
        '"","0671234567","0443330001","from-trunk"\n'
        '"","201","202","from-internal","""A"" <201>","PJSIP/201-1","PJSIP/202-2","Dial","",'
        '"2026-11-18 10:00:00","2026-11-18 10:00:03","2026-11-18 10:01:00",60,57,"ANSWERED",'
        '"DOCUMENTATION","1.1",""\n'
        '"","0671234567","0443330001","from-trunk","","PJSIP/t-1","","Dial","",'
        '"2026-11-18 11:00:00","","2026-11-18 11:00:20",20,0,"TELEPORTED","DOCUMENTATION",'
        '"1.2",""\n',
        encoding="utf-8",
    )
    conn = csv_connector(tmp_path, uniqueid=True, userfield=True)
    rows, reasons = map_records(conn, conn.fetch(WINDOW).records)
    assert rows == []
    # An extension-to-extension call is no customer's call.
    assert reasons == {"malformed_row": 1, "internal_call": 1, "unknown_disposition": 1}


def ring_group_lines(layout: int) -> str:
    """A caller through a ring group of two phones behind Local channels, as cdr_csv writes it
    (each half of a Local channel is a CDR of its own; the ";2" halves end first): 101 answers
    after 12 s and talks 45 s, 102 rings on. ``layout`` 21 is ``newcdrcolumns=yes`` (with
    linkedid), 18 has uniqueid and userfield, 17 uniqueid alone, 16 neither."""
    start, answer, end = "2026-11-18 10:00:00", "2026-11-18 10:00:12", "2026-11-18 10:00:57"
    legs = [
        # channel, dstchannel, dst, lastapp, answer, billsec, disposition, uniqueid, sequence
        (
            "Local/rg1@ringgroups-0000a1;2",
            "PJSIP/101-00000021",
            "rg1",
            "Dial",
            answer,
            45,
            "ANSWERED",
            "1763460000.31",
            3,
        ),
        (
            "Local/rg2@ringgroups-0000a2;2",
            "PJSIP/102-00000022",
            "rg2",
            "Dial",
            "",
            0,
            "NO ANSWER",
            "1763460000.33",
            5,
        ),
        (
            "PJSIP/trunk-00000020",
            "Local/rg1@ringgroups-0000a1;1",
            "0443330001",
            "Dial",
            answer,
            45,
            "ANSWERED",
            "1763460000.30",
            1,
        ),
        (
            "PJSIP/trunk-00000020",
            "Local/rg2@ringgroups-0000a2;1",
            "0443330001",
            "Dial",
            "",
            0,
            "NO ANSWER",
            "1763460000.30",
            2,
        ),
    ]
    lines = []
    for channel, dstchannel, dst, app, answered, billsec, disposition, uniqueid, seq in legs:
        row = [
            "",
            "0671234567",
            dst,
            "from-trunk",
            '"0671234567" <0671234567>',
            channel,
            dstchannel,
            app,
            "",
            start,
            answered,
            end,
            57,
            billsec,
            disposition,
            "DOCUMENTATION",
        ]
        row += {
            16: [],
            17: [uniqueid],
            18: [uniqueid, ""],
            21: [uniqueid, "", "", "1763460000.30", seq],
        }[layout]
        lines.append(",".join(f'"{v}"' if isinstance(v, str) else str(v) for v in row))
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("layout", [16, 17, 18, 21])
def test_every_cdr_csv_layout_is_read_and_ring_group_legs_fold_into_one_call(tmp_path, layout):
    """cdr_csv's layouts are told apart by their number of columns, whatever the source's
    options say; the Local halves of a ring group fold into the caller's call by linkedid
    where the file has it, else by the Local channel each half shares with the dialling row."""
    (tmp_path / "Master.csv").write_text(ring_group_lines(layout), encoding="utf-8")
    conn = csv_connector(tmp_path)  # default options: the 16-column layout
    rows, reasons = map_records(conn, conn.fetch(WINDOW).records)
    assert reasons == {"child_leg": 3}
    (row,) = rows
    assert (row["status"], row["talk_seconds"], row["employee_id"]) == ("answered", 45, "101")
    assert (row["customer_number"], row["company_number"]) == ("+380671234567", "+380443330001")
    assert row["wait_seconds"] == 12


def test_a_layout_of_its_own_is_named_in_the_source(tmp_path):
    columns = ["start", "src", "dst", "channel", "dstchannel", "billsec", "disposition"]
    (tmp_path / "Master.csv").write_text(
        '"2026-11-18 10:00:00","0671234567","0443330001","PJSIP/trunk-1","PJSIP/101-2",45,'
        '"ANSWERED"\n',
        encoding="utf-8",
    )
    conn = csv_connector(tmp_path, columns=columns, require_dstchannel=True)
    rows, reasons = map_records(conn, conn.fetch(WINDOW).records)
    assert reasons == {} and [(r["status"], r["talk_seconds"]) for r in rows] == [("answered", 45)]


# -- loads through extract-validate-publish ------------------------------------------------------
@pytest.fixture
def csv_runtime(tmp_path, monkeypatch, warehouse_url):
    folder = tmp_path / "cdr"
    folder.mkdir()
    sources = tmp_path / "sources.yaml"
    sources.write_text(
        "businesses:\n"
        "  - {id: kyiv_clinic, time_zone: Europe/Kyiv}\n"
        "sources:\n"
        "  - id: office_pbx\n"
        "    business: kyiv_clinic\n"
        "    provider: asterisk_csv\n"
        "    account_id: office\n"
        f"    folder: {folder}\n"
        "    time_zone: Europe/Kyiv\n"
        "    default_region: UA\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("RINGBACK_CONFIG", str(sources))
    return folder, runtime_of(load_settings({"warehouse_url": warehouse_url}))


def staged_keys(warehouse_url) -> list[str]:
    with connect(warehouse_url, read_only=True) as wh:
        return [r["call_key"] for r in table_rows(wh, "staging.calls", "call_key")]


def test_a_drop_folder_is_read_once_through_rotation_and_half_written_lines(
    csv_runtime, gen, warehouse_url
):
    folder, runtime = csv_runtime
    writer = AsteriskCdrWriter(gen)
    days = [dt.date(2026, 11, 17) + dt.timedelta(days=n) for n in range(4)]
    day_cdrs = [
        writer.cdrs(Window(d, d, KYIV).start_at, Window(d, d, KYIV).end_at, NOW) for d in days
    ]
    # Day 1: a day of CDRs and half of the next line (Asterisk writing it as we read).
    writer.append_csv(folder, day_cdrs[0])
    rest = writer.append_partial(folder, day_cdrs[1][0])
    first = ingest.run_extract(runtime, "office_pbx", days[0])
    assert first.received_records == len(day_cdrs[0])
    # Day 2: the line completed, the rest of day 2; then logrotate; then day 3 in a new file.
    with (folder / "Master.csv").open("a", encoding="utf-8") as handle:
        handle.write(rest)
    writer.append_csv(folder, day_cdrs[1][1:])
    second = ingest.run_extract(runtime, "office_pbx", days[1])
    assert second.received_records == len(day_cdrs[1])
    writer.rotate(folder)
    writer.append_csv(folder, day_cdrs[2])
    third = ingest.run_extract(runtime, "office_pbx", days[2])
    assert third.received_records == len(day_cdrs[2])  # Master.csv.1 is not read again
    # A rerun of day 2 reads what day 2 read (now in Master.csv.1): the same tables.
    before = staged_keys(warehouse_url)
    again = ingest.run_extract(runtime, "office_pbx", days[1])
    assert again.received_records == len(day_cdrs[1]) + len(day_cdrs[2])
    assert staged_keys(warehouse_url) == before
    # Nothing new: an empty load, nothing deleted.
    writer.append_csv(folder, [])
    quiet = ingest.run_extract(runtime, "office_pbx", days[3])
    assert quiet.received_records == 0 and staged_keys(warehouse_url) == before
    window = Window(days[0], days[2], KYIV)
    assert len(before) == len(true_calls(gen, window))
    with connect(warehouse_url, read_only=True) as wh:
        reads = table_rows(wh, "raw.cdr_files", "load_date, file_name")
        assert {r["file_name"] for r in reads} == {"Master.csv", "Master.csv.1"}
        checks = {r["checkpoint"] for r in table_rows(wh, "raw.validation_results")}
        assert "raw_asterisk_csv_load" in checks


def test_a_failed_validation_does_not_move_the_cursor(csv_runtime, gen, warehouse_url):
    folder, runtime = csv_runtime
    (folder / "Master.csv").write_text("garbage without commas\n" * 50, encoding="utf-8")
    with pytest.raises(ingest.ValidationFailed):
        ingest.run_extract(runtime, "office_pbx", dt.date(2026, 11, 17))
    with connect(warehouse_url, read_only=True) as wh:
        assert table_rows(wh, "raw.cdr_files") == []
        assert len(table_rows(wh, "staging.calls_quarantine")) == 50  # kept, with a reason


def test_appends_while_reading_lose_no_row(tmp_path, gen):
    """A writer appends lines (sometimes cut mid-line) while the connector reads repeatedly:
    every line is read exactly once."""
    writer = AsteriskCdrWriter(gen)
    cdrs = writer.cdrs(WINDOW.start_at, WINDOW.end_at, NOW)
    text = writer.csv_lines(cdrs)
    (tmp_path / "Master.csv").write_text(text[:200], encoding="utf-8")
    done = threading.Event()

    def append():
        at = 200
        while at < len(text):
            step = 137  # cuts lines anywhere
            with (tmp_path / "Master.csv").open("a", encoding="utf-8") as handle:
                handle.write(text[at : at + step])
            at += step
            time.sleep(0.0005)
        done.set()

    thread = threading.Thread(target=append)
    thread.start()
    conn = csv_connector(tmp_path)
    seen: list[dict] = []
    while True:
        finished = done.is_set()
        seen += conn.fetch(WINDOW).records
        for read in conn.reads:
            conn.offsets[read.fingerprint] = read.offset_to
        if finished:
            break
    thread.join()
    keys = [(r["channel"], r["start"], r["lastapp"]) for r in seen]
    assert len(keys) == len(cdrs) == len(set(keys))


# -- the cdr table -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def postgres():
    if os.environ.get("RINGBACK_SKIP_POSTGRES") == "1":
        pytest.skip("RINGBACK_SKIP_POSTGRES=1: the cdr table is tested on SQLite only")
    with postgres_server("postgres") as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def cdr_url(request, tmp_path):
    """An empty database for a cdr table: a SQLite file, or a new database on a real
    PostgreSQL server (Debian's package, started for this module)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'asteriskcdrdb.sqlite'}"
    import sqlalchemy as sa

    server = request.getfixturevalue("postgres")
    name = f"cdr_{request.node.name.split('[')[0][-20:]}_{os.getpid()}".lower()
    engine = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return server.rsplit("/", 1)[0] + f"/{name}"


def db_connector(monkeypatch, url, **options) -> AsteriskDbConnector:
    monkeypatch.setenv("AIRFLOW_CONN_ASTERISK_DB_TEST", url)
    return AsteriskDbConnector(
        asterisk_source("asterisk_db", **options), ProviderConnection("x", ""), Settings()
    )


def test_cdr_table_by_calldate_with_linkedid_legs(cdr_url, gen, monkeypatch):
    url = cdr_url
    writer = AsteriskCdrWriter(gen)
    wide = Window(dt.date(2026, 11, 15), dt.date(2026, 11, 22), KYIV)
    writer.write_db(url, writer.cdrs(wide.start_at, wide.end_at, NOW))
    conn = db_connector(monkeypatch, url)
    result = conn.fetch(WINDOW)
    rows, reasons = map_records(conn, result.records)
    check_against_truth(rows, true_calls(gen))
    assert set(reasons) == {"child_leg"}
    assert all(r["provider_call_id"] == r["provider_call_id"].strip() for r in rows)


def test_cdr_rows_changed_between_pulls_are_picked_up(cdr_url, gen, monkeypatch):
    import sqlalchemy as sa

    url = cdr_url
    writer = AsteriskCdrWriter(gen)
    writer.write_db(url, writer.cdrs(WINDOW.start_at, WINDOW.end_at, NOW))
    conn = db_connector(monkeypatch, url)
    rows, _ = map_records(conn, conn.fetch(WINDOW).records)
    answered = next(r for r in rows if r["status"] == "answered")
    engine = sa.create_engine(url)
    with engine.begin() as db:
        db.execute(
            sa.text("UPDATE cdr SET billsec = 999 WHERE linkedid = :id AND lastapp = 'Queue'"),
            {"id": answered["provider_call_id"]},
        )
    engine.dispose()
    again, _ = map_records(conn, conn.fetch(WINDOW).records)
    changed = next(r for r in again if r["call_key"] == answered["call_key"])
    assert changed["talk_seconds"] == 999


def test_cdr_table_errors_are_clear_and_hide_the_password(cdr_url, monkeypatch):
    import sqlalchemy as sa

    url = cdr_url
    engine = sa.create_engine(url)
    with engine.begin() as db:
        db.execute(sa.text("CREATE TABLE cdr (calldate TIMESTAMP, src TEXT)"))
    engine.dispose()
    with pytest.raises(ConfigError, match="lacks dst, channel, duration, billsec, disposition"):
        db_connector(monkeypatch, url).fetch(WINDOW)
    with pytest.raises(ProviderError, match="failed after 2 attempts"):
        db_connector(monkeypatch, "sqlite:////nonexistent/dir/cdr.sqlite", max_attempts=2).fetch(
            WINDOW
        )
    with pytest.raises(ConfigError, match="install its driver") as err:
        db_connector(monkeypatch, "mssql+pymssql://ringback:s3cret@127.0.0.1:1/cdr").fetch(WINDOW)
    assert "s3cret" not in str(err.value)
    monkeypatch.setenv("AIRFLOW_CONN_ASTERISK_DB_TEST", "not a url")
    with pytest.raises(ConfigError, match="database URL"):
        AsteriskDbConnector(
            asterisk_source("asterisk_db"), ProviderConnection("x", ""), Settings()
        ).fetch(WINDOW)


def test_database_url_from_a_uri_or_airflow_json(monkeypatch):
    from ringback.sources.connection import database_url

    monkeypatch.setenv(
        "AIRFLOW_CONN_PBX", "postgres://reader:p%40ss@pbx.example:5432/asteriskcdrdb"
    )
    assert database_url("pbx") == "postgresql://reader:p%40ss@pbx.example:5432/asteriskcdrdb"
    monkeypatch.setenv(
        "AIRFLOW_CONN_PBX",
        '{"conn_type": "postgres", "host": "pbx.example", "login": "reader",'
        ' "password": "p@ss/word", "port": 5432, "schema": "asteriskcdrdb"}',
    )
    assert database_url("pbx") == (
        "postgresql://reader:p%40ss%2Fword@pbx.example:5432/asteriskcdrdb"
    )
    monkeypatch.setenv(
        "AIRFLOW_CONN_PBX", '{"conn_type": "mysql", "extra": {"sqlalchemy_url": "sqlite://"}}'
    )
    assert database_url("pbx") == "sqlite://"
