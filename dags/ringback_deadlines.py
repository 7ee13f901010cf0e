"""Airflow: one deadline DAG per business, at its marts_deadline_hour.

Thin by design: the DAGs are built in ringback.dag_factory; see their doc_md in the UI.
"""

from ringback.dag_factory import deadline_dags

globals().update(deadline_dags())
