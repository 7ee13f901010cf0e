"""Great Expectations checkpoints on every layer.

The GX project is ``expectations/`` (a GX 1.x file context under version control): one suite and
one checkpoint per raw provider (``raw_<provider>_load``), for staging loads
(``staging_calls_load``) and for each mart (``marts_<table>_build``). Each expectation has a
severity: ``critical`` failures stop the load or the model (nothing is published), ``warning``
failures are recorded and shown. An expectation whose ``meta`` names a ``quarantine_reason`` is
row-level: its failing rows are quarantined with that reason and the rest goes on.
Data Docs are rebuilt locally under ``expectations/uncommitted/data_docs``.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import os
from typing import Any

import pandas as pd

from ringback.settings import Settings, project_root

log = logging.getLogger(__name__)

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

# Values of these columns never appear in reports, logs or the results table.
PII_COLUMNS = {"customer_number"}
UNBOUNDED_ROWS = 10**12


class ValidationFailed(RuntimeError):
    """A critical expectation failed: nothing was published."""


def gx_root() -> str:
    return str(project_root() / "expectations")


def data_docs_index() -> str:
    return str(project_root() / "expectations/uncommitted/data_docs/local_site/index.html")


@functools.cache
def _context():
    import great_expectations as gx

    return gx.get_context(mode="file", context_root_dir=gx_root())


def update_data_docs(settings: Settings) -> str | None:
    """Rebuild the local Data Docs once after a load or a model run (seconds, growing with the
    stored results, so not after every checkpoint)."""
    if not settings.build_data_docs:
        return None
    try:
        _context().build_data_docs()
    except Exception as exc:  # docs are a convenience; a failure must not fail the data
        log.warning("could not rebuild Data Docs: %s", exc)
        return None
    return data_docs_index()


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
    checkpoint = _context().checkpoints.get(name)
    result = checkpoint.run(
        batch_parameters={"dataframe": frame}, expectation_parameters=parameters or {}
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
    level = logging.INFO if not failed else logging.WARNING
    log.log(
        level,
        "%s on %s: %d expectations, %d critical, %d warnings, %d row-level",
        name,
        subject,
        evaluated,
        report["critical_failures"],
        report["warnings"],
        sum(f["severity"] == "quarantine" for f in failed),
    )
    for f in failed:
        log.log(
            level,
            "  %s %s on %s: %s unexpected %s",
            f["severity"],
            f["expectation"],
            f["column"],
            f["unexpected_count"],
            f["examples"] or "",
        )
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
        "staging_calls_load",
        prepare_staged_calls(df, settings),
        load_id,
        {"volume_min_rows": low, "volume_max_rows": high},
        "call_key",
    )


# -- raw ---------------------------------------------------------------------------------------
def validate_raw(view: pd.DataFrame, provider: str, load_id: str) -> dict[str, Any]:
    """The ``raw_<provider>_load`` checkpoint on the normalised view of the raw records."""
    return run_checkpoint(f"raw_{provider}_load", view, load_id)


# -- marts -------------------------------------------------------------------------------------
def _bools(values: Any) -> list[bool]:
    return [bool(v) for v in values]


def prepare_mart(
    ref: str,
    df: pd.DataFrame,
    settings: Settings,
    per_business: dict[str, Settings] | None = None,
) -> pd.DataFrame:
    """Derived check columns of a mart (rules that relate several columns of one row), each row
    judged by its own business's settings (``per_business``; else ``settings``)."""
    out = df.copy()
    per_business = per_business or {}

    def of_business(name: str) -> pd.Series:
        default = getattr(settings, name)
        if "business_id" not in out:
            return pd.Series(default, index=out.index)
        values = {b: getattr(s, name) for b, s in per_business.items()}
        # object first: mapping an empty string column keeps its str dtype, which then refuses
        # to compare with numbers (a one-day run on an empty warehouse)
        mapped = out["business_id"].astype(object).map(values).fillna(default)
        numeric = isinstance(default, int | float) and not isinstance(default, bool)
        return pd.to_numeric(mapped) if numeric else mapped

    if ref == "marts.attributed_leads":
        primary = out["attribution_type"] == "primary_call"
        same = out["lead_call_key"] == out["attributed_call_key"]
        out["primary_has_no_recovery"] = _bools(~primary | (same & (out["recovery_seconds"] == 0)))
        out["lead_is_conversation"] = _bools(
            out["talk_seconds"] > of_business("talk_threshold_seconds")
        )
    elif ref == "marts.missed_calls":
        recovered = out["outcome"].str.startswith("recovered_")
        out["recovered_iff_call"] = _bools(recovered == out["recovered_by_call_key"].notna())
    elif ref == "marts.call_reconciliation":
        unmatched = (
            out["only_in_calltracking"]
            + out["only_in_telephony_untracked"]
            + out["only_in_telephony_tracked"]
        )
        out["counts_add_up"] = _bools(
            (out["calltracking_calls"] == out["matched_calls"] + out["only_in_calltracking"])
            & (
                out["telephony_calls"]
                == out["matched_calls"]
                + out["only_in_telephony_untracked"]
                + out["only_in_telephony_tracked"]
            )
            & (out["unmatched_calls"] == unmatched)
        )
        out["reason_iff_mismatch"] = _bools(out["is_mismatch"] == out["mismatch_reason"].notna())
    return out


