"""Figures the long commands measure about themselves, for ``make bench`` to judge.

``make demo`` and the 90-day backfill of ``make reliability`` take minutes to tens of minutes:
the benchmark does not run them again, it reads what their last run recorded here
(``data/measurements/<name>.json``: the figures, when, and the commit measured) and says so.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from pathlib import Path
from typing import Any

from ringback.settings import project_root


def _folder() -> Path:
    return project_root() / "data" / "measurements"


def _commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607 - the developer's git
            cwd=project_root(),
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None


def record(name: str, **figures: Any) -> Path:
    """Keep the latest figures of a measured command (one file per name, replaced)."""
    folder = _folder()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    at = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    path.write_text(json.dumps({"at": at, "commit": _commit(), **figures}, indent=2) + "\n")
    return path


def latest(name: str) -> dict[str, Any] | None:
    """The figures the command last recorded, or None if it has not run in this checkout."""
    path = _folder() / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None
