"""Great Expectations checkpoints on the loads.

The GX project is ``expectations/`` (a GX 1.x file context under version control): one suite file
per raw provider (``raw_<provider>``) and per staged table (``staging_calls``,
``staging_crm_leads``). Their checkpoints (``<suite>_load``) and validation definitions are not
files: each process derives them from the suite files when it opens the context (in-memory stores),
so a new suite needs nothing else. They run on a load's batch in its validate step, the only place
GX is imported. The marts' suites are files of the same project, evaluated by the
warehouse (``audits.py``). Each expectation has a severity: ``critical`` failures stop the load
(nothing is published), ``warning`` failures are recorded and shown. An expectation whose ``meta``
names a ``quarantine_reason`` is row-level: its failing rows are quarantined with that reason and
the rest goes on. Data Docs are rebuilt locally under ``expectations/uncommitted/data_docs`` by the
marts DAG's ``data_docs`` task or ``ringback docs``; stored results past the retention are pruned.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import logging
import os
import time
from pathlib import Path
from typing import Any

import pandas as pd

# Shared with the mart audits, which run in the warehouse without importing GX.
from ringback.audits import (  # noqa: F401
    PII_COLUMNS,
    ValidationFailed,
    failure_message,
    log_report,
    record_results,
)
from ringback.settings import Settings, project_root

log = logging.getLogger(__name__)

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

UNBOUNDED_ROWS = 10**12


def gx_root() -> str:
    return str(project_root() / "expectations")


def data_docs_index() -> str:
    return str(project_root() / "expectations/uncommitted/data_docs/local_site/index.html")


# A load suite validates a DataFrame asset of the ``ringback_runtime`` datasource and names its
# failing rows by a key column: the staged tables by their own asset and key, raw records by
# their position in the pulled batch.
DATASOURCE = "ringback_runtime"
STAGED_ROW_KEYS = {"staging_calls": "call_key", "staging_crm_leads": "crm_lead_key"}
RAW_ASSET, RAW_ROW_KEY = "raw_records", "record_index"


def load_suites() -> list[str]:
    """The suites a load validates with: every ``raw_*`` and ``staging_*`` suite file."""
    folder = Path(gx_root()) / "expectations"
    return sorted(p.stem for p in folder.glob("*.json") if p.stem.startswith(("raw_", "staging_")))


def checkpoint_name(suite: str) -> str:
    return f"{suite}_load"


@functools.cache
def _context():
    import great_expectations as gx

    context = gx.get_context(mode="file", context_root_dir=gx_root())
    datasource = context.data_sources.get(DATASOURCE)
    for suite in load_suites():
        asset = suite if suite in STAGED_ROW_KEYS else RAW_ASSET
        definition = context.validation_definitions.add(
            gx.ValidationDefinition(
                name=checkpoint_name(suite),
                data=datasource.get_asset(asset).get_batch_definition("batch"),
                suite=context.suites.get(suite),
            )
        )
        context.checkpoints.add(
            gx.Checkpoint(
                name=checkpoint_name(suite),
                validation_definitions=[definition],
                result_format={
                    "result_format": "COMPLETE",
                    "unexpected_index_column_names": [STAGED_ROW_KEYS.get(suite, RAW_ROW_KEY)],
                    "partial_unexpected_count": 5,
                },
            )
        )
    return context


def validations_dir() -> Path:
    return project_root() / "expectations/uncommitted/validations"


def prune_validation_results(retention_days: int) -> int:
    """Delete stored GX validation results older than ``retention_days`` (by file time).

    Every checkpoint run stores one result and nothing else ever removes them; a year of daily
    loads would make each Data Docs build read thousands of files. The warehouse keeps its own
    summary of every run (``raw.validation_results``), so only the files go."""
    cutoff = time.time() - retention_days * 86400
    removed = 0
    root = validations_dir()
    if not root.exists():
        return 0
    for path in root.rglob("*.json"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except FileNotFoundError:  # another process pruned it first
            continue
    for folder in sorted((p for p in root.rglob("*") if p.is_dir()), reverse=True):
        with contextlib.suppress(OSError):  # not empty, or removed by another process
            folder.rmdir()
    if removed:
        log.info("removed %d stored validation results older than %d days", removed, retention_days)
    return removed


def build_data_docs() -> str:
    """Render the local Data Docs from the stored validation results; return the index."""
    _context().build_data_docs()
    return data_docs_index()


def update_data_docs(settings: Settings) -> str | None:
    """Prune past the retention, then rebuild the Data Docs (the marts DAG's ``data_docs``
    task; ``ringback docs`` on demand). Docs are a convenience: a failure is logged, not
    raised, so it never fails the data."""
    if not settings.build_data_docs:
        return None
    try:
        prune_validation_results(settings.validation_results_retention_days)
        return build_data_docs()
    except Exception as exc:
        log.warning("could not rebuild Data Docs: %s", exc)
        return None


def run_name(subject: str) -> str:
    """A validation run's name in Data Docs: the source, the run date and the load id."""
    from ringback.batches import split_load_id

    try:
        source_id, day = split_load_id(subject)
    except ValueError:
        return subject
    return f"{source_id} {day} load {subject}"


