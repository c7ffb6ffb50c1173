"""Canonical rows for identity tests: Entra / Okta sign-ins, Office 365 activities, Entra audit records."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tests.builders import insert, row
from vigil.store import Store

T0 = datetime(2026, 1, 5, 9)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def entra(event_id: str, hours: float, oid: str | None, upn: str, **kw: Any) -> dict[str, Any]:
    values: dict[str, Any] = dict(event_id=event_id, event_time=at(hours), source_format="entra_signin_graph",
                                  user_id=oid, user_principal_name=upn, result="success", ip="81.2.69.10")
    values.update(kw)
    return row("signins", **values)


def okta(event_id: str, hours: float, okta_id: str, login: str, **kw: Any) -> dict[str, Any]:
    values: dict[str, Any] = dict(event_id=event_id, event_time=at(hours), source_format="okta_system",
                                  user_id=okta_id, user_principal_name=login, result="success", ip="81.2.69.11")
    values.update(kw)
    return row("signins", **values)


def o365(event_id: str, hours: float, upn: str, **kw: Any) -> dict[str, Any]:
    values: dict[str, Any] = dict(event_id=event_id, event_time=at(hours), source_format="o365_management_api",
                                  user_id="1003200012345678", user_principal_name=upn, operation="FileAccessed")
    values.update(kw)
    return row("activities", **values)


def rename(event_id: str, hours: float, oid: str, old: str, new: str) -> dict[str, Any]:
    props = [[{"displayName": "UserPrincipalName", "oldValue": f'["{old}"]', "newValue": f'["{new}"]'},
              {"displayName": "Included Updated Properties", "oldValue": None, "newValue": '"UserPrincipalName"'}]]
    return row("directory_events", event_id=event_id, event_time=at(hours), source_format="entra_audit_graph",
               event_type="other", operation="Update user", result="success", target_user_id=oid,
               target_upn=new, modified_properties=props)


def lifecycle(event_id: str, hours: float, oid: str, upn: str, operation: str) -> dict[str, Any]:
    event_type = "user_deleted" if operation == "Delete user" else "other"
    return row("directory_events", event_id=event_id, event_time=at(hours), source_format="entra_audit_graph",
               event_type=event_type, operation=operation, result="success", target_user_id=oid, target_upn=upn)


def add(store: Store, table: str, rows: list[dict[str, Any]]) -> None:
    insert(store, table, rows)
