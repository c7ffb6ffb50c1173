"""A user's story: identity, itinerary (points and travel lines), session tree, behaviour, risk.

Everything is read from the contract tables (docs/architecture.md) for one user and one
time window; the web UI's user page and ``/api/v1/users/{user}/...`` both use these.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from vigil.api.data import NotFound, existing, fetch, fetch_one, first_present, require, window
from vigil.store import Store

_USER_WHERE = "(user_id = ? or user_principal_name = lower(?))"

#: travel verdicts drawn as lines (same_location has no length to draw)
LINE_VERDICTS = ("egress_change", "plausible", "improbable", "impossible")


def resolve_user(store: Store, user: str) -> dict[str, Any]:
    """Find a user by object id or UPN in the sign-ins; 404 when no event names them."""
    table = first_present(store, "signins_enriched", "signins")
    row = fetch_one(
        store,
        f"select user_id, user_principal_name, max(user_display_name) as user_display_name, "
        f"min(event_time) as first_seen, max(event_time) as last_seen, count(*) as signins "
        f"from {table} where {_USER_WHERE} group by all order by signins desc limit 1",
        [user, user],
    )
    if row is None:
        raise NotFound(f"no sign-ins for user {user!r} (give the user object id or UPN)")
    return row


def user_window(store: Store, user: dict[str, Any], start: datetime | None, end: datetime | None,
                days: int = 7) -> tuple[datetime, datetime]:
    latest = datetime.fromisoformat(user["last_seen"].replace("Z", "+00:00")) if user["last_seen"] else None
    return window(start, end, latest, days)


def _ids(user: dict[str, Any]) -> list[Any]:
    return [user["user_id"] or "", user["user_principal_name"] or ""]


def itinerary(store: Store, user: dict[str, Any], start: datetime, end: datetime,
              limit: int) -> dict[str, Any]:
    """Located sign-ins (points) and travel between them (lines), oldest first."""
    require(store, "signins_enriched", "travel")
    points = fetch(
        store,
        f"""select event_id, event_time, ip, geo_country, geo_city, geo_latitude, geo_longitude,
                   geo_source, geo_accuracy_km, ip_class, is_corporate_egress, egress_name, as_org,
                   app_name, result, is_interactive, ua_family, ua_os_family, session_id
            from signins_enriched
            where {_USER_WHERE} and event_time >= ? and event_time <= ?
              and geo_latitude is not null and geo_longitude is not null
              and not coalesce(location_is_stale, false)
            order by event_time, event_id limit ?""",
        [*_ids(user), start, end, limit + 1],
    )
    truncated = len(points) > limit
    points = points[:limit]
    lines = fetch(
        store,
        f"""select from_event_id, to_event_id, from_time, to_time, from_ip, to_ip, from_country,
                   to_country, from_city, to_city, from_latitude, from_longitude, to_latitude,
                   to_longitude, distance_km, adjusted_distance_km, elapsed_s, speed_kmh, same_session,
                   session_key, from_ip_class, to_ip_class, verdict, reason
            from travel
            where {_USER_WHERE} and from_time >= ? and to_time <= ?
              and verdict in {LINE_VERDICTS}
              and from_latitude is not null and to_latitude is not null
            order by to_time, to_event_id""",
        [*_ids(user), start, end],
    )
    egress = []
    if "egress_points" in existing(store):
        egress = fetch(store, "select kind, value, name, origin, status, distinct_users from egress_points "
                              "where status = 'accepted' order by name, value")
    sources = sorted({p["geo_source"] for p in points if p["geo_source"]})
    verdicts: dict[str, int] = {}
    for line in lines:
        verdicts[line["verdict"]] = verdicts.get(line["verdict"], 0) + 1
    return {"points": points, "lines": lines, "egress_points": egress, "truncated": truncated,
            "verdict_counts": verdicts, "geo_sources": sources,
            "attribution": {"text": "IP Geolocation by DB-IP", "url": "https://db-ip.com"}}


def session_tree(store: Store, user: dict[str, Any], start: datetime, end: datetime,
                 limit: int) -> list[dict[str, Any]]:
    """Each session's root authentication with the sign-ins and activities linked to it."""
    require(store, "sessions", "event_sessions", "session_hops", "signins_enriched")
    sessions = fetch(
        store,
        f"""select * from sessions where {_USER_WHERE} and last_time >= ? and first_time <= ?
            order by root_time, session_key limit ?""",
        [*_ids(user), start, end, limit],
    )
    if not sessions:
        return []
    keys = [s["session_key"] for s in sessions]
    acts = first_present(store, "activities_enriched", "activities")
    act_geo = "a.geo_country, a.geo_city" if acts == "activities_enriched" else "a.country, a.city"
    events = fetch(
        store,
        f"""select es.session_key, es.event_id, es.event_table, es.link_method,
                   coalesce(s.event_time, a.event_time) as event_time,
                   coalesce(s.app_name, a.app_name) as app_name, s.resource_name,
                   coalesce(s.ip, a.ip) as ip,
                   coalesce(s.geo_country, {act_geo.split(', ')[0]}) as country,
                   coalesce(s.geo_city, {act_geo.split(', ')[1]}) as city,
                   s.is_interactive, s.result, s.mfa_satisfied, s.device_os, s.device_browser,
                   s.ip_class, a.workload, a.operation, a.object_id
            from event_sessions es
            left join signins_enriched s on es.event_table = 'signins' and s.event_id = es.event_id
            left join {acts} a on es.event_table = 'activities' and a.event_id = es.event_id
            where es.session_key = any(?)
            order by es.session_key, event_time, es.event_id""",
        [keys],
    )
    hops = fetch(store, "select session_key, event_id, hop_time, hop_kind, from_value, to_value "
                        "from session_hops where session_key = any(?) order by hop_time, event_id",
                 [keys])
    by_session: dict[str, list[dict[str, Any]]] = {k: [] for k in keys}
    hops_by_event: dict[str, list[dict[str, Any]]] = {}
    for h in hops:
        hops_by_event.setdefault(h["event_id"], []).append(h)
    for ev in events:
        ev["hops"] = hops_by_event.get(ev["event_id"], [])
        by_session[ev["session_key"]].append(ev)
    for s in sessions:
        children = by_session[s["session_key"]]
        s["root"] = next((e for e in children if e["event_id"] == s["root_event_id"]), None)
        s["children"] = [e for e in children if e["event_id"] != s["root_event_id"]]
        s["hops"] = [h for h in hops if h["session_key"] == s["session_key"]]
    return sessions


