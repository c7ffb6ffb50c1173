"""Incidents queue and one incident's detail, read from ``incidents`` / ``incident_comments``."""
from __future__ import annotations

from typing import Any

from vigil.api.data import NotFound, existing, fetch, fetch_one, require
from vigil.errors import InputError
from vigil.identity import actions as identity
from vigil.store import Store

STATUSES = ("new", "active", "closed")
SEVERITIES = ("high", "medium", "low", "informational")
_SEVERITY_RANK = "case lower(severity) when 'high' then 3 when 'medium' then 2 when 'low' then 1 else 0 end"
#: ranking of the queue: priority, then severity, then most recent activity
ORDER = f"priority desc nulls last, {_SEVERITY_RANK} desc, last_activity desc, incident_id"


def _person_keys(store: Store, user: str) -> tuple[list[str], list[str]]:
    """Every name and account id of the person(s) ``user`` names (any former name finds them)."""
    if not {"identities", "identity_aliases"} <= existing(store):
        return [], []
    try:
        ids = identity.find(store, user)
    except InputError:
        return [], []
    if not ids:
        return [], []
    members = f"(select identity_id from identities where person_id in (select person_id from identities " \
              f"where identity_id in {store.dialect.in_list(ids)}))"
    names = [str(r[0]) for r in store.rows(f"select distinct lower(alias) from identity_aliases where kind <> "
                                           f"'display_name' and identity_id in {members}")]
    accounts = [str(r[0]) for r in store.rows(f"select account_id from identities where account_id is not null "
                                              f"and identity_id in {members}")]
    return names, accounts


def list_incidents(store: Store, *, status: list[str] | None = None, severity: list[str] | None = None,
                   user: str | None = None, text: str | None = None, limit: int = 100,
                   offset: int = 0) -> dict[str, Any]:
    require(store, "incidents")
    where: list[str] = ["true"]
    params: list[Any] = []
    if status:
        where.append("status = any(?)")
        params.append(status)
    if severity:
        where.append("lower(severity) = any(?)")
        params.append([s.lower() for s in severity])
    if user:
        names, accounts = _person_keys(store, user)
        where.append("(user_principal_name ilike ? or user_id = ? or lower(user_principal_name) = any(?) "
                     "or user_id = any(?))")
        params += [f"%{user}%", user, names, accounts]
    if text:
        where.append("(title ilike ? or reason ilike ?)")
        params += [f"%{text}%", f"%{text}%"]
    cond = " and ".join(where)
    total = store.con.execute(f"select count(*) from incidents where {cond}", params).fetchall()
    items = fetch(
        store,
        f"""select incident_id, title, severity, status, classification, user_id, user_principal_name,
                   first_activity, last_activity, priority, recommended_action, reason,
                   json_array_length(detection_ids) as detection_count, created_at, updated_at, campaign_key,
                   json_array_length(accounts) as account_count
            from incidents where {cond} order by {ORDER} limit ? offset ?""",
        [*params, limit, offset],
    )
    return {"total": int(total[0][0]), "limit": limit, "offset": offset, "items": items}


def get_incident(store: Store, incident_id: str) -> dict[str, Any]:
    require(store, "incidents")
    inc = fetch_one(store, "select * from incidents where incident_id = ?", [incident_id])
    if inc is None:
        raise NotFound(f"no incident {incident_id!r}")
    have = existing(store)
    inc["comments"] = fetch(store, "select * from incident_comments where incident_id = ? "
                                   "order by created_at", [incident_id]) if "incident_comments" in have else []
    ids = [str(i) for i in inc.get("detection_ids") or []]
    inc["detections"] = fetch(
        store, 'select * from "riskDetections" where id = any(?) order by detectedDateTime, id', [ids]
    ) if ids and "riskDetections" in have else []
    return inc
