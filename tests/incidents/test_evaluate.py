"""The noise figure: naive alerts vs incidents, recall per campaign type, the VPN failover check."""
from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import orjson
import pytest

from tests.builders import insert as insert_canonical
from tests.builders import row
from tests.detections.upstream import create_upstream, insert
from tests.risk.helpers import add_detections, detection
from vigil.errors import InputError
from vigil.incidents import build, evaluate
from vigil.settings import IncidentSettings
from vigil.store import Store

T0 = datetime(2026, 1, 5, 9)


def _signin(rid: str, upn: str, t: datetime, country: str) -> tuple[dict[str, object], dict[str, object]]:
    r = row("signins", source_record_id=rid, event_id=f"ev-{rid}", user_principal_name=upn, event_time=t,
            result="success", country=country)
    enriched = dict(r, geo_country=country)
    return r, enriched


def _write(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    return path


def test_evaluate(store: Store, tmp_path: Path) -> None:
    create_upstream(store)
    plan = [("r1", "ada@x.com", T0, "GB"), ("r2", "ada@x.com", T0 + timedelta(minutes=20), "NG"),
            ("r5", "bob@x.com", T0, "GB"), ("r6", "bob@x.com", T0 + timedelta(minutes=5), "RU"),
            ("r7", "geo@x.com", T0, "GB"), ("r8", "geo@x.com", T0 + timedelta(minutes=7), "BG"),
            ("r9", "geo@x.com", T0 + timedelta(minutes=14), "BR")]
    pairs = [_signin(*p) for p in plan]
    insert_canonical(store, "signins", [p[0] for p in pairs])
    insert(store, "signins_enriched", [p[1] for p in pairs])
    travel = [("r1", "r2", "ada@x.com", "GB", "NG"), ("r5", "r6", "bob@x.com", "GB", "RU"),
              ("r7", "r8", "geo@x.com", "GB", "BG"), ("r8", "r9", "geo@x.com", "BG", "BR")]
    insert(store, "travel", [{"from_event_id": f"ev-{a}", "to_event_id": f"ev-{b}", "user_principal_name": u,
                              "from_country": fc, "to_country": tc, "speed_kmh": 9000.0, "same_session": True,
                              "verdict": "impossible"} for a, b, u, fc, tc in travel])
    # vigil raises one incident, on ada's campaign only
    add_detections(store, [detection(userPrincipalName="ada@x.com", event_id="ev-r2",
                                     riskEventType="attackerinTheMiddle", riskLevel="high")])
    build.build(store, IncidentSettings.model_validate({}))
    labels = _write(tmp_path / "labels.jsonl", [
        {"kind": "event", "record_id": "r2", "campaign_id": "c1", "campaign_type": "aitm_phishing",
         "technique": "T1557", "malicious": True, "user": "ada@x.com"},
        {"kind": "event", "record_id": "r6", "campaign_id": "c2", "campaign_type": "brute_force",
         "technique": "T1110.001", "malicious": True, "user": "bob@x.com"},
        {"kind": "event", "record_id": "gone", "campaign_id": "c3", "campaign_type": "brute_force",
         "technique": "T1110.001", "malicious": True, "user": "x@x.com"},
        {"kind": "compromise", "user": "ada@x.com", "campaign_id": "c1", "campaign_type": "aitm_phishing"},
    ])
    _write(tmp_path / "scenarios.jsonl", [{"scenario": "vpn_egress_failover", "user": "geo@x.com",
                                           "record_ids": ["r7", "r8", "r9"]}])
    r = evaluate.evaluate(store, labels)
    # naive: 4 in-session country changes + first-time countries (NG, RU, BG, BR) = 8
    assert r["naive_alerts"] == 8 and r["vigil_incidents"] == 1 and r["incidents_on_no_labelled_campaign"] == []
    assert r["reduction"] == pytest.approx(1 - 1 / 8)
    assert r["campaigns"] == 3 and r["vigil_recall"] == pytest.approx(1 / 3)
    assert r["naive_recall"] == pytest.approx(2 / 3)
    by = {b["campaign_type"]: b for b in r["by_type"]}
    assert by["brute_force"] == {"campaign_type": "brute_force", "campaigns": 2, "vigil_covered": 0,
                                 "naive_covered": 1}
    assert {m["campaign_id"] for m in r["missed"]} == {"c2", "c3"}
    assert [u["campaign_id"] for u in r["unresolved"]] == ["c3"]
    assert r["vpn_failover"] == {"users": 1, "vigil_incidents": 0, "naive_alerts_on_failover_events": 4,
                                 "naive_alerts_on_those_users": 4}
    assert r["benign_scenarios"] == [{"scenario": "vpn_egress_failover", "users": 1,
                                      "incidents_on_no_labelled_campaign": 0}]
    assert r["per_detection"] == [{"riskEventType": "attackerinTheMiddle", "findings": 1,
                                   "on_malicious_events": 1, "users": 1}]
    assert r["targets"] == {"reduction_at_least_95pct": False, "recall_at_least_99pct": False,
                            "zero_vpn_failover_incidents": True}


def test_bad_labels(store: Store, tmp_path: Path) -> None:
    create_upstream(store)
    build.build(store, IncidentSettings.model_validate({}))
    with pytest.raises(InputError, match="not found"):
        evaluate.evaluate(store, tmp_path / "nope.jsonl")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"kind": "event", "record_id": "r1"}\n', encoding="utf-8")
    with pytest.raises(InputError, match="campaign_id"):
        evaluate.evaluate(store, bad)
    bad.write_text("{not json\n", encoding="utf-8")
    with pytest.raises(InputError, match="line 1"):
        evaluate.evaluate(store, bad)


def test_benign_scenarios_count_false_alarms_on_their_users(store: Store, tmp_path: Path) -> None:
    create_upstream(store)
    pairs = [_signin("t1", "tia@x.com", T0, "GB"), _signin("t2", "tia@x.com", T0 + timedelta(hours=9), "US"),
             _signin("a1", "ada@x.com", T0, "GB")]
    insert_canonical(store, "signins", [p[0] for p in pairs])
    insert(store, "signins_enriched", [p[1] for p in pairs])
    insert(store, "travel", [])
    # tia's business trip becomes an incident (a false alarm); ada's labelled compromise is not one
    add_detections(store, [detection(userPrincipalName="tia@x.com", event_id="ev-t2", riskLevel="high"),
                           detection(userPrincipalName="ada@x.com", event_id="ev-a1", riskLevel="high",
                                     riskEventType="attackerinTheMiddle")])
    build.build(store, IncidentSettings.model_validate({}))
    labels = _write(tmp_path / "labels.jsonl", [
        {"kind": "event", "record_id": "a1", "campaign_id": "c1", "campaign_type": "aitm_phishing",
         "malicious": True, "user": "ada@x.com"}])
    _write(tmp_path / "scenarios.jsonl", [
        {"scenario": "user_profile", "user": "tia@x.com"}, {"scenario": "travel", "user": "tia@x.com"},
        {"scenario": "consumer_vpn", "user": "ada@x.com", "record_ids": ["a1"]}])
    r = evaluate.evaluate(store, labels)
    assert r["benign_scenarios"] == [
        {"scenario": "consumer_vpn", "users": 1, "incidents_on_no_labelled_campaign": 0},
        {"scenario": "travel", "users": 1, "incidents_on_no_labelled_campaign": 1}]
