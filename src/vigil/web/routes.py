"""Pages of the web UI. Each page needs a signed-in session (see ``vigil.api.auth``)."""
from __future__ import annotations

import hmac
import logging
import secrets
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import RedirectResponse, Response

from vigil.api import campaigns
from vigil.api import incidents as inc
from vigil.api import operations as ops
from vigil.api import users
from vigil.api.auth import SESSION_COOKIE, get_reader, require_admin, require_reader, service_state
from vigil.api.data import NotAnalyzed, parse_time
from vigil.api.hunt import csv_response, run_guarded
from vigil.api.tokens import Principal, verify_token
from vigil.enrich.geoinstall import credit
from vigil.errors import AuthError, InputError, VigilError
from vigil.store import Store
from vigil.web import timeline
from vigil.web.render import page

log = logging.getLogger("vigil.web")
router = APIRouter()
SIGNIN_COOKIE = "vigil_signin"

#: the reference hunt of issue 5 (Sentinel's UEBA example), pre-filled in the editor
REFERENCE_HUNT = """BehaviorAnalytics
| where TimeGenerated >= ago(24h)
| where ActivityInsights.FirstTimeUserConnectedFromDevice == true
| where ActivityInsights.FirstTimeUserConnectedFromCountry == true
| where ActivityInsights.CountryUncommonlyConnectedFromAmongPeers == true
| extend User = tostring(UsersInsights.AccountDisplayName)
| project TimeGenerated, User, UserPrincipalName, SourceIPAddress, SourceIPLocation, InvestigationPriority
| order by InvestigationPriority desc"""


