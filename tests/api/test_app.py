"""The URLs the service hands out come from settings, never from the Host / X-Forwarded-* headers."""
from __future__ import annotations

import socket
from typing import Any

import httpx

from fastapi.testclient import TestClient

from tests.api.conftest import bearer
from vigil.api import tokens
from vigil.api.gate import flat_routes
from vigil.settings import Settings
from vigil.web.app import create_app

HOSTILE = {"Host": "attacker.example", "X-Forwarded-Host": "attacker.example", "X-Forwarded-Proto": "https",
           "X-Forwarded-For": "203.0.113.9", "Forwarded": "host=attacker.example;proto=https"}
SSF_URLS = ("jwks_uri", "configuration_endpoint", "status_endpoint", "verification_endpoint")


def _urls_start_with(conf: dict[str, Any], base: str) -> None:
    for key in SSF_URLS:
        assert conf[key].startswith(f"{base}/api/v1/ssf/"), (key, conf[key])


def test_ssf_configuration_ignores_the_host_header_and_is_not_fixed_by_the_first_caller(
        service: dict[str, Any]) -> None:
    client = service["client"]
    first = client.get("/.well-known/ssf-configuration", headers=HOSTILE)  # anonymous, and first
    assert first.status_code == 200
    _urls_start_with(first.json(), "http://127.0.0.1:8765")  # the bind address in the settings
    later = client.get("/.well-known/ssf-configuration", headers={"Host": "vigil.internal"})
    assert later.json() == first.json()
    assert "attacker" not in first.text and "internal" not in later.text


def test_public_url_setting_is_used_everywhere(seeded_settings: Settings) -> None:
    settings = seeded_settings.model_copy(update={"service": seeded_settings.service.model_copy(
        update={"public_url": "https://vigil.example.com/"})})
    app = create_app(settings, host="0.0.0.0")
    with app.state.vigil.db.writer() as store:
        admin = bearer(tokens.create_token(store.con, "admin", "admin")[1])
    with TestClient(app, base_url="http://127.0.0.1") as client:
        _urls_start_with(client.get("/.well-known/ssf-configuration", headers=HOSTILE).json(),
                         "https://vigil.example.com")
        poll = client.post("/api/v1/ssf/streams", json={"delivery": {"method": "urn:ietf:rfc:8936"}},
                           headers={**admin, **HOSTILE})
        assert poll.status_code == 201, poll.text
        assert poll.json()["delivery"]["endpoint_url"].startswith("https://vigil.example.com/api/v1/ssf/poll/")
        keys = client.get("/api/v1/ssf/jwks.json").json()
        reg = client.post("/api/v1/ssf/transmitters", headers={**admin, **HOSTILE},
                          json={"issuer": "https://tx.test", "jwks": keys, "audience": "urn:vigil"})
        assert reg.status_code == 201, reg.text
        assert reg.json()["push_endpoint_url"].startswith("https://vigil.example.com/api/v1/ssf/receive/")


def test_no_response_names_the_callers_host(service: dict[str, Any]) -> None:
    """Every GET route, as an admin, with hostile Host and X-Forwarded-* headers: the hostile host
    appears in no header and no body (redirects included: trailing-slash redirects are off)."""
    client, admin = service["client"], bearer(service["admin"])
    paths = sorted({r.path for r in flat_routes(service["app"].routes) if "GET" in (getattr(r, "methods", None) or ())}
                   | {"/api/v1/incidents/", "/incidents/", "/", "/signin", "/nowhere"})
    assert len(paths) > 10
    for path in paths:
        r = client.get(path.replace("{", "").replace("}", ""), headers={**admin, **HOSTILE}, follow_redirects=False)
        assert "attacker" not in r.text, path
        assert all("attacker" not in v for v in r.headers.values()), (path, r.headers)
    assert client.get("/api/v1/incidents/", headers=admin, follow_redirects=False).status_code == 404


def test_a_real_server_ignores_the_host_header_and_answers_hostile_bytes_cleanly(served: dict[str, Any]) -> None:
    """Against `vigil serve` itself: the first caller's Host fixes nothing; an Authorization value
    that is not Latin-1 text, sent as raw bytes, gets a well-formed 401, not a dropped connection."""
    url = served["url"]
    first = httpx.get(f"{url}/.well-known/ssf-configuration", headers=HOSTILE).json()
    _urls_start_with(first, url)  # the bind address: the server was started with --host/--port
    assert httpx.get(f"{url}/.well-known/ssf-configuration").json() == first
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"GET /api/v1/whoami HTTP/1.1\r\nHost: attacker.example\r\n"
                     b"Authorization: Bearer vgl_\xe2\x80\x99\xff\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    status, *lines = answer.split(b"\r\n\r\n", 1)[0].decode("ascii").split("\r\n")
    headers = {k.lower(): v.strip() for k, v in (line.split(":", 1) for line in lines)}
    assert status.startswith("HTTP/1.1 401"), status
    assert headers["www-authenticate"].startswith('Bearer realm="vigil", error="invalid_token"'), headers
    assert headers["x-frame-options"] == "DENY"
