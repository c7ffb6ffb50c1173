"""Grouping into incidents: thresholds, campaigns per attack source, gaps, stable ids and analyst state."""
from __future__ import annotations

from datetime import datetime, timedelta

import orjson

from tests.detections.upstream import create_upstream, insert
from tests.risk.helpers import add_detections, detection
from vigil.incidents import actions, build
from vigil.settings import IncidentSettings
from vigil.store import Store

T0 = datetime(2026, 1, 5, 9)
S = IncidentSettings.model_validate({})


def _incidents(store: Store) -> list[dict[str, object]]:
    rows = store.query("select * from incidents order by priority desc, incident_id").to_pylist()
    for r in rows:
        for c in ("detection_ids", "event_ids", "accounts", "risk_event_types", "behavior_ids", "session_keys"):
            r[c] = orjson.loads(r[c])
    return rows


def _spray(upn: str, level: str = "low", t: datetime = T0) -> dict[str, object]:
    return detection(userPrincipalName=upn, userId=None, riskEventType="passwordSpray", detection="passwordSpray",
                     riskLevel=level, activityDateTime=t, event_id=f"sp-{upn}",
                     additionalInfo={"reason": "spray", "evidence": {"campaign_key": "spray:ip:203.0.113.5"}})


def test_threshold_kinds_and_sessions(store: Store) -> None:
    create_upstream(store)
    insert(store, "event_sessions", [{"event_id": "e1", "event_table": "signins", "session_key": "s1"},
                                     {"event_id": "e9", "event_table": "activities", "session_key": "s1"}])
    add_detections(store, [
        detection(riskEventType="attackerinTheMiddle", riskLevel="high", event_id="e1", session_key="s1"),
        detection(riskEventType="unlikelyTravel", riskLevel="medium", event_id="e2",
                  activityDateTime=T0 + timedelta(minutes=30)),
        # bob: one medium travel finding is telemetry, not an incident
        detection(userPrincipalName="bob@contoso.com", userId="bob", riskEventType="unlikelyTravel", event_id="b1"),
        # carol: high but dismissed by an admin -> not an incident
        detection(userPrincipalName="carol@contoso.com", userId="carol", riskEventType="anomalousToken",
                  riskLevel="high", riskState="dismissed", event_id="c1"),
    ])
    out = build.build(store, S)
    assert out["incidents"] == 1
    (inc,) = _incidents(store)
    assert inc["user_principal_name"] == "ada@contoso.com" and inc["severity"] == "high"
    assert inc["priority"] == 6 + 3 + 1 and "2 kinds of detection agree" in inc["reason"]
    assert inc["recommended_action"].startswith("revoke all sessions")
    assert inc["session_keys"] == ["s1"] and set(inc["event_ids"]) == {"e1", "e2", "e9"}  # session events too
    assert inc["status"] == "new"
    # what happened and when, led by the strongest detection
    assert inc["title"] == "Attacker-in-the-middle sign-in, then unlikely travel 30 minutes later", inc["title"]


def test_spray_is_one_campaign_incident_and_success_joins_the_user(store: Store) -> None:
    create_upstream(store)
    users = [f"u{i}@contoso.com" for i in range(6)]
    add_detections(store, [_spray(u) for u in users[:5]] + [_spray(users[5], "medium")] + [
        _spray("hit@contoso.com", "high"),
        detection(userPrincipalName="hit@contoso.com", riskEventType="legacyAuthentication", riskLevel="medium",
                  event_id="leg"),
    ])
    build.build(store, S)
    incs = _incidents(store)
    campaign = next(i for i in incs if i["campaign_key"])
    assert campaign["accounts"] == users and campaign["user_principal_name"] is None
    assert campaign["user_id"] is None  # many accounts: no single user (the UI counts the accounts)
    assert campaign["severity"] == "medium"  # one password accepted
    assert "u5@contoso.com" in campaign["recommended_action"]
    assert campaign["title"] == "Password spray from 203.0.113.5 against 6 accounts"
    user = next(i for i in incs if i["user_principal_name"] == "hit@contoso.com")
    assert user["risk_event_types"] == ["legacyAuthentication", "passwordSpray"]


def test_gap_splits_campaigns(store: Store) -> None:
    create_upstream(store)
    add_detections(store, [
        detection(riskEventType="anomalousToken", riskLevel="high", event_id="a"),
        detection(riskEventType="anomalousToken", riskLevel="high", event_id="b",
                  activityDateTime=T0 + timedelta(days=3)),
    ])
    assert build.build(store, S)["incidents"] == 2
    assert build.build(store, IncidentSettings.model_validate({"merge_gap_hours": 100}))["incidents"] == 1


