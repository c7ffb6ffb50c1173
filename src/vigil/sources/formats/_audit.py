"""Shared mapping of Entra ID audit records (Log Analytics ``AuditLogs``, diagnostic
records, Graph ``directoryAudit``) to ``directory_events``.

``event_type`` classifies the activity into the identity changes that matter to access
(critical events for continuous access evaluation, remediation for risk).
"""
from __future__ import annotations

from vigil.sources._base import as_json, first, lower, nz, sub

# (event_type, case-insensitive regex on the activity name); first match wins
EVENT_TYPES: tuple[tuple[str, str], ...] = (
    ("password_reset", r"reset (user )?password|reset password|set force change user password"),
    ("password_changed", r"change (user )?password|change password|update password|password change"),
    ("sessions_revoked", r"invalidate all refresh tokens|revoke.*(session|token)|revokesigninsessions"),
    ("user_disabled", r"^disable account"),
    ("user_enabled", r"^enable account"),
    ("user_deleted", r"^(hard )?delete user"),
    ("mfa_registered", r"registered (all required )?security info|register(ed)? (authentication|mfa)|"
                       r"add(ed)? (authentication|strong authentication) method"),
    ("mfa_removed", r"deleted security info|delete(d)? (authentication|strong authentication) method|"
                    r"reset (strong authentication|mfa)"),
    # PIM writes a request ("Add member to role in PIM requested (timebound)") before, and apart from, the
    # assignment ("... completed", "Add member to role outside of PIM"): a request grants nothing
    ("role_requested", r"member to role.*\brequested\b"),
    ("role_assigned", r"add (eligible |scoped )?member to role"),
)


def event_type_sql(activity: str) -> str:
    cases = " ".join(f"WHEN regexp_matches(lower({activity}), '{rx}') THEN '{et}'" for et, rx in EVENT_TYPES)
    return f"CASE {cases} ELSE 'other' END"


def audit_columns(style: str, prefix: str) -> dict[str, str]:
    """``style`` 'la' (PascalCase) or 'camel'; fields under ``prefix``."""
    la = style == "la"

    def f(pascal: str, camel: str) -> str:
        return "{" + prefix + (pascal if la else camel) + "}"

    activity = first(f("ActivityDisplayName", "activityDisplayName"), f("OperationName", "activityDisplayName"))
    by = f("InitiatedBy", "initiatedBy")
    targets = f("TargetResources", "targetResources")
    # the first target of type User (any case), else the first target
    user_target = (f"coalesce(list_filter(json_extract(vigil_jtext({targets}), '$[*]'), "
                   f"lambda t: lower(coalesce(json_extract_string(t, '$.type'), json_extract_string(t, '$.Type'))) "
                   f"= 'user')[1], json_extract(vigil_jtext({targets}), '$[0]'))")
    return {
        "tenant_id": first(f("TenantId", "tenantId"), "{$.tenantId}"),
        "event_type": event_type_sql(f"coalesce({activity}, '')"),
        "operation": f"trim({activity})",
        "category": nz(f("Category", "category")),
        "result": lower(f("Result", "result")),
        "result_reason": first(f("ResultReason", "resultReason"), f("ResultDescription", "resultDescription")),
        "actor_id": first(sub(by, "$.user.id"), sub(by, "$.app.servicePrincipalId"), sub(by, "$.app.appId")),
        "actor_upn": f"coalesce({lower(sub(by, '$.user.userPrincipalName'))}, {nz(sub(by, '$.app.displayName'))})",
        "target_user_id": nz(f"json_extract_string({user_target}, '$.id')"),
        "target_upn": lower(f"json_extract_string({user_target}, '$.userPrincipalName')"),
        "target_display_name": nz(f"json_extract_string({user_target}, '$.displayName')"),
        "ip": f"vigil_ip({first(sub(by, '$.user.ipAddress'), sub(by, '$.app.ipAddress'), '{$.callerIpAddress}')})",
        "correlation_id": first(f("CorrelationId", "correlationId")),
        "modified_properties": as_json(f"to_json(json_extract(vigil_jtext({targets}), '$[*].modifiedProperties'))"),
        # Log Analytics calls it AADOperationType (OperationType in some exports), Graph operationType
        "operation_type": first(f("AADOperationType", "operationType"), f("OperationType", "operationType")),
        "additional_details": as_json(f("AdditionalDetails", "additionalDetails")),
    }
