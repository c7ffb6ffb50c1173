"""Writes unified audit log exports in the layouts responders have, from AuditData records.

The layouts follow the documented exports: the Purview portal's "Export results" CSV (classic:
CreationDate, UserIds, Operations, AuditData; current: RecordId, CreationDate, RecordType, Operation,
UserId, AuditData, AssociatedAdminUnits, AssociatedAdminUnitsNames), ``Search-UnifiedAuditLog |
Export-Csv`` (the AuditRecord properties) and its common ``Select-Object`` cuts, and the JSON that
Microsoft-Extractor-Suite's Get-UAL writes (the same objects with AuditData parsed, ``ConvertTo-Json``
arrays appended to one file). The records themselves come from the published samples and vigil's own
Management API fixture; only the wrapping is written here.
"""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

# AuditLogRecordType names (Management Activity API schema) for the record types used in the fixtures
RECORD_TYPE_NAMES = {1: "ExchangeAdmin", 2: "ExchangeItem", 6: "SharePointFileOperation", 8: "AzureActiveDirectory",
                     15: "AzureActiveDirectoryStsLogon", 50: "ExchangeItemAggregated"}

Record = dict[str, Any]


def audit_data(record: Record) -> str:
    """AuditData as the service writes it: compact JSON."""
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False)


def _iso(record: Record) -> str:
    return record["CreationTime"] + ".0000000Z"


def _local(record: Record) -> str:
    """Search-UnifiedAuditLog's CreationDate as an en-US PowerShell session prints it."""
    t = datetime.fromisoformat(record["CreationTime"])
    return f"{t.month}/{t.day}/{t.year} {t.strftime('%I').lstrip('0')}:{t.strftime('%M:%S %p')}"


def _classic(r: Record, i: int, n: int) -> dict[str, str]:
    return {"CreationDate": _iso(r), "UserIds": r["UserId"], "Operations": r["Operation"], "AuditData": audit_data(r)}


def _purview(r: Record, i: int, n: int) -> dict[str, str]:
    return {"RecordId": r["Id"], "CreationDate": _iso(r), "RecordType": RECORD_TYPE_NAMES[r["RecordType"]],
            "Operation": r["Operation"], "UserId": r["UserId"], "AuditData": audit_data(r),
            "AssociatedAdminUnits": "", "AssociatedAdminUnitsNames": ""}


def _cmdlet(r: Record, i: int, n: int) -> dict[str, str]:
    return {"RunspaceId": "5b0d3c8e-0000-4000-8000-00000000aaaa", "RecordType": RECORD_TYPE_NAMES[r["RecordType"]],
            "CreationDate": _local(r), "UserIds": r["UserId"], "Operations": r["Operation"],
            "AuditData": audit_data(r), "ResultIndex": str(i + 1), "ResultCount": str(n), "Identity": r["Id"],
            "IsValid": "True", "ObjectState": "Unchanged"}


def _cut(columns: list[str]) -> Callable[[Record, int, int], dict[str, str]]:
    def row(r: Record, i: int, n: int) -> dict[str, str]:
        full = _cmdlet(r, i, n)
        return {c: full[c] for c in columns}
    return row


# layout -> (header, row builder, format vigil reads it as)
LAYOUTS: dict[str, tuple[list[str], Callable[[Record, int, int], dict[str, str]], str]] = {
    "purview_classic": (["CreationDate", "UserIds", "Operations", "AuditData"], _classic, "o365_ual_classic"),
    "purview_current": (["RecordId", "CreationDate", "RecordType", "Operation", "UserId", "AuditData",
                         "AssociatedAdminUnits", "AssociatedAdminUnitsNames"], _purview, "o365_ual_purview"),
    "export_csv": (["RunspaceId", "RecordType", "CreationDate", "UserIds", "Operations", "AuditData", "ResultIndex",
                    "ResultCount", "Identity", "IsValid", "ObjectState"], _cmdlet, "o365_ual_cmdlet"),
    "select_cut": (["CreationDate", "UserIds", "Operations", "AuditData"],
                   _cut(["CreationDate", "UserIds", "Operations", "AuditData"]), "o365_ual_classic"),
    "select_cut_recordtype": (["RecordType", "CreationDate", "UserIds", "Operations", "AuditData"],
                              _cut(["RecordType", "CreationDate", "UserIds", "Operations", "AuditData"]),
                              "o365_ual_classic"),
}


