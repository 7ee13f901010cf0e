"""CRM sources: the HubSpot connector against its simulator (faults, the 10,000 search cap,
records changed between pulls), CSV exports, and loads through extract -> validate -> publish
into staging.crm_leads and the CRM marts."""

from __future__ import annotations

import datetime as dt
import hashlib
import zoneinfo

import pytest

from ringback import ingest
from ringback.settings import Settings, SourceConfig, load_settings
from ringback.sources import connector_for
from ringback.sources.base import MappingError, Window
from ringback.sources.connection import ProviderConnection
from ringback.sources.crm_csv import CsvCrmConnector
from ringback.sources.hubspot import HubSpotConnector
from ringback.sources.transport import ProviderError
from ringback_dev.simulators.crm_journeys import CrmGenerator
from ringback_dev.simulators.hubspot import HubSpotSimulator, iso
from ringback_dev.simulators.journeys import JourneyGenerator

from helpers import build, connect, runtime_of, table_rows

KYIV = zoneinfo.ZoneInfo("Europe/Kyiv")
NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)
RUN_DATE = dt.date(2026, 11, 19)


def source(**options) -> SourceConfig:
    return SourceConfig(
        "hubspot_main",
        "hubspot",
        "crm",
        "4400123",
        "Europe/Kyiv",
        "UA",
        {"request_interval_seconds": 0, **options},
        "kyiv_clinic",
        "Europe/Kyiv",
    )


@pytest.fixture
def hubspot():
    sims = []

    def start(**kw) -> tuple[HubSpotSimulator, HubSpotConnector]:
        kw.setdefault("now", NOW)
        options = kw.pop("options", None) or {}
        sim = HubSpotSimulator(JourneyGenerator(seed=5, customers_per_day=30), **kw)
        url = sim.start()
        sims.append(sim)
        conn = ProviderConnection("hubspot_main", url, "", "demo-token")
        return sim, HubSpotConnector(source(**options), conn, Settings())

    yield start
    for sim in sims:
        sim.stop()


def window(run_date: dt.date = RUN_DATE, days: int = 3) -> Window:
    return Window.for_run(run_date, days, KYIV)


def truth(sim: HubSpotSimulator, w: Window) -> set[str]:
    """Contacts changed in the window, or with a deal changed in it, at the simulator's now."""
    lo, hi = w.start_at, w.end_at
    out = set()
    for lead in sim.leads():
        modified = lead.modified_at
        edit = sim.contact_edits.get(lead.contact_id, {}).get("lastmodifieddate")
        if edit:
            modified = dt.datetime.fromisoformat(edit.replace("Z", "+00:00"))
        if lo <= modified < hi:
            out.add(lead.contact_id)
        for deal in lead.deals:
            if deal.created_at <= sim.now and lo <= deal.state(sim.now)[3] < hi:
                out.add(lead.contact_id)
    return out


def pulled(result) -> set[str]:
    return {r["contact"]["id"] for r in result.records}


def test_pulls_every_contact_changed_in_the_window_with_its_deals(hubspot):
    sim, connector = hubspot()
    result = connector.fetch(window())
    assert pulled(result) == truth(sim, window())
    assert len(result.records) > 50
    # A deal won in the window brings a contact created before it.
    old = [r for r in result.records if r["contact"]["properties"]["createdate"] < "2026-11-16"]
    assert old and all(r["deals"] for r in old)
    rows = [connector.map_record(r) for r in result.records]
    assert {r["created_via"] for r in rows} <= {"manual", "integration", "form"}
    assert all(r["customer_number"].startswith("+380") for r in rows)
    won = [r for r in rows if r["won_at"] is not None]
    assert won and all(r["currency"] == "UAH" and r["amount"] > 0 for r in won)
    assert {p["path"] for p in sim.requests} >= {
        "/crm/v3/objects/contacts/search",
        "/crm/v3/objects/deals/search",
        "/crm/v4/associations/contacts/deals/batch/read",
        "/crm/v4/associations/deals/contacts/batch/read",
        "/crm/v3/objects/contacts/batch/read",
    }


