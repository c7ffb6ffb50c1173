"""Microsoft Defender XDR advanced-hunting exports (portal JSON / CSV, API ``Results``, Sentinel tables):
``CloudAppEvents`` rows and the other tables an investigation export mixes in (``DeviceEvents``,
``IdentityDirectoryEvents``, ...), all into ``activities`` with ``record_type`` naming the table.

For Microsoft 365 workloads ``CloudAppEvents.RawEventData`` is the unified-audit ``AuditData``; its
``AppAccessContext`` (``AADSessionId``, ``UniqueTokenId``, ``ClientAppId``, ``IssuedAtTime``,
``CorrelationId``) ties the activity to the sign-in that issued its token.

The table is the export's ``Type`` / ``$table`` column when present; otherwise it is inferred from the
columns that are filled (a union export carries every table's columns, mostly empty): ``RawEventData`` /
``ActivityObjects`` / ``ApplicationId`` -> CloudAppEvents; ``QueryType`` -> IdentityQueryEvents;
``Protocol`` with ``DestinationDeviceName`` -> IdentityDirectoryEvents (IdentityLogonEvents for logon
actions); ``NetworkMessageId`` -> EmailEvents; device rows by ``ActionType`` (ProcessCreated ->
DeviceProcessEvents, Connection* -> DeviceNetworkEvents, Logon* -> DeviceLogonEvents, File* ->
DeviceFileEvents, ImageLoaded -> DeviceImageLoadEvents, RegistryKey -> DeviceRegistryEvents) else
DeviceEvents. Record id: ``ReportId``; device tables' ``ReportId`` is a per-device counter, so their
id is ``DeviceName|DeviceId|Timestamp|ReportId`` as Microsoft documents.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vigil.sources._base import SourceSpec, first, nz

RAW = "{$.RawEventData}"
ACCESS = f"json_extract_string(vigil_jtext({RAW}), '$.AppAccessContext')"


def _raw(path: str) -> str:
    return f"json_extract_string(vigil_jtext({RAW}), '{path}')"


def _access(field: str) -> str:
    return f"json_extract_string(vigil_jtext({ACCESS}), '$.{field}')"


def _filled(expr: str) -> str:
    return f"(nullif(nullif(nullif(trim({expr}), ''), 'null'), '[]') IS NOT NULL)"


_ACTION = "{$.ActionType}"
_DEVICE = f"({_filled('{$.DeviceId}')} OR {_filled('{$.InitiatingProcessFileName}')})"
_REPORT_ID = first("{$.ReportId}", "{$.ReportId_string}", "{$.ReportId_long}")
_ADDITIONAL = "vigil_jtext(coalesce(nullif({$.AdditionalFields}, ''), nullif({$.AdditionalFields_string}, ''), " \
              "nullif({$.AdditionalFields_dynamic}, '')))"

TABLE = f"""coalesce({first('{$.Type}', '{$."$table"}')},
    CASE WHEN {_filled(RAW)} OR {_filled('{$.ActivityObjects}')} OR {_filled('{$.ApplicationId}')}
              OR {_filled('{$.ObjectType}')} THEN 'CloudAppEvents'
         WHEN {_filled('{$.QueryType}')} THEN 'IdentityQueryEvents'
         WHEN {_filled('{$.NetworkMessageId}')} THEN 'EmailEvents'
         WHEN NOT {_DEVICE} AND {_filled('{$.Protocol}')} AND {_ACTION} ILIKE '%logon%' THEN 'IdentityLogonEvents'
         WHEN NOT {_DEVICE} AND ({_filled('{$.Protocol}')} OR {_filled('{$.DestinationDeviceName}')})
              THEN 'IdentityDirectoryEvents'
         WHEN {_filled('{$.RegistryKey}')} THEN 'DeviceRegistryEvents'
         WHEN {_ACTION} = 'ProcessCreated' THEN 'DeviceProcessEvents'
         WHEN {_ACTION} LIKE 'Connection%' OR {_ACTION} IN ('InboundConnectionAccepted', 'ListeningConnectionCreated')
              THEN 'DeviceNetworkEvents'
         WHEN {_ACTION} IN ('LogonSuccess', 'LogonFailed', 'LogonAttempted') THEN 'DeviceLogonEvents'
         WHEN {_ACTION} IN ('FileCreated', 'FileModified', 'FileRenamed', 'FileDeleted') THEN 'DeviceFileEvents'
         WHEN {_ACTION} = 'ImageLoaded' THEN 'DeviceImageLoadEvents'
         WHEN {_DEVICE} THEN 'DeviceEvents'
         WHEN {_filled('{$.Application}')} THEN 'CloudAppEvents' END)"""


def _no_zero_guid(expr: str) -> str:
    return f"nullif({nz(expr)}, '00000000-0000-0000-0000-000000000000')"


COLUMNS = {
    "tenant_id": _no_zero_guid(first(_raw("$.OrganizationId"), "{$.TenantId}")),
    "user_id": first("{$.AccountObjectId}", "{$.InitiatingProcessAccountObjectId}", _raw("$.UserKey")),
    "user_principal_name":
        f"lower({first('{$.AccountUpn}', _raw('$.UserId'), '{$.UserId}', '{$.InitiatingProcessAccountUpn}')})",
    "user_display_name": first("{$.AccountDisplayName}", "{$.InitiatingProcessAccountName}", "{$.AccountName}"),
    # unified-audit UserType enum (Office 365 Management Activity API schema)
    "user_type": (f"CASE {nz(_raw('$.UserType'))} WHEN '0' THEN 'Regular' WHEN '1' THEN 'Reserved' "
                  f"WHEN '2' THEN 'Admin' WHEN '3' THEN 'DcAdmin' WHEN '4' THEN 'System' WHEN '5' THEN 'Application' "
                  f"WHEN '6' THEN 'ServicePrincipal' WHEN '7' THEN 'CustomPolicy' WHEN '8' THEN 'SystemPolicy' "
                  f"ELSE {nz(_raw('$.UserType'))} END"),
    "workload": first(_raw("$.Workload"), "{$.Application}",
                      f"CASE WHEN {_DEVICE} THEN 'Microsoft Defender for Endpoint' END"),
    "record_type": TABLE,
    "operation": first(_raw("$.Operation"), _ACTION),
    "result_status": first(_raw("$.ResultStatus"), "{$.ActionResult}"),
    "object_id": first("{$.ObjectId}", _raw("$.ObjectId"), "{$.ObjectName}", "{$.TargetAccountUpn}",
                       f"json_extract_string({_ADDITIONAL}, '$.DistinguishedName')", "{$.FileName}",
                       "{$.RemoteUrl}", "{$.RegistryKey}", "{$.DestinationDeviceName}"),
    "ip":
        f"vigil_ip({first('{$.IPAddress}', _raw('$.ClientIP'), _raw('$.ClientIPAddress'), _raw('$.ActorIpAddress'))})",
    "user_agent": first("{$.UserAgent}", "{$.UserAgent_string}", _raw("$.UserAgent")),
    "client_app_id": first(_access("ClientAppId"), _raw("$.ClientAppId"), _raw("$.AppId"), "{$.OAuthAppId}",
                           "{$.AppId}"),
    "app_name": nz("{$.InitiatingProcessFileName}"),
    "session_id": first(_access("AADSessionId"), _raw("$.SessionId")),
    "unique_token_id": nz(_access("UniqueTokenId")),
    "correlation_id": first(_access("CorrelationId"), _raw("$.CorrelationId")),
    "token_issued_at": f"vigil_ts({_access('IssuedAtTime')})",
    "device_id": _no_zero_guid("{$.DeviceId}"),
    "country": "vigil_country({$.CountryCode})",
    "city": nz("{$.City}"),
    "isp": nz("{$.ISP}"),
    # one vigil_json over the first filled text: macros repeat their argument, so nest them as little as possible
    "parameters": (f"vigil_json(coalesce(nullif({_raw('$.Parameters')}, '[]'), "
                   f"nullif({_raw('$.OperationProperties')}, '[]'), nullif({_ADDITIONAL}, '{{}}')))"),
    # merge-patching onto {} drops the keys whose value is null (RFC 7396)
    "details": (
        "json_merge_patch('{}', json_object("
        f"'Application', {nz('{$.Application}')}, 'ActivityType', {nz('{$.ActivityType}')}, "
        f"'ObjectType', {nz('{$.ObjectType}')}, 'AuditRecordType', {nz(_raw('$.RecordType'))}, "
        f"'OperationCount', {nz(_raw('$.OperationCount'))}, 'Folders', vigil_json({_raw('$.Folders')}), "
        f"'Permissions', {nz('{$.Permissions}')}, 'PermissionsAddedTo', {nz('{$.PermissionsAddedTo}')}, "
        f"'DeviceName', {nz('{$.DeviceName}')}, 'InitiatingProcessCommandLine', "
        f"{nz('{$.InitiatingProcessCommandLine}')}, 'DestinationDeviceName', {nz('{$.DestinationDeviceName}')}, "
        f"'Protocol', {nz('{$.Protocol}')}, 'IsAdminOperation', {nz('{$.IsAdminOperation}')}, "
        f"'ProcessCommandLine', {nz('{$.ProcessCommandLine}')}, 'FolderPath', {nz('{$.FolderPath}')}))"
    ),
}


# AADSignInEventsBeta / EntraIdSignInEvents rows (sign-ins, no ActionType) are not activities: say so
_NO_ACTION = ("CASE WHEN nullif(json_extract_string(raw, '$.LogonType'), '') IS NOT NULL AND "
              "json_extract_string(raw, '$.ErrorCode') IS NOT NULL THEN 'a Defender sign-in row "
              "(AADSignInEventsBeta / EntraIdSignInEvents), not an activity: ingest the Entra SigninLogs export for "
              "sign-ins' ELSE 'no ActionType: not a Defender advanced-hunting event row' END")


def detect(r: Mapping[str, Any]) -> bool:
    return "Timestamp" in r and "ActionType" in r and any(k in r for k in ("ReportId", "ReportId_long",
                                                                           "ReportId_string"))


SOURCE = SourceSpec(
    name="defender_cloudappevents",
    title="Defender XDR advanced hunting: CloudAppEvents (RawEventData / AppAccessContext) and the other "
          "tables of an investigation export, into activities",
    target="activities",
    detect=detect,
    columns=COLUMNS,
    record_id=(f"CASE WHEN ({TABLE}) LIKE 'Device%' THEN concat_ws('|', {nz('{$.DeviceName}')}, "
               f"{nz('{$.DeviceId}')}, {nz('{$.Timestamp}')}, {_REPORT_ID}) ELSE {_REPORT_ID} END"),
    time="coalesce(nullif({$.Timestamp}, ''), {$.TimeGenerated})",
    source_table=TABLE,
    reject_when={_NO_ACTION: f"NOT {_filled(_ACTION)}"},
)
