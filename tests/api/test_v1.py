"""Read endpoints over the contract tables: incidents queue, user story, listings."""
from __future__ import annotations

from typing import Any

from tests.api.conftest import bearer


def _get(service: dict[str, Any], path: str) -> Any:
    r = service["client"].get(path, headers=bearer(service["reader"]))
    assert r.status_code == 200, r.text
    return r.json()


def test_incidents_are_ranked_and_filterable(service: dict[str, Any]) -> None:
    q = _get(service, "/api/v1/incidents")
    assert q["total"] == 2 and [i["incident_id"] for i in q["items"]] == ["INC-1", "INC-2"]
    assert q["items"][0]["detection_count"] == 2
    assert [i["incident_id"] for i in _get(service, "/api/v1/incidents?status=active")["items"]] == ["INC-2"]
    assert [i["incident_id"] for i in _get(service, "/api/v1/incidents?severity=high")["items"]] == ["INC-1"]
    assert _get(service, "/api/v1/incidents?user=bob")["total"] == 1
    assert _get(service, "/api/v1/incidents?q=hijack")["total"] == 1
    assert _get(service, "/api/v1/incidents?status=closed")["items"] == []


def test_incident_detail_joins_detections(service: dict[str, Any]) -> None:
    inc = _get(service, "/api/v1/incidents/INC-1")
    assert [d["id"] for d in inc["detections"]] == ["det-1", "det-2"]
    assert inc["detection_ids"] == ["det-1", "det-2"]  # JSON columns come back as JSON
    assert inc["first_activity"] == "2026-01-05T12:10:00Z"


def test_user_itinerary_points_and_lines(service: dict[str, Any]) -> None:
    page = _get(service, "/api/v1/users/alice@contoso.com?start=2026-01-05T00:00:00&end=2026-01-06T00:00:00")
    itin = page["itinerary"]
    # 4 located sign-ins; the stale (confidential-client) one is not a location
    assert [p["geo_country"] for p in itin["points"]] == ["GB", "BG", "BR", "NG"]
    assert [p["is_corporate_egress"] for p in itin["points"]] == [True, False, False, False]
    # 3 legs; the same_location leg has nothing to draw
    assert [(leg["from_country"], leg["to_country"], leg["verdict"]) for leg in itin["lines"]] == [
        ("GB", "BG", "egress_change"), ("BG", "BR", "egress_change"), ("BR", "NG", "impossible")]
    assert itin["verdict_counts"] == {"egress_change": 2, "impossible": 1}
    assert itin["egress_points"][0]["name"] == "London HQ"
    assert itin["attribution"]["text"] == "IP Geolocation by DB-IP"
    # by object id as well as by UPN; a window before her day has nothing
    assert _get(service, "/api/v1/users/u-alice/itinerary?start=2026-01-05T00:00:00")["lines"][2]["verdict"] \
        == "impossible"
    assert _get(service, "/api/v1/users/u-alice/itinerary?end=2026-01-04T00:00:00")["points"] == []


def test_session_tree(service: dict[str, Any]) -> None:
    page = _get(service, "/api/v1/users/u-alice?days=2")
    tree = {s["session_key"]: s for s in page["sessions"]}
    s1 = tree["k-S1"]
    assert s1["root"]["event_id"] == s1["root_event_id"] and s1["root_mfa"] is True
    kinds = [(c["event_table"], c.get("operation") or c.get("country")) for c in s1["children"]]
    assert kinds == [("activities", "MailItemsAccessed"), ("signins", "BG"), ("signins", "GB"), ("signins", "BR")]
    hops = {c["country"]: [h["hop_kind"] for h in c["hops"]] for c in s1["children"] if c["hops"]}
    assert hops == {"BG": ["country", "ip"], "BR": ["country"]}
    assert tree["k-S2"]["inferred"] is True
    assert [c["operation"] for c in tree["k-S2"]["children"]] == ["New-InboxRule"]
    one = _get(service, "/api/v1/sessions/k-S2")
    assert one["root"]["country"] == "NG"


def test_behavior_insights_and_risk(service: dict[str, Any]) -> None:
    page = _get(service, "/api/v1/users/alice@contoso.com?days=2")
    top = page["behavior"][0]
    assert top["InvestigationPriority"] == 9
    assert top["insights"] == ["CountryUncommonlyConnectedFromAmongPeers", "FirstTimeUserConnectedFromCountry",
                               "FirstTimeUserConnectedFromDevice", "ISPUncommonlyUsedInTenant"]
    assert page["risk"]["current"]["riskLevel"] == "high"
    assert [d["riskEventType"] for d in page["risk"]["detections"]] == ["tokenReplay", "impossibleTravel"]
    ba = _get(service, "/api/v1/BehaviorAnalytics?min_priority=4&start=2026-01-01T00:00:00")
    assert [r["InvestigationPriority"] for r in ba["items"]] == [9, 4]


def test_listings(service: dict[str, Any]) -> None:
    s = _get(service, "/api/v1/signins?user=bob@contoso.com&start=2026-01-01T00:00:00")
    assert [r["user_principal_name"] for r in s["items"]] == ["bob@contoso.com"]
    assert s["items"][0]["egress_name"] == "London HQ"
    t = _get(service, "/api/v1/travel?verdict=impossible&start=2026-01-01T00:00:00")
    assert len(t["items"]) == 1
    d = _get(service, "/api/v1/riskDetections?user=alice@contoso.com&riskLevel=high&start=2026-01-01T00:00:00")
    assert [x["id"] for x in d["items"]] == ["det-1"]
    assert _get(service, "/api/v1/riskyUsers")["items"][0]["id"] == "u-alice"
    assert _get(service, "/api/v1/sessions?user=u-alice&start=2026-01-01T00:00:00")["items"][0]["session_key"] \
        == "k-S2"


def test_missing_tables_are_a_409_not_an_empty_answer(service: dict[str, Any]) -> None:
    with service["app"].state.vigil.db.writer() as store:
        store.con.execute("drop table travel")
    r = service["client"].get("/api/v1/travel", headers=bearer(service["reader"]))
    assert r.status_code == 409 and "vigil analyze" in r.json()["detail"]
