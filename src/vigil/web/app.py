"""The ASGI application of ``vigil serve``: the REST API (/api/v1) with the web UI (/) and its assets."""
from __future__ import annotations

import inspect
from collections.abc import Awaitable

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles

from vigil.api.app import create_api
from vigil.settings import Settings
from vigil.web import STATIC_DIR, connectors, policy, routes, watchlists


def create_app(settings: Settings, *, host: str | None = None) -> FastAPI:
    """The API of :func:`vigil.api.app.create_api` plus the web pages (its middleware wraps them too)."""
    app = create_api(settings, host=host)
    app.include_router(routes.router, include_in_schema=False)
    app.include_router(policy.router, include_in_schema=False)
    app.include_router(connectors.router, include_in_schema=False)
    app.include_router(watchlists.router, include_in_schema=False)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    _error_pages(app)
    return app


async def _answer(result: Response | Awaitable[Response]) -> Response:
    return await result if inspect.isawaitable(result) else result


def _error_pages(app: FastAPI) -> None:
    """A page that fails (a missing incident or user, a bad parameter) answers with a page saying so, in
    the UI's frame and with the same status; the API keeps its JSON errors."""
    from starlette.exceptions import HTTPException as StarletteHTTPException

    from vigil.api.errors import is_page, status_of
    from vigil.errors import VigilError
    from vigil.web.render import page

    api_vigil, api_http = app.exception_handlers[VigilError], app.exception_handlers[StarletteHTTPException]

    async def vigil_error(request: Request, exc: Exception) -> Response:
        if not is_page(request.url.path) or not isinstance(exc, VigilError):
            return await _answer(api_vigil(request, exc))
        return page(request, "error.html", status_code=status_of(exc), message=str(exc))

    async def http_error(request: Request, exc: Exception) -> Response:
        code = getattr(exc, "status_code", 500)
        if not is_page(request.url.path) or code in (401, 405) or not isinstance(exc, StarletteHTTPException):
            return await _answer(api_http(request, exc))
        detail = exc.detail if isinstance(exc.detail, str) else "this page could not be shown"
        return page(request, "error.html", status_code=code,
                    message="no such page" if code == 404 and detail == "Not Found" else detail)

    app.add_exception_handler(VigilError, vigil_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
