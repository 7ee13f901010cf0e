"""The ``ringback`` command as an operator meets it: misuse ends in one line, and ``--set``
reaches every backend."""

from __future__ import annotations

import pytest

from ringback import cli

from helpers import connect, table_rows

DAY = "2026-11-10"


def run(argv: list[str], capsys) -> tuple[int, str]:
    """Exit status and stderr of one command, as a shell would see them."""
    try:
        code = cli.main(argv)
    except SystemExit as exc:  # argparse's own exits
        code = exc.code
    return code, capsys.readouterr().err


@pytest.fixture
def plain_sources(tmp_path, monkeypatch):
    """A sources file with one source and no businesses (the default business)."""
    path = tmp_path / "sources.yaml"
    path.write_text("sources:\n  - {id: binotel_main, provider: binotel, account_id: a}\n")
    monkeypatch.setenv("RINGBACK_CONFIG", str(path))
    return path


MISUSE = {
    "end_before_start": (
        ["models", "run", "--start", DAY, "--end", "2026-11-01"],
        "--end 2026-11-01 is before --start 2026-11-10",
    ),
    "bad_date": (["models", "run", "--start", "2026-13-01", "--end", DAY], "expected a date"),
    "missing_argument": (["extract", "--source", "binotel_main"], "--date"),
    "unknown_command": (["model", "run"], "invalid choice"),
    "unknown_source": (
        ["extract", "--source", "nope", "--date", DAY],
        "source 'nope' is not in",
    ),
    "unknown_model": (["models", "render", "--model", "marts.nope"], "no table 'marts.nope'"),
    "set_without_value": (["init", "--set", "talk_threshold_seconds"], "--set expects key=value"),
    "unknown_setting": (["init", "--set", "talk_treshold_seconds=40"], "unknown setting"),
    "setting_of_wrong_type": (["init", "--set", "talk_threshold_seconds=abc"], "not a valid"),
    "setting_out_of_range": (["init", "--set", "mismatch_min_ratio=2"], "out of range"),
    "unsupported_warehouse_url": (["init", "--warehouse", "postgres://db/x"], "unsupported"),
    "warehouse_url_without_file": (["init", "--warehouse", "duckdb:///"], "names no file"),
}


@pytest.mark.parametrize("argv, says", MISUSE.values(), ids=MISUSE.keys())
def test_misuse_ends_in_one_clear_line(argv, says, capsys, plain_sources, tmp_path):
    argv = [a.replace("TMP", str(tmp_path)) for a in argv]
    code, err = run(argv, capsys)
    assert code not in (0, None)
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert says in lines[0]


def test_a_missing_warehouse_file_is_one_line_for_readers(capsys, plain_sources, tmp_path):
    url = f"duckdb://{tmp_path}/absent.duckdb"
    code, err = run(["summary", "--warehouse", url, "--start", DAY, "--end", DAY], capsys)
    assert code == 1 and "does not exist; run `ringback init` first" in err
    assert len(err.strip().splitlines()) == 1


BROKEN = {
    "sources_not_yaml": ("RINGBACK_CONFIG", "sources: [unclosed\n", "is not valid YAML"),
    "sources_unknown_provider": (
        "RINGBACK_CONFIG",
        "sources:\n  - {id: x, provider: ringcentral}\n",
        "provider 'ringcentral'",
    ),
    "sources_without_business": (
        "RINGBACK_CONFIG",
        "businesses:\n  - {id: a, time_zone: Europe/Kyiv}\n"
        "sources:\n  - {id: x, provider: binotel}\n",
        "needs 'business:'",
    ),
    "settings_a_list": (
        "RINGBACK_SETTINGS",
        "- talk_threshold_seconds: 30\n",
        "expected a mapping",
    ),
    "settings_unknown_key": ("RINGBACK_SETTINGS", "talk_treshold: 30\n", "unknown setting"),
    "settings_bad_zone": ("RINGBACK_SETTINGS", "reporting_time_zone: Kyiv\n", "IANA"),
}


@pytest.mark.parametrize("variable, text, says", BROKEN.values(), ids=BROKEN.keys())
def test_broken_config_files_end_in_one_line(variable, text, says, capsys, tmp_path, monkeypatch):
    path = tmp_path / "file.yaml"
    path.write_text(text)
    monkeypatch.setenv(variable, str(path))
    code, err = run(["init", "--warehouse", f"duckdb://{tmp_path}/w.duckdb"], capsys)
    assert code == 2 and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 and says in err


