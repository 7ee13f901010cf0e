"""Airflow: recovered leads to GA4 and a Google Ads file, scheduled on the marts Asset.

Thin by design: the DAG is built in ringback.dag_factory; see its doc_md in the UI. Both
destinations are off until enabled in the settings.
"""

from ringback.dag_factory import export_dag

ringback_export_leads = export_dag()
