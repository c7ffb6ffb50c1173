"""HTTP decision point: ``POST /policy/decision`` and ``POST /policy/whatif``.

Mounted by ``vigil.api.app`` under ``/api/v1``; every route needs a reader token
(:func:`vigil.api.auth.require_reader`). The policy set is loaded once per application from
settings ``policy.*`` (or set ``app.state.vigil_policy`` to a :class:`DecisionPoint`), with
vigil's risk profiles read from the service's store; :func:`refresh_risk` folds in what an
analysis (or a micro-batch of it) changed, and :func:`close` drains the real-time detection
recorder at shutdown.
"""
from __future__ import annotations

import threading
from collections.abc import Collection
from pathlib import Path
from typing import Any, Literal, TypeVar

import orjson
from fastapi import APIRouter, Depends, HTTPException, Request, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from vigil.api.auth import require_reader
from vigil.errors import VigilError
from vigil.policy.context import SignInContext, normalize_method
from vigil.policy.decision import DecisionPoint
from vigil.policy.devicefilter import device_attributes
from vigil.policy.whatif import whatif
from vigil.risk.recorder import DetectionRecorder, write_detections
from vigil.store import Store

router = APIRouter()
_M = TypeVar("_M", bound=BaseModel)
_build_lock = threading.Lock()

