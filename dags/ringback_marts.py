"""Airflow: the modelling DAG, one task per model, scheduled on every source's staging Asset.

Thin by design: the DAG is built in ringback.dag_factory; see its doc_md in the UI.
"""

from ringback.dag_factory import configured_sources, marts_dag

ringback_build_marts = marts_dag(configured_sources())
