"""A user's story: identity, itinerary (points and travel lines), session tree, behaviour, risk.

Everything is read from the contract tables (docs/architecture.md) for one user and one
time window; the web UI's user page and ``/api/v1/users/{user}/...`` both use these.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from vigil.api.data import (
    NotFound,
    columns,
    existing,
    fetch,
    fetch_one,
    first_present,
    parse_time,
    require,
    window,
)
from vigil.errors import InputError
from vigil.identity import actions as identity
from vigil.store import Store

_USER_WHERE = "(user_id = ? or user_principal_name = lower(?))"
_PERSON_EVENTS = "(select event_id from event_identities where person_id = ?)"

#: travel verdicts drawn as lines (same_location has no length to draw)
LINE_VERDICTS = ("egress_change", "plausible", "improbable", "impossible")


def resolve_user(store: Store, user: str) -> dict[str, Any]:
    """Find a user by any name they ever had, an account id or an identity id (docs/identity.md); 404
    when nothing names them. The person's accounts, former names and links come with it; when a name
    was reused by another account, the person seen with it most recently is shown and the others listed."""
    require(store, "signins")
    person = _person(store, user)
    if person is not None:
        return person
    row = fetch_one(
        store,
        f"select user_id, user_principal_name, max(user_display_name) as user_display_name, "
        f"min(event_time) as first_seen, max(event_time) as last_seen, count(*) as signins "
        f"from signins where {_USER_WHERE} group by all order by signins desc limit 1",
        [user, user],
    )
    if row is None:
        raise NotFound(f"no sign-ins for user {user!r} (give the user object id or UPN)")
    return row


def _person(store: Store, user: str) -> dict[str, Any] | None:
    if not {"identities", "identity_aliases", "event_identities"} <= existing(store):
        return None
    try:
        people = identity.show(store, user)
    except InputError:
        return None
    people.sort(key=lambda p: max(str(a["last_seen"] or "") for a in p["accounts"]), reverse=True)
    head, accounts = people[0], people[0]["accounts"]
    signins = fetch_one(store, f"select min(event_time) as first_seen, max(event_time) as last_seen, "
                               f"count(*) as signins from signins where event_id in {_PERSON_EVENTS}",
                        [head["person_id"]]) or {}
    return {"user_id": accounts[0]["account_id"] or head["person_id"], "user_principal_name": head["name"],
            "user_display_name": head["display_name"], "first_seen": signins.get("first_seen"),
            "last_seen": signins.get("last_seen"), "signins": signins.get("signins", 0),
            "person_id": head["person_id"], "former_names": head["former_names"],
            "accounts": [{k: a[k] for k in ("identity_id", "provider", "account_id", "name", "display_name",
                                            "user_type", "events", "first_seen", "last_seen", "deleted_time")}
                         for a in accounts],
            "account_ids": [a["account_id"] for a in accounts if a["account_id"]],
            "links": head["links"],
            "other_persons": [{"person_id": p["person_id"], "name": p["name"]} for p in people[1:]]}


def _who(user: dict[str, Any], event_col: str, id_col: str = "user_id",
         upn_col: str = "user_principal_name") -> tuple[str, list[Any]]:
    """Filter on a table's rows of this user: the person's events when identities are resolved."""
    if user.get("person_id"):
        return f"{event_col} in {_PERSON_EVENTS}", [user["person_id"]]
    return f"({id_col} = ? or {upn_col} = lower(?))", _ids(user)


def user_window(store: Store, user: dict[str, Any], start: datetime | None, end: datetime | None,
                days: int = 7) -> tuple[datetime, datetime]:
    latest = parse_time(user["last_seen"]) if user["last_seen"] else None
    return window(start, end, latest, days)


def _ids(user: dict[str, Any]) -> list[Any]:
    return [user["user_id"] or "", user["user_principal_name"] or ""]


#: columns of a user's sign-ins the map, the time line and the session tree show
_SIGNIN_COLS = """event_id, event_time, ip, geo_country, geo_city, geo_latitude, geo_longitude, geo_source,
    geo_accuracy_km, ip_class, is_corporate_egress, egress_name, as_org, app_name, resource_name, result,
    is_interactive, mfa_satisfied, device_os, device_browser, ua_family, ua_os_family, session_id,
    location_is_stale"""


class UserEvents:
    """A user's enriched sign-ins over a span, read once per request and shared by the map and
    the tree (each query on the enriched views costs tens of ms of planning alone)."""

    def __init__(self, store: Store, user: dict[str, Any], start: datetime, end: datetime) -> None:
        require(store, "signins_enriched")
        self.store, self.user, self.start, self.end = store, user, start, end
        self._signins: list[dict[str, Any]] | None = None

    @property
    def signins(self) -> list[dict[str, Any]]:
        """Read on first use, so a :meth:`widen` before it costs no second read (build the session tree
        before the itinerary: the tree widens the span to its sessions, the itinerary filters to the window)."""
        if self._signins is None:
            who, params = _who(self.user, "event_id")
            self._signins = fetch(
                self.store, f"select {_SIGNIN_COLS}, source_format, user_principal_name from signins_enriched "
                            f"where {who} and event_time >= ? and event_time <= ? order by event_time, event_id",
                [*params, self.start, self.end])
        return self._signins

    def widen(self, start: datetime, end: datetime) -> None:
        """Make sure [start, end] is covered (sessions may begin before the window)."""
        if start < self.start or end > self.end:
            self.start, self.end = min(start, self.start), max(end, self.end)
            self._signins = None


def itinerary(store: Store, user: dict[str, Any], start: datetime, end: datetime,
              limit: int, events: UserEvents | None = None,
              location_credit: dict[str, Any] | None = None) -> dict[str, Any]:
    """Located sign-ins (points) and travel between them (lines), oldest first; ``attribution`` is
    ``location_credit`` (``vigil.enrich.geoinstall.credit``) when a point was located by the database.

    A sign-in whose location is stale (a confidential client replaying the original token's
    IP) is not a place the user was, so it is not drawn."""
    require(store, "travel")
    events = events or UserEvents(store, user, start, end)
    located = [p for p in events.signins if start <= _naive(p["event_time"]) <= end
               and p["geo_latitude"] is not None and p["geo_longitude"] is not None
               and not p["location_is_stale"]]
    truncated = len(located) > limit
    points = located[:limit]
    who, params = _who(user, "to_event_id")
    lines = fetch(
        store,
        f"""select from_event_id, to_event_id, from_time, to_time, from_ip, to_ip, from_country,
                   to_country, from_city, to_city, from_latitude, from_longitude, to_latitude,
                   to_longitude, distance_km, adjusted_distance_km, elapsed_s, speed_kmh, same_session,
                   session_key, from_ip_class, to_ip_class, verdict, reason
            from travel
            where {who} and from_time >= ? and to_time <= ?
              and verdict in {LINE_VERDICTS}
              and from_latitude is not null and to_latitude is not null
            order by to_time, to_event_id""",
        [*params, start, end],
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
            "attribution": location_credit if "mmdb" in sources else None}


_naive = parse_time


def session_tree(store: Store, user: dict[str, Any], start: datetime, end: datetime,
                 limit: int, events: UserEvents | None = None) -> list[dict[str, Any]]:
    """Each session's root authentication with the sign-ins and activities linked to it."""
    require(store, "sessions", "event_sessions", "session_hops")
    who, params = _who(user, "root_event_id")
    sessions = fetch(
        store,
        f"""select * from sessions where {who} and last_time >= ? and first_time <= ?
            order by root_time, session_key limit ?""",
        [*params, start, end, limit],
    )
    if not sessions:
        return []
    keys = [s["session_key"] for s in sessions]
    events = events or UserEvents(store, user, start, end)
    events.widen(min(_naive(s["first_time"]) for s in sessions), max(_naive(s["last_time"]) for s in sessions))
    signins = {e["event_id"]: e for e in events.signins}
    links = fetch(store, "select session_key, event_id, event_table, link_method from event_sessions "
                         "where session_key = any(?)", [keys])
    acts = first_present(store, "activities_enriched", "activities")
    geo = "geo_country as country, geo_city as city" if acts == "activities_enriched" else "country, city"
    act_ids = [x["event_id"] for x in links if x["event_table"] == "activities"]
    activities = {a["event_id"]: a for a in fetch(
        store, f"select event_id, event_time, app_name, ip, {geo}, workload, operation, object_id "
               f"from {acts} where event_id = any(?)", [act_ids])} if act_ids else {}
    hops = fetch(store, "select session_key, event_id, hop_time, hop_kind, from_value, to_value "
                        "from session_hops where session_key = any(?) order by hop_time, event_id",
                 [keys])
    hops_by_event: dict[str, list[dict[str, Any]]] = {}
    for h in hops:
        hops_by_event.setdefault(h["event_id"], []).append(h)
    by_session: dict[str, list[dict[str, Any]]] = {k: [] for k in keys}
    for link in links:
        if link["event_table"] == "signins":
            src = signins.get(link["event_id"])
            ev = {} if src is None else {**src, "country": src["geo_country"], "city": src["geo_city"]}
        else:
            ev = dict(activities.get(link["event_id"], {}))
        ev.update(link, hops=hops_by_event.get(link["event_id"], []))
        by_session[link["session_key"]].append(ev)
    for s in sessions:
        children = sorted(by_session[s["session_key"]], key=lambda e: (e.get("event_time") or "", e["event_id"]))
        s["root"] = next((e for e in children if e["event_id"] == s["root_event_id"]), None)
        s["children"] = [e for e in children if e["event_id"] != s["root_event_id"]]
        s["hops"] = [h for h in hops if h["session_key"] == s["session_key"]]
    return sessions


