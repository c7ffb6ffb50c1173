"""The ASGI application of ``vigil serve``: the REST API (/api/v1) with the web UI (/) and its assets."""
from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from vigil.api.app import create_api
from vigil.settings import Settings
from vigil.web import STATIC_DIR, connectors, policy, routes


def create_app(settings: Settings, *, host: str | None = None) -> FastAPI:
    """The API of :func:`vigil.api.app.create_api` plus the web pages (its middleware wraps them too)."""
    app = create_api(settings, host=host)
    app.include_router(routes.router, include_in_schema=False)
    app.include_router(policy.router, include_in_schema=False)
    app.include_router(connectors.router, include_in_schema=False)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app