@pytest.mark.parametrize("fault", ["http_429", "http_500", "http_503", "truncate"])
def test_faults_are_retried_to_the_same_records(hubspot, fault):
    sim, connector = hubspot()
    clean = pulled(connector.fetch(window()))
    sim.faults.add(fault, times=2)
    result = connector.fetch(window())
    assert pulled(result) == clean
    assert result.retries == 2


def test_a_429_waits_the_interval_its_headers_give():
    import httpx

    from ringback.sources.hubspot import throttle_wait

    sim = HubSpotSimulator(now=NOW)
    answer = sim.throttled()
    resp = httpx.Response(answer.status, headers=answer.headers, content=answer.body)
    assert throttle_wait(resp) == 1.0  # X-HubSpot-RateLimit-Interval-Milliseconds: 1000
    assert throttle_wait(httpx.Response(429, json={"policyName": "TEN_SECONDLY_ROLLING"})) is None
    with pytest.raises(ProviderError, match="daily API limit"):
        throttle_wait(httpx.Response(429, json={"policyName": "DAILY"}))


def test_the_daily_limit_stops_the_pull_with_a_clear_error(hubspot):
    sim, connector = hubspot(daily_remaining=0)
    with pytest.raises(ProviderError, match="daily API limit"):
        connector.fetch(window())
    assert len(sim.requests) == 1  # no retries against a daily limit


def test_a_wrong_token_names_the_connection(hubspot):
    _sim, connector = hubspot(token="another")
    with pytest.raises(ProviderError, match="AIRFLOW_CONN"):
        connector.fetch(window())


@pytest.fixture
def crowded():
    """A CRM where 10,600 contacts change in the window (forms imported in bulk)."""
    journeys = JourneyGenerator(seed=5, customers_per_day=2)
    return CrmGenerator(journeys, walk_ins_per_day=0, forms_per_day=2650)


def test_paging_past_the_10000_result_cap_of_one_search(hubspot, crowded):
    sim, connector = hubspot(crm=crowded, history_days=5, options={"per_page": 200})
    expected = truth(sim, window())
    assert len(expected) > 10_000
    result = connector.fetch(window())
    assert pulled(result) == expected
    searches = [r for r in sim.requests if r["path"].endswith("/contacts/search")]
    assert len(searches) > 10_000 // 200  # the window was split, never a 400


def test_more_than_the_cap_in_one_millisecond_is_paged_by_id(hubspot, crowded):
    sim, connector = hubspot(crm=crowded, history_days=5)
    ids = [lead.contact_id for lead in sim.leads()]
    instant = dt.datetime(2026, 11, 18, 3, 0, 0, 123000, tzinfo=dt.UTC)
    sim.touch_all(ids, instant)  # a bulk update: one modification time for all
    expected = truth(sim, window())
    assert len(expected) > 10_000
    assert pulled(connector.fetch(window())) == expected


def test_records_changed_between_pulls(hubspot):
    sim, connector = hubspot()
    first = {r["contact"]["id"]: r for r in connector.fetch(window()).records}
    contact_id = sorted(first)[0]
    # A manager fixes the number; a deal closes later: the next run's window has both.
    sim._now = NOW + dt.timedelta(days=20)
    sim.edit_contact(contact_id, phone="067 000 11 22")
    later = Window.for_run((NOW + dt.timedelta(days=20)).date(), 3, KYIV)
    again = {r["contact"]["id"]: r for r in connector.fetch(later).records}
    assert connector.map_record(again[contact_id])["customer_number"] == "+380670001122"
    won_later = [
        r
        for cid, r in again.items()
        if cid in first
        and connector.map_record(r)["won_at"]
        and not connector.map_record(first[cid])["won_at"]
    ]
    assert won_later  # deals won after the first pull update their lead


