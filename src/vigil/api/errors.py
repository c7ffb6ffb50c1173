"""vigil's error tree mapped to HTTP statuses; every error body is ``{"detail": ...}`` JSON."""
from __future__ import annotations

import logging
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from vigil.api.data import NotAnalyzed, NotFound
from vigil.errors import (
    AuthError,
    ConfigError,
    InputError,
    QueryError,
    StoreError,
    UnknownFormatError,
    VigilError,
)

log = logging.getLogger("vigil.api")

STATUS: tuple[tuple[type[VigilError], int], ...] = (
    (NotFound, 404),
    (NotAnalyzed, 409),
    (AuthError, 401),
    (UnknownFormatError, 415),
    (InputError, 422),
    (ConfigError, 422),
    (QueryError, 400),
    (StoreError, 503),
)


def status_of(exc: VigilError) -> int:
    for cls, status in STATUS:
        if isinstance(exc, cls):
            return status
    return 500


def _where(loc: tuple[int | str, ...]) -> str:
    if not loc:
        return "request"
    kind, rest = str(loc[0]), ".".join(str(p) for p in loc[1:])
    names = {"query": "query parameter", "path": "path parameter", "body": "body field",
             "header": "header", "cookie": "cookie"}
    if kind in names:
        return f"{names[kind]} {rest!r}" if rest else kind
    return ".".join(str(p) for p in loc)


def install(app: FastAPI) -> None:
    @app.exception_handler(VigilError)
    async def vigil_error(request: Request, exc: VigilError) -> JSONResponse:
        status = status_of(exc)
        if status >= 500:
            log.error("%s %s failed: %s", request.method, request.url.path, exc)
        return JSONResponse({"detail": str(exc)}, status_code=status)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"where": _where(tuple(e.get("loc", ()))), "message": e.get("msg", "invalid")}
                  for e in exc.errors()]
        summary = "; ".join(f"{e['where']}: {e['message']}" for e in errors[:5])
        return JSONResponse({"detail": f"invalid request: {summary}", "errors": errors}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 401 and request.method == "GET" and is_page(request.url.path):
            # A browser opening a page without a session goes to the sign-in form.
            return RedirectResponse(f"/signin?next={quote(request.url.path, safe='/')}", status_code=303)
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))


def is_page(path: str) -> bool:
    return not path.startswith(("/api/", "/static/", "/openapi.json", "/docs", "/redoc"))
