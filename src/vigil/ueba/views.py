"""Sentinel-named views over the canonical tables, for hunting queries written for Sentinel.

* ``SigninLogs`` / ``AADNonInteractiveUserSignInLogs`` -- ``signins`` split on IsInteractive;
  ``LocationDetails``, ``DeviceDetail``, ``Status``, ``ConditionalAccessPolicies`` are JSON with the
  Sentinel shape (dotted access works; so does ``parse_json()``, which the non-interactive table
  needs in Sentinel because it stores them as strings).
* ``AuditLogs`` -- ``directory_events`` with ``InitiatedBy`` / ``TargetResources`` objects.
* ``OfficeActivity`` -- ``activities``.
* ``BehaviorAnalytics`` -- ``ueba_behavior`` with its typed insight columns folded into the JSON bags
  (:func:`vigil.ueba.tables.behavior_view_sql`; the ueba stage makes it too, on every engine).

Geography comes from ``signins_enriched`` when that view exists (vendor value first), else from
the vendor columns. Every view keeps ``event_id`` so hunts can join back to vigil's tables.
"""
from __future__ import annotations

from collections.abc import Callable

from vigil.store import Store
from vigil.ueba.tables import UEBA_BEHAVIOR, behavior_view_sql

_SIGNIN_COLUMNS = """
    s.event_time AS TimeGenerated, s.tenant_id AS TenantId, s.tenant_id AS AADTenantId,
    coalesce(s.request_id, s.source_record_id) AS Id, s.correlation_id AS CorrelationId,
    s.original_request_id AS OriginalRequestId, s.session_id AS SessionId,
    s.unique_token_id AS UniqueTokenIdentifier,
    s.user_principal_name AS UserPrincipalName, s.user_display_name AS UserDisplayName, s.user_id AS UserId,
    s.user_type AS UserType, s.app_name AS AppDisplayName, s.app_id AS AppId,
    s.resource_name AS ResourceDisplayName, s.resource_id AS ResourceId, s.client_app_type AS ClientAppUsed,
    s.is_interactive AS IsInteractive,
    CASE WHEN s.result = 'success' THEN '0' ELSE coalesce(s.result_code, s.result) END AS ResultType,
    s.result_reason AS ResultDescription,
    CASE WHEN s.result = 'success' THEN 'SUCCESS' ELSE upper(s.result) END AS ResultSignature,
    s.ip AS IPAddress, s.resource_ip AS IPAddressFromResourceProvider,
    {country} AS Location,
    json_object('city', {city}, 'state', {state}, 'countryOrRegion', {country},
                'geoCoordinates', json_object('latitude', {lat}, 'longitude', {lon})) AS LocationDetails,
    json_object('deviceId', coalesce(s.device_id, ''), 'displayName', coalesce(s.device_name, ''),
                'operatingSystem', s.device_os, 'browser', s.device_browser, 'isCompliant', s.device_compliant,
                'isManaged', s.device_managed, 'trustType', s.device_trust_type) AS DeviceDetail,
    json_object('errorCode', CASE WHEN s.result = 'success' THEN 0 ELSE TRY_CAST(s.result_code AS BIGINT) END,
                'failureReason', s.result_reason, 'additionalDetails', NULL) AS Status,
    s.user_agent AS UserAgent, s.auth_requirement AS AuthenticationRequirement,
    s.auth_methods AS AuthenticationMethodsUsed, s.auth_protocol AS AuthenticationProtocol,
    s.incoming_token_type AS IncomingTokenType, s.token_issuer_type AS TokenIssuerType,
    s.client_credential_type AS ClientCredentialType,
    s.risk_level_during_signin AS RiskLevelDuringSignIn, s.risk_level_aggregated AS RiskLevelAggregated,
    s.risk_state AS RiskState, s.risk_detail AS RiskDetail, s.risk_event_types AS RiskEventTypes_V2,
    s.ca_status AS ConditionalAccessStatus, s.ca_policies AS ConditionalAccessPolicies,
    {asn} AS AutonomousSystemNumber,
    'Sign-in activity' AS OperationName, 'Azure AD' AS SourceSystem,
    s.user_display_name AS Identity, s.user_principal_name AS AlternateSignInName,
    CASE WHEN s.user_type = 'Guest' THEN NULL ELSE s.tenant_id END AS HomeTenantId, s.tenant_id AS ResourceTenantId,
    to_json(list_transform(TRY_CAST(s.auth_methods AS VARCHAR[]), lambda m: json_object('authenticationMethod', m)))
        AS AuthenticationDetails,
    s.risk_event_types AS RiskEventTypes,
    coalesce(s.risk_state IN ('atRisk', 'confirmedCompromised'), false) AS IsRisky,
    s.event_time AS CreatedDateTime, CAST(NULL AS BIGINT) AS DurationMs,
    CAST(NULL AS JSON) AS AuthenticationProcessingDetails, CAST(NULL AS JSON) AS NetworkLocationDetails,
    CAST(NULL AS JSON) AS MfaDetail, CAST(NULL AS VARCHAR) AS ServicePrincipalId,
    CAST(NULL AS VARCHAR) AS CrossTenantAccessType, CAST(NULL AS BOOLEAN) AS FlaggedForReview,
    CAST(NULL AS BOOLEAN) AS IsTenantRestricted, CAST(NULL AS BOOLEAN) AS IsThroughGlobalSecureAccess,
    CAST(NULL AS JSON) AS AuthenticationContextClassReferences, CAST(NULL AS JSON) AS AppliedEventListeners,
    CAST(NULL AS JSON) AS SessionLifetimePolicies, CAST(NULL AS VARCHAR) AS SignInIdentifierType,
    CAST(NULL AS VARCHAR) AS ServicePrincipalName,
    'Microsoft.aadiam' AS Resource, 'Microsoft.aadiam' AS ResourceGroup, 'Microsoft.aadiam' AS ResourceProvider,
    CAST(NULL AS VARCHAR) AS _ResourceId, s.event_id AS _ItemId,
    s.event_id AS event_id
"""


