"""Sentinel Okta_CL (flattened System Log) -> signins, on the published playground sample."""
from __future__ import annotations

from datetime import datetime

from tests.conftest import sample
from tests.sources.vendor_support import ingest_one, quarantine_reasons, rows


def test_okta_cl_sample(store, settings):
    path = sample("okta/sentinel-playground_Okta_CL.json")
    r = ingest_one(store, settings, path)
    assert r.source_format == "okta_sentinel"
    # 128 sign-in events of which 89 repeat a uuid_g (the sample holds each export twice);
    # 465 admin / import / provisioning / sign-out events are not sign-ins
    assert (r.read, r.stored, r.duplicate, r.quarantined) == (593, 39, 89, 465)
    assert all(reason.startswith("not a sign-in: Okta eventType ") for reason in quarantine_reasons(store, path))

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