def behavior(store: Store, user: dict[str, Any], start: datetime, end: datetime,
             limit: int) -> list[dict[str, Any]]:
    """BehaviorAnalytics rows, highest InvestigationPriority first; ``insights`` lists the true flags."""
    require(store, "BehaviorAnalytics")
    rows = fetch(
        store,
        """select * from "BehaviorAnalytics"
           where (UserPrincipalName = lower(?) or UsersInsights->>'AccountObjectID' = ?)
             and TimeGenerated >= ? and TimeGenerated <= ?
           order by InvestigationPriority desc, TimeGenerated desc, SourceRecordId limit ?""",
        [user["user_principal_name"] or "", user["user_id"] or "", start, end, limit],
    )
    for r in rows:
        bag = r.get("ActivityInsights") or {}
        r["insights"] = sorted(k for k, v in bag.items() if v is True or v == "True") \
            if isinstance(bag, dict) else []
    return rows


def risk(store: Store, user: dict[str, Any]) -> dict[str, Any]:
    """Current user risk (riskyUsers), its detections and admin actions, oldest first."""
    have = existing(store)
    current = None
    if "riskyUsers" in have:
        current = fetch_one(store, 'select * from "riskyUsers" where id = ? or userPrincipalName = lower(?) '
                                   "order by riskLastUpdatedDateTime desc limit 1", _ids(user))
    detections = []
    if "riskDetections" in have:
        detections = fetch(
            store,
            'select * from "riskDetections" where userId = ? or userPrincipalName = lower(?) '
            "order by detectedDateTime, id", _ids(user))
    actions = []
    if "riskActions" in have:
        cols = {c for (c,) in store.con.execute(
            "select column_name from information_schema.columns where table_name = 'riskActions'").fetchall()}
        key = "userId" if "userId" in cols else ("user_id" if "user_id" in cols else None)
        if key:
            actions = fetch(store, f'select * from "riskActions" where "{key}" = ?', [user["user_id"] or ""])
    if not {"riskyUsers", "riskDetections"} & have:
        require(store, "riskyUsers", "riskDetections")
    return {"current": current, "detections": detections, "actions": actions}
