"""A small pure-Python reading of the rules (docs/rules.md), written independently of the SQL.

Slow (quadratic) and obvious on purpose: tests compare the SQL models run on DuckDB with it.
Input rows use the staging.calls columns; output mirrors the marts' key columns.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from typing import Any


def customer_hash(salt: str, number: str | None) -> str | None:
    return None if number is None else hashlib.sha256(f"{salt}{number}".encode()).hexdigest()


def unify(calls: list[dict], tolerance: int) -> list[dict]:
    """Match call-tracking and telephony records one-to-one, nearest start first."""
    calls = [{**c, "started_at": c["started_at"].replace(microsecond=0)} for c in calls]
    ct = [c for c in calls if c["system"] == "calltracking"]
    tel = [c for c in calls if c["system"] == "telephony"]
    pairs = []
    for a in ct:
        for b in tel:
            if (
                a["customer_number"] is not None
                and a["customer_number"] == b["customer_number"]
                and a["direction"] == b["direction"]
            ):
                gap = abs((a["started_at"] - b["started_at"]).total_seconds())
                if gap <= tolerance:
                    pairs.append((gap, a["call_key"], b["call_key"]))
    used_ct: dict[str, str] = {}
    used_tel: set[str] = set()
    for _gap, a_key, b_key in sorted(pairs):
        if a_key not in used_ct and b_key not in used_tel:
            used_ct[a_key] = b_key
            used_tel.add(b_key)
    by_key = {c["call_key"]: c for c in calls}
    unified = []
    for a in ct:
        b = by_key.get(used_ct.get(a["call_key"], ""))
        unified.append(
            {
                **a,
                "key": a["call_key"],
                "ct_key": a["call_key"],
                "tel_key": b["call_key"] if b else None,
                "match": "matched" if b else "calltracking_only",
                "tel_company": b["company_number"] if b else None,
                # The PBX's ringing time when it has one.
                "wait_seconds": (
                    b["wait_seconds"]
                    if b and b.get("wait_seconds") is not None
                    else a.get("wait_seconds")
                ),
            }
        )
    for b in tel:
        if b["call_key"] not in used_tel:
            unified.append(
                {
                    **b,
                    "key": b["call_key"],
                    "ct_key": None,
                    "tel_key": b["call_key"],
                    "match": "telephony_only",
                    "tel_company": b["company_number"],
                }
            )
    return unified


def evaluate_businesses(calls: list[dict], settings_of: Any) -> dict[str, Any]:
    """``evaluate`` for each business on its own calls with its own settings
    (``settings_of(business_id)``); results keyed by (business_id, key or date)."""
    out: dict[str, Any] = {
        "leads": {},
        "missed": {},
        "reconciliation": {},
        "unmatched": {},
        "followups": {},
    }
    for business in sorted({c["business_id"] for c in calls}):
        mine = [c for c in calls if c["business_id"] == business]
        result = evaluate(mine, settings_of(business))
        for part, rows in result.items():
            out[part].update({(business, k): v for k, v in rows.items()})
    return out


def evaluate(calls: list[dict], s: Any) -> dict[str, Any]:
    """Leads, missed-call outcomes, reconciliation and unmatched calls for all of ``calls``
    (one business)."""
    tz = s.tz
    window = dt.timedelta(seconds=round(s.recovery_window_hours * 3600))
    unified = unify(calls, s.match_tolerance_seconds)
    data_end = max(c["started_at"] for c in calls)

    def conversation(u: dict) -> bool:
        return u["status"] == "answered" and u["talk_seconds"] > s.talk_threshold_seconds

    def missed(u: dict) -> bool:
        return u["status"] != "answered" or u["talk_seconds"] == 0

    def order(u: dict) -> tuple:
        return (u["started_at"], u["key"])

    def abandoned_short(u: dict) -> bool:
        wait = u.get("wait_seconds")
        return (
            u["status"] in ("missed", "answered")
            and u["talk_seconds"] == 0
            and wait is not None
            and wait < s.short_abandon_seconds
        )

    inbound = [u for u in unified if u["direction"] == "inbound" and u["customer_number"]]
    leads, missed_rows, followups = {}, {}, {}
    for u in inbound:
        earlier = [
            v
            for v in inbound
            if v["customer_number"] == u["customer_number"] and order(v) < order(u)
        ]
        if s.uniqueness_window_days is not None:
            limit = dt.timedelta(days=s.uniqueness_window_days)
            earlier = [v for v in earlier if u["started_at"] - v["started_at"] <= limit]
        if earlier:
            continue
        if conversation(u):
            leads[u["key"]] = {
                "lead_call_key": u["key"],
                "attribution_type": "primary_call",
                "recovery_seconds": 0,
                "source": u["traffic_source"],
            }
            continue
        if not missed(u):
            continue
        later = sorted(
            (
                v
                for v in unified
                if v["customer_number"] == u["customer_number"]
                and u["started_at"] < v["started_at"] <= u["started_at"] + window
                and conversation(v)
            ),
            key=order,
        )
        outcome, by, seconds = "not_recovered", None, None
        if later:
            v = later[0]
            by = v["key"]
            seconds = int((v["started_at"] - u["started_at"]).total_seconds())
            kind = "retry" if v["direction"] == "inbound" else "callback"
            outcome = f"recovered_{kind}"
            leads[u["key"]] = {
                "lead_call_key": by,
                "attribution_type": f"missed_call_{kind}",
                "recovery_seconds": seconds,
                "source": u["traffic_source"],
            }
        elif u["started_at"] + window > data_end:
            outcome = "pending"
        if abandoned_short(u):
            outcome = "abandoned_short"  # the lead above stands: the customer did get through
        missed_rows[u["key"]] = {
            "outcome": outcome,
            "recovered_by_call_key": by,
            "recovery_seconds": seconds,
        }
        followups[u["key"]] = follow_up(u, unified, later[0] if later else None, window, s)
        followups[u["key"]]["outcome"] = outcome
        if outcome == "abandoned_short":
            followups[u["key"]]["sla_status"] = "abandoned_short"

    tracked = {u["tel_company"] for u in unified if u["match"] == "matched"} | set(
        s.tracked_numbers
    )
    reconciliation: dict[dt.date, dict[str, Any]] = defaultdict(lambda: defaultdict(int))
    unmatched = {}
    for u in unified:
        if u["direction"] != "inbound":
            continue
        day = u["started_at"].astimezone(tz).date()
        r = reconciliation[day]
        r["matched_calls"] += 0  # present on every day with inbound calls
        r["calltracking_calls"] += u["ct_key"] is not None
        r["telephony_calls"] += u["tel_key"] is not None
        if u["match"] == "matched":
            r["matched_calls"] += 1
            continue
        if u["match"] == "calltracking_only":
            reason, column = "missing_in_telephony", "only_in_calltracking"
        elif u["tel_company"] in tracked:
            reason, column = "missing_in_calltracking", "only_in_telephony_tracked"
        else:
            reason, column = "untracked_number", "only_in_telephony_untracked"
        r[column] += 1
        unmatched[u["key"]] = reason
    for r in reconciliation.values():
        parts = {
            k: r[k]
            for k in (
                "only_in_telephony_untracked",
                "only_in_telephony_tracked",
                "only_in_calltracking",
            )
        }
        total = sum(parts.values())
        r["unmatched_calls"] = total
        r["unmatched_ratio"] = total / (r["matched_calls"] + total)
        r["is_mismatch"] = (
            total >= s.mismatch_min_unmatched and r["unmatched_ratio"] >= s.mismatch_min_ratio
        )
        reasons = ["untracked_number", "missing_in_calltracking", "missing_in_telephony"]
        best = max(range(3), key=lambda i: (list(parts.values())[i], -i))
        r["mismatch_reason"] = reasons[best] if r["is_mismatch"] else None
    return {
        "leads": leads,
        "missed": missed_rows,
        "reconciliation": {d: dict(v) for d, v in reconciliation.items()},
        "unmatched": unmatched,
        "followups": followups,
    }


def opening(s: Any, around: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]] | None:
    """The business's open intervals near ``around``; None when it is always open."""
    if not (s.business_hours or s.holidays):
        return None
    from ringback.business_hours import open_intervals

    day = around.astimezone(s.tz).date()
    return open_intervals(
        s.business_hours,
        s.holidays,
        s.reporting_time_zone,
        day - dt.timedelta(days=2),
        day + dt.timedelta(days=40),
    )


