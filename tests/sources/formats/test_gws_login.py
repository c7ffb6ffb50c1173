"""Google Workspace login activities (Reports API) -> signins; other login events -> activities (fallback twin)."""
from __future__ import annotations

import json
from datetime import datetime

from tests.conftest import FIXTURES, sample
from tests.sources.vendor_support import ingest_one, quarantined, rows, stored_from

PAGE = FIXTURES / "sources" / "gws" / "login_activities_page.json"


def test_api_page_with_events_arrays(store, settings):
    """A pretty-printed page (Google APIs' default): one-line parameter objects must not look like NDJSON."""
    r = ingest_one(store, settings, PAGE)
    assert r.source_format == "gws_login"
    # 3 sign-ins + 1 logout (stored by the twin), 1 repeated sign-in, 1 activity with an empty `events`
    assert (r.read, r.stored, r.duplicate, r.quarantined) == (6, 4, 1, 1)
    assert stored_from(store, PAGE) == {("signins", "gws_login"): 3, ("activities", "gws_login_activity"): 1}
    got = {row["result_code"]: row for row in rows(store, "signins", "gws_login").values()}

    ok = got["login_success"]
    assert ok["event_time"] == datetime(2026, 11, 27, 8, 15, 2, 118000)
    assert ok["user_principal_name"] == "alice.martin@contoso.com"
    assert (ok["user_id"], ok["tenant_id"]) == ("104382954711209384756", "C03az79cb")
    assert (ok["result"], ok["ip"], ok["auth_protocol"]) == ("success", "203.0.113.24", "google_password")
    assert json.loads(ok["auth_methods"]) == ["password", "google_authenticator"]
    assert ok["mfa_satisfied"] is True
    assert ok["source_record_id"].startswith("-4761245503390841204:2026-11-27T08:15:02.118Z:login_success:")

    bad = got["login_failure_invalid_password"]
    assert (bad["result"], bad["ip"]) == ("failure", "2001:db8:85a3::8a2e:370:7334")
    assert json.loads(bad["risk_event_types"]) == ["suspiciousLogin"]
    assert bad["mfa_satisfied"] is None

    verify = got["login_verification"]
    assert (verify["result"], verify["mfa_satisfied"]) == ("failure", False)  # challenge status "failed"

    # the logout is not quarantined: the twin stores it in activities
    [logout] = rows(store, "activities", "gws_login_activity").values()
    assert (logout["operation"], logout["record_type"], logout["workload"], logout["source_table"]) == (
        "logout", "logout", "Google Workspace", "GoogleWorkspaceReports.login")
    assert (logout["user_principal_name"], logout["user_id"], logout["tenant_id"]) == (
        "alice.martin@contoso.com", "104382954711209384756", "C03az79cb")
    assert (logout["ip"], logout["event_time"]) == ("203.0.113.24", datetime(2026, 11, 27, 17, 40))
    assert logout["source_record_id"].startswith("1093381027745562726:2026-11-27T17:40:00.000Z:logout:")

    # an activity without any event is neither a sign-in nor an activity: quarantined (by the twin) with a reason
    assert quarantined(store, PAGE) == [
        ("gws_login_activity", "no event in `events` (a Google Workspace activity needs events[0].name)")]


def test_api_page_compact(store, settings, tmp_path):
    """The same page on one line (as `prettyPrint=false` returns it) maps the same sign-ins."""
    compact = tmp_path / "page.json"
    compact.write_text(json.dumps(json.loads(PAGE.read_text())), encoding="utf-8")
    r = ingest_one(store, settings, compact)
    assert (r.source_format, r.read, r.stored, r.duplicate, r.quarantined) == ("gws_login", 6, 4, 1, 1)
    assert stored_from(store, compact) == {("signins", "gws_login"): 3, ("activities", "gws_login_activity"): 1}
    assert [x["operation"] for x in rows(store, "activities", "gws_login_activity").values()] == ["logout"]
    got = {row["result_code"]: row for row in rows(store, "signins", "gws_login").values()}
    assert set(got) == {"login_success", "login_failure_invalid_password", "login_verification"}
    assert got["login_success"]["mfa_satisfied"] is True
    assert got["login_failure_invalid_password"]["ip"] == "2001:db8:85a3::8a2e:370:7334"


def test_elastic_flattened_events(store, settings):
    path = sample("gws/elastic_test-login.log")
    r = ingest_one(store, settings, path)
    # 6 login_* events are sign-ins; 9 account warnings, a logout and a sensitive action go to activities
    assert (r.read, r.stored, r.duplicate, r.quarantined) == (17, 17, 0, 0)
    assert stored_from(store, path) == {("signins", "gws_login"): 6, ("activities", "gws_login_activity"): 11}
    got = rows(store, "signins", "gws_login")
    # the two login_success records share id.time and uniqueQualifier but differ in parameters: both kept
    successes = [x for x in got.values() if x["result_code"] == "login_success"]
    assert len(successes) == 2
    suspicious = [x for x in successes if x["risk_event_types"]]
    assert len(suspicious) == 1 and json.loads(suspicious[0]["auth_methods"]) == ["password"]
    assert suspicious[0]["mfa_satisfied"] is False
    key = next(x for x in got.values() if x["event_time"].year == 2025)
    assert json.loads(key["auth_methods"]) == ["security_key"] and key["mfa_satisfied"] is True
    assert quarantined(store, path) == []

    acts = {x["operation"]: x for x in rows(store, "activities", "gws_login_activity").values()}
    assert len(acts) == 11
    assert {"logout", "risky_sensitive_action_allowed", "suspicious_login", "gov_attack_warning"} <= set(acts)
    assert not {"login_success", "login_failure", "login_challenge", "login_verification"} & set(acts)
    hijacked = acts["account_disabled_hijacked"]
    assert (hijacked["record_type"], hijacked["object_id"]) == ("account_warning", "foo@elastic.co")
    assert (hijacked["user_principal_name"], hijacked["ip"], hijacked["event_time"]) == (
        "foo@bar.com", "67.43.156.13", datetime(2020, 10, 2, 15))


def test_sentinel_sample(store, settings):
    r = ingest_one(store, settings, sample("gws/sentinel-playground_GWorkspace_ReportsAPI_login_CL.json"))
    assert (r.read, r.stored, r.duplicate, r.quarantined) == (3, 3, 0, 0)
    got = rows(store, "signins", "gws_login")
    assert {x["user_principal_name"] for x in got.values()} == {"user7@company.com"}
    assert all(x["mfa_satisfied"] for x in got.values())  # google_prompt is a second factor
    assert next(x["event_time"] for x in got.values()) == datetime(2020, 11, 9, 22, 46, 21, 209000)


def test_activity_twin(store, settings):
    path = sample("gws/elastic_test-login.log")
    r = ingest_one(store, settings, path, fmt="gws_login_activity")
    assert (r.stored, r.quarantined) == (17, 0)
    assert stored_from(store, path) == {("activities", "gws_login_activity"): 17}  # sign-ins too, when forced
    ops = {x["operation"]: x for x in rows(store, "activities", "gws_login_activity").values()}
    assert ops["account_disabled_hijacked"]["record_type"] == "account_warning"
    assert ops["account_disabled_hijacked"]["object_id"] == "foo@elastic.co"  # affected_email_address
