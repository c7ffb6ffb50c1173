"""Okta System Log API events -> signins (and every event into activities with the forced twin)."""
from __future__ import annotations

import json
from datetime import datetime

from tests.conftest import FIXTURES
from tests.sources.vendor_support import ingest_one, quarantine_reasons, rows

PAGE = FIXTURES / "sources" / "okta" / "system_log_page.json"


def test_api_page_maps_sign_ins_and_steps(store, settings):
    r = ingest_one(store, settings, PAGE)
    assert r.source_format == "okta_system"
    assert (r.read, r.stored, r.duplicate, r.quarantined) == (8, 5, 1, 2)
    got = rows(store, "signins", "okta_system")

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
    assert json.loads(failed["risk_event_types"]) == ["threatSuspected"]
    assert (failed["country"], failed["asn"]) == ("NL", 60781)

    deny = got["c2405f61-1b2a-11ef-9a3b-0b5c1d2e3f43"]
    assert (deny["result"], deny["mfa_satisfied"]) == ("failure", False)

    sso = got["d3516072-1b2a-11ef-9a3b-0b5c1d2e3f44"]
    assert (sso["app_id"], sso["app_name"], sso["auth_protocol"]) == (
        "0oa5f6g7h8i9j0k1l2m3", "Salesforce.com", "SAML 2.0")

    reasons = quarantine_reasons(store, PAGE)
    assert "not a sign-in: Okta eventType user.account.update_password (use --format okta_system_activity to " \
           "keep it in activities)" in reasons
    assert "no event time in the record" in reasons


def test_reingest_adds_nothing(store, settings):
    ingest_one(store, settings, PAGE)
    again = ingest_one(store, settings, PAGE)
    assert (again.stored, again.duplicate, again.quarantined) == (0, 6, 2)


def test_activity_twin_keeps_every_event(store, settings):
    r = ingest_one(store, settings, PAGE, fmt="okta_system_activity")
    assert (r.stored, r.duplicate, r.quarantined) == (6, 1, 1)
    got = rows(store, "activities", "okta_system_activity")
    pw = got["e4627183-1b2a-11ef-9a3b-0b5c1d2e3f45"]
    assert (pw["operation"], pw["workload"], pw["result_status"]) == (
        "user.account.update_password", "Okta", "SUCCESS")
    assert pw["session_id"] == "idxAbCdEfGhIjKlMnOpQr"
