"""Great Expectations checkpoints on every load.

The GX project is ``expectations/`` (a GX 1.x file context kept under version control: suites in
``expectations/expectations/``, checkpoints, validation definitions). Each expectation carries a
severity: ``critical`` failures stop the load (nothing is published), ``warning`` failures are
recorded and shown. Data Docs are rebuilt locally under ``expectations/uncommitted/data_docs``.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import pandas as pd

from ringback.settings import Settings, project_root

log = logging.getLogger(__name__)

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")


def gx_root() -> str:
    return str(project_root() / "expectations")


def data_docs_index() -> str:
    return str(project_root() / "expectations/uncommitted/data_docs/local_site/index.html")


def _context():
    import great_expectations as gx

    return gx.get_context(mode="file", context_root_dir=gx_root())


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


def summarise(result: Any) -> dict[str, Any]:
    """A checkpoint result as a small JSON-able report with the two severities apart."""
    failed = []
    evaluated = 0
    for run in result.run_results.values():
        for er in run.results:
            evaluated += 1
            if er.success:
                continue
            cfg = er.expectation_config
            failed.append(
                {
                    "expectation": cfg.type,
                    "column": cfg.kwargs.get("column") or cfg.kwargs.get("column_A"),
                    "severity": str(getattr(cfg.severity, "value", cfg.severity)),
                    "unexpected_count": (er.result or {}).get("unexpected_count"),
                    "examples": [
                        str(x) for x in (er.result or {}).get("partial_unexpected_list", [])
                    ][:5],
                    "exception": (er.exception_info or {}).get("exception_message")
                    if isinstance(er.exception_info, dict)
                    else None,
                }
            )
    critical = [f for f in failed if f["severity"] == "critical"]
    return {
        "success": not critical,
        "evaluated": evaluated,
        "critical_failures": len(critical),
        "warnings": len(failed) - len(critical),
        "failed": failed,
        "data_docs": data_docs_index(),
    }


def validate_staged_calls(df: pd.DataFrame, settings: Settings, load_id: str) -> dict[str, Any]:
    """Run the ``staging_calls_load`` checkpoint on a batch of staged calls."""
    context = _context()
    checkpoint = context.checkpoints.get("staging_calls_load")
    result = checkpoint.run(
        batch_parameters={"dataframe": prepare_staged_calls(df, settings)},
        run_id=None,
    )
    report = summarise(result)
    report["load_id"] = load_id
    report["rows"] = len(df)
    level = logging.INFO if report["success"] and not report["warnings"] else logging.WARNING
    log.log(
        level,
        "%s: %d expectations, %d critical failures, %d warnings (Data Docs: %s)",
        load_id,
        report["evaluated"],
        report["critical_failures"],
        report["warnings"],
        report["data_docs"],
    )
    for f in report["failed"]:
        log.log(
            level,
            "  %s %s on %s: %s unexpected, e.g. %s",
            f["severity"],
            f["expectation"],
            f["column"],
            f["unexpected_count"],
            f["examples"],
        )
    return report
