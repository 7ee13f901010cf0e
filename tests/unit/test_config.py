"""The sources file's businesses: what they change, and one clear error for each wrong entry."""

from __future__ import annotations

import pytest
import yaml

from ringback import cli
from ringback.settings import ConfigError, load_config, load_settings

SOURCE = {"id": "ringostat_main", "provider": "ringostat", "account_id": "p"}
KYIV = {"id": "kyiv_clinic", "name": "Kyiv Clinic", "time_zone": "Europe/Kyiv"}


@pytest.fixture
def sources_file(tmp_path, monkeypatch):
    path = tmp_path / "sources.yaml"
    monkeypatch.setenv("RINGBACK_CONFIG", str(path))

    def write(doc: dict) -> None:
        path.write_text(yaml.safe_dump(doc))

    return write


def test_without_businesses_everything_is_one_default_business(sources_file):
    sources_file({"sources": [SOURCE]})
    config = load_config(load_settings())
    ((business,), (source,)) = config.businesses, config.sources
    assert (business.id, business.time_zone) == ("default", load_settings().reporting_time_zone)
    assert (source.business_id, source.business_time_zone) == ("default", "Europe/Kyiv")


def test_businesses_give_zones_and_settings(sources_file):
    austin = {
        "id": "austin_plumbing",
        "name": "Austin Plumbing",
        "time_zone": "America/New_York",
        "settings": {"talk_threshold_seconds": 45, "tracked_numbers": ["+15125550199"]},
        "viewers": ["group:austin@agency.com"],
    }
    sources_file(
        {
            "businesses": [KYIV, austin],
            "sources": [
                {**SOURCE, "business": "kyiv_clinic"},
                {
                    **SOURCE,
                    "id": "callrail_main",
                    "provider": "callrail",
                    "business": "austin_plumbing",
                },
            ],
        }
    )
    config = load_config(load_settings())
    base = load_settings({"talk_threshold_seconds": 35})
    per = config.business_settings(base)
    assert per["kyiv_clinic"].talk_threshold_seconds == 35  # the global value (here, --set)
    assert per["austin_plumbing"].talk_threshold_seconds == 45  # its own override wins
    assert per["austin_plumbing"].reporting_time_zone == "America/New_York"
    assert per["austin_plumbing"].tracked_numbers == ("+15125550199",)
    callrail = config.sources[1]
    # The account's zone defaults to its business's; call_date is always the business's.
    assert (callrail.business_id, callrail.time_zone) == ("austin_plumbing", "America/New_York")
    assert config.business("austin_plumbing").viewers == ("group:austin@agency.com",)


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (
            {"businesses": [KYIV], "sources": [{**SOURCE, "business": "lviv"}]},
            r"source 'ringostat_main' names business 'lviv', which is not under 'businesses'",
        ),
        (
            {"businesses": [KYIV], "sources": [SOURCE]},
            r"source 'ringostat_main' needs 'business:'",
        ),
        (
            {"businesses": [{**KYIV, "settings": {"talk_treshold_seconds": 40}}], "sources": []},
            r"business 'kyiv_clinic': unknown settings key\(s\) \['talk_treshold_seconds'\]",
        ),
        (
            {"businesses": [{**KYIV, "settings": {"mismatch_min_ratio": 2}}], "sources": []},
            r"business 'kyiv_clinic': settings out of range: mismatch_min_ratio=2.0",
        ),
        (
            {"businesses": [{**KYIV, "time_zone": "Europe/Kiev_"}], "sources": []},
            r"business 'kyiv_clinic' has time zone 'Europe/Kiev_', which is not an IANA time zone",
        ),
        ({"businesses": [KYIV, KYIV], "sources": []}, r"duplicate business ids \['kyiv_clinic'\]"),
        (
            {"businesses": [{**KYIV, "id": "Kyiv Clinic"}], "sources": []},
            r"business 'Kyiv Clinic': ids are lowercase letters, digits and _",
        ),
        (
            {"businesses": [{**KYIV, "viewers": ["kyiv@agency.com"]}], "sources": []},
            r"viewers must be a list of BigQuery principals",
        ),
        (
            {"businesses": [{**KYIV, "timezone": "Europe/Kyiv"}], "sources": []},
            r"has unknown keys \['timezone'\]",
        ),
        (
            {
                "businesses": [
                    {**KYIV, "settings": {"number_pools": {"ads": ["+380441112233", "0441112234"]}}}
                ],
                "sources": [],
            },
            r"number_pools: '0441112234' in 'ads' is not E.164",
        ),
        (
            {
                "businesses": [
                    {
                        **KYIV,
                        "settings": {
                            "number_pools": {"a": ["+380441112233"], "b": ["+380441112233"]}
                        },
                    }
                ],
                "sources": [],
            },
            r"number_pools: \+380441112233 is in pools 'a' and 'b'",
        ),
    ],
)
def test_wrong_entries_name_the_file_and_the_entry(sources_file, tmp_path, doc, message):
    sources_file(doc)
    with pytest.raises(ConfigError, match=message) as err:
        load_config(load_settings())
    assert str(tmp_path / "sources.yaml") in str(err.value)


