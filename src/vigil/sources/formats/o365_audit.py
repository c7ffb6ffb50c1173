"""Office 365 unified audit log into ``activities``: Management Activity API records
(``AuditData``: ``CreationTime``, ``Workload``, ``RecordType`` as a number, ``ClientIP``) and
the Sentinel ``OfficeActivity`` table (``TimeGenerated``, ``OfficeWorkload``, ``OfficeId``;
JSON or the portal's CSV).

Both keep ``AppAccessContext`` (``AADSessionId``, ``UniqueTokenId``, ``ClientAppId``,
``IssuedAtTime``, ``CorrelationId``) — the link from an activity back to the sign-in and
session that minted its token.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vigil.sources._base import SourceSpec, as_json, first, lower, nz, sub

_ctx = "{$.AppAccessContext}"

# details kept at hand for detections (mail access, file operations, rule changes, sign-in properties)
_DETAIL_FIELDS = ("Folders", "AffectedItems", "Item", "OperationProperties", "ExtendedProperties",
                  "ModifiedProperties", "SourceFileName", "SourceFileExtension", "SourceRelativeUrl", "SiteUrl",
                  "Site_Url", "DestinationFileName", "ClientInfoString", "LogonType", "Logon_Type",
                  "MailboxOwnerUPN", "ExternalAccess", "DeviceProperties", "ActorIpAddress", "Members",
                  "TeamName", "TargetUserOrGroupName", "ItemType", "EventSource")


def _details() -> str:
    """A JSON object of the detail fields the record has (absent and empty ones left out)."""
    entries = ", ".join(f"{{'k': '{k}', 'v': vigil_json({{$.{k}}})}}" for k in _DETAIL_FIELDS)
    return f"to_json(map_from_entries(list_filter([{entries}], lambda e: e.v IS NOT NULL)))"


def activity_columns(workload: str, user_agent_extra: str) -> dict[str, str]:
    return {
        "tenant_id": first("{$.OrganizationId}", "{$.TenantId}"),
        "user_id": first("{$.UserKey}"),
        "user_principal_name": lower("{$.UserId}"),
        "user_type": nz("CAST({$.UserType} AS VARCHAR)"),
        "workload": nz(workload),
        "record_type": nz("CAST({$.RecordType} AS VARCHAR)"),
        "operation": nz("{$.Operation}"),
        "result_status": nz("{$.ResultStatus}"),
        "object_id": first("{$.ObjectId}", "{$.OfficeObjectId}"),
        "ip": f"vigil_ip({first('{$.ClientIP}', '{$.ClientIPAddress}', '{$.Client_IPAddress}', '{$.ActorIpAddress}')})",
        # Exchange's ClientInfoString ("Client=REST;...") describes the protocol, not an HTTP user agent:
        # it stays in `details`; as a user agent it would look like a client change on every mail access
        "user_agent": first("{$.UserAgent}", user_agent_extra),
        "client_app_id": first(sub(_ctx, "$.ClientAppId"), "{$.ClientAppId}", "{$.AppId}"),
        "app_name": first(sub(_ctx, "$.ClientAppName"), "{$.Application}"),
        "session_id": first(sub(_ctx, "$.AADSessionId"), "{$.SessionId}"),
        "unique_token_id": first(sub(_ctx, "$.UniqueTokenId")),
        "correlation_id": first(sub(_ctx, "$.CorrelationId"), "{$.CorrelationId}"),
        "token_issued_at": f"TRY_CAST(vigil_ts({nz(sub(_ctx, '$.IssuedAtTime'))}) AS TIMESTAMP)",
        "device_id": first("{$.DeviceId}"),
        "parameters": as_json("{$.Parameters}"),
        "details": _details(),
    }


# AzureActiveDirectory records put the user agent in ExtendedProperties [{Name, Value}]
AAD_USER_AGENT = ("list_filter(json_extract(vigil_jtext({$.ExtendedProperties}), '$[*]'), "
           "lambda p: json_extract_string(p, '$.Name') = 'UserAgent')[1]->>'$.Value'")


def _api(r: Mapping[str, Any]) -> bool:
    return "CreationTime" in r and "Operation" in r and "RecordType" in r and "Workload" in r


def _sentinel(r: Mapping[str, Any]) -> bool:
    if r.get("Type"):
        return r.get("Type") == "OfficeActivity"
    return "OfficeWorkload" in r and "Operation" in r


SOURCES = [
    SourceSpec(
        name="o365_management_api",
        title="Office 365 Management Activity API / unified audit log records (AuditData)",
        target="activities",
        detect=_api,
        columns=activity_columns("{$.Workload}", AAD_USER_AGENT),
        record_id="{$.Id}",
        # CreationTime is UTC without a zone designator
        time="{$.CreationTime}",
        source_table="'OfficeActivity'",
    ),
    SourceSpec(
        name="o365_officeactivity",
        title="Office 365 activity, Sentinel OfficeActivity export (JSON, NDJSON, CSV)",
        target="activities",
        detect=_sentinel,
        columns=activity_columns("{$.OfficeWorkload}", AAD_USER_AGENT),
        record_id="coalesce(nullif({$.OfficeId}, ''), nullif({$.SourceRecordId}, ''))",
        # portal CSVs of some hunting results have no TimeGenerated; Start_Time is the activity's own start
        time="coalesce(nullif({$.TimeGenerated}, ''), nullif({$.CreationTime}, ''), nullif({$.Start_Time}, ''))",
        source_table="'OfficeActivity'",
    ),
]
