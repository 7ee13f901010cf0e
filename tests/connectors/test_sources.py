"""Connectors against their simulators (contract, paging/splitting, faults) and mapping tests."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from ringback.settings import ConfigError, SourceConfig, load_settings
from ringback.sources.base import MappingError, Window, to_e164
from ringback.sources.binotel import BinotelConnector
from ringback.sources.connection import get_connection, parse_connection
from ringback.sources.ringostat import RingostatConnector
from ringback.sources.transport import ProviderError
from ringback_dev.simulators.binotel import BinotelSimulator
from ringback_dev.simulators.journeys import JourneyGenerator
from ringback_dev.simulators.ringostat import RingostatSimulator

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
    with (
        BinotelSimulator(gen, now=NOW) as sim,
        pytest.raises(ProviderError, match="121: wrong key or secret"),
    ):
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
        # The call log's SMS and fax records: no calls, an expected reason of their own.
        ({"disposition": "SMS-SENDING"}, "not_a_call"),
        ({"disposition": "SMS-SUCCESS"}, "not_a_call"),
        ({"disposition": "SMS-FAILED"}, "not_a_call"),
        ({"disposition": "SUCCESS"}, "not_a_call"),
        ({"disposition": "FAILED"}, "not_a_call"),
    ],
)
def test_binotel_bad_records_get_a_reason(patch, reason):
    conn = BinotelConnector(
        source("binotel"), parse_connection("b", "http://k:s@h"), load_settings()
    )
    with pytest.raises(MappingError) as info:
        conn.map_record({**BINOTEL_BASE, **patch})
    assert info.value.reason == reason


@pytest.mark.parametrize(
    ("patch", "employee_id", "employee_name", "company"),
    [
        ({"employeeData": [], "internalNumber": "901"}, "901", None, "+380443330001"),
        (
            {"employeeData": {"name": "Olha", "email": "olha@clinic.ua"}},
            "olha@clinic.ua",
            "Olha",
            "+380443330001",
        ),
        # An older answer shape: flat employee fields, the DID as "did".
        (
            {
                "employeeName": "Olha",
                "employeeEmail": "olha@clinic.ua",
                "internalNumber": "901",
                "didNumber": None,
                "did": "0443330002",
            },
            "olha@clinic.ua",
            "Olha",
            "+380443330002",
        ),
    ],
)
def test_binotel_employee_in_every_shape(patch, employee_id, employee_name, company):
    conn = BinotelConnector(
        source("binotel"), parse_connection("b", "http://k:s@h"), load_settings()
    )
    row = conn.map_record({**BINOTEL_BASE, "disposition": "ANSWER", **patch})
    assert (row["employee_id"], row["employee_name"]) == (employee_id, employee_name)
    assert row["company_number"] == company


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
        # Dialled forms seen in real call logs: trunk and international prefixes of the
        # source's region first, then digits as an international number without "+".
        ("81079246516548", "RU", "+79246516548"),  # 810: RU's international prefix
        ("8 (924) 651-65-48", "RU", "+79246516548"),  # 8: RU's trunk prefix
        ("79246516548", "RU", "+79246516548"),
        ("87011234567", "KZ", "+77011234567"),  # not +870 (Inmarsat)
        ("810380671234567", "KZ", "+380671234567"),
        ("00380671234567", "UA", "+380671234567"),
        ("4915112345678", "UA", "+4915112345678"),  # a German mobile, international, no "+"
        ("0049 30 1234567", "DE", "+49301234567"),
        ("030 1234567", "DE", "+49301234567"),
        ("07911 123456", "GB", "+447911123456"),
        ("00447911123456", "PL", "+447911123456"),
        ("600 123 456", "PL", "+48600123456"),
        ("48600123456", "PL", "+48600123456"),
        ("(512) 555-0101", "US", "+15125550101"),
        ("15125550101", "US", "+15125550101"),
        ("011380671234567", "US", "+380671234567"),
        ("447911123456", "US", "+447911123456"),
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
    from ringback.dag_factory import configured_sources as load_sources

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
    path.write_text("sources:\n  - {id: x, provider: mango_office}\n")
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


# -- CallRail ----------------------------------------------------------------------------------
from ringback.sources.callrail import CallRailConnector  # noqa: E402
from ringback.sources.twilio import TwilioConnector  # noqa: E402
from ringback_dev.simulators.callrail import CallRailSimulator  # noqa: E402
from ringback_dev.simulators.twilio import TwilioSimulator  # noqa: E402

NY = zoneinfo.ZoneInfo("America/New_York")
US_WINDOW = Window(dt.date(2026, 11, 17), dt.date(2026, 11, 20), NY)


@pytest.fixture
def us_gen():
    return JourneyGenerator(seed=3, customers_per_day=30, profile="us")


def us_source(provider: str, account_id: str, **options) -> SourceConfig:
    system = "calltracking" if provider == "callrail" else "telephony"
    return SourceConfig(
        id=f"{provider}_test",
        provider=provider,
        system=system,
        account_id=account_id,
        time_zone="America/New_York",
        default_region="US",
        options=options,
    )


def callrail(sim, key="demo-key", **options) -> CallRailConnector:
    conn = parse_connection("c", sim.base_url.replace("://", f"://:{key}@"))
    return CallRailConnector(us_source("callrail", "ACC0000demo", **options), conn, load_settings())


def twilio(sim, token="demo-token", **options) -> TwilioConnector:
    conn = parse_connection(
        "t", sim.base_url.replace("://", f"://AC0000000000000000000000000000dead:{token}@")
    )
    return TwilioConnector(
        us_source("twilio", "AC0000000000000000000000000000dead", **options), conn, load_settings()
    )


def us_truth(gen, system: str, window=US_WINDOW) -> int:
    calls = gen.calls_between(window.start_at, window.end_at)
    if system == "calltracking":
        # CallRail's spam filter hides the robocallers (the simulator's hide_spam).
        return sum(1 for c in calls if c.seen_by_calltracking and c.journey != "spam")
    return sum(1 for c in calls if c.seen_by_telephony)


@pytest.mark.parametrize("inclusive", [True, False], ids=["end_inclusive", "end_exclusive"])
@pytest.mark.parametrize("paging", ["relative", "offset"])
def test_callrail_pages_through_the_window(us_gen, paging, inclusive):
    """Whichever way CallRail reads a date end_date (unconfirmed), the window comes out whole."""
    with CallRailSimulator(us_gen, now=NOW, end_date_inclusive=inclusive) as sim:
        result = callrail(sim, per_page=40, paging=paging).fetch(US_WINDOW)
        ids = [r["id"] for r in result.records]
        assert len(ids) == len(set(ids)) == us_truth(us_gen, "calltracking")
        served = us_truth(
            us_gen,
            "calltracking",
            Window(
                US_WINDOW.first_day,
                US_WINDOW.last_day + dt.timedelta(days=1 if inclusive else 0),
                US_WINDOW.tz,
            ),
        )
        assert result.requests == -(-served // 40)
        if paging == "relative":  # offset counts pages in CallRail's relative paging
            assert [r["query"].get("offset") for r in sim.requests[1:3]] == [["1"], ["2"]]
        first = sim.requests[0]["query"]
        # end_date one day on: right whether CallRail reads it inclusive or not
        assert (first["start_date"], first["end_date"]) == (["2026-11-17"], ["2026-11-21"])
        assert "source" in first["fields"][0]
        assert sim.requests[0]["headers"]["authorization"] == 'Token token="demo-key"'


def test_callrail_bad_key_and_foreign_next_page(us_gen):
    with CallRailSimulator(us_gen, now=NOW) as sim:
        with pytest.raises(ProviderError, match="credentials"):
            callrail(sim, key="wrong").fetch(US_WINDOW)
        conn = callrail(sim)
        with pytest.raises(ProviderError, match="another host"):
            conn._check_same_host("https://evil.example/v3/a/ACC0000demo/calls.json?offset=1")


@pytest.mark.parametrize("fault", ["http_429", "http_503", "truncate", "slow"])
def test_callrail_survives_faults(us_gen, fault):
    with CallRailSimulator(us_gen, now=NOW) as sim:
        sim.faults.add(fault, times=2, seconds=1.5)
        result = callrail(sim, per_page=100, timeout_seconds=0.5).fetch(US_WINDOW)
        assert len({r["id"] for r in result.records}) == us_truth(us_gen, "calltracking")
        assert result.retries == 2


def test_callrail_duplicate_across_pages_is_returned_for_ingest_to_catch(us_gen):
    with CallRailSimulator(us_gen, now=NOW, end_date_inclusive=False) as sim:
        conn = callrail(sim, per_page=40, paging="offset")
        records = conn.fetch(US_WINDOW).records
        assert len(records) == us_truth(us_gen, "calltracking")
        sim.faults.add("duplicate_across_pages")
        doubled = conn.fetch(US_WINDOW).records
        assert len(doubled) == len(records) + 1
        assert len({r["id"] for r in doubled}) == len(records)


CALLRAIL_BASE = {
    "id": "CAL123",
    "direction": "inbound",
    "customer_phone_number": "+15125551234",
    "tracking_phone_number": "+15125550101",
    "business_phone_number": "+15125550100",
    "start_time": "2026-11-20T10:00:00.000-05:00",
    "source": "Google Ads",
    "medium": "cpc",
    "utm_source": "google",
    "campaign": "spring",
    "keywords": "plumber",
    "landing_page_url": "https://x.example/?gclid=G1",
    "gclid": None,
}


@pytest.mark.parametrize(
    ("answered", "voicemail", "status", "talk"),
    [
        (True, False, "answered", 75),
        (False, False, "missed", 0),
        (False, True, "voicemail", 0),
    ],
)
def test_callrail_answer_states(answered, voicemail, status, talk):
    conn = CallRailConnector(
        us_source("callrail", "ACC"), parse_connection("c", "http://:k@h"), load_settings()
    )
    row = conn.map_record(
        {**CALLRAIL_BASE, "answered": answered, "voicemail": voicemail, "duration": 75}
    )
    assert (row["status"], row["talk_seconds"], row["total_seconds"]) == (status, talk, 75)
    assert row["started_at"] == dt.datetime(2026, 11, 20, 15, 0, tzinfo=dt.UTC)
    assert (row["customer_number"], row["company_number"]) == ("+15125551234", "+15125550101")
    assert (row["traffic_source"], row["traffic_medium"], row["keyword"], row["gclid"]) == (
        "google",
        "cpc",
        "plumber",
        "G1",
    )


@pytest.mark.parametrize(
    ("answered", "voicemail", "status"),
    [("true", "false", "answered"), ("false", "false", "missed"), ("false", "true", "voicemail")],
)
def test_callrail_booleans_sent_as_strings_read_as_booleans(answered, voicemail, status):
    """Real CallRail bodies carry ``"answered": "false"`` and ``"first_call": "false"`` as
    strings, and ``value`` as an integer."""
    conn = CallRailConnector(
        us_source("callrail", "ACC"), parse_connection("c", "http://:k@h"), load_settings()
    )
    row = conn.map_record(
        {
            **CALLRAIL_BASE,
            "answered": answered,
            "voicemail": voicemail,
            "first_call": "false",
            "value": 250,
            "duration": 75,
        }
    )
    assert (row["status"], row["vendor_first_call"], row["vendor_value"]) == (status, False, 250.0)


@pytest.mark.parametrize(("answered", "employee"), [(True, "ann@example.com"), (False, None)])
def test_callrail_agent_email_names_only_who_answered(answered, employee):
    """``agent_email`` is "the user who answered the call": a call nobody answered has no
    employee, whatever the field holds."""
    conn = CallRailConnector(
        us_source("callrail", "ACC", agent_email=True),
        parse_connection("c", "http://:k@h"),
        load_settings(),
    )
    row = conn.map_record(
        {**CALLRAIL_BASE, "answered": answered, "duration": 40, "agent_email": "ann@example.com"}
    )
    assert row["employee_id"] == employee


@pytest.mark.parametrize(
    ("patch", "reason"),
    [
        ({"duration": None, "answered": False}, "call_in_progress"),
        ({"duration": 5, "answered": True, "id": None}, "missing_call_id"),
        ({"duration": 5, "answered": True, "start_time": "noon"}, "unparseable_time"),
        ({"duration": 5, "answered": True, "direction": "sideways"}, "unknown_direction"),
    ],
)
def test_callrail_bad_records_get_a_reason(patch, reason):
    conn = CallRailConnector(
        us_source("callrail", "ACC"), parse_connection("c", "http://:k@h"), load_settings()
    )
    with pytest.raises(MappingError) as info:
        conn.map_record({**CALLRAIL_BASE, **patch})
    assert info.value.reason == reason


# -- Twilio ------------------------------------------------------------------------------------
def test_twilio_follows_next_page_uri_and_folds_child_legs(us_gen):
    with TwilioSimulator(us_gen, now=NOW) as sim:
        conn = twilio(sim, page_size=50)
        result = conn.fetch(US_WINDOW)
        assert result.requests > 5
        first = sim.requests[0]["query"]
        assert first["StartTime>"] == ["2026-11-17T00:00:00Z"]  # UTC days covering the window
        assert first["StartTime<"] == ["2026-11-22T00:00:00Z"]  # before: exclusive
        conn.prepare(result.records)
        parents, children = [], 0
        for leg in result.records:
            try:
                parents.append(conn.map_record(leg))
            except MappingError as exc:
                assert exc.reason == "child_leg"
                children += 1
        assert len(parents) == us_truth(us_gen, "telephony") and children > 0
        assert all(US_WINDOW.start_at <= p["started_at"] < US_WINDOW.end_at for p in parents)


def test_twilio_legs_outside_the_requested_dates_are_kept_for_quarantine(us_gen):
    with TwilioSimulator(us_gen, now=NOW, ignore_window=True) as sim:
        records = twilio(sim).fetch(US_WINDOW).records
        starts = [
            dt.datetime.strptime(r["start_time"], "%a, %d %b %Y %H:%M:%S %z") for r in records
        ]
        assert min(starts) < US_WINDOW.start_at - dt.timedelta(days=1)  # the filter was ignored


@pytest.mark.parametrize("fault", ["http_429", "http_500", "truncate"])
def test_twilio_survives_faults(us_gen, fault):
    with TwilioSimulator(us_gen, now=NOW) as sim:
        sim.faults.add(fault, times=3)
        result = twilio(sim).fetch(US_WINDOW)
        assert result.retries == 3
        assert sum(1 for r in result.records if not r["parent_call_sid"]) == us_truth(
            us_gen, "telephony"
        )


def test_twilio_bad_token(us_gen):
    with TwilioSimulator(us_gen, now=NOW) as sim, pytest.raises(ProviderError, match="credentials"):
        twilio(sim, token="wrong").fetch(US_WINDOW)


TWILIO_PARENT = {
    "sid": "CA1",
    "parent_call_sid": None,
    "from": "+15125551234",
    "to": "+15125550101",
    "direction": "inbound",
    "start_time": "Fri, 20 Nov 2026 15:00:00 +0000",
    "duration": "95",
}
# A manager's call to the customer, placed through the API.
TWILIO_OUTBOUND = {
    **TWILIO_PARENT,
    "direction": "outbound-api",
    "from": "+15125550100",
    "to": "+15125551234",
    "status": "completed",
}


@pytest.mark.parametrize(
    ("status", "child", "expect"),
    [
        ("completed", {"status": "completed", "duration": "80"}, ("answered", 80)),
        ("completed", {"status": "no-answer", "duration": "0"}, ("missed", 0)),
        ("completed", {"status": "busy", "duration": "0"}, ("missed", 0)),
        ("completed", None, ("missed", 0)),  # only an IVR or voicemail answered
        ("busy", None, ("busy", 0)),
        ("no-answer", None, ("missed", 0)),
        ("canceled", None, ("missed", 0)),
        ("failed", None, ("failed", 0)),
    ],
)
def test_twilio_statuses(status, child, expect):
    conn = TwilioConnector(
        us_source("twilio", "AC"), parse_connection("t", "http://a:b@h"), load_settings()
    )
    legs = [{**TWILIO_PARENT, "status": status}]
    if child:
        legs.append(
            {
                **TWILIO_PARENT,
                **child,
                "sid": "CA2",
                "parent_call_sid": "CA1",
                "direction": "outbound-dial",
                "to": "+15125550150",
            }
        )
    conn.prepare(legs)
    row = conn.map_record(legs[0])
    assert (row["status"], row["talk_seconds"]) == expect
    assert (row["customer_number"], row["company_number"]) == ("+15125551234", "+15125550101")
    assert row["started_at"] == dt.datetime(2026, 11, 20, 15, 0, tzinfo=dt.UTC)


def test_twilio_outbound_api_and_bad_legs():
    conn = TwilioConnector(
        us_source("twilio", "AC"), parse_connection("t", "http://a:b@h"), load_settings()
    )
    out = {**TWILIO_OUTBOUND, "duration": "61"}
    conn.prepare([out])
    row = conn.map_record(out)
    assert (row["direction"], row["customer_number"], row["talk_seconds"]) == (
        "outbound",
        "+15125551234",
        61,
    )
    for patch, reason in [
        ({"status": "in-progress"}, "call_in_progress"),
        ({"status": "ringing"}, "call_in_progress"),
        ({"status": "teleported"}, "unknown_disposition"),
        ({"status": "completed", "start_time": "soon"}, "unparseable_time"),
        ({"status": "completed", "direction": "sideways"}, "unknown_direction"),
    ]:
        with pytest.raises(MappingError) as info:
            conn.map_record({**TWILIO_PARENT, **patch})
        assert info.value.reason == reason


@pytest.mark.parametrize(
    ("answered_by", "expect"),
    [
        (None, ("answered", 35)),
        ("human", ("answered", 35)),
        ("unknown", ("answered", 35)),
        ("machine_start", ("voicemail", 0)),
        ("machine_end_beep", ("voicemail", 0)),
        ("fax", ("voicemail", 0)),
    ],
)
def test_twilio_an_outbound_call_a_machine_answered_is_no_conversation(answered_by, expect):
    """A 35-second callback that left a message on the customer's voicemail recovers nothing."""
    conn = TwilioConnector(
        us_source("twilio", "AC"), parse_connection("t", "http://a:b@h"), load_settings()
    )
    out = {**TWILIO_OUTBOUND, "duration": "35", "answered_by": answered_by}
    conn.prepare([out])
    row = conn.map_record(out)
    assert (row["status"], row["talk_seconds"]) == expect


