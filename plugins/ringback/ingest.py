"""One source, one day: extract -> validate -> publish (write-audit-publish).

``extract`` pulls the run date plus the trailing re-pull window, maps every record and writes the
batch aside as files (raw records, staged rows, quarantined rows, a manifest). ``validate`` runs
the Great Expectations checkpoint on the staged rows. ``publish`` writes raw and quarantine, and,
only if validation passed, replaces the batch's calls in ``staging.calls`` by call key. A failed
validation leaves staging exactly as it was. The load id is ``source_id:run_date``, so a rerun of
the same day replaces its own rows and the tables come out the same.

A drop folder of CDR files (``asterisk_csv``) is read from where the last published load
stopped (``raw.cdr_files``), whatever days its lines are of, so its rows are not held to the
run's window and a missing row is not a deletion.

CRM sources (``system: crm``) take the same three steps into their own tables (``CRM``:
``raw.crm_records``, ``staging.crm_leads`` by lead key, ``staging.crm_leads_quarantine``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd
import pyarrow as pa

from ringback import catalog, coverage, history
from ringback.batches import BatchStore, load_id_for
from ringback.quality import ValidationFailed, record_results
from ringback.runtime import Runtime
from ringback.settings import PROVIDER_SYSTEMS, SourceConfig
from ringback.sources import CONNECTORS, CRM_CONNECTORS, connector_for
from ringback.sources.asterisk import AsteriskCsvConnector
from ringback.sources.base import Connector, MappingError, Window, call_key
from ringback.sources.connection import ProviderConnection
from ringback.sources.crm import CrmConnector
from ringback.warehouse.base import Warehouse

log = logging.getLogger(__name__)

# Columns the batch carries for validation and quarantine that staging.calls does not have.
STAGED_EXTRAS = {
    "provider_status": pa.string(),
    "total_seconds": pa.int64(),
    "record_index": pa.int64(),
}
# Quarantine reasons that are part of normal operation, left out of the quarantine-ratio check.
EXPECTED_QUARANTINE = {
    "child_leg",
    "agent_leg",
    "call_in_progress",
    "superseded_by_newer_row",
    "internal_call",
    "not_a_call",
}


@dataclass(frozen=True)
class LoadContract:
    """Where a kind of source's batch goes: calls (call tracking, telephony) or CRM leads."""

    raw_table: str
    staged_table: str
    quarantine_table: str
    id_column: str  # the provider's record id in raw and quarantine rows
    key_column: str  # the staged rows' key
    time_column: str | None  # a staged time that must fall in the pulled window
    duplicate_reason: str  # an earlier copy of a key in the same pull
    extras: dict[str, pa.DataType]  # batch columns the staged table does not have
    staged_checkpoint: str
    # A complete re-pull of the window: a staged call it no longer returns was deleted.
    window_is_complete: bool = True


CALLS = LoadContract(
    "raw.call_records",
    "staging.calls",
    "staging.calls_quarantine",
    "provider_call_id",
    "call_key",
    "started_at",
    "duplicate_in_batch",
    STAGED_EXTRAS,
    "staging_calls_load",
)
# A CRM pull is by modification time, not by creation: no window check on created_at. An export
# folder holds a lead once per file: the newest copy stages, the older are superseded.
CRM = LoadContract(
    "raw.crm_records",
    "staging.crm_leads",
    "staging.crm_leads_quarantine",
    "crm_record_id",
    "crm_lead_key",
    None,
    "superseded_by_newer_row",
    {"record_index": pa.int64()},
    "staging_crm_leads_load",
    window_is_complete=False,
)
# A drop folder is read from where the last load stopped: lines of any day, never the whole day.
CDR_FILES = dataclasses.replace(CALLS, time_column=None, window_is_complete=False)
FILE_DROP_PROVIDERS = {AsteriskCsvConnector.provider}


def contract_for(provider: str) -> LoadContract:
    if PROVIDER_SYSTEMS.get(provider) == "crm":
        return CRM
    return CDR_FILES if provider in FILE_DROP_PROVIDERS else CALLS


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


def staged_schema(contract: LoadContract = CALLS) -> pa.Schema:
    """The batch's staged rows: the staged table's columns plus the contract's extras."""
    columns = catalog.table(contract.staged_table).arrow_schema()
    return pa.schema([*columns, *(pa.field(n, t) for n, t in contract.extras.items())])


