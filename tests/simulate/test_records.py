"""Schema and type checks of every file the simulator writes, against the vendors' column names."""
from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Any

import orjson

SIGNIN_COLUMNS = {
    "TimeGenerated", "Id", "UserId", "UserPrincipalName", "UserDisplayName", "UserType", "AppId", "AppDisplayName",
    "ResourceIdentity", "ResourceDisplayName", "ClientAppUsed", "IsInteractive", "ResultType", "ResultDescription",
    "Status", "AuthenticationRequirement", "AuthenticationDetails", "MfaDetail", "IPAddress", "Location",
    "LocationDetails", "AutonomousSystemNumber", "DeviceDetail", "UserAgent", "SessionId", "UniqueTokenIdentifier",
    "CorrelationId", "OriginalRequestId", "IncomingTokenType", "ConditionalAccessStatus", "ConditionalAccessPolicies",
    "RiskLevelDuringSignIn", "RiskLevelAggregated", "RiskState", "RiskDetail", "RiskEventTypes_V2", "TokenIssuerType",
    "ClientCredentialType", "AuthenticationProtocol", "TenantId", "Type",
}
STRING_IN_NONINTERACTIVE = ("DeviceDetail", "LocationDetails", "Status", "ConditionalAccessPolicies", "MfaDetail")
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
LA_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


def _check_signin(row: dict[str, Any], interactive: bool) -> None:
    assert SIGNIN_COLUMNS <= set(row), SIGNIN_COLUMNS - set(row)
    assert row["IsInteractive"] is interactive
    assert row["Type"] == ("SigninLogs" if interactive else "AADNonInteractiveUserSignInLogs")
    assert isinstance(row["ResultType"], str) and row["ResultType"].isdigit()
    assert GUID.match(row["Id"]) and GUID.match(row["CorrelationId"])
    assert LA_TIME.match(row["TimeGenerated"])
    assert isinstance(row["AutonomousSystemNumber"], int)
    assert row["ConditionalAccessStatus"] in ("success", "failure", "notApplied")
    assert row["AuthenticationRequirement"] in ("singleFactorAuthentication", "multiFactorAuthentication")
    assert isinstance(row["AuthenticationDetails"], list)
    assert len(row["UniqueTokenIdentifier"]) == 22
    dyn = {}
    for col in STRING_IN_NONINTERACTIVE:
        value = row[col]
        if interactive:
            assert isinstance(value, (dict, list)), col
            dyn[col] = value
        else:
            assert isinstance(value, str), col
            dyn[col] = orjson.loads(value)
    geo = dyn["LocationDetails"]
    if geo == {}:  # a sign-in Entra could not locate (the no_location scenario): no country either
        assert row["Location"] == ""
    else:
        assert geo["countryOrRegion"] == row["Location"]
        assert set(geo["geoCoordinates"]) == {"latitude", "longitude"}
    assert {"deviceId", "operatingSystem", "browser"} <= set(dyn["DeviceDetail"])
    assert dyn["Status"]["errorCode"] == int(row["ResultType"])
    assert isinstance(dyn["ConditionalAccessPolicies"], list) and dyn["ConditionalAccessPolicies"]


def test_signin_rows(demo_rows: dict[str, list[dict[str, Any]]]) -> None:
    inter = demo_rows["SigninLogs.json"]
    non = demo_rows["AADNonInteractiveUserSignInLogs.json"]
    for row in inter:
        _check_signin(row, True)
    for row in non:
        _check_signin(row, False)
    codes = {r["ResultType"] for r in inter}
    assert {"0", "50126", "50053", "500121", "50074"} <= codes
    assert any(r["ClientCredentialType"] == "clientSecret" for r in non)


def test_signin_geography_agrees_with_the_table(demo_rows: dict[str, list[dict[str, Any]]]) -> None:
    from vigil.simulate.geography import load_geography

    geo = load_geography()
    for row in demo_rows["SigninLogs.json"][:400]:
        r = geo.lookup(row["IPAddress"])
        assert r is not None
        assert (r.country, r.asn.number, r.city.name) == (row["Location"], row["AutonomousSystemNumber"],
                                                          row["LocationDetails"]["city"])


