"""The BigQuery backend's job configurations, without a server: tables, SQL, parameters, ids.

The same code runs against the emulator in tests/bigquery/test_bigquery_emulator.py
(make test-bigquery).
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import pytest
import sqlglot
from google.cloud import bigquery

from ringback import catalog, models
from ringback.settings import load_settings
from ringback.warehouse import bigquery as bqw
from ringback.warehouse.base import PartitionRange, WarehouseError

NAMES = {"raw": "r", "staging": "s", "marts": "m", "analytics": "a"}


def test_url_names_project_location_and_optional_endpoint():
    assert bqw.parse_url("bigquery://my-proj?location=EU") == ("my-proj", {"location": "EU"})
    assert bqw.parse_url("bigquery://p?location=US&endpoint=http://127.0.0.1:9050")[1] == {
        "location": "US",
        "endpoint": "http://127.0.0.1:9050",
    }
    with pytest.raises(WarehouseError, match="names no project"):
        bqw.parse_url("bigquery://?location=EU")
    with pytest.raises(WarehouseError, match="unknown options"):
        bqw.parse_url("bigquery://p?locaton=EU")


def test_table_resources_carry_partitioning_clustering_descriptions_and_labels():
    calls = bqw.table_resource("p", "s", catalog.table("staging.calls"))
    assert calls.reference.path == "/projects/p/datasets/s/tables/calls"
    assert calls.time_partitioning.type_ == bigquery.TimePartitioningType.DAY
    assert calls.time_partitioning.field == "call_date"
    assert calls.require_partition_filter is True
    assert calls.clustering_fields == list(catalog.table("staging.calls").clustering)
    assert calls.labels == {"layer": "staging", "contains_pii": "true"}
    assert all(f.description for f in calls.schema)
    for table in catalog.tables().values():
        resource = bqw.table_resource("p", NAMES[table.layer], table)
        assert resource.description == table.description
        assert [f.field_type for f in resource.schema] == [c.type for c in table.columns]
        if table.partition_field:
            assert resource.time_partitioning.field == table.partition_field


def test_layer_names_become_project_datasets_and_nothing_else_changes():
    sql = "SELECT m.a FROM marts.attributed_leads AS m JOIN staging.calls AS c ON c.x = m.a"
    out = bqw.qualify(sql, "p", NAMES)
    assert "`p`.`m`.`attributed_leads` AS m" in out or "p.m.attributed_leads AS m" in out
    tables = {
        f"{t.catalog}.{t.db}.{t.name}"
        for t in sqlglot.parse_one(out, read="bigquery").find_all(sqlglot.exp.Table)
    }
    assert tables == {"p.m.attributed_leads", "p.s.calls"}
    assert "m.a" in out and "c.x" in out  # column qualifiers are not layers


def test_every_model_and_view_qualified_for_bigquery_parses_and_lints(tmp_path):
    settings = load_settings()
    rendered = {t.ref: models.render(t, settings) for t in catalog.models_in_order()}
    rendered |= {v.ref: v.sql for v in catalog.views().values()}
    for ref, sql in rendered.items():
        qualified = bqw.qualify(sql, "my-project", bqw.datasets(settings))
        tree = sqlglot.parse_one(qualified, read="bigquery")
        for t in tree.find_all(sqlglot.exp.Table):
            if t.db:  # every warehouse table is fully qualified
                assert t.catalog == "my-project" and t.db.startswith("ringback_"), (ref, t.sql())
        (tmp_path / f"{ref}.sql").write_text(qualified + "\n")
    lint = subprocess.run(
        [sys.executable, "-m", "sqlfluff", "parse", str(tmp_path), "--dialect", "bigquery",
         "--templater", "raw", "--format", "none"],
        capture_output=True,
        text=True,
    )  # fmt: skip
    assert lint.returncode == 0, lint.stdout[-3000:] + lint.stderr[-3000:]


def test_parameters_are_typed_for_bigquery():
    params = bqw.query_parameters(
        {
            "start": dt.date(2026, 11, 1),
            "at": dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
            "n": 3,
            "ratio": 0.5,
            "flag": True,
            "name": "x",
            "numbers": ["+1", "+2"],
        }
    )
    kinds = {p.name: getattr(p, "type_", None) or p.array_type for p in params}
    assert kinds == {
        "start": "DATE",
        "at": "TIMESTAMP",
        "n": "INT64",
        "ratio": "FLOAT64",
        "flag": "BOOL",
        "name": "STRING",
        "numbers": "STRING",
    }


def test_job_ids_repeat_for_a_retry_of_one_task_and_differ_across_runs(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CTX_DAG_ID", "ringback_ingest_ringostat_main")
    monkeypatch.setenv("AIRFLOW_CTX_TASK_ID", "publish")
    monkeypatch.setenv("AIRFLOW_CTX_DAG_RUN_ID", "scheduled__2026-11-10T00:00:00+00:00")
    fp = bqw.fingerprint(b"rows", "p.s.calls", None, None)
    first = bqw.job_id("load", "staging.calls", fp)
    assert first == bqw.job_id("load", "staging.calls", fp)  # the retry finds its job
    assert len(first) < 1024 and first.replace("_", "").isalnum()
    monkeypatch.setenv("AIRFLOW_CTX_DAG_RUN_ID", "scheduled__2026-11-11T00:00:00+00:00")
    assert bqw.job_id("load", "staging.calls", fp) != first  # another run: another job
    assert bqw.job_id("load", "staging.calls", bqw.fingerprint(b"other", "p.s.calls")) != first
    assert bqw.job_labels() == {
        "app": "ringback",
        "dag": "ringback_ingest_ringostat_main",
        "task": "publish",
    }


def test_replacements_delete_exactly_what_they_replace():
    marts = catalog.table("marts.attributed_leads")
    days = PartitionRange(dt.date(2026, 11, 1), dt.date(2026, 11, 4))
    script, params = bqw.replace_statements(
        "`p.m.attributed_leads`", "`p.m.tmp`", marts, days, None
    )
    assert script.startswith("BEGIN TRANSACTION;") and script.endswith("COMMIT TRANSACTION;")
    assert (
        "DELETE FROM `p.m.attributed_leads` WHERE attributed_date BETWEEN @p_start AND @p_end"
        in script
    )
    assert params == {"p_start": dt.date(2026, 11, 1), "p_end": dt.date(2026, 11, 4)}
    with pytest.raises(WarehouseError, match="give the range"):
        bqw.replace_statements("t", "s", marts, None, None)
    # `models run --business`: only those businesses' rows of the dates.
    one = PartitionRange(dt.date(2026, 11, 1), dt.date(2026, 11, 4), ("kyiv_clinic",))
    script, params = bqw.replace_statements("`p.m.attributed_leads`", "`p.m.tmp`", marts, one, None)
    assert (
        "WHERE attributed_date BETWEEN @p_start AND @p_end "
        "AND business_id IN UNNEST(@p_businesses)" in script
    )
    assert params["p_businesses"] == ["kyiv_clinic"]
    settings_table = catalog.table("staging.business_settings")
    script, _ = bqw.replace_statements("`p.s.bs`", "`p.s.tmp`", settings_table, None, None)
    assert "DELETE FROM `p.s.bs` WHERE TRUE;" in script

    calls = catalog.table("staging.calls")
    dates = (dt.date(2026, 11, 8), dt.date(2026, 11, 10))
    script, params = bqw.replace_statements("`p.s.calls`", "`p.s.tmp`", calls, None, None, dates)
    # By key, within the batch's dates: staging.calls requires a partition filter.
    assert (
        "DELETE FROM `p.s.calls` AS existing WHERE EXISTS (SELECT 1 FROM `p.s.tmp` AS incoming "
        "WHERE incoming.business_id = existing.business_id "
        "AND incoming.call_key = existing.call_key)" in script
    )
    assert "call_date BETWEEN DATE_SUB(@k_start, INTERVAL 1 DAY)" in script
    for statement in sqlglot.parse(script, read="bigquery"):
        assert statement is not None

    loads = catalog.table("raw.loads")
    script, _ = bqw.replace_statements("`p.r.loads`", "`p.r.tmp`", loads, None, None)
    assert "DELETE" not in script and "INSERT INTO `p.r.loads`" in script


def test_the_url_selects_bigquery_with_a_cost_cap(monkeypatch):
    from helpers import connect

    settings = load_settings({"bigquery_maximum_bytes_billed": 123})
    wh = connect("bigquery://my-proj?location=EU&endpoint=http://127.0.0.1:9", settings=settings)
    assert type(wh).__name__ == "BigQueryWarehouse" and wh.location == "EU"
    config = wh._job_config({"d": dt.date(2026, 11, 1)})
    assert config.maximum_bytes_billed == 123 and config.labels == {"app": "ringback"}
    assert [p.name for p in config.query_parameters] == ["d"]
    wh.close()


def _service_account_key(path, email: str) -> None:
    import json

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    path.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": "my-proj",
                "private_key_id": "1",
                "private_key": pem,
                "client_email": email,
                "client_id": "1",
                "token_uri": "https://oauth2.googleapis.com/token",
            }
        )
    )


def test_credentials_from_settings_then_connection_then_adc(tmp_path, monkeypatch):
    from helpers import connect

    url = "bigquery://my-proj?location=EU"
    settings_key, conn_key = tmp_path / "settings.json", tmp_path / "conn.json"
    _service_account_key(settings_key, "from-settings@my-proj.iam.gserviceaccount.com")
    _service_account_key(conn_key, "from-connection@my-proj.iam.gserviceaccount.com")
    monkeypatch.setenv(
        "AIRFLOW_CONN_RINGBACK_BIGQUERY", f"google-cloud-platform://?key_path={conn_key}"
    )
    with connect(url, settings=load_settings({"bigquery_key_path": str(settings_key)})) as wh:
        assert wh.client._credentials.service_account_email.startswith("from-settings@")
    with connect(url, settings=load_settings()) as wh:
        assert wh.client._credentials.service_account_email.startswith("from-connection@")
    # Neither: Application Default Credentials, here a key named by the standard variable.
    monkeypatch.delenv("AIRFLOW_CONN_RINGBACK_BIGQUERY")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(settings_key))
    # (Outside Airflow the connection lookup would ask Airflow's metadata DB: not what's tested.)
    monkeypatch.setattr(bqw.BigQueryWarehouse, "_key_from_connection", lambda self: "")
    with connect(url, settings=load_settings()) as wh:
        assert wh.client._credentials.service_account_email.startswith("from-settings@")


def test_row_access_policies_follow_the_viewers_in_the_sources_file(tmp_path):
    from ringback.settings import Business

    kyiv = Business("kyiv_clinic", "Kyiv", "Europe/Kyiv", viewers=("group:kyiv@agency.com",))
    austin = Business("austin_plumbing", "Austin", "America/New_York", viewers=())
    ref = "p.ringback_marts.attributed_leads"
    sqls = bqw.row_access_statements(
        ref,
        [kyiv, austin],
        ("serviceAccount:ringback@p.iam.gserviceaccount.com",),
        existing=["rb_austin_plumbing", "rb_all", "someone_elses"],
    )
    assert sqls == [
        "CREATE OR REPLACE ROW ACCESS POLICY rb_kyiv_clinic ON `p.ringback_marts.attributed_leads` "
        "GRANT TO ('group:kyiv@agency.com') FILTER USING (business_id = 'kyiv_clinic')",
        "CREATE OR REPLACE ROW ACCESS POLICY rb_all ON `p.ringback_marts.attributed_leads` "
        "GRANT TO ('serviceAccount:ringback@p.iam.gserviceaccount.com') FILTER USING (TRUE)",
        # Austin's viewer was removed from the file: its policy goes (and with it the access).
        "DROP ROW ACCESS POLICY IF EXISTS rb_austin_plumbing "
        "ON `p.ringback_marts.attributed_leads`",
    ]
    # sqlfluff's BigQuery grammar knows these statements: it parses them without unparsable parts.
    (tmp_path / "policies.sql").write_text(";\n".join(sqls) + ";\n")
    parsed = subprocess.run(
        [sys.executable, "-m", "sqlfluff", "parse", str(tmp_path / "policies.sql"), "--dialect",
         "bigquery", "--templater", "raw"],
        capture_output=True,
        text=True,
    )  # fmt: skip
    assert parsed.returncode == 0 and "unparsable" not in parsed.stdout, parsed.stdout[-2000:]
    assert parsed.stdout.count("create_row_access_policy_statement") == 2
    assert parsed.stdout.count("drop_row_access_policy_statement") == 1
    # No viewers anywhere: no policy, and ours are dropped (tables open to dataset readers again).
    assert bqw.row_access_statements(ref, [austin], (), ["rb_all"]) == [
        "DROP ROW ACCESS POLICY IF EXISTS rb_all ON `p.ringback_marts.attributed_leads`"
    ]


@pytest.mark.parametrize("name", ["attributed_leads", "missed_calls", "call_reconciliation"])
def test_mart_audits_read_the_rows_held_aside_in_bigquery(name):
    """The audit query names the temp table the backend passes (`project.dataset.table`) and
    staging.business_settings, which qualify() turns into the run's dataset; it parses."""
    from ringback import audits

    table = catalog.table(f"marts.{name}")
    temp = "`acme-proj.client_marts.ringback_tmp_abc`"
    sql, values, _ = audits.audit_query(table, temp, {"recovery_window_seconds": 86400})
    names = bqw.datasets(load_settings({"bigquery_staging_dataset": "client_staging"}))
    qualified = bqw.qualify(sql, "acme-proj", names)
    sqlglot.parse_one(qualified, read="bigquery")
    assert "`acme-proj`.`client_marts`.`ringback_tmp_abc`" in qualified or temp in qualified
    assert "acme-proj.client_staging.business_settings" in qualified.replace("`", "")
    assert "staging.business_settings" not in qualified.replace("client_staging", "")
    assert all(isinstance(v, list | int | float | str | bool) for v in values.values())