def test_set_reaches_the_duckdb_models(capsys, plain_sources, tmp_path):
    """An override on the command line is the setting every model reads."""
    url = f"duckdb://{tmp_path}/w.duckdb"
    assert run(["init", "--warehouse", url], capsys)[0] == 0
    argv = ["models", "run", "--warehouse", url, "--start", DAY, "--end", DAY]
    assert run([*argv, "--set", "talk_threshold_seconds=47"], capsys)[0] == 0
    with connect(url, read_only=True) as wh:
        (row,) = table_rows(wh, "staging.business_settings")
    assert row["talk_threshold_seconds"] == 47


def test_set_reaches_the_bigquery_job_configuration(capsys, plain_sources, monkeypatch):
    """``models run --set bigquery_staging_dataset=...`` on BigQuery: the query job the real
    client is given reads the overridden dataset, under the overridden byte cap. (Before the
    runtime was passed down, the backend re-read the settings and used the defaults.)"""
    from google.cloud import bigquery

    from ringback.warehouse.bigquery import BigQueryWarehouse

    jobs: list[tuple[str, bigquery.QueryJobConfig]] = []

    class Stop(Exception):
        pass

    def query(self, sql, job_config=None, **kwargs):
        jobs.append((sql, job_config))
        raise Stop("captured")

    monkeypatch.setattr(BigQueryWarehouse, "init", lambda self: [])  # no server here
    monkeypatch.setattr(bigquery.Client, "query", query)
    url = "bigquery://acme-proj?location=EU&endpoint=http://127.0.0.1:9"
    argv = ["models", "run", "--warehouse", url, "--start", DAY, "--end", DAY]
    overrides = ["bigquery_staging_dataset=client_x_staging", "bigquery_maximum_bytes_billed=12345"]
    code, err = run([*argv, *(a for o in overrides for a in ("--set", o))], capsys)
    assert code == 1 and "Stop: captured" in err
    sql, config = jobs[0]
    assert isinstance(config, bigquery.QueryJobConfig)
    assert "`acme-proj`.client_x_staging.calls" in sql
    assert "ringback_staging" not in sql
    assert config.maximum_bytes_billed == 12345


def test_dates_are_checked_before_anything_runs(capsys, plain_sources, tmp_path):
    url = f"duckdb://{tmp_path}/w.duckdb"
    code, _ = run(["export", "--warehouse", url, "--start", DAY, "--end", "2026-11-09"], capsys)
    assert code == 2
    assert not (tmp_path / "w.duckdb").exists()  # nothing was opened


def test_the_commands_shown_in_the_docs_parse():
    """Every `ringback ...` / `ringback-dev ...` line in the README and docs/ is a command the
    parsers accept (placeholders filled in), so the docs cannot drift from the CLI."""
    import re
    import shlex
    from pathlib import Path

    from ringback_dev import cli as dev_cli

    root = Path(__file__).resolve().parents[2]
    fill = {
        "URL": "duckdb:///tmp/x.duckdb",
        "ID": "binotel_main",
        "YYYY-MM-DD": DAY,
        "D1": DAY,
        "D2": DAY,
        "D": DAY,
        "F.html": "r.html",
        "F.png": "r.png",
        "N": "7",
    }
    seen = 0
    for page in [root / "README.md", *sorted((root / "docs").glob("*.md"))]:
        fenced = transcript = False
        for line in page.read_text().splitlines():
            if line.startswith("```"):
                fenced, transcript = not fenced, False
                continue
            # A block that starts with a `$ ` prompt is a transcript: the rest is output.
            transcript = transcript or (fenced and line.startswith("$ "))
            if transcript and not line.startswith("$ "):
                continue
            line = line.removeprefix("$ ")
            found = fenced and re.match(
                r"^\s*(?:uv run )?(ringback(?:-dev)?) (\w.*?)(?:\s+#.*)?$", line
            )
            if not found:
                continue
            words = [fill.get(w, w) for w in shlex.split(found.group(2))]
            # `[--x ...]` marks optional parts: take the command without them.
            text = re.sub(r"\[[^\]]*\]", "", " ".join(words)).replace("...", "")
            words = [fill.get(w, w) for w in shlex.split(text)]
            parser = cli.build_parser() if found.group(1) == "ringback" else dev_cli.build_parser()
            try:
                parser.parse_args(words)
            except SystemExit as exc:
                raise AssertionError(f"{page.name}: {line.strip()}") from exc
            seen += 1
    assert seen >= 10


def test_ringback_dev_bench_takes_its_own_options(capsys):
    """`make bench` runs `ringback-dev bench --calls N`: the options reach the benchmark."""
    from ringback_dev import cli as dev_cli

    with pytest.raises(SystemExit) as exited:
        dev_cli.main(["bench", "--calls", "5", "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert "--calls" in out and "--memory-limit" in out
