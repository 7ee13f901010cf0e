"""Announcing reconciliation incidents: the first time a marts run finds one open, one message
to the Slack alert connection (else the task log), recorded in ``raw.incident_alerts`` so that
reruns and later runs do not repeat it.

The rule that opens and closes an incident is SQL (``marts.reconciliation_incidents``,
docs/rules.md "Incidents"); what an incident is for BI is ``analytics.reconciliation_incidents``.
This module only reads that view.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from ringback import alerts, analyses, catalog

# What a cause usually means, for the person who reads the alert.
CAUSE_MEANINGS = {
    "untracked_number": (
        "calls reach a line without tracking: the substitution script missing on a page, or "
        "a static number printed where a tracking number should be"
    ),
    "missing_in_calltracking": (
        "calls to tracked lines that call tracking did not log: a number gone from the "
        "vendor's account, or its forwarding bypassing the vendor"
    ),
    "spam_filtered": (
        "calls the call-tracking vendor hid as spam: a robocall wave, or a filter set too strictly"
    ),
    "missing_in_telephony": (
        "tracked calls that never reached the phone system: a forwarding line failing, or a "
        "tracking number forwarding outside the PBX"
    ),
    "sessionless_call": (
        "calls to tracking numbers with no visitor session: a pool too small for the traffic "
        "(visitors shown the pool's default number), or a pool number printed as a static one"
    ),
}


def message(incident: dict[str, Any], names: dict[str, str]) -> str:
    """One incident as people read it: where, what, since when, how far from normal."""
    bid = incident["business_id"]
    name = names.get(bid, bid)
    line = f", mostly on {incident['incident_line']}" if incident.get("incident_line") else ""
    baseline = incident.get("baseline_median")
    normal = f" (normally {baseline:.1%})" if baseline is not None else ""
    return (
        f"ringback: incident at {name} ({bid}) since {incident['started_date']}: "
        f"{incident['cause']} up to {incident['peak_share']:.1%} of inbound calls{normal}{line}. "
        f"Usually {CAUSE_MEANINGS.get(incident['cause'], 'a change in how calls are recorded')}."
    )


def announce(
    connect: Callable[..., Any], names: dict[str, str], now: dt.datetime | None = None
) -> list[str]:
    """Announce every open incident not announced yet, in one message; return its lines.
    ``connect(read_only=...)`` opens the warehouse (``Runtime.connect``): a short read, then
    the Slack request with no warehouse connection held (a DuckDB writer would wait on it),
    then a short write of the ledger."""
    with connect(read_only=True) as wh:
        pending = analyses.rows(wh, "incidents_to_announce", {})
    if not pending:
        return []
    texts = [message(incident, names) for incident in pending]
    # A warning in the log: the marts run that found the incident succeeded.
    channel = "slack" if alerts.post("\n".join(texts), logging.WARNING) else "log"
    now = now or dt.datetime.now(dt.UTC)
    ledger = [
        {
            "business_id": incident["business_id"],
            "cause": incident["cause"],
            "started_date": incident["started_date"],
            "incident_line": incident["incident_line"],
            "announced_at": now,
            "channel": channel,
        }
        for incident in pending
    ]
    table = catalog.table("raw.incident_alerts")
    with connect() as wh:
        wh.write(table, table.to_arrow(ledger))
    return texts