def behavior(store: Store, user: dict[str, Any], start: datetime, end: datetime,
             limit: int) -> list[dict[str, Any]]:
    """BehaviorAnalytics rows, highest InvestigationPriority first; ``insights`` lists the true flags."""
    require(store, "BehaviorAnalytics")
    if user.get("person_id"):
        who, params = _who(user, "SourceRecordId")
    else:
        who = "(UserPrincipalName = lower(?) or UsersInsights->>'AccountObjectID' = ?)"
        params = [user["user_principal_name"] or "", user["user_id"] or ""]
    rows = fetch(
        store,
        f"""select * from "BehaviorAnalytics"
           where {who} and TimeGenerated >= ? and TimeGenerated <= ?
           order by InvestigationPriority desc, TimeGenerated desc, SourceRecordId limit ?""",
        [*params, start, end, limit],
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
    ids = [user.get("person_id") or user["user_id"] or "", user["user_principal_name"] or ""]
    if "riskyUsers" in have:
        current = fetch_one(store, 'select * from "riskyUsers" where id = ? or userPrincipalName = lower(?) '
                                   "order by riskLastUpdatedDateTime desc limit 1", ids)
    detections = []
    if "riskDetections" in have:
        who, params = _who(user, "event_id", "userId", "userPrincipalName")
        accounts = user.get("account_ids") or [user["user_id"] or ""]
        detections = fetch(
            store,
            f'select * from "riskDetections" where {who} or userId = any(?) '
            "order by detectedDateTime, id", [*params, accounts])
    actions = []
    if "riskActions" in have:
        cols = set(columns(store, "riskActions"))
        key = "userId" if "userId" in cols else ("user_id" if "user_id" in cols else None)
        if key:
            actions = fetch(store, f'select * from "riskActions" where {store.ident(key)} = any(?)',
                            [user.get("account_ids") or [user["user_id"] or ""]])
    if not {"riskyUsers", "riskDetections"} & have:
        require(store, "riskyUsers", "riskDetections")
    return {"current": current, "detections": detections, "actions": actions}
