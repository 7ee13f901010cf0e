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

Stages: ``contracts`` (where a batch goes, the manifest), ``mapping`` (extract), ``audit``
(validate), ``publish``.
"""

from __future__ import annotations

import datetime as dt

from ringback.ingest.audit import AuditResult, validate, volume_bounds
from ringback.ingest.contracts import (
    CALLS,
    CDR_FILES,
    CRM,
    LoadContract,
    Manifest,
    contract_for,
    read_manifest,
    staged_schema,
)
from ringback.ingest.mapping import Batch, extract, file_offsets, map_batch
from ringback.ingest.publish import publish, soft_delete
from ringback.quality import ValidationFailed
from ringback.runtime import Runtime
from ringback.sources.base import Window

__all__ = [
    "CALLS",
    "CDR_FILES",
    "CRM",
    "AuditResult",
    "Batch",
    "LoadContract",
    "Manifest",
    "ValidationFailed",
    "Window",
    "contract_for",
    "extract",
    "file_offsets",
    "map_batch",
    "publish",
    "read_manifest",
    "run_extract",
    "soft_delete",
    "staged_schema",
    "validate",
    "volume_bounds",
]


def run_extract(
    runtime: Runtime, source_id: str, run_date: dt.date, *, deep: bool = False
) -> Manifest:
    """``ringback extract``: the three steps in one process."""
    load_id = extract(runtime, runtime.source(source_id), run_date, deep=deep)
    validate(runtime, load_id)
    return publish(runtime, load_id)