def test_the_cli_says_it_in_one_line(sources_file, tmp_path, capsys):
    sources_file({"businesses": [KYIV], "sources": [{**SOURCE, "business": "lviv"}]})
    url = f"duckdb://{tmp_path}/w.duckdb"
    assert (
        cli.main(
            ["models", "run", "--warehouse", url, "--start", "2026-11-10", "--end", "2026-11-10"]
        )
        == 2
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "names business 'lviv'" in err[0]


def test_full_refresh_with_business_is_refused(sources_file, tmp_path, capsys):
    sources_file({"businesses": [KYIV], "sources": [{**SOURCE, "business": "kyiv_clinic"}]})
    url = f"duckdb://{tmp_path}/w.duckdb"
    args = ["models", "run", "--warehouse", url, "--start", "2026-11-10", "--end", "2026-11-10"]
    assert cli.main([*args, "--full-refresh", "--business", "kyiv_clinic"]) == 2
    assert "--full-refresh empties the model tables of every business" in capsys.readouterr().err


def test_the_settings_page_states_every_default_as_the_code_does():
    """docs/settings.md lists every setting with the default of settings.py (one home: the
    page is checked, not a second source), and config/settings.yaml repeats none of them."""
    import dataclasses
    import json
    import re
    from pathlib import Path

    import yaml

    from ringback.settings import Settings

    root = Path(__file__).resolve().parents[2]
    rows = re.findall(r"^\| `(\w+)` \| `([^`]*)` \|", (root / "docs/settings.md").read_text(), re.M)
    documented = dict(rows)
    defaults = {f.name: f.default for f in dataclasses.fields(Settings)}
    assert list(documented) == list(defaults)
    for name, value in defaults.items():
        text = documented[name]
        if isinstance(value, str):
            assert text == (value or '""'), name
        else:
            shown = yaml.safe_load(text)
            want = list(value) if isinstance(value, tuple) else value
            assert json.dumps(shown) == json.dumps(want), name
    deployment = yaml.safe_load((root / "config/settings.yaml").read_text()) or {}
    assert not {k for k, v in deployment.items() if defaults.get(k) == v}


def test_a_business_settings_row_is_derived_from_the_fields_and_matches_its_schema():
    """Each setting the queries read declares its column (``setting(column=...)``): the row of
    staging.business_settings is those columns plus the facts of the run, and has exactly the
    table's columns."""
    import dataclasses

    from ringback import catalog
    from ringback.models import BusinessScope
    from ringback.settings import Settings, settings_columns

    settings = load_settings(
        {
            "recovery_window_hours": 1.5,
            "callback_sla_minutes": 20,
            "tracked_numbers": "+380441112233,+380442223344",
            "holidays": "2026-12-25",
        }
    )
    columns = settings_columns(settings)
    assert columns["recovery_window_seconds"] == 5400
    assert columns["callback_sla_seconds"] == 1200
    assert columns["uniqueness_window_seconds"] is None
    assert columns["tracked_numbers"] == "+380441112233,+380442223344"
    assert columns["holidays"] == "2026-12-25" and columns["business_hours"] is None
    assert columns["time_zone"] == settings.reporting_time_zone
    schema = [c.name for c in catalog.table("staging.business_settings").columns]
    assert set(columns) < set(schema)
    scope = BusinessScope(
        None, {"kyiv_clinic": settings}, frozenset({"kyiv_clinic"}), {"kyiv_clinic": "Kyiv"}
    )
    (row,) = scope.rows()
    assert sorted(row) == sorted(schema)
    assert row["business_name"] == "Kyiv" and row["is_configured"]
    # A per-business rule setting the queries read has a column.
    read = {f.name for f in dataclasses.fields(Settings) if f.metadata.get("column")}
    assert {"talk_threshold_seconds", "recovery_window_hours", "crm_match_after_minutes"} <= read


def test_number_pools_become_rows_of_staging_number_pools(sources_file):
    """A business's pools (pool name -> numbers, YAML or JSON text) are rows with the pool's
    size; a business without pools has none."""
    from ringback import catalog
    from ringback.models import BusinessScope

    sources_file(
        {
            "businesses": [
                {
                    **KYIV,
                    "settings": {
                        "number_pools": {
                            "google_ads": ["+380441112233", "+380441112234"],
                            "facebook": ["+380441112235"],
                        },
                        "pool_reservation_minutes": 20,
                    },
                },
                {"id": "austin", "name": "Austin", "time_zone": "America/Chicago"},
            ],
            "sources": [],
        }
    )
    settings = load_settings()
    per_business = load_config(settings).business_settings(settings)
    scope = BusinessScope(None, per_business, frozenset(per_business), {})
    rows = scope.pool_rows()
    assert rows == [
        {
            "business_id": "kyiv_clinic",
            "pool_name": name,
            "company_number": number,
            "pool_size": size,
        }
        for name, number, size in (
            ("facebook", "+380441112235", 1),
            ("google_ads", "+380441112233", 2),
            ("google_ads", "+380441112234", 2),
        )
    ]
    table = catalog.table("staging.number_pools")
    assert sorted(rows[0]) == sorted(c.name for c in table.columns)
    assert {r["business_id"]: r["pool_reservation_seconds"] for r in scope.rows()} == {
        "austin": 900,
        "kyiv_clinic": 1200,
    }
    from_text = load_settings({"number_pools": '{"ads": ["+380441112233"]}'})
    assert from_text.number_pools == (("ads", ("+380441112233",)),)
