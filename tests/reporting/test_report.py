"""``ringback report``: the HTML file, and that headless Chromium draws its charts.

Chromium is Debian's package (``make browser`` installs it; ``make test`` depends on it). Without
it the browser test fails, unless RINGBACK_SKIP_BROWSER=1 says to skip it on purpose.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

import pytest
import yaml
from PIL import Image

from ringback import report
from ringback.settings import load_settings
from ringback_dev import browser

from helpers import build, load_calls, runtime_of, staging_row

CASE = Path(__file__).resolve().parents[1] / "sql" / "analyst_views"
START, END = dt.date(2026, 11, 10), dt.date(2026, 11, 12)
# What the case's calls give (see tests/sql/analyst_views/expect.yaml), counted as bars with an
# area: leads by source 4 (google primary + retry, facebook callback, untracked primary), per day
# 4, the funnel's 5 steps, 2 lag buckets (10 and 30 min), 2 days with unmatched calls; the
# callback funnel's 4 non-empty steps (4 missed, 1 called back, 3 never called back, 1 got
# through first), 1 attempt bucket (30 min), 6 weekday x hour cells with inbound calls.
BARS = {
    "leads_by_source": 4,
    "leads_per_day": 4,
    "recovery_funnel": 5,
    "recovery_lag": 2,
    "reconciliation": 2,
    "callback_funnel": 4,
    "callback_lag": 1,
    "answer_heatmap": 6,
}


@pytest.fixture
def case_warehouse(warehouse, warehouse_url):
    settings = load_settings({"validate_marts": False})
    calls = yaml.safe_load((CASE / "input.yaml").read_text())["calls"]
    load_calls(warehouse, [staging_row(c, settings) for c in calls])
    build(warehouse, settings, START, END)
    warehouse.close()  # the report opens the file read-only, as a separate reader would
    return warehouse_url, calls


def test_report_is_one_self_contained_file_without_numbers(case_warehouse, tmp_path):
    url, calls = case_warehouse
    html = report.write_report(
        runtime_of(load_settings({"warehouse_url": url})), START, END, tmp_path / "r.html"
    ).read_text()
    # Nothing to fetch: no external script, stylesheet, image or font.
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=", html)
    assert not re.search(r"https?://(?!www\.w3\.org/)", html)
    assert html.count("<svg") == len(BARS)
    for key in BARS:
        assert f'data-chart="{key}"' in html
    # KPIs from the case: 4 leads, 2 recovered (50.0 %), 4 missed first calls, 2 of 3 closed
    # windows recovered, 1 of 2 days mismatched.
    kpis = dict(
        (name, value)
        for value, name in re.findall(
            r'<div class="value">([^<]+)</div><div class="name">([^<]+)</div>', html
        )
    )
    assert kpis == {
        "leads": "4",
        "recovered from missed calls": "2",
        "recovered share": "50.0%",
        "missed first calls": "4",
        "recovery rate (closed windows)": "66.7%",
        "days with a call-count mismatch": "1 of 2",
        # m3 called back after 30 min, m4 and m5 never: 0 of 3 due; m2 got through first.
        "callback SLA met (of due)": "0.0%",
        "missed calls never called back": "3",
    }
    for call in calls:  # customers appear as hashes only, never as numbers
        assert call["number"] not in html and call["number"][-9:] not in html


def test_an_empty_range_still_gives_a_report(case_warehouse, tmp_path):
    url, _ = case_warehouse
    runtime = runtime_of(load_settings({"warehouse_url": url}))
    html = report.write_report(
        runtime, dt.date(2026, 1, 1), dt.date(2026, 1, 7), tmp_path / "e.html"
    )
    text = html.read_text()
    # No business has data: a section (of empty charts) for each configured business.
    assert text.count("no data in this range") == len(BARS) * len(runtime.config.businesses)
    assert 'id="mark_' not in text


def _need_chromium() -> None:
    if browser.find_chromium():
        return
    if os.environ.get("RINGBACK_SKIP_BROWSER") == "1":
        pytest.skip("RINGBACK_SKIP_BROWSER=1: the report is not opened in a browser")
    pytest.fail("no Chromium: run `make browser` (Debian) or set RINGBACK_SKIP_BROWSER=1")


def test_chromium_renders_every_chart_and_the_screenshot_shows_them(case_warehouse, tmp_path):
    _need_chromium()
    url, _ = case_warehouse
    html = report.write_report(
        runtime_of(load_settings({"warehouse_url": url})), START, END, tmp_path / "r.html"
    )
    check = browser.check_rendered(html)
    assert check.ok, check
    assert check.bars_drawn == BARS

    png = browser.screenshot(html, tmp_path / "r.png", width=1200, height=3000)
    image = Image.open(png).convert("RGB")
    assert image.size == (1200, 3000)
    colours = image.getcolors(maxcolors=1_000_000)
    counts = {rgb: n for n, rgb in colours}
    # Each lead colour covers a real area of the page (bars, not just a legend swatch).
    for hex_colour in report.COLOURS.values():
        rgb = tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
        assert counts.get(rgb, 0) > 2_000, (hex_colour, counts.get(rgb, 0))

    # An empty range: the page renders, but no chart has a bar to draw.
    runtime = runtime_of(load_settings({"warehouse_url": url}))
    empty = report.write_report(
        runtime, dt.date(2026, 1, 1), dt.date(2026, 1, 7), tmp_path / "e.html"
    )
    check = browser.check_rendered(empty)
    assert not check.ok and check.rendered == 0
    assert check.expected == len(BARS) * len(runtime.config.businesses)


def test_a_section_per_business_with_its_own_figures(warehouse, warehouse_url, tmp_path):
    """Two businesses: a headline table, then a section each; --business keeps one."""
    from helpers import sql_case

    settings, config, rows, start, end, _ = sql_case(
        Path(__file__).resolve().parents[1] / "sql" / "business_day_boundary_by_zone"
    )
    load_calls(warehouse, rows)
    build(warehouse, settings, start, end, config=config)
    warehouse.close()
    runtime = runtime_of(load_settings({"warehouse_url": warehouse_url}), config)
    html = report.write_report(runtime, start, end, tmp_path / "b.html")
    text = html.read_text()
    assert f'data-charts-expected="{2 * len(BARS)}"' in text
    sections = re.findall(r'<section class="business" id="business-(\w+)"', text)
    assert sections == ["austin_plumbing", "kyiv_clinic"]
    assert "Austin Plumbing" in text and "Kyiv Clinic" in text
    assert 'data-chart="austin_plumbing:leads_by_source"' in text
    # Headline row per business: Austin 2 leads, Kyiv 1 (see the case's expect.yaml).
    rows_html = re.findall(
        r'href="#business-(\w+)">[^<]+</a></td>\s*<td class="num">(\d+)</td>', text
    )
    assert dict(rows_html) == {"austin_plumbing": "2", "kyiv_clinic": "1"}
    one = report.write_report(
        runtime, start, end, tmp_path / "k.html", businesses=["kyiv_clinic"]
    ).read_text()
    assert f'data-charts-expected="{len(BARS)}"' in one and "Austin" not in one


def test_a_business_with_a_crm_gets_its_crm_chart_and_revenue(warehouse, warehouse_url, tmp_path):
    """The CRM chart, KPIs and revenue columns appear only for a business with CRM leads."""
    from helpers import load_crm, sql_case

    case = Path(__file__).resolve().parents[1] / "sql" / "crm_two_leads_one_number_late_deal"
    settings, config, rows, start, end, _ = sql_case(case)
    load_calls(warehouse, rows)
    load_crm(warehouse, case, settings, config)
    build(warehouse, settings, start, end, config=config)
    warehouse.close()
    runtime = runtime_of(load_settings({"warehouse_url": warehouse_url}), config)
    text = report.write_report(runtime, start, end, tmp_path / "c.html").read_text()
    assert 'data-chart="shop:crm_reconciliation"' in text
    assert 'data-chart="other:crm_reconciliation"' not in text
    # shop: one deal won (2,000 UAH, google / brand), the second lead's deal still open.
    assert "2,000 UAH" in text
    assert '<div class="value">2,000 UAH</div><div class="name">won revenue' in text
    assert f'data-charts-expected="{2 * len(BARS) + 1}"' in text