def _safe_next(target: str | None) -> str:
    """Only same-site paths: '/x', never '//host' or 'http://host' (open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/incidents"
    return target


@router.get("/signin")
def signin_form(request: Request, next: str = Query("/incidents", max_length=500)) -> Response:
    return _signin_page(request, next, None, 200)


def _signin_page(request: Request, next_: str, error: str | None, status: int) -> Response:
    pre = secrets.token_urlsafe(24)
    resp = page(request, "signin.html", status_code=status, next=_safe_next(next_), pre_csrf=pre, error=error)
    resp.set_cookie(SIGNIN_COOKIE, pre, max_age=900, path="/signin", httponly=True, samesite="strict",
                    secure=service_state(request).secure_cookies)
    return resp


@router.post("/signin")
def signin(request: Request, token: str = Form(..., max_length=200), csrf_token: str = Form(..., max_length=100),
           next: str = Form("/incidents", max_length=500)) -> Response:
    state = service_state(request)
    expected = request.cookies.get(SIGNIN_COOKIE, "")
    if not expected or not hmac.compare_digest(expected, csrf_token):
        return _signin_page(request, next, "The sign-in form expired; please try again.", 403)
    try:
        with state.db.reader() as store:
            principal = verify_token(store.con, token.strip(), via="cookie")
    except AuthError as exc:
        log.info("web sign-in rejected: %s", exc)  # the message never contains the token
        return _signin_page(request, next, f"Sign-in failed: {exc}.", 401)
    sid, _ = state.sessions.open(principal)
    log.info("web sign-in: token %s (%s, %s)", principal.token_id, principal.name, principal.role)
    resp = RedirectResponse(_safe_next(next), status_code=303)
    resp.set_cookie(SESSION_COOKIE, sid, max_age=int(state.sessions.ttl_s), path="/", httponly=True,
                    samesite="strict", secure=state.secure_cookies)
    resp.delete_cookie(SIGNIN_COOKIE, path="/signin")
    return resp


@router.post("/signout")
def signout(request: Request, who: Principal = Depends(require_reader)) -> Response:
    sid = request.cookies.get(SESSION_COOKIE)
    if sid:
        service_state(request).sessions.close(sid)
    resp = RedirectResponse("/signin", status_code=303)
    resp.delete_cookie(SESSION_COOKIE, path="/")
    return resp


@router.get("/")
def home(who: Principal = Depends(require_reader)) -> Response:
    return RedirectResponse("/incidents", status_code=303)


@router.get("/incidents")
def incidents_page(request: Request, who: Principal = Depends(require_reader),
                   store: Store = Depends(get_reader),
                   status: list[str] | None = Query(None), severity: list[str] | None = Query(None),
                   user: str | None = Query(None, max_length=256), q: str | None = Query(None, max_length=200),
                   ) -> Response:
    status = [s for s in status or [] if s in inc.STATUSES] or None
    severity = [s for s in severity or [] if s in inc.SEVERITIES] or None
    try:
        queue = inc.list_incidents(store, status=status, severity=severity, user=user or None,
                                   text=q or None, limit=500)
        error = None
    except NotAnalyzed as exc:
        queue, error = {"items": [], "total": 0}, str(exc)
    return page(request, "incidents.html", queue=queue, error=error, f_status=status or [],
                f_severity=severity or [], f_user=user or "", f_q=q or "",
                statuses=inc.STATUSES, severities=inc.SEVERITIES)


def _section(fn: Any, *args: Any) -> tuple[Any, str | None]:
    """Run one part of a page; a missing table shows its message instead of an empty part."""
    try:
        return fn(*args), None
    except NotAnalyzed as exc:
        return None, str(exc)


def _story(request: Request, store: Store, user: dict[str, Any], start: datetime,
           end: datetime) -> dict[str, Any]:
    cfg = service_state(request).settings.service
    events, ev_err = _section(users.UserEvents, store, user, start, end)
    if events is None:
        itin, itin_err, tree, tree_err = None, ev_err, None, ev_err
    else:
        # the tree first: it widens the sign-ins read to its sessions, so they are read once
        tree, tree_err = _section(users.session_tree, store, user, start, end, cfg.page_limit, events)
        itin, itin_err = _section(users.itinerary, store, user, start, end, cfg.map_event_limit, events,
                                  credit(service_state(request).settings.enrich))
    beh, beh_err = _section(users.behavior, store, user, start, end, min(200, cfg.page_limit))
    risk, risk_err = _section(users.risk, store, user)
    return {"user": user, "start": start, "end": end, "itinerary": itin, "itinerary_error": itin_err,
            "timeline": timeline.build(itin, start, end) if itin else None,
            "sessions": tree, "sessions_error": tree_err, "behavior": beh, "behavior_error": beh_err,
            "risk": risk, "risk_error": risk_err}


@router.get("/incidents/{incident_id}")
def incident_page(request: Request, incident_id: str, who: Principal = Depends(require_reader),
                  store: Store = Depends(get_reader), notice: str | None = Query(None, max_length=200)) -> Response:
    incident = inc.get_incident(store, incident_id)
    story = None
    key = incident.get("user_id") or incident.get("user_principal_name")
    if key:
        user = users.resolve_user(store, key)
        first = _parse(incident.get("first_activity")) or _parse(user["first_seen"])
        last = _parse(incident.get("last_activity")) or _parse(user["last_seen"])
        assert first is not None and last is not None
        story = _story(request, store, user, first - timedelta(hours=12), last + timedelta(hours=12))
    return page(request, "incident.html", incident=incident, story=story, campaign=campaigns.campaign(store, incident),
                statuses=inc.STATUSES, notice=notice)


@router.post("/incidents/{incident_id}/status")
def incident_status(request: Request, incident_id: str, status: str = Form(..., max_length=16),
                    classification: str = Form("", max_length=64),
                    who: Principal = Depends(require_admin)) -> Response:
    if status not in inc.STATUSES:
        return page(request, "error.html", status_code=422,
                    message=f"status must be one of {', '.join(inc.STATUSES)}")
    state = service_state(request)
    with state.db.writer() as store:
        inc.get_incident(store, incident_id)
        ops.set_incident_status(store, incident_id, status, classification or None, who.name)
    return RedirectResponse(f"/incidents/{incident_id}?notice=status+set+to+{status}", status_code=303)


@router.post("/incidents/{incident_id}/comments")
def incident_comment(request: Request, incident_id: str, text: str = Form(..., min_length=1, max_length=10_000),
                     who: Principal = Depends(require_admin)) -> Response:
    state = service_state(request)
    with state.db.writer() as store:
        inc.get_incident(store, incident_id)
        ops.add_incident_comment(store, incident_id, text, who.name)
    return RedirectResponse(f"/incidents/{incident_id}?notice=comment+added", status_code=303)


@router.get("/users/{user}")
def user_page(request: Request, user: str, who: Principal = Depends(require_reader),
              store: Store = Depends(get_reader), start: datetime | None = Query(None),
              end: datetime | None = Query(None), days: int = Query(7, ge=1, le=366)) -> Response:
    found = users.resolve_user(store, user)
    s, e = users.user_window(store, found, start, end, days)
    return page(request, "user.html", story=_story(request, store, found, s, e), days=days)


@router.post("/users/{user}/risk")
def user_risk_action(request: Request, user: str, action: str = Form(..., max_length=32),
                     reason: str = Form("", max_length=1000), who: Principal = Depends(require_admin)) -> Response:
    if action not in ops.RISK_ACTIONS:
        return page(request, "error.html", status_code=422,
                    message=f"risk action must be one of {', '.join(ops.RISK_ACTIONS)}")
    state = service_state(request)
    with state.db.writer() as store:
        ops.risk_action(store, action, [user], who.name, reason or None, state.settings)
    return RedirectResponse(f"/users/{quote(user)}", status_code=303)


def _parse(value: Any) -> datetime | None:
    if not value:
        return None
    return parse_time(str(value))


def _hunt_now(value: str) -> datetime | None:
    if not value.strip():
        return None
    try:
        return datetime.fromisoformat(value.strip())
    except ValueError:
        raise InputError(f"form field 'now': {value!r} is not a date and time (YYYY-MM-DDTHH:MM)") from None


@router.get("/hunt")
def hunt_page(request: Request, who: Principal = Depends(require_reader),
              store: Store = Depends(get_reader)) -> Response:
    from vigil.hunt.clock import resolve_now

    anchor, _why = resolve_now(store, request.app.state.vigil.settings.hunt.now)
    return page(request, "hunt.html", query=REFERENCE_HUNT, result=None, error=None,
                now=anchor.strftime("%Y-%m-%dT%H:%M:%S") if anchor else "")


@router.post("/hunt")
async def hunt_run(request: Request, query: str = Form(..., min_length=1, max_length=100_000),
                   now: str = Form("", max_length=40), who: Principal = Depends(require_reader),
                   store: Store = Depends(get_reader)) -> Response:
    try:
        columns, rows, truncated = await run_guarded(request, who, store, query, _hunt_now(now))
    except VigilError as exc:
        return page(request, "hunt.html", status_code=400, query=query, now=now, result=None, error=str(exc))
    except HTTPException as exc:  # too many hunts at once: the form stays, with the reason
        response = page(request, "hunt.html", status_code=exc.status_code, query=query, now=now, result=None,
                        error=str(exc.detail))
        response.headers.update(exc.headers or {})
        return response
    return page(request, "hunt.html", query=query, now=now, error=None,
                result={"columns": columns, "rows": rows, "truncated": truncated})


@router.post("/hunt.csv")
async def hunt_csv(request: Request, query: str = Form(..., min_length=1, max_length=100_000),
                   now: str = Form("", max_length=40), who: Principal = Depends(require_reader),
                   store: Store = Depends(get_reader)) -> Response:
    columns, rows, _ = await run_guarded(request, who, store, query, _hunt_now(now))
    return csv_response(columns, rows)
