"""Office 365 unified audit adapters -> activities, keeping AppAccessContext."""
from __future__ import annotations

import json
from datetime import datetime

from tests.conftest import FIXTURES, sample
from tests.sources.vendor_support import ingest_one, rows

API = FIXTURES / "sources" / "o365" / "management_api.jsonl"


def test_management_api_keeps_app_access_context(store, settings):
    r = ingest_one(store, settings, API)
    assert r.source_format == "o365_management_api" and r.stored == 4
    got = rows(store, "activities", "o365_management_api")
    mail = got["9d1c0000-0000-4000-8000-000000000001"]
    assert mail["event_time"] == datetime(2026, 3, 2, 9, 7, 12)
    assert (mail["workload"], mail["record_type"], mail["operation"]) == ("Exchange", "50", "MailItemsAccessed")
    assert mail["user_principal_name"] == "alice.smith@contoso.com"
    assert mail["ip"] == "2001:db8::7"
    assert mail["session_id"] == "8f2c1e0a-5b7d-4c3e-9a1f-000000000001"
    assert mail["unique_token_id"] == "uti-BBBBBBBBBBBBBBBBBBBBBB"
    assert mail["client_app_id"] == "1fec8e78-bce4-4aaf-ab1b-5451cc387264"
    assert mail["app_name"] == "Microsoft Teams"
    assert mail["token_issued_at"] == datetime(2026, 3, 2, 9, 5, 40)
    assert json.loads(mail["details"])["Folders"][0]["Path"] == "\\Inbox"
    rule = got["9d1c0000-0000-4000-8000-000000000002"]
    assert rule["ip"] == "198.51.100.23"  # port removed
    assert {p["Name"]: p["Value"] for p in json.loads(rule["parameters"])}["ForwardTo"] == "drop@evil.example"
    aad = got["9d1c0000-0000-4000-8000-000000000004"]
    assert aad["user_agent"] == "Mozilla/5.0 (X11; Linux x86_64) curl-ish"  # from ExtendedProperties
    download = got["9d1c0000-0000-4000-8000-000000000003"]
    assert json.loads(download["details"]) == {"SourceFileName": "q1.xlsx"}


def test_sentinel_officeactivity_exports(store, settings):
    lab = ingest_one(store, settings, sample("o365-audit/sentinel-lab_office_activity.csv"))
    assert (lab.source_format, lab.stored) == ("o365_officeactivity", 266)
    inbox = ingest_one(store, settings, sample("o365-audit/sentinel-lab_office_activity_inbox_rule.csv"))
    assert inbox.stored == 2
    rules = store.query("select ip, parameters from activities where operation = 'New-InboxRule' "
                        "and source_file like '%inbox_rule%'").to_pylist()
    assert len(rules) == 2 and all(r["parameters"] for r in rules)
    assert all(r["ip"] and "[" not in r["ip"] for r in rules)  # "[IPv6]:port" cleaned
    assert ingest_one(store, settings, sample("o365-audit/otrf_GoldenSAML_OfficeActivityEvents.json")).stored == 1
    api = ingest_one(store, settings, sample("o365-audit/plaso_microsoft_audit_log.jsonl"))
    assert api.source_format == "o365_management_api" and api.stored == 4
