"""Fixture-folder SQL tests (tests/sql/<case>/): input rows, parameters, expected rows.

Each case loads its rows into staging.calls (and its CRM leads into staging.crm_leads) of a
fresh DuckDB warehouse, runs `models run` for
its range and compares every table named in expect.yaml on the columns given there, as a
multiset: a missing or an extra row fails.

Every model query of the build also runs in GoogleSQL's reference engine (ZetaSQL, the engine
BigQuery's semantics are defined by) over the same input rows, and its rows must equal DuckDB's:
what the case proves on DuckDB holds on BigQuery.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml

from ringback import catalog
from ringback_dev.googlesql import reference_checked_builds

from helpers import build, load_calls, load_crm, load_deleted, normalise, sql_case, table_rows

CASES = sorted(
    p.parent for p in (Path(__file__).resolve().parents[1] / "sql").glob("*/expect.yaml")
)


def test_every_case_is_complete():
    assert len(CASES) >= 15
    for case in CASES:
        assert {"input.yaml", "params.yaml", "expect.yaml"} <= {p.name for p in case.iterdir()}


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_sql_case(case: Path, warehouse):
    settings, config, rows, start, end, only = sql_case(case)
    load_calls(warehouse, rows)
    load_deleted(warehouse, case, rows)
    load_crm(warehouse, case, settings, config)
    with reference_checked_builds() as reference:
        build(warehouse, settings, start, end, config=config, businesses=only)
    assert reference["unsupported"] == {}
    assert not reference["differences"], "\n".join(map(str, reference["differences"]))
    assert len(reference["compared"]) >= len(catalog.models_in_order())
    expected_tables = yaml.safe_load((case / "expect.yaml").read_text())
    for ref, expected_rows in expected_tables.items():
        actual = table_rows(warehouse, ref)
        columns = sorted({c for row in expected_rows for c in row})
        assert all(sorted(row) == columns for row in expected_rows), (
            f"{case.name} {ref}: every expected row must list the same columns"
        )
        if not columns:  # an empty expectation: the table must be empty
            assert actual == [], f"{ref}: expected no rows, got {actual}"
            continue
        want = Counter(tuple(normalise(r.get(c)) for c in columns) for r in expected_rows)
        got = Counter(tuple(normalise(r.get(c)) for c in columns) for r in actual)
        assert got == want, (
            f"{case.name} {ref} on {columns}:\n missing {list((want - got).elements())}\n"
            f" unexpected {list((got - want).elements())}"
        )
