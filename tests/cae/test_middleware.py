from __future__ import annotations

import time
from pathlib import Path

import pytest
from joserfc.jwk import KeySet
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from tests.conftest import FIXTURES
from vigil.cae.challenge import decode_claims, parse_challenge
from vigil.cae.events import new_event
from vigil.cae.journal import Journal
from vigil.cae.keys import _generate, public_jwks
from vigil.cae.middleware import CAEEnforcer, CAEMiddleware
from vigil.cae.state import RevocationState
from vigil.cae.tokens import TokenValidator, issue_token
from vigil.locations.named import load_named_locations

KEYS = _generate()
ISS, AUD, AUTHZ = "https://vigil.test", "api://demo", "https://login.example/authorize"


async def _hello(request: Request) -> JSONResponse:
    return JSONResponse({"hello": request.scope["state"]["cae"]["oid"]})


def _client(tmp_path: Path, **kw: object) -> tuple[TestClient, RevocationState]:
    state = RevocationState(Journal(tmp_path / "j.sqlite"))
    validator = TokenValidator(KeySet.import_key_set(public_jwks(KEYS)), ISS, AUD)  # type: ignore[arg-type]
    enforcer = CAEEnforcer(state=state, validator=validator, authorization_uri=AUTHZ, **kw)  # type: ignore[arg-type]
    app = Starlette(routes=[Route("/hello", _hello), Route("/health", lambda r: JSONResponse({"ok": 1}))])
    wrapped = CAEMiddleware(app, enforcer=enforcer, exclude_paths=["/health"], trust_forwarded_for=True)
    return TestClient(wrapped), state  # type: ignore[arg-type]


def _auth(**kw: object) -> dict[str, str]:
    args: dict = {"issuer": ISS, "audience": AUD, "user_id": "u1", "session_id": "s1", "lifetime_s": 3600}
    args.update(kw)
    return {"Authorization": "Bearer " + issue_token(KEYS, **args)[0]}


def test_valid_token_passes_and_claims_reach_the_app(tmp_path: Path) -> None:
    c, _ = _client(tmp_path)
    r = c.get("/hello", headers=_auth())
    assert r.status_code == 200 and r.json() == {"hello": "u1"}
    assert c.get("/health").status_code == 200  # excluded path


def test_missing_and_invalid_tokens(tmp_path: Path) -> None:
    c, _ = _client(tmp_path)
    r = c.get("/hello")
    assert r.status_code == 401 and r.headers["www-authenticate"] == 'Bearer realm=""'
    r = c.get("/hello", headers=_auth(audience="api://other"))
    p = parse_challenge(r.headers["www-authenticate"])
    assert r.status_code == 401 and p["error"] == "invalid_token" and "aud" in p["error_description"]
    assert r.json()["check"] == "invalid_token"


def test_revoked_cp1_client_gets_claims_challenge_and_fresh_token_passes(tmp_path: Path) -> None:
    c, state = _client(tmp_path)
    t0 = time.time() - 10
    headers = _auth(cp1=True, now=t0)
    assert c.get("/hello", headers=headers).status_code == 200
    ev = new_event("password_reset", subject="u1", source="cli", revoked_at=t0 + 5)
    state.record([ev])
    r = c.get("/hello", headers=headers)
    assert r.status_code == 401 and r.json()["check"] == "revoked" and "password reset" in r.json()["reason"]
    p = parse_challenge(r.headers["www-authenticate"])
    assert p["error"] == "insufficient_claims" and p["authorization_uri"] == AUTHZ and p["realm"] == ""
    nbf = int(decode_claims(p["claims"])["access_token"]["nbf"]["value"])
    assert nbf == ev.challenge_nbf
    # the client answers the challenge: a token with nbf >= the requested value
    fresh = _auth(cp1=True, now=t0, not_before=nbf)
    assert c.get("/hello", headers=fresh).status_code == 200


def test_revoked_client_without_cp1_gets_invalid_token(tmp_path: Path) -> None:
    c, state = _client(tmp_path)
    headers = _auth(now=time.time() - 10)
    state.record([new_event("session_revoked", scope="session", subject="s1", source="cli")])
    r = c.get("/hello", headers=headers)
    p = parse_challenge(r.headers["www-authenticate"])
    assert r.status_code == 401 and p["error"] == "invalid_token" and "claims" not in p
    assert "without cp1" in r.json()["reason"]


def test_strict_location(tmp_path: Path) -> None:
    locs = load_named_locations(FIXTURES / "cae" / "named_locations.json").ip_locations()
    c, _ = _client(tmp_path, strict_location=True, allowed_locations=locs)
    ok = c.get("/hello", headers={**_auth(cp1=True), "X-Forwarded-For": "198.51.100.7"})
    assert ok.status_code == 200
    r = c.get("/hello", headers={**_auth(cp1=True), "X-Forwarded-For": "203.0.113.9, 198.51.100.7"})
    assert r.status_code == 401 and r.json()["check"] == "location" and "203.0.113.9" in r.json()["reason"]
    assert parse_challenge(r.headers["www-authenticate"])["error"] == "insufficient_claims"


def test_strict_location_without_locations_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least one allowed IP named location"):
        _client(tmp_path, strict_location=True)
