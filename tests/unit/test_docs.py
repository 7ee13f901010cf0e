"""The docs, code and SQL speak to the project's users: they stand alone."""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
READ_BY_USERS = [
    "plugins",
    "sql",
    "docs",
    "tools",
    "dags",
    "tests",
    "config",
    "expectations",
    "lookml",
]
SUFFIXES = {".py", ".sql", ".md", ".yaml", ".yml", ".json", ".lkml", ".j2", ".toml"}
# Pointers a user of the project cannot follow: the team's tracker and its planning files.
PRIVATE = re.compile(r"\bissue \d+|design\.md|\.\./shared", re.IGNORECASE)


def _files() -> list[Path]:
    found = [ROOT / "README.md", ROOT / "Makefile", ROOT / "pyproject.toml"]
    for folder in READ_BY_USERS:
        found += [p for p in (ROOT / folder).rglob("*") if p.suffix in SUFFIXES and p.is_file()]
    return found


def test_nothing_points_at_the_teams_tracker_or_planning_files():
    hits = [
        f"{path.relative_to(ROOT)}:{n}: {line.strip()[:100]}"
        for path in _files()
        for n, line in enumerate(path.read_text(errors="replace").splitlines(), 1)
        if PRIVATE.search(line)
    ]
    assert hits == []


def test_the_readme_is_short_enough_to_read():
    """What it does, the two commands, an excerpt of the demo, using it for real, links to
    docs/: the rest lives in docs/."""
    assert len((ROOT / "README.md").read_bytes()) < 12_000
    for doc in re.findall(r"\]\((docs/[^)#]+)", (ROOT / "README.md").read_text()):
        assert (ROOT / doc).is_file(), doc


def test_the_quarantine_reasons_are_one_list_the_docs_and_suites_share():
    from ringback.quarantine import Reason

    rows = re.findall(
        r"^\| `([a-z_]+)` \| (yes|no) \| (.+) \|$", (ROOT / "docs/rules.md").read_text(), re.M
    )
    assert rows == [(r.value, "yes" if r.expected else "no", r.description) for r in Reason]
    # Row-level expectations quarantine with a reason of that list, never an expected one.
    for suite in (ROOT / "expectations/expectations").glob("*.json"):
        for expectation in json.loads(suite.read_text())["expectations"]:
            if reason := (expectation.get("meta") or {}).get("quarantine_reason"):
                assert not Reason(reason).expected, (suite.name, reason)


def test_a_mapper_can_only_quarantine_with_a_known_reason():
    import pytest

    from ringback.sources.base import MappingError

    assert MappingError("child_leg", "folded").reason.expected
    with pytest.raises(ValueError, match="not a valid Reason"):
        MappingError("some_new_reason", "a reason nobody listed")


def test_no_function_in_the_pipeline_is_over_120_lines():
    """A function a newcomer can read at once: long queries live in sql/, long texts in
    constants, and a long procedure is split by what it does."""
    import ast

    long = [
        f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1})"
        for path in (ROOT / "plugins").rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno - node.lineno + 1 > 120
    ]
    assert long == []
