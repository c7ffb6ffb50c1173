"""The REST API of ``vigil serve`` (/api/v1 and SSF discovery); :func:`vigil.web.app.create_app`
adds the web UI on top of it."""
from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI

from vigil import __version__
from vigil.api import admin, backup, cae, connectors, errors, health, hunt, policy, v1, watchlists
from vigil.api.auth import require_reader
from vigil.api.gate import AuthGate
from vigil.api.middleware import BodyLimit, SecurityHeaders
from vigil.api.state import Database, ServiceState, SessionStore
from vigil.settings import Settings


API_PREFIX = "/api/v1"
UPLOAD_PATHS = (f"{API_PREFIX}/ingest",)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def create_api(settings: Settings, *, host: str | None = None) -> FastAPI:
    """Build the API for ``settings`` (the store is opened here and closed at shutdown)."""
    cfg = settings.service
    bound = host or cfg.host
    db = Database(settings)
    state = ServiceState(settings=settings, db=db, sessions=SessionStore(ttl_s=cfg.session_ttl_s),
                         secure_cookies=not is_loopback(bound), public_url=cfg.url(host=bound))

    cae_service, cae_unavailable = cae.open_service(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        policy.close(app)  # real-time detections still queued are written before the store closes
        if cae_service is not None:
            cae_service.close()
        db.close()

    # redirect_slashes off: Starlette builds that redirect's absolute URL from the Host header.
    app = FastAPI(title="vigil", version=__version__, lifespan=lifespan, openapi_url=None, docs_url=None,
                  redoc_url=None, redirect_slashes=False,
                  description="Identity threat detection and response: the analyst API. "
                  "Every route needs `Authorization: Bearer <API token>` (see `vigil token create`).")
    app.state.vigil = state
    app.state.cae, app.state.cae_unavailable = cae_service, cae_unavailable
    errors.install(app)
    health.install(app)

    @app.get(f"{API_PREFIX}/openapi.json", include_in_schema=False, dependencies=[Depends(require_reader)])
    def openapi() -> dict[str, Any]:
        return app.openapi()

    app.include_router(v1.router, prefix=API_PREFIX, tags=["read"])
    app.include_router(health.router, prefix=API_PREFIX, tags=["read"])
    app.include_router(admin.router, prefix=API_PREFIX, tags=["admin"])
    app.include_router(backup.router, prefix=API_PREFIX, tags=["admin"])
    app.include_router(hunt.router, prefix=API_PREFIX, tags=["hunting"])
    app.include_router(watchlists.router, prefix=API_PREFIX, tags=["hunting"])
    app.include_router(policy.router, prefix=API_PREFIX, tags=["policy"])
    app.include_router(cae.router, prefix=API_PREFIX, tags=["cae"])
    app.include_router(cae.wellknown_router, tags=["cae"])  # SSF discovery: its spec puts it at /.well-known/
    app.include_router(connectors.router, prefix=API_PREFIX, tags=["read"])
    # The last added runs first: headers wrap everything (401, 413 and 500 answers included), then
    # the caller is authenticated before a byte of a body is read, then the body is size-limited.
    app.add_middleware(BodyLimit, max_bytes=cfg.max_body_bytes, max_upload_bytes=cfg.max_upload_bytes,
                       upload_paths=UPLOAD_PATHS)
    app.add_middleware(AuthGate, routes=lambda: app.routes)
    app.add_middleware(SecurityHeaders, hsts=False)
    return app

