"""Alerts: failures and new incidents, to Slack when a webhook connection exists, else the task
log.

The webhook is the Airflow connection ``ringback_slack`` (or ``AIRFLOW_CONN_RINGBACK_SLACK``)
whose URI is the incoming-webhook URL, e.g. ``https://hooks.slack.com/services/T0/B0/XXXX``.
The message says what failed, for which day, the first line of the error (which names row
counts for validation failures) and where the Data Docs are. It never contains a connection.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)

SLACK_CONN_ID = "ringback_slack"


def failure_summary(context: dict[str, Any]) -> str:
    """One paragraph for people: what, when, why, where to look."""
    ti = context.get("task_instance") or context.get("ti")
    dag_id = getattr(ti, "dag_id", None) or getattr(context.get("dag"), "dag_id", "?")
    task_id = getattr(ti, "task_id", "?")
    params = context.get("params") or {}
    day = (
        params.get("run_date")
        or params.get("start")
        or context.get("ds")
        or (context.get("logical_date") and context["logical_date"].date().isoformat())
        or "?"
    )
    error = str(context.get("exception") or "unknown error").strip().splitlines()[0][:500]
    try_number = getattr(ti, "try_number", "?")
    from ringback.quality import data_docs_index

    return (
        f"ringback: {dag_id}.{task_id} failed for {day} (try {try_number}): {error}\n"
        f"Data Docs: {data_docs_index()}"
    )


def post(message: str, level: int = logging.ERROR) -> bool:
    """Send a message to the Slack webhook; True when Slack took it. Without a connection, or
    when Slack refuses it, the message goes to the task log at ``level`` (a failure is an
    error; news from a task that succeeded, a warning). Never raises."""
    try:
        from ringback.sources.connection import get_connection

        webhook = get_connection(SLACK_CONN_ID)
    except Exception:
        log.log(level, "%s", message)  # no Slack connection: the task log is the alert
        return False
    try:
        import httpx

        resp = httpx.post(webhook.base_url, json={"text": message}, timeout=10)
        resp.raise_for_status()
    except Exception as exc:
        log.log(level, "%s\n(Slack webhook failed: %s)", message, type(exc).__name__)
        return False
    log.info("alert sent to Slack")
    return True


def notify_failure(context: dict[str, Any]) -> bool:
    """Send the summary; True when Slack took it. Never raises: an alert must not mask the error."""
    return post(failure_summary(context))


def on_failure(context: dict[str, Any]) -> None:
    """Airflow ``on_failure_callback``."""
    notify_failure(context)
