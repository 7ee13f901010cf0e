"""Validate: the batch's checkpoints, before anything is published.

Row-level expectations move their failing rows to quarantine; a critical failure, or more
quarantined records than ``max_quarantine_ratio``, fails the load.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd
import pyarrow as pa

from ringback import catalog
from ringback.batches import BatchStore
from ringback.ingest.contracts import (
    CRM,
    Manifest,
    contract_for,
    read_manifest,
    reason_counts,
    staged_schema,
)
from ringback.quarantine import Reason, quarantine_row
from ringback.runtime import Runtime
from ringback.settings import SourceConfig
from ringback.sources import CONNECTORS, CRM_CONNECTORS
from ringback.sources.connection import ProviderConnection


def read_staged(store: BatchStore, load_id: str) -> pd.DataFrame:
    return store.read_table(load_id, "staged").to_pandas()


def raw_view(runtime: Runtime, manifest: Manifest) -> pd.DataFrame:
    """The raw records as the raw suites see them: id, start, disposition, inside the window
    (CRM records: id, creation time, and whether their creation source is a known one)."""
    source = runtime.source(manifest.source_id)
    raw = runtime.batches.read_table(
        manifest.load_id, "raw", columns=["record_index", "record"]
    ).to_pylist()
    if contract_for(manifest.provider) is CRM:
        return crm_raw_view(runtime, source, raw)
    offline = CONNECTORS[manifest.provider](
        source, ProviderConnection(source.id, ""), runtime.settings
    )
    start = dt.datetime.fromisoformat(manifest.window_start_at)
    end = dt.datetime.fromisoformat(manifest.window_end_at)
    # A drop folder's lines are of any day: nothing to hold them to.
    windowed = contract_for(manifest.provider).time_column is not None
    rows = []
    for r in raw:
        view = offline.raw_view(json.loads(r["record"]))
        at = view["started_at"]
        rows.append(
            {
                **view,
                "record_index": r["record_index"],
                "in_window": None if at is None or not windowed else start <= at < end,
            }
        )
    frame = pd.DataFrame(
        rows, columns=["record_index", "provider_call_id", "started_at", "disposition", "in_window"]
    )
    return frame.astype({"provider_call_id": "object", "disposition": "object"})


def crm_raw_view(runtime: Runtime, source: SourceConfig, raw: list[dict]) -> pd.DataFrame:
    offline = CRM_CONNECTORS[source.provider](
        source, ProviderConnection(source.id, ""), runtime.settings
    )
    known = set(offline.known_created_sources())
    rows = []
    for r in raw:
        view = offline.raw_view(json.loads(r["record"]))
        created_source = view.pop("created_source")
        rows.append(
            {
                **view,
                "record_index": r["record_index"],
                # Unknown creation sources stage as created_via "other": worth a warning.
                "created_source_known": created_source in (None, "") or created_source in known,
            }
        )
    frame = pd.DataFrame(
        rows, columns=["record_index", "crm_record_id", "created_at", "created_source_known"]
    )
    return frame.astype({"crm_record_id": "object"})


def volume_bounds(
    runtime: Runtime, source_id: str, run_date: dt.date, window_hours: float = 0
) -> tuple[int, int] | None:
    """50 % .. 200 % of the median staged rows of the source's last 14 good loads of a window
    as long (a weekly deep re-pull is compared with deep ones; >= 3 needed)."""
    with runtime.connect() as wh:
        wh.init()
        history = (
            wh.query(
                """
            SELECT staged_records FROM raw.loads
            WHERE source_id = @source AND load_date < @day AND validation_success
                AND ABS(TIMESTAMP_DIFF(window_end_at, window_start_at, HOUR) - @hours) <= 2
            QUALIFY ROW_NUMBER() OVER (PARTITION BY load_date ORDER BY finished_at DESC) = 1
            ORDER BY load_date DESC LIMIT 14""",
                {"source": source_id, "day": run_date, "hours": round(window_hours)},
            )
            .column("staged_records")
            .to_pylist()
        )
    if len(history) < 3:
        return None
    median = sorted(history)[len(history) // 2]
    return int(median * 0.5), int(median * 2) + 1


@dataclass(frozen=True)
class AuditResult:
    """What ``validate`` found, as stored beside the batch (``validation.json``)."""

    load_id: str
    success: bool
    critical_failures: int
    warnings: int
    rows: int  # staged rows after the audit
    quarantined_by_expectations: int
    quarantine_ratio: float
    staged_records: int
    quarantined_records: int
    quarantine_reasons: dict[str, int]
    suites: list[dict[str, Any]]
    data_docs: str | None
    failed: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


# The batch files the audit writes: the extract's own files stay as they were, so a retried
# validation audits the same batch again.
AUDITED_STAGED = "audited_staged"
AUDITED_QUARANTINE = "audited_quarantine"


def validate(runtime: Runtime, load_id: str) -> AuditResult:
    """Audit a batch written aside: raw suite, staging suite, row-level quarantine, the ratio.

    Rows failing a row-level expectation move from the staged rows to quarantine (with the
    record as received), so the load goes on without them; the batch fails when a critical
    expectation fails or when unexpectedly many records were quarantined.
    """
    from ringback import quality  # Great Expectations takes seconds to import

    settings = runtime.settings
    store = runtime.batches
    manifest = read_manifest(store, load_id)
    contract = contract_for(manifest.provider)
    raw_report = quality.validate_raw(
        raw_view(runtime, manifest), manifest.provider, manifest.load_id
    )
    staged = read_staged(store, load_id)
    # created_date and call_date are checked in the source's business's zone.
    business_zone = runtime.source(manifest.source_id).business_time_zone
    business_settings = dataclasses.replace(settings, reporting_time_zone=business_zone)
    if contract is CRM:
        # No volume bounds: how many leads change in a window swings with every bulk edit.
        staging_report = quality.validate_staged_crm_leads(
            staged, business_settings, manifest.load_id
        )
    else:
        window_hours = (
            dt.datetime.fromisoformat(manifest.window_end_at)
            - dt.datetime.fromisoformat(manifest.window_start_at)
        ).total_seconds() / 3600
        # A drop folder brings what was written since the last load: no usual size.
        volume = (
            volume_bounds(
                runtime, manifest.source_id, dt.date.fromisoformat(manifest.run_date), window_hours
            )
            if contract.window_is_complete
            else None
        )
        staging_report = quality.validate_staged_calls(
            staged, business_settings, manifest.load_id, volume
        )

    moved = {key: reason for reason, keys in staging_report["row_failures"].items() for key in keys}
    quarantine = store.read_table(load_id, "quarantine").to_pylist()
    if moved:
        records = {
            r["record_index"]: r["record"]
            for r in store.read_table(
                load_id, "raw", columns=["record_index", "record"]
            ).to_pylist()
        }
        key = contract.key_column
        for row in staged[staged[key].isin(moved)].to_dict("records"):
            quarantine.append(
                quarantine_row(
                    business_id=row["business_id"],
                    load_id=manifest.load_id,
                    source_id=manifest.source_id,
                    provider=manifest.provider,
                    id_column=contract.id_column,
                    record_id=row[contract.id_column],
                    reason=moved[row[key]],
                    detail="failed a row-level expectation "
                    f"of {contract.staged_table} ({moved[row[key]]})",
                    record=records[row["record_index"]],
                    load_date=dt.date.fromisoformat(manifest.run_date),
                )
            )
        staged = staged[~staged[key].isin(moved)]
    kept = pa.Table.from_pandas(staged, preserve_index=False)
    store.write_table(load_id, AUDITED_STAGED, kept.cast(staged_schema(contract)))
    store.write_table(
        load_id, AUDITED_QUARANTINE, catalog.table(contract.quarantine_table).to_arrow(quarantine)
    )
    reasons = reason_counts(quarantine)

    expected = sum(n for r, n in reasons.items() if Reason(r).expected)
    unexpected = len(quarantine) - expected
    considered = manifest.received_records - expected
    ratio = unexpected / considered if considered else 0.0
    ratio_ok = ratio <= settings.max_quarantine_ratio
    report = AuditResult(
        load_id=manifest.load_id,
        success=raw_report["success"] and staging_report["success"] and ratio_ok,
        critical_failures=raw_report["critical_failures"]
        + staging_report["critical_failures"]
        + (0 if ratio_ok else 1),
        warnings=raw_report["warnings"] + staging_report["warnings"],
        rows=len(staged),
        quarantined_by_expectations=len(moved),
        quarantine_ratio=round(ratio, 4),
        staged_records=len(staged),
        quarantined_records=len(quarantine),
        quarantine_reasons=reasons,
        suites=[raw_report, staging_report],
        data_docs=quality.data_docs_index(),
        failed=[]
        if ratio_ok
        else [
            {
                "expectation": "quarantine_ratio",
                "column": None,
                "severity": "critical",
                "unexpected_count": unexpected,
                "examples": [f"{ratio:.1%} > {settings.max_quarantine_ratio:.1%}"],
            }
        ],
    )
    store.write_json(load_id, "validation", report.to_json())
    # GX stored one result per checkpoint; keep the store bounded (Data Docs are built by the
    # marts DAG's data_docs task or `ringback docs`, not here).
    quality.prune_validation_results(settings.validation_results_retention_days)
    return report
