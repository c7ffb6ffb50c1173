"""Entra ID sign-ins as the Microsoft Graph PowerShell SDK returns them, written with ``ConvertTo-Json``:
``Get-MgAuditLogSignIn`` / ``Get-MgBetaAuditLogSignIn`` objects in Hawk's ``EntraSignInLog_<user>.json`` and
Microsoft-Extractor-Suite's older ``Get-ADSignInLogsGraph`` (``*-SignInLogsGraph.json``).

The SDK spells every property in PascalCase, nested ones too (``Status.ErrorCode``, ``Location.City``,
``DeviceDetail.IsCompliant``), which neither the Graph (camelCase) nor the Log Analytics mapping (``ResultType``,
``LocationDetails`` with camelCase inside) reads. ``CreatedDateTime`` is ISO 8601 from PowerShell 7 and the
culture's date form when a script wrote ``ToString()`` (the US form is read as UTC).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vigil.sources._base import SourceSpec, as_json, boolean, first, nz
from vigil.sources.formats._entra import INTERRUPT_CODES, entra_columns

_INTERRUPTS = ", ".join(f"'{c}'" for c in INTERRUPT_CODES)


def detect(r: Mapping[str, Any]) -> bool:
    status = r.get("Status")
    return "CreatedDateTime" in r and isinstance(status, dict) and "ErrorCode" in status


_code = nz("CAST({$.Status.ErrorCode} AS VARCHAR)")
_result = (f"CASE WHEN {_code} = '0' THEN 'success' WHEN {_code} IN ({_INTERRUPTS}) THEN 'interrupted' "
           f"WHEN {_code} IS NULL THEN NULL ELSE 'failure' END")
_steps = ("list_filter(json_extract_string(vigil_jtext({$.AuthenticationDetails}), '$[*].AuthenticationMethod'), "
          "lambda x: x IS NOT NULL AND x <> '')")

_columns = entra_columns("la", "$.")
_columns.update({
    "tenant_id": first("{$.HomeTenantId}", "{$.ResourceTenantId}"),
    "result": _result,
    "result_code": _code,
    "result_reason": first("{$.Status.FailureReason}", "{$.Status.AdditionalDetails}"),
    "auth_methods": (f"coalesce(vigil_json(CASE WHEN "
                     f"json_array_length(vigil_jtext({{$.AuthenticationMethodsUsed}})) > 0 "
                     f"THEN {{$.AuthenticationMethodsUsed}} END), "
                     f"to_json(list_filter({_steps}, lambda x, i: list_position({_steps}, x) = i)))"),
    "mfa_satisfied": (f"({_result}) = 'success' AND (coalesce({nz('{$.AuthenticationRequirement}')}, '') = "
                      f"'multiFactorAuthentication' OR {nz('{$.MfaDetail.AuthMethod}')} IS NOT NULL)"),
    "country": f"upper({nz('{$.Location.CountryOrRegion}')})",
    "state": nz("{$.Location.State}"),
    "city": nz("{$.Location.City}"),
    "latitude": "vigil_lat({$.Location.GeoCoordinates.Latitude}, {$.Location.GeoCoordinates.Longitude})",
    "longitude": "vigil_lon({$.Location.GeoCoordinates.Latitude}, {$.Location.GeoCoordinates.Longitude})",
    "device_id": nz("{$.DeviceDetail.DeviceId}"),
    "device_name": nz("{$.DeviceDetail.DisplayName}"),
    "device_os": nz("{$.DeviceDetail.OperatingSystem}"),
    "device_browser": nz("{$.DeviceDetail.Browser}"),
    "device_managed": boolean("{$.DeviceDetail.IsManaged}"),
    "device_compliant": boolean("{$.DeviceDetail.IsCompliant}"),
    "device_trust_type": nz("{$.DeviceDetail.TrustType}"),
    "risk_event_types": f"coalesce({as_json('{$.RiskEventTypesV2}')}, {as_json('{$.RiskEventTypes}')})",
    "ca_policies": as_json("{$.AppliedConditionalAccessPolicies}"),
    "resource_id": nz("{$.ResourceId}"),
})

SOURCE = SourceSpec(
    name="entra_signin_sdk",
    title="Entra ID sign-ins, Graph PowerShell SDK objects (Get-MgAuditLogSignIn | ConvertTo-Json: Hawk, "
          "older Extractor-Suite)",
    target="signins",
    detect=detect,
    columns=_columns,
    record_id="{$.Id}",
    time="{$.CreatedDateTime}",
    source_table=(
        "CASE WHEN {$.SignInEventTypes} LIKE '%nonInteractiveUser%' THEN 'AADNonInteractiveUserSignInLogs' "
        "WHEN {$.SignInEventTypes} LIKE '%servicePrincipal%' THEN 'AADServicePrincipalSignInLogs' "
        "WHEN {$.SignInEventTypes} LIKE '%managedIdentity%' THEN 'AADManagedIdentitySignInLogs' "
        "WHEN vigil_bool({$.IsInteractive}) = FALSE THEN 'AADNonInteractiveUserSignInLogs' ELSE 'SigninLogs' END"
    ),
)
