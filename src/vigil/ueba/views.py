"""Sentinel-named views over the canonical tables, for hunting queries written for Sentinel.

* ``SigninLogs`` / ``AADNonInteractiveUserSignInLogs`` -- ``signins`` split on IsInteractive;
  ``LocationDetails``, ``DeviceDetail``, ``Status``, ``ConditionalAccessPolicies`` are JSON with the
  Sentinel shape (dotted access works; so does ``parse_json()``, which the non-interactive table
  needs in Sentinel because it stores them as strings).
* ``AuditLogs`` -- ``directory_events`` with ``InitiatedBy`` / ``TargetResources`` objects.
* ``OfficeActivity`` -- ``activities``.

Geography comes from ``signins_enriched`` when that view exists (vendor value first), else from
the vendor columns. Every view keeps ``event_id`` so hunts can join back to vigil's tables.
"""
from __future__ import annotations

from vigil.store import Store

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
    'Sign-in activity' AS OperationName, s.source_format AS SourceSystem,
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
    noninteractive = ("(coalesce(NOT s.is_interactive, false)"
                      " OR coalesce(s.source_table = 'AADNonInteractiveUserSignInLogs', false))")
    cond = f"NOT {noninteractive}" if interactive else noninteractive
    return (f"SELECT {_SIGNIN_COLUMNS.format(**geo)}, '{table}' AS Type, 'SignInLogs' AS Category "
            f"FROM {src} s WHERE {cond}")


_AUDIT = """
SELECT d.event_time AS TimeGenerated, d.tenant_id AS TenantId, d.source_record_id AS Id,
       d.operation AS OperationName, d.operation AS ActivityDisplayName, d.event_time AS ActivityDateTime,
       d.category AS Category, d.result AS Result, d.result_reason AS ResultReason,
       d.correlation_id AS CorrelationId, 'Core Directory' AS LoggedByService,
       json_object('user', json_object('id', d.actor_id, 'userPrincipalName', d.actor_upn, 'ipAddress', d.ip))
           AS InitiatedBy,
       json_array(json_object('id', d.target_user_id, 'userPrincipalName', d.target_upn,
                              'displayName', d.target_display_name, 'type', 'User',
                              'modifiedProperties', coalesce(d.modified_properties, '[]'::JSON))) AS TargetResources,
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
       a.details AS Details, 'OfficeActivity' AS Type, a.event_id AS event_id
FROM activities a
"""


def create_views(store: Store, *, temp: bool = False) -> list[str]:
    """(Re)create the Sentinel-named views; returns their names. ``temp`` makes connection-local
    views (what a hunt on a read-only store uses when the ueba stage has not run)."""
    con = store.con
    kind = "TEMP VIEW" if temp else "VIEW"
    con.execute(f"CREATE OR REPLACE {kind} SigninLogs AS {_signins_sql(store, True)}")
    con.execute(f"CREATE OR REPLACE {kind} AADNonInteractiveUserSignInLogs AS {_signins_sql(store, False)}")
    con.execute(f"CREATE OR REPLACE {kind} AuditLogs AS {_AUDIT}")
    con.execute(f"CREATE OR REPLACE {kind} OfficeActivity AS {_OFFICE}")
    return list(SENTINEL_VIEWS)


SENTINEL_VIEWS = ("SigninLogs", "AADNonInteractiveUserSignInLogs", "AuditLogs", "OfficeActivity")
