"""Import Entra ID Protection's own risk: riskDetections and riskyUsers, beside vigil's.

Reads Graph JSON (``{"value": [...]}`` pages or a bare array), Azure Monitor diagnostic
records (``UserRiskEvents`` / ``RiskyUsers`` categories, one per line or ``{"records": [...]}``)
and Log Analytics exports (``AADUserRiskEvents`` / ``AADRiskyUsers`` rows, PascalCase columns,
as a JSON array or JSON lines). Rows go to ``riskDetections`` / ``riskyUsers`` with
``source = 'IdentityProtection'``; a record that fails validation goes to ``quarantine`` with a
reason naming the file, line and JSON path. Vendor risk exports are small (one row per
detection, not per sign-in), so records are validated one by one in Python.
"""
from __future__ import annotations

import csv
import io
import ipaddress
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from vigil.detections.tables import RISK_DETECTIONS
from vigil.errors import InputError
from vigil.risk.tables import RISKY_USERS
from vigil.store import Store

SOURCE = "IdentityProtection"
LEVELS = {"low", "medium", "high", "hidden", "none", "unknownFutureValue"}
STATES = {"none", "confirmedSafe", "remediated", "dismissed", "atRisk", "confirmedCompromised",
          "unknownFutureValue"}
_DET_CATEGORIES = {"userriskevents", "aaduserriskevents", "riskdetections", "serviceprincipalriskevents"}
_USER_CATEGORIES = {"riskyusers", "aadriskyusers"}
_DET_FIELDS = ("id", "requestId", "correlationId", "riskEventType", "riskType", "riskState", "riskLevel",
               "riskDetail", "source", "detectionTimingType", "activity", "tokenIssuerType", "ipAddress",
               "location", "activityDateTime", "detectedDateTime", "lastUpdatedDateTime", "userId",
               "userDisplayName", "userPrincipalName", "additionalInfo")
_USER_FIELDS = ("id", "isDeleted", "isProcessing", "riskLastUpdatedDateTime", "riskLevel", "riskState",
                "riskDetail", "userDisplayName", "userPrincipalName")
_CANON = {f.lower(): f for f in _DET_FIELDS + _USER_FIELDS}
_ONE_DIGIT_HOUR = re.compile(r"T(\d):")
_LONG_FRACTION = re.compile(r"(\.\d{6})\d+")


@dataclass
class ImportResult:
    path: str
    detections: int = 0
    users: int = 0
    quarantined: int = 0
    reasons: list[str] = field(default_factory=list)


class Bad(Exception):
    """A record failed validation; the message names the field."""


def _time(value: Any, name: str) -> datetime | None:
    if value in (None, ""):
        return None
    text = str(value).strip()
    text = _LONG_FRACTION.sub(r"\1", _ONE_DIGIT_HOUR.sub(r"T0\1:", text))  # published defects, unambiguous
    try:
        t = datetime.fromisoformat(text)
    except ValueError:
        try:
            t = datetime.strptime(text, "%m/%d/%Y %I:%M:%S %p")
        except ValueError:
            raise Bad(f"{name}: {str(value)[:40]!r} is not a timestamp") from None
    return t.astimezone(UTC).replace(tzinfo=None) if t.tzinfo else t


def _enum(value: Any, allowed: set[str], name: str, default: str | None = None) -> str | None:
    if value in (None, ""):
        return default
    if str(value) not in allowed:
        raise Bad(f"{name}: {str(value)[:40]!r} is not one of {', '.join(sorted(allowed))}")
    return str(value)


