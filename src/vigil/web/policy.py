"""The policy page: loaded conditional-access policies, a what-if form, the history replay impact."""
from __future__ import annotations

import inspect
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from vigil.api.auth import require_reader, service_state
from vigil.api.tokens import Principal
from vigil.errors import VigilError
from vigil.web.render import page

router = APIRouter()

PLATFORMS = ("", "windows", "macOS", "iOS", "android", "linux", "windowsPhone")
CLIENT_APPS = ("browser", "mobileAppsAndDesktopClients", "exchangeActiveSync", "other")
RISKS = ("none", "low", "medium", "high")
#: replay outcome -> column heading
PROMPT_LABELS = {"mfa": "MFA prompt", "password_change": "password change", "risk_remediation": "risk remediation",
                 "blocked": "blocked"}
#: what-if form fields (all optional; an empty field is "not supplied", as in Entra's What If tool)
TEXT_FIELDS = ("user_principal_name", "user_id", "application_id", "application_name", "ip", "country")


async def _point(request: Request) -> tuple[Any, str | None]:
    from fastapi import HTTPException

    from vigil.api.policy import decision_point

    try:
        point = decision_point(request)
        return (await point if inspect.isawaitable(point) else point), None
    except HTTPException as exc:
        return None, str(exc.detail)


def _policies(point: Any) -> list[dict[str, Any]]:
    if point is None:
        return []
    out = []
    for p in point.policies.policies:
        grant = p.grant_controls
        out.append({"id": p.id, "name": p.display_name, "state": p.state, "source": p.source,
                    "grant": (f" {grant.operator} ".join(grant.control_names()) if grant else ""),
                    "session": ", ".join(sorted(k for k, v in (p.raw.get("sessionControls") or {}).items() if v)),
                    "conditions": ", ".join(sorted(k for k, v in (p.raw.get("conditions") or {}).items() if v))})
    return out


def _form_context(form: dict[str, str]) -> dict[str, Any]:
    data: dict[str, Any] = {k: form[k].strip() for k in TEXT_FIELDS if form.get(k, "").strip()}
    if data.get("country"):
        data["country"] = data["country"].upper()
    for key in ("platform", "client_app_type"):
        if form.get(key):
            data[key] = form[key]
    for key in ("sign_in_risk", "user_risk"):  # "none" means not supplied, as in the What If tool
        if form.get(key) and form[key] != "none":
            data[key] = form[key]
    if form.get("mfa_satisfied") == "on":
        data["mfa_satisfied"] = True
    if form.get("device_compliant") in ("true", "false"):
        data["device"] = {"deviceId": "whatif-device", "isCompliant": form["device_compliant"] == "true"}
    return data


async def _render(request: Request, form: dict[str, str], result: dict[str, Any] | None, error: str | None,
                  status: int = 200, replay: dict[str, Any] | None = None,
                  replay_error: str | None = None) -> Response:
    point, config_error = await _point(request)
    return page(request, "policy.html", status_code=status, policies=_policies(point), config_error=config_error,
                form=form, result=result, error=error, platforms=PLATFORMS, client_apps=CLIENT_APPS, risks=RISKS,
                replay=replay, replay_error=replay_error, prompts=PROMPT_LABELS)


@router.get("/policy")
async def policy_page(request: Request, who: Principal = Depends(require_reader)) -> Response:
    return await _render(request, {"client_app_type": "browser", "sign_in_risk": "none", "user_risk": "none"},
                   None, None)


@router.post("/policy/whatif")
async def policy_whatif(request: Request, who: Principal = Depends(require_reader)) -> Response:
    from vigil.api.policy import WhatIfIn
    from vigil.policy.whatif import whatif

    raw = await request.form()
    form = {k: v for k, v in raw.items() if isinstance(v, str) and k != "csrf_token"}
    point, config_error = await _point(request)
    if point is None:
        return await _render(request, form, None, config_error, 503)
    try:
        body = WhatIfIn.model_validate(_form_context(form))
        result = whatif(point.policies, body.to_context(), supplied=set(body.model_fields_set))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        return await _render(request, form, None, f"{where}: {first['msg']}", 422)
    except VigilError as exc:
        return await _render(request, form, None, str(exc), 422)
    return await _render(request, form, result, None)


@router.post("/policy/replay")
async def policy_replay(request: Request, who: Principal = Depends(require_reader)) -> Response:
    """Replay every stored sign-in through the loaded policies (report-only counted as enforced:
    the replay judges a proposal) and show the impact per policy and in total."""
    from vigil.policy.replay import replay

    default = {"client_app_type": "browser", "sign_in_risk": "none", "user_risk": "none"}
    point, config_error = await _point(request)
    if point is None:
        return await _render(request, default, None, None, 503, replay_error=config_error)

    def run() -> dict[str, Any]:
        with service_state(request).db.reader() as store:
            return replay(store, point.policies).to_dict()

    try:
        report = await run_in_threadpool(run)  # seconds of DuckDB work: keep the event loop free
    except VigilError as exc:
        return await _render(request, default, None, None, 422, replay_error=str(exc))
    return await _render(request, default, None, None, replay=report)