def test_mapping_numbers_amounts_and_the_deal_chosen():
    connector = HubSpotConnector(source(), ProviderConnection("x", ""), Settings())

    def record(phone="067 123 45 67", deals=(), **props):
        return {
            "contact": {
                "id": "501",
                "properties": {
                    "createdate": "2026-11-10T08:20:00.000Z",
                    "lastmodifieddate": "2026-11-10T08:21:00.000Z",
                    "phone": phone,
                    "hs_object_source": "CRM_UI",
                    **props,
                },
            },
            "deals": list(deals),
        }

    def deal(i, won, closed, created, amount="1200"):
        return {
            "id": str(i),
            "properties": {
                "amount": amount,
                "deal_currency_code": "uah",
                "dealstage": "closedwon" if won else "appointmentscheduled",
                "hs_is_closed_won": "true" if won else "false",
                "closedate": closed,
                "createdate": created,
                "hs_lastmodifieddate": closed or created,
            },
        }

    row = connector.map_record(record())
    assert row["customer_number"] == "+380671234567" and row["created_via"] == "manual"
    assert row["created_date"] == dt.date(2026, 11, 10) and row["deal_id"] is None
    assert (
        connector.map_record(record(phone="", mobilephone="+1 512 555 0101"))["customer_number"]
        == "+15125550101"
    )
    assert connector.map_record(record(phone=None))["customer_number"] is None
    with pytest.raises(MappingError) as bad:
        connector.map_record(record(phone="call after 6"))
    assert bad.value.reason == "invalid_phone"
    with pytest.raises(MappingError) as bad:
        connector.map_record(record(deals=[deal(1, False, None, "2026-11-10T09:00:00Z", "lots")]))
    assert bad.value.reason == "invalid_amount"
    # The first deal won wins over a later open one; its currency is upper-cased.
    chosen = connector.map_record(
        record(
            deals=[
                deal(7, False, None, "2026-11-20T09:00:00Z", "900"),
                deal(3, True, "2026-11-15T10:00:00Z", "2026-11-10T09:00:00Z", "1200.50"),
            ]
        )
    )
    assert (chosen["deal_id"], chosen["amount"], chosen["currency"]) == ("3", 1200.5, "UAH")
    assert chosen["won_at"] == dt.datetime(2026, 11, 15, 10, tzinfo=dt.UTC)
    via = connector.map_record(record(hs_object_source="FORMS"))["created_via"]
    assert via == "form"
    assert connector.map_record(record(hs_object_source="EMAIL"))["created_via"] == "other"


# -- CSV exports --------------------------------------------------------------------------------
COLUMNS = {
    "crm_record_id": "ID",
    "created_at": "Created",
    "phone": "Phone",
    "created_via": "Source type",
    "crm_campaign": "UTM campaign",
    "amount": "Amount",
    "stage": "Status",
    "won_at": "Paid at",
}


def csv_source(folder, **options) -> SourceConfig:
    return SourceConfig(
        "keycrm_export",
        "crm_csv",
        "crm",
        "keycrm_export",
        "Europe/Kyiv",
        "UA",
        {
            "folder": str(folder),
            "columns": COLUMNS,
            "created_via_map": {"Менеджер": "manual", "Сайт": "form"},
            "default_currency": "UAH",
            **options,
        },
        "kyiv_clinic",
        "Europe/Kyiv",
    )


HEADER = "ID,Created,Phone,Source type,UTM campaign,Amount,Status,Paid at\n"


def test_csv_exports_newest_copy_wins_and_bad_rows_are_quarantined(tmp_path):
    (tmp_path / "2026-11-18.csv").write_text(
        HEADER
        + "11,2026-11-18 10:00,067 123 45 67,Менеджер,,,New,\n"
        + "12,2026-11-18 11:00,0501112233,Сайт,brand,1 200,Paid,2026-11-19 12:00\n",
        encoding="utf-8",
    )
    (tmp_path / "2026-11-19.csv").write_text(
        HEADER
        + "11,2026-11-18 10:00,067 123 45 67,Менеджер,,800,Paid,2026-11-19 15:00\n"
        + "13,yesterday,0501112244,Менеджер,,,,\n"
        + "14,2026-11-19 09:00,not a phone,Менеджер,,,,\n",
        encoding="utf-8",
    )
    connector = CsvCrmConnector(csv_source(tmp_path), ProviderConnection("x", ""), Settings())
    result = connector.fetch(window())
    batch = ingest.map_batch(connector, result.records, window(), "keycrm_export:t", NOW)
    staged = {r["crm_record_id"]: r for r in batch.staged.to_pylist()}
    assert set(staged) == {"11", "12"}
    assert staged["11"]["amount"] == 800.0 and staged["11"]["currency"] == "UAH"
    assert staged["11"]["won_at"] == dt.datetime(2026, 11, 19, 13, tzinfo=dt.UTC)  # Kyiv time
    assert staged["12"]["created_via"] == "form" and staged["12"]["crm_campaign"] == "brand"
    reasons = sorted(r["reason"] for r in batch.quarantine.to_pylist())
    assert reasons == ["invalid_phone", "superseded_by_newer_row", "unparseable_time"]
    assert batch.raw.num_rows == 5


