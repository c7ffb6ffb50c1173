"""A demo deployment: a resource API protected by :class:`CAEMiddleware` next to vigil's CAE /
SSF endpoints, in one ASGI app -- what ``vigil cae demo`` serves, and what the end-to-end test
and ``bench/cae_latency.py`` run under a real uvicorn.

Layout (same prefixes as ``vigil serve``)::

    /.well-known/ssf-configuration     SSF discovery
    /api/v1/ssf/... /api/v1/cae/...    vigil.api.cae.router (vigil API tokens / stream tokens)
    /resource/hello, /resource/mail    the protected resource (access tokens from `vigil cae token`)
"""
from __future__ import annotations

import socket
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from vigil.api import errors
from vigil.api.state import Database, ServiceState, SessionStore
from vigil.api.cae import router, wellknown_router
from vigil.cae.middleware import CAEMiddleware
from vigil.cae.service import CaeService
from vigil.settings import Settings

API_PREFIX = "/api/v1"


async def _hello(request: Request) -> JSONResponse:
    claims = request.scope["state"]["cae"]
    return JSONResponse({"hello": claims.get("upn") or claims.get("oid"), "sid": claims.get("sid"),
                         "cp1": "cp1" in [str(c).lower() for c in claims.get("xms_cc") or []]})


async def _mail(request: Request) -> JSONResponse:
    return JSONResponse({"messages": [{"subject": "Quarterly numbers", "from": "cfo@contoso.com"}]})


def resource_app() -> Starlette:
    return Starlette(routes=[Route("/hello", _hello), Route("/mail", _mail)])


def create_demo_app(settings: Settings, *, service: CaeService | None = None,
                    public_url: str | None = None) -> FastAPI:
    """The demo over ``service`` (else one opened here and closed at shutdown); the URLs it hands
    out start with ``public_url`` (default: ``settings.service.url()``)."""
    svc = service or CaeService(settings)
    db = Database(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield  # the CAE router's own lifespan starts and stops the SET push thread
        if service is None:
            svc.close()
        db.close()

    app = FastAPI(title="vigil CAE demo", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.vigil = ServiceState(settings=settings, db=db, sessions=SessionStore(), secure_cookies=False,
                                     public_url=public_url or settings.service.url())
    app.state.cae = svc
    errors.install(app)
    app.include_router(router, prefix=API_PREFIX)
    app.include_router(wellknown_router)
    app.mount("/resource", CAEMiddleware(resource_app(), **svc.middleware_options()))
    return app


class ServerThread:
    """uvicorn serving ``app`` on 127.0.0.1 (a free port) in a daemon thread."""

    def __init__(self, app: Any, *, host: str = "127.0.0.1", port: int = 0) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        self.sock = sock
        self.port = sock.getsockname()[1]
        self.url = f"http://{host}:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]}, daemon=True)

    def __enter__(self) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"uvicorn did not start on {self.url}")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()