@pytest.mark.parametrize("fault", ["http_429", "http_500", "http_503", "truncate", "slow"])
def test_binotel_survives_http_faults(gen, fault):
    with BinotelSimulator(gen, now=NOW) as sim:
        sim.faults.add(fault, times=2, seconds=1.5)
        result = binotel(sim, timeout_seconds=0.5).fetch(WINDOW)
        assert len(result.records) == truth(gen, "telephony") and result.retries == 2


def test_twilio_slow_answers_and_page_overlap(us_gen):
    with TwilioSimulator(us_gen, now=NOW) as sim:
        sim.faults.add("slow", seconds=1.5)
        sim.faults.add("duplicate_across_pages")
        legs = twilio(sim, page_size=100, timeout_seconds=0.5).fetch(US_WINDOW).records
        sids = [leg["sid"] for leg in legs]
        assert len(sids) == len(set(sids)) + 1  # one leg twice: ingest quarantines the copy


@pytest.mark.parametrize("status", ["queued", "initiated", "ringing", "in-progress"])
def test_twilio_live_statuses_wait_for_the_next_pull(status):
    conn = TwilioConnector(
        us_source("twilio", "AC"), parse_connection("t", "http://a:b@h"), load_settings()
    )
    with pytest.raises(MappingError) as info:
        conn.map_record({**TWILIO_PARENT, "status": status})
    assert info.value.reason == "call_in_progress"