@dataclass
class Batch:
    """One pull mapped: every raw record, and each either staged or quarantined with a reason."""

    load_id: str
    raw: pa.Table
    staged: pa.Table
    quarantine: pa.Table

    def quarantine_reasons(self) -> dict[str, int]:
        return _reasons(self.quarantine.to_pylist())


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

    def to_quarantine(index: int, call_id: str | None, reason: str, detail: str) -> None:
        quarantine.append(
            {
                "business_id": source.business_id,
                "load_id": load_id,
                "source_id": source.id,
                "provider": source.provider,
                contract.id_column: call_id,
                "reason": reason,
                "detail": detail,
                "record": raw_rows[index]["record"],
                "load_date": run_date,
            }
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
            to_quarantine(index, call_id, "mapping_failed", f"{type(exc).__name__}: {exc}")
            continue
        at = contract.time_column
        if at and not window.start_at <= row[at] < window.end_at:
            to_quarantine(
                index,
                call_id,
                "outside_window",
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

    schema = staged_schema(contract)
    try:
        staged_table = pa.Table.from_pylist(list(staged.values()), schema=schema)
    except (pa.ArrowException, TypeError, ValueError, OverflowError):
        # Some mapped value does not fit its contract type: find the rows, quarantine them.
        fitting = []
        for key, row in staged.items():
            try:
                pa.Table.from_pylist([row], schema=schema)
            except (pa.ArrowException, TypeError, ValueError, OverflowError) as exc:
                to_quarantine(
                    staged_index[key],
                    row.get(contract.id_column),
                    "contract_type_mismatch",
                    f"a mapped value does not fit the {contract.staged_table} types ({exc})",
                )
                continue
            fitting.append(row)
        staged_table = pa.Table.from_pylist(fitting, schema=schema)
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
    file_drop = isinstance(connector, AsteriskCsvConnector)
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
        quarantine_reasons=batch.quarantine_reasons(),
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


def _reasons(quarantine: list[dict[str, Any]]) -> dict[str, int]:
    reasons: dict[str, int] = {}
    for q in quarantine:
        reasons[q["reason"]] = reasons.get(q["reason"], 0) + 1
    return reasons


def read_manifest(store: BatchStore, load_id: str) -> Manifest:
    return Manifest(**store.read_json(load_id, "manifest"))


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


def validate(runtime: Runtime, load_id: str) -> dict[str, Any]:
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
    if moved:
        records = {
            r["record_index"]: r["record"]
            for r in store.read_table(
                load_id, "raw", columns=["record_index", "record"]
            ).to_pylist()
        }
        quarantine = store.read_table(load_id, "quarantine").to_pylist()
        key = contract.key_column
        for row in staged[staged[key].isin(moved)].to_dict("records"):
            quarantine.append(
                {
                    "business_id": row["business_id"],
                    "load_id": manifest.load_id,
                    "source_id": manifest.source_id,
                    "provider": manifest.provider,
                    contract.id_column: row[contract.id_column],
                    "reason": moved[row[key]],
                    "detail": "failed a row-level expectation "
                    f"of {contract.staged_table} ({moved[row[key]]})",
                    "record": records[row["record_index"]],
                    "load_date": dt.date.fromisoformat(manifest.run_date),
                }
            )
        staged = staged[~staged[key].isin(moved)]
        kept = pa.Table.from_pandas(staged, preserve_index=False)
        store.write_table(load_id, "staged", kept.cast(staged_schema(contract)))
        store.write_table(
            load_id, "quarantine", catalog.table(contract.quarantine_table).to_arrow(quarantine)
        )
        manifest.staged_records = len(staged)
        manifest.quarantined_records = len(quarantine)
        manifest.quarantine_reasons = _reasons(quarantine)
        store.write_json(load_id, "manifest", asdict(manifest))

    expected = sum(n for r, n in manifest.quarantine_reasons.items() if r in EXPECTED_QUARANTINE)
    unexpected = manifest.quarantined_records - expected
    considered = manifest.received_records - expected
    ratio = unexpected / considered if considered else 0.0
    ratio_ok = ratio <= settings.max_quarantine_ratio
    report = {
        "load_id": manifest.load_id,
        "success": raw_report["success"] and staging_report["success"] and ratio_ok,
        "critical_failures": raw_report["critical_failures"]
        + staging_report["critical_failures"]
        + (0 if ratio_ok else 1),
        "warnings": raw_report["warnings"] + staging_report["warnings"],
        "rows": len(staged),
        "quarantined_by_expectations": len(moved),
        "quarantine_ratio": round(ratio, 4),
        "suites": [raw_report, staging_report],
        "data_docs": quality.data_docs_index(),
    }
    if not ratio_ok:
        report["failed"] = [
            {
                "expectation": "quarantine_ratio",
                "column": None,
                "severity": "critical",
                "unexpected_count": unexpected,
                "examples": [f"{ratio:.1%} > {settings.max_quarantine_ratio:.1%}"],
            }
        ]
    store.write_json(load_id, "validation", report)
    # GX stored one result per checkpoint; keep the store bounded (Data Docs are built by the
    # marts DAG's data_docs task or `ringback docs`, not here).
    quality.prune_validation_results(settings.validation_results_retention_days)
    return report


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
    quarantined = store.read_table(load_id, "quarantine")
    staged = store.read_table(load_id, "staged").drop_columns(list(contract.extras))
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
            # A pull by modification time lists what changed, not what exists: no soft deletes.
            wh.write(catalog.table(contract.staged_table), staged)
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
            coverage.mark_awaited(
                wh, runtime.config, source.id, window_start.astimezone(source.business_tz).date()
            )
    if not report["success"]:
        from ringback.quality import failure_message

        raise ValidationFailed(
            f"{manifest.load_id}: validation failed "
            f"({failure_message([*report.get('suites', []), report])}); "
            f"{contract.staged_table} was not changed. Data Docs: {report.get('data_docs')}"
        )
    return manifest


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


def run_extract(
    runtime: Runtime, source_id: str, run_date: dt.date, *, deep: bool = False
) -> Manifest:
    """``ringback extract``: the three steps in one process."""
    load_id = extract(runtime, runtime.source(source_id), run_date, deep=deep)
    validate(runtime, load_id)
    return publish(runtime, load_id)
