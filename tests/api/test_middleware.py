"""Security headers, request size limits, clear 4xx JSON errors, and no tokens in logs."""
from __future__ import annotations

import logging
import re
from typing import Any

import pytest
from fastapi.responses import Response

from tests.api.conftest import bearer


def test_security_headers_on_api_pages_and_errors(service: dict[str, Any]) -> None:
    client, admin = service["client"], bearer(service["admin"])
    for r in (client.get("/api/v1/incidents", headers=admin), client.get("/signin"),
              client.get("/api/v1/incidents"), client.get("/api/v1/incidents/nope", headers=admin)):
        h = r.headers
        csp = h["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
        assert h["x-content-type-options"] == "nosniff"
        assert h["x-frame-options"] == "DENY"
        assert h["referrer-policy"] == "no-referrer"
        assert h["cache-control"] == "no-store"
    static = client.get("/static/app.css")
    assert static.headers["x-content-type-options"] == "nosniff"
    assert static.headers.get("cache-control") != "no-store"


def test_an_unexpected_error_is_a_json_500_with_the_security_headers(
        service: dict[str, Any], caplog: pytest.LogCaptureFixture) -> None:
    def boom() -> None:
        raise RuntimeError("kaboom with a secret detail")

    def bad_header() -> Response:  # a value h11 would refuse outright (the connection would drop)
        return Response("x", headers={"X-Reason": "a\r\nSet-Cookie: stolen=1"})

    service["app"].add_api_route("/api/v1/test-boom", boom)
    service["app"].add_api_route("/api/v1/test-header", bad_header)
    client = service["client"]
    with caplog.at_level(logging.ERROR, logger="vigil.api"):
        r = client.get("/api/v1/test-boom")
    assert r.status_code == 500 and r.json() == {"detail": "internal error (logged by the service)"}
    assert r.headers["x-frame-options"] == "DENY" and "default-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["cache-control"] == "no-store"
    assert "kaboom" not in r.text and "kaboom" in caplog.text  # the traceback goes to the log only
    r = client.get("/api/v1/test-header")
    assert r.headers["x-reason"] == "a Set-Cookie: stolen=1" and "set-cookie" not in r.headers


def test_pages_have_no_inline_script_or_style(service: dict[str, Any]) -> None:
    client = service["client"]
    page = client.get("/signin").text
    form = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    client.post("/signin", data={"token": service["admin"], "csrf_token": form})
    for path in ("/incidents", "/incidents/INC-1", "/users/alice@contoso.com", "/hunt", "/policy"):
        html = client.get(path).text
        scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, re.DOTALL)
        for attrs, body in scripts:
            # CSP forbids inline script: either an external src, or inert JSON data
            assert "src=" in attrs or 'type="application/json"' in attrs, (path, attrs)
            assert "src=" not in attrs or body.strip() == ""
            assert "http" not in attrs, f"{path}: script from another origin: {attrs}"
        assert " style=" not in html, path
        assert not re.search(r'(href|src)="https?://(?!db-ip\.com)', html), f"{path} loads a remote asset"


def test_body_over_limit_is_413_json(service: dict[str, Any]) -> None:
    client, admin = service["client"], bearer(service["admin"])
    big = "x" * (70 * 1024)  # the test service allows 64 KiB outside uploads
    r = client.post("/api/v1/hunt", headers=admin, json={"query": big})
    assert r.status_code == 413 and "limit" in r.json()["detail"]
    assert r.headers["x-content-type-options"] == "nosniff"

    def chunks() -> Any:  # no Content-Length: counted while streaming
        for _ in range(80):
            yield b"y" * 1024

    r = client.post("/api/v1/hunt", headers={**admin, "content-type": "application/json"}, content=chunks())
    assert r.status_code == 413


def test_upload_limit_is_separate_and_enforced(service: dict[str, Any]) -> None:
    client, admin = service["client"], bearer(service["admin"])
    files = {"files": ("big.json", b"0" * (300 * 1024), "application/json")}  # limit 256 KiB
    r = client.post("/api/v1/ingest", headers=admin, files=files)
    assert r.status_code == 413


@pytest.mark.parametrize("path, where", [
    ("/api/v1/incidents?limit=0", "query parameter 'limit'"),
    ("/api/v1/incidents?limit=5000", "query parameter 'limit'"),  # over service.page_limit (1000)
    ("/api/v1/incidents?status=bogus", "query parameter 'status'"),
    ("/api/v1/travel?verdict=teleport", "query parameter 'verdict'"),
    ("/api/v1/signins?start=yesterday", "query parameter 'start'"),
    ("/api/v1/signins?start=2026-01-06T00:00:00&end=2026-01-05T00:00:00", "start"),
    ("/api/v1/BehaviorAnalytics?min_priority=11", "query parameter 'min_priority'"),
])
def test_invalid_input_is_a_clear_422(service: dict[str, Any], path: str, where: str) -> None:
    r = service["client"].get(path, headers=bearer(service["reader"]))
    assert r.status_code == 422, r.text
    assert where in r.json()["detail"]


def test_invalid_bodies(service: dict[str, Any]) -> None:
    client, admin = service["client"], bearer(service["admin"])
    r = client.patch("/api/v1/incidents/INC-1", headers=admin, json={"status": "done"})
    assert r.status_code == 422 and "body field 'status'" in r.json()["detail"]
    r = client.patch("/api/v1/incidents/INC-1", headers=admin, json={"status": "active", "extra": 1})
    assert r.status_code == 422 and "extra" in r.json()["detail"]
    r = client.post("/api/v1/tokens", headers=admin, json={"name": "bad name!", "role": "reader"})
    assert r.status_code == 422 and "token name" in r.json()["detail"]
    r = client.post("/api/v1/hunt", headers=admin, content=b"{not json", )
    assert r.status_code == 422
    assert client.get("/api/v1/incidents/INC-404", headers=admin).status_code == 404
    assert client.get("/api/v1/users/nobody@contoso.com", headers=admin).status_code == 404


def test_no_token_or_secret_reaches_the_logs(service: dict[str, Any], caplog: pytest.LogCaptureFixture) -> None:
    client, admin, reader = service["client"], service["admin"], service["reader"]
    caplog.set_level(logging.DEBUG)
    client.get("/api/v1/incidents", headers=bearer(admin))
    client.get("/api/v1/incidents", headers=bearer(reader + "x"))  # rejected: must not be echoed
    r = client.post("/api/v1/tokens", headers=bearer(admin), json={"name": "logged", "role": "reader"})
    created = r.json()["token"]
    form = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/signin").text).group(1)
    client.post("/signin", data={"token": admin, "csrf_token": form})
    form = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/signin").text).group(1)
    client.post("/signin", data={"token": reader[:-2] + "zz", "csrf_token": form})
    sid = client.cookies.get("vigil_session")
    text = "\n".join(r.getMessage() + " " + str(r.args) for r in caplog.records)
    assert "sign-in" in text  # the sign-in was logged (by token id and name) ...
    for secret in (admin, reader, created, reader[:-2] + "zz", sid):
        assert secret and secret not in text  # ... but never a token or session id
        assert secret[-20:] not in text
