# ringback on the official Airflow image, with the project's locked dependencies.
FROM apache/airflow:3.3.2-python3.11

# Install exactly what uv.lock pins (without dev tools and without the project itself: the
# ringback package is mounted or copied under /opt/airflow/plugins, which is on PYTHONPATH).
COPY --chown=airflow:root pyproject.toml uv.lock README.md /opt/ringback/
RUN pip install --no-cache-dir "uv==0.13.9" \
    && cd /opt/ringback \
    && uv export --frozen --no-dev --no-emit-project --no-hashes -o /tmp/requirements.txt \
    && pip install --no-cache-dir -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY --chown=airflow:root dags /opt/airflow/dags
COPY --chown=airflow:root plugins /opt/airflow/plugins
COPY --chown=airflow:root sql /opt/airflow/sql
COPY --chown=airflow:root expectations /opt/airflow/expectations
COPY --chown=airflow:root config /opt/airflow/config

ENV RINGBACK_HOME=/opt/airflow \
    PYTHONPATH=/opt/airflow/plugins \
    GX_ANALYTICS_ENABLED=false
