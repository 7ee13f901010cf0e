"""One definition of each figure: the demo summary, the HTML report and LookML's measures show
the same headline figures, all read from the analytics views (the BI contract)."""

from __future__ import annotations

import re
from pathlib import Path

import lkml
import pytest

from ringback import figures, report
from ringback.settings import load_settings
from ringback.summary import summary_sections

from helpers import build, load_calls, runtime_of, sql_case

LOOKML = Path(__file__).resolve().parents[2] / "lookml" / "views"
CASES = Path(__file__).resolve().parents[1] / "sql"
FIELD = re.compile(r"\$\{(\w+)\}")


def lookml_view(name: str) -> dict:
    (view,) = lkml.load((LOOKML / f"{name}.view.lkml").read_text())["views"]
    return view


class Measures:
    """LookML measures compiled to SQL the way Looker does for these types (count with filters,
    sum, number over other measures), over the view's sql_table_name."""

    def __init__(self, name: str) -> None:
        self.view = lookml_view(name)
        self.fields = {
            f["name"]: f for kind in ("dimensions", "measures") for f in self.view.get(kind, [])
        }
        for group in self.view.get("dimension_groups", []):
            for timeframe in group.get("timeframes", []):
                self.fields[f"{group['name']}_{timeframe}"] = {"sql": group["sql"]}
        table = self.view["sql_table_name"].strip().strip("`")
        self.table = table.replace("@{analytics_dataset}", "analytics")

    def sql(self, field: str) -> str:
        spec = self.fields[field]
        kind = spec.get("type")
        if kind == "count":
            conditions = [
                self._condition(target, value)
                for group in spec.get("filters__all", [])
                for condition in group
                for target, value in condition.items()
            ]
            return f"COUNTIF({' AND '.join(conditions)})" if conditions else "COUNT(*)"
        body = FIELD.sub(
            lambda m: "t" if m.group(1) == "TABLE" else f"({self.sql(m.group(1))})", spec["sql"]
        )
        return f"SUM({body})" if kind == "sum" else body

    def _condition(self, target: str, value: str) -> str:
        column = self.sql(target)
        if value in ("yes", "no"):
            return f"({column})" if value == "yes" else f"NOT ({column})"
        quoted = ", ".join(f"'{v.strip()}'" for v in value.split(","))
        return f"({column}) IN ({quoted})"

    def per_business(self, wh, date_field: str, start, end, *measures: str) -> dict:
        selected = ", ".join(f"{self.sql(m)} AS {m}" for m in measures)
        query = (
            f"SELECT {self.sql('business_id')} AS business_id, {selected} FROM {self.table} AS t "
            f"WHERE {self.sql(date_field)} BETWEEN @start AND @end GROUP BY 1"
        )
        return {r.pop("business_id"): r for r in wh.query(query, {"start": start, "end": end})
                .to_pylist()}  # fmt: skip


@pytest.mark.parametrize("case", ["analyst_views", "business_day_boundary_by_zone"])
def test_summary_report_and_lookml_agree_on_the_headline(case, warehouse, warehouse_url, tmp_path):
    settings, config, rows, start, end, _ = sql_case(CASES / case)
    load_calls(warehouse, rows)
    build(warehouse, settings, start, end, config=config)
    heads = figures.headlines(warehouse, start, end)
    assert heads and sum(h.leads for h in heads.values()) > 0

    # LookML: the explores' measures over the same views.
    leads = Measures("attributed_leads").per_business(
        warehouse, "attributed_date", start, end, "leads", "recovered_leads", "recovered_share"
    )
    missed = Measures("missed_calls").per_business(
        warehouse, "missed_date", start, end, "missed_calls", "recovered_calls", "recovery_rate"
    )
    days = Measures("call_reconciliation").per_business(
        warehouse, "report_date", start, end, "flagged_days"
    )
    callbacks = Measures("missed_call_followups").per_business(
        warehouse, "missed_date", start, end, "sla_met_rate", "never_called_back"
    )
    warehouse.close()
    for business, h in heads.items():
        looker = {**leads.get(business, {}), **missed.get(business, {}), **days.get(business, {})}
        looker |= callbacks.get(business, {})
        assert looker.get("leads", 0) == h.leads, business
        assert looker.get("recovered_leads", 0) == h.recovered_leads, business
        assert looker.get("recovered_share") == pytest.approx(h.recovered_share), business
        assert looker.get("missed_calls", 0) == h.missed_calls, business
        assert looker.get("recovered_calls", 0) == h.recovered_calls, business
        assert looker.get("recovery_rate") == pytest.approx(h.recovery_rate), business
        assert looker.get("flagged_days", 0) == h.flagged_days, business
        assert looker.get("sla_met_rate") == pytest.approx(h.sla_met_rate), business
        assert looker.get("never_called_back", 0) == h.never_called_back, business

    runtime = runtime_of(load_settings({"warehouse_url": warehouse_url}), config)
    pct = lambda v: "-" if v is None else f"{v:.1%}"  # noqa: E731

    # The summary's headline table: one row per business with the same figures.
    (title, text) = summary_sections(runtime, start, end)[0]
    assert title.startswith("Businesses")
    for business, h in heads.items():
        (line,) = [x for x in text.splitlines() if x.startswith(business)]
        cells = line.split()
        assert cells[1:6] == [str(h.leads), str(h.primary_leads), str(h.retry_leads),
                              str(h.callback_leads), pct(h.recovered_share)], line  # fmt: skip
        assert cells[6:8] == [str(h.missed_calls), pct(h.recovery_rate)], line
    # ... and its callbacks table the same SLA met rate (the column before the median).
    callbacks = dict(summary_sections(runtime, start, end))[
        "Callbacks after missed first calls (SLA in business time)"
    ]
    for business, h in heads.items():
        lines = [x for x in callbacks.splitlines() if x.startswith(business)]
        assert len(lines) == (1 if h.missed_calls else 0), callbacks
        if not lines:
            continue
        cells = lines[0].split()
        assert cells[3] == str(h.never_called_back) and cells[8] == pct(h.sla_met_rate), line

    # The HTML report's figures per business section.
    html = report.write_report(runtime, start, end, tmp_path / "r.html").read_text()
    for business, h in heads.items():
        section = html.split(f'id="business-{business}"', 1)[1].split("</section>", 1)[0]
        kpis = dict(
            (name, value)
            for value, name in re.findall(
                r'<div class="value">([^<]+)</div><div class="name">([^<]+)</div>', section
            )
        )
        assert kpis["leads"] == str(h.leads)
        assert kpis["recovered from missed calls"] == str(h.recovered_leads)
        assert kpis["recovered share"] == pct(h.recovered_share)
        assert kpis["missed first calls"] == str(h.missed_calls)
        assert kpis["recovery rate (closed windows)"] == pct(h.recovery_rate)
        assert kpis["days with a call-count mismatch"] == f"{h.flagged_days} of {h.days}"
        assert kpis["callback SLA met (of due)"] == pct(h.sla_met_rate)
        assert kpis["missed calls never called back"] == str(h.never_called_back)