def run_checkpoint(
    name: str,
    frame: pd.DataFrame,
    subject: str,
    parameters: dict[str, Any] | None = None,
    key_column: str | None = None,
) -> dict[str, Any]:
    """Run one checkpoint on a DataFrame; return a JSON-able report.

    ``report["row_failures"]`` maps a quarantine reason to the failing rows' ``key_column``
    values (only the key: the failing value may be a phone number); these rows are quarantined by
    the caller and do not count as critical failures.
    """
    from great_expectations.core.run_identifier import RunIdentifier

    checkpoint = _context().checkpoints.get(name)
    result = checkpoint.run(
        batch_parameters={"dataframe": frame},
        expectation_parameters=parameters or {},
        # Data Docs list runs by name: say which load (else every run is "__none__").
        run_id=RunIdentifier(run_name=run_name(subject), run_time=dt.datetime.now(dt.UTC)),
    )
    failed: list[dict[str, Any]] = []
    row_failures: dict[str, list[Any]] = {}
    evaluated = 0
    for run in result.run_results.values():
        for er in run.results:
            evaluated += 1
            if er.success:
                continue
            cfg = er.expectation_config
            res = er.result or {}
            column = cfg.kwargs.get("column") or cfg.kwargs.get("column_A")
            reason = (cfg.meta or {}).get("quarantine_reason")
            entry = {
                "expectation": cfg.type,
                "column": column,
                "severity": str(getattr(cfg.severity, "value", cfg.severity)),
                "unexpected_count": res.get("unexpected_count"),
                "observed_value": res.get("observed_value")
                if not isinstance(res.get("observed_value"), list)
                else None,
                "examples": []
                if column in PII_COLUMNS
                else [str(x) for x in res.get("partial_unexpected_list") or []][:5],
                "quarantine_reason": reason,
            }
            if er.exception_info and (er.exception_info or {}).get("raised_exception"):
                entry["exception"] = str(er.exception_info.get("exception_message"))[:300]
            if reason and key_column and res.get("unexpected_index_list") is not None:
                keys = [row.get(key_column) for row in res["unexpected_index_list"]]
                row_failures.setdefault(reason, []).extend(keys)
                entry["severity"] = "quarantine"
            failed.append(entry)
    critical = [f for f in failed if f["severity"] == "critical"]
    report = {
        "suite": name.rsplit("_", 1)[0],
        "checkpoint": name,
        "subject": subject,
        "success": not critical,
        "evaluated": evaluated,
        "critical_failures": len(critical),
        "warnings": sum(f["severity"] == "warning" for f in failed),
        "rows": len(frame),
        "failed": failed,
        "row_failures": row_failures,
        "data_docs": data_docs_index(),
    }
    log_report(report, "Great Expectations")
    return report


# -- staging -----------------------------------------------------------------------------------
def prepare_staged_calls(df: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """Add the derived columns the suite checks that GX cannot compute itself."""
    out = df.copy()
    started = pd.to_datetime(out["started_at"], utc=True)
    local_dates = started.dt.tz_convert(settings.reporting_time_zone).dt.date
    out["call_date_matches_started_at"] = [
        bool(a == b) for a, b in zip(local_dates, out["call_date"], strict=True)
    ]
    for column in ("provider_status", "total_seconds"):
        if column not in out:
            out[column] = None
    return out


def validate_staged_calls(
    df: pd.DataFrame, settings: Settings, load_id: str, volume: tuple[int, int] | None = None
) -> dict[str, Any]:
    """The ``staging_calls_load`` checkpoint on a batch of staged calls."""
    low, high = volume or (0, UNBOUNDED_ROWS)
    return run_checkpoint(
        checkpoint_name("staging_calls"),
        prepare_staged_calls(df, settings),
        load_id,
        {"volume_min_rows": low, "volume_max_rows": high},
        STAGED_ROW_KEYS["staging_calls"],
    )


def validate_staged_crm_leads(df: pd.DataFrame, settings: Settings, load_id: str) -> dict[str, Any]:
    """The ``staging_crm_leads_load`` checkpoint on a batch of staged CRM leads."""
    out = df.copy()
    created = pd.to_datetime(out["created_at"], utc=True)
    local_dates = created.dt.tz_convert(settings.reporting_time_zone).dt.date
    out["created_date_matches_created_at"] = [
        bool(a == b) for a, b in zip(local_dates, out["created_date"], strict=True)
    ]
    suite = "staging_crm_leads"
    return run_checkpoint(checkpoint_name(suite), out, load_id, None, STAGED_ROW_KEYS[suite])


# -- raw ---------------------------------------------------------------------------------------
def validate_raw(view: pd.DataFrame, provider: str, load_id: str) -> dict[str, Any]:
    """The ``raw_<provider>_load`` checkpoint on the normalised view of the raw records."""
    from ringback.sources import connector_class

    return run_checkpoint(checkpoint_name(connector_class(provider).raw_suite()), view, load_id)