def _signins_sql(store: Store, interactive: bool) -> str:
    if store.exists("signins_enriched"):
        src = "signins_enriched"
        geo = dict(country="coalesce(s.country, s.geo_country)", city="coalesce(s.city, s.geo_city)",
                   state="coalesce(s.state, s.geo_state)", lat="coalesce(s.latitude, s.geo_latitude)",
                   lon="coalesce(s.longitude, s.geo_longitude)", asn="coalesce(s.asn, s.asn_number)")
    else:
        src = "signins"
        geo = dict(country="s.country", city="s.city", state="s.state", lat="s.latitude", lon="s.longitude",
                   asn="s.asn")
    table = "SigninLogs" if interactive else "AADNonInteractiveUserSignInLogs"
    # Interactive unless the vendor says otherwise (IsInteractive false, or the non-interactive table).
    # service-principal and managed-identity sign-ins have tables of their own (below)
    noninteractive = ("(coalesce(NOT s.is_interactive, false)"
                      " OR coalesce(s.source_table = 'AADNonInteractiveUserSignInLogs', false))")
    cond = f"NOT {noninteractive}" if interactive else noninteractive
    category = "SignInLogs" if interactive else "NonInteractiveUserSignInLogs"
    return (f"SELECT {_SIGNIN_COLUMNS.format(**geo)}, '{table}' AS Type, '{category}' AS Category "
            f"FROM {src} s WHERE {cond} AND NOT {_WORKLOAD_SIGNIN}")


_WORKLOAD_SIGNIN = ("coalesce(s.source_table IN ('AADServicePrincipalSignInLogs', 'AADManagedIdentitySignInLogs')"
                    " OR s.user_type IN ('ServicePrincipal', 'ManagedIdentity'), false)")


