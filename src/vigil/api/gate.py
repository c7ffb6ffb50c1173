"""Authentication before the body.

FastAPI reads and parses a request's body (python-multipart spools uploads over 1 MiB to
temporary files) before it runs the route's dependencies, so ``require_admin`` alone would
refuse an anonymous 200 MiB upload only after it is on disk. :class:`AuthGate` runs before all
of that: for every request that carries a body it finds the route, reads the role the route's
own dependencies require (``require_admin`` / ``require_reader``), authenticates the caller from
the headers and cookies alone (:func:`vigil.api.auth.identify`) and answers 401 / 403 without
reading a byte. The route's dependencies still run afterwards (CSRF included): the gate only
adds an earlier refusal, it never lets anything through that they would refuse.

Routes without a vigil-token dependency (sign-in, SSF delivery, which checks its own stream
token before reading the body) pass through; their bodies are bounded by ``BodyLimit``.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import orjson
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import HTTPException
from starlette.requests import Request
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Receive, Scope, Send

from vigil.api.auth import current_principal, forbidden_unless_admin, identify, require_admin, require_reader

ADMIN, READER, PUBLIC = "admin", "reader", "public"


def _calls(dependant: Dependant | None) -> Iterator[Any]:
    if dependant is None:
        return
    for sub in dependant.dependencies:
        yield sub.call
        yield from _calls(sub)


def role_of(dependant: Dependant | None) -> str:
    """The role a route's dependency tree requires."""
    calls = set(_calls(dependant))
    if require_admin in calls:
        return ADMIN
    if calls & {require_reader, current_principal}:
        return READER
    return PUBLIC


def flat_routes(routes: Sequence[BaseRoute]) -> list[Any]:
    """Every matchable route, included routers expanded (FastAPI keeps them nested)."""
    out: list[Any] = []
    for route in routes:
        contexts = getattr(route, "effective_route_contexts", None)
        out.extend(contexts() if contexts is not None else [route])
    return out


def _has_body(scope: Scope) -> bool:
    for k, v in scope.get("headers", ()):
        if k == b"transfer-encoding" or k == b"content-length" and v.strip() not in (b"", b"0"):
            return True
    return False


class AuthGate:
    """Pure-ASGI: refuse unauthenticated / under-privileged body-carrying requests up front."""

    def __init__(self, app: ASGIApp, *, routes: Callable[[], Sequence[BaseRoute]]) -> None:
        self.app = app
        self._routes = routes
        self._table: list[tuple[Any, str]] | None = None

    def table(self) -> list[tuple[Any, str]]:
        """(route, role) for every route; built on first use, when every router is included."""
        if self._table is None:
            self._table = [(r, role_of(getattr(r, "dependant", None))) for r in flat_routes(self._routes())]
        return self._table

    def role(self, scope: Scope) -> str:
        for route, role in self.table():
            match, _ = route.matches(scope)
            if match == Match.FULL:
                return role
        return PUBLIC  # no such route or method: the router answers 404 / 405 without reading

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _has_body(scope):
            await self.app(scope, receive, send)
            return
        role = self.role(scope)
        if role != PUBLIC:
            try:
                request = Request(scope)
                principal, sess = identify(request)  # headers and cookies only: no receive
                if sess is None:
                    # a bearer caller is not identified twice: current_principal reads it from the
                    # request's state (scope["state"]); a cookie session still gets its CSRF check there
                    request.state.principal = principal
                if role == ADMIN:
                    forbidden_unless_admin(principal)
            except HTTPException as exc:
                await _refuse(send, exc)
                return
        await self.app(scope, receive, send)


async def _refuse(send: Send, exc: HTTPException) -> None:
    body = orjson.dumps({"detail": exc.detail})
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
               (b"connection", b"close")]
    headers += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (exc.headers or {}).items()]
    await send({"type": "http.response.start", "status": exc.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": body})
