"""Two vigil instances under uvicorn: A transmits CAEP SETs, B (our own receiver) enforces them."""
from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from joserfc import jws

from tests.cae.conftest import cae_settings
from vigil.api.launch import free_port
from vigil.api.tokens import create_token
from vigil.api.cae_demo import ServerThread, create_demo_app
from vigil.cae.service import CaeService
from vigil.cae.sets import EVENTS_SUPPORTED, structure_problems
from vigil.cae.tokens import issue_token
from vigil.cae.transmitter import POLL, PUSH


class Node:
    def __init__(self, stack: ExitStack, tmp: Path, name: str) -> None:
        s = cae_settings(tmp, name, issuer=f"https://{name}.vigil.test", push_backoff_s=0.05)
        port = free_port()  # the URLs the node hands out come from its settings, so it needs its port first
        self.settings = s.model_copy(update={"service": s.service.model_copy(update={"port": port})})
        self.svc = CaeService(self.settings)
        app = create_demo_app(self.settings, service=self.svc)
        _, token = create_token(app.state.vigil.db.cursor(), f"{name}-admin", "admin")
        self.server = stack.enter_context(ServerThread(app, port=port))
        self.http = stack.enter_context(httpx.Client(base_url=self.server.url,
                                                     headers={"Authorization": f"Bearer {token}"}))

    def access_token(self, user: str) -> dict[str, str]:
        c = self.settings.cae
        tok = issue_token(self.svc.keys, issuer=c.issuer, audience=c.audience, user_id=user, cp1=True,
                          lifetime_s=c.cp1_token_lifetime_s, now=time.time() - 1)[0]
        return {"Authorization": f"Bearer {tok}"}

    def wait_denied(self, headers: dict[str, str], timeout: float = 10.0) -> httpx.Response:
        deadline = time.monotonic() + timeout
        with httpx.Client(base_url=self.server.url) as anon:
            while True:
                r = anon.get("/resource/hello", headers=headers)
                if r.status_code != 200 or time.monotonic() > deadline:
                    return r
                time.sleep(0.01)


@pytest.fixture
def nodes(tmp_path: Path) -> Iterator[tuple[Node, Node]]:
    with ExitStack() as stack:
        a, b = Node(stack, tmp_path, "a"), Node(stack, tmp_path, "b")
        yield a, b
        a.svc.close()
        b.svc.close()


def _register(a: Node, b: Node, audience: str, **extra: Any) -> dict[str, Any]:
    conf = httpx.get(f"{a.server.url}/.well-known/ssf-configuration").json()
    assert conf["issuer"] == a.settings.cae.issuer and conf["delivery_methods_supported"] == [PUSH, POLL]
    jwks = httpx.get(conf["jwks_uri"]).json()
    r = b.http.post("/api/v1/ssf/transmitters", json={"issuer": conf["issuer"], "jwks": jwks, "audience": audience,
                                                      **extra})
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_push_delivery_revokes_at_the_receiver(nodes: tuple[Node, Node]) -> None:
    a, b = nodes
    reg = _register(a, b, "urn:vigil:b")
    stream = a.http.post("/api/v1/ssf/streams", json={
        "aud": "urn:vigil:b", "events_requested": list(EVENTS_SUPPORTED),
        "delivery": {"method": PUSH, "endpoint_url": reg["push_endpoint_url"],
                     "authorization_header": reg["authorization_header"]}})
    assert stream.status_code == 201
    headers = b.access_token("carol")
    assert b.wait_denied(headers, timeout=0).status_code == 200
    a.http.post("/api/v1/cae/events", json={"event_type": "password_reset", "user": "carol"}).raise_for_status()
    denied = b.wait_denied(headers)
    assert denied.status_code == 401 and "SSF credential-change from https://a.vigil.test" in denied.json()["reason"]
    out = a.svc.transmitter.outbox()
    assert out[0]["state"] == "delivered"
    # a SET with a wrong bearer token or a forged signature is refused with RFC 8935 errors
    token = a.svc.journal.scalar("select set_jwt from ssf_outbox")
    url = reg["push_endpoint_path"]
    r = b.http.post(f"/api/v1{url}", content=token, headers={"Content-Type": "application/secevent+jwt",
                                                            "Authorization": "Bearer nope"})
    assert r.status_code == 401 and r.json()["err"] == "authentication_failed"
    forged = token.rsplit(".", 1)[0] + ".AAAA"
    r = b.http.post(f"/api/v1{url}", content=forged, headers={"Content-Type": "application/secevent+jwt",
                                                             "Authorization": reg["authorization_header"]})
    assert r.status_code == 400 and r.json()["err"] in ("invalid_key", "invalid_request")
    replay = b.http.post(f"/api/v1{url}", content=token, headers={"Content-Type": "application/secevent+jwt",
                                                                 "Authorization": reg["authorization_header"]})
    assert replay.status_code == 202 and replay.headers["x-vigil-applied"] == "0"


def test_poll_delivery_revokes_at_the_receiver(nodes: tuple[Node, Node]) -> None:
    a, b = nodes
    stream = a.http.post("/api/v1/ssf/streams", json={"aud": "urn:vigil:b-poll", "delivery": {"method": POLL}}).json()
    assert stream["delivery"]["endpoint_url"] == f"{a.server.url}/api/v1/ssf/poll/{stream['stream_id']}"
    reg = _register(a, b, "urn:vigil:b-poll", poll_url=stream["delivery"]["endpoint_url"],
                    poll_token=stream["poll_token"])
    headers = b.access_token("dave")
    a.http.post("/api/v1/cae/events", json={"events": [
        {"event_type": "user_disabled", "user": "dave"},
        {"event_type": "device_noncompliant", "device": "dev-1"},
        {"event_type": "assurance_level_decreased", "user": "erin",
         "evidence": {"namespace": "NIST-AAL", "current_level": "nist-aal1", "previous_level": "nist-aal2"}}]}
    ).raise_for_status()
    # the SETs waiting for B are well-formed RFC 8417 SETs
    for tok in [r["set_jwt"] for r in a.svc.journal.rows("select set_jwt from ssf_outbox")]:
        obj = jws.extract_compact(tok.encode())
        assert structure_problems(dict(obj.protected), orjson.loads(obj.payload)) == []
    with httpx.Client() as client:
        totals = b.svc.receiver.poll_all(reg["transmitter_id"], client, max_events=2)
    assert totals["received"] == 3 and totals["applied"] == 3 and totals["errors"] == 0
    assert [r["state"] for r in a.svc.transmitter.outbox()] == ["acked"] * 3
    assert b.wait_denied(headers).status_code == 401
    assert b.svc.state.lookup("device", "dev-1") is not None
    # the poll endpoint refuses a wrong stream token
    r = httpx.post(stream["delivery"]["endpoint_url"], json={"returnImmediately": True},
                   headers={"Authorization": "Bearer wrong"})
    assert r.status_code == 401 and r.json()["err"] == "authentication_failed"
