"""The ASGI application of ``vigil serve``: /api/v1, the web UI at /, static assets."""
from __future__ import annotations

import importlib
import ipaddress
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles

from vigil import __version__
from vigil.api import admin, errors, hunt, v1
from vigil.api.auth import require_reader
from vigil.api.middleware import BodyLimit, SecurityHeaders
from vigil.api.state import Database, ServiceState, SessionStore
from vigil.settings import Settings

log = logging.getLogger("vigil.api")

API_PREFIX = "/api/v1"
UPLOAD_PATHS = (f"{API_PREFIX}/ingest",)
#: routers other areas own; each uses vigil.api.auth's dependencies
AREA_ROUTERS = (("policy", "vigil.policy.api"), ("cae", "vigil.cae.api"))


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def create_app(settings: Settings, *, host: str | None = None) -> FastAPI:
    """Build the service for ``settings`` (the store is opened here and closed at shutdown)."""
    cfg = settings.service
    bound = host or cfg.host
    db = Database(settings)
    state = ServiceState(settings=settings, db=db, sessions=SessionStore(ttl_s=cfg.session_ttl_s),
                         secure_cookies=not is_loopback(bound))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        db.close()

    app = FastAPI(title="vigil", version=__version__, lifespan=lifespan, openapi_url=None, docs_url=None,
                  redoc_url=None, description="Identity threat detection and response: the analyst API. "
                  "Every route needs `Authorization: Bearer <API token>` (see `vigil token create`).")
    app.state.vigil = state
    errors.install(app)

    @app.get(f"{API_PREFIX}/openapi.json", include_in_schema=False, dependencies=[Depends(require_reader)])
    def openapi() -> dict[str, Any]:
        return app.openapi()

    app.include_router(v1.router, prefix=API_PREFIX, tags=["read"])
    app.include_router(admin.router, prefix=API_PREFIX, tags=["admin"])
    app.include_router(hunt.router, prefix=API_PREFIX, tags=["hunting"])
    for area, module_name in AREA_ROUTERS:
        state.mounted.append(_mount_area(app, area, module_name))

    from vigil.web import STATIC_DIR
    from vigil.web import policy as web_policy
    from vigil.web import routes as web_routes

    app.include_router(web_routes.router, include_in_schema=False)
    app.include_router(web_policy.router, include_in_schema=False)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    # Outermost first at run time: headers wrap everything, including 413 answers.
    app.add_middleware(BodyLimit, max_bytes=cfg.max_body_bytes, max_upload_bytes=cfg.max_upload_bytes,
                       upload_paths=UPLOAD_PATHS)
    app.add_middleware(SecurityHeaders, hsts=False)
    return app


def _mount_area(app: FastAPI, area: str, module_name: str) -> str:
    """Mount an area's router; a missing or broken area stops start-up (never a silent 404)."""
    module = importlib.import_module(module_name)
    app.include_router(module.router, prefix=API_PREFIX, tags=[area])
    log.info("mounted %s router %s.router under %s", area, module_name, API_PREFIX)
    wellknown = getattr(module, "wellknown_router", None)
    if wellknown is not None:  # e.g. SSF discovery, which its spec puts at /.well-known/
        app.include_router(wellknown, tags=[area])
        log.info("mounted %s router %s.wellknown_router at /", area, module_name)
    return area
