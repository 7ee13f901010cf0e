"""Where a load's batch waits between extract, validate and publish (write-audit-publish).

A batch is a few files under ``<batch_store_url>/<source_id>/<run_date>/``: ``raw.parquet``,
``staged.parquet``, ``quarantine.parquet``, ``manifest.json`` and, once audited,
``validation.json``. Tasks hand each other only the load id (``source_id:run_date``), so the
same DAGs run where workers share no disk: the store is Airflow's ``ObjectStoragePath``
(``gs://bucket/batches`` with Airflow's Google provider installed, ``s3://...``,
``file:///...``, ``memory://...``), with ``batch_store_connection_id`` as its credentials.
A plain path (the default, relative to the project) stays a local ``pathlib.Path``: a
command-line ``extract`` then does not import Airflow's SDK, which takes seconds.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

BATCH_FILES = ("raw", "staged", "quarantine")


def load_id_for(source_id: str, run_date: dt.date) -> str:
    return f"{source_id}:{run_date.isoformat()}"


def split_load_id(load_id: str) -> tuple[str, str]:
    source_id, sep, day = load_id.rpartition(":")
    if not sep or not source_id:
        raise ValueError(f"load id {load_id!r} is not source_id:YYYY-MM-DD")
    dt.date.fromisoformat(day)
    return source_id, day


class BatchStore:
    """The batches of every load under one root (a folder or an object-store prefix)."""

    def __init__(self, url: str, base: Path | None = None, conn_id: str = "") -> None:
        self.url = url
        if "://" in url:
            from airflow.sdk.io import ObjectStoragePath, attach, has_fs

            scheme = url.split("://", 1)[0]
            if not has_fs(scheme):
                # A scheme no installed Airflow provider serves (memory:// in tests): fsspec's
                # own implementation, attached the way Airflow documents for custom stores.
                import fsspec

                attach(scheme, conn_id or None, fs=fsspec.filesystem(scheme))
            self.root: Any = ObjectStoragePath(url, conn_id=conn_id or None)
        else:
            path = Path(url)
            self.root = path if path.is_absolute() or base is None else base / path

    def __repr__(self) -> str:
        return f"BatchStore({str(self.root)!r})"

    def folder(self, load_id: str) -> Any:
        source_id, day = split_load_id(load_id)
        return self.root / source_id / day

    def clear(self, load_id: str) -> None:
        """Remove the load's earlier batch (a rerun starts from nothing)."""
        folder = self.folder(load_id)
        if folder.exists():
            for child in folder.iterdir():
                child.unlink()
        folder.mkdir(parents=True, exist_ok=True)

    def exists(self, load_id: str, name: str) -> bool:
        return (self.folder(load_id) / name).exists()

    def write_table(self, load_id: str, name: str, table: pa.Table) -> None:
        with (self.folder(load_id) / f"{name}.parquet").open("wb") as f:
            pq.write_table(table, f)

    def read_table(self, load_id: str, name: str, columns: list[str] | None = None) -> pa.Table:
        with (self.folder(load_id) / f"{name}.parquet").open("rb") as f:
            return pq.read_table(f, columns=columns)

    def write_json(self, load_id: str, name: str, value: Any) -> None:
        text = json.dumps(value, indent=2, default=str)
        with (self.folder(load_id) / f"{name}.json").open("w") as f:
            f.write(text)

    def read_json(self, load_id: str, name: str) -> Any:
        with (self.folder(load_id) / f"{name}.json").open("r") as f:
            return json.loads(f.read())
