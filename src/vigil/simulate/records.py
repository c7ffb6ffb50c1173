"""Vendor record builders: Entra sign-ins (Log Analytics export), unified audit log AuditData, AuditLogs.

Field names, nesting and types follow what each product writes: ``SigninLogs`` carries dynamic columns
as JSON objects while ``AADNonInteractiveUserSignInLogs`` carries DeviceDetail, LocationDetails, Status,
ConditionalAccessPolicies and MfaDetail as JSON *strings*; unified audit records use the Management
Activity API's integer RecordType and second-precision CreationTime.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

import orjson

from vigil.simulate import catalog as cat
from vigil.simulate.catalog import App
from vigil.simulate.geography import IpRange
from vigil.simulate.tenant import Device, Tenant, User

EPOCH = datetime(1970, 1, 1)


@lru_cache(maxsize=1024)
def _date(day: int) -> str:
    return (EPOCH + timedelta(days=day)).strftime("%Y-%m-%d")


def _split(us: int) -> tuple[str, int, int, int, int]:
    day, rem = divmod(us, 86_400_000_000)
    sec, micro = divmod(rem, 1_000_000)
    h, sec = divmod(sec, 3600)
    m, sec = divmod(sec, 60)
    return _date(day), h, m, sec, micro


def iso_us(us: int) -> str:
    """Log Analytics style: 2026-01-05T09:00:00.123456Z."""
    d, h, m, s, micro = _split(us)
    return f"{d}T{h:02d}:{m:02d}:{s:02d}.{micro:06d}Z"


def iso_s(us: int) -> str:
    """Management Activity API style: 2026-01-05T09:00:00 (UTC, no zone)."""
    d, h, m, s, _ = _split(us)
    return f"{d}T{h:02d}:{m:02d}:{s:02d}"


@dataclass(frozen=True)
class Net:
    """Where a request came from: the IP and the range (ASN, city) it belongs to."""
    ip: str
    range: IpRange

    @property
    def trusted(self) -> bool:
        return self.range.asn.type == "corporate"


@dataclass(frozen=True)
class TokenIds:
    request_id: str
    correlation_id: str
    original_request_id: str
    session_id: str
    uti: str


# Authentication detail shapes -------------------------------------------------------------------------
_STEP_OK = "Correct password"


def _auth_details(kind: str, when: str) -> list[dict[str, Any]]:
    pw = {"authenticationStepDateTime": when, "authenticationMethod": "Password",
          "authenticationMethodDetail": "Password Hash Sync", "succeeded": True,
          "authenticationStepResultDetail": _STEP_OK, "authenticationStepRequirement": "Primary authentication"}
    if kind == "password":
        return [pw]
    if kind == "password_fail":
        return [{**pw, "succeeded": False,
                 "authenticationStepResultDetail": "Invalid username or password or Invalid on-premise username "
                                                   "or password."}]
    if kind == "push":
        return [pw, {"authenticationStepDateTime": when, "authenticationMethod": "Mobile app notification",
                     "authenticationMethodDetail": None, "succeeded": True,
                     "authenticationStepResultDetail": "MFA successfully completed",
                     "authenticationStepRequirement": "Multifactor authentication"}]
    if kind == "sms":
        return [pw, {"authenticationStepDateTime": when, "authenticationMethod": "Text message",
                     "authenticationMethodDetail": None, "succeeded": True,
                     "authenticationStepResultDetail": "MFA successfully completed",
                     "authenticationStepRequirement": "Multifactor authentication"}]
    if kind == "push_denied":
        return [pw, {"authenticationStepDateTime": when, "authenticationMethod": "Mobile app notification",
                     "authenticationMethodDetail": None, "succeeded": False,
                     "authenticationStepResultDetail": "MFA denied; user declined the authentication",
                     "authenticationStepRequirement": "Multifactor authentication"}]
    if kind == "claim_mfa":
        return [{"authenticationStepDateTime": when, "authenticationMethod": "Previously satisfied",
                 "succeeded": True, "authenticationStepResultDetail": "MFA requirement satisfied by claim in the token",
                 "authenticationStepRequirement": "Multifactor authentication"}]
    if kind == "claim_1fa":
        return [{"authenticationStepDateTime": when, "authenticationMethod": "Previously satisfied",
                 "succeeded": True,
                 "authenticationStepResultDetail": "First factor requirement satisfied by claim in the token",
                 "authenticationStepRequirement": "Primary authentication"}]
    raise ValueError(f"unknown authentication detail kind {kind!r}")


_MFA_KINDS = {"push": "Mobile app notification", "sms": "Text message", "claim_mfa": "Previously satisfied"}


class CaModel:
    """Per-policy results the tenant's five policies give a sign-in, cached by the deciding facts."""

    def __init__(self, t: Tenant) -> None:
        self.policies = t.policies
        self.cache: dict[tuple[Any, ...], tuple[list[dict[str, Any]], str, str]] = {}

    def results(self, *, trusted: bool, legacy: bool, mfa: bool, risky: bool, blocked_country: bool,
                excluded: bool, first_factor_ok: bool) -> tuple[list[dict[str, Any]], str, str]:
        """(policies list, ConditionalAccessStatus, same list as JSON text)."""
        key = (trusted, legacy, mfa, risky, blocked_country, excluded, first_factor_ok)
        hit = self.cache.get(key)
        if hit is not None:
            return hit
        out = []
        for i, p in enumerate(self.policies):
            grant: list[str] = p["grantControls"]["builtInControls"]  # type: ignore[index]
            if i == 0:
                applies, ok = not trusted and not excluded, mfa
            elif i == 1:
                applies, ok = legacy, False
            elif i == 2:
                applies, ok = risky, mfa
            elif i == 3:
                applies, ok = False, True
            else:
                applies, ok = blocked_country, False
            if not first_factor_ok:  # CA runs after the first factor; nothing applies to a failed password
                result = "notApplied"
            else:
                result = ("success" if ok else "failure") if applies else "notApplied"
            out.append({"id": p["id"], "displayName": p["displayName"],
                        "enforcedGrantControls": [{"mfa": "Mfa", "block": "Block", "passwordChange":
                                                   "RequirePasswordChange"}[g] for g in grant],
                        "enforcedSessionControls": [], "result": result,
                        "conditionsSatisfied": 3 if applies else 1, "conditionsNotSatisfied": 0 if applies else 8})
        results = [r["result"] for r in out]
        status = "failure" if "failure" in results else "success" if "success" in results else "notApplied"
        hit = (out, status, orjson.dumps(out).decode())
        self.cache[key] = hit
        return hit


