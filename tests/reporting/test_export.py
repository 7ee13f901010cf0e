"""``ringback export``: recovered leads to a fake GA4 Measurement Protocol endpoint and to Google
Ads click-conversion / enhanced-conversion files, off by default, each lead exactly once."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import logging
import re
import stat
import time

import pytest

from ringback import cli, export
from ringback.settings import Business, Config, load_settings
from ringback_dev.simulators.ga4 import GA4Simulator, connection_uri
from ringback_dev.simulators.google_ads import DataManagerSimulator
from ringback_dev.simulators.google_ads import connection_uri as dm_connection_uri

from helpers import build, load_calls, runtime_of, staging_row

DAY = dt.date(2026, 11, 10)
NOW = dt.datetime(2026, 11, 11, 6, 0, tzinfo=dt.UTC)  # within GA4's 72 h of the leads
CALLS = [
    {"key": "p1", "number": "+380501000001", "at": "2026-11-10T08:00:00Z", "talk": 60,
     "source": "google", "medium": "cpc", "ga_client_id": "100.1"},
    # Recovered by a retry, from Google Ads, with a GA client id: both destinations.
    {"key": "m2", "number": "+380501000002", "at": "2026-11-10T09:00:00Z", "status": "missed",
     "source": "google", "medium": "cpc", "campaign": "brand", "keyword": "plumber kyiv",
     "ga_client_id": "200.2"},
    {"key": "r2", "number": "+380501000002", "at": "2026-11-10T09:10:00Z", "talk": 45},
    # Recovered by a callback, from Facebook: GA4 only.
    {"key": "m3", "number": "+380501000003", "at": "2026-11-10T10:00:00Z", "status": "missed",
     "source": "facebook", "medium": "paid", "campaign": "spring", "ga_client_id": "300.3"},
    {"key": "c3", "number": "+380501000003", "at": "2026-11-10T10:30:00Z", "talk": 90,
     "dir": "outbound"},
    # Recovered, from Google Ads by gclid, but no GA client id: Google Ads only.
    {"key": "m4", "number": "+380501000004", "at": "2026-11-10T11:00:00Z", "status": "missed",
     "source": "google", "medium": "organic", "gclid": "Cj0KCQ-test"},
    {"key": "r4", "number": "+380501000004", "at": "2026-11-10T11:20:00Z", "talk": 40},
]  # fmt: skip
RECOVERED = {"m2", "m3", "m4"}


@pytest.fixture
def leads_url(warehouse, warehouse_url):
    settings = load_settings({"validate_marts": False})
    load_calls(warehouse, [staging_row(c, settings) for c in CALLS])
    build(warehouse, settings, DAY, DAY)
    warehouse.close()
    return warehouse_url


@pytest.fixture
def ga4(monkeypatch):
    with GA4Simulator(now=NOW) as sim:
        monkeypatch.setenv("AIRFLOW_CONN_RINGBACK_GA4", connection_uri(sim))
        yield sim


def settings_for(url, tmp_path, **extra):
    return load_settings({"warehouse_url": url, "export_dir": str(tmp_path / "exports"), **extra})


def ledger(url) -> dict[tuple[str, str], tuple[str, str | None, int]]:
    from helpers import connect

    with connect(url, read_only=True) as wh:
        rows = wh.query("SELECT * FROM raw.lead_exports").to_pylist()
    return {
        (r["destination"], r["lead_id"]): (r["status"], r["detail"], r["attempts"]) for r in rows
    }


def sent_ids(sim: GA4Simulator) -> list[str]:
    return sorted(e["params"]["lead_id"] for e in sim.received)


def test_nothing_is_sent_or_written_by_default(leads_url, ga4, tmp_path):
    results = export.run_export(runtime_of(settings_for(leads_url, tmp_path)), DAY, DAY, now=NOW)
    assert [(r.destination, r.enabled) for r in results] == [("ga4", False), ("google_ads", False)]
    assert ga4.requests == [] and not (tmp_path / "exports").exists()
    assert ledger(leads_url) == {}


def test_ga4_gets_each_recovered_lead_once_with_its_original_source(leads_url, ga4, tmp_path):
    settings = settings_for(leads_url, tmp_path, export_ga4_enabled=True)
    (result,) = export.run_export(runtime_of(settings), DAY, DAY, ["ga4"], now=NOW)
    assert result.candidates == 3 and result.counts == {"sent": 2, "skipped": 1}
    assert sent_ids(ga4) == ["m2", "m3"] and ga4.dropped == []  # valid for GA4, none dropped
    by_lead = {e["params"]["lead_id"]: e for e in ga4.received}
    m2 = by_lead["m2"]
    assert m2["client_id"] == "200.2" and m2["name"] == "recovered_call_lead"
    assert m2["params"] == {
        "lead_id": "m2",
        "attribution_type": "missed_call_retry",
        "call_source": "google",
        "call_medium": "cpc",
        "call_campaign": "brand",
        "call_keyword": "plumber kyiv",
        "recovery_minutes": 10,
        "talk_seconds": 45,
    }
    assert m2["timestamp_micros"] == int(
        dt.datetime(2026, 11, 10, 9, 10, tzinfo=dt.UTC).timestamp() * 1e6
    )
    assert by_lead["m3"]["client_id"] == "300.3"
    assert by_lead["m3"]["params"]["attribution_type"] == "missed_call_callback"
    assert by_lead["m3"]["params"]["call_source"] == "facebook"
    assert ledger(leads_url) == {
        ("ga4", "m2"): ("sent", None, 1),
        ("ga4", "m3"): ("sent", None, 1),
        ("ga4", "m4"): ("skipped", "no_ga_client_id", 0),
    }
    # Rerun, and a wider range: nothing is sent again.
    requests = len(ga4.requests)
    (again,) = export.run_export(
        runtime_of(settings), DAY - dt.timedelta(days=3), DAY, ["ga4"], now=NOW
    )
    assert again.already == {"sent": 2} and again.counts == {"skipped": 1}
    assert len(ga4.requests) == requests and sent_ids(ga4) == ["m2", "m3"]


def test_refused_requests_are_retried_and_unanswered_ones_are_not_resent(
    leads_url, ga4, tmp_path, monkeypatch
):
    settings = settings_for(leads_url, tmp_path, export_ga4_enabled=True)
    # m2's request: refused 3 times (500, 503, 500) -> failed this run.
    # m3's request: throttled once (429), then accepted.
    ga4.faults.add("http_500")
    ga4.faults.add("http_503")
    ga4.faults.add("http_500")
    ga4.faults.add("http_429")
    (first,) = export.run_export(runtime_of(settings), DAY, DAY, ["ga4"], now=NOW)
    assert first.counts == {"failed": 1, "sent": 1, "skipped": 1}
    assert sent_ids(ga4) == ["m3"]
    assert ledger(leads_url)[("ga4", "m2")] == ("failed", "HTTP 500", 1)
    # Next run: the failed lead goes, the sent one does not.
    (second,) = export.run_export(runtime_of(settings), DAY, DAY, ["ga4"], now=NOW)
    assert second.counts == {"sent": 1, "skipped": 1} and second.already == {"sent": 1}
    assert sent_ids(ga4) == ["m2", "m3"]
    assert ledger(leads_url)[("ga4", "m2")] == ("sent", None, 2)


def test_a_request_without_an_answer_is_not_resent(leads_url, ga4, tmp_path, monkeypatch):
    monkeypatch.setattr(export, "HTTP_TIMEOUT_SECONDS", 0.5)
    settings = settings_for(leads_url, tmp_path, export_ga4_enabled=True)
    ga4.faults.add("slow", seconds=1.5)  # m2: GA4 records it, but answers after the client left
    (first,) = export.run_export(runtime_of(settings), DAY, DAY, ["ga4"], now=NOW)
    assert first.counts == {"unknown": 1, "sent": 1, "skipped": 1}
    assert ledger(leads_url)[("ga4", "m2")][:2] == ("unknown", "ReadTimeout")
    (second,) = export.run_export(runtime_of(settings), DAY, DAY, ["ga4"], now=NOW)
    assert second.already == {"sent": 1, "unknown": 1}
    deadline = time.monotonic() + 10
    while len(ga4.received) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)  # the slow answer is still on its way
    assert sent_ids(ga4) == ["m2", "m3"]  # once each: the unknown one did arrive the first time
    # --retry-unknown is the operator's explicit choice, and it does resend.
    (third,) = export.run_export(
        runtime_of(settings), DAY, DAY, ["ga4"], retry_unknown=True, now=NOW
    )
    assert third.counts == {"sent": 1, "skipped": 1}
    assert sent_ids(ga4) == ["m2", "m2", "m3"]


def test_a_crash_mid_run_leaves_leads_in_doubt_not_resent(leads_url, ga4, tmp_path, monkeypatch):
    settings = settings_for(leads_url, tmp_path, export_ga4_enabled=True)
    real = export._ga4_send
    calls = []

    def crash_after_first(*args):
        if calls:
            raise KeyboardInterrupt  # the worker is killed between two requests
        calls.append(1)
        return real(*args)

    monkeypatch.setattr(export, "_ga4_send", crash_after_first)
    with pytest.raises(KeyboardInterrupt):
        export.run_export(runtime_of(settings), DAY, DAY, ["ga4"], now=NOW)
    assert sent_ids(ga4) == ["m2"]
    # Nothing reached the ledger's final write, so both are "sending": neither is resent.
    assert {k: v[0] for k, v in ledger(leads_url).items()} == {
        ("ga4", "m2"): "sending",
        ("ga4", "m3"): "sending",
        ("ga4", "m4"): "skipped",
    }
    monkeypatch.setattr(export, "_ga4_send", real)
    (rerun,) = export.run_export(runtime_of(settings), DAY, DAY, ["ga4"], now=NOW)
    assert rerun.already == {"sending": 2} and sent_ids(ga4) == ["m2"]


def test_leads_older_than_ga4_accepts_are_skipped_with_the_reason(leads_url, ga4, tmp_path):
    settings = settings_for(leads_url, tmp_path, export_ga4_enabled=True)
    late = NOW + dt.timedelta(days=4)
    (result,) = export.run_export(runtime_of(settings), DAY, DAY, ["ga4"], now=late)
    assert result.counts == {"skipped_too_old": 2, "skipped": 1} and ga4.requests == []
    assert ledger(leads_url)[("ga4", "m2")] == (
        "skipped_too_old",
        "lead older than ga4_max_age_hours=71",
        0,
    )
    # Final: a later run does not look at them again.
    (again,) = export.run_export(runtime_of(settings), DAY, DAY, ["ga4"], now=late)
    assert again.already == {"skipped_too_old": 2}


def test_ga4_keeps_a_margin_before_the_72_hour_edge(leads_url, ga4, tmp_path):
    """m2's lead is at 09:10; 71.5 h later GA4 would still take it but drop it minutes later
    while answering 2xx. The old rule (72 h, no margin) sent it and called it sent."""
    settings = settings_for(leads_url, tmp_path, export_ga4_enabled=True)
    edge = dt.datetime(2026, 11, 10, 9, 10, tzinfo=dt.UTC) + dt.timedelta(hours=71, minutes=30)
    (result,) = export.run_export(runtime_of(settings), DAY, DAY, ["ga4"], now=edge)
    assert ledger(leads_url)[("ga4", "m2")][0] == "skipped_too_old"
    assert "m2" not in sent_ids(ga4) and result.counts["sent"] == 1  # m3, 20 min younger


def read_upload(path):
    with path.open(newline="") as f:
        first = f.readline().strip()
        return first, list(csv.DictReader(f))


def test_google_ads_files_key_by_gclid_or_hashed_number(leads_url, tmp_path):
    """Offline *call* conversions match only Google forwarding numbers: the old file (caller's
    raw number + call start) would be ignored by Google, and carried raw numbers."""
    settings = settings_for(leads_url, tmp_path, export_google_ads_enabled=True)
    (result,) = export.run_export(runtime_of(settings), DAY, DAY, ["google_ads"], now=NOW)
    assert result.counts == {"written": 2, "skipped": 1}
    click, enhanced = sorted(result.files)
    assert (
        click.name.startswith("click_conversions_") and stat.S_IMODE(click.stat().st_mode) == 0o600
    )
    # m4: its credited call has a gclid. Kyiv is UTC+2 in November.
    assert read_upload(click) == (
        "Parameters:TimeZone=Europe/Kyiv",
        [
            {
                "Google Click ID": "Cj0KCQ-test",
                "Conversion Name": "Recovered missed call",
                "Conversion Time": "2026-11-10 13:20:00",
                "Conversion Value": "",
                "Conversion Currency": "",
            }
        ],
    )
    # m2: from Google Ads by source/medium, no gclid: enhanced conversions for leads.
    digest = hashlib.sha256(b"+380501000002").hexdigest()
    assert read_upload(enhanced) == (
        "Parameters:TimeZone=Europe/Kyiv",
        [
            {
                "Phone Number": digest,
                "Conversion Name": "Recovered missed call",
                "Conversion Time": "2026-11-10 11:10:00",
                "Conversion Value": "",
                "Conversion Currency": "",
            }
        ],
    )
    for path in result.files:  # no raw phone number leaves the warehouse
        assert "+380" not in path.read_text() and "380501" not in path.read_text()
    assert ledger(leads_url)[("google_ads", "m3")] == ("skipped", "not_from_google_ads", 0)
    assert ledger(leads_url)[("google_ads", "m2")] == ("written", enhanced.name, 1)
    (again,) = export.run_export(
        runtime_of(settings), DAY, DAY, ["google_ads"], now=NOW + dt.timedelta(hours=1)
    )
    assert again.files == [] and again.already == {"written": 2}
    assert len(list(click.parent.iterdir())) == 2


def test_the_api_secret_stays_out_of_logs(leads_url, ga4, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="httpx")  # `ringback` commands quieten it
    settings = settings_for(leads_url, tmp_path, export_ga4_enabled=True)
    export.run_export(runtime_of(settings), DAY, DAY, ["ga4"], now=NOW)
    requests = [r.getMessage() for r in caplog.records if r.name == "httpx"]
    assert len(requests) == 2 and all("api_secret=***" in m for m in requests)
    assert ga4.api_secret not in caplog.text


def test_cli_export_is_off_until_enabled(leads_url, ga4, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("RINGBACK_EXPORT_DIR", str(tmp_path / "exports"))
    base = ["export", "--warehouse", leads_url, "--start", str(DAY), "--end", str(DAY)]
    assert cli.main(base) == 0
    out = capsys.readouterr().out
    assert "ga4: off" in out and "google_ads: off" in out and ga4.requests == []
    on = ["--set", "export_ga4_enabled=true", "--set", "export_google_ads_enabled=true"]
    assert cli.main([*base, *on]) == 0
    out = capsys.readouterr().out
    # Run on today's clock, these November leads are past GA4's 72 h: skipped, with the reason.
    assert "ga4: 3 recovered leads; this run: skipped 1, skipped_too_old 2" in out
    assert "google_ads: 3 recovered leads; this run: skipped 1, written 2" in out
    assert ga4.requests == []


def test_the_ga4_fake_validates_like_the_validation_server():
    """The fake holds the exporter to GA4's documented limits, or the tests above prove little."""
    import httpx

    with GA4Simulator(now=NOW) as sim:
        debug = f"{sim.base_url}/debug/mp/collect"
        micros = int(NOW.timestamp() * 1e6)

        def codes(body):
            return [
                m["validationCode"]
                for m in httpx.post(debug, json=body).json()["validationMessages"]
            ]

        ok = {"client_id": "1.2", "timestamp_micros": micros, "events": [{"name": "lead"}]}
        assert codes(ok) == []
        assert codes({**ok, "client_id": None}) == ["VALUE_REQUIRED"]
        assert codes({**ok, "events": [{"name": "lead"}] * 26}) == ["EXCEEDED_MAX_ENTITIES"]
        assert codes({**ok, "events": [{"name": "1lead"}]}) == ["NAME_INVALID"]
        assert codes({**ok, "events": [{"name": "session_start"}]}) == ["NAME_RESERVED"]
        assert codes({**ok, "events": [{"name": "lead", "params": {"k": "x" * 101}}]}) == [
            "VALUE_INVALID"
        ]
        old = micros - 73 * 3600 * 1_000_000
        assert codes({**ok, "timestamp_micros": old}) == ["VALUE_INVALID"]
        assert codes({**ok, "timestamp_micros": micros // 1000}) == ["VALUE_INVALID"]  # millis
        # /mp/collect answers 204 to anything and silently drops what is invalid.
        collect = f"{sim.base_url}/mp/collect"
        query = {"measurement_id": sim.measurement_id, "api_secret": sim.api_secret}
        assert httpx.post(collect, params=query, json={**ok, "client_id": None}).status_code == 204
        assert httpx.post(collect, params={**query, "api_secret": "x"}, json=ok).status_code == 204
        assert sim.received == [] and len(sim.dropped) == 2
        assert httpx.post(collect, params=query, json=ok).status_code == 204
        assert [e["name"] for e in sim.received] == ["lead"]


def test_each_business_exports_with_its_own_settings(
    warehouse, warehouse_url, tmp_path, monkeypatch
):
    """Kyiv sends to its own GA4 property; Lviv has the export off. Ledger rows are per business."""
    config = Config(
        (
            Business(
                "kyiv_clinic",
                "Kyiv",
                "Europe/Kyiv",
                {"export_ga4_enabled": True, "ga4_connection_id": "ga4_kyiv"},
            ),
            Business("lviv_dental", "Lviv", "Europe/Kyiv", {"export_ga4_enabled": False}),
        ),
        (),
    )
    settings = load_settings({"validate_marts": False})
    rows = [staging_row({**c, "business": b}, settings) for b in config_ids(config) for c in CALLS]
    for r in rows:  # the same provider ids in two businesses' accounts
        r["call_key"] = f"{r['business_id']}:{r['call_key']}"
    load_calls(warehouse, rows)
    build(warehouse, settings, DAY, DAY, config=config)
    warehouse.close()
    with GA4Simulator(now=NOW, measurement_id="G-KYIV") as kyiv:
        monkeypatch.setenv("AIRFLOW_CONN_GA4_KYIV", connection_uri(kyiv))
        results = export.run_export(
            runtime_of(settings_for(warehouse_url, tmp_path), config), DAY, DAY, ["ga4"], now=NOW
        )
    by_business = {r.business_id: r for r in results}
    assert by_business["kyiv_clinic"].counts == {"sent": 2, "skipped": 1}
    assert not by_business["lviv_dental"].enabled and not by_business["lviv_dental"].counts
    assert sorted(e["params"]["lead_id"] for e in kyiv.received) == [
        "kyiv_clinic:m2",
        "kyiv_clinic:m3",
    ]
    assert kyiv.dropped == []


def config_ids(config: Config) -> list[str]:
    return [b.id for b in config.businesses]


@pytest.fixture
def data_manager(monkeypatch):
    with DataManagerSimulator() as sim:
        monkeypatch.setenv(
            "AIRFLOW_CONN_RINGBACK_GOOGLE_ADS", dm_connection_uri(sim, "1234567890", "987654321")
        )
        yield sim


def test_google_ads_upload_through_the_data_manager_api(leads_url, data_manager, tmp_path):
    settings = settings_for(
        leads_url, tmp_path, export_google_ads_enabled=True, google_ads_upload="data_manager"
    )
    (result,) = export.run_export(runtime_of(settings), DAY, DAY, ["google_ads"], now=NOW)
    assert result.counts == {"sent": 2, "skipped": 1} and result.files == []
    assert not (tmp_path / "exports").exists()  # uploaded, no file written
    events = data_manager.received
    assert events["m4"]["adIdentifiers"] == {"gclid": "Cj0KCQ-test"}
    assert events["m2"]["userData"] == {
        "userIdentifiers": [{"phoneNumber": hashlib.sha256(b"+380501000002").hexdigest()}]
    }
    assert events["m2"]["eventTimestamp"] == "2026-11-10T11:10:00+02:00"
    status, detail, attempts = ledger(leads_url)[("google_ads", "m2")]
    assert (status, attempts) == ("sent", 1) and detail == data_manager.request_ids[0]
    (again,) = export.run_export(runtime_of(settings), DAY, DAY, ["google_ads"], now=NOW)
    assert again.counts == {"skipped": 1} and again.already == {"sent": 2}
    assert len(data_manager.request_ids) == 1


def test_a_refused_upload_is_failed_and_tried_again(leads_url, data_manager, tmp_path):
    settings = settings_for(
        leads_url, tmp_path, export_google_ads_enabled=True, google_ads_upload="data_manager"
    )
    good = data_manager.token
    data_manager.token = "another-token"  # an expired token: 401, nothing recorded by Google
    (result,) = export.run_export(runtime_of(settings), DAY, DAY, ["google_ads"], now=NOW)
    assert result.counts == {"failed": 2, "skipped": 1} and data_manager.received == {}
    assert ledger(leads_url)[("google_ads", "m2")][:2] == ("failed", "HTTP 401")
    data_manager.token = good
    (retry,) = export.run_export(runtime_of(settings), DAY, DAY, ["google_ads"], now=NOW)
    assert retry.counts == {"sent": 2, "skipped": 1} and set(data_manager.received) == {"m2", "m4"}


def checking_settings(url, tmp_path):
    """Uploads through the Data Manager API, their status asked at the next export."""
    return settings_for(
        url,
        tmp_path,
        export_google_ads_enabled=True,
        google_ads_upload="data_manager",
        google_ads_status_delay_minutes=0,
    )


def test_google_reports_how_it_processed_each_upload_and_rejections_are_kept(
    leads_url, monkeypatch, tmp_path
):
    """A later export asks Google how each earlier request went once the delay has passed:
    accepted, rejected with Google's reason, never sent again; still processing: asked again."""
    clock = {"now": NOW}
    with DataManagerSimulator(processing_seconds=3600, clock=lambda: clock["now"]) as sim:
        monkeypatch.setenv(
            "AIRFLOW_CONN_RINGBACK_GOOGLE_ADS", dm_connection_uri(sim, "1234567890", "987654321")
        )
        sim.rejections["Cj0KCQ-test"] = "PROCESSING_ERROR_REASON_CLICK_NOT_FOUND"  # m4's click
        settings = checking_settings(leads_url, tmp_path)

        def export_now():
            (result,) = export.run_export(runtime_of(settings), DAY, DAY, ["google_ads"], now=NOW)
            return result

        first = export_now()
        assert first.counts == {"sent": 2, "skipped": 1} and not first.checked
        (request_id,) = sim.request_ids
        processing = export_now()  # Google still processing: nothing learnt, nothing resent
        assert not processing.checked and processing.already == {"sent": 2}
        assert ledger(leads_url)[("google_ads", "m2")][0] == "sent"
        clock["now"] = NOW + dt.timedelta(hours=2)
        done = export_now()
        assert done.checked == {"partly_rejected": 2} and done.rejected == 2
        assert done.reasons == {"PROCESSING_ERROR_REASON_CLICK_NOT_FOUND": 1}
        assert "records failed: CLICK_NOT_FOUND 1" in done.line()
        status, detail, attempts = ledger(leads_url)[("google_ads", "m4")]
        assert (status, detail, attempts) == (
            "partly_rejected",
            f"{request_id} CLICK_NOT_FOUND=1",
            1,
        )
        again = export_now()  # learnt once: never asked again, never resent
        assert not again.checked and again.already == {"partly_rejected": 2}
        assert len(sim.request_ids) == 1 and set(sim.received) == {"m2"}


def test_a_request_google_failed_whole_is_rejected(leads_url, data_manager, tmp_path):
    data_manager.rejections |= {
        "m2": "PROCESSING_ERROR_REASON_INVALID_EVENT",
        "Cj0KCQ-test": "PROCESSING_ERROR_REASON_CLICK_NOT_FOUND",
    }
    settings = checking_settings(leads_url, tmp_path)
    export.run_export(runtime_of(settings), DAY, DAY, ["google_ads"], now=NOW)
    (result,) = export.run_export(runtime_of(settings), DAY, DAY, ["google_ads"], now=NOW)
    assert result.checked == {"rejected": 2}
    rows = ledger(leads_url)
    assert rows[("google_ads", "m2")][0] == "rejected"
    assert rows[("google_ads", "m2")][1].endswith(" CLICK_NOT_FOUND=1 INVALID_EVENT=1")


def test_the_summary_and_the_report_count_what_google_made_of_the_uploads(
    leads_url, data_manager, tmp_path
):
    """Per business and destination: leads by outcome, Google's reasons counted once per
    request (each of the request's leads carries them)."""
    from ringback import report, summary

    data_manager.rejections["Cj0KCQ-test"] = "PROCESSING_ERROR_REASON_CLICK_NOT_FOUND"
    settings = checking_settings(leads_url, tmp_path)
    runtime = runtime_of(settings)
    export.run_export(runtime, DAY, DAY, ["google_ads"], now=NOW)
    before = dict(summary.summary_sections(runtime, DAY, DAY))
    (uploads,) = [text for title, text in before.items() if title.startswith("Conversion")]
    #    business  destination  leads  sent  accepted  rejected  partly  doubt  failed  skipped
    assert re.search(r"google_ads\s+3\s+2\s+0\s+0\s+0\s+0\s+0\s+1\s*$", uploads, re.M)
    export.run_export(runtime, DAY, DAY, ["google_ads"], now=NOW)  # Google's verdict
    after = dict(summary.summary_sections(runtime, DAY, DAY))
    (uploads,) = [text for title, text in after.items() if title.startswith("Conversion")]
    assert re.search(
        r"google_ads\s+3\s+0\s+0\s+2\s+2\s+0\s+0\s+1\s+CLICK_NOT_FOUND 1\s*$", uploads, re.M
    )
    html = report.write_report(runtime, DAY, DAY, tmp_path / "r.html").read_text()
    assert '<section class="uploads">' in html and "<td>CLICK_NOT_FOUND 1</td>" in html


def test_the_data_manager_fake_reports_status_as_documented():
    """int64 counts as strings, one entry per destination, failures counted per reason."""
    at = dt.datetime(2026, 11, 11, tzinfo=dt.UTC)
    sim = DataManagerSimulator(processing_seconds=60, clock=lambda: at)
    dest = {
        "operatingAccount": {"accountType": "GOOGLE_ADS", "accountId": "1234567890"},
        "productDestinationId": "987654321",
    }
    events = [
        {"transactionId": t, "eventTimestamp": stamp, "eventSource": "OTHER",
         "adIdentifiers": {"gclid": "G" + t}}
        for t, stamp in [("a", "2026-11-10T10:00:00+00:00"), ("b", "2026-07-01T10:00:00+00:00")]
    ]  # fmt: skip
    doc = {"destinations": [dest], "events": events}
    request_id = json.loads(sim.ingest(doc).body)["requestId"]
    assert (
        json.loads(sim.status(request_id).body)["requestStatusPerDestination"][0]["requestStatus"]
        == "PROCESSING"
    )
    at += dt.timedelta(minutes=2)
    (entry,) = json.loads(sim.status(request_id).body)["requestStatusPerDestination"]
    assert entry == {
        "destination": dest,
        "requestStatus": "PARTIAL_SUCCESS",
        "eventsIngestionStatus": {"recordCount": "2"},
        "errorInfo": {
            "errorCounts": [{"recordCount": "1", "reason": "PROCESSING_ERROR_REASON_EVENT_TOO_OLD"}]
        },
    }
    again = json.loads(sim.ingest(doc).body)["requestId"]  # the same transaction ids again
    at += dt.timedelta(minutes=2)
    (entry,) = json.loads(sim.status(again).body)["requestStatusPerDestination"]
    assert entry["requestStatus"] == "FAILED"
    assert {e["reason"] for e in entry["errorInfo"]["errorCounts"]} == {
        "PROCESSING_ERROR_REASON_DUPLICATE_TRANSACTION_ID",
        "PROCESSING_ERROR_REASON_EVENT_TOO_OLD",
    }
    assert sim.status("nope").status == 404


def test_the_data_manager_fake_refuses_what_google_refuses():
    """The fake holds the uploader to the documented request, or the tests above prove little."""
    sim = DataManagerSimulator()
    event = {
        "transactionId": "t",
        "eventTimestamp": "2026-11-10T11:10:00+02:00",
        "eventSource": "OTHER",
        "adIdentifiers": {"gclid": "G"},
    }
    dest = {
        "operatingAccount": {"accountType": "GOOGLE_ADS", "accountId": "1234567890"},
        "productDestinationId": "987654321",
    }
    assert sim.validate({"destinations": [dest], "events": [event]}) is None
    raw_phone = {
        **event,
        "adIdentifiers": None,
        "userData": {"userIdentifiers": [{"phoneNumber": "+380501000002"}]},
    }
    for body, problem in [
        ({"destinations": [dest], "events": [raw_phone], "encoding": "HEX"}, "hex SHA-256"),
        ({"destinations": [dest], "events": [{**event, "eventTimestamp": "2026-11-10 11:10"}]},
         "UTC offset"),
        ({"destinations": [{**dest, "operatingAccount": {"accountType": "GOOGLE_ADS",
                                                         "accountId": "123-456-7890"}}],
          "events": [event]}, "10-digit"),
        ({"destinations": [dest], "events": [event] * 2001}, "1..2000"),
    ]:  # fmt: skip
        assert problem in sim.validate(body)


def test_the_credited_call_is_found_across_the_business_recovery_window(
    warehouse, warehouse_url, tmp_path
):
    """A 4-day recovery window: the credited call (with its gclid) is 95 h before the lead, out
    of reach of a fixed 2-day look-back, which sent it without its click id."""
    settings = load_settings({"validate_marts": False, "recovery_window_hours": 96})
    calls = [
        {"key": "m9", "number": "+380501000009", "at": "2026-11-06T08:00:00Z",
         "status": "missed", "source": "google", "medium": "cpc", "gclid": "Cj0-far"},
        {"key": "r9", "number": "+380501000009", "at": "2026-11-10T07:00:00Z", "talk": 50},
    ]  # fmt: skip
    load_calls(warehouse, [staging_row(c, settings) for c in calls])
    build(warehouse, settings, dt.date(2026, 11, 6), DAY)
    warehouse.close()
    run = settings_for(
        warehouse_url, tmp_path, export_google_ads_enabled=True, recovery_window_hours=96
    )
    (result,) = export.run_export(runtime_of(run), DAY, DAY, ["google_ads"], now=NOW)
    assert result.counts == {"written": 1}
    (click,) = result.files
    assert click.name.startswith("click_conversions_")
    assert read_upload(click)[1][0]["Google Click ID"] == "Cj0-far"
