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


def crm_leads(calls: pa.Table, seed: int = 1, record_rate: float = 0.8) -> pa.Table:
    """staging.crm_leads for a generated history, as a CRM would hold them: about
    ``record_rate`` of the answered inbound conversations (telephony's record of each) typed in
    2-60 min after the call, by hand or by the integration, plus walk-ins with no call (a tenth
    of that), and a deal for 60 % of the leads (45 % of those won). The matching cost scales
    with the leads and the numbers they share with the calls, as with a real CRM."""
    rng = np.random.default_rng(seed + 19)
    mask = pc.and_(
        pc.and_(pc.equal(calls["system"], "telephony"), pc.equal(calls["direction"], "inbound")),
        pc.and_(pc.equal(calls["status"], "answered"), pc.greater(calls["talk_seconds"], 30)),
    )
    talks = calls.filter(pc.and_(mask, pc.is_valid(calls["customer_number"])))
    talks = talks.filter(pa.array(rng.random(talks.num_rows) < record_rate))
    n = talks.num_rows
    walk_ins = n // 10
    started = talks["started_at"].cast(pa.int64()).to_numpy()  # microseconds
    created = np.concatenate(
        [
            started + rng.integers(120, 3600, n) * 1_000_000,
            rng.choice(started, walk_ins) + rng.integers(0, 8 * 3600, walk_ins) * 1_000_000,
        ]
    )
    numbers = np.concatenate(
        [
            talks["customer_number"].to_numpy(zero_copy_only=False),
            np.array([f"+38099{i:07d}" for i in rng.integers(0, 10**7, walk_ins)]),
        ]
    )
    total = n + walk_ins
    via = np.where(rng.random(total) < 0.75, "manual", "integration")
    via[n:] = "manual"
    has_deal = rng.random(total) < 0.6
    won = has_deal & (rng.random(total) < 0.45)
    won_at = created + rng.integers(1, 14 * 86400, total) * 1_000_000
    tz = zoneinfo.ZoneInfo("Europe/Kyiv")
    created_at = pa.array(created, pa.timestamp("us", tz="UTC"))
    ids = np.array([f"{i:09d}" for i in range(total)])
    table = catalog.table("staging.crm_leads")
    columns = {
        "business_id": pa.array(np.full(total, BUSINESS_ID)),
        "crm_lead_key": pa.array(np.char.add("hubspot:bench:", ids)),
        "source_id": pa.array(np.full(total, "hubspot_bench")),
        "provider": pa.array(np.full(total, "hubspot")),
        "account_id": pa.array(np.full(total, "bench")),
        "crm_record_id": pa.array(ids),
        "created_at": created_at,
        "created_date": pc.cast(
            pc.local_timestamp(created_at.cast(pa.timestamp("us", tz=str(tz)))), pa.date32()
        ),
        "customer_number": pa.array(numbers),
        "created_via": pa.array(via),
        "crm_created_source": pa.array(np.where(via == "manual", "CRM_UI", "INTEGRATION")),
        "crm_source": pa.array(np.full(total, "OFFLINE")),
        "crm_source_detail": pa.nulls(total, pa.string()),
        "crm_campaign": pa.nulls(total, pa.string()),
        "deal_id": pa.array(np.where(has_deal, np.char.add("d", ids), None)),
        "amount": pa.array(
            np.where(has_deal, rng.integers(10, 101, total) * 50.0, np.nan), from_pandas=True
        ),
        "currency": pa.array(np.where(has_deal, "UAH", None)),
        "stage": pa.array(
            np.where(won, "closedwon", np.where(has_deal, "appointmentscheduled", None))
        ),
        "won_at": pa.array(won_at, pa.int64(), mask=~won).cast(pa.timestamp("us", tz="UTC")),
        "updated_at": created_at,
        "load_id": pa.array(np.full(total, "bench")),
    }
    return pa.table(columns).cast(table.arrow_schema())
