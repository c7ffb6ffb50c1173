"""Read endpoints of /api/v1: sign-ins, sessions, travel, BehaviorAnalytics, risk, incidents, users."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from vigil.api import incidents as inc
from vigil.api import users
from vigil.api.auth import get_reader, require_reader, service_state
from vigil.api.data import FastJSON, NotFound, fetch, first_present, iso, parse_time, require, window
from vigil.api.tokens import Principal
from vigil.enrich.geoinstall import credit
from vigil.errors import InputError
from vigil.identity import actions as identity_actions
from vigil.store import Store

# Endpoints return FastJSON directly: rows are already JSON-ready, so FastAPI's encoder is skipped.
router = APIRouter(dependencies=[Depends(require_reader)], default_response_class=FastJSON)

Reader = Annotated[Store, Depends(get_reader)]
Start = Annotated[datetime | None, Query(description="ISO-8601 time, inclusive (UTC when no offset)")]
End = Annotated[datetime | None, Query(description="ISO-8601 time, inclusive (UTC when no offset)")]
Limit = Annotated[int, Query(ge=1, le=100_000, description="rows per page (at most service.page_limit)")]
Offset = Annotated[int, Query(ge=0, le=10_000_000)]
User = Annotated[str | None, Query(max_length=256, description="user object id or UPN")]


def _limit(request: Request, limit: int) -> int:
    cap = service_state(request).settings.service.page_limit
    if limit > cap:
        raise InputError(f"query parameter 'limit': at most {cap} rows per page (service.page_limit)")
    return limit


def _page(store: Store, table: str, time_col: str, filters: dict[str, Any], start: datetime | None,
          end: datetime | None, order: str, limit: int, offset: int,
          extra: tuple[str, list[Any]] | None = None) -> dict[str, Any]:
    """One page of ``table`` in a time window (default: the 7 days before its latest row)."""
    where: list[str] = [extra[0]] if extra else []
    params: list[Any] = list(extra[1]) if extra else []
    for col, value in filters.items():
        if value is None:
            continue
        if col == "_user":
            where.append("(user_id = ? or user_principal_name = lower(?))")
            params += [value, value]
        else:
            where.append(f"{store.ident(col)} = ?")
            params.append(value)
    tq, tcol = store.ident(table), store.ident(time_col)
    latest = store.scalar(f"select max({tcol}) from {tq}")
    s, e = window(start, end, latest, default_days=7)
    where += [f"{tcol} >= ?", f"{tcol} <= ?"]
    params += [s, e]
    items = fetch(store, f'select * from {tq} where {" and ".join(where)} order by {order} '
                         f"limit ? offset ?", [*params, limit, offset])
    return {"start": iso(s), "end": iso(e), "limit": limit, "offset": offset, "items": items}


@router.get("/whoami", summary="The caller's token name and role")
def whoami(who: Principal = Depends(require_reader)) -> FastJSON:
    return FastJSON({"name": who.name, "role": who.role, "token_id": who.token_id, "via": who.via})


@router.get("/signins", summary="Enriched sign-ins (signins_enriched)")
def signins(request: Request, store: Reader, user: User = None, ip: str | None = Query(None, max_length=64),
            result: str | None = Query(None, pattern="^(success|failure|interrupted)$"),
            start: Start = None, end: End = None, limit: Limit = 100, offset: Offset = 0) -> FastJSON:
    table = first_present(store, "signins_enriched", "signins")
    return FastJSON(_page(store, table, "event_time", {"_user": user, "ip": ip, "result": result}, start, end,
                 "event_time desc, event_id", _limit(request, limit), offset))


@router.get("/sessions", summary="Stitched sessions (sessions)")
def sessions(request: Request, store: Reader, user: User = None, start: Start = None, end: End = None,
             limit: Limit = 100, offset: Offset = 0) -> FastJSON:
    require(store, "sessions")
    return FastJSON(_page(store, "sessions", "root_time", {"_user": user}, start, end, "root_time desc, session_key",
                 _limit(request, limit), offset))


@router.get("/sessions/{session_key}", summary="One session with its events and hops")
def session(store: Reader, session_key: str) -> FastJSON:
    require(store, "sessions")
    row = fetch(store, "select user_id, user_principal_name, first_time, last_time from sessions "
                       "where session_key = ?", [session_key])
    if not row:
        raise NotFound(f"no session {session_key!r}")
    s = row[0]
    user = {"user_id": s["user_id"], "user_principal_name": s["user_principal_name"]}
    first, last = parse_time(s["first_time"]), parse_time(s["last_time"])
    tree = users.session_tree(store, user, first, last, limit=100_000)
    return FastJSON(next(t for t in tree if t["session_key"] == session_key))


@router.get("/travel", summary="Travel between consecutive sign-ins with verdicts (travel)")
def travel(request: Request, store: Reader, user: User = None,
           verdict: str | None = Query(None, pattern="^(same_location|egress_change|plausible|improbable|impossible)$"),
           start: Start = None, end: End = None, limit: Limit = 100, offset: Offset = 0) -> FastJSON:
    require(store, "travel")
    return FastJSON(_page(store, "travel", "to_time", {"_user": user, "verdict": verdict}, start, end,
                 "to_time desc, to_event_id", _limit(request, limit), offset))


@router.get("/BehaviorAnalytics", summary="UEBA rows with Sentinel's columns")
def behavior_analytics(request: Request, store: Reader, user: User = None,
                       min_priority: int = Query(0, ge=0, le=10), start: Start = None, end: End = None,
                       limit: Limit = 100, offset: Offset = 0) -> FastJSON:
    require(store, "BehaviorAnalytics")
    page = _page(store, "BehaviorAnalytics", "TimeGenerated",
                 {"UserPrincipalName": user.lower() if user else None}, start, end,
                 "InvestigationPriority desc, TimeGenerated desc, SourceRecordId", _limit(request, limit), offset,
                 extra=("coalesce(InvestigationPriority, 0) >= ?", [min_priority]))
    return FastJSON(page)


@router.get("/riskDetections", summary="Risk detections (Graph riskDetection)")
def risk_detections(request: Request, store: Reader, user: User = None,
                    riskLevel: str | None = Query(None, pattern="^(low|medium|high|hidden|none)$"),
                    start: Start = None, end: End = None, limit: Limit = 100,
                    offset: Offset = 0) -> FastJSON:
    require(store, "riskDetections")
    filters: dict[str, Any] = {"riskLevel": riskLevel}
    if user:
        filters["userPrincipalName" if "@" in user else "userId"] = user.lower() if "@" in user else user
    return FastJSON(_page(store, "riskDetections", "detectedDateTime", filters, start, end,
                 "detectedDateTime desc, id", _limit(request, limit), offset))


@router.get("/riskyUsers", summary="Users at risk (Graph riskyUser)")
def risky_users(request: Request, store: Reader,
                riskState: str | None = Query(None, max_length=64),
                limit: Limit = 100, offset: Offset = 0) -> FastJSON:
    require(store, "riskyUsers")
    where, params = ("where riskState = ?", [riskState]) if riskState else ("", [])
    rank = "case riskLevel when 'high' then 3 when 'medium' then 2 when 'low' then 1 else 0 end"
    items = fetch(store, f'select * from "riskyUsers" {where} order by {rank} desc, '
                         f"riskLastUpdatedDateTime desc, id limit ? offset ?",
                  [*params, _limit(request, limit), offset])
    return FastJSON({"limit": limit, "offset": offset, "items": items})


@router.get("/incidents", summary="The incidents queue, ranked")
def incidents(request: Request, store: Reader,
              status: list[str] | None = Query(None, description="new | active | closed (repeatable)"),
              severity: list[str] | None = Query(None, description="high | medium | low | informational"),
              user: User = None, q: str | None = Query(None, max_length=200, description="text in title/reason"),
              limit: Limit = 100, offset: Offset = 0) -> FastJSON:
    for value in status or []:
        if value not in inc.STATUSES:
            raise InputError(f"query parameter 'status': {value!r} is not one of {', '.join(inc.STATUSES)}")
    for value in severity or []:
        if value.lower() not in inc.SEVERITIES:
            raise InputError(f"query parameter 'severity': {value!r} is not one of {', '.join(inc.SEVERITIES)}")
    return FastJSON(inc.list_incidents(store, status=status, severity=severity, user=user, text=q,
                              limit=_limit(request, limit), offset=offset))


@router.get("/incidents/{incident_id}", summary="One incident with its detections and comments")
def incident(store: Reader, incident_id: str) -> FastJSON:
    return FastJSON(inc.get_incident(store, incident_id))


@router.get("/identities/{who}", summary="The person(s) any name finds: current name, former names, accounts "
            "at each identity provider, links with their evidence")
def identity(store: Reader, who: str) -> FastJSON:
    if len(who) > 256:
        raise InputError("path parameter 'who': at most 256 characters")
    try:
        return FastJSON(identity_actions.show(store, who))
    except InputError as exc:  # no such name, or no identities resolved yet
        raise NotFound(str(exc)) from exc


@router.get("/users/{user}", summary="Everything the user page shows: identity, itinerary, sessions, "
                                     "BehaviorAnalytics, risk")
def user_page(request: Request, store: Reader, user: str, start: Start = None, end: End = None,
              days: int = Query(7, ge=1, le=366, description="window length when start is not given"),
              behavior_limit: int = Query(100, ge=0, le=100_000,
                                          description="BehaviorAnalytics rows, highest InvestigationPriority first"),
              ) -> FastJSON:
    cfg = service_state(request).settings.service
    who = users.resolve_user(store, user)
    s, e = users.user_window(store, who, start, end, days)
    events = users.UserEvents(store, who, s, e)
    sessions = users.session_tree(store, who, s, e, cfg.page_limit, events)  # first: one read of the sign-ins
    return FastJSON({"user": who, "start": iso(s), "end": iso(e),
            "itinerary": users.itinerary(store, who, s, e, cfg.map_event_limit, events,
                                         credit(service_state(request).settings.enrich)),
            "sessions": sessions,
            "behavior": users.behavior(store, who, s, e, min(behavior_limit, cfg.page_limit)),
            "risk": users.risk(store, who)})


@router.get("/users/{user}/itinerary", summary="Located sign-ins and travel lines for the map")
def user_itinerary(request: Request, store: Reader, user: str, start: Start = None, end: End = None,
                   days: int = Query(7, ge=1, le=366)) -> FastJSON:
    who = users.resolve_user(store, user)
    s, e = users.user_window(store, who, start, end, days)
    settings = service_state(request).settings
    out = users.itinerary(store, who, s, e, settings.service.map_event_limit,
                          location_credit=credit(settings.enrich))
    return FastJSON({"user": who, "start": iso(s), "end": iso(e), **out})
