from __future__ import annotations

import asyncio
import base64
import json
import re
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
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


# -- header hygiene: hostile input never gives a 500, a dropped connection or a malformed header ------
_TOKEN_RE = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_QS_RE = r'"(?:[\t !#-\[\]-~]|\\[\t -~])*"'
#: an RFC 9110 challenge: scheme, then comma-separated auth-params whose values are tokens or quoted-strings
CHALLENGE = re.compile(rf"^{_TOKEN_RE}(?: {_TOKEN_RE}=(?:{_TOKEN_RE}|{_QS_RE})(?:, {_TOKEN_RE}=(?:{_TOKEN_RE}|{_QS_RE}))*)?$")
HOSTILE_TEXT = st.text(st.characters(codec=None), max_size=80) | st.sampled_from(
    ["l\u2019utilisateur", "a\r\nSet-Cookie: x=1", "\u0000\u007f\u0085\u2028", "\ud800", '"\\', "é" * 400])

#: text that can reach a signed token or the journal (JSON parsers there refuse lone surrogates)
STORABLE_TEXT = HOSTILE_TEXT.filter(lambda s: not any(0xD800 <= ord(c) <= 0xDFFF for c in s))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _call(app: Any, headers: list[tuple[bytes, bytes]], client: tuple[str, int] = ("198.51.100.7", 5)
          ) -> tuple[int, dict[bytes, bytes], bytes]:
    """Call the ASGI app directly (no HTTP client in between to tidy the headers up)."""
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": "/hello", "raw_path": b"/hello", "query_string": b"", "root_path": "", "headers": headers,
             "client": client, "server": ("testserver", 80)}
    asyncio.run(app(scope, receive, send))
    starts = [m for m in sent if m["type"] == "http.response.start"]
    assert len(starts) == 1, sent
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return starts[0]["status"], dict(starts[0]["headers"]), body


def _well_formed(status: int, headers: dict[bytes, bytes], body: bytes) -> None:
    assert status in (200, 401), status
    for k, v in headers.items():
        assert all(32 <= b < 127 or b == 9 for b in v), (k, v)  # ASCII, no CR/LF: nothing h11 would refuse
    if status == 401:
        value = headers[b"www-authenticate"].decode("ascii")
        assert CHALLENGE.match(value), value
        assert len(value) < 1200
        assert json.loads(body)["check"] in ("no_token", "invalid_token", "revoked", "location")


@pytest.fixture
def hostile(tmp_path: Path) -> tuple[Any, RevocationState]:
    state = RevocationState(Journal(tmp_path / "j.sqlite"), sync_interval_s=0)
    validator = TokenValidator(KeySet.import_key_set(public_jwks(KEYS)), ISS, AUD)  # type: ignore[arg-type]
    locations = load_named_locations(FIXTURES / "cae" / "named_locations.json").ip_locations()
    enforcer = CAEEnforcer(state=state, validator=validator, authorization_uri=AUTHZ, strict_location=True,
                           allowed_locations=locations)
    return CAEMiddleware(Starlette(routes=[Route("/hello", _hello)]), enforcer=enforcer,
                         trust_forwarded_for=True), state


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(authorization=st.binary(max_size=300), forwarded=st.binary(max_size=60),
       kid=HOSTILE_TEXT, alg=st.sampled_from(["ES256", "none", "HS256", "RS256", "\u2019"]))
def test_hostile_headers_and_kid_never_break_the_answer(hostile: tuple[Any, RevocationState], authorization: bytes,
                                                        forwarded: bytes, kid: str, alg: str) -> None:
    app, _ = hostile
    # arbitrary bytes as the Authorization and X-Forwarded-For values
    _well_formed(*_call(app, [(b"authorization", authorization), (b"x-forwarded-for", forwarded)]))
    _well_formed(*_call(app, [(b"authorization", b"Bearer " + authorization)]))
    # a JWT whose kid / alg are hostile (unsigned: the validator must say why without breaking)
    head = _b64(json.dumps({"alg": alg, "kid": kid, "typ": "JWT"}).encode())
    claims = _b64(json.dumps({"iss": kid, "aud": AUD, "sub": kid, "exp": 2**40, "iat": 1}).encode())
    _well_formed(*_call(app, [(b"authorization", f"Bearer {head}.{claims}.{_b64(b'sig')}".encode())]))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(iss=STORABLE_TEXT, reason=STORABLE_TEXT, subject=STORABLE_TEXT, ip=HOSTILE_TEXT, cp1=st.booleans())
def test_hostile_issuer_reason_subject_and_caller_ip_never_break_the_answer(
        hostile: tuple[Any, RevocationState], iss: str, reason: str, subject: str, ip: str, cp1: bool) -> None:
    app, state = hostile
    forwarded = [(b"x-forwarded-for", ip.encode("latin-1", "replace"))]
    # a correctly signed token from the wrong (hostile) issuer
    wrong = _auth(issuer=iss or "x", cp1=cp1)["Authorization"].encode()
    _well_formed(*_call(app, [(b"authorization", wrong), *forwarded]))
    # a revocation whose subject and reason are hostile, hitting a token for that subject
    if subject.strip():
        ev = new_event("admin_revoke", subject=subject, source="api", reason=reason, revoked_at=time.time() + 5)
        state.record([ev])
        token = _auth(user_id=subject, cp1=cp1, now=time.time() - 60)["Authorization"].encode()
        status, headers, body = _call(app, [(b"authorization", token), *forwarded])
        _well_formed(status, headers, body)
        assert status == 401 and json.loads(body)["check"] == "revoked"


def test_curly_apostrophe_reason_and_crlf_kid_give_a_clean_401(tmp_path: Path) -> None:
    c, state = _client(tmp_path)
    t0 = time.time() - 10
    state.record([new_event("admin_revoke", subject="u1", source="api", revoked_at=t0 + 5,
                            reason="revoked by l\u2019admin\r\nX-Injected: 1")])
    r = c.get("/hello", headers=_auth(now=t0))
    assert r.status_code == 401 and "x-injected" not in r.headers
    p = parse_challenge(r.headers["www-authenticate"])
    assert p["error"] == "invalid_token" and "l\\u2019admin X-Injected: 1" in p["error_description"]
    assert "l\u2019admin" in r.json()["reason"]  # the JSON body keeps the text as it was
    head = _b64(json.dumps({"alg": "ES256", "kid": "k\r\n\u0130\u2019"}).encode())
    status, headers, _ = _call(c.app, [(b"authorization", f"Bearer {head}.e30.c2ln".encode())])
    assert status == 401 and b"\\\\u0130\\\\u2019" in headers[b"www-authenticate"]
