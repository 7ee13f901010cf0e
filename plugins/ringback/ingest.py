"""One source, one day: extract -> validate -> publish (write-audit-publish).

``extract`` pulls the run date plus the trailing re-pull window, maps every record and writes the
batch aside as files (raw records, staged rows, quarantined rows, a manifest). ``validate`` runs
the Great Expectations checkpoint on the staged rows. ``publish`` writes raw and quarantine, and,
only if validation passed, replaces the batch's calls in ``staging.calls`` by call key. A failed
validation leaves staging exactly as it was. The load id is ``source_id:run_date``, so a rerun of
the same day replaces its own rows and the tables come out the same.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ringback import catalog
from ringback.settings import Settings, SourceConfig, get_source, project_root
from ringback.sources import connector_for
from ringback.sources.base import MappingError, Window
from ringback.warehouse.base import connect

log = logging.getLogger(__name__)

STAGED_EXTRAS = ("provider_status", "total_seconds")


class ValidationFailed(RuntimeError):
    """A fail-severity expectation failed: the batch was not published."""


def batch_root() -> Path:
    return Path(os.environ.get("RINGBACK_BATCH_DIR") or project_root() / "data" / "batches")


@dataclass
class Manifest:
    load_id: str
    source_id: str
    provider: str
    run_date: str
    window_start_at: str
    window_end_at: str
    started_at: str
    requests: int
    retries: int
    received_records: int
    staged_records: int
    quarantined_records: int
    quarantine_reasons: dict[str, int]


def load_id_for(source_id: str, run_date: dt.date) -> str:
    return f"{source_id}:{run_date.isoformat()}"


def batch_dir(source_id: str, run_date: dt.date) -> Path:
    return batch_root() / source_id / run_date.isoformat()


def extract(source: SourceConfig, run_date: dt.date, settings: Settings) -> Path:
    """Pull and map one run date of a source; write the batch aside; return its folder."""
    started_at = dt.datetime.now(dt.UTC)
    connector = connector_for(source, settings)
    window = Window.for_run(run_date, settings.repull_days, source.tz)
    log.info(
        "%s: pulling %s..%s (%s)", source.id, window.first_day, window.last_day, source.time_zone
    )
    fetched = connector.fetch(window)
    load_id = load_id_for(source.id, run_date)
    connector.prepare(fetched.records)

    raw_rows: list[dict[str, Any]] = []
    quarantine: list[dict[str, Any]] = []
    staged: dict[str, dict[str, Any]] = {}
    staged_index: dict[str, int] = {}

    def to_quarantine(
        index: int, record: Any, call_id: str | None, reason: str, detail: str
    ) -> None:
        quarantine.append(
            {
                "load_id": load_id,
                "source_id": source.id,
                "provider": source.provider,
                "provider_call_id": call_id,
                "reason": reason,
                "detail": detail,
                "record": raw_rows[index]["record"],
                "load_date": run_date,
            }
        )

    for index, record in enumerate(fetched.records):
        call_id = connector.record_id(record)
        raw_rows.append(
            {
                "load_id": load_id,
                "source_id": source.id,
                "provider": source.provider,
                "account_id": source.account_id,
                "provider_call_id": call_id,
                "record_index": index,
                "record": json.dumps(record, ensure_ascii=False, default=str),
                "window_start_at": window.start_at,
                "window_end_at": window.end_at,
                "extracted_at": started_at,
                "load_date": run_date,
            }
        )
        try:
            row = connector.map_record(record)
        except MappingError as exc:
            to_quarantine(index, record, call_id, exc.reason, exc.detail)
            continue
        except Exception as exc:  # a record shape nobody foresaw must not sink the batch
            to_quarantine(index, record, call_id, "mapping_failed", f"{type(exc).__name__}: {exc}")
            continue
        if not window.start_at <= row["started_at"] < window.end_at:
            to_quarantine(
                index,
                record,
                call_id,
                "outside_window",
                f"started_at {row['started_at']:%Y-%m-%d %H:%M:%S}Z is outside "
                f"the requested {window.first_day}..{window.last_day}",
            )
            continue
        key = row["call_key"]
        if key in staged:  # the same call twice in one pull: keep the later copy
            earlier = staged_index[key]
            to_quarantine(
                earlier,
                fetched.records[earlier],
                call_id,
                "duplicate_in_batch",
                f"{key} appears again at record {index}; the later copy was kept",
            )
        staged[key] = row
        staged_index[key] = index

    folder = batch_dir(source.id, run_date)
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    calls = catalog.table("staging.calls")
    staged_rows = list(staged.values())
    staged_table = calls.to_arrow(staged_rows)
    for extra, typ in (("provider_status", pa.string()), ("total_seconds", pa.int64())):
        staged_table = staged_table.append_column(
            extra, pa.array([r.get(extra) for r in staged_rows], type=typ)
        )
    pq.write_table(staged_table, folder / "staged.parquet")
    pq.write_table(catalog.table("raw.call_records").to_arrow(raw_rows), folder / "raw.parquet")
    pq.write_table(
        catalog.table("staging.calls_quarantine").to_arrow(quarantine),
        folder / "quarantine.parquet",
    )
    reasons: dict[str, int] = {}
    for q in quarantine:
        reasons[q["reason"]] = reasons.get(q["reason"], 0) + 1
    manifest = Manifest(
        load_id=load_id,
        source_id=source.id,
        provider=source.provider,
        run_date=run_date.isoformat(),
        window_start_at=window.start_at.isoformat(),
        window_end_at=window.end_at.isoformat(),
        started_at=started_at.isoformat(),
        requests=fetched.requests,
        retries=fetched.retries,
        received_records=len(fetched.records),
        staged_records=len(staged_rows),
        quarantined_records=len(quarantine),
        quarantine_reasons=reasons,
    )
    if manifest.received_records != manifest.staged_records + manifest.quarantined_records:
        raise RuntimeError(f"{load_id}: received != staged + quarantined; this is a bug")
    (folder / "manifest.json").write_text(json.dumps(asdict(manifest), indent=2))
    log.info(
        "%s: received %d, staged %d, quarantined %d %s in %d requests",
        load_id,
        manifest.received_records,
        manifest.staged_records,
        manifest.quarantined_records,
        reasons or "",
        manifest.requests,
    )
    return folder


def read_manifest(folder: Path) -> Manifest:
    return Manifest(**json.loads((folder / "manifest.json").read_text()))


def read_staged(folder: Path) -> pd.DataFrame:
    return pq.read_table(folder / "staged.parquet").to_pandas()


def validate(folder: Path, settings: Settings) -> dict[str, Any]:
    """Run the staging checkpoint on a batch written aside; record the result next to it."""
    from ringback import quality  # Great Expectations takes seconds to import

    manifest = read_manifest(folder)
    report = quality.validate_staged_calls(read_staged(folder), settings, manifest.load_id)
    (folder / "validation.json").write_text(json.dumps(report, indent=2, default=str))
    return report


def publish(folder: Path, warehouse_url: str, *, require_validation: bool = True) -> Manifest:
    """Write a validated batch: raw and quarantine always, staging only when validation passed.

    Raises ValidationFailed (after recording the failed load) when fail-severity expectations
    failed, so nothing downstream runs on a bad batch.
    """
    manifest = read_manifest(folder)
    report_path = folder / "validation.json"
    if require_validation and not report_path.exists():
        raise ValidationFailed(f"{manifest.load_id}: batch was never validated; not publishing")
    report = json.loads(report_path.read_text()) if report_path.exists() else {"success": True}
    run_date = dt.date.fromisoformat(manifest.run_date)
    with connect(warehouse_url) as wh:
        wh.init()
        wh.write(
            catalog.table("raw.call_records"),
            pq.read_table(folder / "raw.parquet"),
            where={"source_id": manifest.source_id, "load_date": run_date},
        )
        wh.write(
            catalog.table("staging.calls_quarantine"),
            pq.read_table(folder / "quarantine.parquet"),
            where={"load_id": manifest.load_id},
        )
        if report["success"]:
            staged = pq.read_table(folder / "staged.parquet").drop_columns(list(STAGED_EXTRAS))
            wh.write(catalog.table("staging.calls"), staged)
        loads = catalog.table("raw.loads")
        wh.write(
            loads,
            loads.to_arrow(
                [
                    {
                        "load_id": manifest.load_id,
                        "source_id": manifest.source_id,
                        "provider": manifest.provider,
                        "load_date": run_date,
                        "window_start_at": dt.datetime.fromisoformat(manifest.window_start_at),
                        "window_end_at": dt.datetime.fromisoformat(manifest.window_end_at),
                        "requests": manifest.requests,
                        "received_records": manifest.received_records,
                        "staged_records": manifest.staged_records if report["success"] else 0,
                        "quarantined_records": manifest.quarantined_records,
                        "validation_success": bool(report["success"]),
                        "validation_warnings": int(report.get("warnings", 0)),
                        "started_at": dt.datetime.fromisoformat(manifest.started_at),
                        "finished_at": dt.datetime.now(dt.UTC),
                    }
                ]
            ),
        )
    if not report["success"]:
        failed = "; ".join(
            f"{f['expectation']} on {f.get('column') or 'table'}"
            for f in report.get("failed", [])
            if f.get("severity") == "critical"
        )
        raise ValidationFailed(
            f"{manifest.load_id}: validation failed ({failed}); staging.calls was not changed. "
            f"Data Docs: {report.get('data_docs')}"
        )
    return manifest


def run_extract(
    source_id: str, run_date: dt.date, warehouse_url: str, settings: Settings
) -> Manifest:
    """``ringback extract``: the three steps in one process."""
    source = get_source(source_id)
    folder = extract(source, run_date, settings)
    validate(folder, settings)
    return publish(folder, warehouse_url)
