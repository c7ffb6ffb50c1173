"""Defender XDR advanced-hunting exports -> activities (CloudAppEvents and the tables mixed in)."""
from __future__ import annotations

import json
from datetime import datetime

from tests.conftest import FIXTURES, sample
from tests.sources.vendor_support import ingest_one, quarantine_reasons, rows

EXPORT = FIXTURES / "sources" / "defender" / "advanced_hunting_export.json"


def test_cloudappevents_app_access_context(store, settings):
    r = ingest_one(store, settings, EXPORT)
    assert r.source_format == "defender_cloudappevents"
    assert (r.read, r.stored, r.duplicate, r.quarantined) == (6, 3, 1, 2)
    got = rows(store, "activities", "defender_cloudappevents")

    rule = got["f3c2b1a0-9e8d-4c7b-a6f5-e4d3c2b1a098"]
    assert rule["event_time"] == datetime(2026, 11, 27, 8, 31, 40)
    assert (rule["record_type"], rule["source_table"], rule["workload"], rule["operation"]) == (
        "CloudAppEvents", "CloudAppEvents", "Exchange", "New-InboxRule")
    assert (rule["user_principal_name"], rule["user_type"]) == ("alice.martin@contoso.com", "Regular")
    assert rule["ip"] == "198.51.100.77"
    assert rule["session_id"] == "00a1b2c3-d4e5-f607-1829-3a4b5c6d7e8f"  # AppAccessContext.AADSessionId
    assert rule["unique_token_id"] == "Xq3bT1u9ZkGm2aH5cD8eAA"
    assert rule["client_app_id"] == "00000002-0000-0ff1-ce00-000000000000"
    assert rule["correlation_id"] == "b7e1c2d3-4f5a-6b7c-8d9e-0f1a2b3c4d5e"
    assert rule["token_issued_at"] == datetime(2026, 11, 27, 8, 29, 10)
    assert (rule["country"], rule["city"], rule["isp"]) == ("NL", "amsterdam", "leaseweb")
    params = {p["Name"]: p["Value"] for p in json.loads(rule["parameters"])}
    assert params["MoveToFolder"] == "RSS Feeds"

    # RawEventData as a JSON string (CSV-style export) is read the same way
    download = got["0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"]
    assert (download["workload"], download["session_id"], download["unique_token_id"]) == (
        "SharePoint", "00a1b2c3-d4e5-f607-1829-3a4b5c6d7e8f", "Yr4cU2v0AlHn3bI6dE9fBB")
    assert download["event_time"] == datetime(2026, 11, 27, 8, 40, 12, 507123)
    assert download["token_issued_at"] == datetime(2026, 11, 27, 8, 29, 10)

    # a device row: its id combines device, time and the per-device ReportId counter
    [proc] = [x for x in got.values() if x["record_type"] == "DeviceProcessEvents"]
    assert proc["source_record_id"] == ("lt-alice.contoso.com|a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4|"
                                        "2026-11-27T08:45:00.1234567Z|4213")
    assert (proc["operation"], proc["object_id"], proc["app_name"]) == ("ProcessCreated", "rclone.exe",
                                                                        "powershell.exe")
    assert json.loads(proc["details"])["ProcessCommandLine"] == "rclone.exe copy C:\\Finance remote:exfil"

    assert quarantine_reasons(store, EXPORT) == [
        "no ActionType: not a Defender advanced-hunting event row",
        "a Defender sign-in row (AADSignInEventsBeta / EntraIdSignInEvents), not an activity: ingest the Entra "
        "SigninLogs export for sign-ins"]


def test_golden_saml_sample_mixed_tables(store, settings):
    r = ingest_one(store, settings, sample("defender/otrf_GoldenSAML_Microsoft365DefenderEvents.json"))
    assert (r.read, r.stored, r.duplicate, r.quarantined) == (9, 9, 0, 0)
    tables = {x["record_type"]: x["n"] for x in store.query(
        "SELECT record_type, count(*) n FROM activities GROUP BY 1").to_pylist()}
    assert tables == {"DeviceEvents": 5, "IdentityDirectoryEvents": 2, "CloudAppEvents": 2}
    got = rows(store, "activities", "defender_cloudappevents")
    mail = got["106830890_20893_699e0b10-1c53-403e-976f-ce0847a92b44"]
    assert (mail["operation"], mail["workload"], mail["ip"], mail["country"]) == (
        "MailItemsAccessed", "Exchange", "1.2.3.4", "US")
    assert mail["client_app_id"] == "5a95e683-08ad-424e-a441-1d1aec52c02c"  # the SimuLandApp app registration
    assert mail["tenant_id"] is None  # an all-zero OrganizationId is a placeholder
    ldap = [x for x in got.values() if x["operation"] == "LdapSearch"]
    assert {x["user_principal_name"] for x in ldap} == {"wardog@simulandlabs.com"}
    assert all(x["device_id"] is None for x in ldap)  # all-zero DeviceId
    assert any("CN=ADFS" in x["object_id"] for x in ldap)  # the DKM container read in Golden SAML
