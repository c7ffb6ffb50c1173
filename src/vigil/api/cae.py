"""The CAE / SSF HTTP surface: ``router`` (mounted under ``/api/v1`` by ``vigil serve``) and
``wellknown_router`` (mounted at the root: SSF discovery lives at ``/.well-known/ssf-configuration``).

Management endpoints take vigil API tokens (``require_admin`` / ``require_reader``). The SSF
delivery endpoints take per-stream bearer tokens, as SSF specifies: a receiver polls with the
token it got when its poll stream was created; a transmitter pushes to us with the token it
got when we registered it.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response

from vigil.api.auth import require_admin, require_reader
from vigil.api.tokens import Principal
from vigil.cae.challenge import body_text, challenge
from vigil.cae.events import event_from_json
from vigil.cae.service import CaeService
from vigil.cae.sets import SetInvalid
from vigil.cae.transmitter import DELIVERY_METHODS
from vigil.errors import ConfigError, InputError
from vigil.settings import Settings

log = logging.getLogger("vigil.cae")


@asynccontextmanager
async def _lifespan(app: Any) -> AsyncIterator[None]:
    """Start pushing SETs when the service starts (FastAPI merges an included router's lifespan),
    so SETs queued by the CLI or the stage go out without waiting for a first CAE request."""
    svc: CaeService | None = getattr(app.state, "cae", None)
    if svc is not None:
        svc.deliverer.start()
    yield
    if svc is not None:
        svc.deliverer.stop()


router = APIRouter(lifespan=_lifespan)
wellknown_router = APIRouter()
Admin = Depends(require_admin)
Reader = Depends(require_reader)
MAX_EVENTS_PER_POST = 10_000


def open_service(settings: Settings) -> tuple[CaeService | None, str | None]:
    """The application's CAE service, or why there is none (its endpoints then answer with it)."""
    try:
        return CaeService(settings), None
    except ConfigError as exc:
        log.warning("CAE is not available: %s (its endpoints will answer with this error)", exc)
        return None, str(exc)


def cae_service(request: Request) -> CaeService:
    """The application's CAE service (``app.state.cae``, shared with its CAEMiddleware and stage)."""
    svc: CaeService | None = getattr(request.app.state, "cae", None)
    if svc is None:
        raise ConfigError(getattr(request.app.state, "cae_unavailable", None) or "CAE is not available")
    # From settings on every request, never from the request (its Host header is the caller's to choose).
    svc.transmitter.base_url = request.app.state.vigil.api_url
    svc.deliverer.start()
    return svc


Svc = Depends(cae_service)


async def _json(request: Request) -> Any:
    try:
        return orjson.loads(await request.body())
    except orjson.JSONDecodeError as exc:
        raise InputError(f"body: not valid JSON ({exc})") from None


def _bad(exc: InputError) -> HTTPException:
    return HTTPException(400, detail=str(exc))


# -- SSF discovery and keys ----------------------------------------------------------------------
@wellknown_router.get("/.well-known/ssf-configuration")
def ssf_configuration(request: Request, svc: CaeService = Svc) -> dict[str, Any]:
    base = svc.transmitter.base_url
    return {
        "spec_version": "1_0",
        "issuer": svc.settings.cae.issuer,
        "jwks_uri": f"{base}/ssf/jwks.json",
        "delivery_methods_supported": list(DELIVERY_METHODS),
        "configuration_endpoint": f"{base}/ssf/streams",
        "status_endpoint": f"{base}/ssf/status",
        "verification_endpoint": f"{base}/ssf/verify",
        "authorization_schemes": [{"spec_urn": "urn:ietf:rfc:6750"}],
    }


@router.get("/ssf/jwks.json", name="ssf_jwks")
def jwks(svc: CaeService = Svc) -> JSONResponse:
    return JSONResponse(svc.jwks(), media_type="application/jwk-set+json")


# -- stream management (SSF 1.0 §8) --------------------------------------------------------------
@router.post("/ssf/streams", status_code=201)
async def create_stream(request: Request, who: Principal = Admin, svc: CaeService = Svc) -> dict[str, Any]:
    try:
        return svc.transmitter.create_stream(await _json(request))
    except InputError as exc:
        raise _bad(exc) from None


@router.get("/ssf/streams", response_model=None)
def read_streams(stream_id: str | None = Query(None, max_length=64), who: Principal = Reader,
                 svc: CaeService = Svc) -> dict[str, Any] | list[dict[str, Any]]:
    if stream_id is None:
        return svc.transmitter.list_streams()
    config = svc.transmitter.get_stream(stream_id)
    if config is None:
        raise HTTPException(404, detail=f"stream_id {stream_id!r}: no such stream")
    return config


@router.delete("/ssf/streams", status_code=204)
def delete_stream(stream_id: str = Query(..., max_length=64), who: Principal = Admin,
                  svc: CaeService = Svc) -> Response:
    if not svc.transmitter.delete_stream(stream_id):
        raise HTTPException(404, detail=f"stream_id {stream_id!r}: no such stream")
    return Response(status_code=204)


@router.get("/ssf/status")
def stream_status(stream_id: str = Query(..., max_length=64), who: Principal = Reader,
                  svc: CaeService = Svc) -> dict[str, Any]:
    config = svc.transmitter.get_stream(stream_id)
    if config is None:
        raise HTTPException(404, detail=f"stream_id {stream_id!r}: no such stream")
    return {"stream_id": stream_id, "status": config["status"]}


@router.post("/ssf/verify", status_code=204)
async def verify(request: Request, who: Principal = Admin, svc: CaeService = Svc) -> Response:
    body = await _json(request)
    if not isinstance(body, dict) or not isinstance(body.get("stream_id"), str):
        raise HTTPException(400, detail="body.stream_id: required")
    try:
        svc.transmitter.verify(body["stream_id"], body.get("state") if isinstance(body.get("state"), str) else None)
    except InputError as exc:
        raise HTTPException(404, detail=str(exc)) from None
    return Response(status_code=204)


# -- poll delivery (RFC 8936) --------------------------------------------------------------------
@router.post("/ssf/poll/{stream_id}")
async def poll(stream_id: str, request: Request, svc: CaeService = Svc) -> JSONResponse:
    if not svc.transmitter.check_poll_token(stream_id, request.headers.get("authorization")):
        return JSONResponse({"err": "authentication_failed", "description": "missing or wrong stream bearer token"},
                            status_code=401, headers={"WWW-Authenticate": challenge("Bearer", realm="ssf")})
    body = await _json(request) if await request.body() else {}
    try:
        wait = not bool(body.get("returnImmediately", False)) if isinstance(body, dict) else False
        deadline = time.monotonic() + svc.settings.cae.poll_max_wait_s
        # long poll: hold the request until a SET is queued or the wait is over
        while wait and body.get("maxEvents", 1) and not svc.transmitter.has_pollable(stream_id) \
                and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        return JSONResponse(svc.transmitter.poll(stream_id, body))
    except InputError as exc:
        return JSONResponse({"err": "invalid_request", "description": str(exc)}, status_code=400)


# -- push receipt (RFC 8935) ---------------------------------------------------------------------
@router.post("/ssf/receive/{transmitter_id}")
async def receive(transmitter_id: str, request: Request, svc: CaeService = Svc) -> Response:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        # the transmitter's bearer token is checked first, before a byte of the body is read
        tr = svc.receiver.authenticate(transmitter_id, request.headers.get("authorization"))
        if ctype != "application/secevent+jwt":
            raise SetInvalid("invalid_request", f"Content-Type must be application/secevent+jwt, not {ctype!r}")
        got = svc.receiver.accept(tr, (await request.body()).decode("ascii", "replace"))
    except SetInvalid as exc:
        status = 401 if exc.err == "authentication_failed" else 403 if exc.err == "access_denied" else 400
        return JSONResponse({"err": exc.err, "description": body_text(exc.description)}, status_code=status,
                            headers={"WWW-Authenticate": challenge("Bearer", realm="ssf")} if status == 401 else None)
    return Response(status_code=202, headers={"X-Vigil-Applied": str(got.applied)})


# -- transmitters we receive from ----------------------------------------------------------------
@router.post("/ssf/transmitters", status_code=201)
async def register_transmitter(request: Request, who: Principal = Admin, svc: CaeService = Svc) -> dict[str, Any]:
    body = await _json(request)
    if not isinstance(body, dict):
        raise HTTPException(400, detail="body: expected a JSON object")
    try:
        reg = svc.receiver.register(issuer=body.get("issuer"), jwks=body.get("jwks"), audience=body.get("audience"),
                                    poll_url=body.get("poll_url"), poll_token=body.get("poll_token"))
    except InputError as exc:
        raise _bad(exc) from None
    reg["push_endpoint_url"] = f"{svc.transmitter.base_url}{reg['push_endpoint_path']}"
    return reg


@router.get("/ssf/transmitters")
def list_transmitters(who: Principal = Reader, svc: CaeService = Svc) -> list[dict[str, Any]]:
    return svc.receiver.transmitters()


@router.delete("/ssf/transmitters/{transmitter_id}", status_code=204)
def remove_transmitter(transmitter_id: str, who: Principal = Admin, svc: CaeService = Svc) -> Response:
    if not svc.receiver.remove(transmitter_id):
        raise HTTPException(404, detail=f"transmitter {transmitter_id!r}: not registered")
    return Response(status_code=204)


# -- critical events and revocation state --------------------------------------------------------
@router.post("/cae/events")
async def post_events(request: Request, who: Principal = Admin, svc: CaeService = Svc) -> dict[str, Any]:
    """One critical event object, or ``{"events": [...]}`` (at most 10,000)."""
    body = await _json(request)
    items = body["events"] if isinstance(body, dict) and "events" in body else [body]
    if not isinstance(items, list) or len(items) > MAX_EVENTS_PER_POST:
        raise HTTPException(400, detail=f"body.events: expected an array of at most {MAX_EVENTS_PER_POST} events")
    try:
        events = [event_from_json(e, source="api", where=f"body.events[{i}]" if len(items) > 1 else "body")
                  for i, e in enumerate(items)]
    except InputError as exc:
        raise _bad(exc) from None
    new, queued = svc.record_and_emit(events)
    return {"received": len(events), "recorded": len(new), "duplicates": len(events) - len(new),
            "sets_queued": queued, "recorded_by": who.name}


@router.post("/cae/revoke")
async def revoke(request: Request, who: Principal = Admin, svc: CaeService = Svc) -> dict[str, Any]:
    body = await _json(request)
    if not isinstance(body, dict):
        raise HTTPException(400, detail="body: expected a JSON object")
    body = {"event_type": "admin_revoke", **body}
    body.setdefault("reason", f"revoked by {who.name} through the vigil API")
    try:
        ev = event_from_json(body, source="api")
    except InputError as exc:
        raise _bad(exc) from None
    new = svc.record([ev])
    return {"recorded": len(new), "revocation": ev.as_dict()}


@router.get("/cae/status")
def status(who: Principal = Reader, svc: CaeService = Svc) -> dict[str, Any]:
    return svc.status()


@router.get("/cae/revocations")
def revocations(subject: str | None = Query(None, max_length=256), limit: int = Query(100, ge=1, le=10_000),
                who: Principal = Reader, svc: CaeService = Svc) -> list[dict[str, Any]]:
    return svc.journal.revocation_rows(limit=limit, subject=subject)

