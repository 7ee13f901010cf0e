"""The analysts' views (sql/analytics/): their columns, types and descriptions are a contract.

What the views compute is checked by the fixture case tests/sql/analyst_views; here, that the
warehouse holds exactly what schema.yaml promises and that descriptions follow their files.
"""

from __future__ import annotations

import sqlglot

from ringback import catalog
from ringback.warehouse.duckdb import DUCKDB_TYPES

from helpers import connect

# duckdb_columns() spells TIMESTAMPTZ out.
DUCKDB_NAMES = {**DUCKDB_TYPES, "TIMESTAMP": "TIMESTAMP WITH TIME ZONE"}


def _columns(wh, schema: str, name: str) -> list[tuple[str, str, str]]:
    return wh.con.execute(
        "SELECT column_name, data_type, comment FROM duckdb_columns() "
        "WHERE schema_name = ? AND table_name = ? ORDER BY column_index",
        [schema, name],
    ).fetchall()


def test_every_view_has_its_documented_columns_types_and_descriptions(warehouse):
    views = catalog.views()
    assert set(views) >= {
        "analytics.leads",
        "analytics.leads_daily",
        "analytics.missed_call_recovery_daily",
        "analytics.missed_calls",
        "analytics.daily_reconciliation",
        "analytics.unmatched_calls",
    }
    for view in views.values():
        want = [(c.name, DUCKDB_NAMES[c.type], c.description) for c in view.columns]
        assert _columns(warehouse, "analytics", view.name) == want, view.ref
        comment = warehouse.con.execute(
            "SELECT comment FROM duckdb_views() WHERE schema_name = 'analytics' AND view_name = ?",
            [view.name],
        ).fetchone()[0]
        assert comment == view.description


def test_views_read_only_the_marts_they_declare():
    for view in catalog.views().values():
        tree = sqlglot.parse_one(view.sql, read="bigquery")
        ctes = {cte.alias for cte in tree.find_all(sqlglot.exp.CTE)}
        read = {
            f"{t.db}.{t.name}"
            for t in tree.find_all(sqlglot.exp.Table)
            if t.db or t.name not in ctes
        }
        assert read == set(view.depends_on), view.ref
        assert all(ref.startswith("marts.") for ref in read)


def test_descriptions_are_reapplied_when_their_files_change(warehouse_url, monkeypatch):
    """init() on an existing warehouse brings table and view descriptions up to date."""
    with connect(warehouse_url) as wh:
        wh.init()
        wh.con.execute("COMMENT ON COLUMN marts.attributed_leads.lead_id IS 'stale'")
        wh.con.execute("COMMENT ON VIEW analytics.leads IS 'stale'")
        assert wh.init() == []
        lead_id = dict((c[0], c[2]) for c in _columns(wh, "marts", "attributed_leads"))["lead_id"]
        assert lead_id == catalog.table("marts.attributed_leads").column("lead_id").description
        assert _columns(wh, "analytics", "leads")[0][2] != "stale"
        view_comment = wh.con.execute(
            "SELECT comment FROM duckdb_views() WHERE view_name = 'leads'"
        ).fetchone()[0]
        assert view_comment == catalog.views()["analytics.leads"].description
