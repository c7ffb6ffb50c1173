"""Endpoints that change state; every one needs an admin token.

Tokens, incident status and comments, user-risk actions, and file ingest by upload.
"""
from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from pydantic import BaseModel, ConfigDict, Field

from vigil.api import incidents as inc
from vigil.api import operations as ops
from vigil.api import tokens
from vigil.api.auth import require_admin, service_state
from vigil.api.policy import refresh_risk
from vigil.api.state import ServiceState
from vigil.api.tokens import Principal
from vigil.errors import InputError

router = APIRouter()

Admin = Depends(require_admin)
State = Depends(service_state)


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NewToken(_Body):
    name: str = Field(min_length=1, max_length=64)
    role: Literal["reader", "admin"]


class IncidentUpdate(_Body):
    status: Literal["new", "active", "closed"]
    classification: str | None = Field(None, max_length=64)


class Comment(_Body):
    text: str = Field(min_length=1, max_length=10_000)


class RiskAction(_Body):
    userIds: list[str] = Field(min_length=1, max_length=1000)
    reason: str | None = Field(None, max_length=1000)


class IdentityLink(_Body):
    first: str = Field(min_length=1, max_length=256, description="any name, account id or identity id")
    second: str = Field(min_length=1, max_length=256, description="any name, account id or identity id")
    reason: str | None = Field(None, max_length=1000)


@router.post("/identities/{action}", summary="Link two accounts as one person, or reject their link; recorded "
             "in identity_link_actions with who and when")
def identity_link(action: Literal["link", "unlink"], body: IdentityLink, who: Principal = Admin,
                  state: ServiceState = State) -> dict[str, Any]:
    with state.db.writer() as store:
        return ops.identity_link(store, action, body.first, body.second, who.name, body.reason)


@router.get("/tokens", summary="API tokens (never the tokens themselves)")
def list_tokens(who: Principal = Admin, state: ServiceState = State) -> list[dict[str, Any]]:
    with state.db.reader() as store:
        return tokens.list_tokens(store.con)


@router.post("/tokens", status_code=201, summary="Create an API token; the token is in this answer only")
def create_token(body: NewToken, who: Principal = Admin, state: ServiceState = State) -> dict[str, Any]:
    with state.db.writer() as store:
        info, token = tokens.create_token(store.con, body.name, body.role, created_by=who.name)
    return {**info, "token": token}


@router.delete("/tokens/{ident}", summary="Revoke a token (by id or unique name); its sessions end")
def revoke_token(ident: str, who: Principal = Admin, state: ServiceState = State) -> dict[str, Any]:
    with state.db.writer() as store:
        return tokens.revoke_token(store.con, ident)


@router.patch("/incidents/{incident_id}", summary="Change an incident's status")
def update_incident(incident_id: str, body: IncidentUpdate, who: Principal = Admin,
                    state: ServiceState = State) -> dict[str, Any]:
    with state.db.writer() as store:
        inc.get_incident(store, incident_id)  # 404 before the owner is asked
        ops.set_incident_status(store, incident_id, body.status, body.classification, who.name)
    with state.db.reader() as store:
        return inc.get_incident(store, incident_id)


@router.post("/incidents/{incident_id}/comments", status_code=201, summary="Comment on an incident")
def comment_incident(incident_id: str, body: Comment, who: Principal = Admin,
                     state: ServiceState = State) -> dict[str, Any]:
    with state.db.writer() as store:
        inc.get_incident(store, incident_id)
        ops.add_incident_comment(store, incident_id, body.text, who.name)
    with state.db.reader() as store:
        return inc.get_incident(store, incident_id)


@router.post("/riskyUsers/{action}", summary="Dismiss, confirm compromised or confirm safe (Graph riskyUsers "
             "actions); recorded in riskActions with who and when")
def risk_action(action: Literal["dismiss", "confirmCompromised", "confirmSafe"], body: RiskAction,
                who: Principal = Admin, state: ServiceState = State) -> dict[str, Any]:
    with state.db.writer() as store:
        return ops.risk_action(store, action, body.userIds, who.name, body.reason, state.settings)


_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


@router.post("/ingest", summary="Ingest uploaded log files (multipart), optionally re-run the analysis")
def ingest(request: Request, files: list[UploadFile] = File(..., description="log files in any supported format"),
           analyze: bool = Query(False, description="run `vigil analyze` stages after ingesting"),
           who: Principal = Admin, state: ServiceState = State) -> dict[str, Any]:
    if len(files) > 100:
        raise InputError("at most 100 files per upload")
    with tempfile.TemporaryDirectory(prefix="vigil-upload-") as tmp:
        paths = []
        for i, f in enumerate(files):
            # Keep the client's base name (adapters may sniff by extension) but never its path.
            base = _SAFE_NAME.sub("_", Path(f.filename or f"upload-{i}").name).lstrip(".") or f"upload-{i}"
            dest = Path(tmp) / f"{i:03d}-{base}"
            with dest.open("wb") as out:
                while chunk := f.file.read(1024 * 1024):
                    out.write(chunk)
            paths.append(dest)
        with state.db.writer() as store:
            results = ops.ingest(store, paths, state.settings)
            failed = [r for r in results if r.get("error")]
            if failed and len(failed) == len(results):
                # nothing could be read: an error, never an empty success
                names = {str(p): f.filename for p, f in zip(paths, files, strict=True)}
                raise InputError("; ".join(f"{names.get(r['path'], r['path'])}: {r['error']}" for r in failed))
            stages = ops.analyze(store, state.settings, request.app.state.cae) if analyze else None
            if analyze:
                refresh_risk(request.app, store)
    for r, f in zip(results, files, strict=True):
        r["path"] = f.filename  # the client's name, not our temporary copy
    return {"files": results, "errors": len(failed), "analyze": stages, "by": who.name}
