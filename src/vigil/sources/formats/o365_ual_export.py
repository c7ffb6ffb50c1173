"""Unified audit log exports that wrap each record: the Purview portal's CSV (classic and current layouts),
``Search-UnifiedAuditLog`` results (``Export-Csv`` and its ``Select-Object`` cuts, or the JSON that
Microsoft-Extractor-Suite writes from them) and Graph audit-log queries (``auditLogRecord``).

The ``AuditData`` JSON is the record, mapped exactly as the Management Activity API adapter maps it
(AppAccessContext kept). The outer columns are the portal's or cmdlet's own copy of some of its fields:
each one present is compared with the record, and a row where they disagree is quarantined with the
column named rather than trusting either side silently. ``RecordType`` is not compared: outside the
record it is the enum's name (``ExchangeItem``), inside its number (``2``). Times are compared only when
the outer one is ISO 8601 and then with 14 hours' slack: ``Search-UnifiedAuditLog`` writes the session's
local time, and Excel rewrites dates in the reader's locale.

A record is keyed as a Management API record (``same_records_as``), so the same record from split files,
overlapping searches or another layout of the same export is stored once and counted a duplicate.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from vigil.sources._base import SourceSpec, nz
from vigil.sources.formats.o365_audit import AAD_USER_AGENT, activity_columns

# Excel keeps at most 32,767 characters in a cell; the portal's export cuts long AuditData cells too.
_CUT = "AuditData is cut off (ends inside the JSON): the export truncated a long cell; re-export the record " \
       "with Search-UnifiedAuditLog or the Management Activity API"


def _checks(record_field: str, operation: tuple[str, ...], user: tuple[str, ...], record_id: tuple[str, ...],
            created: tuple[str, ...]) -> dict[str, str]:
    """Reasons (in order) a wrapped record is refused: no record, a cut or invalid one, outer columns that differ."""
    cell = f"{{^$.{record_field}}}"

    def outer(names: tuple[str, ...]) -> str:
        return "coalesce(" + ", ".join(nz(f"{{^$.{n}}}") for n in names) + ", NULL)"

    # a record that is not a JSON object maps to NULLs: only those rows (no Id, no time) are parsed again to say why
    unmapped = "{$.Id} IS NULL AND {$.CreationTime} IS NULL"
    checks = {
        f"'no {record_field} in the row'": f"{nz(cell)} IS NULL",
        f"'{_CUT}'": f"{unmapped} AND ltrim({cell})[1] = '{{' AND NOT json_valid({cell})",
        f"'{record_field} is not a JSON object'": (
            f"{unmapped} AND NOT (ltrim({cell})[1] = '{{' AND json_valid({cell}))"),
    }
    for label, names, inner, case_blind in (
        ("operation", operation, "{$.Operation}", True),
        ("user", user, "{$.UserId}", True),
        ("record id", record_id, "{$.Id}", True),
    ):
        if names:
            a, b = outer(names), nz(inner)
            if case_blind:
                a, b = f"lower({a})", f"lower({b})"
            checks[f"'outer {names[0]} does not match {record_field}.{inner[3:-1]} ({label})'"] = (
                f"{a} IS NOT NULL AND {b} IS NOT NULL AND {a} <> {b}")
    if created:
        t_out = f"try_cast({outer(created)} AS TIMESTAMPTZ)"
        t_in = "try_cast(vigil_ts({$.CreationTime}) AS TIMESTAMP)"
        checks[f"'outer {created[0]} is more than 14 hours from {record_field}.CreationTime'"] = (
            f"abs(epoch(timezone('UTC', {t_out})) - epoch({t_in})) > 14 * 3600 + 60")
    return checks


def _layout(name: str, title: str, detect: Callable[[Mapping[str, Any]], bool], record_field: str = "AuditData",
            operation: tuple[str, ...] = (), user: tuple[str, ...] = (), record_id: tuple[str, ...] = (),
            created: tuple[str, ...] = (), notes: str = "") -> SourceSpec:
    return SourceSpec(
        name=name,
        title=title,
        target="activities",
        detect=detect,
        columns=activity_columns("{$.Workload}", AAD_USER_AGENT),
        record_id="{$.Id}",
        time="{$.CreationTime}",
        source_table="'OfficeActivity'",
        reject_when=_checks(record_field, operation, user, record_id, created),
        record=f"$.{record_field}",
        same_records_as="o365_management_api",
        notes=notes,
    )


def _cmdlet(r: Mapping[str, Any]) -> bool:
    return "AuditData" in r and "Operations" in r and ("RunspaceId" in r or "ResultIndex" in r or "Identity" in r)


def _classic(r: Mapping[str, Any]) -> bool:
    return "AuditData" in r and "Operations" in r and "UserIds" in r and not _cmdlet(r)


def _purview(r: Mapping[str, Any]) -> bool:
    return "AuditData" in r and "RecordId" in r and "Operation" in r


def _graph(r: Mapping[str, Any]) -> bool:
    return "auditData" in r and "auditLogRecordType" in r


SOURCES = [
    _layout(
        "o365_ual_classic",
        "Unified audit log CSV, Purview classic export or Search-UnifiedAuditLog | Select-Object cut "
        "(CreationDate, UserIds, Operations, AuditData)",
        _classic, operation=("Operations",), user=("UserIds",), created=("CreationDate",)),
    _layout(
        "o365_ual_purview",
        "Unified audit log CSV, Purview portal export (RecordId, CreationDate, RecordType, Operation, UserId, "
        "AuditData, AssociatedAdminUnits)",
        _purview, operation=("Operation",), user=("UserId",), record_id=("RecordId",), created=("CreationDate",)),
    _layout(
        "o365_ual_cmdlet",
        "Unified audit log, Search-UnifiedAuditLog results: Export-Csv (RunspaceId ... ResultIndex, Identity) or "
        "the JSON Microsoft-Extractor-Suite writes from them (AuditData as an object)",
        _cmdlet, operation=("Operations",), user=("UserIds",), record_id=("Identity",), created=("CreationDate",)),
    _layout(
        "o365_ual_graph",
        "Unified audit log, Graph audit log query records (auditLogRecord: auditData object), as "
        "Microsoft-Extractor-Suite's Get-UALGraph writes them",
        _graph, record_field="auditData", operation=("operation",), record_id=("id",), created=("createdDateTime",)),
]