def test_unified_audit_records(demo_rows: dict[str, list[dict[str, Any]]]) -> None:
    rows = demo_rows["OfficeActivity_ManagementAPI.json"]
    ops = {r["Operation"] for r in rows}
    assert {"MailItemsAccessed", "FileDownloaded", "Send", "TeamsSessionStarted", "MessageSent",
            "New-InboxRule", "Set-InboxRule"} <= ops
    for r in rows:
        assert isinstance(r["RecordType"], int)
        assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$", r["CreationTime"])
        assert GUID.match(r["Id"])
        assert r["Workload"] in ("Exchange", "SharePoint", "MicrosoftTeams")
        ctx = r["AppAccessContext"]
        assert set(ctx) == {"AADSessionId", "UniqueTokenId", "ClientAppId", "ClientAppName", "IssuedAtTime",
                            "CorrelationId"}
        ip = r["ClientIP"]
        if r["RecordType"] == 1:  # Exchange admin cmdlets log ip:port, IPv6 in brackets
            ip = ip[1:].split("]:")[0] if ip.startswith("[") else ip.rsplit(":", 1)[0]
        assert ipaddress.ip_address(ip)
        if r["Operation"].endswith("InboxRule"):
            assert r["RecordType"] == 1
            assert all(set(p) == {"Name", "Value"} for p in r["Parameters"])


def test_audit_logs(demo_rows: dict[str, list[dict[str, Any]]]) -> None:
    rows = demo_rows["AuditLogs.json"]
    names = {r["ActivityDisplayName"] for r in rows}
    assert {"Change user password", "Reset user password", "Disable account", "Delete user",
            "Invalidate all refresh tokens for user", "User registered security info",
            "Add member to role"} <= names
    for r in rows:
        assert r["OperationName"] == r["ActivityDisplayName"]
        assert r["Type"] == "AuditLogs" and r["Result"] == "success"
        assert "user" in r["InitiatedBy"] or "app" in r["InitiatedBy"]
        target = r["TargetResources"][0]
        assert target["type"] == "User" and "@" in target["userPrincipalName"]


def test_directory_and_policy_documents(demo: tuple[Path, Any]) -> None:
    out, _ = demo
    users = orjson.loads((out / "users.json").read_bytes())["value"]
    ids = {u["id"] for u in users}
    for u in users:
        assert {"id", "displayName", "userPrincipalName", "mail", "department", "jobTitle", "createdDateTime",
                "accountEnabled", "userType", "manager"} <= set(u)
        if u["manager"]:
            assert u["manager"]["id"] in ids
    groups = orjson.loads((out / "groups.json").read_bytes())["value"]
    assert all(m["id"] in ids for g in groups for m in g["members"])
    locs = orjson.loads((out / "namedLocations.json").read_bytes())["value"]
    trusted = [x for x in locs if x.get("isTrusted")]
    assert trusted and all(r["cidrAddress"] for x in trusted for r in x["ipRanges"])
    pols = orjson.loads((out / "conditionalAccessPolicies.json").read_bytes())["value"]
    by_name = {p["displayName"]: p for p in pols}
    pw = by_name["Require password change for high user risk"]
    assert pw["grantControls"] == {"customAuthenticationFactors": [], "termsOfUse": [], "operator": "AND",
                                   "builtInControls": ["mfa", "passwordChange"]}
    assert pw["conditions"]["userRiskLevels"] == ["high"]
    assert pw["conditions"]["applications"]["includeApplications"] == ["All"]
    assert by_name["Require MFA outside trusted locations"]["conditions"]["locations"]["excludeLocations"] == \
        ["AllTrusted"]
    blocked = next(x for x in locs if x["@odata.type"] == "#microsoft.graph.countryNamedLocation")
    assert by_name["Block sign-ins from blocked countries"]["conditions"]["locations"]["includeLocations"] == \
        [blocked["id"]]
