"""Analyst actions on incidents: status, classification, comments. Kept across re-analysis."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from vigil.errors import InputError
from vigil.incidents.tables import TABLES
from vigil.store import Store

STATUSES = ("new", "active", "closed")
CLASSIFICATIONS = ("truePositive", "benignPositive", "falsePositive", "undetermined")


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _exists(store: Store, incident_id: str) -> None:
    store.ensure(TABLES)
    rows = store.con.execute("select count(*) from incidents where incident_id = ?", [incident_id]).fetchall()
    if not rows or not rows[0][0]:
        raise InputError(f"no incident {incident_id!r} (see `vigil incidents`)")


def set_status(store: Store, incident_id: str, *, status: str, classification: str | None = None,
               actor: str = "cli") -> dict[str, Any]:
    if status not in STATUSES:
        raise InputError(f"status must be one of {', '.join(STATUSES)}, not {status!r}")
    if classification is not None and classification not in CLASSIFICATIONS:
        raise InputError(f"classification must be one of {', '.join(CLASSIFICATIONS)}, not {classification!r}")
    _exists(store, incident_id)
    now = _now()
    store.con.execute(
        "update incidents set status = ?, classification = coalesce(?, classification), updated_at = ? "
        "where incident_id = ?", [status, classification, now, incident_id])
    text = f"status -> {status}" + (f" ({classification})" if classification else "")
    store.con.execute("insert into incident_comments values (?, ?, ?, ?)", [incident_id, actor, now, text])
    return {"incident_id": incident_id, "status": status, "classification": classification, "by": actor,
            "at": now.isoformat() + "Z"}


def add_comment(store: Store, incident_id: str, *, text: str, author: str = "cli") -> dict[str, Any]:
    if not text.strip():
        raise InputError("an empty comment says nothing")
    _exists(store, incident_id)
    now = _now()
    store.con.execute("insert into incident_comments values (?, ?, ?, ?)", [incident_id, author, now, text])
    store.con.execute("update incidents set updated_at = ? where incident_id = ?", [now, incident_id])
    return {"incident_id": incident_id, "author": author, "created_at": now.isoformat() + "Z", "text": text}
