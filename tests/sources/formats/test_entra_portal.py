"""Entra admin center CSV downloads -> signins / directory_events; Extractor-Suite's Graph JSON."""
from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from tests.conftest import FIXTURES, sample
from tests.sources.vendor_support import ingest_one, rows

PORTAL = FIXTURES / "sources" / "entra_portal"


def test_signin_download(store, settings) -> None:
    r = ingest_one(store, settings, PORTAL / "InteractiveSignIns_2021-06-30.csv")
    assert (r.source_format, r.read, r.stored, r.quarantined) == ("entra_signin_portal", 3, 3, 0)
    got = rows(store, "signins", "entra_signin_portal")
    failed = got["1691d37b-8579-43a7-966a-0f35583c1300"]
    assert failed["event_time"] == datetime(2021, 6, 30, 16, 34, 32)
    assert (failed["result"], failed["result_code"]) == ("failure", "50126")
    assert failed["user_principal_name"] == "testaccount1@contoso.com"
    assert failed["app_id"] == "c44b4083-3bb0-49c1-b47d-974e53cbdf3c"  # "Application ID " header, trailing space
    assert (failed["city"], failed["state"], failed["country"]) == ("Redmond", "Washington", "US")
    assert failed["asn"] == 3598 and failed["unique_token_id"] == "ZTE0OTk3YTQtZjg5Mi00YjBiLWIwNTEtZmViZTA1YzJhNDli"
    assert failed["is_interactive"] is None  # the download does not say which tab it came from
    ok = got["2a91d37b-8579-43a7-966a-0f35583c2400"]
    assert (ok["result"], ok["mfa_satisfied"], ok["session_id"]) == ("success", True, "0e6a4e1f-0000-4000-8000-00000000ab01")
    assert (ok["device_compliant"], ok["device_managed"], ok["device_trust_type"]) == (True, True, "Azure AD joined")
    assert json.loads(ok["auth_methods"]) == ["Mobile app notification"]
    mfa = got["3b91d37b-8579-43a7-966a-0f35583c3500"]
    assert (mfa["result"], mfa["ip"], mfa["country"], mfa["city"]) == ("interrupted", "2001:db8:1::25", "NL", None)


def test_service_principal_download(store, settings) -> None:
    r = ingest_one(store, settings, PORTAL / "ApplicationSignIns_2021-06-30.csv")
    assert (r.source_format, r.stored) == ("entra_signin_portal", 1)
    sp = next(iter(rows(store, "signins", "entra_signin_portal").values()))
    assert (sp["user_type"], sp["user_principal_name"], sp["source_table"]) == (
        "ServicePrincipal", "payroll sync", "AADServicePrincipalSignInLogs")


def test_audit_download(store, settings) -> None:
    r = ingest_one(store, settings, PORTAL / "AuditLogs_2021-06-30.csv")
    assert (r.source_format, r.read, r.stored) == ("entra_audit_portal", 2, 2)
    got = {x["operation"]: x for x in rows(store, "directory_events", "entra_audit_portal").values()}
    reset = got["Reset user password"]
    assert (reset["event_type"], reset["actor_upn"], reset["target_upn"]) == (
        "password_reset", "helpdesk@contoso.com", "testaccount1@contoso.com")
    assert reset["target_user_id"] == "26be570a-1111-5555-b4e2-a37c6808512d" and reset["ip"] == "131.107.159.37"
    app = got["Update application – Certificates and secrets management"]
    assert app["target_upn"] is None and app["target_display_name"] == "Payroll Sync"
    assert json.loads(app["modified_properties"])[0]["displayName"] == "KeyDescription"
    # no record id in the download: the same file again is recognised by content
    again = ingest_one(store, settings, PORTAL / "AuditLogs_2021-06-30.csv")
    assert (again.stored, again.duplicate) == (0, 2)