def mart_checkpoint(ref: str) -> str | None:
    name = f"marts_{ref.split('.', 1)[1]}_build"
    return name if (project_root() / "expectations/checkpoints" / f"{name}.json").exists() else None


def validate_mart(
    ref: str,
    df: pd.DataFrame,
    settings: Settings,
    subject: str,
    per_business: dict[str, Settings] | None = None,
) -> dict[str, Any] | None:
    """The mart's checkpoint on rows about to replace its partitions (None: no suite)."""
    name = mart_checkpoint(ref)
    if name is None:
        return None
    windows = [s.recovery_window_seconds for s in (per_business or {}).values()]
    return run_checkpoint(
        name,
        prepare_mart(ref, df, settings, per_business),
        subject,
        # The bound on recovery_seconds: the longest window of the businesses in the run.
        {"recovery_window_seconds": max([settings.recovery_window_seconds, *windows])},
    )


def _validation_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    now = dt.datetime.now(dt.UTC)
    rows = []
    for suite in report.get("suites", []):
        layer = suite["checkpoint"].split("_", 1)[0]
        rows.append(
            {
                "validation_id": f"{suite['checkpoint']}:{suite['subject']}",
                "checkpoint": suite["checkpoint"],
                "suite": suite["suite"],
                "layer": layer,
                "subject": suite["subject"],
                "success": suite["success"],
                "evaluated": suite["evaluated"],
                "critical_failures": suite["critical_failures"],
                "warnings": suite["warnings"],
                "rows": suite["rows"],
                "quarantined_rows": sum(len(v) for v in suite.get("row_failures", {}).values()),
                "failed_expectations": json.dumps(suite["failed"], default=str),
                "data_docs": suite["data_docs"],
                "checked_at": now,
                "checked_date": now.date(),
            }
        )
    return rows


def record_results(wh: Any, reports: list[dict[str, Any]]) -> None:
    """Write checkpoint results to raw.validation_results (a rerun replaces its own rows)."""
    from ringback import catalog

    table = catalog.table("raw.validation_results")
    for row in _validation_rows({"suites": reports}):
        wh.write(table, table.to_arrow([row]), where={"validation_id": row["validation_id"]})


def failure_message(reports: list[dict[str, Any]]) -> str:
    parts = [
        f"{f['severity']} {f['expectation']} on {f['column'] or 'table'} "
        f"({f['unexpected_count'] if f['unexpected_count'] is not None else '-'} rows)"
        for r in reports
        for f in r.get("failed", [])
        if f["severity"] == "critical"
    ]
    return "; ".join(parts) or "no critical failure"