def test_a_csv_without_a_mapped_column_stops_the_load(tmp_path):
    (tmp_path / "export.csv").write_text("ID,Created,Telephone\n1,2026-11-18 10:00,0671234567\n")
    connector = CsvCrmConnector(csv_source(tmp_path), ProviderConnection("x", ""), Settings())
    with pytest.raises(ProviderError, match=r"export\.csv has no column for phone"):
        connector.fetch(window())


# -- loads and marts ----------------------------------------------------------------------------
@pytest.fixture
def demo_simulators(monkeypatch):
    from helpers import start_simulators, stop_simulators

    sims = start_simulators(monkeypatch, dt.datetime(2026, 11, 23, 6, 0, tzinfo=dt.UTC))
    yield sims
    stop_simulators(sims)


def checksum(url: str, *refs: str) -> str:
    with connect(url, read_only=True) as wh:
        rows = [table_rows(wh, ref, "1, 2") for ref in refs]
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def test_hubspot_loads_and_reconciles_and_reruns_give_the_same_tables(
    demo_simulators, warehouse_url
):
    settings = load_settings({"warehouse_url": warehouse_url})
    runtime = runtime_of(settings)
    for day in (dt.date(2026, 11, 20), dt.date(2026, 11, 21), dt.date(2026, 11, 22)):
        for source_id in ("ringostat_main", "binotel_main", "hubspot_main"):
            ingest.run_extract(runtime, source_id, day)
    with connect(warehouse_url) as wh:
        build(wh, settings, dt.date(2026, 11, 17), dt.date(2026, 11, 22))
    refs = ("staging.crm_leads", "marts.crm_leads", "marts.crm_reconciliation")
    first = checksum(warehouse_url, *refs)
    ingest.run_extract(runtime, "hubspot_main", dt.date(2026, 11, 22))
    with connect(warehouse_url) as wh:
        build(wh, settings, dt.date(2026, 11, 22), dt.date(2026, 11, 22))
    assert checksum(warehouse_url, *refs) == first
    with connect(warehouse_url, read_only=True) as wh:
        loads = table_rows(wh, "raw.loads", "load_id")
        crm_loads = [r for r in loads if r["source_id"] == "hubspot_main"]
        assert all(r["validation_success"] for r in crm_loads)
        staged = wh.query("SELECT count(*) AS n FROM staging.crm_leads").to_pylist()[0]["n"]
        assert staged > 50
        recon = table_rows(wh, "marts.crm_reconciliation", "report_date")
        totals = {k: sum(r[k] for r in recon) for k in recon[0] if isinstance(recon[0][k], int)}
        # The simulated managers record most conversations, forget some, and enter walk-ins.
        # The clinic expects leads in the CRM within 48 h (its crm_match_before_hours): leads
        # of the last two days still wait.
        assert totals["matched"] > totals["lead_not_in_crm"] > 0
        assert totals["lead_awaiting_crm"] > 0
        assert totals["crm_only_manual"] > 0 and totals["crm_only_other"] > 0
        assert totals["deals_won"] > 0
        revenue = wh.query(
            "SELECT SUM(won_amount) AS won FROM analytics.leads_daily "
            "WHERE business_id = 'kyiv_clinic'"
        ).to_pylist()[0]["won"]
        assert revenue > 0
        # No raw number in the marts: hashes only.
        marts = table_rows(wh, "marts.crm_leads", "crm_lead_key")
        assert not any("+380" in str(v) for r in marts for v in r.values())


def test_the_crm_connector_of_a_source(monkeypatch, tmp_path):
    monkeypatch.setenv("AIRFLOW_CONN_HUBSPOT_MAIN", "https://:secret-token@api.hubapi.com")
    connector = connector_for(source(), Settings())
    assert isinstance(connector, HubSpotConnector)
    assert connector.connection.password == "secret-token"
    assert "secret-token" not in repr(connector.connection)
    assert isinstance(connector_for(csv_source(tmp_path), Settings()), CsvCrmConnector)


