"""Shared mapping of Entra ID sign-in records (Log Analytics, diagnostic settings, Graph).

The three exports carry the same fields under different spellings: Log Analytics uses
PascalCase columns (``IPAddress``, ``LocationDetails``), diagnostic records nest camelCase
fields under ``properties`` (``ipAddress``, ``location``), Graph uses camelCase at the top.
"""
from __future__ import annotations

from vigil.sources._base import as_json, boolean, first, lower, nz, sub

# AADSTS codes where the user was asked to do something more (not a failure of credentials).
INTERRUPT_CODES = ("50055", "50072", "50074", "50076", "50079", "50097", "50125", "50140", "50158", "50199",
                   "16000", "16001", "81010")

_INTERRUPTS = ", ".join(f"'{c}'" for c in INTERRUPT_CODES)

# canonical meaning -> (Log Analytics column, camelCase field)
NAMES = {
    "tenant": ("AADTenantId", "homeTenantId"),
    "user_id": ("UserId", "userId"),
    "upn": ("UserPrincipalName", "userPrincipalName"),
    "display": ("UserDisplayName", "userDisplayName"),
    "user_type": ("UserType", "userType"),
    "app_id": ("AppId", "appId"),
    "app_name": ("AppDisplayName", "appDisplayName"),
    "resource_id": ("ResourceIdentity", "resourceId"),
    "resource_name": ("ResourceDisplayName", "resourceDisplayName"),
    "client_app": ("ClientAppUsed", "clientAppUsed"),
    "interactive": ("IsInteractive", "isInteractive"),
    "result_code": ("ResultType", "status"),
    "status": ("Status", "status"),
    "description": ("ResultDescription", "status"),
    "requirement": ("AuthenticationRequirement", "authenticationRequirement"),
    "auth_details": ("AuthenticationDetails", "authenticationDetails"),
    "methods_used": ("AuthenticationMethodsUsed", "authenticationMethodsUsed"),
    "mfa_detail": ("MfaDetail", "mfaDetail"),
    "protocol": ("AuthenticationProtocol", "authenticationProtocol"),
    "transfer": ("OriginalTransferMethod", "originalTransferMethod"),
    "incoming": ("IncomingTokenType", "incomingTokenType"),
    "issuer_type": ("TokenIssuerType", "tokenIssuerType"),
    "cred_type": ("ClientCredentialType", "clientCredentialType"),
    "ip": ("IPAddress", "ipAddress"),
    "resource_ip": ("IPAddressFromResourceProvider", "ipAddressFromResourceProvider"),
    "location": ("LocationDetails", "location"),
    "asn": ("AutonomousSystemNumber", "autonomousSystemNumber"),
    "device": ("DeviceDetail", "deviceDetail"),
    "user_agent": ("UserAgent", "userAgent"),
    "session": ("SessionId", "sessionId"),
    "uti": ("UniqueTokenIdentifier", "uniqueTokenIdentifier"),
    "correlation": ("CorrelationId", "correlationId"),
    "original": ("OriginalRequestId", "originalRequestId"),
    "id": ("Id", "id"),
    "risk_rt": ("RiskLevelDuringSignIn", "riskLevelDuringSignIn"),
    "risk_agg": ("RiskLevelAggregated", "riskLevelAggregated"),
    "risk_state": ("RiskState", "riskState"),
    "risk_detail": ("RiskDetail", "riskDetail"),
    "risk_types": ("RiskEventTypes_V2", "riskEventTypes_v2"),
    "risk_types_old": ("RiskEventTypes", "riskEventTypes"),
    "ca_status": ("ConditionalAccessStatus", "conditionalAccessStatus"),
    "ca_policies": ("ConditionalAccessPolicies", "appliedConditionalAccessPolicies"),
    "sp_id": ("ServicePrincipalId", "servicePrincipalId"),
    "sp_name": ("ServicePrincipalName", "servicePrincipalName"),
    "created": ("CreatedDateTime", "createdDateTime"),
}


