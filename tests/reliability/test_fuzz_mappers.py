"""Fuzzing every provider mapper with malformed records (hypothesis).

Real records from each simulator are mutated: fields removed, replaced by any JSON value
(nested objects, huge integers, NaN, odd Unicode), whole records replaced by non-objects, junk
fields added. Whatever arrives, a batch maps without raising, keeps every record in raw, and each
record is either staged (with a value of the contract's type in every column) or quarantined with
a reason. ``raw_view`` (what the raw suites read) must not raise either.
"""

from __future__ import annotations

import datetime as dt
import json

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ringback.ingest import map_batch, staged_schema
from ringback.quarantine import Reason
from ringback.settings import load_settings
from ringback.sources import CONNECTORS
from ringback.sources.base import Window
from ringback.sources.connection import ProviderConnection
from ringback_dev.simulators.asterisk import AsteriskCdrWriter
from ringback_dev.simulators.binotel import BinotelSimulator
from ringback_dev.simulators.callrail import CallRailSimulator
from ringback_dev.simulators.journeys import JourneyGenerator
from ringback_dev.simulators.ringostat import RingostatSimulator
from ringback_dev.simulators.twilio import TwilioSimulator
from ringback_dev.simulators.zadarma import ZadarmaSimulator

from helpers import runtime_of

pytestmark = pytest.mark.reliability

DAY = dt.date(2026, 11, 18)
NOW = dt.datetime(2026, 11, 21, tzinfo=dt.UTC)
SOURCES = {
    "ringostat": "ringostat_main",
    "binotel": "binotel_main",
    "callrail": "callrail_main",
    "twilio": "twilio_main",
    "zadarma": "zadarma_lviv",
    "asterisk_db": "asterisk_odesa",
}
# Every reason a mapper or the batch may give: the quarantine vocabulary.
KNOWN_REASONS = {r.value for r in Reason}


def seed_records(provider: str) -> list[dict]:
    """One day of real records as the provider's simulator serves them."""
    profile = "us" if provider in ("callrail", "twilio") else "ua"
    generator = JourneyGenerator(seed=3, customers_per_day=8, profile=profile)
    calls = generator.day(DAY).calls
    if provider == "ringostat":
        sim = RingostatSimulator(generator, now=NOW)
        return [sim.record(c) for c in calls if c.seen_by_calltracking]
    if provider == "binotel":
        sim = BinotelSimulator(generator, now=NOW)
        return [sim.record(c) for c in calls if c.seen_by_telephony]
    if provider == "callrail":
        sim = CallRailSimulator(generator, now=NOW)
        fields = {
            "first_call", "source", "medium", "campaign", "keywords", "landing_page_url",
            "gclid", "utm_source", "utm_medium", "utm_campaign", "utm_term",
        }  # fmt: skip
        return [sim.record(c, fields) for c in calls if c.seen_by_calltracking]
    if provider == "zadarma":
        generator = JourneyGenerator(seed=3, customers_per_day=8, profile="lviv")
        sim = ZadarmaSimulator(generator, now=NOW)
        return [leg for c in generator.day(DAY).calls if c.seen_by_telephony for leg in sim.legs(c)]
    if provider == "asterisk_db":
        generator = JourneyGenerator(seed=3, customers_per_day=8, profile="odesa")
        writer = AsteriskCdrWriter(generator)
        cdrs = [
            leg for c in generator.day(DAY).calls if c.seen_by_telephony for leg in writer.legs(c)
        ]
        # Rows as the cdr table holds them: calldate, no start/answer/end (those are the CSV's).
        return [
            {
                **{k: v for k, v in cdr.items() if k not in ("start", "answer", "end")},
                "group_id": cdr["linkedid"],
            }
            for cdr in cdrs
        ]
    sim = TwilioSimulator(generator, now=NOW)
    return [leg for c in calls if c.seen_by_telephony for leg in sim.legs(c)]


SEEDS = {provider: seed_records(provider) for provider in SOURCES}

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(
        [
            "",
            " ",
            "null",
            "(not set)",
            "1e400",
            "-1",
            "2026-13-45 25:61:00",
            "+380",
            "0",
            "NaN",
            "\u0000",
            "٣٤٥",
            "ANSWERED",
            "completed",
        ]
    ),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


@st.composite
def malformed_batches(draw, provider: str) -> list:
    seeds = SEEDS[provider]
    picks = draw(st.lists(st.integers(0, len(seeds) - 1), min_size=1, max_size=6))
    batch = []
    for index in picks:
        record = json.loads(json.dumps(seeds[index]))
        how = draw(st.sampled_from(["keep", "mutate", "mutate", "mutate", "replace"]))
        if how == "replace":
            batch.append(draw(json_values))
            continue
        if how == "mutate":
            keys = sorted(record)
            for _ in range(draw(st.integers(1, 4))):
                op = draw(st.sampled_from(["drop", "set", "set", "junk"]))
                key = draw(st.sampled_from(keys))
                if op == "drop":
                    record.pop(key, None)
                elif op == "set":
                    record[key] = draw(json_values)
                else:
                    record[draw(st.text(max_size=8))] = draw(json_values)
        batch.append(record)
    return batch


def offline_connector(provider: str):
    """The provider's connector with no connection: mapping needs none."""
    source = runtime_of(load_settings()).source(SOURCES[provider])
    return source, CONNECTORS[provider](source, ProviderConnection(source.id, ""), load_settings())


def check_batch(provider: str, records: list) -> None:
    source, connector = offline_connector(provider)
    window = Window.for_run(DAY, 0, source.tz)
    batch = map_batch(connector, records, window, f"{source.id}:{DAY}", NOW)

    assert batch.raw.num_rows == len(records)
    assert batch.staged.num_rows + batch.quarantine.num_rows == len(records)
    assert batch.staged.schema.equals(staged_schema())
    quarantined = batch.quarantine.to_pylist()
    assert all(q["reason"] in KNOWN_REASONS and q["detail"] for q in quarantined), quarantined
    keys = batch.staged.column("call_key").to_pylist()
    assert len(keys) == len(set(keys))
    # Required contract columns hold a value in every staged row.
    for field in staged_schema():
        if not field.nullable:
            assert batch.staged.column(field.name).null_count == 0, field.name
    # The raw suites' view of each record never raises.
    for record in records:
        view = connector.raw_view(record)
        assert set(view) >= {"provider_call_id", "started_at", "disposition"}
    pa.Table.from_pylist(batch.staged.to_pylist(), schema=staged_schema())  # round-trips


FUZZ = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.mark.parametrize("provider", sorted(SOURCES))
def test_unmutated_records_all_stage(provider):
    """The fuzzing starts from records that map cleanly, so mutations are what it tests."""
    records = SEEDS[provider]
    source, connector = offline_connector(provider)
    batch = map_batch(connector, records, Window.for_run(DAY, 0, source.tz), "x:y", NOW)
    reasons = {q["reason"] for q in batch.quarantine.to_pylist()}
    assert batch.staged.num_rows > 5
    assert reasons <= {"child_leg", "outside_window"}, reasons


@pytest.mark.parametrize("provider", sorted(SOURCES))
def test_malformed_records_never_sink_the_batch(provider):
    @FUZZ
    @given(malformed_batches(provider))
    def run(records):
        check_batch(provider, records)

    run()
