"""Airflow: one ingestion DAG per source in the sources file (config/ or RINGBACK_CONFIG).

Thin by design: the DAGs are built in ringback.dag_factory; see their doc_md in the UI.
"""

from ringback.dag_factory import ingest_dags

globals().update(ingest_dags())
