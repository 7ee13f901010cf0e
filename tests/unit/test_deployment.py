"""Static checks of what cannot run here (no Docker engine): compose file, Dockerfile, env file,
plus the lint gates and the project's two-command promise."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
AIRFLOW_SERVICES = [
    "airflow-init",
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
]
MOUNTS = ["dags", "sql", "expectations", "config"]


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yaml").read_text())


def test_compose_has_the_trimmed_official_layout():
    services = compose()["services"]
    assert set(services) == {"postgres", *AIRFLOW_SERVICES}
    assert services["postgres"]["image"].startswith("postgres:")
    commands = {name: services[name].get("command") for name in AIRFLOW_SERVICES[1:]}
    assert commands == {
        "airflow-apiserver": "api-server",
        "airflow-scheduler": "scheduler",
        "airflow-dag-processor": "dag-processor",
        "airflow-triggerer": "triggerer",
    }


def test_compose_airflow_services_share_image_env_and_mounts():
    services = compose()["services"]
    for name in AIRFLOW_SERVICES:
        svc = services[name]
        assert svc["build"] == "." and svc["image"] == "ringback-airflow:latest", name
        env = svc["environment"]
        assert env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor", name
        assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql"), name
        assert env["RINGBACK_HOME"] == "/opt/airflow", name
        assert "RINGBACK_HASH_SALT" in env, name
        targets = {v.split(":")[1] for v in svc["volumes"]}
        assert {f"/opt/airflow/{m}" for m in MOUNTS} <= targets, name
        for mount in MOUNTS:
            assert (ROOT / mount).is_dir(), mount


def test_compose_health_checks_and_start_order():
    services = compose()["services"]
    for name in ["postgres", *AIRFLOW_SERVICES[1:]]:
        assert services[name]["healthcheck"]["test"], name
    for name in AIRFLOW_SERVICES[1:]:
        deps = services[name]["depends_on"]
        assert deps["postgres"]["condition"] == "service_healthy"
        assert deps["airflow-init"]["condition"] == "service_completed_successfully"
    init = "\n".join(services["airflow-init"]["command"])
    assert "airflow db migrate" in init and "ringback_warehouse" in init


def test_compose_secrets_come_from_env_not_the_file():
    text = (ROOT / "docker-compose.yaml").read_text()
    assert "RINGBACK_HASH_SALT: ${RINGBACK_HASH_SALT:?" in text
    env_keys = {
        line.split("=", 1)[0]
        for line in (ROOT / ".env.example").read_text().splitlines()
        if "=" in line and not line.startswith("#")
    }
    assert {
        "AIRFLOW_UID",
        "RINGBACK_HASH_SALT",
        "GCP_PROJECT",
        "BIGQUERY_LOCATION",
        "GCP_KEY_PATH",
    } <= env_keys
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line.startswith("RINGBACK_HASH_SALT="):
            assert line == "RINGBACK_HASH_SALT="  # no secret ships with the repo


def test_dockerfile_installs_the_locked_dependencies_and_the_wheel():
    text = (ROOT / "Dockerfile").read_text()
    lock = (ROOT / "uv.lock").read_text()
    airflow = re.search(r'name = "apache-airflow"\nversion = "([^"]+)"', lock).group(1)
    assert f"FROM apache/airflow:{airflow}-python3.11" in text
    assert "uv export --frozen --no-dev --no-emit-workspace" in text
    assert "uv build --wheel --package ringback" in text
    assert "pip install --no-cache-dir --no-deps /opt/ringback/dist/ringback-*.whl" in text
    assert "PYTHONPATH" not in text and "COPY --chown=airflow:root plugins " not in text
    assert "tools/ringback_dev" not in text
    for mount in MOUNTS:
        assert f"COPY --chown=airflow:root {mount} /opt/airflow/{mount}" in text


def test_the_wheel_holds_the_pipeline_and_no_development_tooling(tmp_path):
    """The wheel the image installs: every production module, no simulator, bench or demo."""
    import zipfile

    from hatchling.builders.wheel import WheelBuilder

    (wheel,) = WheelBuilder(str(ROOT)).build(directory=str(tmp_path), versions=["standard"])
    names = zipfile.ZipFile(wheel).namelist()
    modules = {n for n in names if n.endswith(".py")}
    shipped = {
        f"ringback/{p.relative_to(ROOT / 'plugins/ringback').as_posix()}"
        for p in (ROOT / "plugins/ringback").rglob("*.py")
    }
    assert modules == shipped
    assert "ringback/templates/report.html.j2" in names
    dev = ("simulator", "bench", "demo", "local_runs", "browser", "ringback_dev")
    assert not [n for n in names if any(word in n for word in dev)]
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "ringback = ringback.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_production_code_never_imports_the_development_tooling():
    for path in (ROOT / "plugins/ringback").rglob("*.py"):
        assert "ringback_dev" not in path.read_text(), path


def test_env_file_is_ignored():
    ignored = subprocess.run(["git", "check-ignore", "-q", ".env"], cwd=ROOT)
    assert ignored.returncode == 0


def test_makefile_and_ci_keep_the_two_commands():
    makefile = (ROOT / "Makefile").read_text()
    for target in ("demo:", "test:", "airflow-ui:", "setup:"):
        assert re.search(rf"^{target}", makefile, re.M), target
    assert "uv sync --frozen" in makefile and "pip install" in makefile
    ci = (ROOT / ".ci/run").read_text()
    assert "make test" in ci and "make lint" in ci  # lint runs there, not inside pytest
