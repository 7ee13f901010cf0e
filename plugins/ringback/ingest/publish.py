"""Publish: raw and quarantine always; staging only when the batch passed validation.

The dates a load is about to write are marked for the marts before it writes them, deletions
are soft, and a date the marts built before this source loaded it is marked again.
"""

from __future__ import annotations

import datetime as dt
import logging

import pyarrow as pa

from ringback import catalog, coverage, history
from ringback.ingest.audit import AUDITED_QUARANTINE, AUDITED_STAGED
from ringback.ingest.contracts import (
    CDR_FILES,
    CRM,
    Manifest,
    contract_for,
    read_manifest,
)
from ringback.quality import ValidationFailed, record_results
from ringback.runtime import Runtime
from ringback.settings import SourceConfig
from ringback.sources.base import call_key
from ringback.warehouse.base import Warehouse

log = logging.getLogger(__name__)


def publish(runtime: Runtime, load_id: str, *, require_validation: bool = True) -> Manifest:
    """Write an audited batch: raw, quarantine and results always; staging only if it passed.

    Raises ValidationFailed (after recording the failed load) when critical expectations
    failed, so nothing downstream runs on a bad batch.
    """
    store = runtime.batches
    manifest = read_manifest(store, load_id)
    validated = store.exists(load_id, "validation.json")
    if require_validation and not validated:
        raise ValidationFailed(f"{manifest.load_id}: batch was never validated; not publishing")
    report = store.read_json(load_id, "validation") if validated else {"success": True}
    run_date = dt.date.fromisoformat(manifest.run_date)
    contract = contract_for(manifest.provider)
    # Read before the warehouse lock is taken: the store may be a bucket across the network.
    raw = store.read_table(load_id, "raw")
    # What the audit kept (a batch validated before audits wrote their own files: the batch's).
    audited = validated and store.exists(load_id, f"{AUDITED_STAGED}.parquet")
    quarantined = store.read_table(load_id, AUDITED_QUARANTINE if audited else "quarantine")
    staged = store.read_table(load_id, AUDITED_STAGED if audited else "staged")
    staged = staged.drop_columns(list(contract.extras))
    if audited:
        manifest.staged_records = report["staged_records"]
        manifest.quarantined_records = report["quarantined_records"]
        manifest.quarantine_reasons = report["quarantine_reasons"]
    source = runtime.source(manifest.source_id)
    with runtime.connect() as wh:
        wh.init()
        wh.write(
            catalog.table(contract.raw_table),
            raw,
            where={"source_id": manifest.source_id, "load_date": run_date},
        )
        wh.write(
            catalog.table(contract.quarantine_table),
            quarantined,
            where={"load_id": manifest.load_id},
        )
        if report["success"] and contract is CRM:
            write_crm_leads(wh, staged)
        elif report["success"]:
            # Marked for the next models run before they change (even where a re-pull keeps the
            # count): a crash after the mark costs a rebuild, one before it loses nothing.
            history.forget(wh, staged.select(["business_id", "call_date"]))
            wh.write(catalog.table("staging.calls"), staged)
            if contract.window_is_complete:
                present = raw.column("provider_call_id").to_pylist()
                soft_delete(wh, source, manifest, present, runtime.settings.max_soft_delete_ratio)
            if contract is CDR_FILES:
                # Only now, with the rows in staging, does the next load start past them.
                write_file_reads(wh, manifest, store.read_json(load_id, "files"))
        record_results(wh, report.get("suites", []))
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
        if report["success"] and contract is not CRM:
            # Dates the marts built before this source loaded them are built again, even where
            # the load wrote no row on them (their counts did not change).
            window_start = dt.datetime.fromisoformat(manifest.window_start_at)
            since = window_start.astimezone(source.business_tz).date()
            late = coverage.mark_awaited(wh, source, since)
            manifest.awaited_dates = [d.isoformat() for d in late]
    if not report["success"]:
        from ringback.quality import failure_message

        raise ValidationFailed(
            f"{manifest.load_id}: validation failed "
            f"({failure_message([*report.get('suites', []), report])}); "
            f"{contract.staged_table} was not changed. Data Docs: {report.get('data_docs')}"
        )
    return manifest


