"""The queries behind the summary, the HTML report and the headline figures: ``sql/analyses/``.

Each is a file of BigQuery SQL over the analytics views (and, for the operational sections, the
load log and validation results), linted with the models and analysed by GoogleSQL in the
tests. Jinja resolves the shared figures' macros (``sql/macros/figures.sql``: the revenue rule
and the recovered share, each written once); every value still reaches SQL as a parameter.
"""

from __future__ import annotations

import functools

from ringback.settings import project_root


@functools.cache
def sql(name: str) -> str:
    """``sql/analyses/<name>.sql`` with its macros resolved."""
    import jinja2

    root = project_root() / "sql"
    env = jinja2.Environment(  # noqa: S701 - SQL, not HTML; no value reaches a template
        loader=jinja2.FileSystemLoader(str(root)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    return env.get_template(f"analyses/{name}.sql").render()


def names() -> list[str]:
    """Every analysis, by file name."""
    return sorted(p.stem for p in (project_root() / "sql" / "analyses").glob("*.sql"))