def csv_text(layout: str, records: list[Record], delimiter: str = ",",
             edit: Callable[[dict[str, str]], None] | None = None) -> str:
    header, build, _ = LAYOUTS[layout]
    out = io.StringIO()
    # Export-Csv and the portal quote every cell; Excel re-saves with minimal quoting: both are CSV
    w = csv.DictWriter(out, fieldnames=header, delimiter=delimiter, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    w.writeheader()
    for i, r in enumerate(records):
        row = build(r, i, len(records))
        if edit:
            edit(row)
        w.writerow(row)
    return out.getvalue()


def write_csv(path: Path, layout: str, records: list[Record], *, encoding: str = "utf-8", delimiter: str = ",",
              type_line: bool = False, edit: Callable[[dict[str, str]], None] | None = None) -> Path:
    """``encoding``: utf-8, utf-8-sig (BOM, as Excel's "CSV UTF-8" and Export-Csv -Encoding UTF8 write) or
    utf-16 (BOM + little-endian, as Excel's "Unicode Text" writes, with tabs)."""
    text = csv_text(layout, records, delimiter, edit)
    if type_line:  # Windows PowerShell's Export-Csv without -NoTypeInformation
        text = '#TYPE Deserialized.Microsoft.Exchange.Management.SystemConfigurationTasks.AuditRecord\r\n' + text
    path.write_bytes(text.encode(encoding))
    return path


def write_extractor_json(path: Path, pages: list[list[Record]]) -> Path:
    """Get-UAL -Output JSON: per time slice, the cmdlet's objects with AuditData parsed, ``ConvertTo-Json``
    (an indented array) appended to the file."""
    parts = []
    for page in pages:
        objs = []
        for i, r in enumerate(page):
            row: dict[str, Any] = dict(_cmdlet(r, i, len(page)))
            row["AuditData"] = r
            row["CreationDate"] = f"/Date({int(datetime.fromisoformat(r['CreationTime'] + '+00:00').timestamp() * 1000)})/"
            objs.append(row)
        parts.append(json.dumps(objs, indent=4))
    path.write_text("\r\n".join(parts) + "\r\n", encoding="utf-8-sig")
    return path


def write_hawk_json(path: Path, records: list[Record]) -> Path:
    """Hawk's Raw_*.json: the cmdlet's objects (AuditData still a string) through ``ConvertTo-Json -Depth 100 |
    Out-File``, which Windows PowerShell writes as UTF-16 LE with a BOM."""
    objs = []
    for i, r in enumerate(records):
        row: dict[str, Any] = dict(_cmdlet(r, i, len(records)))
        row["CreationDate"] = f"/Date({int(datetime.fromisoformat(r['CreationTime'] + '+00:00').timestamp() * 1000)})/"
        objs.append(row)
    path.write_text(json.dumps(objs, indent=4) + "\r\n", encoding="utf-16")
    return path


def write_graph_json(path: Path, records: list[Record]) -> Path:
    """Graph audit log query results (``auditLogRecord``), one page with ``value``."""
    value = [{"id": r["Id"], "createdDateTime": r["CreationTime"] + "Z",
              "auditLogRecordType": RECORD_TYPE_NAMES[r["RecordType"]], "operation": r["Operation"],
              "organizationId": r.get("OrganizationId"), "userType": "regular", "userId": r.get("UserKey"),
              "service": r["Workload"], "objectId": r.get("ObjectId"), "userPrincipalName": r["UserId"],
              "clientIp": r.get("ClientIP"), "administrativeUnits": [], "auditData": r} for r in records]
    path.write_text(json.dumps({"@odata.context": "https://graph.microsoft.com/beta/$metadata#auditLogRecords",
                                "value": value}, indent=2), encoding="utf-8")
    return path


def load_records(path: Path) -> list[Record]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
