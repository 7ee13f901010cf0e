"""The LookML project parses (lkml) and every field it reads exists in the marts' schemas."""

from __future__ import annotations

import re
from pathlib import Path

import lkml
import pytest
import yaml

from ringback import catalog

LOOKML = Path(__file__).resolve().parents[2] / "lookml"
TABLE_COLUMN = re.compile(r"\$\{TABLE\}\.(\w+)")
FIELD_REF = re.compile(r"\$\{(?:(\w+)\.)?(\w+)\}")


def parse(path: Path) -> dict:
    return lkml.load(path.read_text())


def views() -> dict[str, dict]:
    out = {}
    for path in sorted((LOOKML / "views").glob("*.view.lkml")):
        for view in parse(path)["views"]:
            out[view["name"]] = view
    return out


def view_fields(view: dict) -> set[str]:
    """Names a view exposes: dimensions, measures and each timeframe of a dimension group."""
    names = {d["name"] for d in view.get("dimensions", [])}
    names |= {m["name"] for m in view.get("measures", [])}
    for group in view.get("dimension_groups", []):
        names |= {f"{group['name']}_{tf}" for tf in group.get("timeframes", [])}
    return names


def all_fields(view: dict):
    for kind in ("dimensions", "dimension_groups", "measures"):
        yield from view.get(kind, [])


def model() -> dict:
    return parse(LOOKML / "ringback.model.lkml")


SQL_TABLE = re.compile(r"^`@\{analytics_dataset\}\.(\w+)`$")


def analytics_view(view: dict):
    """The analytics view (sql/analytics/) a LookML view reads."""
    found = SQL_TABLE.match(view["sql_table_name"].strip())
    assert found, view["sql_table_name"]
    return catalog.views()[f"analytics.{found.group(1)}"]


def test_every_lookml_view_reads_an_analytics_view_never_a_mart():
    """The analytics views are the BI contract: LookML reads them, one per mart (the view's
    first dependency; it may join others, as analytics.leads joins the CRM's deals)."""
    found = views()
    assert set(found) == {t.name for t in catalog.tables().values() if t.layer == "marts"}
    read = {name: analytics_view(view) for name, view in found.items()}
    for name, view in read.items():
        assert view.depends_on[0] == f"marts.{name}", name
        assert all(d.startswith("marts.") for d in view.depends_on), name


@pytest.mark.parametrize("name", sorted(views()))
def test_every_field_reads_existing_columns_and_fields(name):
    view = views()[name]
    filtered = [f for f in all_fields(view) if f.get("filters__all")]
    assert filtered or name in ("unmatched_calls", "call_handling_hourly"), (
        name
    )  # the filter check below runs
    columns = set(analytics_view(view).column_names)
    exposed = view_fields(view)
    assert any(d.get("primary_key") == "yes" for d in view.get("dimensions", [])), name
    for field in all_fields(view):
        # lkml reads `filters: [field: "value"]` as filters__all: [[{field: value}]].
        for group in field.get("filters__all", []):
            for condition in group:
                for target in condition:
                    assert target in exposed, (name, field["name"], target)
        sql = field.get("sql", "")
        if field.get("type") == "count" and not sql:
            continue
        assert sql, (name, field["name"])
        for column in TABLE_COLUMN.findall(sql):
            assert column in columns, (name, field["name"], column)
        for view_name, ref in FIELD_REF.findall(sql):
            if ref == "TABLE":
                continue
            assert view_name in ("", name), (name, field["name"], view_name)
            assert ref in exposed, (name, field["name"], ref)


def test_manifest_names_the_analytics_dataset_setting():
    manifest = parse(LOOKML / "manifest.lkml")
    constants = {c["name"]: c["value"] for c in manifest["constants"]}
    from ringback.settings import Settings

    assert set(constants) == {"analytics_dataset"}
    assert constants["analytics_dataset"] == Settings().bigquery_analytics_dataset


def explores() -> dict[str, dict]:
    return {e["name"]: e for e in model()["explores"]}


def explore_fields(explore: dict) -> set[str]:
    known = views()
    names = [explore.get("from", explore["name"])]
    names += [j["name"] for j in explore.get("joins", [])]
    return {f"{v}.{f}" for v in names for f in view_fields(known[v])}


def test_explores_join_views_on_fields_that_exist():
    known = views()
    for name, explore in explores().items():
        assert name in known
        fields = explore_fields(explore)
        for join in explore.get("joins", []):
            assert join["name"] in known
            assert join["relationship"] in ("many_to_one", "one_to_one", "one_to_many")
            for view_name, ref in FIELD_REF.findall(join["sql_on"]):
                assert f"{view_name}.{ref}" in fields, (name, join["name"], ref)


def dashboards() -> list[tuple[str, dict]]:
    out = []
    for path in sorted((LOOKML / "dashboards").glob("*.dashboard.lookml")):
        for dashboard in yaml.safe_load(path.read_text()):
            out.append((path.name, dashboard))
    return out


def test_dashboards_cover_the_three_questions_and_use_existing_fields():
    names = {d["dashboard"] for _, d in dashboards()}
    assert names == {
        "leads_by_source",
        "missed_call_recovery",
        "reconciliation",
        "callbacks",
        "crm",
    }
    known = explores()
    for file, dashboard in dashboards():
        for flt in dashboard.get("filters", []):
            assert flt["field"] in explore_fields(known[flt["explore"]]), (file, flt)
        for element in dashboard["elements"]:
            assert element["model"] == "ringback"
            fields = explore_fields(known[element["explore"]])
            used = [*element["fields"], *element.get("pivots", [])]
            used += list((element.get("filters") or {}).keys())
            used += [s.split()[0] for s in element.get("sorts", [])]
            used += list((element.get("listen") or {}).values())
            for field in used:
                assert field in fields, (file, element["name"], field)


def test_every_explore_and_dashboard_is_scoped_to_a_business():
    """A client's Looker user (user attribute ringback_business) sees only their business; every
    dashboard has a Business filter that all its elements listen to; joins stay in one business."""
    known = views()
    for name in known:
        assert "business_id" in view_fields(known[name]), name
    for name, explore in explores().items():
        (access,) = explore["access_filters"]
        assert access == {"field": f"{name}.business_id", "user_attribute": "ringback_business"}
        for join in explore.get("joins", []):
            assert f"${{{join['name']}.business_id}}" in join["sql_on"], (name, join["name"])
    for file, dashboard in dashboards():
        business = [f for f in dashboard["filters"] if f["name"] == "business"]
        assert business and business[0]["field"].endswith(".business_id"), file
        for element in dashboard["elements"]:
            assert "business" in element["listen"], (file, element["name"])
