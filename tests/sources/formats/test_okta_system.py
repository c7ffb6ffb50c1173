"""Okta System Log API events -> signins; the other event types -> activities through the fallback twin."""
from __future__ import annotations

import json
from datetime import datetime

from tests.conftest import FIXTURES
from tests.sources.vendor_support import ingest_one, quarantined, rows, stored_from

PAGE = FIXTURES / "sources" / "okta" / "system_log_page.json"


def test_api_page_maps_sign_ins_and_steps(store, settings):
    r = ingest_one(store, settings, PAGE)
    assert r.source_format == "okta_system"
    # 5 sign-ins + 1 password change (stored by the twin), 1 repeated uuid, 1 record without time
    assert (r.read, r.stored, r.duplicate, r.quarantined) == (8, 6, 1, 1)
    assert stored_from(store, PAGE) == {("signins", "okta_system"): 5, ("activities", "okta_system_activity"): 1}
    got = rows(store, "signins", "okta_system")
    assert "e4627183-1b2a-11ef-9a3b-0b5c1d2e3f45" not in got

    start = got["9f1d2c3e-1b2a-11ef-9a3b-0b5c1d2e3f40"]
    assert start["event_time"] == datetime(2026, 11, 27, 8, 15, 2, 118000)
    assert start["user_principal_name"] == "alice.martin@contoso.com"  # lower-cased alternateId
    assert start["user_id"] == "00u1a2b3c4D5e6F7g8h9"
    assert (start["result"], start["result_code"]) == ("success", "SUCCESS")
    assert (start["ip"], start["country"], start["state"], start["city"]) == (
        "203.0.113.24", "FR", "Auvergne-Rhone-Alpes", "Lyon")
    assert (start["latitude"], start["longitude"], start["asn"]) == (45.7485, 4.8467, 3215)
    # rootSessionId wins over externalSessionId
    assert start["session_id"] == "102wXyZaBcDeFgHiJkLmNoP"
    assert start["request_id"] == start["correlation_id"] == "Zz0aBcDeFgHiJkLmNoPqRsTuAAAB"
    assert (start["device_os"], start["device_browser"]) == ("Mac OS X", "SAFARI")
    assert start["risk_level_during_signin"] == "medium"
    assert json.loads(start["risk_event_types"]) == ["New Geo-Location", "New IP", "New State", "New City"]
    assert start["is_interactive"] is True
    assert start["mfa_satisfied"] is None  # a session start says nothing about factors

    mfa = got["a02e3d4f-1b2a-11ef-9a3b-0b5c1d2e3f41"]
    assert mfa["mfa_satisfied"] is True
    assert json.loads(mfa["auth_methods"]) == ["OTP", "OKTA_VERIFY_PUSH"]

    # an offset timestamp is converted to UTC; failure reason and threat flag kept
    failed = got["b13f4e50-1b2a-11ef-9a3b-0b5c1d2e3f42"]
    assert failed["event_time"] == datetime(2026, 11, 27, 8, 2, 44)
    assert (failed["result"], failed["result_code"]) == ("failure", "INVALID_CREDENTIALS")
    assert failed["result_reason"] == "User login to Okta: FAILURE (INVALID_CREDENTIALS)"
    assert failed["session_id"] is None  # externalSessionId "unknown" is not a session
    assert failed["risk_level_during_signin"] == "high"
    assert json.loads(failed["risk_event_types"]) == ["threatSuspected", "anonymizedIPAddress"]  # isProxy: true
    assert (failed["country"], failed["asn"]) == ("NL", 60781)

    deny = got["c2405f61-1b2a-11ef-9a3b-0b5c1d2e3f43"]
    assert (deny["result"], deny["mfa_satisfied"]) == ("failure", False)

    sso = got["d3516072-1b2a-11ef-9a3b-0b5c1d2e3f44"]
    assert (sso["app_id"], sso["app_name"], sso["auth_protocol"]) == (
        "0oa5f6g7h8i9j0k1l2m3", "Salesforce.com", "SAML 2.0")

    # the non-sign-in is not quarantined: the twin stores it in activities, in the same transaction
    [pw] = rows(store, "activities", "okta_system_activity").values()
    assert pw["source_record_id"] == "e4627183-1b2a-11ef-9a3b-0b5c1d2e3f45"
    assert (pw["operation"], pw["workload"], pw["record_type"], pw["source_table"]) == (
        "user.account.update_password", "Okta", "OktaSystemLog", "OktaSystemLog")
    assert (pw["user_principal_name"], pw["user_id"]) == ("alice.martin@contoso.com", "00u1a2b3c4D5e6F7g8h9")
    assert (pw["ip"], pw["event_time"], pw["result_status"]) == (
        "203.0.113.24", datetime(2026, 11, 27, 8, 25), "SUCCESS")
    assert pw["session_id"] == "idxAbCdEfGhIjKlMnOpQr"
    assert store.scalar("SELECT target_table FROM raw_records WHERE event_id = ?", [pw["event_id"]]) == "activities"

    # the sign-in without a time is still quarantined, by the sign-in format
    assert quarantined(store, PAGE) == [("okta_system", "no event time in the record")]