def _bool(value: Any, name: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    if str(value).lower() in ("true", "false"):
        return str(value).lower() == "true"
    raise Bad(f"{name}: {str(value)[:40]!r} is not a boolean")


def _ip(value: Any) -> str | None:
    if value in (None, ""):
        return None
    try:
        return str(ipaddress.ip_address(str(value).strip()))
    except ValueError:
        raise Bad(f"ipAddress: {str(value)[:60]!r} is not an IP address") from None


def _json(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("[", "{"):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
    return value


def _normalise(obj: dict[str, Any]) -> dict[str, Any]:
    """Graph camelCase, Log Analytics PascalCase: one spelling."""
    return {_CANON.get(k.lower(), k): v for k, v in obj.items()}


def _kind(obj: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    """('detection' | 'user' | None, the Graph-shaped object) of one record of any supported format."""
    category = str(obj.get("category") or obj.get("Type") or "").lower()
    if isinstance(obj.get("properties"), dict):  # diagnostic record: the Graph object is in properties
        inner = _normalise(obj["properties"])
        if category in _USER_CATEGORIES:
            return "user", inner
        if category in _DET_CATEGORIES:
            return "detection", inner
        obj = obj["properties"]
    norm = _normalise(obj)
    odata = str(obj.get("@odata.type", "")).lower()
    if category in _USER_CATEGORIES or odata.endswith("riskyuser") or "riskLastUpdatedDateTime" in norm:
        return "user", norm
    if category in _DET_CATEGORIES or odata.endswith("riskdetection") or "riskEventType" in norm:
        return "detection", norm
    return None, norm


def _detection_row(o: dict[str, Any], path: Path) -> dict[str, Any]:
    if not o.get("id"):
        raise Bad("id: missing")
    if not (o.get("riskEventType") or o.get("riskType")):
        raise Bad("riskEventType: missing")
    if not (o.get("userPrincipalName") or o.get("userId")):
        raise Bad("userPrincipalName / userId: both missing")
    level = _enum(o.get("riskLevel"), LEVELS, "riskLevel")
    if level is None:
        raise Bad("riskLevel: missing")
    activity_time = _time(o.get("activityDateTime"), "activityDateTime")
    if activity_time is None:
        raise Bad("activityDateTime: missing")
    extra = {k: _json(o[k]) for k in ("additionalInfo", "source", "riskType", "tokenIssuerType",
                                       "lastUpdatedDateTime") if o.get(k) is not None}
    extra["file"] = str(path)
    return {
        "id": str(o["id"]), "riskEventType": str(o.get("riskEventType") or o.get("riskType")),
        "riskLevel": level, "riskState": _enum(o.get("riskState"), STATES, "riskState", "atRisk"),
        "riskDetail": o.get("riskDetail"), "detectionTimingType": o.get("detectionTimingType"),
        "activity": o.get("activity"), "activityDateTime": activity_time,
        "detectedDateTime": _time(o.get("detectedDateTime"), "detectedDateTime"),
        "ipAddress": _ip(o.get("ipAddress")),
        "location": orjson.dumps(_json(o["location"])).decode() if o.get("location") else None,
        "userId": o.get("userId"),
        "userPrincipalName": str(o["userPrincipalName"]).lower() if o.get("userPrincipalName") else None,
        "userDisplayName": o.get("userDisplayName"), "requestId": o.get("requestId"),
        "correlationId": o.get("correlationId"), "source": SOURCE,
        "additionalInfo": orjson.dumps(extra).decode(), "event_id": None, "session_key": None,
        "detection": None, "mitre": None, "reason": f"Entra ID Protection {o.get('riskEventType')}",
    }


def _user_row(o: dict[str, Any]) -> dict[str, Any]:
    if not o.get("id"):
        raise Bad("id: missing")
    updated = _time(o.get("riskLastUpdatedDateTime"), "riskLastUpdatedDateTime")
    return {
        "id": str(o["id"]),
        "userPrincipalName": str(o["userPrincipalName"]).lower() if o.get("userPrincipalName") else None,
        "userDisplayName": o.get("userDisplayName"),
        "riskLevel": _enum(o.get("riskLevel"), LEVELS, "riskLevel", "none"),
        "riskState": _enum(o.get("riskState"), STATES, "riskState", "none"),
        "riskDetail": o.get("riskDetail"), "riskLastUpdatedDateTime": updated, "source": SOURCE,
        "isDeleted": _bool(o.get("isDeleted"), "isDeleted"),
        "isProcessing": _bool(o.get("isProcessing"), "isProcessing"),
        "activeDetections": None, "reason": "as reported by Entra ID Protection",
    }


def _records(path: Path) -> list[tuple[int, str, Any]]:
    """(line, JSON path, record) of every record in the file."""
    text = path.read_text(encoding="utf-16" if path.read_bytes()[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-8-sig")
    stripped = text.lstrip()
    if stripped[:1] not in ("{", "[", ""):
        return _csv_records(stripped)
    try:
        doc = orjson.loads(stripped) if stripped[:1] in ("{", "[") else None
    except orjson.JSONDecodeError:
        doc = None  # JSON lines, or a broken document (then each line is tried)
    if isinstance(doc, dict) and isinstance(doc.get("value"), list):
        return [(0, f"$.value[{i}]", r) for i, r in enumerate(doc["value"])]
    if isinstance(doc, dict) and isinstance(doc.get("records"), list):
        return [(0, f"$.records[{i}]", r) for i, r in enumerate(doc["records"])]
    if isinstance(doc, list):
        return [(0, f"$[{i}]", r) for i, r in enumerate(doc)]
    if isinstance(doc, dict):
        return [(1, "$", doc)]
    out: list[tuple[int, str, Any]] = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            out.append((n, "$", orjson.loads(line)))
        except orjson.JSONDecodeError as exc:
            out.append((n, "$", Bad(f"not valid JSON ({exc})")))
    return out


def _csv_records(text: str) -> list[tuple[int, str, Any]]:
    """CSV exports (Microsoft-Extractor-Suite's Get-RiskyUsers / Get-RiskyDetections, ``Export-Csv`` of the
    Graph PowerShell objects): one record per row, PascalCase headers; empty cells are absent values."""
    reader = csv.DictReader(io.StringIO(text))
    out: list[tuple[int, str, Any]] = []
    for row in reader:
        out.append((reader.line_num, "$", {k: v for k, v in row.items() if k and v not in (None, "")}))
    return out


def recognises(path: str | Path, sample: int = 20) -> bool:
    """Whether the first records of a file are riskDetections or riskyUsers (for routing a folder's files)."""
    try:
        records = _records(Path(path))[:sample]
    except (OSError, UnicodeDecodeError, csv.Error):
        return False
    return any(isinstance(r, dict) and _kind(r)[0] is not None for _, _, r in records)


def import_file(store: Store, path: str | Path) -> ImportResult:
    p = Path(path)
    if not p.is_file():
        raise InputError("file not found", path=str(p))
    return import_records(store, _records(p), str(p))


def import_records(store: Store, records: list[tuple[int, str, Any]], origin: str) -> ImportResult:
    """Validate and upsert (line, JSON path, record) triples read from ``origin`` (a file or an API
    URL); the caller owns the transaction (a connector commits its checkpoint with them)."""
    p = Path(origin)
    store.ensure([RISK_DETECTIONS, RISKY_USERS])
    result = ImportResult(path=origin)
    ingest_id = "risk-" + uuid.uuid4().hex[:12]
    now = datetime.now(UTC).replace(tzinfo=None)
    dets: list[dict[str, Any]] = []
    users: list[dict[str, Any]] = []
    quarantine: list[list[Any]] = []
    for line, where, rec in records:
        try:
            if isinstance(rec, Bad):
                raise rec
            if not isinstance(rec, dict):
                raise Bad("record is not a JSON object")
            kind, obj = _kind(rec)
            if kind == "detection":
                dets.append(_detection_row(obj, p))
            elif kind == "user":
                users.append(_user_row(obj))
            else:
                raise Bad("neither a riskDetection nor a riskyUser (no riskEventType / riskLastUpdatedDateTime)")
        except Bad as exc:
            name, _, rest = str(exc).partition(": ")
            detail = f"{where}.{name}: {rest}" if rest and " " not in name else f"{where}: {exc}"
            reason = f"{p.name}{':' + str(line) if line else ''} {detail}"
            result.reasons.append(reason)
            quarantine.append([ingest_id, origin, "entra-risk", line or None, None, reason,
                               orjson.dumps(rec, default=str).decode()[:65536] if not isinstance(rec, Bad) else None,
                               now])
    _upsert(store, RISK_DETECTIONS.name, RISK_DETECTIONS.column_names, dets)
    _upsert(store, RISKY_USERS.name, RISKY_USERS.column_names, users)
    if quarantine:
        store.con.executemany("insert into quarantine values (?, ?, ?, ?, ?, ?, ?, ?)", quarantine)
    result.detections, result.users, result.quarantined = len(dets), len(users), len(quarantine)
    return result


def _upsert(store: Store, table: str, columns: list[str], rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    cols = ", ".join(store.ident(c) for c in columns)
    marks = ", ".join("?" for _ in columns)
    store.con.executemany(f"insert or replace into {store.ident(table)} ({cols}) values ({marks})",
                          [[r[c] for c in columns] for r in rows])