# -- Employees (who answered or placed a call) ---------------------------------------------------
def _staged_employees(conn, records) -> dict[str, tuple[str | None, str | None]]:
    conn.prepare(records)
    out = {}
    for record in records:
        try:
            row = conn.map_record(record)
        except MappingError:
            continue
        out[row["provider_call_id"]] = (row["employee_id"], row["employee_name"])
    return out


def test_each_provider_names_who_answered(gen, us_gen):
    """Binotel by employeeData.email (name too), Ringostat by connected_with (its SIP login)
    and employee_fio, Twilio by the agent leg's client identity, CallRail by the opt-in
    agent_email; nobody for a call nobody answered."""
    with BinotelSimulator(gen, now=NOW) as sim:
        rows = _staged_employees(binotel(sim), binotel(sim).fetch(WINDOW).records)
    named = [v for v in rows.values() if v[0]]
    assert named and all(e.endswith("@shop.example") and n for e, n in named)
    assert any(v == (None, None) for v in rows.values())  # missed inbound calls
    with RingostatSimulator(gen, now=NOW) as sim:
        rows = _staged_employees(ringostat(sim), ringostat(sim).fetch(WINDOW).records)
    assert {v for v in rows.values() if v[0]} <= {
        ("olena", "Olena Kovalenko"),
        ("ivan", "Ivan Shevchenko"),
        ("maria", "Maria Bondar"),
    }
    assert any(v[0] for v in rows.values())
    for setup, detection in (("dial", "child_leg"), ("flex", "agent_leg")):
        with TwilioSimulator(us_gen, now=NOW, setup=setup) as sim:
            conn = twilio(sim, answer_detection=detection)
            rows = _staged_employees(conn, conn.fetch(US_WINDOW).records)
        assert {v[0] for v in rows.values()} == {"maria", "james", None}, setup
    with CallRailSimulator(us_gen, now=NOW) as sim:
        without = _staged_employees(callrail(sim), callrail(sim).fetch(US_WINDOW).records)
        conn = callrail(sim, agent_email=True)
        rows = _staged_employees(conn, conn.fetch(US_WINDOW).records)
    assert {v[0] for v in without.values()} == {None}
    assert {v[0] for v in rows.values()} == {
        "maria@plumbing.example",
        "james@plumbing.example",
        None,
    }