def test_simulated_deal_states_follow_the_clock():
    lead = next(
        lead
        for lead in CrmGenerator(JourneyGenerator(seed=5)).day(dt.date(2026, 11, 10))
        if lead.deals and lead.deals[0].outcome == "won"
    )
    deal = lead.deals[0]
    before = deal.state(deal.closed_at - dt.timedelta(seconds=1))
    after = deal.state(deal.closed_at)
    assert before[:2] == ("appointmentscheduled", False)
    assert after[:3] == ("closedwon", True, deal.closed_at)
    assert iso(deal.closed_at).endswith("Z")


def test_a_csv_export_loads_through_extract_validate_publish(tmp_path, monkeypatch, warehouse_url):
    """A crm_csv source of the sources file: the raw and staged suites run, quarantined rows
    are kept with their reason, and the leads reach staging.crm_leads."""
    folder = tmp_path / "keycrm"
    folder.mkdir()
    (folder / "2026-11-19.csv").write_text(
        HEADER
        + "11,2026-11-18 10:00,067 123 45 67,Менеджер,,800,Paid,2026-11-19 15:00\n"
        + "12,2026-11-18 11:00,0501112233,Сайт,brand,,New,\n"
        + "13,2026-11-19 09:00,not a phone,Менеджер,,,,\n"
        # More good rows: one bad row in three would fail the load (max_quarantine_ratio).
        + "".join(f"{20 + i},2026-11-19 1{i}:00,05011122{i:02d},Сайт,,,,\n" for i in range(8)),
        encoding="utf-8",
    )
    sources = tmp_path / "sources.yaml"
    sources.write_text(
        "businesses:\n"
        "  - {id: kyiv_clinic, time_zone: Europe/Kyiv}\n"
        "sources:\n"
        "  - id: keycrm_export\n"
        "    business: kyiv_clinic\n"
        "    provider: crm_csv\n"
        f"    folder: {folder}\n"
        "    default_region: UA\n"
        "    default_currency: UAH\n"
        f"    columns: {COLUMNS}\n"
        "    created_via_map: {Менеджер: manual, Сайт: form}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("RINGBACK_CONFIG", str(sources))
    runtime = runtime_of(load_settings({"warehouse_url": warehouse_url}))
    manifest = ingest.run_extract(runtime, "keycrm_export", RUN_DATE)
    assert (manifest.received_records, manifest.staged_records) == (11, 10)
    assert manifest.quarantine_reasons == {"invalid_phone": 1}
    with connect(warehouse_url, read_only=True) as wh:
        leads = table_rows(wh, "staging.crm_leads", "crm_record_id")
        assert [(r["crm_record_id"], r["created_via"], r["amount"]) for r in leads[:2]] == [
            ("11", "manual", 800.0),
            ("12", "form", None),
        ]
        (bad,) = table_rows(wh, "staging.crm_leads_quarantine")
        assert (bad["crm_record_id"], bad["reason"]) == ("13", "invalid_phone")
        checks = {r["checkpoint"] for r in table_rows(wh, "raw.validation_results")}
        assert {"raw_crm_csv_load", "staging_crm_leads_load"} <= checks
        (load,) = table_rows(wh, "raw.loads")
        assert load["validation_success"] and load["staged_records"] == 10


def test_association_pages_are_followed(hubspot):
    """A contact with three deals, associations served one per page: all three arrive."""

    class ThreeDeals(CrmGenerator):
        def _deals(self, draw, contact_id, created_at):
            deals = []
            for i in range(3):
                one = super()._deals(draw, f"{contact_id}:{i}", created_at)
                while not one:
                    one = super()._deals(draw, f"{contact_id}:{i}", created_at)
                deals += one
            return tuple(deals)

    crm = ThreeDeals(JourneyGenerator(seed=5, customers_per_day=10))
    sim, connector = hubspot(crm=crm, association_page_size=1)
    result = connector.fetch(window())
    assert result.records and all(len(r["deals"]) == 3 for r in result.records)
    pages = [r for r in sim.requests if r["path"].endswith("/contacts/deals/batch/read")]
    assert len(pages) >= 3  # the first page, then one more per remaining deal
