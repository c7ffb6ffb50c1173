"""Detections imported from other formats (Sigma today), kept in the store and run beside the catalogue.

An imported rule is stored already translated: its finding query (the columns of
:data:`~vigil.detections.base.FINDING_COLUMNS`) with its metadata. The engine turns each row into a
:class:`~vigil.detections.base.Detection`, so imported rules are written, de-duplicated and explained
like the catalogue's. ``origin`` names the format (``sigma``); importing again replaces that origin's rows.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from vigil.detections.base import Activity, Detection, Params
from vigil.store import Store
from vigil.store.schema import C, Table

IMPORTED_DETECTIONS = Table(
    "imported_detections",
    doc="Detections imported from other rule formats (Sigma), translated to SQL over vigil's tables.",
    primary_key=("id",),
    columns=(
        C("id", "VARCHAR NOT NULL", "detection id (origin:rule id), written as riskEventType"),
        C("origin", "VARCHAR NOT NULL", "rule format: sigma"),
        C("title", "VARCHAR", "rule title"),
        C("description", "VARCHAR", "rule description"),
        C("level", "VARCHAR", "vigil level: low | medium | high"),
        C("source_level", "VARCHAR", "the rule's own level (Sigma: informational ... critical)"),
        C("mitre", "JSON", "ATT&CK technique ids from the rule's tags"),
        C("tags", "JSON", "every tag of the rule"),
        C("logsource", "VARCHAR", "the rule's logsource (product/service)"),
        C("activity", "VARCHAR", "signin | user"),
        C("requires", "JSON", "tables / views the query reads"),
        C("sql", "VARCHAR", "the finding query"),
        C("path", "VARCHAR", "file the rule was read from"),
        C("imported_at", "TIMESTAMP", "when it was imported"),
    ),
)


@dataclass(frozen=True)
class Imported:
    id: str
    origin: str
    title: str
    description: str
    level: str
    source_level: str
    mitre: tuple[str, ...]
    tags: tuple[str, ...]
    logsource: str
    activity: str
    requires: tuple[str, ...]
    sql: str
    path: str

    def detection(self) -> Detection:
        query = self.sql

        def sql(_: Params) -> str:
            return query

        activity: Activity = "user" if self.activity == "user" else "signin"
        return Detection(id=self.id, title=self.title, description=self.description or self.title,
                         entra_risk_event_type=None, mitre=self.mitre, levels=(self.level,), timing="offline",
                         activity=activity, requires=self.requires, sql=sql,
                         level_rules=f"{self.origin} level {self.source_level} -> {self.level}",
                         module=f"{self.origin}:{self.path}")


def replace(store: Store, origin: str, rules: list[Imported]) -> None:
    """Replace every rule of ``origin`` with ``rules`` (one transaction)."""
    store.ensure([IMPORTED_DETECTIONS])
    with store.transaction():
        store.execute("DELETE FROM imported_detections WHERE origin = ?", [origin])
        for r in rules:
            store.execute(
                "INSERT INTO imported_detections VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now()::TIMESTAMP)",
                [r.id, r.origin, r.title, r.description, r.level, r.source_level, json.dumps(list(r.mitre)),
                 json.dumps(list(r.tags)), r.logsource, r.activity, json.dumps(list(r.requires)), r.sql, r.path])


def load(store: Store) -> list[Imported]:
    if not store.exists("imported_detections"):
        return []
    out = []
    for row in store.query("SELECT * FROM imported_detections ORDER BY id").to_pylist():
        out.append(_from_row(row))
    return out


def _from_row(row: dict[str, Any]) -> Imported:
    def tup(v: Any) -> tuple[str, ...]:
        return tuple(json.loads(v) if isinstance(v, str) else (v or ()))

    return Imported(id=row["id"], origin=row["origin"], title=row["title"] or row["id"],
                    description=row["description"] or "", level=row["level"], source_level=row["source_level"] or "",
                    mitre=tup(row["mitre"]), tags=tup(row["tags"]), logsource=row["logsource"] or "",
                    activity=row["activity"] or "signin", requires=tup(row["requires"]), sql=row["sql"],
                    path=row["path"] or "")
