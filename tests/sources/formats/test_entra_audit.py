"""Entra ID audit adapters -> directory_events, with the critical-event classification."""
from __future__ import annotations

import json
from datetime import datetime

from tests.conftest import FIXTURES, sample
from tests.sources.vendor_support import ingest_one, quarantine_reasons, rows

AUDIT = FIXTURES / "sources" / "entra" / "AuditLogs.json"


def test_critical_events_are_classified(store, settings):
    r = ingest_one(store, settings, AUDIT)
    assert r.source_format == "entra_audit_la" and r.stored == 10
    got = {v["operation"]: v for v in rows(store, "directory_events", "entra_audit_la").values()}
    assert {op: v["event_type"] for op, v in got.items()} == {
        "Reset user password": "password_reset",
        "Change user password": "password_changed",
        "Disable account": "user_disabled",
        "Invalidate all refresh tokens for user": "sessions_revoked",
        "User registered security info": "mfa_registered",
        "Delete user": "user_deleted",
        "Add member to role": "role_assigned",
        "Update user": "other",
        "Enable account": "user_enabled",
        "User deleted security info": "mfa_removed",
    }
    reset = got["Reset user password"]
    assert reset["event_time"] == datetime(2026, 3, 2, 10, 0)
    # InitiatedBy arrives as a JSON string, TargetResources as an object: both are read
    assert (reset["actor_upn"], reset["ip"]) == ("admin@contoso.com", "203.0.113.9")
    assert (reset["target_user_id"], reset["target_upn"]) == ("user-1", "alice.smith@contoso.com")
    disabled = got["Disable account"]
    assert json.loads(disabled["modified_properties"])[0][0]["displayName"] == "AccountEnabled"


def test_published_audit_samples(store, settings):
    for name, stored in [("elastic_test-audit-logs-sample.log", 3), ("elastic_test-auditlogs-result-reason.log", 1),
                         ("otrf_GoldenSAML_AADAuditEvents.json", 3), ("wazuh_graph_events", 2),
                         ("wazuh_storage_events_inline", 2)]:
        assert ingest_one(store, settings, sample(f"entra-audit/{name}")).stored == stored, name
    formats = {r["source_format"] for r in store.query("select distinct source_format from directory_events").to_pylist()}
    assert formats == {"entra_audit_diag", "entra_audit_la", "entra_audit_graph"}
    # the same two records wrapped in {"records": [...]}: already stored
    wrapped = ingest_one(store, settings, sample("entra-audit/wazuh_storage_events_json"))
    assert (wrapped.stored, wrapped.duplicate) == (0, 2)
    failure = store.query("select result, result_reason, ip from directory_events "
                          "where operation = 'Add member to role'").to_pylist()[0]
    assert failure["result"] == "failure" and failure["ip"].startswith("::2a02")  # published as is


def test_graph_directory_audit_uses_created_time_when_activity_time_missing(store, settings):
    path = sample("entra-audit/wazuh_graph_events")
    ingest_one(store, settings, path)
    times = [r["event_time"] for r in store.query("select event_time from directory_events order by 1").to_pylist()]
    assert len(times) == 2 and all(t is not None for t in times)


def test_hunting_csv_without_time_is_quarantined_with_reason(store, settings):
    path = sample("entra-audit/sentinel-lab_AuditLogs_Hunting.csv")
    r = ingest_one(store, settings, path)
    assert (r.stored, r.quarantined) == (0, 5)
    assert all("projected the time away" in x for x in quarantine_reasons(store, path))


def test_pim_requests_are_not_role_assignments():
    from vigil.sources.formats._audit import event_type_sql
    from vigil.store import connect, literal

    names = ["Add member to role in PIM requested (timebound)", "Add eligible member to role in PIM requested (permanent)",
             "Add member to role in PIM completed (permanent)", "Add member to role outside of PIM (permanent)",
             "Add member to role"]
    con = connect()
    got = [con.execute(f"SELECT {event_type_sql(literal(n))}").fetchone()[0] for n in names]
    assert got == ["role_requested", "role_requested", "role_assigned", "role_assigned", "role_assigned"]


def test_operation_type_and_additional_details_are_kept(store, settings):
    # published samples: a Sentinel export (AADOperationType) and diagnostic records (operationType, additionalDetails)
    ingest_one(store, settings, sample("entra-audit/otrf_GoldenSAML_AADAuditEvents.json"))
    ingest_one(store, settings, sample("entra-audit/elastic_test-audit-logs-sample.log"))
    got = store.query("select source_format, operation_type, additional_details from directory_events "
                      "order by source_format, event_time").to_pylist()
    la = [r for r in got if r["source_format"] == "entra_audit_la"]
    assert sorted(r["operation_type"] for r in la) == ["Assign", "Update", "Update"]
    diag = [r for r in got if r["source_format"] == "entra_audit_diag"]
    assert diag and all(r["operation_type"] == "Update" for r in diag)
    details = json.loads(diag[0]["additional_details"])
    assert details[0]["key"] == "User-Agent" and details[0]["value"].startswith("Microsoft Azure Graph Client")