def entra_columns(style: str, prefix: str, envelope_code: str | None = None) -> dict[str, str]:
    """Column map for ``style`` 'la' (PascalCase) or 'camel', fields under ``prefix`` ('$.' or '$.properties.').

    ``envelope_code``: where the record's wrapper carries the result when the record itself has no status
    (diagnostic records write ``resultType`` beside ``properties``; some exports omit ``properties.status``)."""
    idx = 0 if style == "la" else 1

    def f(key: str) -> str:
        return "{" + prefix + NAMES[key][idx] + "}"

    def nested(key: str, path: str) -> str:
        """A field of a nested object: a direct path (one parse for the whole record) when the export has an
        object there, else extracted from the string holding JSON (the non-interactive table's typing)."""
        direct = "{" + prefix + NAMES[key][idx] + path[1:] + "}"
        return f"coalesce({direct}, {sub(f(key), path)})"

    if style == "la":
        code = f("result_code")
        reason = first(f("description"), nested("status", "$.failureReason"))
    else:
        code = f"CAST({nested('status', '$.errorCode')} AS VARCHAR)"
        if envelope_code:
            code = f"coalesce({nz(code)}, {nz(envelope_code)})"
        reason = first(nested("status", "$.failureReason"), nested("status", "$.additionalDetails"))
    # distinct methods in the order they were used (list_distinct does not keep order)
    steps = (f"list_filter(json_extract_string(vigil_jtext({f('auth_details')}), '$[*].authenticationMethod'), "
             f"lambda x: x IS NOT NULL AND x <> '')")
    methods = (
        f"coalesce(vigil_json(CASE WHEN json_array_length(vigil_jtext({f('methods_used')})) > 0 "
        f"THEN {f('methods_used')} END), "
        f"to_json(list_filter({steps}, lambda x, i: list_position({steps}, x) = i)))"
    )
    sp_user = f"{nz(f('user_id'))} IS NULL AND {nz(f('sp_id'))} IS NOT NULL"
    result = (f"CASE WHEN trim(CAST({code} AS VARCHAR)) = '0' THEN 'success' "
              f"WHEN trim(CAST({code} AS VARCHAR)) IN ({_INTERRUPTS}) THEN 'interrupted' "
              f"WHEN {nz(code)} IS NULL THEN NULL ELSE 'failure' END")
    return {
        "tenant_id": first(f("tenant"), "{$.TenantId}", "{$.tenantId}"),
        "user_id": first(f("user_id"), f("sp_id")),
        "user_principal_name": f"coalesce({lower(f('upn'))}, CASE WHEN {sp_user} THEN {lower(f('sp_name'))} END)",
        "user_display_name": first(f("display"), f("sp_name")),
        "user_type": f"coalesce({nz(f('user_type'))}, CASE WHEN {sp_user} THEN 'ServicePrincipal' END)",
        "app_id": nz(f("app_id")),
        "app_name": nz(f("app_name")),
        "resource_id": nz(f("resource_id")),
        "resource_name": nz(f("resource_name")),
        "client_app_type": nz(f("client_app")),
        "is_interactive": boolean(f("interactive")),
        "result": result,
        "result_code": nz(f"CAST({code} AS VARCHAR)"),
        "result_reason": reason,
        "auth_requirement": nz(f("requirement")),
        "auth_methods": methods,
        "mfa_satisfied": (f"({result}) = 'success' AND (coalesce({nz(f('requirement'))}, '') = "
                          f"'multiFactorAuthentication' OR {nz(nested('mfa_detail', '$.authMethod'))} IS NOT NULL)"),
        # tokens refreshed from a device-code sign-in carry protocol "none" and OriginalTransferMethod
        # deviceCodeFlow: they are the device-code flow's too
        "auth_protocol": (f"CASE WHEN lower(coalesce({nz(f('protocol'))}, 'none')) = 'none' "
                          f"AND lower({nz(f('transfer'))}) = 'devicecodeflow' THEN 'deviceCode' "
                          f"ELSE {nz(f('protocol'))} END"),
        "incoming_token_type": nz(f("incoming")),
        "token_issuer_type": nz(f("issuer_type")),
        "client_credential_type": f"nullif({nz(f('cred_type'))}, 'none')",
        "ip": f"vigil_ip({f('ip')})",
        "resource_ip": f"vigil_ip({f('resource_ip')})",
        "country": "upper(" + first(nested("location", "$.countryOrRegion"),
                                    "{$.Location}" if style == "la" else "NULL") + ")",
        "state": nz(nested("location", "$.state")),
        "city": nz(nested("location", "$.city")),
        "latitude": f"vigil_lat({nested('location', '$.geoCoordinates.latitude')}, "
                    f"{nested('location', '$.geoCoordinates.longitude')})",
        "longitude": f"vigil_lon({nested('location', '$.geoCoordinates.latitude')}, "
                     f"{nested('location', '$.geoCoordinates.longitude')})",
        "asn": f"TRY_CAST({nz(f('asn'))} AS INTEGER)",
        "device_id": nz(nested("device", "$.deviceId")),
        "device_name": nz(nested("device", "$.displayName")),
        "device_os": nz(nested("device", "$.operatingSystem")),
        "device_browser": nz(nested("device", "$.browser")),
        "device_managed": boolean(nested("device", "$.isManaged")),
        "device_compliant": boolean(nested("device", "$.isCompliant")),
        "device_trust_type": nz(nested("device", "$.trustType")),
        "user_agent": nz(f("user_agent")),
        "session_id": nz(f("session")),
        "unique_token_id": nz(f("uti")),
        "correlation_id": nz(f("correlation")),
        "original_request_id": nz(f("original")),
        "request_id": nz(f("id")),
        "risk_level_during_signin": nz(f("risk_rt")),
        "risk_level_aggregated": nz(f("risk_agg")),
        "risk_state": nz(f("risk_state")),
        "risk_detail": nz(f("risk_detail")),
        "risk_event_types": f"coalesce({as_json(f('risk_types'))}, {as_json(f('risk_types_old'))})",
        "ca_status": nz(f("ca_status")),
        "ca_policies": as_json(f("ca_policies")),
    }
