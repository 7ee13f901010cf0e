"""Synthetic staging.calls at benchmark scale (millions of calls), vectorised with NumPy.

The same journey mix as the simulators' generator (answered first calls, misses recovered by a
retry or a callback, late retries, short calls, untracked lines, hidden numbers, returning
customers, unanswered callback attempts, five employees), drawn in bulk and written straight to
Arrow in the staging contract. A "call" is a real call; each is recorded by call tracking,
telephony or both, so rows ~= 1.8 x calls.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ringback import catalog
from ringback_dev.simulators.journeys import JOURNEY_WEIGHTS, TRACKING_NUMBERS

KINDS = list(JOURNEY_WEIGHTS)
UNTRACKED = "+380442000000"
MAIN = "+380441000000"
REPEAT_SHARE = 0.2  # of all calls: returning customers
STATUS_NAMES = np.array(["answered", "missed", "busy", "voicemail", "failed"])


BUSINESS_ID = "default"  # the bench sources file gives it opening hours (bench._bench_sources)


def generate(
    n_calls: int, first_day: dt.date, days: int, seed: int = 1, time_zone: str = "Europe/Kyiv"
) -> pa.Table:
    """About ``n_calls`` real calls over ``days`` local days, as staging.calls rows."""
    rng = np.random.default_rng(seed)
    tz = zoneinfo.ZoneInfo(time_zone)
    # Journeys produce ~1.3 calls each; returning customers add REPEAT_SHARE of the calls.
    n_journeys = max(1, int(n_calls * (1 - REPEAT_SHARE) / 1.3))
    weights = np.array(list(JOURNEY_WEIGHTS.values()), dtype=float)
    kind = rng.choice(len(KINDS), n_journeys, p=weights / weights.sum())
    day = rng.integers(0, days, n_journeys)
    second = rng.integers(8 * 3600, 21 * 3600, n_journeys)
    epoch0 = dt.datetime.combine(first_day, dt.time(), tzinfo=tz).timestamp()
    t0 = (epoch0 + day * 86400 + second).astype(np.int64)  # DST drift of an hour is irrelevant
    customer = np.arange(n_journeys, dtype=np.int64)
    tracking = np.array(sorted(TRACKING_NUMBERS))  # sorted: searched with np.searchsorted
    line = tracking[rng.integers(0, len(tracking), n_journeys)]
    k = {name: kind == i for i, name in enumerate(KINDS)}

    calls = []  # (customer, t, company, status, talk, tracked, direction)

    def add(mask, t, company, status, talk, tracked, direction="inbound", who=None):
        idx = np.nonzero(mask)[0]
        if idx.size == 0:
            return

        def pick(value):  # per-journey arrays are indexed, scalars broadcast
            return value[idx] if isinstance(value, np.ndarray) else np.full(idx.size, value)

        calls.append(
            (
                pick(customer if who is None else who),
                pick(t),
                pick(company),
                pick(status),
                pick(talk),
                pick(tracked),
                pick(direction),
            )
        )

    first_missed = ~(
        k["answered_first"] | k["short_first"] | k["untracked_first"] | k["hidden_number"]
    )
    missed_status = rng.choice([1, 1, 1, 2, 3], n_journeys)
    add(k["answered_first"], t0, line, 0, rng.integers(45, 600, n_journeys), True)
    add(k["short_first"], t0, line, 0, rng.integers(3, 31, n_journeys), True)
    add(k["untracked_first"], t0, UNTRACKED, 0, rng.integers(45, 400, n_journeys), False)
    add(
        k["hidden_number"],
        t0,
        line,
        0,
        rng.integers(45, 400, n_journeys),
        True,
        who=np.full(n_journeys, -1),
    )
    add(first_missed, t0, line, missed_status, 0, True)
    add(
        k["missed_retry"],
        t0 + rng.integers(60, 1200, n_journeys),
        line,
        0,
        rng.integers(45, 400, n_journeys),
        True,
    )
    add(
        k["missed_callback"],
        t0 + rng.integers(180, 10800, n_journeys),
        MAIN,
        0,
        rng.integers(40, 300, n_journeys),
        False,
        "outbound",
    )
    add(
        k["missed_late_retry"],
        t0 + rng.integers(25 * 3600, 40 * 3600, n_journeys),
        line,
        0,
        rng.integers(45, 400, n_journeys),
        True,
    )

    # Unanswered callback attempts, as in the simulators' generator: most customers nobody
    # reached are tried minutes to hours later; some callbacks were preceded by a failed try.
    tried = (k["missed_unrecovered"] | k["missed_late_retry"]) & (rng.random(n_journeys) < 0.65)
    first_try = t0 + np.round(120 * 240 ** rng.random(n_journeys)).astype(np.int64)
    add(tried, first_try, MAIN, rng.choice([1, 1, 2], n_journeys), 0, False, "outbound")
    add(
        tried & (rng.random(n_journeys) < 0.4),
        first_try + rng.integers(900, 10800, n_journeys),
        MAIN,
        1,
        0,
        False,
        "outbound",
    )
    add(
        k["missed_callback"] & (rng.random(n_journeys) < 0.4),
        t0 + rng.integers(60, 180, n_journeys),
        MAIN,
        1,
        0,
        False,
        "outbound",
    )

    # Returning customers: an earlier journey's customer calls again at least 4 days later.
    n_repeat = int(n_calls * REPEAT_SHARE)
    order = np.argsort(t0)
    r_time = np.sort(rng.integers(int(t0.min()) + 4 * 86400, int(t0.max()) + 1, n_repeat))
    reachable = np.searchsorted(t0[order], r_time - 4 * 86400)
    ok = reachable > 0
    r_customer = order[(rng.random(n_repeat) * np.maximum(reachable, 1)).astype(np.int64)]
    calls.append(
        (
            r_customer[ok],
            r_time[ok],
            tracking[rng.integers(0, 4, n_repeat)][ok],
            np.where(rng.random(n_repeat) < 0.8, 0, 1)[ok],
            rng.integers(20, 300, n_repeat)[ok],
            np.ones(ok.sum(), bool),
            np.full(ok.sum(), "inbound"),
        )
    )

    cust, t, company, status, talk, tracked, direction = (
        np.concatenate(c) for c in zip(*calls, strict=True)
    )
    n = cust.size
    status = STATUS_NAMES[status.astype(np.int64)]
    talk = np.where(status == "answered", talk, 0).astype(np.int64)
    wait = rng.integers(3, 25, n)
    # +3806 and eight digits: a distinct valid-looking E.164 number per customer (up to 10^8).
    number = np.where(
        cust >= 0, np.char.add("+3806", np.char.zfill(np.maximum(cust, 0).astype(str), 8)), None
    )
    call_id = np.arange(n)
    source = np.array([TRACKING_NUMBERS[c][0] for c in tracking])
    # Who answered (inbound) or dialled (outbound): one of five employees.
    handled = (direction == "outbound") | (talk > 0)
    staff = np.array([f"employee{i}@bench.example" for i in range(5)])
    employee = np.where(handled, staff[(call_id * 7919) % 5], None)

    def rows(system: str, mask: np.ndarray, offset: np.ndarray) -> pa.Table:
        idx = np.nonzero(mask)[0]
        started = (t[idx] + offset[idx]) * 1_000_000
        ts = pa.array(started, type=pa.timestamp("us", tz="UTC"))
        local = pc.local_timestamp(ts.cast(pa.timestamp("us", tz=tz.key)))
        provider = "ringostat" if system == "calltracking" else "binotel"
        keys = np.char.add(f"{provider}:bench:", call_id[idx].astype(str))
        src_idx = np.minimum(np.searchsorted(tracking, company[idx]), len(tracking) - 1)
        tracked_line = np.isin(company[idx], tracking) & (system == "calltracking")
        src = np.where(tracked_line, source[src_idx], None)
        columns = {
            "business_id": np.full(idx.size, BUSINESS_ID),
            "call_key": keys,
            "system": np.full(idx.size, system),
            "provider": np.full(idx.size, provider),
            "account_id": np.full(idx.size, "bench"),
            "provider_call_id": call_id[idx].astype(str),
            "direction": direction[idx],
            "customer_number": number[idx],
            "company_number": company[idx],
            "started_at": ts,
            "wait_seconds": wait[idx],
            "talk_seconds": talk[idx],
            "status": status[idx],
            "traffic_source": src,
            "call_date": local.cast(pa.date32()),
            "load_id": np.full(idx.size, "bench"),
            "employee_id": employee[idx],
        }
        schema = catalog.table("staging.calls").arrow_schema()
        arrays = []
        for field in schema:
            value = columns.get(field.name)
            if value is None:
                arrays.append(pa.nulls(idx.size, type=field.type))
            elif isinstance(value, pa.Array):
                arrays.append(value.cast(field.type))
            else:
                arrays.append(
                    pa.array(
                        value.tolist() if value.dtype == object else value,
                        type=field.type,
                        from_pandas=True,
                    )
                )
        return pa.Table.from_arrays(arrays, schema=schema)

    zero = np.zeros(n, dtype=np.int64)
    in_pbx = np.ones(n, dtype=bool)
    ct = rows("calltracking", tracked & (direction == "inbound"), zero)
    tel = rows("telephony", in_pbx, rng.integers(0, 5, n))
    return pa.concat_tables([ct, tel])