def signin(t: Tenant, ca: CaModel, *, us: int, user: User, interactive: bool, app: App, net: Net,
           device: Device | None, user_agent: str, result: str, ids: TokenIds, auth: str,
           incoming: str = "none", client_credential: str = "none", protocol: str = "none",
           client_app_used: str | None = None, risk: tuple[str, str, str, str, list[str]] | None = None,
           mfa_required: bool | None = None, blocked_country: bool = False, transfer: str | None = None,
           located: bool = True) -> dict[str, Any]:
    """One Entra sign-in row as Log Analytics exports it (SigninLogs or AADNonInteractiveUserSignInLogs)."""
    when = iso_us(us)
    city = net.range.city
    legacy = (client_app_used or app.client_app_used) not in (cat.BROWSER, cat.MODERN)
    mfa = auth in _MFA_KINDS
    first_ok = auth not in ("password_fail",) and result not in ("50126", "50034", "50053", "50057")
    excluded = user.kind == "service"
    risky = risk is not None and risk[0] in ("medium", "high")
    policies, ca_status, policies_text = ca.results(
        trusted=net.trusted, legacy=legacy, mfa=mfa, risky=risky, blocked_country=blocked_country,
        excluded=excluded, first_factor_ok=first_ok)
    need_mfa = mfa_required if mfa_required is not None else (not net.trusted and not excluded) or risky
    desc = cat.RESULTS.get(result, "Other.")
    status: dict[str, Any] = {"errorCode": int(result)}
    if result != "0":
        status["failureReason"] = desc
    if result == "50074":
        status["additionalDetails"] = "MFA required in Azure AD"
    elif result == "500121":
        status["additionalDetails"] = "MFA denied; user declined the authentication"
    elif result == "0" and auth == "claim_mfa":
        status["additionalDetails"] = "MFA requirement satisfied by claim in the token"
    elif result == "0" and mfa:
        status["additionalDetails"] = "MFA completed in Azure AD"
    location = {"city": city.name, "state": city.state, "countryOrRegion": city.country,
                "geoCoordinates": {"latitude": city.latitude, "longitude": city.longitude}} if located else {}
    if device is None:
        device_detail: dict[str, Any] = {"deviceId": "", "operatingSystem": "", "browser": ""}
    else:
        device_detail = {"deviceId": device.device_id, "displayName": device.name,
                         "operatingSystem": device.os, "browser": device.browser,
                         "isCompliant": device.compliant, "isManaged": device.managed,
                         "trustType": device.trust_type}
    mfa_detail = {"authMethod": _MFA_KINDS[auth], "authDetail": None} if mfa and auth != "claim_mfa" else {}
    r_during, r_agg, r_state, r_detail, r_events = risk or ("none", "none", "none", "none", [])
    if net.range.role:  # corporate ranges are the tenant's trusted named locations
        named = "Contoso offices" if net.range.role == "office" else "Contoso VPN egress"
        network: list[dict[str, Any]] = [{"networkType": "namedNetwork", "networkNames": [named]},
                                         {"networkType": "trustedNamedLocation", "networkNames": [named]}]
    else:
        network = []
    row: dict[str, Any] = {
        "TenantId": t.workspace_id,
        "SourceSystem": "Azure AD",
        "TimeGenerated": when,
        "OperationName": "Sign-in activity",
        "Category": "SignInLogs" if interactive else "NonInteractiveUserSignInLogs",
        "ResultType": result,
        "ResultDescription": desc,
        "Identity": user.display_name,
        "Level": "4",
        "Location": city.country if located else "",
        "AADTenantId": t.tenant_id,
        "AppDisplayName": app.name,
        "AppId": app.app_id,
        "AuthenticationDetails": _auth_details(auth, when),
        "AuthenticationProtocol": protocol,
        "AuthenticationRequirement": "multiFactorAuthentication" if need_mfa else "singleFactorAuthentication",
        "AutonomousSystemNumber": net.range.asn.number,
        "ClientAppUsed": client_app_used or app.client_app_used,
        "ClientCredentialType": client_credential,
        "ConditionalAccessPolicies": policies,
        "ConditionalAccessStatus": ca_status,
        "CorrelationId": ids.correlation_id,
        "CreatedDateTime": when,
        "DeviceDetail": device_detail,
        "HomeTenantId": t.tenant_id,
        "Id": ids.request_id,
        "IncomingTokenType": incoming,
        "IPAddress": net.ip,
        "IsInteractive": interactive,
        "LocationDetails": location,
        "MfaDetail": mfa_detail,
        "NetworkLocationDetails": network,
        "OriginalRequestId": ids.original_request_id,
        "ResourceDisplayName": app.resource[1],
        "ResourceIdentity": app.resource[0],
        "ResourceTenantId": t.tenant_id,
        "RiskDetail": r_detail,
        "RiskEventTypes_V2": r_events,
        "RiskLevelAggregated": r_agg,
        "RiskLevelDuringSignIn": r_during,
        "RiskState": r_state,
        "SessionId": ids.session_id,
        "Status": status,
        "TokenIssuerType": "AzureAD",
        "UniqueTokenIdentifier": ids.uti,
        "UserAgent": user_agent,
        "UserDisplayName": user.display_name,
        "UserId": user.id,
        "UserPrincipalName": user.upn,
        "UserType": "Member",
        "Type": "SigninLogs" if interactive else "AADNonInteractiveUserSignInLogs",
    }
    if transfer:  # OriginalTransferMethod: a token refreshed from a device-code sign-in says deviceCodeFlow
        row["OriginalTransferMethod"] = transfer
    if not interactive:  # the non-interactive table types these dynamic columns as string
        dumps = orjson.dumps
        row["DeviceDetail"] = dumps(device_detail).decode()
        row["LocationDetails"] = dumps(location).decode()
        row["Status"] = dumps(status).decode()
        row["ConditionalAccessPolicies"] = policies_text
        row["MfaDetail"] = dumps(mfa_detail).decode()
        row["NetworkLocationDetails"] = dumps(network).decode()
    return row


