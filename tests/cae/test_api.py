from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.cae.conftest import cae_settings
from vigil.api.tokens import create_token
from vigil.api.cae_demo import create_demo_app
from vigil.cae.service import CaeService
from vigil.cae.sets import CREDENTIAL_CHANGE, VERIFICATION
from vigil.cae.transmitter import PUSH


@pytest.fixture
def api(tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str], dict[str, str], CaeService]]:
    settings = cae_settings(tmp_path)
    svc = CaeService(settings)
    app = create_demo_app(settings, service=svc)
    con = app.state.vigil.db.cursor()
    admin = {"Authorization": f"Bearer {create_token(con, 'admin', 'admin')[1]}"}
    reader = {"Authorization": f"Bearer {create_token(con, 'reader', 'reader')[1]}"}
    with TestClient(app) as client:
        yield client, admin, reader, svc
    svc.close()


def test_discovery_and_jwks_are_public(api) -> None:  # type: ignore[no-untyped-def]
    client, *_ = api
    conf = client.get("/.well-known/ssf-configuration").json()
    assert conf["spec_version"] == "1_0" and conf["jwks_uri"].endswith("/api/v1/ssf/jwks.json")
    assert conf["configuration_endpoint"].endswith("/api/v1/ssf/streams")
    r = client.get("/api/v1/ssf/jwks.json")
    assert r.headers["content-type"].startswith("application/jwk-set+json")
    assert all("d" not in k for k in r.json()["keys"])


def test_roles(api) -> None:  # type: ignore[no-untyped-def]
    client, admin, reader, _ = api
    body = {"event_type": "password_reset", "user": "u1"}
    assert client.post("/api/v1/cae/events", json=body).status_code == 401
    assert client.post("/api/v1/cae/events", json=body, headers=reader).status_code == 403
    assert client.post("/api/v1/cae/events", json=body, headers=admin).json()["recorded"] == 1
    assert client.get("/api/v1/cae/status", headers=reader).json()["revocations"] == 1
    rows = client.get("/api/v1/cae/revocations", params={"subject": "U1"}, headers=reader).json()
    assert [r["event_type"] for r in rows] == ["password_reset"]
    assert client.post("/api/v1/ssf/streams", json={}, headers=reader).status_code == 403


def test_bad_bodies_name_the_field(api) -> None:  # type: ignore[no-untyped-def]
    client, admin, *_ = api
    r = client.post("/api/v1/cae/events", json={"events": [{"event_type": "password_reset", "user": "u"},
                                                           {"event_type": "nope", "user": "u"}]}, headers=admin)
    assert r.status_code == 400 and "body.events[1].event_type" in r.json()["detail"]
    r = client.post("/api/v1/cae/events", content=b"{not json", headers=admin)
    assert r.status_code == 422 and "not valid JSON" in r.json()["detail"]
    r = client.post("/api/v1/ssf/streams", json={"delivery": {"method": PUSH}}, headers=admin)
    assert r.status_code == 400 and "endpoint_url" in r.json()["detail"]


def test_stream_lifecycle_and_verification(api) -> None:  # type: ignore[no-untyped-def]
    client, admin, reader, svc = api
    created = client.post("/api/v1/ssf/streams", headers=admin, json={
        "aud": "urn:rx", "events_requested": [CREDENTIAL_CHANGE],
        "delivery": {"method": PUSH, "endpoint_url": "http://127.0.0.1:9/none"}})
    assert created.status_code == 201
    sid = created.json()["stream_id"]
    assert client.get("/api/v1/ssf/streams", params={"stream_id": sid}, headers=reader).json()["aud"] == "urn:rx"
    assert client.get("/api/v1/ssf/status", params={"stream_id": sid}, headers=reader).json()["status"] == "enabled"
    assert client.post("/api/v1/ssf/verify", json={"stream_id": sid, "state": "abc"}, headers=admin).status_code == 204
    assert svc.transmitter.outbox()[0]["event_type"] == VERIFICATION
    assert client.delete("/api/v1/ssf/streams", params={"stream_id": sid}, headers=admin).status_code == 204
    assert client.get("/api/v1/ssf/streams", params={"stream_id": sid}, headers=reader).status_code == 404
    assert client.delete("/api/v1/ssf/streams", params={"stream_id": sid}, headers=admin).status_code == 404


def test_receive_needs_secevent_content_type(api) -> None:  # type: ignore[no-untyped-def]
    client, *_ = api
    r = client.post("/api/v1/ssf/receive/nobody", content=b"x.y.z", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["err"] == "invalid_request"
    r = client.post("/api/v1/ssf/receive/nobody", content=b"x.y.z",
                    headers={"Content-Type": "application/secevent+jwt", "Authorization": "Bearer x"})
    assert r.status_code == 401 and r.json()["err"] == "authentication_failed"
