"""The Okta System Log connector against the local fake: next-link polling, 429 with reset, malformed pages."""
from __future__ import annotations

import datetime as dt
import time

from tests.connectors.conftest import OneStore
from tests.connectors.fakes import FakeServer, okta_event, seed
from vigil.connectors import get
from vigil.connectors.state import load_checkpoint
from vigil.settings import Settings


def test_polls_by_next_link_and_never_repeats(fake: FakeServer, csettings: Settings, writer: OneStore) -> None:
    seed(fake.tenant, 120)
    okta = get("okta", csettings)
    (res,) = okta.poll(writer)
    assert res.error is None and res.stored == 120 and res.duplicate == 0
    first = fake.tenant.requests[0]
    assert "sortOrder=ASCENDING" in first and "since=" in first and "limit=50" in first
    cp = load_checkpoint(writer.store, "okta", "logs")
    assert "after=" in cp["next_link"] and "since=" not in cp["next_link"]
    fake.tenant.requests.clear()
    now = dt.datetime.utcnow()
    fake.tenant.okta += [okta_event(500 + i, now + dt.timedelta(milliseconds=i)) for i in range(3)]
    (res,) = okta.poll(writer)
    assert res.stored == 3 and res.duplicate == 0
    assert all("since=" not in r for r in fake.tenant.requests)  # only the stored next link is followed
    assert writer.store.scalar("select count(distinct source_record_id) from signins") == 123


def test_429_waits_for_the_rate_limit_reset(fake: FakeServer, csettings: Settings, writer: OneStore) -> None:
    seed(fake.tenant, 30)
    reset = int(time.time()) + 2
    fake.tenant.fault("/api/v1/logs", "429", **{"X-Rate-Limit-Reset": str(reset)})
    (res,) = get("okta", csettings).poll(writer)
    assert res.error is None and res.stored == 30
    # the retry came after the reset the server named, not after the 0.05 s backoff
    assert fake.tenant.times[1] >= reset


def test_a_malformed_page_is_quarantined_and_polling_goes_on(fake: FakeServer, csettings: Settings,
                                                            writer: OneStore) -> None:
    seed(fake.tenant, 120)
    fake.tenant.fault("/api/v1/logs", "malformed", after=1)
    (res,) = get("okta", csettings).poll(writer)
    assert res.quarantined == 1 and res.error is None
    # the page's next link (a header) stays usable, so the poll goes on past the broken page
    assert res.stored == 70
    assert writer.store.scalar("select count(*) from quarantine where source_file = 'okta:logs'") == 1


def test_a_wrong_token_is_an_error_naming_okta(fake: FakeServer, csettings: Settings, writer: OneStore) -> None:
    bad = csettings.model_copy(deep=True)
    from pydantic import SecretStr

    bad.connectors.okta.token = SecretStr("nope")
    (res,) = get("okta", bad).poll(writer)
    assert res.error is not None and "HTTP 401" in res.error and "Invalid token" in res.error
