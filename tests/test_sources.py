"""Connectors against their simulators (contract, paging/splitting, faults) and mapping tests."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from ringback.settings import ConfigError, SourceConfig, load_settings
from ringback.simulators.binotel import BinotelSimulator
from ringback.simulators.journeys import JourneyGenerator
from ringback.simulators.ringostat import RingostatSimulator
from ringback.sources.base import MappingError, Window, to_e164
from ringback.sources.binotel import BinotelConnector
from ringback.sources.connection import get_connection, parse_connection
from ringback.sources.ringostat import RingostatConnector
from ringback.sources.transport import ProviderError

KYIV = zoneinfo.ZoneInfo("Europe/Kyiv")
NOW = dt.datetime(2026, 11, 23, 6, 0, tzinfo=dt.UTC)
WINDOW = Window(dt.date(2026, 11, 17), dt.date(2026, 11, 20), KYIV)


def source(provider: str, **options) -> SourceConfig:
    system = "calltracking" if provider == "ringostat" else "telephony"
    return SourceConfig(
        id=f"{provider}_test",
        provider=provider,
        system=system,
        account_id="acc",
        time_zone="Europe/Kyiv",
        default_region="UA",
        options={"request_interval_seconds": 0, **options},
    )


def ringostat(sim, key="demo-key", **options) -> RingostatConnector:
    conn = parse_connection("r", sim.base_url.replace("://", f"://proj:{key}@"))
    return RingostatConnector(source("ringostat", **options), conn, load_settings())


def binotel(sim, secret="demo-secret", **options) -> BinotelConnector:
    conn = parse_connection("b", sim.base_url.replace("://", f"://demo-key:{secret}@"))
    return BinotelConnector(source("binotel", **options), conn, load_settings())


def truth(gen: JourneyGenerator, system: str) -> int:
    calls = gen.calls_between(WINDOW.start_at, WINDOW.end_at)
    attr = "seen_by_calltracking" if system == "calltracking" else "seen_by_telephony"
    return sum(1 for c in calls if getattr(c, attr))


@pytest.fixture
def gen():
    return JourneyGenerator(seed=3, customers_per_day=30)


# -- Ringostat ---------------------------------------------------------------------------------
def test_ringostat_pulls_every_call_of_the_window(gen):
    with RingostatSimulator(gen, now=NOW) as sim:
        conn = ringostat(sim)
        result = conn.fetch(WINDOW)
        assert len(result.records) == truth(gen, "calltracking")
        assert result.requests == 1
        req = sim.requests[0]
        assert req["query"]["from"] == ["2026-11-17 00:00:00"]
        assert req["query"]["to"] == ["2026-11-20 23:59:59"]
        assert "uniqueid" in req["query"]["fields"][0]
        assert req["headers"]["auth-key"] == "demo-key"
        rows = [conn.map_record(r) for r in result.records]
        assert all(
            r["customer_number"] is None or r["customer_number"].startswith("+380") for r in rows
        )
        assert {r["status"] for r in rows} >= {"answered", "missed"}


def test_ringostat_splits_windows_that_reach_the_row_cap(gen):
    with RingostatSimulator(gen, now=NOW, row_cap=40) as sim:
        result = ringostat(sim, row_cap=40).fetch(WINDOW)
        ids = [r["uniqueid"] for r in result.records]
        assert len(ids) == len(set(ids)) == truth(gen, "calltracking")
        assert result.requests > 4


def test_ringostat_csv_export_maps_like_json(gen):
    with RingostatSimulator(gen, now=NOW) as sim:
        as_json = [ringostat(sim).map_record(r) for r in ringostat(sim).fetch(WINDOW).records]
        csv_conn = ringostat(sim, export_type="csv")
        as_csv = [csv_conn.map_record(r) for r in csv_conn.fetch(WINDOW).records]
    assert as_csv == as_json


def test_ringostat_bad_key_is_a_clear_error(gen):
    with RingostatSimulator(gen, now=NOW) as sim, pytest.raises(ProviderError, match="credentials"):
        ringostat(sim, key="wrong").fetch(WINDOW)


@pytest.mark.parametrize("fault", ["http_429", "http_500", "http_503", "truncate"])
def test_ringostat_survives_faults(gen, fault):
    with RingostatSimulator(gen, now=NOW) as sim:
        sim.faults.add(fault, times=2)
        result = ringostat(sim).fetch(WINDOW)
        assert len(result.records) == truth(gen, "calltracking")
        assert result.requests == 3 and result.retries == 2
        assert sim.faults.injected == [fault, fault]


def test_ringostat_times_out_slow_answers_and_retries(gen):
    with RingostatSimulator(gen, now=NOW) as sim:
        sim.faults.add("slow", seconds=1.5)
        result = ringostat(sim, timeout_seconds=0.5).fetch(WINDOW)
        assert len(result.records) == truth(gen, "calltracking") and result.retries == 1


def test_ringostat_gives_up_after_max_attempts(gen):
    with RingostatSimulator(gen, now=NOW) as sim:
        sim.faults.add("http_503", times=10)
        with pytest.raises(ProviderError, match="still failing after 3 attempts"):
            ringostat(sim, max_attempts=3).fetch(WINDOW)


RINGOSTAT_BASE = {
    "uniqueid": "1763800000.101",
    "calldate": "2026-11-20T10:00:00+0200",
    "caller": "380671234567",
    "dst": "380443330001",
    "call_type": "in",
    "duration": 65,
    "waittime": "5",
    "billsec": 60,
    "utm_source": "google",
    "utm_medium": "cpc",
    "utm_campaign": "(not set)",
    "utm_term": "",
    "client_id": "1.2",
    "landing": "https://shop.example/?gclid=abc",
}


@pytest.mark.parametrize(
    ("disposition", "status"),
    [
        ("ANSWERED", "answered"),
        ("PROPER", "answered"),
        ("REPEATED", "answered"),
        ("NO ANSWER", "missed"),
        ("BUSY", "busy"),
        ("FAILED", "failed"),
        ("VOICEMAIL", "voicemail"),
    ],
)
def test_ringostat_dispositions(disposition, status):
    conn = RingostatConnector(
        source("ringostat"), parse_connection("r", "http://k@h"), load_settings()
    )
    row = conn.map_record({**RINGOSTAT_BASE, "disposition": disposition})
    assert row["status"] == status
    assert row["talk_seconds"] == (60 if status == "answered" else 0)
    assert row["started_at"] == dt.datetime(2026, 11, 20, 8, 0, tzinfo=dt.UTC)
    assert row["call_key"] == "ringostat:acc:1763800000.101"
    assert row["customer_number"] == "+380671234567"
    assert row["company_number"] == "+380443330001"
    assert (row["wait_seconds"], row["total_seconds"]) == (5, 65)
    assert (row["campaign"], row["keyword"], row["gclid"]) == (None, None, "abc")


@pytest.mark.parametrize(
    ("patch", "reason"),
    [
        ({"disposition": "IN PROGRESS"}, "call_in_progress"),
        ({"disposition": "CALLING"}, "call_in_progress"),
        ({"disposition": "TELEPORTED"}, "unknown_disposition"),
        ({"disposition": "ANSWERED", "uniqueid": ""}, "missing_call_id"),
        ({"disposition": "ANSWERED", "calldate": "yesterday"}, "unparseable_time"),
        ({"disposition": "ANSWERED", "call_type": "sideways"}, "unknown_direction"),
        ({"disposition": "ANSWERED", "billsec": "lots"}, "invalid_number"),
    ],
)
def test_ringostat_bad_records_get_a_reason(patch, reason):
    conn = RingostatConnector(
        source("ringostat"), parse_connection("r", "http://k@h"), load_settings()
    )
    with pytest.raises(MappingError) as info:
        conn.map_record({**RINGOSTAT_BASE, **patch})
    assert info.value.reason == reason


def test_ringostat_callers_hidden_sip_and_callback():
    conn = RingostatConnector(
        source("ringostat"), parse_connection("r", "http://k@h"), load_settings()
    )
    base = {**RINGOSTAT_BASE, "disposition": "ANSWERED"}
    assert conn.map_record({**base, "caller": '"Office" <sip101>'})["customer_number"] is None
    assert conn.map_record({**base, "caller": ""})["customer_number"] is None
    assert conn.map_record({**base, "call_type": "callback"})["direction"] == "outbound"
    local = conn.map_record({**base, "calldate": "2026-07-01 10:00:00"})  # no offset: project tz
    assert local["started_at"] == dt.datetime(2026, 7, 1, 7, 0, tzinfo=dt.UTC)


# -- Binotel -----------------------------------------------------------------------------------
def test_binotel_pulls_one_day_per_request(gen):
    with BinotelSimulator(gen, now=NOW) as sim:
        conn = binotel(sim)
        result = conn.fetch(WINDOW)
        assert len(result.records) == truth(gen, "telephony")
        assert result.requests == 4
        rows = [conn.map_record(r) for r in result.records]
        assert {r["direction"] for r in rows} == {"inbound", "outbound"}


def test_binotel_splits_a_25_hour_dst_day():
    window = Window(dt.date(2026, 10, 25), dt.date(2026, 10, 25), KYIV)
    with BinotelSimulator(JourneyGenerator(seed=3, customers_per_day=10), now=NOW) as sim:
        result = binotel(sim).fetch(window)
        assert result.requests == 2  # 25 h > the one-day limit
        starts = sorted(int(r["startTime"]) for r in result.records)
        assert starts and window.start_at.timestamp() <= starts[0]
        assert starts[-1] < window.end_at.timestamp()


@pytest.mark.parametrize("empty", ["list", "string"])
def test_binotel_empty_answers(empty):
    future = Window(dt.date(2027, 1, 1), dt.date(2027, 1, 1), KYIV)
    with BinotelSimulator(JourneyGenerator(), now=NOW, empty_details=empty) as sim:
        assert binotel(sim).fetch(future).records == []


def test_binotel_throttling_inside_http_200_is_retried(gen):
    with BinotelSimulator(gen, now=NOW) as sim:
        sim.faults.add("provider_error", times=2)  # {"status": "error", "code": 106}
        result = binotel(sim).fetch(WINDOW)
        assert len(result.records) == truth(gen, "telephony") and result.retries == 2


def test_binotel_spaces_requests_for_a_throttling_server(gen):
    with BinotelSimulator(gen, now=NOW, min_interval_seconds=0.3) as sim:
        result = binotel(sim, request_interval_seconds=0.35).fetch(WINDOW)
        assert result.retries == 0 and len(result.records) == truth(gen, "telephony")


def test_binotel_bad_secret_is_a_clear_error(gen):
    with BinotelSimulator(gen, now=NOW) as sim, pytest.raises(ProviderError, match="120"):
        binotel(sim, secret="wrong").fetch(WINDOW)


BINOTEL_BASE = {
    "generalCallID": "20012345",
    "startTime": "1763632800",
    "callType": "0",
    "externalNumber": "0671234567",
    "pbxNumberData": {"number": "0443330001"},
    "didNumber": "0443330001",
    "waitsec": "7",
    "billsec": "42",
    "isNewCall": "1",
    "employeeData": "",
    "historyData": "",
    "callTrackingData": "",
}


@pytest.mark.parametrize(
    ("disposition", "status"),
    [
        ("ANSWER", "answered"),
        ("TRANSFER", "answered"),
        ("BUSY", "busy"),
        ("NOANSWER", "missed"),
        ("CANCEL", "missed"),
        ("CONGESTION", "failed"),
        ("CHANUNAVAIL", "failed"),
        ("VM", "voicemail"),
        ("VM-SUCCESS", "voicemail"),
    ],
)
def test_binotel_dispositions(disposition, status):
    conn = BinotelConnector(
        source("binotel"), parse_connection("b", "http://k:s@h"), load_settings()
    )
    row = conn.map_record({**BINOTEL_BASE, "disposition": disposition})
    assert row["status"] == status
    assert row["talk_seconds"] == (42 if status == "answered" else 0)  # voicemail is no talk
    assert row["customer_number"] == "+380671234567"
    assert row["company_number"] == "+380443330001"
    assert row["started_at"] == dt.datetime(2025, 11, 20, 10, 0, tzinfo=dt.UTC)
    assert row["traffic_source"] is None


@pytest.mark.parametrize(
    ("patch", "reason"),
    [
        ({"disposition": "ONLINE"}, "call_in_progress"),
        ({"disposition": "CALLING"}, "call_in_progress"),
        ({"disposition": "ANSWER", "generalCallID": None}, "missing_call_id"),
        ({"disposition": "ANSWER", "startTime": "soon"}, "invalid_number"),
        ({"disposition": "ANSWER", "startTime": "0"}, "unparseable_time"),
        ({"disposition": "ANSWER", "callType": "7"}, "unknown_direction"),
        ({"disposition": "WHO-KNOWS"}, "unknown_disposition"),
    ],
)
def test_binotel_bad_records_get_a_reason(patch, reason):
    conn = BinotelConnector(
        source("binotel"), parse_connection("b", "http://k:s@h"), load_settings()
    )
    with pytest.raises(MappingError) as info:
        conn.map_record({**BINOTEL_BASE, **patch})
    assert info.value.reason == reason


def test_binotel_outbound_and_call_tracking_data():
    conn = BinotelConnector(
        source("binotel"), parse_connection("b", "http://k:s@h"), load_settings()
    )
    row = conn.map_record(
        {
            **BINOTEL_BASE,
            "disposition": "ANSWER",
            "callType": "1",
            "didNumber": "",
            "pbxNumberData": {"number": "0441000000"},
            "callTrackingData": {"utm_source": "google", "gaClientId": "9.9"},
        }
    )
    assert row["direction"] == "outbound"
    assert row["company_number"] == "+380441000000"
    assert (row["traffic_source"], row["ga_client_id"]) == ("google", "9.9")


# -- numbers and connections -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "region", "e164"),
    [
        ("+380671234567", "UA", "+380671234567"),
        ("380671234567", "UA", "+380671234567"),
        ("0671234567", "UA", "+380671234567"),
        ("(067) 123-45-67", "UA", "+380671234567"),
        ("14155550123", "US", "+14155550123"),
        ("anonymous", "UA", None),
        ("", "UA", None),
        (None, "UA", None),
        ('"Reception" <sip:101@pbx>', "UA", None),
        ("12", "UA", None),
    ],
)
def test_phone_numbers_to_e164(raw, region, e164):
    assert to_e164(raw, region) == e164


def test_connection_from_uri_json_and_missing(monkeypatch):
    conn = parse_connection("x", "http://lo%40gin:p%3Ass@127.0.0.1:8089/api?timeout=5")
    assert (conn.base_url, conn.login, conn.password) == (
        "http://127.0.0.1:8089/api",
        "lo@gin",
        "p:ss",
    )
    assert "p:ss" not in repr(conn)
    assert (
        parse_connection("x", "ringostat://:key@api.ringostat.net").base_url
        == "https://api.ringostat.net"
    )
    monkeypatch.setenv(
        "AIRFLOW_CONN_MY_SRC",
        '{"conn_type": "http", "host": "127.0.0.1", "port": 9000, "login": "a", "password": "b"}',
    )
    assert get_connection("my_src").base_url == "http://127.0.0.1:9000"
    monkeypatch.delenv("AIRFLOW_CONN_MY_SRC")
    with pytest.raises(ConfigError, match="AIRFLOW_CONN_MY_SRC"):
        get_connection("my_src")


def test_sources_file_defaults_and_errors(tmp_path, monkeypatch):
    from ringback.settings import load_sources

    path = tmp_path / "sources.yaml"
    path.write_text(
        "sources:\n  - {id: r1, provider: ringostat}\n  - {id: b1, provider: binotel}\n"
    )
    monkeypatch.setenv("RINGBACK_CONFIG", str(path))
    r1, b1 = load_sources()
    assert (r1.system, r1.time_zone, r1.default_region, r1.account_id) == (
        "calltracking",
        "Europe/Kyiv",
        "UA",
        "r1",
    )
    assert b1.system == "telephony"
    path.write_text("sources:\n  - {id: x, provider: zadarma}\n")
    with pytest.raises(ConfigError, match="supported"):
        load_sources()


def test_binotel_falls_back_to_per_direction_methods(gen):
    methods = ("incoming-calls-for-period", "outgoing-calls-for-period")
    with BinotelSimulator(gen, now=NOW, methods=methods) as sim:
        result = binotel(sim).fetch(WINDOW)
        assert len(result.records) == truth(gen, "telephony")
        asked = [r["path"].rsplit("/", 1)[1] for r in sim.requests]
        assert asked[0] == "list-of-calls-for-period.json"
        assert asked[1:] == [f"{m}.json" for m in methods] * 4