def test_ids_status_and_comments_survive_reanalysis(store: Store) -> None:
    create_upstream(store)
    add_detections(store, [detection(riskEventType="anomalousToken", riskLevel="high", event_id="a")])
    build.build(store, S)
    (first,) = _incidents(store)
    actions.set_status(store, str(first["incident_id"]), status="closed", classification="truePositive",
                       actor="ann")
    actions.add_comment(store, str(first["incident_id"]), text="reset done", author="ann")
    # re-analysis finds an earlier detection of the same campaign: the candidate id changes, the id must not
    add_detections(store, [detection(riskEventType="unlikelyTravel", riskLevel="medium", event_id="z",
                                     activityDateTime=T0 - timedelta(hours=1))])
    build.build(store, S)
    (again,) = _incidents(store)
    assert again["incident_id"] == first["incident_id"]
    assert (again["status"], again["classification"]) == ("closed", "truePositive")
    assert again["created_at"] == first["created_at"] and again["updated_at"] > first["updated_at"]
    assert len(again["detection_ids"]) == 2
    comments = store.query("select author, text from incident_comments order by created_at").to_pylist()
    assert comments == [{"author": "ann", "text": "status -> closed (truePositive)"},
                        {"author": "ann", "text": "reset done"}]
    build.build(store, S)  # nothing new: updated_at stays
    assert _incidents(store)[0]["updated_at"] == again["updated_at"]


def test_high_priority_behaviour_corroborates(store: Store) -> None:
    create_upstream(store)
    insert(store, "BehaviorAnalytics", [
        {"SourceRecordId": f"ba{i}", "TimeGenerated": T0 + timedelta(minutes=i), "ActionType": f"Action{i}",
         "UserPrincipalName": "ada@contoso.com", "InvestigationPriority": 8} for i in range(3)] + [
        {"SourceRecordId": "low", "TimeGenerated": T0, "ActionType": "Sign-in",
         "UserPrincipalName": "ada@contoso.com", "InvestigationPriority": 3}])
    add_detections(store, [detection(riskEventType="unlikelyTravel", riskLevel="medium", event_id="t"),
                           detection(riskEventType="newCountry", riskLevel="low", event_id="t")])
    (inc,) = (build.build(store, S), _incidents(store))[1]
    assert inc["priority"] == 3 + 1 + 2 + 1  # two kinds agree, behaviour capped at 2
    assert sorted(inc["behavior_ids"]) == ["ba0", "ba1", "ba2"]
    assert "BehaviorAnalytics" in inc["reason"]


def test_admin_verdict_is_not_a_new_incident(store: Store) -> None:
    create_upstream(store)
    add_detections(store, [
        detection(riskEventType="anomalousToken", riskLevel="high", event_id="a"),
        detection(riskEventType="adminConfirmedUserCompromised", detection="adminConfirmedUserCompromised",
                  riskLevel="high", riskState="confirmedCompromised", activityDateTime=T0 + timedelta(days=30)),
    ])
    assert build.build(store, S)["incidents"] == 1


def test_title_says_what_happened_where_and_when(store: Store) -> None:
    create_upstream(store)
    insert(store, "signins_enriched", [{"event_id": "aitm", "ip_class": "hosting"},
                                       {"event_id": "tok", "ip_class": "residential"}])
    add_detections(store, [
        detection(riskEventType="attackerinTheMiddle", riskLevel="high", event_id="aitm",
                  location={"countryOrRegion": "NL"}),
        detection(riskEventType="anomalousToken", riskLevel="high", event_id="tok", location={"countryOrRegion": "RU"},
                  activityDateTime=T0 + timedelta(minutes=12)),
        detection(riskEventType="mcasImpossibleTravel", riskLevel="medium", event_id="trv",
                  activityDateTime=T0 + timedelta(minutes=13)),
        detection(riskEventType="massDownload", riskLevel="medium", event_id="dl",
                  activityDateTime=T0 + timedelta(hours=3)),
    ])
    build.build(store, S)
    (inc,) = _incidents(store)
    # the earliest of the strongest leads; the other kinds are placed against it and counted
    assert inc["title"] == ("Attacker-in-the-middle sign-in from a hosting network in NL, then a session-token replay "
                            "12 minutes later (+2 more)"), inc["title"]
