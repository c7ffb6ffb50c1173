"""Sentinel Okta_CL (flattened System Log) -> signins, other event types -> activities (fallback twin),
on the published playground sample."""
from __future__ import annotations

import json
from datetime import datetime

from tests.conftest import sample
from tests.sources.vendor_support import ingest_one, quarantined, rows, stored_from


def test_okta_cl_sample(store, settings):
    path = sample("okta/sentinel-playground_Okta_CL.json")
    r = ingest_one(store, settings, path)
    assert r.source_format == "okta_sentinel"
    # the sample holds each export twice: 308 distinct uuid_g, 285 repeats. 128 sign-in events (39 distinct)
    # go to signins; the 465 admin / import / provisioning / sign-out events (269 distinct) are stored in
    # activities by the okta_sentinel_activity twin, so nothing is quarantined
    assert (r.read, r.stored, r.duplicate, r.quarantined) == (593, 308, 285, 0)
    assert stored_from(store, path) == {("signins", "okta_sentinel"): 39, ("activities", "okta_sentinel_activity"): 269}
    assert store.count("quarantine") == 0
    # a record lands in exactly one table
    assert store.scalar("SELECT count(*) FROM signins s JOIN activities a USING (source_record_id)") == 0

    acts = rows(store, "activities", "okta_sentinel_activity")
    assert {"system.import.start", "application.user_membership.remove", "user.session.end",
            "policy.rule.update"} <= {a["operation"] for a in acts.values()}
    assert not {"user.session.start", "user.authentication.auth_via_mfa"} & {a["operation"] for a in acts.values()}
    end = acts["4dca39e6-9f9a-11ea-ab4e-d9527e48dd0e"]
    assert (end["operation"], end["source_table"], end["workload"]) == ("user.session.end", "Okta_CL", "Okta")
    assert (end["user_principal_name"], end["user_id"]) == ("user100@abccompany.com", "00urjk4znu3BcncfY0h7")
    assert (end["ip"], end["event_time"]) == ("65.65.65.65", datetime(2020, 5, 26, 21, 46, 6, 710000))
    assert end["session_id"] == "102pTUgC3p8RIqHvzxLCHnFlg"
    removal = acts["99c5f7a3-54d0-11ea-9689-37de53adb2f9"]
    assert (removal["operation"], removal["user_principal_name"], removal["ip"], removal["object_id"]) == (
        "application.user_membership.remove", "user22@abccompany.com", None, "tu1@example.com")
    assert removal["event_time"] == datetime(2020, 2, 21, 17, 35, 49, 804000)  # published_t, not TimeGenerated

    got = rows(store, "signins", "okta_sentinel")
    start = got["861b0c10-9f9e-11ea-8f4c-b9fe37b9e5fa"]
    assert start["source_table"] == "Okta_CL"
    assert start["event_time"] == datetime(2020, 5, 26, 22, 16, 19, 179000)  # published_t, not TimeGenerated
    assert start["user_principal_name"] == "user100@abccompany.com"
    assert (start["result"], start["ip"], start["country"], start["city"]) == (
        "success", "65.65.65.65", "US", "Los Angeles")
    assert (start["latitude"], start["longitude"], start["asn"]) == (34.047, -118.275, 10993)
    assert start["session_id"] == "102M55TPJ-YQ1yL8orhbh74Lg"
    assert start["request_id"] == "Xs2VMppsvxLauLNIgPCN1gAABYQ"

    failed_mfa = got["6540b50a-9f9e-11ea-8e6c-9d92aa70e8a4"]
    assert failed_mfa["result"] == "failure"
    assert failed_mfa["mfa_satisfied"] is None  # the failed factor was the password

    challenged = store.scalar("SELECT count(*) FROM signins WHERE source_format = 'okta_sentinel' "
                              "AND result = 'interrupted'")
    assert challenged > 0  # policy.evaluate_sign_on CHALLENGE and SMS factor sends


def test_okta_cl_activity_twin(store, settings):
    path = sample("okta/sentinel-playground_Okta_CL.json")
    r = ingest_one(store, settings, path, fmt="okta_sentinel_activity")
    assert (r.stored, r.duplicate, r.quarantined) == (308, 285, 0)
    ops = {row["operation"] for row in rows(store, "activities", "okta_sentinel_activity").values()}
    assert {"system.import.start", "application.user_membership.remove", "user.session.end"} <= ops


def test_okta_cl_default_then_forced_twin_agree(store, settings):
    """Non-sign-ins stored by the fallback carry the twin's event ids: a forced twin run adds only the sign-ins."""
    path = sample("okta/sentinel-playground_Okta_CL.json")
    ingest_one(store, settings, path)
    r = ingest_one(store, settings, path, fmt="okta_sentinel_activity")
    assert (r.read, r.stored, r.duplicate, r.quarantined) == (593, 39, 554, 0)
    assert stored_from(store, path) == {("signins", "okta_sentinel"): 39, ("activities", "okta_sentinel_activity"): 308}


def test_okta_cl_rows_without_event_type_or_uuid_are_quarantined(store, settings, tmp_path):
    src = sample("okta/sentinel-playground_Okta_CL.json")
    data = json.loads(src.read_text(encoding="utf-8"))
    start = next(x for x in data if x["eventType"] == "user.session.start")
    end = next(x for x in data if x["eventType"] == "user.session.end")
    path = tmp_path / "okta_cl.json"
    path.write_text(json.dumps([start, end, end | {"uuid_g": "", "eventType": "user.session.end"},
                                end | {"uuid_g": "5e1f0000-0000-0000-0000-000000000001", "eventType": "null"},
                                42]), encoding="utf-8")
    r = ingest_one(store, settings, path)
    assert (r.source_format, r.read, r.stored, r.duplicate, r.quarantined) == ("okta_sentinel", 5, 2, 0, 3)
    assert stored_from(store, path) == {("signins", "okta_sentinel"): 1, ("activities", "okta_sentinel_activity"): 1}
    no_row = "not an Okta_CL row: no eventType_s / uuid_g"
    assert quarantined(store, path) == [
        ("okta_sentinel_activity", no_row), ("okta_sentinel_activity", no_row), ("okta_sentinel", "not a JSON object")]