def test_extractor_suite_graph_signins_and_audit(store, settings, tmp_path: Path) -> None:
    """Get-GraphEntraSignInLogs / Get-GraphEntraAuditLogs: each Graph page's `value` as ConvertTo-Json arrays
    appended to one UTF-8 (BOM) file; -Output SOF-ELK writes one compressed object per line."""
    page = json.loads(sample("microsoft-docs/graph-beta-signin-list-response-example2.json").read_text("utf-8-sig"))
    records = page["value"]
    signins = tmp_path / "20250412101010-interactiveUser-nonInteractiveUser-SignInLogs.json"
    signins.write_text("\r\n".join(json.dumps(records[i:i + 1], indent=4) for i in range(len(records))) + "\r\n",
                       encoding="utf-8-sig")
    r = ingest_one(store, settings, signins)
    assert (r.source_format, r.read, r.stored) == ("entra_signin_graph", len(records), len(records))
    sof = tmp_path / "SignInLogs-Combined.json"
    sof.write_text("".join(json.dumps(x, separators=(",", ":")) + "\n" for x in records), encoding="utf-8")
    assert ingest_one(store, settings, sof).duplicate == len(records)
    audits = json.loads(sample("graph-api/graph-v1_directoryaudit-list_example2-response.json").read_text("utf-8-sig"))
    audit_file = tmp_path / "20250412101010-AuditLogs.json"
    audit_file.write_text(json.dumps(audits["value"], indent=4), encoding="utf-8-sig")
    a = ingest_one(store, settings, audit_file)
    assert (a.source_format, a.stored) == ("entra_audit_graph", len(audits["value"]))


_SDK_NAMES = {"ipAddress": "IPAddress", "ipAddressFromResourceProvider": "IPAddressFromResourceProvider",
              "riskEventTypes_v2": "RiskEventTypesV2"}


def _sdk(value):
    """A Graph JSON value as the Graph PowerShell SDK object serialises it: every property PascalCase."""
    if isinstance(value, dict):
        return {_SDK_NAMES.get(k, k[:1].upper() + k[1:]): _sdk(v) for k, v in value.items() if not k.startswith("@")}
    if isinstance(value, list):
        return [_sdk(v) for v in value]
    return value


def test_graph_powershell_sdk_signins(store, settings, tmp_path: Path) -> None:
    """Hawk's EntraSignInLog_<user>.json (ConvertTo-Json | Out-File: UTF-16) and the older Extractor-Suite
    Get-ADSignInLogsGraph (CreatedDateTime through ToString(): the US form)."""
    page = json.loads(sample("microsoft-docs/graph-beta-signin-list-response-example2.json").read_text("utf-8-sig"))
    objs = [_sdk(x) for x in page["value"]]
    hawk = tmp_path / "EntraSignInLog_testaccount1.json"
    hawk.write_text(json.dumps(objs, indent=4), encoding="utf-16")
    r = ingest_one(store, settings, hawk)
    assert (r.source_format, r.read, r.stored, r.quarantined) == ("entra_signin_sdk", len(objs), len(objs), 0)
    got = rows(store, "signins", "entra_signin_sdk")["1691d37b-8579-43a7-966a-0f35583c1300"]
    assert (got["result"], got["result_code"]) == ("failure", "50126")
    assert got["result_reason"] == "Error validating credentials due to invalid username or password."
    assert (got["ip"], got["asn"], got["user_principal_name"]) == ("131.107.159.37", 3598, "testaccount1@contoso.com")
    assert got["unique_token_id"] == "ZTE0OTk3YTQtZjg5Mi00YjBiLWIwNTEtZmViZTA1YzJhNDli"
    assert got["event_time"] == datetime(2021, 6, 30, 16, 34, 32) and got["source_table"] == "SigninLogs"
    # the same records from Graph JSON map to the same columns
    graph = tmp_path / "graph.json"
    graph.write_text(json.dumps(page["value"]), encoding="utf-8")
    ingest_one(store, settings, graph)
    same = rows(store, "signins", "entra_signin_graph")["1691d37b-8579-43a7-966a-0f35583c1300"]
    for col in ("result", "result_code", "result_reason", "ip", "city", "country", "device_os", "device_browser",
                "app_id", "resource_id", "user_id", "tenant_id", "auth_requirement", "correlation_id"):
        assert got[col] == same[col], col
    old = [dict(o, CreatedDateTime="6/30/2021 4:34:32 PM") for o in objs[:1]]
    ext = tmp_path / "20230412101010-SignInLogsGraph.json"
    ext.write_text(json.dumps(old, indent=2), encoding="utf-8-sig")
    e = ingest_one(store, settings, ext)
    assert (e.source_format, e.duplicate) == ("entra_signin_sdk", 1)
