"""AWS CloudTrail sign-ins (raw records, Sentinel AWSCloudTrail) -> signins; other API calls -> activities
(fallback twins cloudtrail_activity / cloudtrail_sentinel_activity)."""
from __future__ import annotations

import gzip
import json
from datetime import datetime

from tests.conftest import FIXTURES, sample
from tests.sources.vendor_support import ingest_one, quarantined, rows, stored_from

DIR = FIXTURES / "sources" / "cloudtrail"
DELIVERY = DIR / "444455556666_CloudTrail_us-east-1_20261127T1005Z_a1b2c3d4e5f6g7h8.json.gz"
CSV = DIR / "awscloudtrail_sentinel.csv"


def test_delivery_file_records_wrapper_gz(store, settings):
    r = ingest_one(store, settings, DELIVERY)
    assert r.source_format == "cloudtrail_console"
    # 5 sign-ins + 1 S3 API call, stored by the twin in the same run
    assert (r.read, r.stored, r.duplicate, r.quarantined) == (6, 6, 0, 0)
    assert stored_from(store, DELIVERY) == {("signins", "cloudtrail_console"): 5,
                                            ("activities", "cloudtrail_activity"): 1}
    got = rows(store, "signins", "cloudtrail_console")
    assert "4c2d7a96-0e5b-4f1c-9d6e-5a7b9c1d3e45" not in got

    mfa = got["0e8f3c52-6a1d-4b7e-9f2a-1c3d5e7f9a01"]
    assert mfa["event_time"] == datetime(2026, 11, 27, 8, 15, 2)
    assert (mfa["user_principal_name"], mfa["user_id"], mfa["user_type"], mfa["tenant_id"]) == (
        "alice.martin", "AIDA2QWERTYUIOPASDFG1", "IAMUser", "444455556666")
    assert (mfa["result"], mfa["ip"], mfa["mfa_satisfied"]) == ("success", "203.0.113.24", True)
    assert json.loads(mfa["auth_methods"]) == ["password", "mfa"]
    assert mfa["app_name"] == "AWS Management Console"

    failed = got["1f9a4d63-7b2e-4c8f-8a3b-2d4e6f8a0b12"]
    assert (failed["result"], failed["result_reason"], failed["mfa_satisfied"]) == (
        "failure", "Failed authentication", False)

    federated = got["2a0b5e74-8c3f-4d9a-9b4c-3e5f7a9b1c23"]
    # the role session name (an e-mail here) identifies the person behind an assumed role
    assert (federated["user_principal_name"], federated["user_type"]) == ("alice.martin@contoso.com", "AssumedRole")
    assert federated["mfa_satisfied"] is False

    switch = got["3b1c6f85-9d4a-4e0b-8c5d-4f6a8b0c2d34"]
    assert (switch["app_name"], switch["result"], switch["session_id"]) == (
        "SwitchRole", "success", "ASIA2QWERTYUIOPKEY01")

    root = got["5d3e8ba7-1f6c-4a2d-8e7f-6b8c0d2e4f56"]
    assert root["event_time"] == datetime(2026, 11, 27, 23, 59, 59, 999000)
    assert (root["user_principal_name"], root["user_type"], root["mfa_satisfied"]) == (
        "arn:aws:iam::444455556666:root", "Root", False)

    assert quarantined(store, DELIVERY) == []
    [call] = rows(store, "activities", "cloudtrail_activity").values()
    assert call["source_record_id"] == "4c2d7a96-0e5b-4f1c-9d6e-5a7b9c1d3e45"
    assert (call["workload"], call["operation"], call["record_type"], call["result_status"]) == (
        "s3.amazonaws.com", "ListBuckets", "AwsApiCall", "Success")
    assert (call["user_principal_name"], call["user_type"], call["tenant_id"]) == (
        "alice.martin@contoso.com", "AssumedRole", "444455556666")
    assert (call["ip"], call["event_time"], call["source_table"]) == (
        "203.0.113.24", datetime(2026, 11, 27, 10, 6, 12), "AWSCloudTrail")
    assert call["session_id"] == "ASIA2QWERTYUIOPKEY01"  # joins the SwitchRole sign-in above


