"""The CAE router inside the real ``vigil serve`` application."""
from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from tests.cae.conftest import cae_settings
from vigil.web.app import create_app
from vigil.api.tokens import create_token


def test_mounted_in_vigil_serve(tmp_path: Path) -> None:
    app = create_app(cae_settings(tmp_path))
    _, admin = create_token(app.state.vigil.db.cursor(), "admin", "admin")
    h = {"Authorization": f"Bearer {admin}"}
    with TestClient(app) as c:
        svc = app.state.cae
        assert svc.deliverer._thread is not None and svc.deliverer._thread.is_alive()  # started with the service
        assert c.post("/api/v1/cae/revoke", json={"user": "u1", "reason": "test"}, headers=h).json()["recorded"] == 1
        assert c.get("/api/v1/cae/status", headers=h).json()["revocations_by_source"] == {"api": 1}
        conf = c.get("/.well-known/ssf-configuration").json()
        assert conf["configuration_endpoint"].endswith("/api/v1/ssf/streams")
    assert not svc.deliverer._thread.is_alive()  # stopped at shutdown
    svc.close()