def open_seconds(intervals, start: dt.datetime, end: dt.datetime) -> int:
    return int(sum(max((min(b, end) - max(a, start)).total_seconds(), 0) for a, b in intervals))


def deadline(intervals, start: dt.datetime, sla: int) -> dt.datetime | None:
    """The instant the open time since ``start`` reaches ``sla`` seconds."""
    left = sla
    for a, b in intervals:
        if b <= start:
            continue
        a = max(a, start)
        if (b - a).total_seconds() >= left:
            return a + dt.timedelta(seconds=left)
        left -= (b - a).total_seconds()
    return None


def follow_up(u: dict, unified: list[dict], recovery: dict | None, window, s: Any) -> dict:
    """The callback follow-up of missed primary call ``u`` (marts.missed_call_followups)."""
    start, end = u["started_at"], u["started_at"] + window
    data_end = max(v["started_at"] for v in unified)
    later = sorted(
        (
            v
            for v in unified
            if v["customer_number"] == u["customer_number"] and start < v["started_at"] <= end
        ),
        key=lambda v: (v["started_at"], v["key"]),
    )
    outbound = [v for v in later if v["direction"] == "outbound"]
    first = outbound[0] if outbound else None
    stop = recovery["started_at"] if recovery else end
    inbound = [v["started_at"] for v in later if v["direction"] == "inbound"]
    intervals = opening(s, start)
    sla = s.callback_sla_minutes * 60
    due = (
        start + dt.timedelta(seconds=sla) if intervals is None else deadline(intervals, start, sla)
    )
    clock = None if first is None else int((first["started_at"] - start).total_seconds())
    business = clock
    if first is not None and intervals is not None:
        business = open_seconds(intervals, start, first["started_at"])
    if (
        recovery is not None
        and recovery["direction"] == "inbound"
        and (first is None or recovery["started_at"] < first["started_at"])
        and (due is None or recovery["started_at"] <= due)
    ):
        status = "not_needed"
    elif business is not None and business <= sla:
        status = "met"
    elif first is None and (due is None or due > data_end):
        status = "pending"
    else:
        status = "missed"
    return {
        "first_attempt_call_key": first["key"] if first else None,
        "first_attempt_seconds": clock,
        "first_attempt_business_seconds": business,
        "attempts": sum(1 for v in outbound if v["started_at"] <= stop),
        "customer_called_first": bool(inbound)
        and (first is None or inbound[0] < first["started_at"]),
        "sla_deadline_at": due,
        "sla_status": status,
    }
