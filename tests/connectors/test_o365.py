"""The Office 365 Management Activity API connector against the local fake."""
from __future__ import annotations

import datetime as dt

from tests.connectors.conftest import OneStore
from tests.connectors.fakes import FakeServer, o365_record, seed
from vigil.connectors import get
from vigil.settings import Settings


def test_subscribes_lists_in_24h_slices_and_follows_next_page(fake: FakeServer, csettings: Settings,
                                                             writer: OneStore) -> None:
    seed(fake.tenant, 1000)  # 10 blobs: four content pages of at most 3
    o365 = get("o365", csettings)
    res = {r.stream: r for r in o365.poll(writer, since=dt.datetime.utcnow() - dt.timedelta(days=3))}
    assert all(r.error is None for r in res.values()), res
    assert set(fake.tenant.subscriptions) == {"Audit.AzureActiveDirectory", "Audit.Exchange", "Audit.SharePoint",
                                             "Audit.General"}
    assert res["Audit.SharePoint"].stored == 1000 and res["Audit.SharePoint"].pages == 10
    listings = [r for r in fake.tenant.requests if "subscriptions/content" in r and "SharePoint" in r]
    slices = [r for r in listings if "nextPage" not in r]
    assert len(slices) in (3, 4)  # 3 days in slices of 24 h (the API's limit), plus the seconds since `since`
    assert any("nextPage=3" in r for r in listings)
    assert writer.store.count("activities") == 1000


def test_late_blobs_are_read_and_records_deduplicated_on_id(fake: FakeServer, csettings: Settings,
                                                           writer: OneStore) -> None:
    seed(fake.tenant, 300)
    o365 = get("o365", csettings)
    o365.poll(writer, only=["Audit.SharePoint"])
    fetched = sum("/audit/" in r for r in fake.tenant.requests)
    # a blob created 10 h ago shows up late; it repeats one record already stored (same Id)
    late = dt.datetime.utcnow() - dt.timedelta(hours=10)
    again = fake.tenant.o365["Audit.SharePoint"][0][2][7]
    fake.tenant.add_blob("Audit.SharePoint", late, [o365_record(5000, late), dict(again)])
    (res,) = o365.poll(writer, only=["Audit.SharePoint"])
    assert res.error is None and res.received == 2 and res.stored == 1 and res.duplicate == 1
    assert sum("/audit/" in r for r in fake.tenant.requests) == fetched + 1  # blobs already read are skipped
    assert writer.store.count("activities") == 301
