"""Run the pipeline's DAGs for real in a child process, against simulators this test controls.

The child is ``ringback-dev dags test`` (Airflow's ``dag.test()``: real task instances, retries,
XComs and Asset events in its own SQLite metadata DB). The simulators run in the test process,
so a test queues faults on them, changes records between pulls, and reads their ground truth.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import subprocess
import sys
import zoneinfo
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ringback.settings import load_settings
from ringback.sources.base import Window
from ringback_dev.simulators import DEMO_CREDENTIALS, start_all
from ringback_dev.simulators.journeys import JourneyGenerator
from ringback_dev.simulators.server import ProviderSimulator

from helpers import connect

ROOT = Path(__file__).resolve().parents[1]
AIRFLOW = str(Path(sys.executable).with_name("airflow"))
SIM_NOW = dt.datetime(2026, 11, 20, 6, 0, tzinfo=dt.UTC)
SOURCE_OF = {
    "ringostat": "ringostat_main",
    "binotel": "binotel_main",
    "callrail": "callrail_main",
    "twilio": "twilio_main",
}
# The clinic's CRM: its connection is set like the others', its leads are no calls.
CRM_SOURCE_OF = {"hubspot": "hubspot_main"}


def harness_sources(**options_by_provider: dict) -> dict:
    """The repository's sources file cut to the sources this harness serves (the first four
    providers and HubSpot; the demo's Lviv and Odesa businesses are tested elsewhere), with
    per-provider options added."""
    sources = yaml.safe_load((ROOT / "config/sources.yaml").read_text())
    served = {*SOURCE_OF.values(), *CRM_SOURCE_OF.values()}
    sources["sources"] = [s for s in sources["sources"] if s["id"] in served]
    kept = {s["business"] for s in sources["sources"]}
    sources["businesses"] = [b for b in sources["businesses"] if b["id"] in kept]
    for source in sources["sources"]:
        source.update(options_by_provider.get(source["provider"], {}))
    return sources


# Tables whose content must not depend on how often or in which order a day ran.
DATA_TABLES = (
    "raw.call_records",
    "staging.calls",
    "staging.calls_quarantine",
    "staging.unified_calls",
    "staging.customer_first_seen",
    "staging.tracked_numbers",
    "staging.primary_calls",
    "marts.attributed_leads",
    "marts.missed_calls",
    "marts.call_reconciliation",
    "marts.unmatched_calls",
    # staging.crm_leads is left out: its load_id says which load wrote a lead last, which
    # depends on the order (the lead itself does not).
    "marts.crm_leads",
    "marts.crm_reconciliation",
)
# Columns that record when a run happened, not what it produced.
RUN_TIME_COLUMNS = {"extracted_at", "folded_at"}


def airflow_env(home: Path) -> dict[str, str]:
    return {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        # The tests read the task logs (lock waits, retries, and that no secret is in them);
        # `make` sets WARNING for quieter runs.
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        "RINGBACK_HOME": str(ROOT),
    }


def migrate(home: Path) -> None:
    """A fresh metadata DB with the warehouse pool, as ``make airflow-init`` makes it."""
    env = airflow_env(home)
    for cmd in (
        [AIRFLOW, "db", "migrate"],
        [AIRFLOW, "pools", "set", "ringback_warehouse", "1", "one DuckDB writer"],
    ):
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-3000:]


@dataclass
class Pipeline:
    """One warehouse, one batch folder, four simulators, and how to run the DAGs on them."""

    home: Path
    workdir: Path
    sources_file: Path | None = None
    credentials: dict[str, tuple[str, str]] = field(default_factory=lambda: dict(DEMO_CREDENTIALS))
    extra_env: dict[str, str] = field(default_factory=dict)
    sims: dict[str, ProviderSimulator] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.sources_file is None:
            self.sources_file = self.workdir / "sources.yaml"
            self.sources_file.write_text(yaml.safe_dump(harness_sources()))
        self.sims = start_all(generator=JourneyGenerator(seed=5, customers_per_day=30))
        for sim in self.sims.values():
            sim._now = SIM_NOW

    @property
    def warehouse_url(self) -> str:
        return f"duckdb://{self.workdir}/warehouse.duckdb"

    def connection_uri(self, provider: str) -> str:
        login, password = self.credentials[provider]
        return self.sims[provider].base_url.replace("://", f"://{login}:{password}@", 1)

    def env(self, home: Path | None = None) -> dict[str, str]:
        env = {
            **airflow_env(home or self.home),
            "RINGBACK_WAREHOUSE_URL": self.warehouse_url,
            "RINGBACK_BATCH_STORE_URL": str(self.workdir / "batches"),
            "RINGBACK_BUILD_DATA_DOCS": "false",
            "RINGBACK_TASK_RETRY_DELAY_SECONDS": "1",
            **self.extra_env,
        }
        if self.sources_file:
            env["RINGBACK_CONFIG"] = str(self.sources_file)
        for provider, source_id in {**SOURCE_OF, **CRM_SOURCE_OF}.items():
            env[f"AIRFLOW_CONN_{source_id.upper()}"] = self.connection_uri(provider)
        return env

    def start_dags(
        self,
        start: dt.date,
        end: dt.date,
        sources: list[str] | None = None,
        *,
        home: Path | None = None,
    ) -> subprocess.Popen:
        """Start the DAG runs for start..end in a child (``home``: another metadata DB)."""
        cmd = [sys.executable, "-m", "ringback_dev.cli", "dags", "test"]
        cmd += ["--start", start.isoformat(), "--end", end.isoformat()]
        for source in sources or []:
            cmd += ["--source", source]
        return subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=self.env(home),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def run_dags(
        self, start: dt.date, end: dt.date, sources: list[str] | None = None
    ) -> tuple[int, str]:
        """Run the DAGs for start..end and wait; (exit code, everything the child printed)."""
        child = self.start_dags(start, end, sources)
        output, _ = child.communicate(timeout=900)
        return child.returncode, output

    def stop(self) -> None:
        for sim in self.sims.values():
            sim.stop()

    def checksums(self) -> dict[str, str]:
        return table_checksums(self.warehouse_url)


def table_checksums(warehouse_url: str) -> dict[str, str]:
    """sha256 of each data table's rows in a fixed order (run-time columns left out)."""
    out = {}
    with connect(warehouse_url, read_only=True) as wh:
        for ref in DATA_TABLES:
            rows = wh.query(f"SELECT * FROM {ref}").to_pylist()
            cleaned = sorted(
                repr(sorted((k, v) for k, v in row.items() if k not in RUN_TIME_COLUMNS))
                for row in rows
            )
            out[ref] = f"{len(rows)}:" + hashlib.sha256("\n".join(cleaned).encode()).hexdigest()
    return out


