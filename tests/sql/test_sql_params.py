"""Values reach SQL as query parameters, never by string formatting.

Static: every SQL string the package hands to DuckDB or the warehouse is a constant, or an
f-string that interpolates only identifiers from our own catalog (table refs, column names and
types, schema names) or SQL we generated ourselves. Dynamic: values an attacker could control
(marketing fields, numbers) travel through the pipeline verbatim, not as SQL.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from ringback import catalog, models
from ringback.settings import load_settings

from helpers import runtime_of

pytestmark = pytest.mark.reliability

PACKAGE = Path(__file__).resolve().parents[2] / "plugins" / "ringback"
SQL_METHODS = {"execute", "sql", "query", "executemany", "_run", "_scalar"}
# What an f-string handed to SQL may interpolate: identifiers from the catalog and SQL text that
# the code built itself from those (never a value read from data, a setting or a user).
ALLOWED = re.compile(
    r"^(?:\w+\.ref|ref|layer|kind|cols|source|duck_sql|select|columns|keys|on|where|"
    r"field|c\.name|col|DUCKDB_TYPES\[c\.type\]|_literal\(.+\)|"
    r"self\._sql_ref\(table\.layer, table\.name\)|"
    # the upgrade to businesses (table names derived from the catalog's) and generated clauses
    r"table\.layer|table\.name|temp|backup|dataset|self\.project|\w+\.reference|"
    r"_column_ddl\(table\)|partition_scope\(table, partitions\)|scope|"
    r"', '\.join\((columns|values)\))$"
)


def sql_calls(tree: ast.AST):
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in SQL_METHODS
            and node.args
        ):
            yield node, node.args[0]


def test_sql_strings_interpolate_only_identifiers():
    checked, problems = 0, []
    for path in sorted(PACKAGE.rglob("*.py")):
        if "simulators" in path.parts:
            continue  # test servers, no SQL
        for call, arg in sql_calls(ast.parse(path.read_text())):
            checked += 1
            where = f"{path.relative_to(PACKAGE)}:{call.lineno}"
            if isinstance(arg, ast.BinOp) and isinstance(arg.op, ast.Mod | ast.Add):
                problems.append(f"{where}: SQL built with % or +")
            if isinstance(arg, ast.Call) and getattr(arg.func, "attr", "") == "format":
                problems.append(f"{where}: SQL built with str.format")
            if isinstance(arg, ast.JoinedStr):
                for part in arg.values:
                    if isinstance(part, ast.FormattedValue):
                        text = ast.unparse(part.value)
                        if not ALLOWED.match(text):
                            problems.append(f"{where}: interpolates {text!r}")
    assert checked > 20
    assert problems == []


def test_templates_shape_queries_only_with_structural_settings():
    """Jinja in sql/ sees only match_rounds; values are @parameters (and per-business settings
    come from staging.business_settings, joined in)."""
    settings = load_settings()
    assert set(models.template_context(settings)) == {"match_rounds"}
    structural = r"round( \+ 1)?|match_rounds"
    # A query may call a macro of sql/macros/ with column names (string literals, or a list of
    # them) and match_rounds, or with no argument; the macro prints only those and its round
    # counter (re-indented to fit).
    argument = r"""(?:"[\w.]+"|\[(?: ?'\w+',?)+ ?\]|match_rounds)"""
    macro_call = rf"\w+\((?:{argument}(?:, {argument})*)?\)(?: \| indent\(\d+\))?"
    queries = [t.query_path for t in catalog.tables().values() if t.kind == "model"]
    queries += sorted((catalog.project_root() / "sql/analyses").glob("*.sql"))
    for path in queries:
        text = path.read_text()
        printed = [" ".join(p.split()) for p in re.findall(r"{{\s*(.*?)\s*}}", text, re.S)]
        printed = [p.replace("( ", "(").replace(" )", ")") for p in printed]
        assert all(re.fullmatch(f"{structural}|{macro_call}", p) for p in printed), (
            path,
            printed,
        )
        assert "'{{" not in text and '"{{' not in text  # no value quoted into SQL
    macros = sorted((catalog.project_root() / "sql/macros").glob("*.sql"))
    assert macros
    for path in macros:
        text = path.read_text()
        printed = re.findall(r"{{\s*(.*?)\s*}}", text, re.S)
        # The matching macro's parameters; figures' `counts` prints the column names it is
        # given (string literals in the query) and the commas between them.
        allowed = r'round( \+ 1)?|rounds|left|right|gap|pairs|column|"," if not loop.last'
        assert all(re.fullmatch(allowed, p) for p in printed), (path.name, printed)
        assert "'{{" not in text and '"{{' not in text


def test_sql_looking_values_travel_verbatim(warehouse, settings):
    """A campaign named like an injection is stored and attributed as text."""
    from helpers import load_calls, staging_row, table_rows

    evil = "x'); DROP TABLE staging.calls; --"
    rows = [
        staging_row(
            {"key": "ringostat:a:1", "number": "+380671234567", "at": "2026-11-10T09:00:00Z",
             "talk": 60, "campaign": evil, "source": "google'--"},
            settings,
        ),
        staging_row(
            {"key": "binotel:a:1", "system": "telephony", "number": "+380671234567",
             "at": "2026-11-10T09:00:05Z", "talk": 60},
            settings,
        ),
    ]  # fmt: skip
    load_calls(warehouse, rows)
    models.run_models(
        warehouse, runtime_of(load_settings({"validate_marts": False})), *[rows[0]["call_date"]] * 2
    )
    leads = table_rows(warehouse, "marts.attributed_leads")
    assert [(r["campaign"], r["traffic_source"]) for r in leads] == [(evil, "google'--")]
    assert len(table_rows(warehouse, "staging.calls")) == 2
