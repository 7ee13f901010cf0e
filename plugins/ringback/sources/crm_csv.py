"""Any CRM's export as CSV files (KeyCRM, Bitrix24, Pipedrive, amoCRM, ...): a folder per source.

The sources file says where the files are and which column holds what::

    - id: keycrm_export
      business: kyiv_clinic
      provider: crm_csv
      folder: data/crm/keycrm          # relative to the project, or absolute
      columns:                         # contract field: the export's column header
        crm_record_id: ID              # required
        created_at: Created            # required; ISO 8601, naive = the source's time_zone
        phone: Phone                   # required (may be empty in a row: a lead without phone)
        created_via: Source type       # optional; mapped with created_via_map
        crm_source: Source             # optional, as are crm_source_detail, crm_campaign,
        amount: Deal amount            #   deal_id, amount, currency, stage, won_at, updated_at
      created_via_map: {Manual: manual, Website: form, Import: import, API: integration}
      created_via_default: other       # when the export has no created_via column
      default_currency: UAH            # when it has no currency column
      delimiter: ","
      encoding: utf-8-sig

Every run reads every ``*.csv`` of the folder in name order (an export is the CRM's state at its
time; name the files so that they sort by time): a lead in several files is staged from the last
one, its earlier copies are quarantined as ``superseded_by_newer_row``, so nothing is dropped
unseen. A file whose header lacks a mapped column stops the load with the file and column named.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from ringback.quarantine import Reason
from ringback.settings import ConfigError, project_root
from ringback.sources.base import FetchResult, MappingError, Window
from ringback.sources.crm import (
    CREATED_VIA,
    CrmConnector,
    created_via,
    parse_amount,
    parse_time,
    parse_time_or_none,
)
from ringback.sources.transport import ProviderError

REQUIRED_COLUMNS = ("crm_record_id", "created_at", "phone")
OPTIONAL_COLUMNS = (
    "created_via",
    "crm_source",
    "crm_source_detail",
    "crm_campaign",
    "deal_id",
    "amount",
    "currency",
    "stage",
    "won_at",
    "updated_at",
)


class CsvCrmConnector(CrmConnector):
    provider = "crm_csv"

    @property
    def columns(self) -> dict[str, str]:
        columns = self.source.options.get("columns") or {}
        if not isinstance(columns, dict):
            raise ConfigError(f"source {self.source.id!r}: columns must map field: header")
        unknown = set(columns) - {*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS}
        missing = [c for c in REQUIRED_COLUMNS if not columns.get(c)]
        if unknown or missing:
            raise ConfigError(
                f"source {self.source.id!r}: columns must name {', '.join(REQUIRED_COLUMNS)}"
                f" (missing: {missing or 'none'}) and may name {', '.join(OPTIONAL_COLUMNS)}"
                f" (unknown: {sorted(unknown) or 'none'})"
            )
        return {k: str(v) for k, v in columns.items()}

    @property
    def folder(self) -> Path:
        folder = self.source.options.get("folder")
        if not folder:
            raise ConfigError(f"source {self.source.id!r} (crm_csv) needs 'folder:'")
        path = Path(str(folder))
        return path if path.is_absolute() else project_root() / path

    def fetch(self, window: Window) -> FetchResult:
        folder = self.folder
        if not folder.is_dir():
            raise ProviderError(
                f"crm_csv {self.source.id}: folder {folder} does not exist; "
                "drop the CRM's exports there (or fix 'folder:' in the sources file)"
            )
        columns = self.columns
        records: list[dict[str, Any]] = []
        files = sorted(folder.glob("*.csv"))
        for path in files:
            with path.open(
                newline="", encoding=str(self.source.options.get("encoding", "utf-8-sig"))
            ) as handle:
                reader = csv.DictReader(
                    handle, delimiter=str(self.source.options.get("delimiter", ","))
                )
                header = reader.fieldnames or []
                absent = [f"{k} ({v!r})" for k, v in columns.items() if v not in header]
                if absent:
                    raise ProviderError(
                        f"crm_csv {self.source.id}: {path.name} has no column for "
                        f"{', '.join(absent)}; its header is {header}"
                    )
                for line, row in enumerate(reader, start=2):
                    records.append({"file": path.name, "line": line, "row": row})
        return FetchResult(records, len(files), 0)

    def _value(self, record: Any, field: str) -> Any:
        column = self.columns.get(field)
        row = record.get("row") if isinstance(record, dict) else None
        if not column or not isinstance(row, dict):
            return None
        value = row.get(column)
        return value.strip() if isinstance(value, str) else value

    def record_id(self, record: Any) -> str | None:
        value = self._value(record, "crm_record_id")
        return (str(value).strip() or None) if value is not None else None

    def known_created_sources(self) -> list[str]:
        return sorted(self.source.options.get("created_via_map") or {})

    def raw_view(self, record: Any) -> dict[str, Any]:
        try:
            created_at = parse_time(self._value(record, "created_at"), self.source.tz, "created")
        except MappingError:
            created_at = None
        return {
            "crm_record_id": self.record_id(record),
            "created_at": created_at,
            "created_source": self._value(record, "created_via"),
        }

    def map_record(self, record: Any) -> dict[str, Any]:
        if not isinstance(record, dict) or not isinstance(record.get("row"), dict):
            raise MappingError(Reason.NOT_AN_OBJECT, "record has no row")
        record_id = self.record_id(record)
        if not record_id:
            raise MappingError(Reason.MISSING_RECORD_ID, f"no {self.columns['crm_record_id']!r}")
        tz = self.source.tz
        created_at = parse_time(self._value(record, "created_at"), tz, "created_at")
        options = self.source.options
        if "created_via" in self.columns:
            mapping = options.get("created_via_map") or {}
            via = created_via(self._value(record, "created_via"), mapping)
        else:
            default = str(options.get("created_via_default", "other"))
            via = default if default in CREATED_VIA else "other"
        amount = parse_amount(self._value(record, "amount"))
        won_at = parse_time_or_none(self._value(record, "won_at"), tz, "won_at")
        has_deal = amount is not None or won_at is not None or bool(self._value(record, "stage"))
        return {
            **self.base_row(record_id, created_at),
            "customer_number": self.phone(self._value(record, "phone")),
            "created_via": via,
            "crm_created_source": self._value(record, "created_via") or None,
            "crm_source": self._value(record, "crm_source") or None,
            "crm_source_detail": self._value(record, "crm_source_detail") or None,
            "crm_campaign": self._value(record, "crm_campaign") or None,
            "deal_id": (self._value(record, "deal_id") or record_id) if has_deal else None,
            "amount": amount,
            "currency": (
                (self._value(record, "currency") or options.get("default_currency") or None)
                if has_deal
                else None
            ),
            "stage": self._value(record, "stage") or None,
            "won_at": won_at,
            "updated_at": parse_time_or_none(self._value(record, "updated_at"), tz, "updated_at"),
        }