def test_activity_twin_keeps_api_calls(store, settings):
    r = ingest_one(store, settings, DELIVERY, fmt="cloudtrail_activity")
    assert (r.stored, r.quarantined) == (6, 0)
    assert stored_from(store, DELIVERY) == {("activities", "cloudtrail_activity"): 6}  # sign-ins too, when forced
    call = rows(store, "activities", "cloudtrail_activity")["4c2d7a96-0e5b-4f1c-9d6e-5a7b9c1d3e45"]
    assert (call["workload"], call["operation"], call["record_type"], call["session_id"]) == (
        "s3.amazonaws.com", "ListBuckets", "AwsApiCall", "ASIA2QWERTYUIOPKEY01")


def test_sentinel_csv_day_first_and_us_times(store, settings):
    r = ingest_one(store, settings, CSV)
    assert r.source_format == "cloudtrail_sentinel"
    assert (r.read, r.stored, r.duplicate, r.quarantined) == (3, 3, 0, 0)
    assert stored_from(store, CSV) == {("signins", "cloudtrail_sentinel"): 2,
                                       ("activities", "cloudtrail_sentinel_activity"): 1}
    assert quarantined(store, CSV) == []
    got = rows(store, "signins", "cloudtrail_sentinel")
    day_first = got["6e4f9cb8-2a7d-4b3e-9f80-7c9d1e3f5a67"]
    assert day_first["event_time"] == datetime(2025, 4, 3, 14, 5, 6, 250000)  # 03/04/2025 is 3 April
    assert day_first["resource_id"] == "https://console.aws.amazon.com/console/home?a=1&b=2"
    assert day_first["mfa_satisfied"] is True
    us = got["7f5a0dc9-3b8e-4c4f-8a91-8d0e2f4a6b78"]
    assert us["event_time"] == datetime(2025, 4, 3, 14, 7)  # 4/3/2025 2:07 PM is US month-first
    assert us["user_principal_name"] is None and us["user_display_name"] is None  # HIDDEN_DUE_TO_SECURITY_REASONS
    assert (us["result"], us["result_reason"]) == ("failure", "No username found in supplied account")
    # the IAM API call is stored in activities by the Sentinel twin, with the CSV's ISO time
    [key] = rows(store, "activities", "cloudtrail_sentinel_activity").values()
    assert key["source_record_id"] == "8a6b1eda-4c9f-4d50-9ba2-9e1f3a5b7c89"
    assert (key["workload"], key["operation"], key["record_type"], key["source_table"]) == (
        "iam.amazonaws.com", "CreateAccessKey", "AwsApiCall", "AWSCloudTrail")
    assert (key["user_principal_name"], key["ip"], key["event_time"]) == (
        "alice.martin", "203.0.113.24", datetime(2025, 4, 3, 14, 9))
    assert key["client_app_id"] == "ASIA2QWERTYUIOPKEY09"
    assert json.loads(key["parameters"]) == {"userName": "alice.martin"}


def test_bad_records_are_still_quarantined_with_a_reason(store, settings, tmp_path):
    """Only valid JSON objects go to the twin; the twin quarantines what is not a CloudTrail record at all."""
    records = json.loads(gzip.decompress(DELIVERY.read_bytes()))["Records"]
    login, call = records[0], next(x for x in records if x["eventName"] == "ListBuckets")
    no_name = {k: v for k, v in call.items() if k != "eventName"} | {"eventID": "no-name"}
    no_time = call | {"eventID": "no-time", "eventTime": ""}
    path = tmp_path / "trail.ndjson"
    path.write_text("\n".join([json.dumps(login), json.dumps(call), "not json", json.dumps(no_name),
                               json.dumps(no_time), '"ConsoleLogin"']) + "\n", encoding="utf-8")
    r = ingest_one(store, settings, path, fmt="cloudtrail_console")
    assert (r.read, r.stored, r.duplicate, r.quarantined) == (6, 2, 0, 4)
    assert stored_from(store, path) == {("signins", "cloudtrail_console"): 1, ("activities", "cloudtrail_activity"): 1}
    assert quarantined(store, path) == [
        ("cloudtrail_console", "not valid JSON"),
        ("cloudtrail_activity", "not a CloudTrail record: no eventName / eventSource"),
        ("cloudtrail_activity", "no event time in the record"),
        ("cloudtrail_console", "not a JSON object"),
    ]


