"""`ringback sensitivity`: the grid's cells against separate model runs with each setting.

Two businesses of journey-generator calls (robocallers included, a few calls flagged spam by
the vendor) are built once; the grid of talk thresholds and recovery windows comes from one
query. The cell of each business's own settings must equal its marts.attributed_leads, and any
cell must equal what `models run` gives with that cell's settings (a property over random
grids).
"""

from __future__ import annotations

import datetime as dt
import random
import zoneinfo
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as h_settings
from hypothesis import strategies as st

from ringback import sensitivity
from ringback.settings import Business, Config, ConfigError, load_settings
from ringback_dev.simulators.journeys import JourneyGenerator, staging_rows

from helpers import build, load_calls

START, END = dt.date(2026, 11, 20), dt.date(2026, 11, 24)
OWN = {"lviv": (30, 24.0), "austin": (45, 12.0)}


def config(
    talk: dict[str, int] | None = None, hours: dict[str, float] | None = None, abandon: int = 0
) -> Config:
    talk = talk or {b: t for b, (t, _) in OWN.items()}
    hours = hours or {b: h for b, (_, h) in OWN.items()}
    return Config(
        businesses=(
            Business(
                "lviv",
                "Lviv",
                "Europe/Kyiv",
                {
                    "talk_threshold_seconds": talk["lviv"],
                    "recovery_window_hours": hours["lviv"],
                    "spam_calls_per_day": 3,
                    "short_abandon_seconds": abandon,
                },
            ),
            Business(
                "austin",
                "Austin",
                "America/New_York",
                {
                    "talk_threshold_seconds": talk["austin"],
                    "recovery_window_hours": hours["austin"],
                    "spam_calls_per_day": 4,
                    "short_abandon_seconds": abandon,
                },
            ),
        ),
        sources=(),
    )


def calls() -> list[dict]:
    rows = []
    for business, profile, zone in (
        ("lviv", "lviv", "Europe/Kyiv"),
        ("austin", "us", "America/New_York"),
    ):
        gen = JourneyGenerator(seed=11, customers_per_day=40, profile=profile)
        rows += staging_rows(
            gen,
            START - dt.timedelta(days=2),
            END + dt.timedelta(days=2),
            zoneinfo.ZoneInfo(zone),
            business,
        )
    # The vendor flags a few call-tracking calls as spam: they are no leads and recover nobody.
    draw = random.Random(5)
    for row in rows:
        if row["system"] == "calltracking":
            row["vendor_spam"] = draw.random() < 0.03
    return rows


def leads_by_business(wh) -> Counter:
    rows = wh.query(
        "SELECT business_id, attribution_type, COUNT(*) AS n FROM marts.attributed_leads "
        "WHERE attributed_date BETWEEN @s AND @e GROUP BY 1, 2",
        {"s": START, "e": END},
    ).to_pylist()
    return Counter({(r["business_id"], r["attribution_type"]): r["n"] for r in rows})


def missed_by_business(wh) -> Counter:
    """marts.missed_calls as the grid's missed cells count them."""
    rows = wh.query(
        "SELECT business_id, "
        "COUNTIF(outcome != 'abandoned_short') AS missed_calls, "
        "COUNTIF(outcome IN ('recovered_retry', 'recovered_callback')) AS recovered_missed_calls, "
        "COUNTIF(outcome = 'abandoned_short') AS abandoned_short "
        "FROM marts.missed_calls WHERE missed_date BETWEEN @s AND @e GROUP BY 1",
        {"s": START, "e": END},
    ).to_pylist()
    return Counter(
        {
            (r["business_id"], k): r[k]
            for r in rows
            for k in ("missed_calls", "recovered_missed_calls", "abandoned_short")
        }
    )


def missed_counts(grid: sensitivity.Grid, talk: int, hours: float, abandon: int) -> Counter:
    cell = grid.missed[(talk, hours, abandon)]
    return Counter(
        {
            (grid.business_id, "missed_calls"): cell.missed_calls,
            (grid.business_id, "recovered_missed_calls"): cell.recovered_missed_calls,
            (grid.business_id, "abandoned_short"): cell.abandoned_short,
        }
    )


