"""Entra ID sign-in adapters: Log Analytics (JSON / CSV), diagnostic records, Graph."""
from __future__ import annotations

import json
from datetime import datetime

from tests.conftest import FIXTURES, sample
from tests.sources.vendor_support import ingest_one, quarantine_reasons, rows

LA = FIXTURES / "sources" / "entra" / "SigninLogs.ndjson"


def test_log_analytics_interactive_and_non_interactive(store, settings):
    r = ingest_one(store, settings, LA)
    assert r.source_format == "entra_signin_la"
    # 4 distinct sign-ins, 1 repeated record, 3 bad lines (bad time, truncated JSON, not an object)
    assert (r.read, r.stored, r.duplicate, r.quarantined) == (8, 4, 1, 3)
    got = rows(store, "signins", "entra_signin_la")
    root = got["0f3e5a12-0000-4000-8000-000000000001"]
    assert root["event_time"] == datetime(2026, 3, 2, 9, 2, 11, 123456)
    assert root["source_table"] == "SigninLogs"
    assert root["user_principal_name"] == "alice.smith@contoso.com"
    assert (root["result"], root["result_code"], root["is_interactive"]) == ("success", "0", True)
    assert root["mfa_satisfied"] is True
    assert json.loads(root["auth_methods"]) == ["Password", "Mobile app notification"]
    assert (root["country"], root["city"], root["latitude"], root["longitude"], root["asn"]) == (
        "GB", "London", 51.5072, -0.1276, 20712)
    assert (root["device_id"], root["device_managed"], root["device_compliant"]) == ("dev-1", True, True)
    assert root["session_id"] == "8f2c1e0a-5b7d-4c3e-9a1f-000000000001"
    assert root["unique_token_id"] == "uti-AAAAAAAAAAAAAAAAAAAAAA"
    assert json.loads(root["ca_policies"])[0]["displayName"] == "Require MFA"

    # the non-interactive table types DeviceDetail / LocationDetails / Status as JSON strings
    ni = got["0f3e5a12-0000-4000-8000-000000000002"]
    assert ni["source_table"] == "AADNonInteractiveUserSignInLogs"
    assert ni["is_interactive"] is False
    assert (ni["country"], ni["city"], ni["device_id"], ni["device_os"]) == ("BG", "Sofia", "dev-1", "Windows 10")
    assert ni["ip"] == "2001:db8::7"  # bracketed address with port
    assert ni["incoming_token_type"] == "primaryRefreshToken"
    assert ni["session_id"] == root["session_id"]

    failed = got["0f3e5a12-0000-4000-8000-000000000003"]
    assert failed["event_time"] == datetime(2026, 3, 2, 7, 59, 1)  # +01:00 converted to UTC
    assert (failed["result"], failed["result_code"]) == ("failure", "50126")
    assert failed["result_reason"].startswith("Invalid username or password")
    assert failed["session_id"] is None and failed["mfa_satisfied"] is False

    assert got["0f3e5a12-0000-4000-8000-000000000004"]["result"] == "interrupted"  # 50074

    reasons = quarantine_reasons(store, LA)
    assert reasons == ['unparseable event time "not a time"', "not valid JSON", "not a JSON object"]
    lines = [q["line"] for q in store.query("select line from quarantine order by line").to_pylist()]
    assert lines == [6, 7, 9]


def test_same_file_twice_adds_nothing(store, settings):
    first = ingest_one(store, settings, LA)
    again = ingest_one(store, settings, LA)
    assert again.stored == 0 and again.duplicate == first.stored + first.duplicate
    assert store.count("signins") == 4 and store.count("raw_records") == 4


def test_raw_record_is_kept(store, settings):
    ingest_one(store, settings, LA)
    ids = {r["request_id"]: r["event_id"] for r in store.query("select request_id, event_id from signins").to_pylist()}
    raws = store.raw(list(ids.values()))
    assert len(raws) == 4
    ni = raws[ids["0f3e5a12-0000-4000-8000-000000000002"]]
    assert json.loads(ni)["UniqueTokenIdentifier"] == "uti-BBBBBBBBBBBBBBBBBBBBBB"
    # byte for byte the line as read (without its newline)
    lines = {json.loads(x)["Id"]: x for x in LA.read_text().splitlines()[:4]}
    assert all(raws[ids[rid]] == lines[rid] for rid in lines)


def test_diagnostic_records_all_categories(store, settings):
    path = sample("entra-signin/elastic_test-signinlogs-raw.log")
    r = ingest_one(store, settings, path)
    assert r.source_format == "entra_signin_diag" and r.stored == 5
    tables = {x["source_table"] for x in store.query("select source_table from signins").to_pylist()}
    assert tables == {"SigninLogs", "AADNonInteractiveUserSignInLogs", "AADServicePrincipalSignInLogs",
                      "MicrosoftServicePrincipalSignInLogs", "AADManagedIdentitySignInLogs"}
    # createdDateTime carries -05:00; stored in UTC
    times = {x["event_time"] for x in store.query("select event_time from signins").to_pylist()}
    assert times == {datetime(2019, 10, 18, 9, 45, 48, 72989)}


