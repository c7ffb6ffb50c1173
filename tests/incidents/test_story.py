"""`vigil incident show`: root authentication, time line, detections with evidence, comments."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.detections.upstream import create_upstream, insert
from tests.risk.helpers import add_detections, detection
from vigil.errors import InputError
from vigil.incidents import actions, build, story
from vigil.settings import IncidentSettings
from vigil.store import Store

T0 = datetime(2026, 1, 5, 9)


def test_story(store: Store) -> None:
    create_upstream(store)
    insert(store, "sessions", [{"session_key": "s1", "user_principal_name": "ada@contoso.com", "root_event_id": "e0",
                                "root_time": T0, "root_ip": "159.89.225.105", "root_country": "US",
                                "root_city": "New York", "root_ip_class": "hosting", "root_mfa": True,
                                "root_browser": "Edge", "event_count": 3, "hop_count": 1, "countries": ["US", "BR"],
                                "ips": ["159.89.225.105", "177.47.98.200"]}])
    insert(store, "session_hops", [{"session_key": "s1", "event_id": "e1", "hop_time": T0 + timedelta(hours=1),
                                    "hop_kind": "country", "from_value": "US", "to_value": "BR"}])
    add_detections(store, [
        detection(riskEventType="attackerinTheMiddle", riskLevel="high", event_id="e0", session_key="s1",
                  activityDateTime=T0, reason="root sign-in through a hosting proxy"),
        detection(riskEventType="anomalousToken", riskLevel="high", event_id="e1", session_key="s1",
                  activityDateTime=T0 + timedelta(hours=1), reason="cookie replayed from BR"),
    ])
    build.build(store, IncidentSettings.model_validate({}))
    inc_id = str(store.con.execute("select incident_id from incidents").fetchall()[0][0])
    actions.add_comment(store, inc_id, text="calling the user", author="ann")
    s = story.story(store, inc_id)
    assert s["root_authentications"][0]["root_ip"] == "159.89.225.105"
    kinds = [(e["kind"], e["text"].split(":")[0]) for e in s["timeline"]]
    assert kinds == [("root", "session root sign-in from 159.89.225.105 (New York, US, hosting), MFA yes, Edge"),
                     ("detection", "attackerinTheMiddle (high)"), ("hop", "country US -> BR"),
                     ("detection", "anomalousToken (high)")]
    assert [d["evidence"] for d in s["detections"]] == [{"x": 1}, {"x": 1}]
    assert s["incident"]["recommended_action"].startswith("revoke all sessions")
    assert s["comments"][0]["text"] == "calling the user"
    with pytest.raises(InputError, match="no incident"):
        story.story(store, "INC-nope")