def write_crm_leads(wh: Warehouse, staged: pa.Table) -> None:
    """Write CRM leads to staging, marked for the marts first (a crash after the mark costs a
    rematch, one before it loses nothing). A pull by modification time lists what changed, not
    what exists: no soft deletes."""
    history.mark_crm_leads(wh, staged)
    wh.write(catalog.table("staging.crm_leads"), staged)


def write_file_reads(wh: Warehouse, manifest: Manifest, reads: list[dict]) -> None:
    table = catalog.table("raw.cdr_files")
    read_at = dt.datetime.fromisoformat(manifest.started_at)
    rows = [
        {
            **read,
            "load_id": manifest.load_id,
            "source_id": manifest.source_id,
            "load_date": dt.date.fromisoformat(manifest.run_date),
            "read_at": read_at,
        }
        for read in reads
    ]
    wh.write(table, table.to_arrow(rows), where={"load_id": manifest.load_id})


def soft_delete(
    wh: Warehouse,
    source: SourceConfig,
    manifest: Manifest,
    received_ids: list[str | None],
    max_ratio: float,
) -> pa.Table:
    """Mark staged calls of the window that this complete re-pull no longer returned as deleted
    (the provider deleted or merged them), and calls it returned again as not deleted.

    Every record received counts as present, quarantined ones included. Returns the
    (business_id, call_date) of the calls whose state changed.
    """
    start = dt.datetime.fromisoformat(manifest.window_start_at)
    end = dt.datetime.fromisoformat(manifest.window_end_at)
    present = {call_key(source.provider, source.account_id, i) for i in received_ids if i}
    params = {
        "business": source.business_id,
        "provider": source.provider,
        "account": source.account_id,
        "start": start,
        "end": end,
        # call_date is the business's date; a day either side covers any zone.
        "first_date": (start - dt.timedelta(days=1)).date(),
        "last_date": (end + dt.timedelta(days=1)).date(),
    }
    loaded = wh.query(
        """
        SELECT calls.call_key, calls.call_date, COALESCE(deleted.is_deleted, FALSE) AS is_deleted
        FROM staging.calls AS calls
        LEFT JOIN staging.deleted_calls AS deleted
            ON deleted.business_id = calls.business_id AND deleted.call_key = calls.call_key
        WHERE calls.business_id = @business AND calls.provider = @provider
            AND calls.account_id = @account
            AND calls.call_date BETWEEN @first_date AND @last_date
            AND calls.started_at >= @start AND calls.started_at < @end""",
        params,
    ).to_pylist()
    gone = [r for r in loaded if r["call_key"] not in present and not r["is_deleted"]]
    back = [r for r in loaded if r["call_key"] in present and r["is_deleted"]]
    alive = sum(not r["is_deleted"] for r in loaded)
    if gone and len(gone) > max_ratio * alive:
        log.warning(
            "%s: the re-pull lacks %d of the window's %d staged calls, more than "
            "max_soft_delete_ratio=%s: none marked deleted (a cut or empty answer?)",
            manifest.load_id,
            len(gone),
            alive,
            max_ratio,
        )
        gone = []
    deleted = {r["call_key"] for r in gone}
    now = dt.datetime.now(dt.UTC)
    rows = [
        {
            "business_id": source.business_id,
            "call_key": r["call_key"],
            "call_date": r["call_date"],
            "is_deleted": r["call_key"] in deleted,
            "load_id": manifest.load_id,
            "changed_at": now,
        }
        for r in gone + back
    ]
    table = catalog.table("staging.deleted_calls")
    changed = table.to_arrow(rows)
    if rows:
        history.forget(wh, changed.select(["business_id", "call_date"]))  # before they change
        wh.write(table, changed)
        log.info(
            "%s: %d calls no longer listed by the provider marked deleted, %d listed again",
            manifest.load_id,
            len(gone),
            len(back),
        )
    return changed.select(["business_id", "call_date"])