def _workload_signins_sql(store: Store, table: str) -> str:
    """AADServicePrincipalSignInLogs / AADManagedIdentitySignInLogs over ``signins``."""
    kind = "ServicePrincipal" if table == "AADServicePrincipalSignInLogs" else "ManagedIdentity"
    return f"""
SELECT s.event_time AS TimeGenerated, s.tenant_id AS TenantId, s.tenant_id AS AADTenantId,
       coalesce(s.request_id, s.source_record_id) AS Id, s.correlation_id AS CorrelationId,
       coalesce(s.user_id, s.app_id) AS ServicePrincipalId,
       coalesce(s.user_display_name, s.app_name) AS ServicePrincipalName, s.app_id AS AppId,
       s.resource_name AS ResourceDisplayName, s.resource_id AS ResourceIdentity, s.ip AS IPAddress,
       CASE WHEN s.result = 'success' THEN '0' ELSE coalesce(s.result_code, s.result) END AS ResultType,
       s.result_reason AS ResultDescription, s.country AS Location,
       json_object('city', s.city, 'state', s.state, 'countryOrRegion', s.country) AS LocationDetails,
       s.client_credential_type AS ClientCredentialType, CAST(NULL AS VARCHAR) AS ServicePrincipalCredentialKeyId,
       s.ca_status AS ConditionalAccessStatus, s.ca_policies AS ConditionalAccessPolicies,
       s.unique_token_id AS UniqueTokenIdentifier, 'Sign-in activity' AS OperationName,
       '{table}' AS Category, '{table}' AS Type, 'Azure AD' AS SourceSystem,
       s.event_id AS _ItemId, s.event_id AS event_id
FROM signins s
WHERE coalesce(s.source_table = '{table}' OR s.user_type = '{kind}', false)"""


_AUDIT = """
SELECT d.event_time AS TimeGenerated, d.tenant_id AS TenantId, d.source_record_id AS Id,
       d.operation AS OperationName, d.operation AS ActivityDisplayName, d.event_time AS ActivityDateTime,
       d.category AS Category, d.result AS Result, d.result_reason AS ResultReason,
       d.correlation_id AS CorrelationId, 'Core Directory' AS LoggedByService,
       json_object('user', json_object('id', d.actor_id, 'userPrincipalName', d.actor_upn, 'ipAddress', d.ip))
           AS InitiatedBy,
       json_array(json_object('id', d.target_user_id, 'userPrincipalName', d.target_upn,
                              'displayName', d.target_display_name, 'type', 'User',
                              -- the Entra audit adapter keeps one list per target resource; other sources one list
                              'modifiedProperties', coalesce(CASE WHEN json_type(d.modified_properties -> 0) = 'ARRAY'
                                  THEN d.modified_properties -> 0 ELSE d.modified_properties END, '[]'::JSON)))
           AS TargetResources,
       coalesce(d.actor_upn, d.actor_id) AS Identity, d.operation_type AS AADOperationType,
       d.additional_details AS AdditionalDetails, d.tenant_id AS AADTenantId, d.result_reason AS ResultDescription,
       CAST(NULL AS VARCHAR) AS OperationVersion, CAST(NULL AS BIGINT) AS DurationMs,
       '/tenants/' || coalesce(d.tenant_id, '') || '/providers/Microsoft.aadiam' AS ResourceId,
       'Microsoft.aadiam' AS Resource, 'Microsoft.aadiam' AS ResourceGroup, 'Microsoft.aadiam' AS ResourceProvider,
       'Azure AD' AS SourceSystem, d.event_id AS _ItemId,
       d.event_type AS vigil_event_type, 'AuditLogs' AS Type, d.event_id AS event_id
FROM directory_events d
"""

_OFFICE = """
SELECT a.event_time AS TimeGenerated, a.tenant_id AS TenantId, a.tenant_id AS OrganizationId,
       a.source_record_id AS OfficeId, a.record_type AS RecordType, a.operation AS Operation,
       a.workload AS OfficeWorkload, a.result_status AS ResultStatus, a.object_id AS OfficeObjectId,
       a.user_principal_name AS UserId, a.user_id AS UserKey, a.user_type AS UserType,
       a.ip AS ClientIP, a.user_agent AS UserAgent, a.client_app_id AS AppId, a.app_name AS AppName,
       a.session_id AS SessionId, a.unique_token_id AS UniqueTokenId, a.parameters AS Parameters,
       a.details AS Details, a.ip AS Client_IPAddress, a.tenant_id AS OfficeTenantId,
       {office_details},
       'OfficeActivity' AS SourceSystem, a.event_id AS _ItemId, 'OfficeActivity' AS Type, a.event_id AS event_id
FROM activities a
"""


