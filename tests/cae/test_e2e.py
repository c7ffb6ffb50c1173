"""End to end under a real uvicorn: a protected API, a critical event, the claims challenge."""
from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import httpx
import pytest

from tests.builders import insert, row
from tests.cae.conftest import cae_settings
from vigil.api.tokens import create_token
from vigil.cae.challenge import decode_claims, parse_challenge
from vigil.cae.demo import ServerThread, create_demo_app
from vigil.cae.service import CaeService
from vigil.cae.tokens import issue_token
from vigil.settings import Settings
from vigil.store import open_store

USER, UPN, SID = "3b0c6a0e-1f2d-4c55-9a57-5d3b2f1e0a11", "adele@contoso.com", "sess-adele-1"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[ServerThread, CaeService, Settings, str]]:
    settings = cae_settings(tmp_path, sync_interval_ms=20)
    svc = CaeService(settings)
    app = create_demo_app(settings, service=svc)
    _, admin = create_token(app.state.vigil.db.cursor(), "e2e-admin", "admin")
    with ServerThread(app) as server:
        yield server, svc, settings, admin
    svc.close()


def _token(svc: CaeService, settings: Settings, user: str, *, cp1: bool = True, **kw: object) -> str:
    c = settings.cae
    return issue_token(svc.keys, issuer=c.issuer, audience=c.audience, user_id=user, upn=UPN if user == USER else None,
                       session_id=SID, cp1=cp1, lifetime_s=c.cp1_token_lifetime_s if cp1 else c.token_lifetime_s,
                       **kw)[0]  # type: ignore[arg-type]


def test_password_reset_posted_to_the_service_triggers_the_claims_challenge(served) -> None:  # type: ignore[no-untyped-def]
    server, svc, settings, admin = served
    bearer = {"Authorization": "Bearer " + _token(svc, settings, USER)}
    with httpx.Client(base_url=server.url) as http:
        ok = http.get("/resource/hello", headers=bearer)
        assert ok.status_code == 200 and ok.json() == {"hello": UPN, "sid": SID, "cp1": True}

        posted = http.post("/api/v1/cae/events", headers={"Authorization": f"Bearer {admin}"},
                           json={"event_type": "password_reset", "user": USER, "upn": UPN,
                                 "reason": "helpdesk reset"})
        assert posted.status_code == 200 and posted.json()["recorded"] == 1

        denied = http.get("/resource/hello", headers=bearer)
        assert denied.status_code == 401
        p = parse_challenge(denied.headers["www-authenticate"])
        assert p["error"] == "insufficient_claims" and p["realm"] == ""
        assert p["authorization_uri"] == settings.cae.authorization_uri
        nbf = int(decode_claims(p["claims"])["access_token"]["nbf"]["value"])
        assert denied.json()["check"] == "revoked" and "helpdesk reset" in denied.json()["reason"]

        # the cp1 client re-authenticates with the claims request and is let back in
        fresh = {"Authorization": "Bearer " + _token(svc, settings, USER, not_before=nbf)}
        assert http.get("/resource/hello", headers=fresh).status_code == 200
        # the reader can see why
        status = http.get("/api/v1/cae/status", headers={"Authorization": f"Bearer {admin}"}).json()
        assert status["revocations_by_source"] == {"api": 1}
        # management endpoints refuse anonymous callers
        assert http.post("/api/v1/cae/events", json={"event_type": "password_reset", "user": "x"}).status_code == 401


_STAGE = """
import sys
from vigil.settings import load_settings
from vigil.store import open_store
from vigil.cae import stage
s = load_settings(overrides={"store.path": sys.argv[1], "cae.state_path": sys.argv[2], "cae.keys_path": sys.argv[3]},
                  environ={})
with open_store(s.store.path) as st:
    print(stage.run(st, s))
"""


def test_audit_log_password_reset_through_the_stage_in_another_process(served, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    server, svc, settings, _ = served
    bearer = {"Authorization": "Bearer " + _token(svc, settings, "user-bob", cp1=False)}
    with httpx.Client(base_url=server.url) as http:
        assert http.get("/resource/mail", headers=bearer).status_code == 200
        analyze_db = tmp_path / "analyze.duckdb"
        with open_store(analyze_db) as st:  # what the AuditLogs adapter writes for "Reset user password"
            insert(st, "directory_events", [row(
                "directory_events", event_type="password_reset", operation="Reset user password",
                category="UserManagement", result="success", actor_upn="helpdesk@contoso.com",
                target_user_id="user-bob", target_upn="bob@contoso.com",
                event_time=datetime.fromtimestamp(time.time(), timezone.utc))])
        out = subprocess.run([sys.executable, "-c", _STAGE, str(analyze_db), svc.journal.path,
                              settings.cae.keys_path or str(tmp_path / "vigil.cae-keys.json")],
                             capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        assert "'new_revocations': 1" in out.stdout
        deadline = time.monotonic() + 5
        while (r := http.get("/resource/mail", headers=bearer)).status_code == 200 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert r.status_code == 401
        p = parse_challenge(r.headers["www-authenticate"])
        assert p["error"] == "invalid_token"  # not a cp1 client: no claims challenge
        assert "Reset user password by helpdesk@contoso.com" in r.json()["reason"]