def test_reingest_adds_nothing(store, settings):
    ingest_one(store, settings, PAGE)
    again = ingest_one(store, settings, PAGE)
    # the activity stored by the twin is a duplicate the second time too (6 sign-ins + 1 activity)
    assert (again.read, again.stored, again.duplicate, again.quarantined) == (8, 0, 7, 1)
    assert store.count("signins") == 5 and store.count("activities") == 1


def test_forced_twin_then_default_format_adds_no_activity(store, settings):
    """The fallback stores under the twin's name, so its event ids match a run forced with --format."""
    ingest_one(store, settings, PAGE, fmt="okta_system_activity")
    r = ingest_one(store, settings, PAGE)
    assert (r.read, r.stored, r.duplicate, r.quarantined) == (8, 5, 2, 1)
    assert store.count("activities") == 6  # the forced run's rows, not one more


def test_bad_records_are_still_quarantined_with_a_reason(store, settings, tmp_path):
    events = json.loads(PAGE.read_text())
    no_type = {k: v for k, v in events[5].items() if k != "eventType"} | {"uuid": "11111111-no-type"}
    no_actor = {k: v for k, v in events[5].items() if k != "actor"} | {"uuid": "22222222-no-actor"}
    bad_time = events[5] | {"uuid": "33333333-bad-time", "published": "yesterday"}
    admin = events[5] | {"uuid": "44444444-admin", "eventType": "user.lifecycle.suspend",
                         "published": "2026-11-27T09:00:00Z", "client": {"ipAddress": "198.51.100.9"}}
    path = tmp_path / "okta.ndjson"
    path.write_text("\n".join([json.dumps(events[0]), '{"eventType": "user.session.start", ', json.dumps(no_type),
                               json.dumps(no_actor), json.dumps(bad_time), json.dumps(admin), "[1, 2]"]) + "\n",
                    encoding="utf-8")
    r = ingest_one(store, settings, path, fmt="okta_system")
    assert (r.read, r.stored, r.duplicate, r.quarantined) == (7, 2, 0, 5)
    assert stored_from(store, path) == {("signins", "okta_system"): 1, ("activities", "okta_system_activity"): 1}
    no_event = "not an Okta System Log event: no eventType or actor"
    assert quarantined(store, path) == [
        ("okta_system", "not valid JSON"),
        ("okta_system_activity", no_event),
        ("okta_system_activity", no_event),
        ("okta_system_activity", 'unparseable event time "yesterday"'),
        ("okta_system", "not a JSON object"),
    ]
    suspend = rows(store, "activities", "okta_system_activity")["44444444-admin"]
    assert (suspend["operation"], suspend["ip"], suspend["event_time"]) == (
        "user.lifecycle.suspend", "198.51.100.9", datetime(2026, 11, 27, 9))


def test_activity_twin_keeps_every_event(store, settings):
    r = ingest_one(store, settings, PAGE, fmt="okta_system_activity")
    assert (r.stored, r.duplicate, r.quarantined) == (6, 1, 1)
    assert stored_from(store, PAGE) == {("activities", "okta_system_activity"): 6}  # sign-ins too, when forced
    got = rows(store, "activities", "okta_system_activity")
    pw = got["e4627183-1b2a-11ef-9a3b-0b5c1d2e3f45"]
    assert (pw["operation"], pw["workload"], pw["result_status"]) == (
        "user.account.update_password", "Okta", "SUCCESS")
    assert pw["session_id"] == "idxAbCdEfGhIjKlMnOpQr"


def test_network_verdicts_and_threat_insight_are_kept(store, settings, tmp_path):
    # securityContext.isProxy / isTor and ThreatInsight's threatSuspected were dropped: an anonymising proxy
    # looked residential; they are now risk event types (enrichment classes the IP from them)
    base = json.loads(PAGE.read_text())[0]
    events = []
    for uid, ctx, threat in (("p1", {"isProxy": True}, "false"), ("t1", {"isProxy": False, "isTor": True}, "false"),
                             ("n1", {"isProxy": False}, "false"), ("x1", {"isProxy": False}, "true")):
        e = json.loads(json.dumps(base))
        e["uuid"] = uid
        e["securityContext"] = {**e.get("securityContext", {}), **ctx}
        e.setdefault("debugContext", {}).setdefault("debugData", {})["threatSuspected"] = threat
        e["debugContext"]["debugData"].pop("behaviors", None)
        events.append(e)
    path = tmp_path / "okta.json"
    path.write_text(json.dumps(events))
    ingest_one(store, settings, path, fmt="okta_system")
    got = rows(store, "signins", "okta_system")
    assert json.loads(got["p1"]["risk_event_types"]) == ["anonymizedIPAddress"]
    assert json.loads(got["t1"]["risk_event_types"]) == ["anonymizedIPAddress", "torExitNode"]
    assert json.loads(got["n1"]["risk_event_types"]) == []
    assert json.loads(got["x1"]["risk_event_types"]) == ["threatSuspected"]
