"""Airflow: the modelling DAG, scheduled on the staging Assets of every source.

Thin by design: the DAG is built in ringback.dag_factory; see its doc_md in the UI.
"""

from ringback.dag_factory import marts_dag
from ringback.settings import load_sources

ringback_build_marts = marts_dag(load_sources())
