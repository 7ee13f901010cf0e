"""The queries behind the summary, the HTML report and the headline figures: ``sql/analyses/``.

Each is a file of BigQuery SQL over the analytics views (and, for the operational sections, the
load log and validation results), linted with the models and analysed by GoogleSQL in the
tests. Jinja resolves the shared figures' macros (``sql/macros/figures.sql``: the revenue rule
and the recovered share, each written once); every value still reaches SQL as a parameter.
"""

from __future__ import annotations

import functools
from typing import Any

from ringback import catalog
from ringback.settings import project_root


@functools.cache
def sql(name: str) -> str:
    """``sql/analyses/<name>.sql`` with its macros resolved."""
    templates = catalog.sql_templates(project_root() / "sql")
    return templates.get_template(f"analyses/{name}.sql").render()


def rows(wh: Any, name: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows of an analysis over the warehouse, with its parameters."""
    return wh.query(sql(name), params).to_pylist()


def names() -> list[str]:
    """Every analysis, by file name."""
    return sorted(p.stem for p in (project_root() / "sql" / "analyses").glob("*.sql"))