def cell_counts(grid: sensitivity.Grid, talk: int, hours: float) -> Counter:
    cell = grid.cells[(talk, hours)]
    return Counter(
        {
            (grid.business_id, "primary_call"): cell.primary_leads,
            (grid.business_id, "missed_call_retry"): cell.retry_leads,
            (grid.business_id, "missed_call_callback"): cell.callback_leads,
        }
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    from helpers import connect

    url = f"duckdb:///{tmp_path_factory.mktemp('sensitivity')}/w.duckdb"
    settings = load_settings({"validate_marts": False})
    with connect(url) as wh:
        wh.init()
        load_calls(wh, calls())
        build(
            wh, settings, START - dt.timedelta(days=2), END + dt.timedelta(days=2), config=config()
        )
    return url, settings


def test_own_settings_cell_equals_attributed_leads(built):
    from helpers import connect

    url, _ = built
    with connect(url, read_only=True) as wh:
        grids = sensitivity.compute(wh, START, END, [30, 45, 60], [12, 24, 48], None, [0, 10])
        marts = leads_by_business(wh)
        missed = missed_by_business(wh)
    assert set(grids) == {"lviv", "austin"}
    for bid, (talk, hours) in OWN.items():
        assert grids[bid].current == (talk, hours)
        want = Counter({k: v for k, v in marts.items() if k[0] == bid})
        assert +cell_counts(grids[bid], talk, hours) == want
        assert sum(want.values()) > 100
        assert grids[bid].abandon == 0
        want_missed = Counter({k: v for k, v in missed.items() if k[0] == bid})
        assert +missed_counts(grids[bid], talk, hours, 0) == +want_missed
        assert want_missed[(bid, "missed_calls")] > 20
    # The grid moves: a stricter threshold never gives more conversations.
    lviv = grids["lviv"]
    assert lviv.cells[(60, 24.0)].primary_leads < lviv.cells[(30, 24.0)].primary_leads
    assert lviv.cells[(30, 12.0)].recovered_leads <= lviv.cells[(30, 48.0)].recovered_leads
    assert lviv.cells[(30, 24.0)].spam_calls > 0  # the robocallers' first calls
    # Short hang-ups (the generator rings 3-25 s) leave the missed calls, never add to them.
    loose, strict = lviv.missed[(30, 24.0, 0)], lviv.missed[(30, 24.0, 10)]
    assert loose.abandoned_short == 0 < strict.abandoned_short
    assert strict.missed_calls + strict.abandoned_short == loose.missed_calls


@h_settings(
    max_examples=3,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    talks=st.lists(st.integers(0, 120), min_size=1, max_size=2, unique=True),
    windows=st.lists(st.sampled_from([1, 2.5, 6, 12, 24, 30, 48, 72]), min_size=1, max_size=2),
    abandon=st.sampled_from([0, 4, 12, 30]),
)
def test_every_cell_equals_a_models_run_with_its_settings(built, tmp_path, talks, windows, abandon):
    from helpers import connect

    url, settings = built
    with connect(url, read_only=True) as wh:
        grids = sensitivity.compute(wh, START, END, talks, windows, None, [0, abandon])
    copy = tmp_path / f"cell-{random.random()}.duckdb"
    copy.write_bytes(Path(url.removeprefix("duckdb:///")).read_bytes())
    with connect(f"duckdb:///{copy}") as wh:
        for talk in sorted(set(talks)):
            for hours in sorted(set(windows)):
                cfg = config({b: talk for b in OWN}, {b: hours for b in OWN}, abandon)
                build(wh, settings, START - dt.timedelta(days=2), END, config=cfg)
                want = leads_by_business(wh)
                got = cell_counts(grids["lviv"], talk, float(hours)) + cell_counts(
                    grids["austin"], talk, float(hours)
                )
                assert +got == want, (talk, hours)
                got_missed = missed_counts(
                    grids["lviv"], talk, float(hours), abandon
                ) + missed_counts(grids["austin"], talk, float(hours), abandon)
                assert +got_missed == +missed_by_business(wh), (talk, hours, abandon)


def test_models_must_have_run_over_the_range(warehouse):
    load_calls(warehouse, [r for r in calls() if START <= r["call_date"] <= END])
    with pytest.raises(ConfigError, match="models run"):
        sensitivity.compute(warehouse, START, END, [30], [24])


def test_bad_lists_are_clear_errors():
    assert sensitivity.parse_list("60, 30,45", "--talk", minimum=0) == (30, 45, 60)
    for text in ("", "thirty", "30,-5", "nan"):
        with pytest.raises(ConfigError, match="--talk"):
            sensitivity.parse_list(text, "--talk", minimum=0)