Risk = Literal["none", "low", "medium", "high", "hidden"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DeviceIn(_Strict):
    """The device as Microsoft Entra knows it; omit it (or deviceId) for an unregistered device."""

    deviceId: str | None = Field(None, max_length=64)
    displayName: str | None = Field(None, max_length=256)
    isCompliant: bool | None = None
    isManaged: bool | None = None
    trustType: str | None = Field(None, max_length=64, description="AzureAD | ServerAD | Workplace (or log spellings)")
    operatingSystem: str | None = Field(None, max_length=64)
    operatingSystemVersion: str | None = Field(None, max_length=64)
    deviceOwnership: Literal["Personal", "Company"] | None = None
    enrollmentProfileName: str | None = Field(None, max_length=256)
    manufacturer: str | None = Field(None, max_length=256)
    model: str | None = Field(None, max_length=256)
    mdmAppId: str | None = Field(None, max_length=64)
    profileType: Literal["RegisteredDevice", "SecureVM", "Printer", "Shared", "IoT"] | None = None
    physicalIds: list[str] | None = Field(None, max_length=64)
    systemLabels: list[str] | None = Field(None, max_length=64)
    extensionAttributes: dict[str, str] | None = Field(None, description="extensionAttribute1..15 -> value")

    def attributes(self) -> dict[str, Any]:
        extra: dict[str, Any] = {k: v for k, v in self.model_dump(exclude_none=True).items() if k not in (
            "deviceId", "displayName", "isCompliant", "isManaged", "trustType", "operatingSystem",
            "extensionAttributes")}
        for key, value in (self.extensionAttributes or {}).items():
            if key not in {f"extensionAttribute{i}" for i in range(1, 16)}:
                raise ValueError(f"device.extensionAttributes: {key!r} is not extensionAttribute1..15")
            extra[key] = value
        return device_attributes(device_id=self.deviceId, display_name=self.displayName,
                                 is_compliant=self.isCompliant, is_managed=self.isManaged, trust_type=self.trustType,
                                 operating_system=self.operatingSystem, **extra)


class SignInContextIn(_Strict):
    """A sign-in to evaluate (names follow vigil.policy.context.SignInContext)."""

    user_id: str | None = Field(None, max_length=256)
    user_principal_name: str | None = Field(None, max_length=256)
    user_type: Literal["Member", "Guest"] = "Member"
    external_user_type: Literal["internalGuest", "b2bCollaborationGuest", "b2bCollaborationMember",
                                "b2bDirectConnectUser", "otherExternalUser", "serviceProvider"] | None = None
    external_tenant_id: str | None = Field(None, max_length=64)
    groups: list[str] = Field(default_factory=list, max_length=2048)
    roles: list[str] = Field(default_factory=list, max_length=256)
    service_principal_id: str | None = Field(None, max_length=64)
    application_id: str | None = Field(None, max_length=64)
    application_name: str | None = Field(None, max_length=256)
    user_action: Literal["urn:user:registersecurityinfo", "urn:user:registerdevice"] | None = None
    authentication_context: list[str] = Field(default_factory=list, max_length=99)
    ip: str | None = Field(None, max_length=64)
    resource_ip: str | None = Field(None, max_length=64, description="IP seen by the resource provider (CAE)")
    country: str | None = Field(None, pattern=r"^[A-Za-z]{2}$")
    gps_country: str | None = Field(None, pattern=r"^[A-Za-z]{2}$")
    platform: Literal["android", "iOS", "windows", "windowsPhone", "macOS", "linux"] | None = None
    client_app_type: Literal["browser", "mobileAppsAndDesktopClients", "exchangeActiveSync", "other"] = "browser"
    device: DeviceIn | None = None
    authentication_flow: Literal["none", "deviceCodeFlow", "authenticationTransfer"] = "none"
    sign_in_risk: Risk = "none"
    user_risk: Risk = "none"
    service_principal_risk: Literal["none", "low", "medium", "high"] = "none"
    insider_risk: Literal["minor", "moderate", "elevated"] | None = None
    mfa_satisfied: bool = False
    authentication_methods: list[str] = Field(default_factory=list, max_length=32)
    password_changed: bool = False
    risk_remediated: bool = False
    approved_client_app: bool = False
    app_protection_policy: bool = False
    terms_of_use_accepted: list[str] = Field(default_factory=list, max_length=64)
    custom_factors_satisfied: list[str] = Field(default_factory=list, max_length=64)
    # for vigil's real-time sign-in risk (never read by conditional access conditions)
    user_agent: str | None = Field(None, max_length=1024)
    session_id: str | None = Field(None, max_length=128, description="the session of the presented token (sid)")
    interactive: bool = True
    score: bool | None = Field(None, description="score the sign-in even when sign_in_risk is given "
                               "(default: only when it is not)")

    def to_context(self) -> SignInContext:
        """The evaluator's context; built directly (pydantic has validated every enumeration),
        only method names and the device need normalising."""
        try:
            device = self.device.attributes() if self.device is not None else {}
            methods = frozenset(normalize_method(m) for m in self.authentication_methods)
        except (VigilError, ValueError) as exc:
            raise HTTPException(422, detail=str(exc)) from None
        return SignInContext(
            user_id=self.user_id, user_principal_name=self.user_principal_name, user_type=self.user_type,
            external_user_type=self.external_user_type, external_tenant_id=self.external_tenant_id,
            groups=frozenset(self.groups), roles=frozenset(self.roles),
            service_principal_id=self.service_principal_id, application_id=self.application_id,
            application_name=self.application_name, user_action=self.user_action,
            authentication_context=frozenset(self.authentication_context), ip=self.ip, resource_ip=self.resource_ip,
            country=self.country.upper() if self.country else None,
            gps_country=self.gps_country.upper() if self.gps_country else None, platform=self.platform,
            client_app_type=self.client_app_type, device=device, authentication_flow=self.authentication_flow,
            sign_in_risk=self.sign_in_risk, user_risk=self.user_risk,
            service_principal_risk=self.service_principal_risk, insider_risk=self.insider_risk,
            mfa_satisfied=self.mfa_satisfied, authentication_methods=methods, password_changed=self.password_changed,
            risk_remediated=self.risk_remediated, approved_client_app=self.approved_client_app,
            app_protection_policy=self.app_protection_policy,
            terms_of_use_accepted=frozenset(self.terms_of_use_accepted),
            custom_factors_satisfied=frozenset(self.custom_factors_satisfied), user_agent=self.user_agent,
            session_id=self.session_id, interactive=self.interactive)


class WhatIfIn(SignInContextIn):
    applied_only: bool = Field(False, description="return only the policies that apply (appliedPoliciesOnly)")


async def decision_point(request: Request) -> DecisionPoint:
    """The application's decision point, built from settings on first use."""
    point = getattr(request.app.state, "vigil_policy", None)
    if isinstance(point, DecisionPoint):
        return point
    with _build_lock:
        point = getattr(request.app.state, "vigil_policy", None)
        if not isinstance(point, DecisionPoint):
            state = request.app.state.vigil
            try:
                if not (state.settings.policy.policies and state.settings.policy.realtime_risk):
                    point = DecisionPoint.from_settings(state.settings)  # says what is missing
                else:
                    with state.db.reader() as store:
                        point = DecisionPoint.from_settings(state.settings, store, _recorder(request.app))
            except VigilError as exc:
                raise HTTPException(503, detail=f"conditional access is not configured: {exc}") from None
            request.app.state.vigil_policy = point
    return point


def _recorder(app: Any) -> DetectionRecorder:
    """The service's recorder of real-time detections (started on first use, drained by :func:`close`)."""
    rec = getattr(app.state, "vigil_risk_recorder", None)
    if rec is None:
        db = app.state.vigil.db

        def write(rows: list[dict[str, Any]]) -> None:
            with db.writer() as store:
                write_detections(store, rows)

        rec = DetectionRecorder(write, spill=Path(f"{db.path}.realtime-detections.jsonl")).start()
        app.state.vigil_risk_recorder = rec
    return rec


def refresh_risk(app: Any, store: Store, users: Collection[str] | None = None) -> dict[str, int] | None:
    """After an analysis (``users`` None: the whole profile set is rebuilt) or a micro-batch of one
    (``users``: the users it touched), fold the store's new facts into the decision point's profiles."""
    point = getattr(app.state, "vigil_policy", None)
    if not isinstance(point, DecisionPoint) or point.risk is None:
        return None
    settings = app.state.vigil.settings
    if users is None:
        return point.risk.rebuild(store, settings)
    return point.risk.refresh(store, settings, users)


def close(app: Any) -> dict[str, int] | None:
    """At shutdown: write every real-time detection still queued."""
    rec = getattr(app.state, "vigil_risk_recorder", None)
    return rec.close() if isinstance(rec, DetectionRecorder) else None


def _json(data: dict[str, Any]) -> Response:
    # serialised with orjson directly: FastAPI's generic encoder costs more than the evaluation
    return Response(orjson.dumps(data), media_type="application/json")


async def _body(request: Request, model: type[_M]) -> _M:
    """The request body validated by pydantic-core straight from JSON bytes (FastAPI's generic
    body machinery costs more than the decision itself); errors are 422 naming the field."""
    raw = await request.body()
    try:
        return model.model_validate_json(raw or b"{}")
    except ValidationError as exc:
        errors = [{"where": ".".join(str(x) for x in e.get("loc", ())) or "body", "message": e.get("msg", "invalid")}
                  for e in exc.errors()]
        summary = "; ".join(f"{e['where']}: {e['message']}" for e in errors[:5])
        raise HTTPException(422, detail=f"invalid request: {summary}") from None


def _openapi_body(model: type[BaseModel]) -> dict[str, Any]:
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": model.model_json_schema()}}}}


# async: evaluation takes tens of microseconds, cheaper than a hop to the thread pool
@router.post("/policy/decision", response_class=Response, openapi_extra=_openapi_body(SignInContextIn),
             responses={200: {"content": {"application/json": {}}}})
async def post_decision(request: Request, detail: bool = False, _: Any = Depends(require_reader),
                        point: DecisionPoint = Depends(decision_point)) -> Response:
    """Decide a sign-in (body: a SignInContextIn): ``decision`` allow | challenge | block, the
    controls still required, the session controls and the reason; ``?detail=true`` adds the
    per-policy results."""
    body = await _body(request, SignInContextIn)
    return _json(point.decide(body.to_context(), supplied=body.model_fields_set, score=body.score)
                 .to_dict(policies=detail))


@router.post("/policy/whatif", response_class=Response, openapi_extra=_openapi_body(WhatIfIn),
             responses={200: {"content": {"application/json": {}}}})
async def post_whatif(request: Request, _: Any = Depends(require_reader),
                      point: DecisionPoint = Depends(decision_point)) -> Response:
    """Graph ``evaluate``-style what-if (body: a WhatIfIn): every policy with policyApplies and
    analysisReasons."""
    body = await _body(request, WhatIfIn)
    supplied = set(body.model_fields_set) - {"applied_only"}
    ctx, risk = body.to_context(), None
    if point.risk is not None:  # the same risk the decision would use, nothing recorded
        ctx, assessment = point.risk.assess(ctx, supplied, score_sign_in=body.score, record=False)
        supplied |= {"sign_in_risk", "user_risk"}
        risk = assessment.to_dict()
    out = whatif(point.policies, ctx, supplied=supplied, applied_only=body.applied_only)
    if risk is not None:
        out["risk"] = risk
    return _json(out)