#: OfficeActivity columns Sentinel flattens from the Office 365 record (kept in ``activities.details``)
_OFFICE_DETAILS = {
    "ClientInfoString": "ClientInfoString", "Logon_Type": "LogonType", "OriginatingServer": "OriginatingServer",
    "MailboxOwnerUPN": "MailboxOwnerUPN", "MailboxGuid": "MailboxGuid", "ExternalAccess": "ExternalAccess",
    "Site_Url": "SiteUrl", "SourceFileName": "SourceFileName", "SourceFileExtension": "SourceFileExtension",
    "SourceRelativeUrl": "SourceRelativeUrl", "ItemType": "ItemType", "Event_Data": "EventData",
    "TeamName": "TeamName", "TeamGuid": "TeamGuid", "ChannelName": "ChannelName", "AddOnName": "AddOnName",
    "AddonType": "AddOnType", "CommunicationType": "CommunicationType",
    "TargetUserOrGroupName": "TargetUserOrGroupName", "TargetUserOrGroupType": "TargetUserOrGroupType",
    "ModifiedObjectResolvedName": "ModifiedObjectResolvedName", "DestFolder": "DestFolder",
}
#: ... and those that are JSON in Sentinel
_OFFICE_JSON = {"Members": "Members", "Folders": "Folders", "AffectedItems": "AffectedItems",
                "ModifiedProperties": "ModifiedProperties", "OperationProperties": "OperationProperties",
                "Item": "Item"}


def _office_sql() -> str:
    cols = [f"a.details ->> '{src}' AS {name}" for name, src in _OFFICE_DETAILS.items()]
    cols += [f"a.details -> '{src}' AS {name}" for name, src in _OFFICE_JSON.items()]
    return _OFFICE.replace("{office_details}", ",\n       ".join(cols))


def _risk_users_sql() -> str:
    return """
SELECT r.riskLastUpdatedDateTime AS TimeGenerated, r.id AS Id, r.userPrincipalName AS UserPrincipalName,
       r.userDisplayName AS UserDisplayName, r.riskLevel AS RiskLevel, r.riskState AS RiskState,
       r.riskDetail AS RiskDetail, r.riskLastUpdatedDateTime AS RiskLastUpdatedDateTime,
       r.isDeleted AS IsDeleted, r.isProcessing AS IsProcessing, 'Risky user' AS OperationName,
       r.source AS Source, r.reason AS vigil_reason, 'AADRiskyUsers' AS Type, 'Azure AD' AS SourceSystem
FROM riskyUsers r"""


def _risk_events_sql() -> str:
    return """
SELECT d.detectedDateTime AS TimeGenerated, d.id AS Id, d.riskEventType AS RiskEventType, d.riskLevel AS RiskLevel,
       d.riskState AS RiskState, d.riskDetail AS RiskDetail, d.detectionTimingType AS DetectionTimingType,
       d.activity AS Activity, d.activityDateTime AS ActivityDateTime, d.detectedDateTime AS DetectedDateTime,
       d.ipAddress AS IpAddress, d.location AS Location, d.userId AS UserId,
       d.userPrincipalName AS UserPrincipalName, d.userDisplayName AS UserDisplayName, d.requestId AS RequestId,
       d.correlationId AS CorrelationId, d.source AS Source, d.additionalInfo AS AdditionalInfo,
       CAST(NULL AS VARCHAR) AS TokenIssuerType, 'User Risk Detection' AS OperationName,
       d.reason AS vigil_reason, d.event_id AS event_id, 'AADUserRiskEvents' AS Type, 'Azure AD' AS SourceSystem
FROM riskDetections d"""


_SEVERITY = ("CASE lower({0}) WHEN 'high' THEN 'High' WHEN 'medium' THEN 'Medium' WHEN 'low' THEN 'Low' "
             "ELSE 'Informational' END")


def _security_alert_sql() -> str:
    """vigil's risk detections as SecurityAlert rows (ProviderName / VendorName 'vigil')."""
    return f"""
SELECT d.detectedDateTime AS TimeGenerated, d.id AS SystemAlertId, d.riskEventType AS AlertName,
       d.riskEventType AS AlertType, {_SEVERITY.format('d.riskLevel')} AS AlertSeverity,
       d.reason AS Description, 'vigil' AS ProviderName, 'vigil' AS VendorName, 'vigil' AS ProductName,
       'New' AS Status, d.userPrincipalName AS CompromisedEntity, d.activityDateTime AS StartTime,
       d.activityDateTime AS EndTime, d.detectedDateTime AS ProcessingEndTime,
       to_json([json_object('Type', 'account', 'Name', d.userPrincipalName, 'AadUserId', d.userId),
                json_object('Type', 'ip', 'Address', d.ipAddress)]) AS Entities,
       json_object('User Account', d.userPrincipalName, 'Detection', d.detection, 'Risk level', d.riskLevel,
                   'Request Id', d.requestId, 'Source', d.source) AS ExtendedProperties,
       CAST(d.mitre AS VARCHAR) AS Techniques, CAST(NULL AS VARCHAR) AS Tactics,
       CAST(NULL AS VARCHAR) AS ConfidenceLevel, false AS IsIncident, d.event_id AS event_id,
       'SecurityAlert' AS Type, 'Detection' AS SourceSystem
FROM riskDetections d"""