def truth_per_day(p: Pipeline, provider: str, first: dt.date, last: dt.date) -> Counter:
    """Calls the provider holds for runs first..last (each with its re-pull window), counted
    by reporting date as staging dates them."""
    settings = load_settings()
    source = next(s for s in _sources(p) if s["provider"] == provider)
    tz = zoneinfo.ZoneInfo(source["time_zone"])
    # staging dates a call in its business's zone
    business_tz = zoneinfo.ZoneInfo(
        _business_zones(p).get(source.get("business"), settings.reporting_time_zone)
    )
    start_at = Window.for_run(first, settings.repull_days, tz).start_at
    end_at = Window.for_run(last, settings.repull_days, tz).end_at
    system = "telephony" if provider in ("binotel", "twilio") else "calltracking"
    counts: Counter = Counter()
    sim = p.sims[provider]
    for call in sim.calls_between(start_at, end_at):
        if not (call.seen_by_telephony if system == "telephony" else call.seen_by_calltracking):
            continue
        if getattr(sim, "hides", None) and sim.hides(call):  # CallRail's spam filter
            continue
        at = call.telephony_started_at if system == "telephony" else call.started_at
        if start_at <= at < end_at:
            counts[at.astimezone(business_tz).date()] += 1
    return counts


def _business_zones(p: Pipeline) -> dict[str, str]:
    path = p.sources_file or ROOT / "config/sources.yaml"
    doc = yaml.safe_load(path.read_text())
    return {b["id"]: b["time_zone"] for b in doc.get("businesses") or []}


def _sources(p: Pipeline) -> list[dict]:
    path = p.sources_file or ROOT / "config/sources.yaml"
    return yaml.safe_load(path.read_text())["sources"]


def staged_per_day(p: Pipeline, provider: str) -> Counter:
    with connect(p.warehouse_url, read_only=True) as wh:
        rows = wh.query(
            "SELECT call_date, COUNT(*) AS n, COUNT(DISTINCT call_key) AS keys "
            "FROM staging.calls WHERE provider = @p GROUP BY call_date",
            {"p": provider},
        ).to_pylist()
    assert all(r["n"] == r["keys"] for r in rows)  # no call twice
    return Counter({r["call_date"]: r["n"] for r in rows})