def test_time_format_stubs_are_quarantined_with_reason(store, settings):
    path = sample("entra-signin/elastic_test-time-formats-corner-cases.log")
    r = ingest_one(store, settings, path)
    assert r.quarantined == 11 and r.stored == 0
    assert all("no `properties`" in reason for reason in quarantine_reasons(store, path))


def test_portal_csv_with_us_times_and_twin_columns(store, settings):
    path = sample("entra-signin/sentinel-lab_sign-in_adelete.csv")
    r = ingest_one(store, settings, path)
    assert (r.read, r.stored, r.quarantined) == (56, 56, 0)
    row = store.query("select min(event_time) t, count(distinct user_principal_name) u, "
                      "count(country) c, count(device_os) d from signins").to_pylist()[0]
    assert row["t"] == datetime(2021, 4, 28, 14, 8, 45, 221000)  # "4/28/2021, 2:08:45.221 PM"
    assert row["u"] == 1 and row["c"] == 56 and row["d"] == 56


def test_portal_csv_without_time_column_uses_first_authentication_step(store, settings):
    path = sample("entra-signin/sentinel-lab_disable_accounts.csv")
    r = ingest_one(store, settings, path)
    assert r.stored == 4
    for s in store.query("select country, latitude, longitude, result_code from signins").to_pylist():
        # the export swaps latitude and longitude; Pyongyang is at 39.0N 125.7E
        assert s["country"] == "KP" and 38 < s["latitude"] < 40 and 125 < s["longitude"] < 126
        assert s["result_code"] == "50057"


def test_graph_pages_including_invalid_trailing_comma(store, settings):
    v1 = sample("graph-api/graph-v1_signin-list_example1-response.json")
    beta = sample("microsoft-docs/graph-beta-signin-list-response-example2.json")
    assert ingest_one(store, settings, v1).stored == 1  # as published, with a trailing comma
    assert ingest_one(store, settings, beta).stored == 1
    b = store.query("select * from signins where unique_token_id is not null").to_pylist()[0]
    assert b["source_format"] == "entra_signin_graph" and b["asn"] == 3598
    assert b["incoming_token_type"] == "Primary Refresh Token"


def test_diagnostic_record_without_status_takes_the_envelope_result(store, settings, tmp_path):
    # an exported SignInLogs record with no properties.status: the envelope's resultType is the result,
    # so a successful ROPC sign-in without MFA is a success (legacy-auth / leaked-credential detections see it)
    base = {"time": "2026-03-02T09:00:00Z", "category": "SignInLogs", "operationName": "Sign-in activity",
            "callerIpAddress": "203.0.113.7", "tenantId": "t1"}
    props = {"createdDateTime": "2026-03-02T09:00:00Z", "userPrincipalName": "svc@contoso.com", "userId": "u1",
             "appDisplayName": "Azure Active Directory PowerShell", "clientAppUsed": "Other clients",
             "userAgent": "BAV2ROPC", "authenticationRequirement": "singleFactorAuthentication",
             "authenticationProtocol": "ropc", "ipAddress": "203.0.113.7", "isInteractive": True}
    path = tmp_path / "diag.json"
    lines = [dict(base, resultType="0", properties=dict(props, id="ok-1")),
             dict(base, resultType="50126", properties=dict(props, id="bad-1")),
             dict(base, resultType="0", properties=dict(props, id="own-1", status={"errorCode": 50053}))]
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    ingest_one(store, settings, path)
    got = rows(store, "signins", "entra_signin_diag")
    assert (got["ok-1"]["result"], got["ok-1"]["result_code"], got["ok-1"]["mfa_satisfied"]) == ("success", "0", False)
    assert (got["bad-1"]["result"], got["bad-1"]["result_code"]) == ("failure", "50126")
    # the record's own status wins over the envelope
    assert got["own-1"]["result_code"] == "50053"


def test_device_code_refreshes_keep_their_flow(store, settings, tmp_path):
    # a token refreshed from a device-code sign-in says protocol "none", OriginalTransferMethod deviceCodeFlow
    base = {"time": "2026-03-02T09:00:00Z", "category": "NonInteractiveUserSignInLogs", "resultType": "0"}
    props = {"createdDateTime": "2026-03-02T09:00:00Z", "userPrincipalName": "ada@contoso.com", "userId": "u1",
             "ipAddress": "203.0.113.7", "isInteractive": False, "status": {"errorCode": 0}}
    path = tmp_path / "dc.json"
    lines = [dict(base, properties=dict(props, id="r1", authenticationProtocol="none",
                                        originalTransferMethod="deviceCodeFlow")),
             dict(base, properties=dict(props, id="d1", authenticationProtocol="deviceCode")),
             dict(base, properties=dict(props, id="n1", authenticationProtocol="none", originalTransferMethod="none"))]
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    ingest_one(store, settings, path)
    got = rows(store, "signins", "entra_signin_diag")
    assert [got[k]["auth_protocol"] for k in ("r1", "d1", "n1")] == ["deviceCode", "deviceCode", "none"]
