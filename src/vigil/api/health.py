"""Liveness, readiness and version.

``/healthz`` and ``/readyz`` are public (load balancers and systemd watchdogs carry no token),
so they say only "ok" or which named check failed: no paths, versions, counts or error text
(those go to the log). ``/api/v1/version`` needs a reader token.

Readiness checks are named callables kept on the service state; the store's is built in and
other parts (live connectors) add theirs with :func:`add_readiness_check`. A check returns
normally when ready and raises (anything) when not.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse

from vigil.api.auth import require_reader, service_state
from vigil.api.tokens import Principal
from vigil.store.schema import SCHEMA_VERSION
from vigil.version import version

log = logging.getLogger("vigil.api.health")

public_router = APIRouter()
router = APIRouter()

ReadinessCheck = Callable[[], object]


def readiness_checks(app: FastAPI) -> dict[str, ReadinessCheck]:
    checks: dict[str, ReadinessCheck] | None = getattr(app.state, "readiness_checks", None)
    if checks is None:
        checks = app.state.readiness_checks = {}
    return checks


def add_readiness_check(app: FastAPI, name: str, check: ReadinessCheck) -> None:
    """Make ``/readyz`` answer 503 while ``check()`` raises (e.g. a connector that lost its source)."""
    readiness_checks(app)[name] = check


def install(app: FastAPI) -> None:
    """Routes plus the store's readiness check."""
    state = app.state.vigil

    def store_ready() -> None:
        with state.db.reader() as store:
            if store.scalar("select value from vigil_meta where key = 'schema_version'") != str(SCHEMA_VERSION):
                raise RuntimeError("store schema version is not this vigil's")

    add_readiness_check(app, "store", store_ready)
    app.include_router(public_router, include_in_schema=False)


@public_router.get("/healthz")
def healthz() -> JSONResponse:
    """Liveness: the process answers HTTP."""
    return JSONResponse({"status": "ok"}, headers={"Cache-Control": "no-store"})


@public_router.get("/readyz")
def readyz(request: Request) -> JSONResponse:
    """Readiness: every check passes and the service is not shutting down."""
    results: dict[str, str] = {}
    if getattr(request.app.state, "draining", False):
        results["shutdown"] = "draining"
    for name, check in readiness_checks(request.app).items():
        try:
            check()
            results[name] = "ok"
        except Exception as exc:  # any failure is "not ready"; the reason goes to the log only
            log.warning("readiness check %s failed: %s", name, exc)
            results[name] = "failed"
    ready = all(v == "ok" for v in results.values())
    return JSONResponse({"status": "ready" if ready else "not ready", "checks": results},
                        status_code=200 if ready else 503, headers={"Cache-Control": "no-store"})


@router.get("/version", summary="vigil's version and the store's schema version")
def get_version(request: Request, who: Principal = Depends(require_reader)) -> dict[str, Any]:
    with service_state(request).db.reader() as store:
        schema = store.scalar("select value from vigil_meta where key = 'schema_version'")
    return {"version": version(), "schema_version": int(schema), "schema_version_supported": SCHEMA_VERSION}
