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

from tests.conftest import FIXTURES
from tests.cae.conftest import cae_settings
from vigil.api.tokens import create_token
from vigil.cae.challenge import decode_claims, parse_challenge
from vigil.api.cae_demo import ServerThread, create_demo_app
from vigil.cae.service import CaeService, keys_path
from vigil.cae.tokens import issue_token
from vigil.settings import Settings

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


_ANALYZE = """
import sys
from vigil.pipeline import run_stages
from vigil.settings import load_settings
from vigil.sources.ingest import ingest_paths
from vigil.store import open_store
s = load_settings(overrides={"store.path": sys.argv[1], "cae.state_path": sys.argv[2], "cae.keys_path": sys.argv[3]},
                  environ={})
with open_store(s.store.path) as st:
    print([r.error for r in ingest_paths(st, [sys.argv[4]], s)])
    print(run_stages(st, s, only=["cae"]))
"""


def test_audit_log_password_reset_through_ingest_and_the_stage_in_another_process(  # type: ignore[no-untyped-def]
        served, tmp_path: Path) -> None:
    """The Graph directoryAudit record of a password reset, ingested by the real adapter and turned into
    a revocation by `vigil analyze`'s cae stage in another process, reaches the running API."""
    server, svc, settings, _ = served
    bob = "4e5f6a7b-0000-4000-8000-0000000b0b00"
    bearer = {"Authorization": "Bearer " + _token(svc, settings, bob, cp1=False, now=time.time() - 5)}
    with httpx.Client(base_url=server.url) as http:
        assert http.get("/resource/mail", headers=bearer).status_code == 200
        record = tmp_path / "audit.json"
        when = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        record.write_text((FIXTURES / "cae" / "audit_password_reset.json.tmpl").read_text().replace(
            "{{ACTIVITY_TIME}}", when))
        out = subprocess.run([sys.executable, "-c", _ANALYZE, str(tmp_path / "analyze.duckdb"), svc.journal.path,
                              keys_path(settings), str(record)], capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        assert "[None]" in out.stdout and "'new_revocations': 1" in out.stdout, out.stdout
        deadline = time.monotonic() + 5
        while (r := http.get("/resource/mail", headers=bearer)).status_code == 200 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert r.status_code == 401
        p = parse_challenge(r.headers["www-authenticate"])
        assert p["error"] == "invalid_token"  # not a cp1 client: no claims challenge
        assert "Reset user password by helpdesk@contoso.com" in r.json()["reason"]
