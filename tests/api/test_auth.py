"""Every route needs a token; roles; sessions tied to tokens; CSRF on cookie-authenticated writes."""
from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.routing import APIRoute

from tests.api.conftest import bearer
from tests.api.test_roles import PUBLIC, STREAM_TOKEN

#: Routes that answer without a vigil token, each for a stated reason (documented in docs/service.md):
#: the public and SSF-token routes of the route x caller matrix, one list for both tests.
ANONYMOUS = {**PUBLIC, **STREAM_TOKEN}


def _routes(app: Any) -> list[tuple[str, str]]:
    """(method, path) of every HTTP route, including those of included routers."""
    out = []
    for route in app.routes:
        # FastAPI >= 0.16x keeps included routers as one entry with effective routes inside.
        contexts = route.effective_route_contexts() if hasattr(route, "effective_route_contexts") else [route]
        for r in contexts:
            if isinstance(r, APIRoute) or hasattr(r, "methods") and hasattr(r, "path_format"):
                for method in sorted(set(r.methods or ()) - {"HEAD"}):
                    out.append((method, r.path))
    return sorted(set(out))


def _fill(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x", path)


def test_every_route_refuses_anonymous_callers(service: dict[str, Any]) -> None:
    client, app = service["client"], service["app"]
    routes = _routes(app)
    assert len(routes) > 25
    checked = 0
    for method, path in routes:
        if (method, path) in ANONYMOUS:
            continue
        r = client.request(method, _fill(path), follow_redirects=False)
        if path.startswith("/api/"):
            assert r.status_code == 401, (method, path, r.status_code, r.text[:200])
            assert r.headers["www-authenticate"].startswith("Bearer")
            assert "detail" in r.json()
        elif method == "GET":  # a page: the browser is sent to the sign-in form
            assert r.status_code == 303 and r.headers["location"].startswith("/signin"), (method, path)
        else:
            assert r.status_code == 401, (method, path, r.status_code)
        checked += 1
    assert checked > 20
    # the allow-list only names routes that exist (a stale entry would hide a renamed route)
    present = set(routes)
    assert {k for k in ANONYMOUS if k[1].startswith(("/signin", "/api/v1/ssf", "/.well-known"))} <= present


def test_static_assets_are_public_but_data_is_not(service: dict[str, Any]) -> None:
    client = service["client"]
    assert client.get("/static/app.css").status_code == 200
    assert client.get("/api/v1/incidents").status_code == 401
    assert client.get("/api/v1/openapi.json").status_code == 401


@pytest.mark.parametrize("header", ["Bearer nope", "Bearer vgl_000000000000_" + "A" * 43, "Basic abc", "Bearer "])
def test_bad_credentials_are_401(service: dict[str, Any], header: str) -> None:
    r = service["client"].get("/api/v1/incidents", headers={"Authorization": header})
    assert r.status_code == 401
    assert "token" in r.json()["detail"].lower() or "bearer" in r.json()["detail"].lower()


def test_reader_reads_but_cannot_write(service: dict[str, Any]) -> None:
    client, reader = service["client"], bearer(service["reader"])
    assert client.get("/api/v1/incidents", headers=reader).status_code == 200
    assert client.get("/api/v1/openapi.json", headers=reader).json()["info"]["title"] == "vigil"
    writes = [
        ("PATCH", "/api/v1/incidents/INC-1", {"status": "active"}),
        ("POST", "/api/v1/incidents/INC-1/comments", {"text": "hi"}),
        ("POST", "/api/v1/riskyUsers/dismiss", {"userIds": ["u-alice"]}),
        ("POST", "/api/v1/riskyUsers/confirmCompromised", {"userIds": ["u-alice"]}),
        ("POST", "/api/v1/tokens", {"name": "x", "role": "admin"}),
        ("GET", "/api/v1/tokens", None),
        ("DELETE", "/api/v1/tokens/bob-reader", None),
        ("POST", "/api/v1/cae/revoke", {"subject": "u-alice"}),
    ]
    for method, path, body in writes:
        r = client.request(method, path, headers=reader, json=body)
        assert r.status_code == 403, (method, path, r.status_code, r.text)
        assert "admin" in r.json()["detail"]
    files = {"files": ("a.json", b"{}", "application/json")}
    assert client.post("/api/v1/ingest", headers=reader, files=files).status_code == 403


def test_token_lifecycle_over_the_api(service: dict[str, Any]) -> None:
    client, admin = service["client"], bearer(service["admin"])
    r = client.post("/api/v1/tokens", headers=admin, json={"name": "carol", "role": "reader"})
    assert r.status_code == 201
    new = r.json()["token"]
    listed = client.get("/api/v1/tokens", headers=admin).json()
    assert {"alice-admin", "bob-reader", "carol"} <= {t["name"] for t in listed}
    assert all("token" not in t and "token_hash" not in t for t in listed)
    assert client.get("/api/v1/whoami", headers=bearer(new)).json()["role"] == "reader"
    assert client.delete(f"/api/v1/tokens/{r.json()['token_id']}", headers=admin).status_code == 200
    r = client.get("/api/v1/whoami", headers=bearer(new))
    assert r.status_code == 401 and "revoked" in r.json()["detail"]


def _signin(client: Any, token: str) -> str:
    form = client.get("/signin")
    pre = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    r = client.post("/signin", data={"token": token, "csrf_token": pre, "next": "/incidents"},
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    return r.headers["set-cookie"]


def test_signin_sets_a_hardened_cookie_and_session_ends_with_token(service: dict[str, Any]) -> None:
    client = service["client"]
    cookie = _signin(client, service["admin"])
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
    assert "Secure" not in cookie  # loopback without TLS: Secure would stop the browser sending it
    page = client.get("/incidents")
    assert page.status_code == 200 and "Session hijack" in page.text
    with service["app"].state.vigil.db.writer() as store:
        from vigil.api.tokens import revoke_token

        revoke_token(store.con, "alice-admin")
    assert client.get("/incidents", follow_redirects=False).status_code == 303
    assert client.get("/api/v1/whoami").status_code == 401


def test_cookie_is_secure_when_not_on_loopback(seeded_settings: Any) -> None:
    from fastapi.testclient import TestClient

    from vigil.api import tokens
    from vigil.web.app import create_app

    app = create_app(seeded_settings, host="0.0.0.0")
    with app.state.vigil.db.writer() as store:
        _, token = tokens.create_token(store.con, "x", "reader")
    with TestClient(app, base_url="https://vigil.example") as client:
        assert "Secure" in _signin(client, token)


def test_signin_rejects_wrong_token_and_missing_csrf(service: dict[str, Any]) -> None:
    client = service["client"]
    form = client.get("/signin")
    pre = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    r = client.post("/signin", data={"token": "vgl_abcdefabcdef_" + "B" * 43, "csrf_token": pre})
    assert r.status_code == 401 and "Sign-in failed" in r.text
    r = client.post("/signin", data={"token": service["admin"], "csrf_token": "forged"})
    assert r.status_code == 403 and "vigil_session" not in r.headers.get("set-cookie", "")


def test_signin_never_redirects_off_site(service: dict[str, Any]) -> None:
    client = service["client"]
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        form = client.get("/signin")  # each sign-in consumes the form's one-time cookie
        pre = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
        r = client.post("/signin", data={"token": service["reader"], "csrf_token": pre, "next": target},
                        follow_redirects=False)
        assert r.headers["location"] == "/incidents", target


def test_cookie_writes_need_the_csrf_token(service: dict[str, Any]) -> None:
    client = service["client"]
    _signin(client, service["admin"])
    r = client.post("/api/v1/tokens", json={"name": "y", "role": "reader"})
    assert r.status_code == 403 and "CSRF" in r.json()["detail"]
    r = client.post("/signout", data={"csrf_token": "wrong"})
    assert r.status_code == 403
    page = client.get("/hunt")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = client.post("/api/v1/tokens", json={"name": "y", "role": "reader"}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 201
    r = client.post("/signout", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303
    assert client.get("/incidents", follow_redirects=False).status_code == 303
