# ringback on the official Airflow image: the locked dependencies, then ringback as a wheel.
# The wheel holds the pipeline only (no simulators, demo or benchmark: those are tools/, the
# ringback-dev package). The project files it reads (dags, sql, expectations, config) live
# under RINGBACK_HOME.

# -- build the ringback wheel ------------------------------------------------------------------
FROM apache/airflow:3.3.2-python3.11 AS wheel
COPY --chown=airflow:root pyproject.toml uv.lock README.md /opt/ringback/
COPY --chown=airflow:root tools/pyproject.toml /opt/ringback/tools/pyproject.toml
COPY --chown=airflow:root plugins/ringback /opt/ringback/plugins/ringback
RUN pip install --no-cache-dir "uv==0.13.9" \
    && cd /opt/ringback \
    && uv build --wheel --package ringback --out-dir /opt/ringback/dist

# -- the image ---------------------------------------------------------------------------------
FROM apache/airflow:3.3.2-python3.11

# Exactly what uv.lock pins for production (no dev group, no workspace members), then the wheel
# without dependencies: one packaging story, no source folder on the import path.
COPY --chown=airflow:root pyproject.toml uv.lock README.md /opt/ringback/
COPY --chown=airflow:root tools/pyproject.toml /opt/ringback/tools/pyproject.toml
COPY --from=wheel /opt/ringback/dist/ /opt/ringback/dist/
RUN pip install --no-cache-dir "uv==0.13.9" \
    && cd /opt/ringback \
    && uv export --frozen --no-dev --no-emit-workspace --no-hashes -o /tmp/requirements.txt \
    && pip install --no-cache-dir -r /tmp/requirements.txt \
    && pip install --no-cache-dir --no-deps /opt/ringback/dist/ringback-*.whl \
    && rm /tmp/requirements.txt

COPY --chown=airflow:root dags /opt/airflow/dags
COPY --chown=airflow:root sql /opt/airflow/sql
COPY --chown=airflow:root expectations /opt/airflow/expectations
COPY --chown=airflow:root config /opt/airflow/config

ENV RINGBACK_HOME=/opt/airflow \
    GX_ANALYTICS_ENABLED=false