# Unified audit log ----------------------------------------------------------------------------------
def with_port(ip: str, port: int) -> str:
    """ClientIP as Exchange admin cmdlets log it: ``1.2.3.4:5678`` or ``[2001:db8::1]:5678``."""
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


RECORD_TYPES = {"ExchangeAdmin": 1, "ExchangeItem": 2, "SharePointFileOperation": 6, "MicrosoftTeams": 25,
                "ExchangeItemAggregated": 50}


@dataclass(frozen=True)
class Access:
    """The token a workload request rode on: joins the audit record to its sign-in."""
    session_id: str
    uti: str
    app: App
    issued_us: int
    correlation_id: str


def activity(t: Tenant, *, us: int, record_id: str, user: User, operation: str, record_type: int,
             workload: str, ip: str, access: Access | None, object_id: str, user_agent: str | None = None,
             extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """A Management Activity API AuditData record."""
    row: dict[str, Any] = {
        "CreationTime": iso_s(us),
        "Id": record_id,
        "Operation": operation,
        "OrganizationId": t.tenant_id,
        "RecordType": record_type,
        "ResultStatus": "Succeeded" if record_type != 1 else "True",
        "UserKey": user.puid if workload == "Exchange" else f"i:0h.f|membership|{user.puid.lower()}@live.com",
        "UserType": 2 if user.kind == "admin" else 0,
        "Version": 1,
        "Workload": workload,
        "ClientIP": ip,
        "ObjectId": object_id,
        "UserId": user.upn,
    }
    if user_agent is not None:
        row["UserAgent"] = user_agent
    if access is not None:
        row["AppAccessContext"] = {
            "AADSessionId": access.session_id, "ClientAppId": access.app.app_id,
            "ClientAppName": access.app.name, "CorrelationId": access.correlation_id,
            "IssuedAtTime": iso_s(access.issued_us), "UniqueTokenId": access.uti}
    if extra:
        row.update(extra)
    return row


# Entra AuditLogs -------------------------------------------------------------------------------------
def audit(t: Tenant, *, us: int, record_id: str, correlation_id: str, activity_name: str, category: str,
          service: str, op_type: str, actor: User | None, actor_ip: str, target: User,
          modified: list[dict[str, Any]] | None = None, reason: str = "",
          details: list[dict[str, str]] | None = None, app_actor: tuple[str, str] | None = None) -> dict[str, Any]:
    """An AuditLogs row as Log Analytics exports it."""
    when = iso_us(us)
    if actor is not None:
        initiated: dict[str, Any] = {"user": {"id": actor.id, "displayName": None, "userPrincipalName": actor.upn,
                                              "ipAddress": actor_ip, "roles": []}}
        identity = actor.display_name
    else:
        app_id, app_name = app_actor or ("", "")
        initiated = {"app": {"appId": app_id, "displayName": app_name, "servicePrincipalId": app_id,
                             "servicePrincipalName": None}}
        identity = app_name
    return {
        "TenantId": t.workspace_id,
        "SourceSystem": "Azure AD",
        "TimeGenerated": when,
        "ResourceId": "/tenants/" + t.tenant_id + "/providers/Microsoft.aadiam",
        "OperationName": activity_name,
        "OperationVersion": "1.0",
        "Category": category,
        "ResultType": "",
        "ResultSignature": "None",
        "ResultDescription": "",
        "DurationMs": 0,
        "CorrelationId": correlation_id,
        "Resource": "Microsoft.aadiam",
        "ResourceGroup": "Microsoft.aadiam",
        "Level": "4",
        "AdditionalDetails": details or [],
        "Id": record_id,
        "InitiatedBy": initiated,
        "LoggedByService": service,
        "Result": "success",
        "ResultReason": reason,
        "TargetResources": [{"id": target.id, "displayName": None, "type": "User",
                             "userPrincipalName": target.upn, "modifiedProperties": modified or [],
                             "administrativeUnits": []}],
        "AADTenantId": t.tenant_id,
        "ActivityDisplayName": activity_name,
        "ActivityDateTime": when,
        "AADOperationType": op_type,
        "Identity": identity,
        "Type": "AuditLogs",
    }