def test_sentinel_asim_sample(store, settings):
    r = ingest_one(store, settings, sample("cloudtrail/sentinel-asim_AWS_CloudTrail_Authentication_IngestedLogs.csv"))
    assert (r.read, r.stored, r.duplicate, r.quarantined) == (83, 83, 0, 0)
    counts = dict(store.query("SELECT result, count(*) n FROM signins GROUP BY 1").to_pylist() and
                  [(x["result"], x["n"]) for x in store.query(
                      "SELECT result, count(*) n FROM signins GROUP BY 1").to_pylist()])
    assert counts == {"success": 72, "failure": 11}
    assert store.scalar("SELECT count(*) FROM signins WHERE user_type = 'Root'") == 4
    first = rows(store, "signins", "cloudtrail_sentinel")["190150da-f77d-428f-b699-78e570f2dae3"]
    assert first["event_time"] == datetime(2025, 4, 21, 9, 45, 54)  # "21/04/2025, 09:45:54.000"
    assert (first["user_principal_name"], first["ip"]) == ("catteamidc", "167.220.238.89")


def test_elastic_raw_sample(store, settings):
    r = ingest_one(store, settings, sample("cloudtrail/elastic_test-console-login-json.log"))
    # AWS's documentation examples reuse eventID 11ea990b-...: the second use counts as a duplicate
    assert (r.read, r.stored, r.duplicate, r.quarantined) == (3, 2, 1, 0)
    got = rows(store, "signins", "cloudtrail_console")
    assert got["3fcfb182-98f8-4744-bd45-10aEXAMPLE"]["result"] == "success"
    assert got["11ea990b-4678-4bcd-8fbe-625EXAMPLE"]["result_reason"] == "Failed authentication"


def test_session_mfa_counts_when_mfaused_says_no(store, settings, tmp_path):
    # a federated console sign-in: MFA happened at the IdP (sessionContext.attributes.mfaAuthenticated=true)
    # and CloudTrail writes MFAUsed=No for the console step; that is MFA, not its absence
    with gzip.open(DELIVERY, "rt") as fh:
        records = json.load(fh)["Records"]
    fed = next(r for r in records if r["eventID"] == "2a0b5e74-8c3f-4d9a-9b4c-3e5f7a9b1c23")
    out = []
    for eid, session_mfa, used in (("m1", "true", "No"), ("m2", "false", "No"), ("m3", None, "Yes")):
        r = json.loads(json.dumps(fed))
        r["eventID"] = eid
        r["additionalEventData"]["MFAUsed"] = used
        attrs = r["userIdentity"].setdefault("sessionContext", {}).setdefault("attributes", {})
        if session_mfa is None:
            attrs.pop("mfaAuthenticated", None)
        else:
            attrs["mfaAuthenticated"] = session_mfa
        out.append(r)
    path = tmp_path / "ct.json"
    path.write_text(json.dumps({"Records": out}))
    ingest_one(store, settings, path)
    got = rows(store, "signins", "cloudtrail_console")
    assert [(got[k]["mfa_satisfied"], got[k]["auth_requirement"]) for k in ("m1", "m2", "m3")] == [
        (True, "multiFactorAuthentication"), (False, "singleFactorAuthentication"), (True, "multiFactorAuthentication")]
