"""Where each kind of source's batch goes, and the manifest that travels with it."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from ringback import catalog
from ringback.batches import BatchStore
from ringback.quarantine import Reason
from ringback.sources import connector_class

# Columns the batch carries for validation and quarantine that staging.calls does not have.
STAGED_EXTRAS = {
    "provider_status": pa.string(),
    "total_seconds": pa.int64(),
    "record_index": pa.int64(),
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
    # A complete re-pull of the window: a staged call it no longer returns was deleted.
    window_is_complete: bool = True


CALLS = LoadContract(
    "raw.call_records",
    "staging.calls",
    "staging.calls_quarantine",
    "provider_call_id",
    "call_key",
    "started_at",
    Reason.DUPLICATE_IN_BATCH,
    STAGED_EXTRAS,
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
    Reason.SUPERSEDED_BY_NEWER_ROW,
    {"record_index": pa.int64()},
    window_is_complete=False,
)
# A drop folder is read from where the last load stopped: lines of any day, never the whole day.
CDR_FILES = dataclasses.replace(CALLS, time_column=None, window_is_complete=False)
CONTRACTS = {"calls": CALLS, "cdr_files": CDR_FILES, "crm": CRM}


def contract_for(provider: str) -> LoadContract:
    """Where a provider's batches go, as its connector class declares (``load``)."""
    return CONTRACTS[connector_class(provider).load]


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
    # Set by publish: the dates the marts built without this source that its load now covers,
    # marked for rebuilding (ISO dates).
    awaited_dates: list[str] = field(default_factory=list)


def staged_schema(contract: LoadContract = CALLS) -> pa.Schema:
    """The batch's staged rows: the staged table's columns plus the contract's extras."""
    columns = catalog.table(contract.staged_table).arrow_schema()
    return pa.schema([*columns, *(pa.field(n, t) for n, t in contract.extras.items())])


def reason_counts(quarantine: list[dict[str, Any]]) -> dict[str, int]:
    reasons: dict[str, int] = {}
    for q in quarantine:
        reasons[q["reason"]] = reasons.get(q["reason"], 0) + 1
    return reasons


def read_manifest(store: BatchStore, load_id: str) -> Manifest:
    return Manifest(**store.read_json(load_id, "manifest"))
