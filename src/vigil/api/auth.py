"""Authentication and roles for every route of ``vigil serve``.

Other areas' routers import :func:`require_reader` and :func:`require_admin`::

    router = APIRouter()

    @router.post("/policies/whatif")
    def whatif(body: WhatIf, who: Principal = Depends(require_reader)) -> dict: ...

A caller proves who it is with ``Authorization: Bearer vgl_...`` (an API token from
``vigil token create``) or, in the browser, with the HttpOnly session cookie set at
sign-in. Cookie-authenticated requests that change state (POST/PUT/PATCH/DELETE) must
also carry the session's CSRF token (``X-CSRF-Token`` header or ``csrf_token`` form
field); bearer requests need none because browsers never attach them on their own.

Reads use ``store: Store = Depends(get_reader)``; writes take ``state = Depends(service_state)``
and run ``with state.db.writer() as store: ...`` so the transaction commits before the
response is built.
"""
from __future__ import annotations

import hmac
from collections.abc import Iterator

from fastapi import Depends, HTTPException, Request

from vigil.api.state import ServiceState, UISession
from vigil.api.tokens import Principal, TokenRow, check, token_id_of
from vigil.cae import challenge
from vigil.errors import AuthError
from vigil.store import Store

SESSION_COOKIE = "vigil_session"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

__all__ = ["Principal", "get_reader", "require_admin", "require_reader", "service_state"]


def service_state(request: Request) -> ServiceState:
    state: ServiceState = request.app.state.vigil
    return state


REALM = "vigil"


def _unauthorized(detail: str, *, presented: bool = True) -> HTTPException:
    # RFC 6750 §3.1: no error code when no credentials were sent; the description goes through the
    # one header helper (it may quote caller-controlled text).
    value = challenge.invalid_token(detail, realm=REALM) if presented else challenge.no_token(realm=REALM)
    return HTTPException(401, detail=detail, headers={"WWW-Authenticate": value})


def ui_session(request: Request) -> UISession | None:
    sid = request.cookies.get(SESSION_COOKIE)
    if not sid:
        return None
    return service_state(request).sessions.get(sid)


async def _check_csrf(request: Request, sess: UISession) -> None:
    presented = request.headers.get(CSRF_HEADER)
    if presented is None:
        ctype = request.headers.get("content-type", "")
        if ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()  # Starlette caches it; the endpoint reads it again for free
            value = form.get(CSRF_FIELD)
            presented = value if isinstance(value, str) else None
    if presented is None or not hmac.compare_digest(presented, sess.csrf):
        raise HTTPException(403, detail="missing or wrong CSRF token for a cookie-authenticated request")


def identify(request: Request) -> tuple[Principal, UISession | None]:
    """Who is calling, from the headers and cookies alone (never the body), or 401.

    Also used by :class:`vigil.api.gate.AuthGate` before a request body is read."""
    state = service_state(request)
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise _unauthorized("Authorization header must be 'Bearer <API token>'")
        try:
            presented = token.strip()
            return check(presented, state.db.token_row(token_id_of(presented)), via="bearer"), None
        except AuthError as exc:
            raise _unauthorized(str(exc)) from None
    sess = ui_session(request)
    if sess is None:
        raise _unauthorized("authentication required: send 'Authorization: Bearer <API token>' "
                            "or sign in at /signin", presented=False)
    try:
        return session_principal(state.db.token_row(sess.token_id), sess), sess
    except AuthError as exc:
        raise _unauthorized(f"session ended: {exc}", presented=False) from None


def forbidden_unless_admin(principal: Principal) -> None:
    if not principal.is_admin:
        raise HTTPException(403, detail=f"admin role required (token {principal.name!r} is a reader)")


async def current_principal(request: Request) -> Principal:
    """The authenticated caller, or 401. Cached on the request."""
    cached = getattr(request.state, "principal", None)
    if isinstance(cached, Principal):
        return cached
    principal, sess = identify(request)
    if sess is not None and request.method in UNSAFE_METHODS:
        await _check_csrf(request, sess)
    request.state.principal = principal
    return principal


def session_principal(row: TokenRow | None, sess: UISession) -> Principal:
    """Re-check the session's token on every request so a revocation ends it at once."""
    if row is None:
        raise AuthError("the API token of this session no longer exists")
    if row[3] is not None:
        raise AuthError("the API token of this session has been revoked")
    return Principal(token_id=sess.token_id, name=row[0], role=row[1], via="cookie")


async def require_reader(principal: Principal = Depends(current_principal)) -> Principal:
    """Any valid token: reader or admin."""
    return principal


async def require_admin(principal: Principal = Depends(current_principal)) -> Principal:
    """An admin token; readers get 403."""
    forbidden_unless_admin(principal)
    return principal


def get_reader(request: Request) -> Iterator[Store]:
    """A read cursor on the store for one request (FastAPI dependency)."""
    with service_state(request).db.reader() as store:
        yield store