def _security_incident_sql() -> str:
    """vigil's incidents as SecurityIncident rows."""
    return f"""
SELECT i.updated_at AS TimeGenerated, i.incident_id AS IncidentName, i.incident_id AS IncidentNumber,
       i.title AS Title, i.reason AS Description, {_SEVERITY.format('i.severity')} AS Severity,
       CASE lower(i.status) WHEN 'new' THEN 'New' WHEN 'closed' THEN 'Closed' WHEN 'resolved' THEN 'Closed'
            ELSE 'Active' END AS Status,
       i.classification AS Classification, CAST(NULL AS JSON) AS Owner, 'vigil' AS ProviderName,
       i.first_activity AS FirstActivityTime, i.last_activity AS LastActivityTime, i.created_at AS CreatedTime,
       i.updated_at AS LastModifiedTime, i.detection_ids AS AlertIds, CAST('[]' AS JSON) AS RelatedAnalyticRuleIds,
       json_object('alertsCount', json_array_length(i.detection_ids), 'tactics', i.risk_event_types,
                   'accounts', i.accounts) AS AdditionalData,
       i.recommended_action AS vigil_recommended_action, i.priority AS vigil_priority,
       'SecurityIncident' AS Type, 'vigil' AS SourceSystem
FROM incidents i"""


#: extra tables: name -> (table they read, SQL builder)
_EXTRA: dict[str, tuple[str, Callable[[Store], str]]] = {
    "AADServicePrincipalSignInLogs": ("signins", lambda st: _workload_signins_sql(st, "AADServicePrincipalSignInLogs")),
    "AADManagedIdentitySignInLogs": ("signins", lambda st: _workload_signins_sql(st, "AADManagedIdentitySignInLogs")),
    "AADRiskyUsers": ("riskyUsers", lambda st: _risk_users_sql()),
    "AADUserRiskEvents": ("riskDetections", lambda st: _risk_events_sql()),
    "SecurityAlert": ("riskDetections", lambda st: _security_alert_sql()),
    "SecurityIncident": ("incidents", lambda st: _security_incident_sql()),
    "BehaviorAnalytics": (UEBA_BEHAVIOR.name, lambda st: behavior_view_sql()),
}


def expected_views(store: Store) -> list[str]:
    """The Sentinel-named views this store can have: the four core ones, and each extra one whose
    source table exists."""
    return list(SENTINEL_VIEWS) + [name for name, (source, _) in _EXTRA.items() if store.exists(source)]


def create_views(store: Store, *, temp: bool = False) -> list[str]:
    """(Re)create the Sentinel-named views; returns their names. ``temp`` makes connection-local
    views (what a hunt on a read-only store uses when the ueba stage has not run)."""
    con = store.con
    kind = "TEMP VIEW" if temp else "VIEW"
    con.execute(f"CREATE OR REPLACE {kind} SigninLogs AS {_signins_sql(store, True)}")
    con.execute(f"CREATE OR REPLACE {kind} AADNonInteractiveUserSignInLogs AS {_signins_sql(store, False)}")
    con.execute(f"CREATE OR REPLACE {kind} AuditLogs AS {_AUDIT}")
    con.execute(f"CREATE OR REPLACE {kind} OfficeActivity AS {_office_sql()}")
    for name, (source, build) in _EXTRA.items():
        if store.exists(source):
            con.execute(f"CREATE OR REPLACE {kind} {name} AS {build(store)}")
    return expected_views(store)


SENTINEL_VIEWS = ("SigninLogs", "AADNonInteractiveUserSignInLogs", "AuditLogs", "OfficeActivity")