@pytest.mark.parametrize(
    ("connected_with", "fio", "expect"),
    [
        ("olena", "Olena K", ("olena", "Olena K")),
        ("380671234567", "Olena K", (None, "Olena K")),  # a forward to a mobile: not an id
        ("+380 67 123 45 67", "", (None, None)),
        ("101", "", ("101", None)),
        ("", "", (None, None)),
    ],
)
def test_ringostat_employee_fields(connected_with, fio, expect):
    from ringback.sources.ringostat import ringostat_employee

    got = ringostat_employee({"connected_with": connected_with, "employee_fio": fio})
    assert (got["employee_id"], got["employee_name"]) == expect


def test_twilio_agent_identities():
    from ringback.sources.twilio import agent_identity

    assert agent_identity("client:olena") == "olena"
    assert agent_identity("sip:olena@shop.sip.twilio.com") == "olena@shop.sip.twilio.com"
    assert agent_identity("+15125550100") is None
    assert agent_identity(None) is None


def test_the_generator_calls_missed_customers_back_like_a_real_team():
    """Unanswered attempts after misses: first tries from minutes to hours later, some misses
    never tried; the leads of every day are what they were before attempts existed."""
    gen = JourneyGenerator(seed=7, customers_per_day=60)
    delays, untried, unrecovered = [], 0, 0
    for n in range(14):
        plan = gen.day(dt.date(2026, 11, 1) + dt.timedelta(days=n))
        # Attempts are drawn after the day's other calls (ids after theirs, a random stream of
        # their own), so every other call, and every lead, is what it was before them.
        attempts = {
            c.call_id for c in plan.calls if c.direction == "outbound" and c.status != "answered"
        }
        others = {c.call_id for c in plan.calls} - attempts
        assert not attempts or min(attempts) > max(others)
        by_journey: dict[str, list] = {}
        for call in plan.calls:
            by_journey.setdefault(call.journey_id, []).append(call)
        for calls in by_journey.values():
            if calls[0].journey != "missed_unrecovered":
                continue
            unrecovered += 1
            tries = [c for c in calls if c.direction == "outbound"]
            assert all(c.status != "answered" and c.employee is not None for c in tries)
            if not tries:
                untried += 1
            else:
                delays.append((tries[0].started_at - calls[0].started_at).total_seconds())
    assert min(delays) < 10 * 60 and max(delays) > 2 * 3600
    assert 0.2 < untried / unrecovered < 0.5
