"""Entra admin center downloads (Sign-in logs / Audit logs > Download > CSV): human-readable headers.

Sign-ins (``Date (UTC)``, ``Request ID``, ``User agent``, ``Username``, ``IP address``, ``Location`` as
"City, State, Country", ``Session ID``, ``Unique token identifier`` ...; the service-principal tab has
``Service principal ID`` / ``Service principal name`` instead of the user columns). The download does not
say which tab (interactive or not) it came from, so ``is_interactive`` stays unknown.

Audit logs (``Date (UTC)``, ``CorrelationId``, ``Service``, ``Category``, ``Activity``, ``Result``,
``ActorUserPrincipalName``, ``IPAddress``, ``Target1Type`` ... ``Target1ModifiedProperty1NewValue``,
``AdditionalDetail1Key`` ...): no record id column, so the engine keys a row by its content.

The JSON downloads are Graph-shaped (camelCase ``signIn`` / ``directoryAudit`` arrays) and are read by
``entra_signin_graph`` and ``entra_audit_graph``.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vigil.sources._base import SourceSpec, boolean, first, lower, nz
from vigil.sources.formats._audit import event_type_sql
from vigil.sources.formats._entra import INTERRUPT_CODES

_INTERRUPTS = ", ".join(f"'{c}'" for c in INTERRUPT_CODES)


def c(header: str) -> str:
    """Placeholder for a CSV column whose name has spaces or brackets."""
    return '{$."' + header + '"}'


def _location_part(i: int) -> str:
    """The portal writes ``City, State, Country``; parts may be empty."""
    return nz(f"trim(split_part({c('Location')}, ',', {i}))")


def _signin_detect(r: Mapping[str, Any]) -> bool:
    return "Date (UTC)" in r and "Request ID" in r and "IP address" in r


_code = nz(c("Sign-in error code"))
_result = (f"CASE WHEN {_code} = '0' OR lower({nz(c('Status'))}) = 'success' THEN 'success' "
           f"WHEN {_code} IN ({_INTERRUPTS}) OR lower({nz(c('Status'))}) = 'interrupted' THEN 'interrupted' "
           f"WHEN {_code} IS NULL AND {nz(c('Status'))} IS NULL THEN NULL ELSE 'failure' END")
_sp = f"{nz(c('Service principal ID'))} IS NOT NULL"

SIGNINS = SourceSpec(
    name="entra_signin_portal",
    title="Entra ID sign-ins, admin center CSV download (Date (UTC), Request ID, Username, IP address ...)",
    target="signins",
    detect=_signin_detect,
    columns={
        "tenant_id": first(c("Home tenant ID"), c("Resource tenant ID")),
        "user_id": first(c("User ID"), c("Service principal ID")),
        "user_principal_name": f"coalesce({lower(c('Username'))}, {lower(c('Service principal name'))})",
        "user_display_name": first(c("User"), c("Service principal name")),
        "user_type": f"coalesce({nz(c('User type'))}, CASE WHEN {_sp} THEN 'ServicePrincipal' END)",
        "app_id": nz(c("Application ID")),
        "app_name": nz(c("Application")),
        "resource_id": nz(c("Resource ID")),
        "resource_name": nz(c("Resource")),
        "client_app_type": nz(c("Client app")),
        "result": _result,
        "result_code": _code,
        "result_reason": nz(c("Failure reason")),
        "auth_requirement": nz(c("Authentication requirement")),
        "auth_methods": (f"CASE WHEN {nz(c('Multifactor authentication auth method'))} IS NOT NULL "
                         f"THEN to_json([{nz(c('Multifactor authentication auth method'))}]) END"),
        "mfa_satisfied": (f"({_result}) = 'success' AND (lower(coalesce({nz(c('Authentication requirement'))}, '')) "
                          f"IN ('multifactorauthentication', 'multifactor authentication') "
                          f"OR {nz(c('Multifactor authentication auth method'))} IS NOT NULL)"),
        "auth_protocol": nz(c("Authentication Protocol")),
        "incoming_token_type": nz(c("Incoming token type")),
        "token_issuer_type": nz(c("Token issuer type")),
        "client_credential_type": f"nullif({nz(c('Client credential type'))}, 'none')",
        "ip": f"vigil_ip({c('IP address')})",
        "resource_ip": f"vigil_ip({c('IP address (seen by resource)')})",
        "country": f"upper({_location_part(3)})",
        "state": _location_part(2),
        "city": _location_part(1),
        "asn": f"TRY_CAST({first(c('Autonomous system  number'), c('Autonomous system number'))} AS INTEGER)",
        "device_id": nz(c("Device ID")),
        "device_os": nz(c("Operating System")),
        "device_browser": nz(c("Browser")),
        "device_managed": boolean(c("Managed")),
        "device_compliant": boolean(c("Compliant")),
        "device_trust_type": nz(c("Join Type")),
        "user_agent": nz(c("User agent")),
        "session_id": nz(c("Session ID")),
        "unique_token_id": nz(c("Unique token identifier")),
        "correlation_id": nz(c("Correlation ID")),
        "request_id": nz(c("Request ID")),
        "ca_status": nz(c("Conditional Access")),
    },
    record_id=c("Request ID"),
    time=c("Date (UTC)"),
    source_table=f"CASE WHEN {_sp} THEN 'AADServicePrincipalSignInLogs' ELSE 'EntraPortalSignIns' END",
    notes="admin center download; is_interactive unknown (the file does not say which tab it came from)",
)


def _audit_detect(r: Mapping[str, Any]) -> bool:
    return "Date (UTC)" in r and "Activity" in r and "ActorUserPrincipalName" in r


def _modified(n: int = 5) -> str:
    """Target1's modified properties as [{displayName, oldValue, newValue}] (the Graph shape)."""
    items = ", ".join(
        f"CASE WHEN {nz(c(f'Target1ModifiedProperty{i}Name'))} IS NOT NULL THEN {{'displayName': "
        f"{c(f'Target1ModifiedProperty{i}Name')}, 'oldValue': {c(f'Target1ModifiedProperty{i}OldValue')}, "
        f"'newValue': {c(f'Target1ModifiedProperty{i}NewValue')}}} END" for i in range(1, n + 1))
    return f"to_json(list_filter([{items}], lambda p: p IS NOT NULL))"


