"""Where each Sigma logsource's events live in vigil, and what each vendor field name is there.

A Sigma rule names a logsource (``product`` / ``service``) and the vendor's own field names
(``ResultType``, ``eventType``, ``additionalEventData.MFAUsed``). Each supported logsource is a
:class:`Target`: a relation over vigil's canonical tables (aliased ``e``) and a map from the vendor
field (matched case-insensitively: published rules write ``operationName`` and ``OperationName``) to
a SQL expression over it. A field missing from the map has no equivalent in vigil's model and the
rule is reported as not loaded, naming the field; logsources missing from :data:`TARGETS` are
reported with :data:`UNSUPPORTED`'s reason.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Target:
    #: FROM clause (a table or a parenthesised query) aliased ``e``
    relation: str
    #: tables / views the relation reads (the engine skips the rule when one is missing)
    requires: tuple[str, ...]
    #: vendor field name, lower-cased -> SQL expression over ``e``
    fields: dict[str, str] = field(default_factory=dict)
    event_id: str = "e.event_id"
    user_id: str = "e.user_id"
    upn: str = "e.user_principal_name"
    time: str = "e.event_time"
    #: SQL for a JSON object of what the finding saw besides the rule
    evidence: str = "json_object('ip', e.ip)"
    activity: str = "signin"


def _lower(d: dict[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in d.items()}


_ENTRA_SIGNIN = Target(
    relation="(select * from signins_enriched where token_issuer_type is null "
             "or token_issuer_type not in ('Okta', 'Google', 'AWS'))",
    requires=("signins_enriched",),
    fields=_lower({
        "ResultType": "e.result_code", "ResultDescription": "e.result_reason", "Status": "e.result",
        "AuthenticationRequirement": "e.auth_requirement", "userAgent": "e.user_agent",
        "ResourceDisplayName": "e.resource_name", "AppDisplayName": "e.app_name", "AppId": "e.app_id",
        "conditionalAccessStatus": "e.ca_status", "RiskState": "e.risk_state",
        "RiskLevelDuringSignIn": "e.risk_level_during_signin", "RiskLevelAggregated": "e.risk_level_aggregated",
        "DeviceDetail.trusttype": "e.device_trust_type", "DeviceDetail.isCompliant": "e.device_compliant",
        "DeviceDetail.isManaged": "e.device_managed", "DeviceDetail.deviceId": "e.device_id",
        "DeviceDetail.operatingSystem": "e.device_os", "DeviceDetail.browser": "e.device_browser",
        "ClientApp": "e.client_app_type", "ClientAppUsed": "e.client_app_type",
        "Username": "e.user_principal_name", "UserPrincipalName": "e.user_principal_name",
        "IPAddress": "e.ip", "AuthenticationProtocol": "e.auth_protocol",
        "IncomingTokenType": "e.incoming_token_type", "Location": "e.geo_country",
    }),
    evidence="json_object('ip', e.ip, 'app', e.app_name, 'result', e.result, 'result_code', e.result_code, "
             "'user_agent', e.user_agent, 'auth_requirement', e.auth_requirement)",
)

_AUDIT_OP = "e.operation"
_ENTRA_AUDIT = Target(
    relation="directory_events",
    requires=("directory_events",),
    fields=_lower({
        # the activity name under every spelling the published rules use
        "properties.message": _AUDIT_OP, "OperationName": _AUDIT_OP, "ActivityDisplayName": _AUDIT_OP,
        "ActivityType": _AUDIT_OP,
        "Category": "e.category", "Status": "e.result", "properties.result": "e.result",
        "failure_status_reason": "e.result_reason",
        # targets: what vigil keeps of them (the target user and every modified property, as JSON text)
        "TargetResources": "concat_ws(' ', e.target_upn, e.target_display_name, e.target_user_id, "
                           "CAST(e.modified_properties AS VARCHAR))",
        "TargetResources.modifiedProperties": "CAST(e.modified_properties AS VARCHAR)",
        "properties.targetResources": "concat_ws(' ', e.target_upn, e.target_display_name, e.target_user_id, "
                                      "CAST(e.modified_properties AS VARCHAR))",
        "Target": "concat_ws(' ', e.target_upn, e.target_display_name)",
        "Initiatedby": "e.actor_upn", "InitiatedBy": "e.actor_upn",
    }),
    user_id="e.target_user_id", upn="coalesce(e.target_upn, e.actor_upn)",
    evidence="json_object('operation', e.operation, 'category', e.category, 'result', e.result, "
             "'actor', e.actor_upn, 'target', coalesce(e.target_upn, e.target_display_name), 'ip', e.ip)",
    activity="user",
)

_RISK = Target(
    # Entra ID Protection's own detections (vigil's are rewritten by the same run)
    relation="""(select * from "riskDetections" where source <> 'vigil')""",
    requires=("riskDetections",),
    fields=_lower({"riskEventType": "e.riskEventType", "riskLevel": "e.riskLevel", "riskState": "e.riskState",
                   "riskDetail": "e.riskDetail", "detectionTimingType": "e.detectionTimingType",
                   "ipAddress": "e.ipAddress", "userPrincipalName": "e.userPrincipalName"}),
    event_id="e.event_id", user_id="e.userId", upn="e.userPrincipalName", time="e.activityDateTime",
    evidence="json_object('riskEventType', e.riskEventType, 'riskLevel', e.riskLevel, 'ip', e.ipAddress, "
             "'vendor_detection_id', e.id)",
)

_O365 = Target(
    relation="(select * from activities_enriched where workload not in ('Okta', 'Google Workspace') "
             "and coalesce(workload, '') not like '%.amazonaws.com')",
    requires=("activities_enriched",),
    fields=_lower({"Operation": "e.operation", "Workload": "e.workload", "ResultStatus": "e.result_status",
                   "ObjectId": "e.object_id", "ApplicationId": "e.client_app_id", "ClientIP": "e.ip",
                   "UserId": "e.user_principal_name", "RecordType": "e.record_type"}),
    evidence="json_object('operation', e.operation, 'workload', e.workload, 'object', e.object_id, 'ip', e.ip)",
    activity="user",
)

_OKTA = Target(
    # Okta's non-sign-in events keep their eventType as the operation; sign-in events are canonical sign-ins,
    # which keep no eventType (rules on sign-in event types run and can only match these admin events)
    relation="(select * from activities_enriched where workload = 'Okta')",
    requires=("activities_enriched",),
    fields=_lower({"eventType": "e.operation", "outcome.result": "split_part(e.result_status, ' ', 1)",
                   "outcome.reason": "nullif(regexp_extract(e.result_status, '\\((.*)\\)', 1), '')",
                   "actor.alternateId": "e.user_principal_name", "client.ipAddress": "e.ip",
                   "target.displayName": "CAST(e.parameters AS VARCHAR)",
                   "displayMessage": "json_extract_string(e.details, '$.displayMessage')",
                   "legacyEventType": "json_extract_string(e.details, '$.legacyEventType')"}),
    evidence="json_object('eventType', e.operation, 'outcome', e.result_status, 'ip', e.ip)",
    activity="user",
)

_GWS_EVENT = "e.gws_event"
_GWS_LOGIN = Target(
    relation="""(select event_id, user_id, user_principal_name, event_time, ip, operation as gws_event
                 from activities_enriched where workload = 'Google Workspace'
                 union all
                 select event_id, user_id, user_principal_name, event_time, ip,
                   split_part(result_reason, '; ', 1) as gws_event
                 from signins_enriched where token_issuer_type = 'Google')""",
    requires=("activities_enriched", "signins_enriched"),
    fields=_lower({"protoPayload.serviceName": "'login.googleapis.com'",
                   "protoPayload.metadata.event.eventName": _GWS_EVENT, "eventName": _GWS_EVENT}),
    evidence="json_object('event', e.gws_event, 'ip', e.ip)",
)

_CT_NAME = "case e.app_name when 'AWS Management Console' then 'ConsoleLogin' else e.app_name end"
_CLOUDTRAIL = Target(
    relation="(select * from signins_enriched where token_issuer_type = 'AWS')",
    requires=("signins_enriched",),
    fields=_lower({"eventSource": "'signin.amazonaws.com'", "eventName": _CT_NAME,
                   "responseElements.ConsoleLogin": "e.result", "errorMessage": "e.result_reason",
                   "additionalEventData.MFAUsed": "case when e.mfa_satisfied then 'Yes' "
                                                  "when e.mfa_satisfied = false then 'No' end",
                   "userAgent": "e.user_agent", "sourceIPAddress": "e.ip",
                   "userIdentity.type": "e.user_type"}),
    evidence="json_object('eventName', " + _CT_NAME + ", 'result', e.result, 'ip', e.ip, 'mfa', e.mfa_satisfied)",
)

#: (product, service) -> target
TARGETS: dict[tuple[str, str], Target] = {
    ("azure", "signinlogs"): _ENTRA_SIGNIN,
    ("azure", "auditlogs"): _ENTRA_AUDIT,
    ("azure", "riskdetection"): _RISK,
    ("m365", "audit"): _O365,
    ("okta", "okta"): _OKTA,
    ("gcp", "google_workspace.login"): _GWS_LOGIN,
    ("aws", "cloudtrail"): _CLOUDTRAIL,
}

#: logsources vigil has no events for, and why
UNSUPPORTED: dict[tuple[str, str], str] = {
    ("azure", "pim"): "logsource azure/pim: PIM alerts are not ingested by vigil (no equivalent table)",
    ("m365", "threat_management"): "logsource m365/threat_management: Security & Compliance Center alerts "
                                   "(eventName = the alert's name) are not mapped by vigil's Office 365 formats",
    ("m365", "exchange"): "logsource m365/exchange: Security & Compliance Center alerts are not mapped",
    ("m365", "threat_detection"): "logsource m365/threat_detection: Security & Compliance Center alerts are "
                                  "not mapped",
    ("gcp", "google_workspace.admin"): "logsource gcp/google_workspace.admin: vigil reads Google Workspace "
                                       "login activities only, not the admin application",
    ("onelogin", "onelogin.events"): "logsource onelogin/onelogin.events: vigil has no OneLogin format",
}
