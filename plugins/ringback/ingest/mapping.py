"""Extract: pull a window from the provider, map every record, write the batch aside.

Every record lands in exactly one of the batch's staged rows or quarantined rows, with a reason
(``ringback.quarantine``), never dropped.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import pyarrow as pa

from ringback import catalog
from ringback.batches import load_id_for
from ringback.ingest.contracts import (
    CRM,
    LoadContract,
    Manifest,
    contract_for,
    reason_counts,
    staged_schema,
)
from ringback.quarantine import Reason, quarantine_row
from ringback.runtime import Runtime
from ringback.settings import SourceConfig
from ringback.sources import connector_for
from ringback.sources.base import Connector, MappingError, Window
from ringback.sources.crm import CrmConnector

log = logging.getLogger(__name__)


@dataclass
class Batch:
    """One pull mapped: every raw record, and each either staged or quarantined with a reason."""

    load_id: str
    raw: pa.Table
    staged: pa.Table
    quarantine: pa.Table

    def quarantinereason_counts(self) -> dict[str, int]:
        return reason_counts(self.quarantine.to_pylist())


def _fit_to_contract(
    contract: LoadContract,
    staged: dict[str, dict[str, Any]],
    staged_index: dict[str, int],
    to_quarantine: Callable[[int, str | None, Reason, str], None],
) -> pa.Table:
    """The staged rows as the staged table's types; a row whose mapped value does not fit
    them is quarantined (``contract_type_mismatch``) instead of failing the batch."""
    schema = staged_schema(contract)
    try:
        return pa.Table.from_pylist(list(staged.values()), schema=schema)
    except (pa.ArrowException, TypeError, ValueError, OverflowError):
        pass
    fitting = []
    for key, row in staged.items():
        try:
            pa.Table.from_pylist([row], schema=schema)
        except (pa.ArrowException, TypeError, ValueError, OverflowError) as exc:
            to_quarantine(
                staged_index[key],
                row.get(contract.id_column),
                Reason.CONTRACT_TYPE_MISMATCH,
                f"a mapped value does not fit the {contract.staged_table} types ({exc})",
            )
            continue
        fitting.append(row)
    return pa.Table.from_pylist(fitting, schema=schema)


def map_batch(
    connector: Connector | CrmConnector,
    records: list[Any],
    window: Window,
    load_id: str,
    extracted_at: dt.datetime,
) -> Batch:
    """Map a pull's raw records to staged rows; whatever cannot be mapped goes to quarantine.

    Never raises on a record's content: an unforeseen shape is quarantined as ``mapping_failed``
    and a value the contract's types cannot hold as ``contract_type_mismatch``.
    """
    source = connector.source
    contract = contract_for(source.provider)
    run_date = window.last_day
    raw_rows: list[dict[str, Any]] = []
    quarantine: list[dict[str, Any]] = []
    staged: dict[str, dict[str, Any]] = {}
    staged_index: dict[str, int] = {}

    def to_quarantine(index: int, call_id: str | None, reason: Reason, detail: str) -> None:
        quarantine.append(
            quarantine_row(
                business_id=source.business_id,
                load_id=load_id,
                source_id=source.id,
                provider=source.provider,
                id_column=contract.id_column,
                record_id=call_id,
                reason=reason,
                detail=detail,
                record=raw_rows[index]["record"],
                load_date=run_date,
            )
        )

    try:
        if isinstance(connector, Connector):
            connector.prepare(records)
    except Exception as exc:  # the batch-level pass must not sink the batch either
        log.warning(
            "%s: prepare failed (%s: %s); mapping records one by one",
            load_id,
            type(exc).__name__,
            exc,
        )
    for index, record in enumerate(records):
        try:
            call_id = connector.record_id(record)
        except Exception:  # an id field of a shape nobody foresaw
            call_id = None
        raw_rows.append(
            {
                "load_id": load_id,
                "source_id": source.id,
                "provider": source.provider,
                "account_id": source.account_id,
                contract.id_column: call_id,
                "record_index": index,
                "record": json.dumps(record, ensure_ascii=False, default=str),
                "window_start_at": window.start_at,
                "window_end_at": window.end_at,
                "extracted_at": extracted_at,
                "load_date": run_date,
            }
        )
        try:
            row = connector.map_record(record)
        except MappingError as exc:
            to_quarantine(index, call_id, exc.reason, exc.detail)
            continue
        except Exception as exc:  # a record shape nobody foresaw must not sink the batch
            to_quarantine(index, call_id, Reason.MAPPING_FAILED, f"{type(exc).__name__}: {exc}")
            continue
        at = contract.time_column
        if at and not window.start_at <= row[at] < window.end_at:
            to_quarantine(
                index,
                call_id,
                Reason.OUTSIDE_WINDOW,
                f"{at} {row[at]:%Y-%m-%d %H:%M:%S}Z is outside "
                f"the requested {window.first_day}..{window.last_day}",
            )
            continue
        if contract is CRM:
            row["load_id"] = load_id  # which load last wrote a lead (its row is replaced)
        key = row[contract.key_column]
        if key in staged:  # the same call twice in one pull: keep the later copy
            to_quarantine(
                staged_index[key],
                call_id,
                contract.duplicate_reason,
                f"{key} appears again at record {index}; the later copy was kept",
            )
        row["record_index"] = index
        staged[key] = row
        staged_index[key] = index

    staged_table = _fit_to_contract(contract, staged, staged_index, to_quarantine)
    batch = Batch(
        load_id=load_id,
        raw=catalog.table(contract.raw_table).to_arrow(raw_rows),
        staged=staged_table,
        quarantine=catalog.table(contract.quarantine_table).to_arrow(quarantine),
    )
    if batch.raw.num_rows != batch.staged.num_rows + batch.quarantine.num_rows:
        raise RuntimeError(f"{load_id}: received != staged + quarantined; this is a bug")
    return batch


def extract(
    runtime: Runtime, source: SourceConfig, run_date: dt.date, *, deep: bool = False
) -> str:
    """Pull and map one run date of a source; write the batch aside; return its load id.

    The pull covers the trailing window (``repull_days``), or with ``deep`` the weekly deep
    window (``deep_repull_days``) that catches edits older than it.
    """
    settings = runtime.settings
    store = runtime.batches
    started_at = dt.datetime.now(dt.UTC)
    connector = connector_for(source, settings)
    days = settings.deep_repull_days if deep else settings.repull_days
    window = Window.for_run(run_date, days, source.tz)
    log.info(
        "%s: pulling %s..%s (%s)", source.id, window.first_day, window.last_day, source.time_zone
    )
    load_id = load_id_for(source.id, run_date)
    file_drop = connector.load == "cdr_files"
    if file_drop:
        connector.offsets = file_offsets(runtime, source.id, run_date)
    fetched = connector.fetch(window)
    batch = map_batch(connector, fetched.records, window, load_id, started_at)

    store.clear(batch.load_id)
    if file_drop:
        store.write_json(batch.load_id, "files", [asdict(r) for r in connector.reads])
    store.write_table(batch.load_id, "staged", batch.staged)
    store.write_table(batch.load_id, "raw", batch.raw)
    store.write_table(batch.load_id, "quarantine", batch.quarantine)
    manifest = Manifest(
        load_id=batch.load_id,
        source_id=source.id,
        provider=source.provider,
        run_date=run_date.isoformat(),
        window_start_at=window.start_at.isoformat(),
        window_end_at=window.end_at.isoformat(),
        started_at=started_at.isoformat(),
        requests=fetched.requests,
        retries=fetched.retries,
        received_records=batch.raw.num_rows,
        staged_records=batch.staged.num_rows,
        quarantined_records=batch.quarantine.num_rows,
        quarantine_reasons=batch.quarantinereason_counts(),
    )
    store.write_json(batch.load_id, "manifest", asdict(manifest))
    log.info(
        "%s: received %d, staged %d, quarantined %d %s in %d requests",
        batch.load_id,
        manifest.received_records,
        manifest.staged_records,
        manifest.quarantined_records,
        manifest.quarantine_reasons or "",
        manifest.requests,
    )
    return batch.load_id


def file_offsets(runtime: Runtime, source_id: str, run_date: dt.date) -> dict[str, int]:
    """Where the published loads before ``run_date`` stopped in each file (by fingerprint): a
    rerun of a day reads again what that day read, plus whatever was appended since."""
    with runtime.connect() as wh:
        wh.init()
        rows = wh.query(
            """
            SELECT fingerprint, MAX(offset_to) AS offset_to FROM raw.cdr_files
            WHERE source_id = @source AND load_date < @day
            GROUP BY fingerprint""",
            {"source": source_id, "day": run_date},
        ).to_pylist()
    return {r["fingerprint"]: r["offset_to"] for r in rows}
