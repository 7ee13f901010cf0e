"""Zadarma against its simulator: the signature, the 30-day cut, paging, throttling, legs."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import time
import zoneinfo

import pytest

from ringback.settings import SourceConfig, load_settings
from ringback.sources.base import Window
from ringback.sources.connection import parse_connection
from ringback.sources.transport import ProviderError
from ringback.sources.zadarma import ZadarmaConnector, sign
from ringback_dev.simulators.journeys import JourneyGenerator
from ringback_dev.simulators.zadarma import ZadarmaSimulator

from helpers import map_records

KYIV = zoneinfo.ZoneInfo("Europe/Kyiv")
NOW = dt.datetime(2026, 11, 23, 6, 0, tzinfo=dt.UTC)
WINDOW = Window(dt.date(2026, 11, 17), dt.date(2026, 11, 20), KYIV)


def zadarma(sim, secret="demo-secret", **options) -> ZadarmaConnector:
    conn = parse_connection("z", sim.base_url.replace("://", f"://demo-key:{secret}@"))
    src = SourceConfig(
        id="zadarma_test",
        provider="zadarma",
        system="telephony",
        account_id="acc",
        time_zone="Europe/Kyiv",
        default_region="UA",
        options={"request_interval_seconds": 0, **options},
    )
    return ZadarmaConnector(src, conn, load_settings())


@pytest.fixture
def gen():
    return JourneyGenerator(seed=3, customers_per_day=30)


def test_signature_is_the_official_clients():
    # The PHP client: ksort, http_build_query (RFC 1738: space as +), then
    # base64_encode(hash_hmac('sha1', method . query . md5(query), secret)), hex digest.
    params = {"start": "2026-11-17 00:00:00", "version": 2, "format": "json"}
    query, header = sign("/v1/statistics/pbx/", params, "k", "s")
    assert query == "format=json&start=2026-11-17+00%3A00%3A00&version=2"
    hexdigest = hmac.new(
        b"s",
        (
            "/v1/statistics/pbx/"
            + query
            + hashlib.md5(query.encode(), usedforsecurity=False).hexdigest()
        ).encode(),
        hashlib.sha1,
    ).hexdigest()
    assert header == "k:" + base64.b64encode(hexdigest.encode()).decode()


def test_pulls_every_call_and_folds_legs(gen):
    with ZadarmaSimulator(gen, now=NOW) as sim:
        conn = zadarma(sim)
        result = conn.fetch(WINDOW)
        calls = [
            c for c in gen.calls_between(WINDOW.start_at, WINDOW.end_at) if c.seen_by_telephony
        ]
        assert len({r["pbx_call_id"] for r in result.records}) == len(calls)
        assert len(result.records) > len(calls)  # inbound calls ring several extensions
        query = sim.requests[0]["query"]
        assert query["start"] == ["2026-11-17 00:00:00"]
        assert query["end"] == ["2026-11-20 23:59:59"]
        assert query["version"] == ["2"] and query["format"] == ["json"]
        rows, reasons = map_records(conn, result.records)
        assert len(rows) == len(calls)
        assert reasons == {"child_leg": len(result.records) - len(calls)}
        by_id = {r["provider_call_id"]: r for r in rows}
        for call in calls:
            stamp = f"{int(call.telephony_started_at.timestamp())}.{int(call.call_id) % 100000}"
            row = by_id[f"{'in' if call.direction == 'inbound' else 'out'}_{stamp}"]
            assert row["started_at"] == call.telephony_started_at.replace(microsecond=0)
            assert row["customer_number"] == call.customer_number
            talked = call.status == "answered" and call.talk_seconds > 0
            # Voicemail answers on a leg with no extension: Zadarma cannot tell it from an IVR,
            # so it is a missed call (no conversation either way).
            expected = {"voicemail": "missed"}.get(call.status, call.status)
            assert row["status"] == ("answered" if talked else expected), call
            assert row["talk_seconds"] == (call.talk_seconds if talked else 0)
            if call.direction == "inbound":
                assert row["company_number"] == call.company_number
                if talked:
                    assert row["employee_id"] == call.employee.extension


def test_voicemail_answering_is_not_a_conversation():
    conn = ZadarmaConnector(
        SourceConfig("z", "zadarma", "telephony", "acc", "Europe/Kyiv", "UA"),
        parse_connection("z", "http://k:s@localhost"),
        load_settings(),
    )
    legs = [
        {
            "call_id": "1.1",
            "pbx_call_id": "in_1",
            "sip": "100",
            "callstart": "2026-11-17 10:00:00",
            "clid": "380671234567",
            "destination": "380443330001",
            "disposition": "no answer",
            "seconds": 0,
        },
        {
            "call_id": "1.2",
            "pbx_call_id": "in_1",
            "sip": "",
            "callstart": "2026-11-17 10:00:00",
            "clid": "380671234567",
            "destination": "380443330001",
            "disposition": "answered",
            "seconds": 40,
        },
    ]
    rows, reasons = map_records(conn, legs)
    assert reasons == {"child_leg": 1}
    assert rows[0]["status"] == "missed" and rows[0]["talk_seconds"] == 0
    assert rows[0]["started_at"] == dt.datetime(2026, 11, 17, 8, 0, tzinfo=dt.UTC)


def test_a_window_longer_than_30_days_is_asked_in_chunks(gen):
    window = Window(dt.date(2026, 10, 1), dt.date(2026, 11, 20), KYIV)
    with ZadarmaSimulator(gen, now=NOW) as sim:
        records = zadarma(sim).fetch(window).records
        asked = [(r["query"]["start"][0], r["query"]["end"][0]) for r in sim.requests]
        assert asked[0] == ("2026-10-01 00:00:00", "2026-10-30 23:59:59")
        assert asked[-1] == ("2026-10-31 00:00:00", "2026-11-20 23:59:59")
        calls = gen.calls_between(window.start_at, window.end_at)
        assert len({r["pbx_call_id"] for r in records}) == sum(c.seen_by_telephony for c in calls)


def test_the_silent_30_day_cut_is_caught(gen, monkeypatch):
    # A connector that asked for 51 days in one request would load 30 of them as if whole.
    monkeypatch.setattr("ringback.sources.zadarma.MAX_CHUNK_DAYS", 60)
    window = Window(dt.date(2026, 10, 1), dt.date(2026, 11, 20), KYIV)
    with ZadarmaSimulator(gen, now=NOW) as sim, pytest.raises(ProviderError, match="cut the"):
        zadarma(sim).fetch(window)


def test_pages_of_1000_and_a_repeat_across_pages(gen):
    big = JourneyGenerator(seed=3, customers_per_day=200)
    with ZadarmaSimulator(big, now=NOW) as sim:
        sim.faults.add("duplicate_across_pages")
        result = zadarma(sim).fetch(WINDOW)
        skips = [int(r["query"]["skip"][0]) for r in sim.requests]
        assert skips[:2] == [0, 1000] and len(skips) >= 3
        assert all(r["query"]["limit"] == ["1000"] for r in sim.requests)
        ids = [r["call_id"] for r in result.records]
        assert len(ids) - len(set(ids)) <= 1  # the repeat is for ingest to quarantine


@pytest.mark.parametrize("fault", ["http_429", "http_500", "http_503", "truncate"])
def test_survives_faults(gen, fault):
    with ZadarmaSimulator(gen, now=NOW) as sim:
        sim.faults.add(fault, times=2)
        result = zadarma(sim).fetch(WINDOW)
        assert result.retries == 2
        assert sim.faults.injected == [fault, fault]


def test_throttling_server_and_bad_secret(gen):
    with ZadarmaSimulator(gen, now=NOW, min_interval_seconds=0.3) as sim:
        sim.requests.clear()
        result = zadarma(sim, request_interval_seconds=0.35).fetch(WINDOW)
        assert result.retries == 0
        with pytest.raises(ProviderError, match="refused the credentials"):
            zadarma(sim, secret="wrong", request_interval_seconds=0.35).fetch(WINDOW)


def test_a_call_changed_between_pulls_is_pulled_again_changed(gen):
    with ZadarmaSimulator(gen, now=NOW) as sim:
        conn = zadarma(sim)
        before, _ = map_records(conn, conn.fetch(WINDOW).records)
        missed = next(
            c
            for c in gen.calls_between(WINDOW.start_at, WINDOW.end_at)
            if c.status == "missed" and c.direction == "inbound" and c.seen_by_telephony
        )
        sim.changes[missed.call_id] = {"status": "answered", "talk_seconds": 95}
        after, _ = map_records(conn, conn.fetch(WINDOW).records)
        changed = [a for a, b in zip(after, before, strict=True) if a != b]
        assert [(r["status"], r["talk_seconds"]) for r in changed] == [("answered", 95)]


@pytest.mark.parametrize(
    ("disposition", "status"),
    [("call failed", "failed"), ("failed", "failed"), ("no money", "failed"), ("cancel", "missed")],
)
def test_a_failed_call_is_failed_in_both_spellings(disposition, status):
    """``call failed`` is the API page's and the OpenAPI spec's (github zadarma/openapi) value;
    the PHP client's docblock says ``failed``."""
    conn = ZadarmaConnector(
        SourceConfig("z", "zadarma", "telephony", "acc", "Europe/Kyiv", "UA"),
        parse_connection("z", "http://k:s@localhost"),
        load_settings(),
    )
    leg = {
        "call_id": "2.1",
        "pbx_call_id": "out_2",
        "sip": "100",
        "callstart": "2026-11-17 10:00:00",
        "clid": "100",
        "destination": "380671234567",
        "disposition": disposition,
        "seconds": 0,
    }
    rows, reasons = map_records(conn, [leg])
    assert reasons == {} and [r["status"] for r in rows] == [status]


def test_requests_wait_for_the_rate_limit_the_headers_count_down(gen):
    """Zadarma's statistics allow 3 requests a minute (its API page and OpenAPI spec) and count
    them down in X-RateLimit-Remaining / -Reset: with none left, the next request waits for the
    reset instead of earning a 429. Here the window is 3 requests per 2 seconds."""
    window = Window(dt.date(2026, 8, 1), dt.date(2026, 11, 20), KYIV)  # 4 chunks of 30 days
    with ZadarmaSimulator(gen, now=NOW, rate_limit=(3, 2.0)) as sim:
        began = time.monotonic()
        result = zadarma(sim).fetch(window)
        took = time.monotonic() - began
        # More than 3 requests (4 chunks, several pages each), none refused, none retried
        assert (sim.limited, result.retries) == (0, 0)
        windows = len(sim.requests) // 3 + (len(sim.requests) % 3 > 0)
        assert len(sim.requests) > 3 and took >= (windows - 1) * 2.0 - 0.5
        calls = gen.calls_between(window.start_at, window.end_at)
        pulled = {r["pbx_call_id"] for r in result.records}
        assert len(pulled) == sum(c.seen_by_telephony for c in calls)
