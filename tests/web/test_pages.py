"""The pages render the seeded story server-side (no browser): queue, incident, user, hunt, policy."""
from __future__ import annotations

import re
from typing import Any

import pytest

from tests.api.conftest import seeded_settings, seeded_template, service  # noqa: F401  (fixtures)


@pytest.fixture
def ui(service: dict[str, Any]) -> Any:  # noqa: F811
    client = service["client"]
    pre = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/signin").text).group(1)
    assert client.post("/signin", data={"token": service["admin"], "csrf_token": pre},
                       follow_redirects=False).status_code == 303
    client.csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/hunt").text).group(1)
    return client


def test_queue_ranks_and_filters(ui: Any) -> None:
    html = ui.get("/incidents").text
    assert html.index("INC-1") < html.index("INC-2")
    filtered = ui.get("/incidents?status=active").text
    assert "INC-2" in filtered and "INC-1" not in filtered


def test_incident_page_carries_the_map_data_and_tree(ui: Any) -> None:
    html = ui.get("/incidents/INC-1").text
    assert 'data-points="4"' in html and 'data-lines="3"' in html
    assert "IP Geolocation by DB-IP" in html and 'href="https://db-ip.com"' in html
    assert html.count('class="session') == 2 and html.count("chip hop") >= 3
    assert "FirstTimeUserConnectedFromDevice" in html  # an insight chip


def test_location_credit_follows_the_database(seeded_settings: Any) -> None:  # noqa: F811
    from fastapi.testclient import TestClient

    from vigil.api import tokens
    from vigil.web.app import create_app

    seeded_settings.enrich.mmdb_path = "/data/GeoLite2-City.mmdb"  # the user's own: no DB-IP credit
    app = create_app(seeded_settings, host="127.0.0.1")
    with app.state.vigil.db.writer() as store:
        _, admin = tokens.create_token(store.con, "carol", "admin")
    with TestClient(app, base_url="http://127.0.0.1") as client:
        pre = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/signin").text).group(1)
        client.post("/signin", data={"token": admin, "csrf_token": pre})
        html = client.get("/incidents/INC-1").text
        assert "db-ip.com" not in html and "location database GeoLite2-City.mmdb" in html
        itin = client.get("/api/v1/users/u-alice/itinerary", headers={"Authorization": f"Bearer {admin}"}).json()
        assert itin["attribution"]["database"] == "GeoLite2-City.mmdb"


def test_status_and_comment_forms(ui: Any) -> None:
    r = ui.post("/incidents/INC-1/status", data={"status": "closed", "classification": "truePositive",
                                                 "csrf_token": ui.csrf}, follow_redirects=False)
    assert r.status_code == 303
    r = ui.post("/incidents/INC-1/comments", data={"text": "done", "csrf_token": ui.csrf})
    assert r.status_code == 200 and "done" in r.text and 'id="incident-status">closed' in r.text
    r = ui.post("/incidents/INC-1/comments", data={"text": "forged"})  # no CSRF token
    assert r.status_code == 403


def test_hunt_page_runs_kql_and_downloads_csv(ui: Any) -> None:
    page = ui.get("/hunt").text
    assert "ActivityInsights.FirstTimeUserConnectedFromDevice == true" in page
    assert 'value="2026-01-05 12:15:00"' in page  # now() anchored at the newest event (hunt.now: auto), 24-hour
    q = ("BehaviorAnalytics | where InvestigationPriority >= 4 | project UserPrincipalName, InvestigationPriority"
         " | order by InvestigationPriority desc")
    r = ui.post("/hunt", data={"query": q, "now": "2026-01-05T12:15:00", "csrf_token": ui.csrf})
    assert r.status_code == 200 and r.text.count("alice@contoso.com") == 2
    r = ui.post("/hunt.csv", data={"query": q, "now": "", "csrf_token": ui.csrf})
    assert r.headers["content-disposition"].startswith("attachment")
    assert r.text.splitlines() == ["UserPrincipalName,InvestigationPriority", "alice@contoso.com,9",
                                   "alice@contoso.com,4"]
    bad = ui.post("/hunt", data={"query": "NoSuchTable | take 1", "csrf_token": ui.csrf})
    assert bad.status_code == 400 and 'id="hunt-error"' in bad.text


def test_policy_page_and_what_if(ui: Any) -> None:
    page = ui.get("/policy").text
    assert page.count("<tr>") >= 4 and "Block legacy authentication" in page
    r = ui.post("/policy/whatif", data={"user_principal_name": "alice@contoso.com", "sign_in_risk": "medium",
                                        "client_app_type": "browser", "csrf_token": ui.csrf})
    assert r.status_code == 200
    assert re.search(r'id="whatif-decision"[^>]*><b>challenge</b>', r.text)
    r = ui.post("/policy/whatif", data={"country": "Narnia", "csrf_token": ui.csrf})
    assert r.status_code == 422 and 'id="whatif-error"' in r.text


def test_policy_history_replay_impact_table(ui: Any) -> None:
    r = ui.post("/policy/replay", data={"csrf_token": ui.csrf})
    assert r.status_code == 200, r.text[-500:]
    assert re.search(r'id="replay-summary">6 sign-ins of 2 users', r.text)
    table = r.text[r.text.index('id="replay-impact"'):]
    assert table.count("<tr") == 1 + 3 + 1  # header, one row per policy, the total
    assert "Require MFA for medium or high sign-in risk" in table


def test_admin_risk_action_from_the_user_page(ui: Any) -> None:
    page = ui.get("/users/u-alice").text
    assert 'id="risk-form"' in page
    r = ui.post("/users/u-alice/risk", data={"action": "dismiss", "reason": "travelling", "csrf_token": ui.csrf})
    assert r.status_code == 200 and "dismissed" in r.text
    assert ui.post("/users/u-alice/risk", data={"action": "forgive", "csrf_token": ui.csrf}).status_code == 422


def test_connectors_page_lists_streams(ui: Any, service: dict[str, Any]) -> None:  # noqa: F811
    from vigil.connectors import state

    with service["client"].app.state.vigil.db.writer() as store:
        state.ensure(store)
        state.mark(store, "okta", "logs", error="okta: https://x/api/v1/logs HTTP 500: boom")
    html = ui.get("/connectors").text
    assert "okta" in html and "logs" in html and "HTTP 500: boom" in html


def test_a_missing_incident_or_user_is_a_page_not_json(ui: Any) -> None:
    for path in ("/incidents/INC-nope", "/users/nobody@contoso.com", "/no-such-page"):
        r = ui.get(path)
        assert r.status_code == 404 and r.headers["content-type"].startswith("text/html"), (path, r.text[:200])
        assert 'role="alert"' in r.text and '<header class="top">' in r.text, path  # in the UI's frame
    api = ui.get("/api/v1/incidents/INC-nope")
    assert api.status_code in (401, 404) and api.headers["content-type"].startswith("application/json")
