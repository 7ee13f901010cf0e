"""End to end under Airflow: the DAGs run for one day against a temporary DuckDB file.

Runs in a subprocess with its own AIRFLOW_HOME (SQLite, migrated here), the way `make demo`
runs, then checks staging and marts against the journey generator's ground truth.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ringback.settings import load_settings
from ringback_dev.simulators import demo_breaks
from ringback_dev.simulators.journeys import JourneyGenerator

from helpers import connect

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def run(cmd: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


def test_dags_run_one_day_end_to_end(tmp_path):
    warehouse = f"duckdb://{tmp_path}/e2e.duckdb"
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "RINGBACK_WAREHOUSE_URL": warehouse,
        "RINGBACK_BATCH_STORE_URL": str(tmp_path / "batches"),
        "RINGBACK_HOME": str(ROOT),
        # The export DAG with GA4 on too (the demo's local fake); Google Ads is on in every
        # demo, through its Data Manager fake.
        "RINGBACK_EXPORT_GA4_ENABLED": "true",
    }
    airflow = str(Path(sys.executable).with_name("airflow"))
    migrated = run([airflow, "db", "migrate"], env)
    assert migrated.returncode == 0, migrated.stderr[-3000:]
    pool = run([airflow, "pools", "set", "ringback_warehouse", "1", "test"], env)
    assert pool.returncode == 0, pool.stderr[-3000:]
    demo = run([sys.executable, "-m", "ringback_dev.cli", "demo", "--days", "1"], env)
    assert demo.returncode == 0, (demo.stdout[-3000:], demo.stderr[-5000:])
    assert "== Businesses (dates in each business's own time zone)" in demo.stdout
    # Nine ingest DAG runs (eight call sources, Zadarma and Asterisk among them, and the
    # clinic's HubSpot), marts and export; then the export run that learns Google's verdict,
    # failed on purpose by the click the demo has Google reject.
    assert demo.stdout.count(" success (") == 11, demo.stdout
    assert "The export run that learned Google's verdict ended failed" in demo.stdout

    settings = load_settings()
    today = dt.datetime.now(settings.tz).date()
    day = today - dt.timedelta(days=1)
    # The day as the demo's simulators served it: with the faults it breaks on known days.
    plan = JourneyGenerator(seed=7, breaks=demo_breaks(today)["ua"]).day(day)
    with connect(warehouse, read_only=True) as wh:
        staged = {
            r["system"]: r["n"]
            for r in wh.query(
                "SELECT system, COUNT(*) AS n FROM staging.calls WHERE call_date = @d "
                "GROUP BY system",
                {"d": day},
            ).to_pylist()
        }
        # Calls that start and end on that day are all there, none twice.
        day_calls = [c for c in plan.calls if c.ended_at.astimezone(settings.tz).date() == day]
        assert staged["calltracking"] >= sum(c.seen_by_calltracking for c in day_calls)
        assert staged["telephony"] >= sum(c.seen_by_telephony for c in day_calls)
        # Zadarma and Asterisk loaded under Airflow: the Lviv and Odesa businesses'
        # telephony, their legs folded (quarantined as child_leg, an expected reason).
        providers = {
            r["provider"]: r["n"]
            for r in wh.query(
                "SELECT provider, COUNT(*) AS n FROM staging.calls "
                "WHERE provider IN ('zadarma', 'asterisk_db') GROUP BY provider"
            ).to_pylist()
        }
        assert providers.get("zadarma", 0) > 0 and providers.get("asterisk_db", 0) > 0
        legs = (
            wh.query(
                "SELECT DISTINCT reason FROM staging.calls_quarantine "
                "WHERE provider IN ('zadarma', 'asterisk_db')"
            )
            .column("reason")
            .to_pylist()
        )
        assert legs == ["child_leg"], legs
        # The CRM leg ran under Airflow too: HubSpot's leads staged and matched by the marts run.
        crm = wh.query(
            "SELECT COUNT(*) AS leads, COUNT(lead_id) AS matched FROM marts.crm_leads "
            "WHERE business_id = 'kyiv_clinic'"
        ).to_pylist()[0]
        assert crm["leads"] > 0 and crm["matched"] > 0, crm

        leads = {
            r["attributed_call_key"]: r["attribution_type"]
            for r in wh.query(
                "SELECT attributed_call_key, attribution_type FROM marts.attributed_leads "
                "WHERE attributed_date = @d",
                {"d": day},
            ).to_pylist()
        }
        checked = 0
        for journey_kind, lead_type in (
            ("missed_callback", "missed_call_callback"),
            ("missed_retry", "missed_call_retry"),
        ):
            journeys: dict[str, list] = {}
            for call in plan.calls:
                if call.journey == journey_kind:
                    journeys.setdefault(call.journey_id, []).append(call)
            for calls in journeys.values():
                first, follow_up = calls[0], calls[-1]
                if follow_up.started_at.astimezone(settings.tz).date() != day:
                    continue  # its recovery lands on a day this run did not pull
                if not first.seen_by_calltracking:
                    continue  # dialled from a page whose substitution the demo broke
                key = (
                    f"ringostat:demo-project:{int(first.started_at.timestamp())}."
                    f"{first.call_id[-5:]}"
                )
                assert leads.get(key) == lead_type, (journey_kind, key)
                checked += 1
        assert checked >= 5

        # The export run sent every recovered lead with a GA client id once (all are within
        # GA4's 72 h), and the Google Ads ones to the Data Manager fake, whose verdict the next
        # run recorded: the rejected click's request partly rejected, the others accepted.
        exported = wh.query(
            "SELECT destination, status, COUNT(*) AS n FROM raw.lead_exports GROUP BY ALL"
        ).to_pylist()
        counts = {(r["destination"], r["status"]): r["n"] for r in exported}
        recovered = wh.query(
            "SELECT COUNT(*) AS n FROM marts.attributed_leads "
            "WHERE attribution_type != 'primary_call' AND lead_date = @d",
            {"d": day},
        ).to_pylist()[0]["n"]
        assert counts[("ga4", "sent")] >= 3
        assert counts[("ga4", "sent")] + counts.get(("ga4", "skipped"), 0) == recovered
        assert f"GA4 (local fake) received {counts[('ga4', 'sent')]} events, dropped 0" in (
            demo.stdout
        )
        google = {s: n for (d, s), n in counts.items() if d == "google_ads"}
        assert set(google) <= {"accepted", "rejected", "partly_rejected", "skipped"}, google
        assert google.get("rejected", 0) + google.get("partly_rejected", 0) >= 1, google
        verdicts = wh.query(
            "SELECT detail FROM raw.lead_exports WHERE destination = 'google_ads' "
            "AND status IN ('rejected', 'partly_rejected')"
        ).column("detail")
        assert all("CLICK_NOT_FOUND=1" in d for d in verdicts.to_pylist())

        recon = wh.query(
            "SELECT * FROM marts.call_reconciliation "
            "WHERE report_date = @d AND business_id = 'kyiv_clinic'",
            {"d": day},
        ).to_pylist()
        assert len(recon) == 1 and recon[0]["matched_calls"] > 0
        if plan.incident == "flyer_drop":
            assert recon[0]["mismatch_reason"] == "untracked_number"
        if plan.incident == "forwarding_fault":
            assert recon[0]["mismatch_reason"] == "missing_in_telephony"
