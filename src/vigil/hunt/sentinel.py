"""Microsoft Sentinel content files: hunting queries and scheduled analytic rules (YAML).

:func:`load_content` reads one file of the Azure-Sentinel repository's shape (``id``, ``name``,
``query``, and for an analytic rule ``queryFrequency``, ``queryPeriod``, ``triggerOperator``,
``triggerThreshold``, ``severity``, ``tactics``, ``relevantTechniques``, ``entityMappings``);
:func:`fill_templates` fills the ``{{StartTimeISO}}`` / ``{{EndTimeISO}}`` placeholders the
Sentinel hunting blade substitutes. Every problem is an :class:`~vigil.errors.InputError`
naming the file and the field.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from vigil.errors import InputError

MAX_BYTES = 1024 * 1024
_DURATION = re.compile(r"^(\d+)\s*([dhm])$", re.I)
_ISO_DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$", re.I)
_OPERATORS = {"gt": "gt", "greaterthan": "gt", "lt": "lt", "lessthan": "lt", "eq": "eq", "equal": "eq",
              "ne": "ne", "notequal": "ne"}
SEVERITIES = ("Informational", "Low", "Medium", "High")


@dataclass(frozen=True)
class EntityMapping:
    entity_type: str                       # Account, IP, Host, CloudApplication, ...
    fields: dict[str, str]                 # identifier -> column


@dataclass(frozen=True)
class SentinelContent:
    source: str
    id: str
    name: str
    query: str
    description: str = ""
    kind: str = "Hunting"                  # Hunting | Scheduled | NRT
    severity: str = "Medium"
    frequency: timedelta | None = None
    period: timedelta | None = None
    trigger_operator: str = "gt"
    trigger_threshold: int = 0
    tactics: tuple[str, ...] = ()
    techniques: tuple[str, ...] = ()
    data_types: tuple[str, ...] = ()
    entity_mappings: tuple[EntityMapping, ...] = field(default_factory=tuple)

    @property
    def is_rule(self) -> bool:
        return self.frequency is not None

    def triggered(self, rows: int) -> bool:
        t = self.trigger_threshold
        return {"gt": rows > t, "lt": rows < t, "eq": rows == t, "ne": rows != t}[self.trigger_operator]


def parse_duration(value: Any, where: str) -> timedelta:
    """Sentinel's ``5m`` / ``1h`` / ``14d`` or ISO 8601 ``PT5H`` / ``P1D``."""
    text = str(value).strip()
    m = _DURATION.match(text)
    if m:
        n, unit = int(m.group(1)), m.group(2).lower()
        return timedelta(days=n) if unit == "d" else timedelta(hours=n) if unit == "h" else timedelta(minutes=n)
    m = _ISO_DURATION.match(text)
    if m and any(m.groups()):
        d, h, mi, s = (int(x or 0) for x in m.groups())
        return timedelta(days=d, hours=h, minutes=mi, seconds=s)
    raise InputError(f"{where}: {text!r} is not a duration (5m, 1h, 14d or ISO 8601 like PT5H)")


def _mappings(raw: Any, where: str) -> tuple[EntityMapping, ...]:
    if raw in (None, ""):
        return ()
    if not isinstance(raw, list):
        raise InputError(f"{where}: entityMappings must be a list")
    out = []
    for i, m in enumerate(raw):
        if not isinstance(m, dict) or "entityType" not in m or not isinstance(m.get("fieldMappings"), list):
            raise InputError(f"{where}: entityMappings[{i}] needs entityType and fieldMappings")
        fields = {str(f["identifier"]): str(f["columnName"]) for f in m["fieldMappings"]
                  if isinstance(f, dict) and "identifier" in f and "columnName" in f}
        out.append(EntityMapping(str(m["entityType"]), fields))
    return tuple(out)


def parse_content(text: str, source: str) -> SentinelContent:
    if len(text.encode("utf-8")) > MAX_BYTES:
        raise InputError(f"{source}: larger than 1 MB; not a Sentinel rule or query")
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InputError(f"{source}: not YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(doc, dict):
        raise InputError(f"{source}: expected a YAML mapping with name and query")
    for key in ("name", "query"):
        if not isinstance(doc.get(key), str) or not doc[key].strip():
            raise InputError(f"{source}: field {key!r} is missing or empty")
    frequency = period = None
    if "queryFrequency" in doc or "queryPeriod" in doc:
        frequency = parse_duration(doc.get("queryFrequency"), f"{source}: queryFrequency")
        period = parse_duration(doc.get("queryPeriod"), f"{source}: queryPeriod")
    operator = _OPERATORS.get(str(doc.get("triggerOperator", "gt")).lower())
    if operator is None:
        raise InputError(f"{source}: triggerOperator {doc.get('triggerOperator')!r}: use gt, lt, eq or ne")
    try:
        threshold = int(doc.get("triggerThreshold", 0))
    except (TypeError, ValueError):
        raise InputError(f"{source}: triggerThreshold {doc.get('triggerThreshold')!r} is not a number") from None
    severity = str(doc.get("severity", "Medium")).capitalize()
    if severity not in SEVERITIES:
        raise InputError(f"{source}: severity {doc.get('severity')!r}: one of {', '.join(SEVERITIES)}")
    data_types = tuple(str(t) for c in doc.get("requiredDataConnectors") or [] if isinstance(c, dict)
                       for t in c.get("dataTypes") or [])
    return SentinelContent(
        source=source, id=str(doc.get("id") or ""), name=doc["name"].strip(), query=doc["query"],
        description=str(doc.get("description") or "").strip().strip("'").strip(),
        kind=str(doc.get("kind") or ("Scheduled" if frequency else "Hunting")),
        severity=severity, frequency=frequency, period=period, trigger_operator=operator,
        trigger_threshold=threshold, tactics=tuple(str(t) for t in doc.get("tactics") or []),
        techniques=tuple(str(t) for t in doc.get("relevantTechniques") or []),
        data_types=data_types or tuple(str(t) for t in doc.get("dataTypes") or []),
        entity_mappings=_mappings(doc.get("entityMappings"), f"{source}: entityMappings"))


def load_content(path: str | Path) -> SentinelContent:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{p}: cannot read: {exc.strerror}") from None
    return parse_content(text, str(p))


def fill_templates(query: str, start: datetime, end: datetime) -> str:
    """The query with the hunting blade's ``{{StartTimeISO}}`` / ``{{EndTimeISO}}`` filled in."""
    def iso(t: datetime) -> str:
        return t.replace(tzinfo=None).isoformat(timespec="seconds") + "Z"
    return query.replace("{{StartTimeISO}}", iso(start)).replace("{{EndTimeISO}}", iso(end))
