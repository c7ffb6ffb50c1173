"""Entra ID audit logs into ``directory_events``: the Log Analytics / Sentinel ``AuditLogs``
table (JSON, NDJSON, CSV; ``InitiatedBy`` / ``TargetResources`` as objects or JSON strings),
Azure Monitor diagnostic records (``category: AuditLogs`` with ``properties``, bare or in
``{"records": [...]}``), and Microsoft Graph ``directoryAudit`` (objects or ``value`` pages).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vigil.sources.formats._audit import audit_columns
from vigil.sources._base import SourceSpec


def _la(r: Mapping[str, Any]) -> bool:
    if "Type" in r and r.get("Type"):
        return r.get("Type") == "AuditLogs"
    return ("OperationName" in r and ("InitiatedBy" in r or "TargetResources" in r)
            and "properties" not in r and "AppDisplayName" not in r and "IPAddress" not in r)


def _diag(r: Mapping[str, Any]) -> bool:
    return r.get("category") == "AuditLogs" and isinstance(r.get("properties"), dict)


def _graph(r: Mapping[str, Any]) -> bool:
    return "activityDisplayName" in r and "initiatedBy" in r and "properties" not in r


_NO_TIME = ("no event time: the record has no TimeGenerated / activityDateTime "
            "(e.g. a hunting-query result that projected the time away)")

SOURCES = [
    SourceSpec(
        name="entra_audit_la",
        title="Entra ID AuditLogs, Log Analytics / Sentinel export (JSON, NDJSON, CSV)",
        target="directory_events",
        detect=_la,
        columns=audit_columns("la", "$."),
        record_id="{$.Id}",
        time="coalesce(nullif({$.TimeGenerated}, ''), nullif({$.ActivityDateTime}, ''))",
        source_table="'AuditLogs'",
        reject_when={f"'{_NO_TIME}'": "{$.TimeGenerated} IS NULL AND {$.ActivityDateTime} IS NULL"},
    ),
    SourceSpec(
        name="entra_audit_diag",
        title="Entra ID AuditLogs, Azure Monitor diagnostic-settings records",
        target="directory_events",
        detect=_diag,
        columns={**audit_columns("camel", "$.properties."), "tenant_id": "nullif({$.tenantId}, '')"},
        record_id="{$.properties.id}",
        time="coalesce(nullif({$.properties.activityDateTime}, ''), {$.time})",
        source_table="'AuditLogs'",
        accept_when="{$.category} = 'AuditLogs' AND {$.properties} IS NOT NULL",
        accept_reason="not an audit diagnostic record: category is not AuditLogs or there are no `properties`",
    ),
    SourceSpec(
        name="entra_audit_graph",
        title="Entra ID audit logs, Microsoft Graph directoryAudit",
        target="directory_events",
        detect=_graph,
        columns=audit_columns("camel", "$."),
        record_id="{$.id}",
        # some exports (as published) carry createdDateTime instead of activityDateTime
        time="coalesce(nullif({$.activityDateTime}, ''), {$.createdDateTime})",
        source_table="'AuditLogs'",
    ),
]
