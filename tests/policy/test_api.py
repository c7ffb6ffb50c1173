from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.policy.conftest import HQ_IP, LOCATIONS, POLICIES, SALES
from vigil.api.auth import require_reader
from vigil.api.policy import router
from vigil.policy.decision import DecisionPoint, load_policy_set


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    """The router in a tiny app, auth overridden, the decision point set directly."""
    app = FastAPI()
    app.include_router(router, prefix="/api/v1")
    app.dependency_overrides[require_reader] = lambda: "reader"
    app.state.vigil_policy = DecisionPoint(load_policy_set(str(POLICIES), str(LOCATIONS)))
    with TestClient(app) as c:
        yield c


def test_decision(client: TestClient) -> None:
    r = client.post("/api/v1/policy/decision", json={"user_id": "u1", "application_id": "x", "ip": "192.0.2.1",
                                                      "country": "DE", "platform": "windows"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["decision"] == "challenge" and body["requiredControls"] == ["mfa"]
    assert "MFA outside trusted locations" in body["reason"] and "appliedConditionalAccessPolicies" not in body
    r = client.post("/api/v1/policy/decision?detail=true", json={"user_id": "u1", "application_id": "x",
                                                                  "ip": HQ_IP, "country": "DE", "platform": "windows"})
    body = r.json()
    assert body["decision"] == "allow" and len(body["appliedConditionalAccessPolicies"]) == 22
    r = client.post("/api/v1/policy/decision", json={"user_id": "u1", "client_app_type": "other", "ip": HQ_IP,
                                                      "country": "DE"})
    assert r.json()["decision"] == "block"


def test_device_in_request(client: TestClient) -> None:
    body = {"user_id": "u1", "groups": [SALES], "ip": HQ_IP, "country": "DE", "platform": "windows",
            "mfa_satisfied": True,
            "device": {"deviceId": "d1", "trustType": "Hybrid Azure AD joined", "isCompliant": True}}
    r = client.post("/api/v1/policy/decision", json=body)
    assert r.status_code == 200 and r.json()["decision"] == "allow", r.text
    body["device"] = {"deviceId": "d1", "trustType": "Workplace"}
    assert client.post("/api/v1/policy/decision", json=body).json()["decision"] == "block"


@pytest.mark.parametrize("body, fragment", [
    ({"sign_in_risk": "severe"}, "sign_in_risk"),
    ({"platform": "BeOS"}, "platform"),
    ({"country": "Germany"}, "country"),
    ({"surprise": 1}, "surprise"),
    ({"device": {"deviceId": "d", "extensionAttributes": {"extensionAttribute99": "x"}}}, "extensionAttribute99"),
    ({"authentication_methods": ["carrier pigeon"]}, "authentication method"),
])
def test_validation(client: TestClient, body: dict[str, Any], fragment: str) -> None:
    r = client.post("/api/v1/policy/decision", json=body)
    assert r.status_code == 422 and fragment in r.text


def test_whatif(client: TestClient) -> None:
    r = client.post("/api/v1/policy/whatif", json={"user_id": "u1", "application_id": "x", "platform": "windows",
                                                    "applied_only": True})
    assert r.status_code == 200, r.text
    names = [v["displayName"] for v in r.json()["value"]]
    # no IP or country supplied: location policies do not apply (what-if needs every input)
    assert "MFA outside trusted locations" not in names and "Session controls for everyone" in names
    r = client.post("/api/v1/policy/whatif", json={"user_id": "u1", "application_id": "x", "ip": "192.0.2.1"})
    by = {v["displayName"]: v for v in r.json()["value"]}
    assert by["MFA outside trusted locations"]["policyApplies"] is True
    assert by["Block legacy authentication"]["analysisReasons"] == "clientApps"


def test_not_configured_is_503() -> None:
    from types import SimpleNamespace

    from vigil.settings import load_settings

    app = FastAPI()
    app.include_router(router)
    app.dependency_overrides[require_reader] = lambda: "reader"
    app.state.vigil = SimpleNamespace(settings=load_settings(environ={}))
    with TestClient(app) as c:
        r = c.post("/policy/decision", json={})
    assert r.status_code == 503 and "policy.policies" in r.json()["detail"]


def test_real_app_with_reader_token(tmp_path: Path) -> None:
    """Mounted by vigil.api.app with the real require_reader: 401 without a token, 200 with one."""
    from vigil.web.app import create_app
    from vigil.api.tokens import create_token
    from vigil.settings import load_settings
    from vigil.store import open_store

    db = tmp_path / "v.duckdb"
    with open_store(db) as store:
        _, token = create_token(store.con, "policy-test", "reader")
    settings = load_settings(overrides={"store.path": str(db), "policy.policies": str(POLICIES),
                                        "policy.named_locations": str(LOCATIONS)}, environ={})
    app = create_app(settings)
    with TestClient(app) as c:
        assert c.post("/api/v1/policy/decision", json={}).status_code == 401
        r = c.post("/api/v1/policy/decision", json={"user_id": "u", "ip": HQ_IP, "country": "DE", "platform": "linux"},
                   headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200 and r.json()["decision"] == "allow", r.text


def test_request_model_builds_the_same_context_as_the_mapping_path() -> None:
    from vigil.api.policy import SignInContextIn
    from vigil.policy.context import context_from_mapping

    body = {"user_id": "u", "user_principal_name": "u@x.com", "user_type": "Guest",
            "external_user_type": "b2bCollaborationGuest", "external_tenant_id": "t", "groups": ["g"], "roles": ["r"],
            "application_id": "a", "application_name": "A", "authentication_context": ["c1"], "ip": "192.0.2.1",
            "country": "de", "gps_country": "fr", "platform": "iOS", "client_app_type": "other",
            "authentication_flow": "deviceCodeFlow", "sign_in_risk": "high", "user_risk": "low",
            "insider_risk": "minor", "mfa_satisfied": True, "authentication_methods": ["Password", "fido2"],
            "password_changed": True, "risk_remediated": True, "approved_client_app": True,
            "app_protection_policy": True, "terms_of_use_accepted": ["t1"], "custom_factors_satisfied": ["f1"]}
    via_api = SignInContextIn.model_validate({**body, "device": {"deviceId": "d", "isCompliant": True}}).to_context()
    via_map = context_from_mapping({**body, "device": {"deviceId": "d", "isCompliant": "True", "displayName": None,
                                                       "trustType": None, "operatingSystem": None}})
    assert via_api == via_map


def test_malformed_json_is_422(client: TestClient) -> None:
    r = client.post("/api/v1/policy/decision", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422 and "invalid request" in r.json()["detail"]
    r = client.post("/api/v1/policy/whatif", json={"applied_only": "maybe"})
    assert r.status_code == 422 and "applied_only" in r.json()["detail"]
