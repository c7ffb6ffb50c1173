"""The route x caller matrix: every route of the OpenAPI document (and every route outside it),
called by each kind of caller, answers as its role says.

The expected role is stated here, independently of the code's dependencies: a GET is a reader
route and anything else an admin route (a reader can never write), except the routes listed below
with a reason. A new route therefore needs no entry unless it breaks that rule, and one that
forgets its ``require_admin`` fails here.
"""
from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import bearer
from vigil.api import tokens
from vigil.api.gate import flat_routes

#: answer without any token (no caller gets 401/403), each with its reason
PUBLIC = {
    ("GET", "/signin"): "the sign-in form",
    ("POST", "/signin"): "the sign-in itself: it checks the token in its form",
    ("GET", "/.well-known/ssf-configuration"): "SSF discovery metadata, public by the SSF spec",
    ("GET", "/api/v1/ssf/jwks.json"): "the public keys that verify our SETs",
    ("GET", "/healthz"): "liveness for load balancers and supervisors (says only ok)",
    ("GET", "/readyz"): "readiness (names the failed check, nothing else)",
    ("GET", "/static"): "the UI's published CSS/JS/map files: no tenant data",
}
#: SSF delivery: a per-stream / per-transmitter bearer token, never a vigil token (every vigil caller: 401)
STREAM_TOKEN = {
    ("POST", "/api/v1/ssf/poll/{stream_id}"): "RFC 8936 poll, with the stream's own token",
    ("POST", "/api/v1/ssf/receive/{transmitter_id}"): "RFC 8935 push receipt, with the transmitter's token",
}
#: not GET, yet a reader's: they compute an answer and change nothing
READER_POSTS = {
    ("POST", "/api/v1/hunt"): "KQL hunting (read-only)",
    ("POST", "/hunt"): "the UI's hunting form",
    ("POST", "/hunt.csv"): "the UI's hunting CSV download",
    ("POST", "/api/v1/policy/decision"): "conditional-access decision for a sign-in context",
    ("POST", "/api/v1/policy/whatif"): "what-if evaluation",
    ("POST", "/policy/whatif"): "the UI's what-if form",
    ("POST", "/policy/replay"): "history replay of policies over stored sign-ins (computes, stores nothing)",
    ("POST", "/signout"): "ends the caller's own session",
}
#: GET, yet admin only: the answer itself is sensitive
ADMIN_GETS = {
    ("GET", "/api/v1/tokens"): "names, roles and ids of every API token",
}
#: routes outside the OpenAPI document (pages, assets, probes), each checked the same way
NOT_IN_OPENAPI = {"/api/v1/openapi.json", "/healthz", "/readyz", "/static", "/signin", "/signout", "/",
                  "/incidents", "/incidents/{incident_id}", "/incidents/{incident_id}/status",
                  "/incidents/{incident_id}/comments", "/users/{user}", "/users/{user}/risk", "/hunt", "/hunt.csv",
                  "/policy", "/policy/whatif", "/policy/replay", "/connectors",
                  "/watchlists", "/watchlists/{alias}", "/watchlists/{alias}/delete"}
CALLERS = ("none", "malformed", "unknown", "revoked", "reader", "admin")


def expected_role(method: str, path: str) -> str:
    key = (method, path)
    if key in PUBLIC:
        return "public"
    if key in STREAM_TOKEN:
        return "stream"
    if key in ADMIN_GETS:
        return "admin"
    if method == "GET" or key in READER_POSTS:
        return "reader"
    return "admin"


def openapi_routes(client: TestClient, admin: dict[str, str]) -> set[tuple[str, str]]:
    doc = client.get("/api/v1/openapi.json", headers=admin).json()
    return {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}


def all_routes(app: Any) -> set[tuple[str, str]]:
    out = set()
    for r in flat_routes(app.routes):
        for m in (getattr(r, "methods", None) or {"GET"}) - {"HEAD"}:
            out.add((m, r.path))
    return out


@pytest.fixture
def callers(service: dict[str, Any]) -> dict[str, dict[str, str]]:
    with service["app"].state.vigil.db.writer() as store:
        _, revoked = tokens.create_token(store.con, "carol-revoked", "admin")
        tokens.revoke_token(store.con, "carol-revoked")
    return {"none": {}, "malformed": {"Authorization": "Bearer not-a-vigil-token"},
            "unknown": bearer("vgl_000000000000_" + "A" * 43), "revoked": bearer(revoked),
            "reader": bearer(service["reader"]), "admin": bearer(service["admin"])}


def _call(client: TestClient, method: str, path: str, headers: dict[str, str]) -> httpx.Response:
    url = re.sub(r"\{[^}]+\}", "x", path)
    if path == "/static":
        url = "/static/app.css"
    # every non-GET carries a body, so the authentication-before-the-body gate is part of the matrix
    body = {} if method == "GET" else {"content": b"{}", "headers": {**headers, "Content-Type": "application/json"}}
    return client.request(method, url, headers=body.pop("headers", headers), follow_redirects=False, **body)


def test_the_matrix_covers_every_route(service: dict[str, Any]) -> None:
    documented = openapi_routes(service["client"], bearer(service["admin"]))
    routes = all_routes(service["app"])
    assert len(documented) > 35
    assert documented <= routes
    assert {p for _, p in routes - documented} == NOT_IN_OPENAPI  # nothing undocumented slips by
    # every exception above names a route that exists (a stale entry would hide a renamed route)
    for table in (PUBLIC, STREAM_TOKEN, READER_POSTS, ADMIN_GETS):
        assert set(table) <= routes, set(table) - routes


@pytest.mark.parametrize("caller", CALLERS)
def test_route_by_caller_matrix(service: dict[str, Any], callers: dict[str, dict[str, str]], caller: str) -> None:
    client = service["client"]
    routes = sorted(all_routes(service["app"]))
    seen: dict[str, int] = {}
    for method, path in routes:
        role = expected_role(method, path)
        r = _call(client, method, path, callers[caller])
        where = (caller, method, path, role, r.status_code, r.text[:200])
        seen[role] = seen.get(role, 0) + 1
        assert r.status_code < 500, where
        if role == "public" or role == "reader" and caller in ("reader", "admin") or caller == "admin" \
                and role == "admin":
            assert r.status_code not in (401, 403), where
        elif role == "stream" or caller not in ("reader", "admin"):
            if method == "GET" and not path.startswith("/api/"):  # a page: the browser goes to sign in
                assert r.status_code == 303 and r.headers["location"].startswith("/signin"), where
            else:
                assert r.status_code == 401, where
                assert r.headers["www-authenticate"].startswith("Bearer realm="), where
        else:  # a reader on an admin route
            assert r.status_code == 403 and "admin role required" in r.json()["detail"], where
    assert seen.keys() == {"public", "stream", "reader", "admin"} and sum(seen.values()) == len(routes)