_activity = nz(c("Activity"))
_user_target = f"lower({nz(c('Target1Type'))}) = 'user'"

AUDIT = SourceSpec(
    name="entra_audit_portal",
    title="Entra ID audit logs, admin center CSV download (Date (UTC), Activity, ActorUserPrincipalName, Target1...)",
    target="directory_events",
    detect=_audit_detect,
    columns={
        "tenant_id": nz(c("ActorHomeTenantId")),
        "event_type": event_type_sql(f"coalesce({_activity}, '')"),
        "operation": f"trim({_activity})",
        "category": nz(c("Category")),
        "result": lower(c("Result")),
        "result_reason": nz(c("ResultReason")),
        "actor_id": first(c("ActorObjectId"), c("ActorServicePrincipalId")),
        "actor_upn": f"coalesce({lower(c('ActorUserPrincipalName'))}, {nz(c('ActorServicePrincipalName'))}, "
                     f"{nz(c('ActorDisplayName'))})",
        "target_user_id": f"CASE WHEN {_user_target} THEN {nz(c('Target1ObjectId'))} END",
        "target_upn": f"CASE WHEN {_user_target} THEN {lower(c('Target1UserPrincipalName'))} END",
        "target_display_name": nz(c("Target1DisplayName")),
        "ip": f"vigil_ip({c('IPAddress')})",
        "correlation_id": nz(c("CorrelationId")),
        "modified_properties": f"vigil_json(nullif(CAST({_modified()} AS VARCHAR), '[]'))",
    },
    # no audit record id in the download: the engine keys rows by their content
    record_id="NULL",
    time=c("Date (UTC)"),
    source_table="'AuditLogs'",
)

SOURCES = [SIGNINS, AUDIT]
